/**
 * The engine side of the browser runtime: sessions on this worker's engine,
 * served to this worker's page and, when this worker leads a shared database,
 * to the workers of the other tabs (tab-share.ts).
 *
 * Callbacks registered on a page (`create_function`, …) arrive as source text
 * and run here: SQLite calls them synchronously, so they cannot wait for the
 * page. Trace lines and backup progress go back as events with the reply of
 * the call that produced them.
 */
import type { AggregateClass, Authorizer, Collation, ProgressHandler, ScalarFunction, WindowClass } from './callbacks.js';
import type { Engine, OpenOptions } from './engine.js';
import { StorageError } from '../vfs/backend.js';
import { EngineError, notSupported } from './engine-error.js';
import type { Opened, OpenRequest, Reply, SessionMethod, ShippedCallback, WorkerEvent } from './protocol.js';
import type { BackupOptions, ExecOptions, Session, VectorIndexAction } from './session.js';
import type { HistoryAction } from './time-travel.js';
import type { SyncCaller } from './sync-bridge.js';
import type { BindParams } from './values.js';

/** How long opening waits for another worker to let go of a file's OPFS handles. */
const HANDLE_WAIT_MS = 3000;
const HANDLE_RETRY_MS = 25;

/** The answer to a re-sent request whose commit already happened (its first reply was lost). */
function alreadyCommitted(method: SessionMethod, s: Session): unknown {
  const state = s.state();
  if (method === 'execute' || method === 'executemany') {
    return { cursorId: 0, columns: null, converters: null, rows: [], rowcount: -1, lastrowid: null, isDml: true, ...state };
  }
  return state;
}

type Kind = 'function' | 'class';

const CLASS_KINDS = new Set(['create_aggregate', 'create_window_function']);

/** Turns shipped source back into a function (or class), or explains why it cannot be. */
function fromSource(src: string, what: string): unknown {
  src = src.trim();
  if (/\{\s*\[native code\]\s*\}$/.test(src)) {
    throw notSupported(
      `${what}: a native or bound function cannot run in the database worker. Pass a self-contained ` +
        'function or class (its source is shipped to the worker and must not use variables of the page), ' +
        'or serve the page cross-origin isolated (COOP/COEP headers) so that callbacks run on the page.',
    );
  }
  // A function or class expression, else a method shorthand (`name(x) { … }`).
  const forms: Array<(s: string) => string> = [(s) => `(${s})`, (s) => `({${s}})`];
  for (let i = 0; i < forms.length; i++) {
    let value: unknown;
    try {
      value = new Function(`"use strict"; return ${forms[i](src)};`)() as unknown;
    } catch (e) {
      if (e instanceof SyntaxError) continue;
      throw e;
    }
    return i === 0 ? value : Object.values(value as object)[0];
  }
  throw notSupported(`${what}: its source could not be evaluated in the database worker`);
}

/** Explains a shipped callback's use of the page's variables, which the worker does not have. */
function explainScope(what: string, fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      if (!(e instanceof ReferenceError)) throw e;
      throw new ReferenceError(
        `${what}: ${e.message}. The page is not cross-origin isolated, so this callback was shipped to the ` +
          'database worker as source and runs there: it must be self-contained. Serve the page with COOP/COEP ' +
          'headers to run callbacks on the page itself.',
        { cause: e },
      );
    }
  };
}

/** A class whose instances live on the page, driven through the bridge. */
function bridgedClass(caller: SyncCaller, fn: number): new () => object {
  return class {
    private readonly inst = caller.call({ op: 'new', fn }) as number;
    step(...args: unknown[]): void {
      caller.call({ op: 'method', inst: this.inst, name: 'step', args });
    }
    inverse(...args: unknown[]): void {
      caller.call({ op: 'method', inst: this.inst, name: 'inverse', args });
    }
    value(): unknown {
      return caller.call({ op: 'method', inst: this.inst, name: 'value', args: [] });
    }
    finalize(): unknown {
      return caller.call({ op: 'method', inst: this.inst, name: 'finalize', args: [], drop: true });
    }
  };
}

/** A session this host runs, and on whose behalf. */
interface Hosted {
  readonly session: Session;
  /** The worker (tab) that opened it; its sessions end when it goes away. */
  readonly owner: string;
}

/**
 * Runs sessions on this worker's engine for whoever asks: the page of this
 * worker, or (when this worker leads a shared database) the workers of other
 * tabs. Calls answer with `Reply`s (see protocol.ts).
 */
export class Host {
  private readonly sessions = new Map<number, Hosted>();
  private bridge: SyncCaller | null = null;

  constructor(
    private readonly engineReady: Promise<Engine>,
    /** The owner token of this worker's own page (only its callbacks can be bridged). */
    private readonly localOwner: string,
  ) {}

  /** The page is cross-origin isolated: its callbacks can be called synchronously. */
  attachBridge(caller: SyncCaller): void {
    this.bridge = caller;
  }

  /** A shipped callback as session `id` (opened for its owner) will call it. */
  private compileFor<T>(id: number, cb: unknown, what: string): T | null {
    return this.compile<T>(cb as ShippedCallback | null, what, (this.sessions.get(id) as Hosted).owner);
  }

