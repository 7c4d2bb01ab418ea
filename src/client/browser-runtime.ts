/**
 * The browser runtime: one dedicated worker per page runs the engine; every
 * connection of the page is a session in it. Importing this module registers
 * it (the package's `browser` entry does).
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
import { unwrap, WorkerPort, type WorkerLink } from './worker-port.js';

let link: WorkerLink | null = null;

function workerLink(): WorkerLink {
  if (link !== null) return link;
  const worker = new Worker(new URL('../worker/browser-worker.js', import.meta.url), { type: 'module', name: 'heliosdb' });
  // Calls in flight, to fail if the worker dies (a promise per call, not one shared
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
  });
  const guard = <T>(p: Promise<T>): Promise<T> => {
    if (failure !== null) return Promise.reject(failure);
    return new Promise<T>((resolve, reject) => {
      pending.add(reject);
      p.then(resolve, reject).finally(() => pending.delete(reject));
    });
  };
  const api = Comlink.wrap<WorkerApi>(worker);
  // One proxy for the hot call, not a new one (and a finalizer registration) per call.
  const invoke = api.invoke as unknown as WorkerLink['invoke'];
  let bridge: PageBridge | null = null;
  if (PageBridge.available()) {
    const channel = new MessageChannel();
    bridge = new PageBridge(channel.port1);
    // Sent before any session exists: every later call reaches the worker after it.
    void api.attachBridge(bridge.sab, Comlink.transfer(channel.port2, [channel.port2]));
  }
  link = { api, invoke, guard, bridge };
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
