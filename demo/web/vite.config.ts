/**
 * The web demo, a plain Vite app. Its only plugin is the PWA's precache list:
 * after the build is written, every file of it (the database worker script
 * and `sqlite3.wasm` included) is listed, hashed, and written into `sw.js`,
 * the service worker (src/sw.ts, built as its own entry with a fixed name).
 * Nothing here is specific to heliosdb-nano, which the app imports by its
 * package name.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const root = new URL('.', import.meta.url).pathname;
const outDir = new URL('../../build/demo-web/', import.meta.url).pathname;
const SW_FILE = 'sw.js';
const PLACEHOLDER = '__PRECACHE_MANIFEST__';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Writes the list of built files (and a hash of their contents) into the service worker. */
function precacheManifest(): Plugin {
  return {
    name: 'demo-precache-manifest',
    apply: 'build',
    generateBundle(_options, bundle) {
      const sw = bundle[SW_FILE];
      if (!sw || sw.type !== 'chunk') this.error(`${SW_FILE} is missing from the bundle`);
      if (sw.imports.length > 0) this.error(`${SW_FILE} must not import other chunks (it is a classic script): ${sw.imports.join(', ')}`);
    },
    writeBundle: {
      order: 'post',
      handler() {
        const files = filesUnder(outDir)
          .map((f) => relative(outDir, f).split(sep).join('/'))
          .filter((f) => f !== SW_FILE && !f.endsWith('.map'))
          .sort();
        const hash = createHash('sha256');
        for (const f of files) hash.update(f).update(readFileSync(join(outDir, f)));
        const manifest = { version: hash.digest('hex').slice(0, 16), urls: ['./', ...files] };
        if (!files.some((f) => f.endsWith('.wasm'))) this.error('no .wasm file in the build: the demo would not work offline');
        const swPath = join(outDir, SW_FILE);
        const code = readFileSync(swPath, 'utf8');
        if (!code.includes(PLACEHOLDER)) this.error(`${PLACEHOLDER} not found in ${SW_FILE}`);
        // The list changes the script's offsets, so its source map would lie: drop it.
        const patched = code.replaceAll(PLACEHOLDER, `(${JSON.stringify(manifest)})`).replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
        writeFileSync(swPath, patched);
        rmSync(`${swPath}.map`, { force: true });
      },
    },
  };
}

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      input: { index: join(root, 'index.html'), sw: join(root, 'src/sw.ts') },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? SW_FILE : 'assets/[name]-[hash].js'),
      },
    },
  },
  plugins: [precacheManifest()],
});
