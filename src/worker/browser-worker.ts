/**
 * The browser's database worker: the entry script of the dedicated Worker that
 * `connect()` starts on a page. It owns the engine (SQLite in WASM and the
 * storages: OPFS where sync access handles exist, IndexedDB, memory) and serves
 * the page's sessions through Comlink (see protocol.ts).
 *
 * Callbacks registered on the page (`create_function`, …) arrive as source
 * text and run here, in the worker: SQLite calls them synchronously, so they
 * cannot wait for the page. Trace lines and backup progress go back to the
 * page as events with the reply of the call that produced them.
 */
import * as Comlink from 'comlink';
import { MvccBackend } from '../mvcc/mvcc-backend.js';
import { IdbBackend } from '../vfs/idb-backend.js';
import { OpfsBackend } from '../vfs/opfs-backend.js';
import type { AggregateClass, Authorizer, Collation, ProgressHandler, ScalarFunction, WindowClass } from './callbacks.js';
import { Engine } from './engine.js';
import { EngineError, notSupported } from './engine-error.js';
import type { Opened, OpenRequest, Reply, SessionMethod, ShippedCallback, WorkerApi, WorkerEvent } from './protocol.js';
import type { BackupOptions, ExecOptions, Session } from './session.js';
import type { BindParams } from './values.js';

function opfsAvailable(): boolean {
  const handle = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
  const storage = (globalThis as { navigator?: { storage?: { getDirectory?: unknown } } }).navigator?.storage;
  return handle !== undefined && 'createSyncAccessHandle' in handle.prototype && typeof storage?.getDirectory === 'function';
}

function idbAvailable(): boolean {
  return typeof (globalThis as { indexedDB?: unknown }).indexedDB !== 'undefined';
}

const engineReady: Promise<Engine> = (async () => {
  const engine = await Engine.create();
  if (opfsAvailable()) engine.addStorage('opfs', new MvccBackend(new OpfsBackend()));
  if (idbAvailable()) engine.addStorage('idb', new MvccBackend(new IdbBackend()));
  return engine;
})();