  /** A shipped callback as the session of `owner` will call it. */
  private compile<T>(cb: ShippedCallback | null, what: string, owner: string): T | null {
    if (cb === null) return null;
    const kind: Kind = CLASS_KINDS.has(what) ? 'class' : 'function';
    const bridge = this.bridge;
    if (cb.bridge !== undefined && bridge !== null && owner === this.localOwner) {
      const fn = cb.bridge;
      return (kind === 'class' ? bridgedClass(bridge, fn) : (...args: unknown[]) => bridge.call({ op: 'call', fn, args })) as T;
    }
    const value = fromSource(cb.source, what);
    return (kind === 'class' ? value : explainScope(what, value as (...args: unknown[]) => unknown)) as T;
  }
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
        : e instanceof StorageError
          ? { kind: 'OperationalError' as const, message: `unable to open database file: ${e.message}` }
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
    return (await this.engineReady).storages;
  }

  /** Where `database` lives: its storage kind and the key tabs share it by (null: private to this worker). */
  async placement(database: string, uri: boolean): Promise<{ kind: string; shareKey: string | null }> {
    const t = (await this.engineReady).target(database, uri);
    return { kind: t.kind, shareKey: t.kind === 'memory' || t.path === null ? null : `${t.kind}://${t.path}` };
  }

  async open(database: string, request: OpenRequest, owner: string): Promise<Reply<Opened>> {
    try {
      const engine = await this.engineReady;
      // The request's fields are the engine's open options (structured-cloned, so nothing else is in it).
      const options: OpenOptions = request;
      let session: Session;
      for (let waited = 0; ; waited += HANDLE_RETRY_MS) {
        try {
          session = await engine.openAsync(database, options);
          break;
        } catch (e) {
          // A tab that just closed lets go of its OPFS handles some tens of milliseconds later.
          if (!(e instanceof StorageError) || !/NoModificationAllowedError/.test(e.message) || waited >= HANDLE_WAIT_MS) throw e;
          await new Promise((r) => setTimeout(r, HANDLE_RETRY_MS));
        }
      }
      const id = this.nextId++;
      this.sessions.set(id, { session, owner });
      return this.reply(id, { id, storage: session.storage, state: session.state() });
    } catch (e) {
      return this.failure(0, e);
    }
  }

  async importDatabase(database: string, bytes: Uint8Array): Promise<Reply<void>> {
    try {
      await (await this.engineReady).importDatabase(database, bytes);
      return this.reply(0, undefined);
    } catch (e) {
      return this.failure(0, e);
    }
  }

  /**
   * Runs a session method. With `tag` (a client's idempotency id for a request
   * that may commit), a commit the request makes is recorded under that id,
   * and a request whose tag already committed is not run again.
   */
  invoke(id: number, method: SessionMethod, args: unknown[], tag?: string): Promise<Reply<unknown>> {
    if (tag !== undefined) return this.invokeTagged(id, method, args, tag);
    // Untagged (nearly every call): one promise reaction between the session and the reply.
    let value: unknown;
    try {
      value = this.call(id, method, args);
    } catch (e) {
      return Promise.resolve(this.failure(id, e));
    }
    if (value instanceof Promise) {
      return value.then(
        (v: unknown) => this.reply(id, v),
        (e: unknown) => this.failure(id, e),
      );
    }
    return Promise.resolve(this.reply(id, value));
  }

  private async invokeTagged(id: number, method: SessionMethod, args: unknown[], tag: string): Promise<Reply<unknown>> {
    try {
      const s = this.session(id);
      if (s.committed(tag)) return this.reply(id, alreadyCommitted(method, s));
      s.tagCommit(tag);
      try {
        return this.reply(id, await this.call(id, method, args));
      } finally {
        s.tagCommit(null);
      }
    } catch (e) {
      return this.failure(id, e);
    }
  }

  /** Closes every session opened on behalf of `owner` (its tab went away): open transactions roll back. */
  closeOwnedBy(owner: string): void {
    for (const [id, h] of [...this.sessions]) {
      if (h.owner !== owner) continue;
      this.sessions.delete(id);
      this.events.delete(id);
      h.session.close();
    }
  }

  private session(id: number): Session {
    const h = this.sessions.get(id);
    if (h === undefined) throw new EngineError({ kind: 'ProgrammingError', message: 'Cannot operate on a closed database.' });
    return h.session;
  }

  /** Runs a session method: its value, or a promise of it (thrown errors are the session's). */
  private call(id: number, method: SessionMethod, a: unknown[]): unknown {
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
        return s.createFunction(a[0] as string, a[1] as number, this.compileFor<ScalarFunction>(id, a[2], 'create_function'), a[3] as boolean);
      case 'createAggregate':
        return s.createAggregate(a[0] as string, a[1] as number, this.compileFor<AggregateClass>(id, a[2], 'create_aggregate'));
      case 'createWindowFunction':
        return s.createWindowFunction(a[0] as string, a[1] as number, this.compileFor<WindowClass>(id, a[2], 'create_window_function'));
      case 'createCollation':
        return s.createCollation(a[0] as string, this.compileFor<Collation>(id, a[1], 'create_collation'));
      case 'setAuthorizer':
        return s.setAuthorizer(this.compileFor<Authorizer>(id, a[0], 'set_authorizer'));
      case 'setProgressHandler':
        return s.setProgressHandler(this.compileFor<ProgressHandler>(id, a[0], 'set_progress_handler'), a[1] as number);
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
      case 'vectorIndex':
        return s.vectorIndex(a[0] as VectorIndexAction, a[1] as unknown[]);
      case 'history':
        return s.history(a[0] as HistoryAction, a[1] as unknown[]);
      case 'close':
        this.sessions.delete(id);
        this.events.delete(id);
        return s.close();
    }
  }
}

