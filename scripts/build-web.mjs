#!/usr/bin/env node
// Builds the browser apps with Vite, each from its own plain vite.config.ts:
//   e2e   e2e/pages -> build/e2e-web   (the browser test pages)
//   demo  demo/web  -> build/demo-web  (the PWA demo)
// Usage: node scripts/build-web.mjs [e2e] [demo]   (both when none is named).
// Links node_modules/heliosdb-nano -> .. first, so the apps import the package by its name.
import { build } from 'vite';
import { linkSelf } from './link-self.mjs';

const root = new URL('..', import.meta.url).pathname;
const apps = { e2e: 'e2e/pages/vite.config.ts', demo: 'demo/web/vite.config.ts' };
const wanted = process.argv.slice(2);
for (const name of wanted) if (!(name in apps)) throw new Error(`unknown app ${name}; known: ${Object.keys(apps).join(', ')}`);

linkSelf();
for (const [name, config] of Object.entries(apps)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const t0 = Date.now();
  await build({ configFile: root + config, logLevel: 'warn' });
  console.log(`built ${name} web app (${config}) in ${Date.now() - t0} ms`);
}
