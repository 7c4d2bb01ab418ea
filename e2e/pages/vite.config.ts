/**
 * The test pages, built as any multi-page Vite app is: nothing here is
 * specific to heliosdb-nano, which the pages import by its package name.
 */
import { defineConfig } from 'vite';

const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  logLevel: 'warn',
  build: {
    outDir: new URL('../../build/e2e-web/', import.meta.url).pathname,
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      input: {
        conformance: `${root}conformance.html`,
        callbacks: `${root}callbacks.html`,
        tabs: `${root}tabs.html`,
        quota: `${root}quota.html`,
        vectors: `${root}vectors.html`,
        versions: `${root}versions.html`,
      },
    },
  },
});
