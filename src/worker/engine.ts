/**
 * The engine: one loaded SQLite module, its storage VFSes, and every session
 * (logical connection) open on it. In Node, Deno and edge runtimes it runs in
 * the caller's process; in browsers it runs inside the dedicated worker.
 */
import { StorageError, type StorageBackend, type StorageFile } from '../vfs/backend.js';
import { MvccBackend, MvccFile } from '../mvcc/mvcc-backend.js';
import type { PageStore } from '../mvcc/page-store.js';
import { GroupCommitter } from './group-commit.js';
import { MemoryBackend } from '../vfs/memory-backend.js';
import { registerVfs, type RegisteredVfs } from '../vfs/sqlite-vfs.js';
import type { CallbackErrorReporter } from './callbacks.js';
import { EngineError, kindForCode, RC } from './engine-error.js';
import { Session, type SessionHost } from './session.js';
import { loadSqlite, rawExports, type Ptr, type RawExports, type Sqlite3Static } from './sqlite-module.js';
import { WasmMemory } from './wasm-memory.js';
import { VectorIndexes } from './vector-index.js';
import { registerVectorFunctions, registerVectorIndexFunctions } from './vector-sql.js';
import { VectorSearchModule } from './vector-vtab.js';
import { macrotask } from '../runtime/macrotask.js';
import { SessionVersions, type VersionsHost } from './time-travel.js';
import type { FunctionInstaller } from './txn-rebase.js';
import { Versioning, type Retention } from '../mvcc/versioning.js';
import { History } from '../mvcc/history.js';

const SQLITE_OPEN_READWRITE = 0x00000002;
const SQLITE_OPEN_CREATE = 0x00000004;
const SQLITE_OPEN_URI = 0x00000040;
const SQLITE_OPEN_EXRESCODE = 0x02000000;
const SQLITE_FCNTL_FILE_POINTER = 7;
const SQLITE_FCNTL_RESET_CACHE = 42;
const SQLITE_DBCONFIG_DQS_DML = 1013;
const SQLITE_DBCONFIG_DQS_DDL = 1014;

/** Longest run of in-process statements without giving the event loop a turn. */
const YIELD_AFTER_MS = 4;

/** How long a parked statement sleeps before re-checking, when no lock release woke it. */
const POLL_MS = 25;

export interface OpenOptions {
  /** Interpret `database` as a `file:` URI (mode=ro|rw|rwc|memory, vfs=…). */
  readonly uri?: boolean;
  /** Milliseconds a statement may wait for a lock (the connection's `timeout`). */
  readonly timeoutMs?: number;
  readonly cachedStatements?: number;
  readonly reportCallbackError?: CallbackErrorReporter;
  /** @internal The engine's own connection (the group-commit writer). */
  readonly internal?: boolean;
  /** Load the vector engine and allow vector index operations on this connection. */
  readonly vectorSearch?: boolean;
  /** Time travel on (with a retention, or keeping the database's): history is kept and `AS OF` works. */
  readonly timeTravel?: boolean | Partial<Retention>;
  /** Branches on. */
  readonly branching?: boolean;
  /** The branch this connection reads and writes (default 'main'). */
  readonly branch?: string;
}

/** Which storage a path is opened on. */
export type StorageKind = 'memory' | 'node' | 'opfs' | 'idb';

const STORAGE_URL = /^(memory|node|opfs|idb):\/\/(.*)$/s;

/** Where a database name points: `opfs://app.db` names its storage; a plain name takes the default. */
export interface DatabaseTarget {
  readonly kind: StorageKind;
  /** The name SQLite opens (the path within the storage, ':memory:', or a `file:` URI). */
  readonly name: string;
  /** The file path prepared on the storage, or null for in-memory and URI names. */
  readonly path: string | null;
}

export class Engine implements SessionHost {
  readonly raw: RawExports;
  readonly mem: WasmMemory;
  /** Vector indexes of the databases open here; USearch loads on the first `enable_vector_search` connection. */
  readonly vectors = new VectorIndexes(() => import('../vector/usearch.js').then((m) => m.loadUsearch()));
  private vectorModule: VectorSearchModule | null = null;
  private readonly byHandle = new Map<Ptr, Session>();
  private readonly sessions = new Set<Session>();
  private readonly vfses = new Map<StorageKind, RegisteredVfs>();
  private waiters: Array<() => void> = [];