/** Turns a shipped callback back into a function (or class), or explains why it cannot be. */
function compile<T>(cb: ShippedCallback | null, what: string): T | null {
  if (cb === null) return null;
  const src = cb.source.trim();
  if (/\{\s*\[native code\]\s*\}$/.test(src)) {
    throw notSupported(
      `${what}: a native or bound function cannot run in the database worker. Pass a self-contained ` +
        'function or class (its source is shipped to the worker and must not use variables of the page).',
    );
  }
  // A function or class expression, else a method shorthand (`name(x) { … }`).
  const forms: Array<(s: string) => string> = [(s) => `(${s})`, (s) => `({${s}})`];
  for (let i = 0; i < forms.length; i++) {
    try {
      const value = new Function(`"use strict"; return ${forms[i](src)};`)() as unknown;
      return (i === 0 ? value : Object.values(value as object)[0]) as T;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
  }
  throw notSupported(`${what}: its source could not be evaluated in the database worker`);
}

class Endpoint implements WorkerApi {
  private readonly sessions = new Map<number, Session>();
  private readonly events = new Map<number, WorkerEvent[]>();
  private nextId = 1;

  private reply<T>(id: number, value: T): Reply<T> {
    const events = this.drain(id);
    return events ? { ok: true, value, events } : { ok: true, value };
  }

  private failure(id: number, e: unknown): Reply<never> {
    const events = this.drain(id);
    const error =
      e instanceof EngineError
        ? { kind: e.kind, message: e.message, sqliteCode: e.sqliteCode, sqliteName: e.sqliteName, retryable: e.retryable }
        : { kind: 'InternalError' as const, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    return events ? { ok: false, error, events } : { ok: false, error };
  }

  private drain(id: number): WorkerEvent[] | undefined {
    const q = this.events.get(id);
    if (q === undefined || q.length === 0) return undefined;
    this.events.set(id, []);
    return q;
  }

  private emit(id: number, event: WorkerEvent): void {
    let q = this.events.get(id);
    if (q === undefined) this.events.set(id, (q = []));
    q.push(event);
  }

  async storages(): Promise<string[]> {
    return (await engineReady).storages;
  }

  async open(database: string, request: OpenRequest): Promise<Reply<Opened>> {
    try {
      const engine = await engineReady;
      const session = await engine.openAsync(database, {
        uri: request.uri,
        timeoutMs: request.timeoutMs,
        cachedStatements: request.cachedStatements,
      });
      const id = this.nextId++;
      this.sessions.set(id, session);
      return this.reply(id, { id, storage: session.storage, state: session.state() });
    } catch (e) {
      return this.failure(0, e);
    }
  }

  async importDatabase(database: string, bytes: Uint8Array): Promise<Reply<void>> {
    try {
      await (await engineReady).importDatabase(database, bytes);
      return this.reply(0, undefined);
    } catch (e) {
      return this.failure(0, e);
    }
  }

  async invoke(id: number, method: SessionMethod, args: unknown[]): Promise<Reply<unknown>> {
    try {
      return this.reply(id, await this.call(id, method, args));
    } catch (e) {
      return this.failure(id, e);
    }
  }

  private session(id: number): Session {
    const s = this.sessions.get(id);
    if (s === undefined) throw new EngineError({ kind: 'ProgrammingError', message: 'Cannot operate on a closed database.' });
    return s;
  }

  private async call(id: number, method: SessionMethod, a: unknown[]): Promise<unknown> {
    const s = this.session(id);
    switch (method) {
      case 'execute':
        return s.execute(a[0] as string, a[1] as BindParams | undefined, a[2] as ExecOptions | undefined);
      case 'fetch':
        return s.fetch(a[0] as number, a[1] as number);
      case 'closeCursor':
        return s.closeCursor(a[0] as number);
      case 'executemany':
        return s.executemany(a[0] as string, a[1] as BindParams[], a[2] as ExecOptions | undefined);
      case 'executescript':
        return s.executescript(a[0] as string);
      case 'control':
        return s.control(a[0] as string);
      case 'commit':
        return s.commit();
      case 'rollback':
        return s.rollback();
      case 'state':
        return s.state();
      case 'interrupt':
        return s.interrupt();
      case 'getLimit':
        return s.getLimit(a[0] as number);
      case 'setLimit':
        return s.setLimit(a[0] as number, a[1] as number);
      case 'setCachedStatements':
        return s.setCachedStatements(a[0] as number);
      case 'setTimeout':
        s.timeoutMs = a[0] as number;
        return undefined;
      case 'createFunction':
        return s.createFunction(a[0] as string, a[1] as number, compile<ScalarFunction>(a[2] as ShippedCallback | null, 'create_function'), a[3] as boolean);
      case 'createAggregate':
        return s.createAggregate(a[0] as string, a[1] as number, compile<AggregateClass>(a[2] as ShippedCallback | null, 'create_aggregate'));
      case 'createWindowFunction':
        return s.createWindowFunction(a[0] as string, a[1] as number, compile<WindowClass>(a[2] as ShippedCallback | null, 'create_window_function'));
      case 'createCollation':
        return s.createCollation(a[0] as string, compile<Collation>(a[1] as ShippedCallback | null, 'create_collation'));
      case 'setAuthorizer':
        return s.setAuthorizer(compile<Authorizer>(a[0] as ShippedCallback | null, 'set_authorizer'));
      case 'setProgressHandler':
        return s.setProgressHandler(compile<ProgressHandler>(a[0] as ShippedCallback | null, 'set_progress_handler'), a[1] as number);
      case 'setTraceCallback':
        // The page's callback stays on the page: each traced statement becomes an event.
        return s.setTraceCallback(a[0] ? (sql: string) => this.emit(id, { kind: 'trace', sql }) : null);
      case 'serialize':
        return s.serialize(a[0] as string | undefined);
      case 'deserialize':
        return s.deserialize(a[0] as Uint8Array, a[1] as string | undefined);
      case 'backup': {
        const target = this.session(a[0] as number);
        const o = a[1] as Omit<BackupOptions, 'progress'> & { progress: boolean };
        const progress = o.progress
          ? (status: number, remaining: number, total: number) => this.emit(id, { kind: 'progress', status, remaining, total })
          : undefined;
        return s.backup(target, { pages: o.pages, name: o.name, sleepMs: o.sleepMs, progress });
      }
      case 'close':
        this.sessions.delete(id);
        this.events.delete(id);
        return s.close();
    }
  }
}

Comlink.expose(new Endpoint());
