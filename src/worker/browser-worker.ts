/**
 * The browser's database worker: the entry script of the dedicated Worker that
 * `connect()` starts on a page. Session calls arrive as flat arrays on the
 * worker's own message channel and are answered the same way; setup calls
 * (`open`, import, the callback bridge) through Comlink on the MessagePort
 * the page sends first (protocol.ts).
 *
 * It owns an engine (SQLite in WASM; storages: OPFS where sync access handles
 * exist, IndexedDB, memory) and runs sessions on it (host.ts). A database on
 * OPFS or IndexedDB is shared with the other tabs of the origin: one worker
 * leads it and the others forward to the leader (tab-share.ts). The page's
 * connections are `ClientSession`s here, which survive a change of leader.
 */
import * as Comlink from 'comlink';
import { MvccBackend } from '../mvcc/mvcc-backend.js';
import { IdbBackend } from '../vfs/idb-backend.js';
import { OpfsBackend } from '../vfs/opfs-backend.js';
import { Engine } from './engine.js';
import type { EngineErrorData } from './engine-error.js';
import { Host } from './host.js';
import {
  COLUMN_SLOTS,
  EXEC_ARGS,
  EXEC_REPLY,
  REPLY,
  type ColumnInfo,
  type Opened,
  type OpenRequest,
  type Reply,
  type SessionCall,
  type SessionMethod,
  type SessionReply,
  type WorkerApi,
} from './protocol.js';
import type { ExecOptions, ExecResult, FetchResult, SessionState } from './session.js';
import { SyncCaller } from './sync-bridge.js';
import { holdTabLock, LeaderChanged, LocalRoute, SharedDatabase, type Route } from './tab-share.js';

function opfsAvailable(): boolean {
  const handle = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
  const storage = (globalThis as { navigator?: { storage?: { getDirectory?: unknown } } }).navigator?.storage;
  return handle !== undefined && 'createSyncAccessHandle' in handle.prototype && typeof storage?.getDirectory === 'function';
}

const engineReady = Engine.create((engine) => {
  // Every call arrives as its own message: the event loop turns between them anyway.
  engine.cooperativeYield = false;
  if (opfsAvailable()) engine.addStorage('opfs', new MvccBackend(new OpfsBackend()));
  if (typeof indexedDB !== 'undefined') engine.addStorage('idb', new MvccBackend(new IdbBackend()));
});

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** 128 random bits as 32 hex digits. */
function randomHex(): string {
  let s = '';
  for (const b of crypto.getRandomValues(new Uint8Array(16))) s += HEX[b];
  return s;
}

const token = randomHex();
holdTabLock(token);
const host = new Host(engineReady, token);
const local = new LocalRoute(host, token);
const shared = new Map<string, SharedDatabase>();

async function routeFor(database: string, uri: boolean): Promise<Route> {
  const { shareKey } = await host.placement(database, uri);
  if (shareKey === null) return local;
  let db = shared.get(shareKey);
  if (db === undefined) shared.set(shareKey, (db = new SharedDatabase(shareKey, host, token)));
  return db;
}

/** A commit tag: a transaction id the commit log records (32 hex digits). */
const newTag = randomHex;

/** Calls that may commit: tagged, so a re-send after a change of leader never commits twice. */
const MAY_COMMIT = new Set<SessionMethod>(['execute', 'executemany', 'executescript', 'control', 'commit']);
/** Settings a session is given again when it is reopened on a new leader. */
const SETTINGS = new Set<SessionMethod>([
  'setTimeout', 'setLimit', 'setCachedStatements', 'createFunction', 'createAggregate', 'createWindowFunction',
  'createCollation', 'setAuthorizer', 'setProgressHandler', 'setTraceCallback',
]);
/** Settings that exist once per name (a function, a collation, a limit category). */
const NAMED_SETTINGS = new Set<SessionMethod>(['createFunction', 'createAggregate', 'createWindowFunction', 'createCollation', 'setLimit']);
const COMMIT_SQL = /^\s*(?:COMMIT|END|RELEASE)\b/i;

function failure(message: string, retryable: boolean): Reply<never> {
  const error: EngineErrorData = { kind: 'OperationalError', message, retryable };
  return { ok: false, error };
}

/** Statements that cannot commit anything: they need no commit tag. */
const READ_ONLY_SQL = /^\s*(?:SELECT|EXPLAIN|VALUES)\b/i;