  private constructor(readonly sqlite3: Sqlite3Static) {
    this.raw = rawExports(sqlite3);
    this.mem = new WasmMemory(sqlite3.wasm, this.raw);
  }

  /**
   * Creates an engine on the (shared, once-loaded) SQLite module with the
   * memory storage; `setup` adds the runtime's own storages (node-storage.ts,
   * browser-worker.ts), so this module imports no runtime-specific code.
   */
  static async create(setup?: (engine: Engine) => void | Promise<void>): Promise<Engine> {
    const engine = new Engine(await loadSqlite());
    engine.addStorage('memory', new MvccBackend(new MemoryBackend()));
    if (setup) await setup(engine);
    return engine;
  }

  /**
   * Lets the engine fold what native SQLite left beside a file (a hot journal,
   * a WAL) into it before its first MVCC open, through a plain VFS on `backend`.
   */
  enableNativeRecovery(backend: StorageBackend): void {
    this.plainVfs = registerVfs(this.sqlite3, 'heliosdb-native-plain', backend);
  }

  private plainVfs: RegisteredVfs | null = null;
  /** One group committer per open database, shared by its plain-path sessions. */
  private readonly groups = new Map<PageStore, { committer: GroupCommitter; users: number }>();
  private readonly groupUsers = new Map<Session, PageStore>();

  /**
   * Registers a storage under MVCC (a runtime adds its own: the browser worker
   * adds 'opfs' and 'idb'). The first non-memory storage becomes the default.
   */
  addStorage(kind: StorageKind, backend: StorageBackend): void {
    const vfs = registerVfs(this.sqlite3, `heliosdb-${kind}`, backend);
    vfs.onLockReleased(() => this.wake());
    this.vfses.set(kind, vfs);
    if (this.preferredStorage === null && kind !== 'memory') this.preferredStorage = kind;
  }

  private preferredStorage: StorageKind | null = null;

  /** The storages this engine can open, default first. */
  get storages(): StorageKind[] {
    const kinds = [...this.vfses.keys()];
    return [this.defaultStorage, ...kinds.filter((k) => k !== this.defaultStorage)];
  }

  /** Resolves a database name to its storage and path. */
  target(database: string, uri: boolean): DatabaseTarget {
    if (database === ':memory:' || database === '') return { kind: 'memory', name: ':memory:', path: null };
    const m = STORAGE_URL.exec(database);
    if (m !== null) {
      const kind = m[1] as StorageKind;
      if (!this.vfses.has(kind)) {
        throw new EngineError({
          kind: 'NotSupportedError',
          message: `${kind}:// storage is not available here (available: ${this.storages.join(', ')})`,
        });
      }
      if (m[2] === '') throw new EngineError({ kind: 'ProgrammingError', message: `${database}: the database name is empty` });
      return { kind, name: m[2], path: m[2] };
    }
    return { kind: this.defaultStorage, name: database, path: uri ? uriPath(database) : database };
  }

  /**
   * Opens a session, first letting the storage prepare the file asynchronously
   * (browser media open handles or load data; a no-op in Node).
   */
  async openAsync(database: string, options: OpenOptions = {}): Promise<Session> {
    const t = this.target(database, !!options.uri);
    const vfs = this.vfses.get(t.kind);
    if (t.path !== null && vfs !== undefined && vfs.backend instanceof MvccBackend) {
      await vfs.backend.prepare(t.path);
      // Turning time travel or branches on: the history files must be ready before a checkpoint writes them.
      if (options.timeTravel || options.branching) await vfs.backend.prepareSide(t.path, History.SIDE_FILES);
    }
    if (options.vectorSearch) await this.vectors.ready();
    return this.open(database, options);
  }

