/**
 * The in-process runtime (Node, Deno, edge): sessions run on one engine in
 * the caller's own thread. Importing this module registers it.
 */
import { statfsSync } from 'node:fs';
import { Engine } from '../worker/engine.js';
import { addNodeStorage } from '../worker/node-storage.js';
import { registerRuntime } from './connect.js';

let shared: Promise<Engine> | null = null;

/** The process-wide engine behind `connect()`. */
function engine(): Promise<Engine> {
  shared ??= Engine.create(addNodeStorage);
  return shared;
}

registerRuntime({
  async open(database, request) {
    const session = await (await engine()).openAsync(database, request);
    return { port: session, storage: session.storage, state: session.state() };
  },
  async importDatabase(database, bytes) {
    await (await engine()).importDatabase(database, bytes);
  },
  async storageInfo() {
    const fs = statfsSync('.');
    const total = fs.blocks * fs.bsize;
    return { usage: total - fs.bavail * fs.bsize, quota: total, persisted: true };
  },
});