/** One of the page's connections: a session on whichever engine serves its database. */
class ClientSession {
  private inTransaction = false;
  /** The latest call of each setting (keyed by method, and by name for named ones), in call order. */
  private readonly settings = new Map<string, { method: SessionMethod; args: unknown[] }>();
  /** Set when the database's leader changed: the session must be opened again on the new one. */
  private stale = false;

  constructor(
    private readonly route: Route,
    private readonly database: string,
    private readonly request: OpenRequest,
    private hostId: number,
  ) {
    route.onLeaderChange(() => {
      this.stale = true;
    });
  }

  get id(): number {
    return this.hostId;
  }

  /** Whether this worker's own engine runs the session (a private database, or one this worker leads). */
  get servedHere(): boolean {
    return this.route instanceof LocalRoute || (this.route instanceof SharedDatabase && this.route.isLeader);
  }

  /** Opens the session again on the current leader and gives it its settings back. */
  private async reopen(): Promise<void> {
    let r: Reply<unknown>;
    for (let attempt = 0; ; attempt++) {
      try {
        r = await this.route.run({ op: 'open', database: this.database, request: this.request });
        break;
      } catch (e) {
        // The leader changed again while reopening (tabs closing one after another): try the next one.
        if (!(e instanceof LeaderChanged) || attempt >= 5) throw e;
      }
    }
    if (!r.ok) throw new Error(r.error.message);
    this.hostId = (r.value as Opened).id;
    this.inTransaction = false;
    for (const s of this.settings.values()) await this.route.run({ op: 'invoke', id: this.hostId, method: s.method, args: s.args });
  }

  invoke(method: SessionMethod, args: unknown[]): Promise<Reply<unknown>> {
    // Only calls that may commit on a database that can change leader carry a tag (it also keeps
    // them out of group commit, which records one transaction id per group).
    const commits = method === 'commit' || ((method === 'control' || method === 'execute') && COMMIT_SQL.test(String(args[0])));
    const tag = this.route.failsOver && this.mayCommit(method, args, commits) ? newTag() : undefined;
    if (this.stale) return this.resend(method, args, commits, tag, false, 0);
    // The common case, kept to one promise reaction: the engine that serves the session runs the call
    // (this worker's own engine directly, as its route would).
    const sent = this.servedHere ? host.invoke(this.hostId, method, args, tag) : this.route.run({ op: 'invoke', id: this.hostId, method, args, tag });
    return sent.then(
      (reply) => this.settled(method, args, reply, commits, false),
      (e: unknown) => {
        if (!(e instanceof LeaderChanged)) throw e;
        this.stale = true;
        return this.resend(method, args, commits, tag, true, 1);
      },
    );
  }

  /** The general case: the session reopened on a new leader first when it changed, and re-sent while it changes. */
  private async resend(method: SessionMethod, args: unknown[], commits: boolean, tag: string | undefined, resent: boolean, first: number): Promise<Reply<unknown>> {
    for (let attempt = first; ; attempt++) {
      if (this.stale) {
        // The engine that ran this session is gone, and with it any open transaction and cursor.
        // Closing it, or one of its cursors, needs no new session.
        if (method === 'close' || method === 'closeCursor') return { ok: true, value: undefined };
        this.stale = false;
        const lostTransaction = this.inTransaction;
        try {
          await this.reopen();
        } catch (err) {
          return failure(`the tab serving this database closed and it could not be opened again: ${err instanceof Error ? err.message : String(err)}`, false);
        }
        if (method === 'fetch') return failure('the result set was lost when the tab serving the database closed; run the query again', true);
        // A transaction dies with its engine, unless this call was its commit and it got through (the tag says).
        if (lostTransaction && !(commits && resent)) {
          return failure('the tab serving this database closed and this transaction was rolled back; run it again', true);
        }
      }
      let reply: Reply<unknown>;
      try {
        reply = await this.route.run({ op: 'invoke', id: this.hostId, method, args, tag });
      } catch (e) {
        if (!(e instanceof LeaderChanged) || attempt >= 5) throw e;
        this.stale = true;
        resent = true;
        continue;
      }
      return this.settled(method, args, reply, commits, resent);
    }
  }