  /**
   * Before the first MVCC open of a file in this engine: if native SQLite left
   * a hot rollback journal or a WAL beside it (or the file is in WAL mode),
   * let SQLite itself recover and checkpoint it through a plain VFS and switch
   * the file to rollback-journal mode, so the MVCC store starts from a file
   * that holds every committed transaction.
   */
  private prepareFile(database: string, uri: boolean): void {
    const plain = this.plainVfs;
    const vfs = this.vfses.get(this.defaultStorage);
    if (plain === null || vfs === undefined) return;
    const path = uri ? uriPath(database) : database;
    if (path === null) return;
    const mvcc = vfs.backend as MvccBackend;
    if (mvcc.storeFor(path) !== undefined) return;
    const backend = plain.backend;
    if (!backend.exists(path)) return;
    if (!backend.exists(`${path}-journal`) && !backend.exists(`${path}-wal`) && !walModeHeader(backend, path)) return;
    const zName = this.mem.allocCString(path);
    const zVfs = this.mem.allocCString(plain.name);
    const ppDb = this.raw.sqlite3_malloc(8);
    try {
      const rc = this.raw.sqlite3_open_v2(zName, ppDb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE, zVfs);
      const db = new Int32Array(this.mem.heap().buffer)[ppDb >> 2];
      const fail = (what: string, code: number): never => {
        const msg = (db ? this.mem.cstr(this.raw.sqlite3_errmsg(db)) : null) ?? `error ${code}`;
        if (db) this.raw.sqlite3_close_v2(db);
        throw new EngineError({ kind: kindForCode(code), message: `cannot recover ${path} (${what}): ${msg}`, sqliteCode: code });
      };
      if (rc !== RC.OK) fail('open', rc);
      const zSql = this.mem.allocCString('PRAGMA journal_mode=DELETE');
      const pStmt = this.raw.sqlite3_malloc(8);
      try {
        const prc = this.raw.sqlite3_prepare_v3(db, zSql, -1, 0, pStmt, 0);
        if (prc !== RC.OK) fail('prepare', prc);
        const stmt = new Int32Array(this.mem.heap().buffer)[pStmt >> 2];
        let src = this.raw.sqlite3_step(stmt);
        while (src === RC.ROW) src = this.raw.sqlite3_step(stmt);
        this.raw.sqlite3_finalize(stmt);
        if (src !== RC.DONE) fail('checkpoint', src);
      } finally {
        this.raw.sqlite3_free(zSql);
        this.raw.sqlite3_free(pStmt);
      }
      this.raw.sqlite3_close_v2(db);
      // The file is in rollback mode now. SQLite's unix VFS removes the -shm when a database leaves
      // WAL mode; the plain VFS keeps its wal-index in memory, so the native process's stale -shm
      // would stay behind: remove it the same way.
      backend.delete(`${path}-shm`);
    } finally {
      this.raw.sqlite3_free(ppDb);
      this.raw.sqlite3_free(zName);
      this.raw.sqlite3_free(zVfs);
    }
  }

  /**
   * Writes `bytes` (a whole SQLite database file) as the database `database`,
   * replacing what was there, while no connection has it open. Refuses bytes
   * that are not a SQLite database. A WAL-mode header is switched to rollback
   * mode (the image holds every committed page; there is no WAL beside it).
   */
  async importDatabase(database: string, bytes: Uint8Array): Promise<void> {
    const t = this.target(database, false);
    if (t.path === null) throw new EngineError({ kind: 'ProgrammingError', message: 'cannot import into an in-memory database; use deserialize()' });
    const magic = 'SQLite format 3\0';
    const isDb = bytes.length >= 100 && [...magic].every((c, i) => bytes[i] === c.charCodeAt(0));
    if (!isDb) throw new EngineError({ kind: 'DatabaseError', message: 'file is not a database', sqliteCode: RC.NOTADB, sqliteName: 'SQLITE_NOTADB' });
    const vfs = this.vfses.get(t.kind);
    if (vfs === undefined || !(vfs.backend instanceof MvccBackend)) throw new EngineError({ kind: 'NotSupportedError', message: `${t.kind} storage cannot import` });
    const mvcc = vfs.backend;
    if (mvcc.storeFor(t.path) !== undefined) {
      throw new EngineError({ kind: 'OperationalError', message: `cannot import into ${database}: it is open; close its connections first` });
    }
    await mvcc.prepare(t.path);
    const image = bytes.slice();
    if (image[18] === 2) image[18] = 1;
    if (image[19] === 2) image[19] = 1;
    const inner = mvcc.inner;
    // Another process's database is neither cleared nor overwritten.
    const unclaim = this.claim(t);
    try {
      // A commit log of the previous contents would be replayed onto the new ones; their history and
      // branches (time travel) describe a database that is gone.
      inner.delete(`${t.path}-hlog`);
      for (const suffix of [...Versioning.sideFilesOf(inner, t.path), ...Versioning.SIDE_FILES]) inner.delete(t.path + suffix);
      const f = inner.open(t.path, { create: true, readonly: false, deleteOnClose: false, kind: 'main-db' });
      try {
        f.truncate(0);
        f.write(image, 0);
        if (f.flushAsync) await f.flushAsync();
        else f.flush();
      } finally {
        f.close();
      }
    } finally {
      unclaim?.();
    }
  }

