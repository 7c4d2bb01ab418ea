/**
 * The browser runtime: one dedicated worker per page runs the engine; every
 * connection of the page is a session in it. Importing this module registers
 * it (the package's `browser` entry does).
 *
 * Two channels to the worker (worker/protocol.ts): session calls as flat
 * arrays on the worker's own message channel (session-channel.ts), setup
 * (`open`, import, the callback bridge) through Comlink on a MessagePort
 * handed over first.
 *
 * The worker is created with `new Worker(new URL(…, import.meta.url), { type:
 * 'module' })`, the form bundlers (Vite, webpack 5, esbuild with a plugin)
 * recognise and emit as a separate chunk; the worker loads SQLite's `.wasm`
 * the same way.
 */
import * as Comlink from 'comlink';
import { registerRuntime } from '../api/connect.js';
import { EngineError } from '../worker/engine-error.js';
import type { Opened, Reply, WorkerApi } from '../worker/protocol.js';
import { PageBridge } from './page-bridge.js';
import { SessionChannel } from './session-channel.js';
import { unwrap, WorkerPort, type WorkerLink } from './worker-port.js';

let link: WorkerLink | null = null;

function workerLink(): WorkerLink {
  if (link !== null) return link;
  const worker = new Worker(new URL('../worker/browser-worker.js', import.meta.url), { type: 'module', name: 'heliosdb' });
  const channel = new SessionChannel(worker);
  // Setup calls in flight, to fail if the worker dies (a promise per call, not one shared
  // promise every call races against: that would keep a reaction per call forever).
  const pending = new Set<(e: unknown) => void>();
  let failure: EngineError | null = null;
  worker.addEventListener('error', (ev: ErrorEvent) => {
    // Every call still waiting, and every later one, fails instead of hanging.
    link = null;
    failure = new EngineError({
      kind: 'OperationalError',
      message: `the database worker failed: ${ev.message || 'it could not be loaded (check that the worker script and sqlite3.wasm are served)'}`,
    });
    for (const reject of pending) reject(failure);
    pending.clear();
    channel.fail(failure);
  });
  const guard = <T>(p: Promise<T>): Promise<T> => {
    if (failure !== null) return Promise.reject(failure);
    return new Promise<T>((resolve, reject) => {
      pending.add(reject);
      p.then(resolve, reject).finally(() => pending.delete(reject));
    });
  };
  // The setup channel: its port is the worker's first message.
  const setup = new MessageChannel();
  worker.postMessage(setup.port2, [setup.port2]);
  const api = Comlink.wrap<WorkerApi>(setup.port1);
  let bridge: PageBridge | null = null;
  if (PageBridge.available()) {
    const ports = new MessageChannel();
    bridge = new PageBridge(ports.port1);
    // Sent before any session exists: it reaches the worker before the first `open`.
    void api.attachBridge(bridge.sab, Comlink.transfer(ports.port2, [ports.port2]));
  }
  link = { api, channel, guard, bridge };
  return link;
}

async function call<T>(fn: (l: WorkerLink) => Promise<T>): Promise<T> {
  const l = workerLink();
  return l.guard(fn(l));
}

registerRuntime({
  async open(database, request) {
    if (request.persist) await navigator.storage?.persist?.();
    const l = workerLink();
    const opened = unwrap(
      await call<Reply<Opened>>((w) => w.api.open(database, {
        uri: request.uri,
        timeoutMs: request.timeoutMs,
        cachedStatements: request.cachedStatements,
        vectorSearch: request.vectorSearch,
        timeTravel: request.timeTravel,
        branching: request.branching,
        branch: request.branch,
      })),
    );
    return { port: new WorkerPort(l, opened.id, request.timeoutMs, request.reportCallbackError), storage: opened.storage, state: opened.state };
  },
  async importDatabase(database, bytes) {
    unwrap(await call<Reply<void>>((w) => w.api.importDatabase(database, bytes)));
  },
  async storageInfo() {
    const storage = navigator.storage;
    const est = await storage.estimate();
    const persisted = typeof storage.persisted === 'function' ? await storage.persisted() : false;
    return { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
  },
});
