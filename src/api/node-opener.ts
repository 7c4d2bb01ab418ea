/**
 * The in-process runtime (Node, Deno, edge): sessions run on the shared engine
 * in the caller's own thread. Importing this module registers it.
 */
import { Engine } from '../worker/engine.js';
import { registerRuntime } from './connect.js';

registerRuntime({
  async open(database, request) {
    const engine = await Engine.shared();
    const session = await engine.openAsync(database, request);
    return { port: session, storage: session.storage, state: session.state() };
  },
  async importDatabase(database, bytes) {
    await (await Engine.shared()).importDatabase(database, bytes);
  },
  async storageInfo() {
    const { statfsSync } = await import('node:fs');
    const fs = statfsSync('.');
    const total = fs.blocks * fs.bsize;
    return { usage: total - fs.bavail * fs.bsize, quota: total, persisted: true };
  },
});