  /** The storage a plain path opens on in this runtime. */
  get defaultStorage(): StorageKind {
    return this.preferredStorage ?? 'memory';
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    // A macrotask, not a microtask: a woken statement that fails again releases
    // its SHARED lock, which wakes the other waiters; through microtasks two
    // waiters would wake each other forever, starving the event loop and with it
    // the connection that holds the lock and would commit.
    setTimeout(() => {
      for (const w of waiters) w();
    }, 0);
  }

  /**
   * Whether in-process callers get a macrotask turn every few milliseconds (see
   * maybeYield). A worker serving messages turns the event loop at every call
   * already; it switches this off.
   */
  cooperativeYield = true;

  private turnStart = 0;
  private turnTicking = false;

  /**
   * Cooperative fairness: a caller awaiting query after query in-process
   * resolves everything in microtasks and would starve timers and I/O (a
   * group-commit flush, other sessions' wake-ups). When no macrotask turn has
   * happened for a few milliseconds, the next statement yields one.
   */
  maybeYield(): Promise<void> | undefined {
    if (!this.cooperativeYield) return undefined;
    const now = performance.now();
    if (!this.turnTicking) {
      this.turnTicking = true;
      this.turnStart = now;
      macrotask(() => {
        this.turnTicking = false;
      });
      return undefined;
    }
    if (now - this.turnStart < YIELD_AFTER_MS) return undefined;
    return new Promise((resolve) =>
      macrotask(() => {
        // Each resumed caller gets a fresh slice: otherwise the first to resume
        // spends it and every other one gets a single statement per turn.
        this.turnStart = performance.now();
        this.turnTicking = true;
        macrotask(() => {
          this.turnTicking = false;
        });
        resolve();
      }),
    );
  }

