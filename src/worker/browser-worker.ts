/**
 * The browser's database worker: the entry script of the dedicated Worker that
 * `connect()` starts on a page, exposed to the page with Comlink.
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
import type { Opened, OpenRequest, Reply, SessionMethod, WorkerApi } from './protocol.js';
import type { SessionState } from './session.js';
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

const token = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
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

function newTag(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

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

  async invoke(method: SessionMethod, args: unknown[]): Promise<Reply<unknown>> {
    // Only calls that may commit on a database that can change leader carry a tag (it also keeps
    // them out of group commit, which records one transaction id per group).
    const commits = method === 'commit' || ((method === 'control' || method === 'execute') && COMMIT_SQL.test(String(args[0])));
    const tag = this.route.failsOver && this.mayCommit(method, args, commits) ? newTag() : undefined;
    let resent = false;
    for (let attempt = 0; ; attempt++) {
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
      if (reply.ok) {
        const v = reply.value as Partial<SessionState> | undefined;
        if (v !== null && typeof v === 'object' && typeof v.inTransaction === 'boolean') this.inTransaction = v.inTransaction;
        if (SETTINGS.has(method)) this.remember(method, args);
      } else if (commits && resent && /no transaction is active/.test(reply.error.message)) {
        return failure('the tab serving this database closed and this transaction was rolled back; run it again', true);
      }
      return reply;
    }
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

class Endpoint implements WorkerApi {
  private readonly clients = new Map<number, ClientSession>();
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

  async invoke([id, method, args]: readonly [number, SessionMethod, unknown[]]): Promise<Reply<unknown>> {
    const client = this.clients.get(id);
    if (client === undefined) return { ok: false, error: { kind: 'ProgrammingError', message: 'Cannot operate on a closed database.' } };
    if (method === 'backup') {
      // Both ends must be sessions of one engine: the target's host id replaces the page's id.
      const target = this.clients.get(args[0] as number);
      if (target === undefined) return { ok: false, error: { kind: 'ProgrammingError', message: 'the backup target is closed' } };
      if (!client.servedHere || !target.servedHere) {
        return { ok: false, error: { kind: 'NotSupportedError', message: 'backup between databases served by different tabs is not supported; open both in the tab that serves the source' } };
      }
      args = [target.id, ...args.slice(1)];
    }
    const reply = await client.invoke(method, args);
    if (method === 'close') this.clients.delete(id);
    return reply;
  }
}

Comlink.expose(new Endpoint());