  /** Mirrors what a reply says about the session (transaction state, settings to give back on a new leader). */
  private settled(method: SessionMethod, args: unknown[], reply: Reply<unknown>, commits: boolean, resent: boolean): Reply<unknown> {
    if (reply.ok) {
      const v = reply.value as Partial<SessionState> | undefined;
      if (v !== null && typeof v === 'object' && typeof v.inTransaction === 'boolean') this.inTransaction = v.inTransaction;
      if (SETTINGS.has(method)) this.remember(method, args);
    } else if (commits && resent && /no transaction is active/.test(reply.error.message)) {
      return failure('the tab serving this database closed and this transaction was rolled back; run it again', true);
    }
    return reply;
  }

  /**
   * Whether a call may end with a commit: COMMIT and friends, and a write in
   * autocommit mode. A statement inside a transaction, or one that opens it
   * (the sqlite3 module's implicit BEGIN), commits nothing.
   */
  private mayCommit(method: SessionMethod, args: unknown[], commits: boolean): boolean {
    if (commits) return true;
    if (!MAY_COMMIT.has(method)) return false;
    if (method === 'executescript') return true;
    if (this.inTransaction) return false;
    if (method === 'execute' && READ_ONLY_SQL.test(String(args[0]))) return false;
    const opts = (method === 'execute' ? args[2] : method === 'executemany' ? args[2] : undefined) as { implicitBegin?: string | null } | undefined;
    return !opts?.implicitBegin;
  }

  private remember(method: SessionMethod, args: unknown[]): void {
    const key = NAMED_SETTINGS.has(method) ? `${method}:${String(args[0])}` : method;
    // Re-set settings move to the end: they are given back in the order they were last made.
    this.settings.delete(key);
    this.settings.set(key, { method, args });
  }

}