  waitForUnlock(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const delay = Math.max(0, Math.min(POLL_MS, deadline - Date.now()));
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      }, delay);
      // Registered behind the microtasks already queued: the lock-release notice
      // of the caller's own failed attempt must not wake the caller itself (it
      // would retry at once, again and again, and never let the holder commit).
      queueMicrotask(() => this.waiters.push(done));
    });
  }

  forget(session: Session): void {
    this.sessions.delete(session);
    for (const [h, s] of this.byHandle) if (s === session) this.byHandle.delete(h);
    // The last connection to a database is gone: its in-memory vector indexes go too (the file keeps them).
    const key = session.databaseKey;
    if (![...this.sessions].some((s) => s.databaseKey === key)) this.vectors.forget(key);
    this.leaveGroup(session);
    // A closed handle releases its locks.
    this.wake();
  }

  /** Opens a session on `database` (':memory:', a path, or a `file:` URI). */
  open(database: string, options: OpenOptions = {}): Session {
    // Held across the open (recovery of native leftovers included); the store then holds its own.
    const unclaim = this.claim(this.target(database, !!options.uri));
    try {
      return this.openClaimed(database, options);
    } finally {
      unclaim?.();
    }
  }

  /**
   * Makes this engine the owner of the file database `t` until the returned
   * function is called, on storage that other processes can open too (node: a
   * lock file beside it, see vfs/owner-lock.ts). When another process owns it:
   * OperationalError naming the owner, before anything reads or writes the
   * database or its commit log.
   */
  private claim(t: DatabaseTarget): (() => void) | undefined {
    if (t.path === null) return undefined;
    const backend = this.vfses.get(t.kind)?.backend;
    const inner = backend instanceof MvccBackend ? backend.inner : backend;
    if (inner?.claim === undefined) return undefined;
    try {
      return inner.claim(t.path);
    } catch (e) {
      if (e instanceof StorageError && e.code === 'in-use') {
        throw new EngineError({ kind: 'OperationalError', message: e.message, sqliteCode: RC.BUSY, sqliteName: 'SQLITE_BUSY' }, { cause: e });
      }
      const detail = e instanceof Error ? e.message : String(e);
      throw new EngineError(
        { kind: 'OperationalError', message: `unable to open database file: ${detail}`, sqliteCode: RC.CANTOPEN, sqliteName: 'SQLITE_CANTOPEN' },
        { cause: e },
      );
    }
  }

  private openClaimed(database: string, options: OpenOptions): Session {
    const raw = this.raw;
    const target = this.target(database, !!options.uri);
    const memory = target.name === ':memory:';
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE;
    if (options.uri) flags |= SQLITE_OPEN_URI;
    // ':memory:' too: its main database lives in memory either way, but the files
    // it ATTACHes (and its temp files) must open on the real storage.
    const vfs = this.vfses.get(memory ? this.defaultStorage : target.kind);
    const vfsName = vfs?.name ?? null;
    if (!memory && target.kind === 'node') this.prepareFile(target.name, !!options.uri);
    const mvccBackend = !memory && vfs?.backend instanceof MvccBackend ? vfs.backend : null;
    if (options.branch !== undefined && options.branch !== 'main' && mvccBackend === null) {
      throw new EngineError({ kind: 'NotSupportedError', message: 'branches need a database on durable or memory:// storage (not :memory:)' });
    }
    const zName = this.mem.allocCString(target.name);
    const zVfs = vfsName ? this.mem.allocCString(vfsName) : 0;
    const ppDb = raw.sqlite3_malloc(8);
    let db: Ptr;
    try {
      if (mvccBackend !== null && options.branch !== undefined && options.branch !== 'main') mvccBackend.openAs = { branch: options.branch };
      new Int32Array(this.mem.heap().buffer)[ppDb >> 2] = 0;
      const rc = raw.sqlite3_open_v2(zName, ppDb, flags, zVfs);
      if (mvccBackend !== null) mvccBackend.openAs = null;
      db = new Int32Array(this.mem.heap().buffer)[ppDb >> 2];
      if (rc !== RC.OK) {
        const detail = this.lastStorageError();
        const msg = (db ? this.mem.cstr(raw.sqlite3_errmsg(db)) : null) ?? 'unable to open database file';
        const ext = db ? raw.sqlite3_extended_errcode(db) : rc;
        if (db) raw.sqlite3_close_v2(db);
        throw new EngineError({
          kind: kindForCode(rc),
          message: detail ? `${msg}: ${detail}` : msg,
          sqliteCode: ext,
          sqliteName: (this.sqlite3.capi as unknown as { sqlite3_js_rc_str(rc: number): string }).sqlite3_js_rc_str(ext),
        });
      }
    } finally {
      if (mvccBackend !== null) mvccBackend.openAs = null;
      raw.sqlite3_free(ppDb);
      raw.sqlite3_free(zName);
      if (zVfs) raw.sqlite3_free(zVfs);
    }
    raw.sqlite3_extended_result_codes(db, 1);
    // Match stock SQLite builds, which accept double-quoted string literals.
    const dbConfig = (this.sqlite3.capi as unknown as { sqlite3_db_config(db: Ptr, op: number, v: number, out: number): number })
      .sqlite3_db_config;
    dbConfig(db, SQLITE_DBCONFIG_DQS_DML, 1, 0);
    dbConfig(db, SQLITE_DBCONFIG_DQS_DDL, 1, 0);
    const session = new Session(this, db, database, {
      timeoutMs: options.timeoutMs ?? 5000,
      cachedStatements: options.cachedStatements ?? 128,
      reportCallbackError: options.reportCallbackError ?? (() => undefined),
    });
    session.storage = memory ? 'memory' : target.kind;
    registerVectorFunctions(session.callbacks);
    this.byHandle.set(db, session);
    session.vectorSearch = options.vectorSearch === true;
    this.vectorModule ??= new VectorSearchModule(this.sqlite3, (h) => this.byHandle.get(h), this.vectors);
    this.vectorModule.install(db);
    registerVectorIndexFunctions(session, this.vectors);
    const file = vfs ? this.mainFileOf(db, vfs) : undefined;
    if (!(file instanceof MvccFile) && (options.timeTravel || options.branching)) {
      session.close();
      const option = options.timeTravel ? 'enable_time_travel' : 'enable_branching';
      throw new EngineError({
        kind: 'NotSupportedError',
        message: `${option}: ${target.name} keeps no versions; use a file (or memory://name) database for time travel and branches`,
      });
    }
    if (file instanceof MvccFile) {
      // Atomicity and durability come from the commit log; SQLite's own journal stays in memory.
      try {
        session.execSimple('PRAGMA journal_mode=MEMORY');
      } catch (e) {
        // A file that is not a usable database reports that on first use, as in the sqlite3 module.
        const primary = (e instanceof EngineError ? (e.sqliteCode ?? 0) : 0) & 0xff;
        if (primary !== RC.NOTADB && primary !== RC.CORRUPT) {
          session.close();
          throw e;
        }
      }
      session.attachMvcc(file, options.internal === true);
      if (!options.internal) {
        try {
          session.versionsOf = this.versionsFor(session, file, options);
        } catch (e) {
          session.close();
          throw e;
        }
      }
      // Plain paths (not URIs, which may say mode=ro) share the database's group-commit writer.
      if (!options.internal && !options.uri) this.joinGroup(session, file);
    }
    this.sessions.add(session);
    return session;
  }

  /** The name that opens `path` on `storage` (the storage's URL unless it is the default). */
  private nameOn(storage: string, path: string): string {
    return storage === this.defaultStorage ? path : `${storage}://${path}`;
  }

  private joinGroup(session: Session, file: MvccFile): void {
    const store = file.store;
    let g = this.groups.get(store);
    if (g === undefined) {
      const name = this.nameOn(session.storage, store.path);
      const branch = file.branch;
      g = { committer: new GroupCommitter(this, () => this.open(name, { internal: true, timeoutMs: 60_000, branch })), users: 0 };
      this.groups.set(store, g);
    }
    g.users++;
    this.groupUsers.set(session, store);
    session.attachGroup(g.committer);
  }

  private leaveGroup(session: Session): void {
    const store = this.groupUsers.get(session);
    if (store === undefined) return;
    this.groupUsers.delete(session);
    const g = this.groups.get(store);
    if (g !== undefined && --g.users === 0) {
      // The last connection is gone: close the shared writer so the store can close (final checkpoint).
      this.groups.delete(store);
      g.committer.close();
    }
  }

  /** Time travel and branches for a new session, turning the features on for the database as asked. */
  private versionsFor(session: Session, file: MvccFile, options: OpenOptions): SessionVersions {
    const versioning = file.versioning;
    const tt = options.timeTravel;
    if (tt) {
      const r = typeof tt === 'object' ? { seconds: tt.seconds ?? null, versions: tt.versions ?? null } : undefined;
      versioning.enableTimeTravel(r);
    }
    if (options.branching) versioning.enableBranching();
    const versions = new SessionVersions(session, this.versionsHost, file, !!tt, !!options.branching);
    versions.prepareSlot();
    return versions;
  }

  private hostForVersions: VersionsHost | null = null;

  private get versionsHost(): VersionsHost {
    this.hostForVersions ??= this.makeVersionsHost();
    return this.hostForVersions;
  }

  private makeVersionsHost(): VersionsHost {
    return {
    fileOf: (db, schema) => {
      for (const vfs of this.vfses.values()) {
        const f = this.fileOf(db, schema, vfs);
        if (f instanceof MvccFile) return f;
      }
      return undefined;
    },
    resetCache: (db, schema) => {
      const raw = this.raw as RawExports & { sqlite3_file_control(db: Ptr, zDb: Ptr, op: number, pArg: Ptr): number };
      const z = this.mem.allocCString(schema);
      try {
        raw.sqlite3_file_control(db, z, SQLITE_FCNTL_RESET_CACHE, 0);
      } finally {
        raw.sqlite3_free(z);
      }
    },
    prepareSide: (file, suffix) => file.backend.prepareSide(file.store.path, [suffix]),
    regroup: (session) => {
      const file = session.mvccFile;
      const current = this.groupUsers.get(session);
      if (file === null || current === undefined || current === file.store) return;
      this.leaveGroup(session);
      this.joinGroup(session, file);
    },
    openBranch: (file, branch) => {
      const session = [...this.sessions].find((s) => s.mvccFile === file);
      return this.open(this.nameOn(session?.storage ?? this.defaultStorage, file.store.path), { internal: true, timeoutMs: 60_000, branch });
    },
    installer: this.sqlite3.wasm as unknown as FunctionInstaller,
    };
  }

  /** The storage file behind a connection's main database, through SQLITE_FCNTL_FILE_POINTER. */
  private mainFileOf(db: Ptr, vfs: RegisteredVfs): StorageFile | undefined {
    return this.fileOf(db, 'main', vfs);
  }

  /** The storage file behind schema `schema` of a connection. */
  private fileOf(db: Ptr, schema: string, vfs: RegisteredVfs): StorageFile | undefined {
    const raw = this.raw as RawExports & { sqlite3_file_control(db: Ptr, zDb: Ptr, op: number, pArg: Ptr): number };
    const zMain = this.mem.allocCString(schema);
    const pOut = raw.sqlite3_malloc(8);
    try {
      new Int32Array(this.mem.heap().buffer)[pOut >> 2] = 0;
      if (raw.sqlite3_file_control(db, zMain, SQLITE_FCNTL_FILE_POINTER, pOut) !== RC.OK) return undefined;
      const pFile = new Int32Array(this.mem.heap().buffer)[pOut >> 2];
      return pFile ? vfs.storageFileOf(pFile) : undefined;
    } finally {
      raw.sqlite3_free(pOut);
      raw.sqlite3_free(zMain);
    }
  }

  /** See SessionHost.ownershipError. */
  ownershipError(): string | undefined {
    for (const vfs of this.vfses.values()) {
      const e = vfs.takeLastError();
      if (e instanceof StorageError && e.code === 'in-use') return e.message;
    }
    return undefined;
  }

  private lastStorageError(): string | undefined {
    for (const vfs of this.vfses.values()) {
      const e = vfs.takeLastError();
      if (e) return e.message;
    }
    return undefined;
  }

}

/** The file path of a `file:` URI, or null for an in-memory one. */
function uriPath(uri: string): string | null {
  if (!uri.startsWith('file:')) return uri;
  const [rest, query = ''] = uri.slice(5).split('?', 2);
  if (/(^|&)mode=memory(&|$)/.test(query)) return null;
  let path = rest;
  if (path.startsWith('//')) path = path.slice(path.indexOf('/', 2));
  const p = decodeURIComponent(path);
  return p === '' || p === ':memory:' ? null : p;
}

/** Whether the database header says WAL mode (read/write versions 2). */
function walModeHeader(backend: StorageBackend, path: string): boolean {
  const f = backend.open(path, { create: false, readonly: true, deleteOnClose: false, kind: 'other' });
  try {
    const h = new Uint8Array(20);
    if (f.read(h, 0) < 20) return false;
    const magic = 'SQLite format 3';
    for (let i = 0; i < magic.length; i++) if (h[i] !== magic.charCodeAt(i)) return false;
    return h[18] === 2 || h[19] === 2;
  } finally {
    f.close();
  }
}
