/**
 * The browser benchmark's pages (bench/web/), built as a plain multi-page
 * Vite app into build/bench-web/ by bench/browser-bench.ts. Nothing here is
 * specific to heliosdb-nano, which the pages import by its package name.
 */
import { defineConfig } from 'vite';

const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  logLevel: 'warn',
  build: {
    outDir: new URL('../../build/bench-web/', import.meta.url).pathname,
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      input: {
        core: `${root}core.html`,
        tabs: `${root}tabs.html`,
        'official-tabs': `${root}official-tabs.html`,
      },
    },
  },
  worker: { format: 'es' },
});