/** The worker's global scope, as far as this file uses it. */
interface WorkerScope {
  onmessage: ((ev: MessageEvent<unknown>) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;

/** The options of the last plain `execute` (no flags set), reused while the next ones are the same. */
let plainOptions: ExecOptions = Object.freeze({});

/** `execute`'s options, from the flat fields of its call (protocol.ts, EXEC_ARGS). */
function execOptions(m: SessionCall): ExecOptions {
  const batch = m[EXEC_ARGS.batch] as number | undefined;
  const implicitBegin = m[EXEC_ARGS.implicitBegin] as string | undefined;
  if (m.length > EXEC_ARGS.textAsBytes) {
    return {
      batch,
      implicitBegin,
      textAsBytes: m[EXEC_ARGS.textAsBytes] as boolean | undefined,
      detectTypes: m[EXEC_ARGS.detectTypes] as number | undefined,
      converterNames: m[EXEC_ARGS.converterNames] as string[] | undefined,
    };
  }
  if (plainOptions.batch !== batch || plainOptions.implicitBegin !== implicitBegin) plainOptions = Object.freeze({ batch, implicitBegin });
  return plainOptions;
}

/**
 * Which column lists the page's column table holds (protocol.ts,
 * COLUMN_SLOTS): a statement run again names its columns by slot. The engine
 * reuses one column list per prepared statement, so identity is the key.
 */
class ColumnSlots {
  private readonly serials = new WeakMap<readonly ColumnInfo[], number>();
  /** The serial of the list each slot holds (0: none). */
  private readonly holder = new Array<number>(COLUMN_SLOTS).fill(0);
  private serial = 0;

  /** Writes `columns` into an EXEC reply at EXEC_REPLY.columnSlot / .columns. */
  put(out: SessionReply, columns: readonly ColumnInfo[]): void {
    const known = this.serials.get(columns);
    if (known !== undefined && this.holder[known % COLUMN_SLOTS] === known) {
      out[EXEC_REPLY.columnSlot] = known % COLUMN_SLOTS;
      out[EXEC_REPLY.columns] = undefined;
      return;
    }
    const serial = ++this.serial;
    const slot = serial % COLUMN_SLOTS;
    this.serials.set(columns, serial);
    this.holder[slot] = serial;
    out[EXEC_REPLY.columnSlot] = slot;
    out[EXEC_REPLY.columns] = columns;
  }
}

class Endpoint implements WorkerApi {
  private readonly clients = new Map<number, ClientSession>();
  private readonly columnSlots = new ColumnSlots();
  private nextId = 1;

  async storages(): Promise<string[]> {
    return host.storages();
  }

  async attachBridge(sab: SharedArrayBuffer, port: MessagePort): Promise<void> {
    host.attachBridge(new SyncCaller(sab, port));
  }

  async open(database: string, request: OpenRequest): Promise<Reply<Opened>> {
    const route = await routeFor(database, request.uri).catch((e: unknown) => e);
    if (!(route instanceof LocalRoute || route instanceof SharedDatabase)) return host.open(database, request, token);
    const r = (await route.run({ op: 'open', database, request })) as Reply<Opened>;
    if (!r.ok) return r;
    const id = this.nextId++;
    this.clients.set(id, new ClientSession(route, database, request, r.value.id));
    return { ok: true, value: { ...r.value, id } };
  }

  async importDatabase(database: string, bytes: Uint8Array): Promise<Reply<void>> {
    const route = await routeFor(database, false);
    return (await route.run({ op: 'import', database, bytes })) as Reply<void>;
  }

  /** Runs one session call from the page and posts its reply (protocol.ts, SessionCall / SessionReply). */
  serve(m: SessionCall): void {
    const seq = m[0];
    const id = m[1];
    const method = m[2];
    let sent: Promise<Reply<unknown>>;
    try {
      sent = this.invoke(id, method, method === 'execute' ? [m[EXEC_ARGS.sql], m[EXEC_ARGS.params], execOptions(m)] : m.slice(3));
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent.then(
      (reply) => scope.postMessage(this.encode(seq, id, method, reply)),
      (e: unknown) => {
        // Not an engine error (those come back as replies): the leader kept changing, or a bug.
        const error: EngineErrorData =
          e instanceof LeaderChanged
            ? { kind: 'OperationalError', message: `${e.message} (the tabs serving this database kept closing)` }
            : { kind: 'InternalError', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
        scope.postMessage([seq, REPLY.ERROR, undefined, error] satisfies SessionReply);
      },
    );
  }

  private encode(seq: number, id: number, method: SessionMethod, reply: Reply<unknown>): SessionReply {
    if (!reply.ok) return [seq, REPLY.ERROR, reply.events, reply.error];
    if (method === 'execute' || method === 'executemany') {
      const r = reply.value as ExecResult;
      if (r.columns === null && r.cursorId === 0 && r.rows.length === 0 && r.converters === null) {
        return [seq, REPLY.DONE, reply.events, r.rowcount, r.lastrowid, r.inTransaction, r.totalChanges, r.isDml];
      }
      const out: SessionReply = [seq, REPLY.EXEC, reply.events, r.rows, r.rowcount, r.lastrowid, r.inTransaction, r.totalChanges, r.cursorId, r.isDml, -1, r.columns, r.converters];
      // Columns from another tab's engine arrive as new lists every time: sent as they are.
      if (r.columns !== null && this.clients.get(id)?.servedHere === true) this.columnSlots.put(out, r.columns);
      return out;
    }
    if (method === 'fetch') {
      const r = reply.value as FetchResult;
      return [seq, REPLY.FETCH, reply.events, r.rows, r.done, r.rowcount, r.inTransaction, r.totalChanges];
    }
    return [seq, REPLY.VALUE, reply.events, reply.value];
  }

  invoke(id: number, method: SessionMethod, args: unknown[]): Promise<Reply<unknown>> {
    const client = this.clients.get(id);
    if (client === undefined) return Promise.resolve({ ok: false, error: { kind: 'ProgrammingError', message: 'Cannot operate on a closed database.' } });
    if (method === 'backup') {
      // Both ends must be sessions of one engine: the target's host id replaces the page's id.
      const target = this.clients.get(args[0] as number);
      if (target === undefined) return Promise.resolve({ ok: false, error: { kind: 'ProgrammingError', message: 'the backup target is closed' } });
      if (!client.servedHere || !target.servedHere) {
        return Promise.resolve({
          ok: false,
          error: { kind: 'NotSupportedError', message: 'backup between databases served by different tabs is not supported; open both in the tab that serves the source' },
        });
      }
      args = [target.id, ...args.slice(1)];
    }
    const reply = client.invoke(method, args);
    if (method !== 'close') return reply;
    return reply.then((r) => {
      this.clients.delete(id);
      return r;
    });
  }
}

const endpoint = new Endpoint();
scope.onmessage = (ev) => {
  const m = ev.data;
  if (Array.isArray(m)) endpoint.serve(m as SessionCall);
  // The page's first message: the port of the setup channel.
  else if (m instanceof MessagePort) Comlink.expose(endpoint, m);
};
