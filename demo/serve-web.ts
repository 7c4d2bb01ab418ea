/**
 * Serves the built web demo (build/demo-web, made by `node scripts/build-web.mjs demo`) on
 * http://127.0.0.1:5173 until Ctrl-C. `npm start` runs it after the Node demo.
 * PORT=… picks another port.
 */
import { existsSync } from 'node:fs';
import { startStaticServer } from '../e2e/static-server.js';

const root = new URL('../demo-web/', import.meta.url).pathname;
const port = Number(process.env.PORT ?? 5173);

async function main(): Promise<void> {
  if (!existsSync(root)) throw new Error(`${root} is missing: run \`node scripts/build-web.mjs demo\` first`);
  const server = await startStaticServer({ root, port, lifetimeMs: Infinity });
  console.log(`\nheliosdb-nano web demo: ${server.url}/  (open it in several tabs; Ctrl-C stops the server)`);
  const stop = (): void => {
    console.log('\nstopping the web demo server');
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  const code = (e as { code?: unknown }).code;
  if (code === 'EADDRINUSE') console.error(`port ${port} is in use: stop what runs there, or set PORT=…`);
  else console.error(e);
  process.exit(1);
});
