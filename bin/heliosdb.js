#!/usr/bin/env node
// The `heliosdb` command: the shell that `npm run build` compiles into dist/cli/.
try {
  await import('../dist/cli/main.js');
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('cli/main.js')) {
    console.error('heliosdb: the shell is not built yet; run `npm run build` in the package first');
    process.exit(1);
  }
  throw e;
}
