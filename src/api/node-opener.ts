/**
 * The in-process runtime (Node, Deno, edge): sessions run on the shared engine
 * in the caller's own thread. Importing this module registers it.
 */
import { Engine } from '../worker/engine.js';
import { registerOpener } from './connect.js';

registerOpener(async (database, request) => {
  const engine = await Engine.shared();
  const session = await engine.openAsync(database, request);
  return { port: session, storage: session.storage, state: session.state() };
});
