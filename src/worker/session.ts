/**
 * A session: one logical connection's SQLite handle inside the engine.
 *
 * It executes statements and hands rows back in batches (the first batch rides
 * on the execute result, so a point query is one round trip), keeps a statement
 * cache, and turns SQLite errors into classified `EngineError`s. A statement
 * that meets SQLITE_BUSY is parked and retried when a lock is released, until
 * the connection's timeout runs out; users never see a spurious busy error.
 */
import {
  CallbackRegistry,
  type AggregateClass,
  type Authorizer,
  type CallbackErrorReporter,
  type Collation,
  type ProgressHandler,
  type ScalarFunction,
  type TraceCallback,
  type WindowClass,
} from './callbacks.js';
import { EngineError, kindForCode, programmingError, RC } from './engine-error.js';
import type { MvccFile } from '../mvcc/mvcc-backend.js';
import { StorageError } from '../vfs/backend.js';
import type { SessionPort } from './session-port.js';
import type { Ptr, RawExports, Sqlite3Static } from './sqlite-module.js';
import type { GroupCommitter } from './group-commit.js';
import { isDmlSql, Statement, StatementCache } from './statement.js';
import { ChangesetReplayer, conflictError, insertShapeOf, TxnRecorder, type FunctionInstaller } from './txn-rebase.js';
import { bindParams, COL_CONVERT, COL_MARK_REAL, COL_PLAIN, COL_TEXT_BYTES, readRow, type BindParams, type Cell, type SqlValue } from './values.js';
import type { VectorIndexes, VectorIndexOptions } from './vector-index.js';
import type { WasmMemory } from './wasm-memory.js';
import { mayHaveAsOf } from './as-of.js';
import type { HistoryAction, SessionVersions } from './time-travel.js';

export interface ColumnInfo {
  readonly name: string;
  readonly decltype: string | null;
}

/** State the API mirrors after every call, so its property getters stay synchronous. */
export interface SessionState {
  readonly inTransaction: boolean;
  readonly totalChanges: number;
}

export interface ExecOptions {
  /** Rows to return with the result; the rest are read with `fetch`. Default 256. */
  readonly batch?: number;
  /** Statement to run first when the connection is in autocommit mode and the statement is DML. */
  readonly implicitBegin?: string | null;
  /** Return TEXT values as bytes (text_factory other than str). */
  readonly textAsBytes?: boolean;
  /** PARSE_DECLTYPES (1) | PARSE_COLNAMES (2). */
  readonly detectTypes?: number;
  /** Registered converter names, upper-cased. */
  readonly converterNames?: readonly string[];
}

export interface ExecResult extends SessionState {
  /** Non-zero while more rows remain to fetch. */
  readonly cursorId: number;
  /** Column names and declared types; null for statements without result columns. */
  readonly columns: readonly ColumnInfo[] | null;
  /** Converter name per column (upper-cased), when types are detected. */
  readonly converters: readonly (string | null)[] | null;
  readonly rows: Cell[][];
  /** Changed rows for DML once the statement is done, else -1. */
  readonly rowcount: number;
  readonly lastrowid: number | bigint;
  readonly isDml: boolean;
}

export interface FetchResult extends SessionState {
  readonly rows: Cell[][];
  readonly done: boolean;
  /** Changed rows for DML once the statement is done, else -1. */
  readonly rowcount: number;
}

export interface BackupOptions {
  readonly pages: number;
  readonly name: string;
  /** Milliseconds to wait when the source is busy. */
  readonly sleepMs: number;
  readonly progress?: (status: number, remaining: number, total: number) => unknown;
}

/** What a session needs from its engine. */
export interface SessionHost {
  readonly sqlite3: Sqlite3Static;
  readonly raw: RawExports;
  readonly mem: WasmMemory;
  /** Resolves when some lock was released, or after a short poll interval. */
  waitForUnlock(deadline: number): Promise<void>;
  /** A macrotask turn to take before the next statement, when one is overdue. */
  maybeYield(): Promise<void> | undefined;
  /** Called when the session closes. */
  forget(session: Session): void;
  /** The engine's vector indexes. */
  readonly vectors: VectorIndexes;
  /** Why the last file open failed when another process owns that database (an ATTACH), if so. */
  ownershipError?(): string | undefined;
}

export type VectorIndexAction = 'create' | 'drop' | 'save' | 'list';

export const PARSE_DECLTYPES = 1;
export const PARSE_COLNAMES = 2;

interface OpenCursor {
  readonly st: Statement;
  readonly ncol: number;
  readonly modes: Uint8Array | null;
}

interface BackupExports extends RawExports {
  sqlite3_backup_init(dest: Ptr, zDest: Ptr, src: Ptr, zSrc: Ptr): Ptr;
  sqlite3_backup_step(b: Ptr, n: number): number;
  sqlite3_backup_remaining(b: Ptr): number;
  sqlite3_backup_pagecount(b: Ptr): number;
  sqlite3_backup_finish(b: Ptr): number;
  sqlite3_serialize(db: Ptr, zSchema: Ptr, piSize: Ptr, flags: number): Ptr;
  sqlite3_deserialize(db: Ptr, zSchema: Ptr, pData: Ptr, szDb: bigint, szBuf: bigint, flags: number): number;
  sqlite3_malloc64(n: bigint): Ptr;
}

const SQLITE_BUSY_SNAPSHOT = 517;
/** SQL whose effect is local to the connection (it then stops using the shared group writer). */
const LOCAL_SQL = /\b(ATTACH|DETACH|TEMP|TEMPORARY)\b/i;
/** A PRAGMA that sets something (`PRAGMA x = v` or `PRAGMA x(v)`); reads are harmless. */
const PRAGMA_SET = /\bPRAGMA\s+(?:\w+\.)?(\w+)\s*(?:=|\(\s*[^)\s])/gi;
/** Settings that cannot change what a grouped statement does. */
const HARMLESS_PRAGMAS = new Set([
  'synchronous', 'cache_size', 'busy_timeout', 'journal_mode', 'temp_store', 'mmap_size', 'cache_spill',
  'threads', 'analysis_limit', 'optimize', 'table_info', 'table_xinfo', 'index_list', 'index_info',
  'index_xinfo', 'foreign_key_list', 'integrity_check', 'quick_check', 'wal_checkpoint', 'page_count',
]);
const RETURNING = /\bRETURNING\b/i;
/** Cheap pre-check for a nearest-neighbour query the vector index may answer (see VectorIndexes.rewrite). */
const NEAREST_HINT = /ORDER\s+BY\s+vector_distance\b[\s\S]*\bLIMIT\b/i;
/** Schema changes: a transaction that starts with one writes as a plain (serialised) writer. */
const DDL = /^\s*(?:CREATE|DROP|ALTER)\b/i;
/** `RELEASE [SAVEPOINT] name`: the statement that ends a transaction begun by SAVEPOINT. */
const RELEASE = /^\s*RELEASE\s+(?:SAVEPOINT\s+)?(.+?)\s*;?\s*$/is;
const SQLITE_DESERIALIZE_FREEONCLOSE = 1;
const SQLITE_DESERIALIZE_RESIZEABLE = 2;
const DEFAULT_BATCH = 256;
/** sqlite3_stmt_status counter: times the statement was re-prepared (schema change). */
const SQLITE_STMTSTATUS_REPREPARE = 5;

/**
 * A commit that could not be made durable (the medium refused the flush: a
 * full disk or exhausted quota, an I/O error): the statement fails with the
 * OperationalError SQLite gives for the same condition.
 */
function durabilityError(e: unknown): EngineError {
  if (e instanceof EngineError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  if (e instanceof StorageError && e.code === 'no-space') {
    return new EngineError({ kind: 'OperationalError', message: `database or disk is full: ${detail}`, sqliteCode: 13, sqliteName: 'SQLITE_FULL' }, { cause: e });
  }
  return new EngineError({ kind: 'OperationalError', message: `disk I/O error: ${detail}`, sqliteCode: 10, sqliteName: 'SQLITE_IOERR' }, { cause: e });
}

function isBusy(e: unknown): boolean {
  return e instanceof EngineError && e.sqliteCode !== undefined && ((e.sqliteCode & 0xff) === RC.BUSY);
}

export class Session implements SessionPort {
  private db: Ptr;
  /** @internal */
  readonly raw: RawExports;
  /** @internal */
  readonly mem: WasmMemory;
  private readonly cache: StatementCache;
  private readonly cursors = new Map<number, OpenCursor>();
  private nextCursorId = 1;
  readonly callbacks: CallbackRegistry;
  /** Milliseconds a statement may wait for a lock before 'database is locked'. */
  timeoutMs: number;
  /** The MVCC view of the main database, when it has one. */
  private mvcc: MvccFile | null = null;
  /** Time travel and branches on this connection (set by the engine when the database supports them). */
  versionsOf: SessionVersions | null = null;

  /** @internal The MVCC file of the main database, if it has one. */
  get mvccFile(): MvccFile | null {
    return this.mvcc;
  }
  /** The storage the main database lives on ('node', 'opfs', 'idb', 'memory'). */
  storage = 'memory';
  /** The last of this session's commits known durable. */
  private ackedVersion = 0;

  constructor(
    private readonly host: SessionHost,
    db: Ptr,
    readonly filename: string,
    options: { timeoutMs: number; cachedStatements: number; reportCallbackError: CallbackErrorReporter },
  ) {
    this.db = db;
    this.handleId = db;
    this.raw = host.raw;
    this.mem = host.mem;
    this.timeoutMs = options.timeoutMs;
    this.cache = new StatementCache(this.raw, this.mem, () => this.db, options.cachedStatements, (rc) => this.error(rc));
    this.callbacks = new CallbackRegistry(host.sqlite3, this.raw, this.mem, db, options.reportCallbackError);
  }

  get closed(): boolean {
    return this.db === 0;
  }

  /**
   * Tags this connection's next commit with a client-chosen transaction id
   * (32 hex digits), recorded in the commit log; null clears the tag. A client
   * that re-sends a request after losing its engine asks `committed(tag)`.
   */
  tagCommit(txnId: string | null): void {
    if (this.mvcc !== null) this.mvcc.nextTxnId = txnId;
  }

  /** Whether a commit tagged `txnId` is known to this database. */
  committed(txnId: string): boolean {
    return this.mvcc !== null && this.mvcc.store.hasCommitted(txnId);
  }

  /** The identity of the database this session's `main` is (shared by the connections to it; a branch is one of its own). */
  get databaseKey(): string {
    if (this.mvcc === null) return `private:${this.handleId}`;
    const branch = this.mvcc.branch === 'main' ? '' : `#${this.mvcc.branch}`;
    return `${this.storage}:${this.mvcc.store.path}${branch}`;
  }

  /**
   * Time travel and branch operations (`versions()`, `create_branch()` …);
   * writes are acknowledged once durable.
   */
  async history(action: HistoryAction, args: unknown[]): Promise<unknown> {
    this.checkOpen();
    const v = this.versionsOf;
    if (v === null) {
      throw new EngineError({ kind: 'NotSupportedError', message: 'time travel and branches need a database on durable or memory:// storage (not :memory:)' });
    }
    if (action === 'restore') {
      const version = await this.retryBusy(() => v.restore(args[0]));
      const store = this.mvcc?.store;
      if (store !== undefined) await store.whenDurable(version).catch((e: unknown) => {
        throw durabilityError(e);
      });
      return version;
    }
    return v.run(action, args);
  }

  /** The handle this session was opened with (kept after close, for identity). */
  private readonly handleId: Ptr;

  /** SQLITE_TXN_NONE (0), _READ (1) or _WRITE (2) of the connection. */
  txnState(): number {
    return this.db === 0 ? 0 : this.raw.sqlite3_txn_state(this.db, 0);
  }

  /** Whether the connection was opened with `enable_vector_search`. */
  vectorSearch = false;

  /**
   * Work a SQL function asked for that cannot run while its statement does
   * (DDL and commits), run once the statement is done; an error fails the
   * statement's call.
   */
  private deferred: Array<() => void> = [];

  /**
   * Vector index management (`create_vector_index` & co.): create/drop/save
   * change the database (in a savepoint of the open transaction, if any) and
   * are acknowledged once durable.
   */
  async vectorIndex(action: VectorIndexAction, args: unknown[]): Promise<unknown> {
    this.checkOpen();
    const v = this.host.vectors;
    const result = await this.retryBusy(() => {
      this.checkVectorSearch();
      switch (action) {
        case 'create':
          return v.create(this, args[0] as string, args[1] as string, args[2] as string, (args[3] ?? {}) as VectorIndexOptions);
        case 'drop':
          return v.drop(this, args[0] as string);
        case 'save':
          return v.save(this, args[0] as string);
        case 'list':
          return v.list(this);
      }
    });
    await this.settleDurability();
    return result;
  }

  /** @internal Raises unless the connection was opened with `enable_vector_search`. */
  checkVectorSearch(): void {
    if (!this.vectorSearch) {
      throw new EngineError({ kind: 'ProgrammingError', message: 'vector search is not enabled on this connection: connect with { enable_vector_search: true }' });
    }
  }

  /** @internal */
  defer(fn: () => void): void {
    this.deferred.push(fn);
  }

  private runDeferred(): void {
    const work = this.deferred;
    this.deferred = [];
    for (const fn of work) fn();
  }

  /** @internal Binds the session to its database's MVCC file (set by the engine at open). */
  attachMvcc(file: MvccFile, internal: boolean): void {
    this.mvcc = file;
    this.countsAsUser = !internal;
    if (this.countsAsUser) file.store.userConnections++;
  }

  private countsAsUser = false;

  /** Waits until this session's commits are durable (group commit: one flush serves many). */
  private settleDurability(): Promise<void> | undefined {
    const f = this.mvcc;
    if (f === null) return undefined;
    const v = f.lastDurableCommit;
    if (v <= this.ackedVersion) return undefined;
    if (f.store.isDurable(v)) {
      this.ackedVersion = v;
      return undefined;
    }
    return f.store.whenDurable(v).then(
      () => {
        if (v > this.ackedVersion) this.ackedVersion = v;
      },
      (e: unknown) => {
        throw durabilityError(e);
      },
    );
  }

  /** The raw `sqlite3*` handle (for engine-internal use: backup, hooks). */
  get handle(): Ptr {
    this.checkOpen();
    return this.db;
  }

  private checkOpen(): void {
    if (this.db === 0) throw programmingError('Cannot operate on a closed database.');
  }

  /** Builds the error for result code `rc` from the connection's error state. */
  error(rc: number): EngineError {
    const ext = this.db ? this.raw.sqlite3_extended_errcode(this.db) : rc;
    const code = (ext & 0xff) === (rc & 0xff) ? ext : rc;
    let message = (this.db ? this.mem.cstr(this.raw.sqlite3_errmsg(this.db)) : null) ?? `SQLite error ${rc}`;
    // Another program wrote the file under us (mvcc/foreign-guard.ts): say so, not just "disk I/O error".
    const foreign = (code & 0xff) === RC.IOERR ? this.mvcc?.store.guard?.error : undefined;
    if (foreign) message = `${message}: ${foreign.message}`;
    // An ATTACHed database that another process owns (vfs/owner-lock.ts): name the owner.
    const owned = (code & 0xff) === RC.CANTOPEN ? this.host.ownershipError?.() : undefined;
    if (owned) message = `${message}: ${owned}`;
    // A table read AS OF is one of the connection's past-version schemas: name the version instead.
    if (this.versionsOf !== null && message.includes('heliosdb_asof_')) message = this.versionsOf.explain(message);
    return new EngineError({
      kind: kindForCode(code),
      message: (code & 0xff) === RC.BUSY ? 'database is locked' : message,
      sqliteCode: code,
      sqliteName: this.codeName(code),
    });
  }

  private codeName(code: number): string {
    const f = (this.host.sqlite3.capi as unknown as { sqlite3_js_rc_str(rc: number): string | undefined }).sqlite3_js_rc_str;
    return f(code) ?? `SQLITE_UNKNOWN_${code}`;
  }

  state(): SessionState {
    if (this.db === 0) return { inTransaction: false, totalChanges: 0 };
    return {
      inTransaction: this.raw.sqlite3_get_autocommit(this.db) === 0,
      totalChanges: Number(this.raw.sqlite3_total_changes64(this.db)) + this.groupedChanges,
    };
  }

  // ---- group commit -------------------------------------------------------------

  /** Where this session's groupable statements go (set by the engine for file databases). */
  private group: GroupCommitter | null = null;
  /** Set once the connection has state of its own that a shared writer would not have. */
  private localState = false;
  private groupedChanges = 0;
  private groupedRowid: number | bigint | null = null;
  private groupedBaseline = 0n;

  /** @internal */
  attachGroup(group: GroupCommitter): void {
    this.group = group;
  }

  /** Marks the connection as having state of its own (callbacks, PRAGMAs, TEMP or attached schemas). */
  private markLocal(): void {
    this.localState = true;
  }

  /** Whether this statement may run in a group: its result cannot depend on this connection. */
  private groupable(sql: string, opts: ExecOptions): boolean {
    // A tagged commit must carry its own transaction id (see tagCommit).
    if (this.group === null || this.localState || opts.implicitBegin || this.mvcc?.nextTxnId) return false;
    // An open cursor holds this connection's snapshot: its next reads must see its own writes.
    if (this.raw.sqlite3_get_autocommit(this.db) === 0 || this.cursors.size > 0) return false;
    return isDmlSql(sql) && !RETURNING.test(sql);
  }

  private noteLocalSql(sql: string): void {
    if (!this.localSchemas && LOCAL_SQL.test(sql)) {
      this.localSchemas = true;
      this.localState = true;
      return;
    }
    if (this.localState) return;
    for (const m of sql.matchAll(PRAGMA_SET)) {
      if (!HARMLESS_PRAGMAS.has(m[1].toLowerCase())) {
        this.localState = true;
        return;
      }
    }
  }

  private async executeGrouped(sql: string, params: BindParams | undefined): Promise<ExecResult> {
    const group = this.group as GroupCommitter;
    const r = await group.submit(sql, params, this.timeoutMs);
    this.groupedChanges += r.changes;
    this.groupedRowid = r.lastrowid;
    this.groupedBaseline = this.raw.sqlite3_last_insert_rowid(this.db);
    return { cursorId: 0, columns: null, converters: null, rows: [], rowcount: r.changes, lastrowid: r.lastrowid, isDml: true, ...this.state() };
  }

  /** @internal Runs one statement to completion for the group committer; returns its own changes and rowid. */
  runGrouped(sql: string, params: BindParams | undefined): { changes: number; lastrowid: number | bigint } {
    this.checkOpen();
    const st = this.cache.acquire(sql);
    if (st === null) return { changes: 0, lastrowid: this.lastInsertRowid() };
    try {
      bindParams(this.raw, this.mem, st.ptr, params);
      for (;;) {
        const rc = this.raw.sqlite3_step(st.ptr);
        if (rc === RC.ROW) continue;
        if (rc === RC.DONE) break;
        throw this.error(rc);
      }
      return { changes: Number(this.raw.sqlite3_changes64(this.db)), lastrowid: this.lastInsertRowid() };
    } finally {
      this.cache.release(st);
    }
  }

  /**
   * Runs `op` and, while it fails with SQLITE_BUSY, waits for a lock release and
   * runs it again, until the timeout; then raises 'database is locked'. A
   * concurrent transaction whose commit met a newer version is replayed on it
   * first (`sqlOf` names the statement, for RELEASE).
   */
  private async retryBusy<T>(op: () => T, sqlOf?: () => string | null): Promise<T> {
    try {
      let deadline = 0;
      for (;;) {
        try {
          return op();
        } catch (e) {
          if (!isBusy(e)) throw e;
          this.checkStale(e);
        }
        if (this.replayIfStale(sqlOf)) continue;
        if (deadline === 0) deadline = Date.now() + this.timeoutMs;
        if (Date.now() >= deadline) {
          throw new EngineError({ kind: 'OperationalError', message: 'database is locked', sqliteCode: RC.BUSY, sqliteName: 'SQLITE_BUSY' });
        }
        // A lone statement that met a stale snapshot has already released it: run it again at once.
        if (!this.staleRetry) await this.host.waitForUnlock(deadline);
        this.staleRetry = false;
        this.checkOpen();
      }
    } finally {
      if (this.txn !== null && (this.db === 0 || this.raw.sqlite3_get_autocommit(this.db) !== 0)) this.endTxn();
    }
  }

  // ---- concurrent write transactions (see txn-rebase.ts) --------------------------

  /** The row-change recorder of the open explicit write transaction, if it runs concurrently. */
  private txn: TxnRecorder | null = null;
  private replayer: ChangesetReplayer | null = null;
  /** Set once the connection has attached or TEMP schemas (their writes are not recorded). */
  private localSchemas = false;

  /**
   * Before a statement runs: the first write of an explicit transaction starts
   * recording its row changes, so that it can write beside other writers and
   * be replayed at commit if one of them commits first.
   */
  private trackWrites(stmt: Ptr, sql?: string): void {
    const f = this.mvcc;
    if (f === null) return;
    const raw = this.raw;
    if (raw.sqlite3_get_autocommit(this.db) !== 0) {
      if (this.txn !== null) this.endTxn();
      return;
    }
    if (this.txn !== null) {
      this.noteInsert(this.txn, stmt, sql);
      return;
    }
    // Alone on the database, nobody can commit in between: take the write lock directly (no recording cost).
    if (f.writing || f.store.userConnections < 2 || this.localSchemas || raw.sqlite3_stmt_readonly(stmt)) return;
    if (DDL.test(this.mem.cstr(raw.sqlite3_sql(stmt)) ?? '')) return;
    this.txn = TxnRecorder.start(raw, this.mem, this.db, this.queryInt('PRAGMA main.schema_version'));
    if (this.txn === null) return;
    f.concurrent = true;
    this.noteInsert(this.txn, stmt, sql);
  }

  /** Remembers the INSERTs a recorded transaction runs (whether they choose their keys). */
  private noteInsert(txn: TxnRecorder, stmt: Ptr, known?: string): void {
    const sql = known ?? this.mem.cstr(this.raw.sqlite3_sql(stmt)) ?? '';
    if (!txn.inserts.has(sql) && !this.raw.sqlite3_stmt_readonly(stmt)) txn.inserts.set(sql, insertShapeOf(sql));
  }

  private endTxn(): void {
    this.txn?.dispose();
    this.txn = null;
    if (this.mvcc !== null) this.mvcc.concurrent = false;
  }

  /**
   * A concurrent transaction's commit found a newer version (and a free commit
   * slot): roll it back, begin again on the latest version and replay its row
   * changes there, all synchronously so nothing commits in between. The caller
   * then runs the commit statement again. Throws a retryable conflict when the
   * changes collide with what committed meanwhile.
   */
  private replayIfStale(sqlOf?: () => string | null): boolean {
    const f = this.mvcc;
    const txn = this.txn;
    if (f === null || txn === null || !f.isStale() || f.reservedByOther()) return false;
    const raw = this.raw;
    const release = RELEASE.exec(sqlOf?.() ?? '');
    this.replayer ??= new ChangesetReplayer(raw, this.mem, this.host.sqlite3.wasm as unknown as FunctionInstaller, this.db, (q, p) =>
      this.queryRows(q, p),
    );
    const replayer = this.replayer;
    const changes = txn.changeset();
    const keys = replayer.analyse(changes, txn.inserts.values());
    const schemaNow = this.queryInt('PRAGMA main.schema_version');
    const lastRowid = raw.sqlite3_last_insert_rowid(this.db);
    for (const id of [...this.cursors.keys()]) this.closeCursor(id);
    this.endTxn();
    this.execSimple('ROLLBACK');
    if (schemaNow !== txn.schemaVersion) throw conflictError('this transaction changed the schema while another connection committed');
    this.execSimple(release ? `SAVEPOINT ${release[1]}` : 'BEGIN');
    try {
      if (this.queryInt('PRAGMA main.schema_version') !== txn.schemaVersion) throw conflictError('another connection changed the schema');
      const moved = replayer.apply(changes, keys);
      let last = lastRowid;
      for (const m of moved.values()) last = m.get(lastRowid) ?? last;
      (raw as RawExports & { sqlite3_set_last_insert_rowid(db: Ptr, v: bigint): void }).sqlite3_set_last_insert_rowid(this.db, last);
    } catch (e) {
      this.execSimple('ROLLBACK');
      throw e;
    }
    return true;
  }

  /** @internal Runs an internal query on this connection (reentrant: also from inside a statement) and returns its rows. */
  queryRows(sql: string, params: readonly SqlValue[] = []): SqlValue[][] {
    const st = this.cache.acquire(sql);
    if (st === null) return [];
    try {
      bindParams(this.raw, this.mem, st.ptr, params);
      const rows: SqlValue[][] = [];
      const ncol = this.raw.sqlite3_column_count(st.ptr);
      for (;;) {
        const rc = this.raw.sqlite3_step(st.ptr);
        if (rc === RC.ROW) rows.push(readRow(this.raw, this.mem, st.ptr, ncol, null) as SqlValue[]);
        else if (rc === RC.DONE) return rows;
        else throw this.error(rc);
      }
    } finally {
      this.cache.release(st);
    }
  }

  private queryInt(sql: string): number {
    return Number(this.queryRows(sql)[0]?.[0] ?? 0);
  }

  private staleRetry = false;

  /**
   * SQLITE_BUSY_SNAPSHOT: another connection committed after this one's read
   * snapshot was taken, so it may not write on top of it. A statement outside
   * an explicit transaction simply runs again on the latest version; inside
   * one, the transaction must restart: a retryable conflict.
   */
  private checkStale(e: unknown): void {
    if (!(e instanceof EngineError) || e.sqliteCode !== SQLITE_BUSY_SNAPSHOT) return;
    if (this.raw.sqlite3_get_autocommit(this.db)) {
      this.staleRetry = true;
      return;
    }
    throw new EngineError({
      kind: 'OperationalError',
      message: 'could not serialize access: another connection committed since this transaction began; retry the transaction',
      sqliteCode: SQLITE_BUSY_SNAPSHOT,
      sqliteName: 'SQLITE_BUSY_SNAPSHOT',
      retryable: true,
    });
  }

  private columns(st: Statement, ncol: number, opts: ExecOptions): { columns: ColumnInfo[]; converters: (string | null)[] | null } {
    const raw = this.raw;
    const detect = opts.detectTypes ?? 0;
    // Without type detection the columns depend only on the prepared program:
    // reuse the last ones read until SQLite re-prepares the statement.
    const reprepares = detect === 0 ? raw.sqlite3_stmt_status(st.ptr, SQLITE_STMTSTATUS_REPREPARE, 0) : -1;
    const known = st.columnInfo;
    if (detect === 0 && known !== null && known.reprepares === reprepares && known.columns.length === ncol) {
      return { columns: known.columns, converters: null };
    }
    const columns: ColumnInfo[] = new Array<ColumnInfo>(ncol);
    const converters: (string | null)[] | null = detect && opts.converterNames?.length ? new Array<string | null>(ncol).fill(null) : null;
    for (let i = 0; i < ncol; i++) {
      let name = this.mem.cstr(raw.sqlite3_column_name(st.ptr, i)) ?? '';
      const decltype = this.mem.cstr(raw.sqlite3_column_decltype(st.ptr, i));
      if (detect & PARSE_COLNAMES) {
        const open = name.indexOf('[');
        if (open >= 0) {
          const close = name.indexOf(']', open + 1);
          if (converters && close > open) {
            const key = name.slice(open + 1, close).toUpperCase();
            if (opts.converterNames?.includes(key)) converters[i] = key;
          }
          name = name.slice(0, open).trimEnd();
        }
      }
      if (converters && converters[i] === null && detect & PARSE_DECLTYPES && decltype) {
        const key = /^[^\s(]*/.exec(decltype)?.[0].toUpperCase() ?? '';
        if (opts.converterNames?.includes(key)) converters[i] = key;
      }
      columns[i] = { name, decltype };
    }
    if (detect === 0) st.columnInfo = { reprepares, columns };
    return { columns, converters };
  }

  /** Steps up to `max` rows into `rows`; returns true when the statement is done. */
  private stepRows(st: Statement, ncol: number, modes: Uint8Array | null, max: number, rows: Cell[][]): boolean {
    const raw = this.raw;
    for (let n = 0; n < max; n++) {
      const rc = raw.sqlite3_step(st.ptr);
      if (rc === RC.ROW) {
        rows.push(readRow(raw, this.mem, st.ptr, ncol, modes));
        continue;
      }
      if (rc === RC.DONE) return true;
      const err = this.error(rc);
      raw.sqlite3_reset(st.ptr);
      throw err;
    }
    return false;
  }

  /** Executes one statement and returns its first batch of rows. */
  async execute(sql: string, params: BindParams | undefined, opts: ExecOptions = {}): Promise<ExecResult> {
    this.checkOpen();
    const turn = this.host.maybeYield();
    if (turn) await turn;
    if (this.versionsOf !== null && mayHaveAsOf(sql)) sql = this.versionsOf.rewrite(sql);
    if (this.group !== null) {
      if (this.groupable(sql, opts)) return this.executeGrouped(sql, params);
      this.noteLocalSql(sql);
    }
    // `ORDER BY vector_distance(col, ?, m) LIMIT k` on an indexed column reads the index.
    if (this.vectorSearch && NEAREST_HINT.test(sql)) sql = this.host.vectors.rewrite(this, sql) ?? sql;
    const st = this.cache.acquire(sql);
    if (st === null) return this.emptyResult();
    let owned = true;
    try {
      bindParams(this.raw, this.mem, st.ptr, params);
      if (opts.implicitBegin && st.isDml && this.raw.sqlite3_get_autocommit(this.db)) {
        await this.retryBusy(() => this.execSimple(opts.implicitBegin as string));
      }
      let ncol = 0;
      // (Assigned in the closure below; the casts keep TypeScript from narrowing them to null.)
      let meta = null as { columns: ColumnInfo[]; converters: (string | null)[] | null } | null;
      let modes = null as Uint8Array | null;
      const rows: Cell[][] = [];
      const batch = opts.batch ?? DEFAULT_BATCH;
      this.trackWrites(st.ptr, sql);
      const done = await this.retryBusy(() => {
        rows.length = 0;
        // Columns are read after the first step: a statement prepared before a
        // schema change (SELECT * after ALTER TABLE) is re-prepared by
        // sqlite3_step, and only then are its column count and names current.
        const rc = this.raw.sqlite3_step(st.ptr);
        if (rc !== RC.ROW && rc !== RC.DONE) {
          const err = this.error(rc);
          this.raw.sqlite3_reset(st.ptr);
          throw err;
        }
        ncol = this.raw.sqlite3_column_count(st.ptr);
        meta = ncol > 0 ? this.columns(st, ncol, opts) : null;
        modes = this.columnModes(ncol, opts, meta?.converters ?? null);
        if (rc === RC.DONE) return true;
        rows.push(readRow(this.raw, this.mem, st.ptr, ncol, modes));
        return this.stepRows(st, ncol, modes, Math.max(1, batch) - 1, rows);
      }, () => sql);
      if (done && this.deferred.length > 0) this.runDeferred();
      const lastrowid = this.lastInsertRowid();
      const rowcount = st.isDml && done ? Number(this.raw.sqlite3_changes64(this.db)) : -1;
      let cursorId = 0;
      if (!done) {
        st.inUse = true;
        cursorId = this.nextCursorId++;
        this.cursors.set(cursorId, { st, ncol, modes });
        owned = false;
      }
      const durable = this.settleDurability();
      if (durable) await durable;
      return {
        cursorId,
        columns: meta?.columns ?? null,
        converters: meta?.converters ?? null,
        rows,
        rowcount,
        lastrowid,
        isDml: st.isDml,
        ...this.state(),
      };
    } finally {
      if (owned) this.cache.release(st);
    }
  }

  private columnModes(ncol: number, opts: ExecOptions, converters: readonly (string | null)[] | null): Uint8Array | null {
    if (!opts.textAsBytes && !converters && !this.markReals) return null;
    const out = new Uint8Array(ncol);
    const mark = this.markReals ? COL_MARK_REAL : 0;
    for (let i = 0; i < ncol; i++) {
      out[i] = (converters?.[i] != null ? COL_CONVERT : opts.textAsBytes ? COL_TEXT_BYTES : COL_PLAIN) | mark;
    }
    return out;
  }

  /**
   * @internal For the shell (in-process only): REAL values come back as
   * `{ real: n }` cells, so that it prints 1.0 as SQLite does, not as 1.
   */
  markReals = false;

  private lastInsertRowid(): number | bigint {
    const b = this.raw.sqlite3_last_insert_rowid(this.db);
    // A grouped insert ran on the shared writer: it stays this connection's
    // last rowid until the connection inserts something itself.
    if (this.groupedRowid !== null) {
      if (b === this.groupedBaseline) return this.groupedRowid;
      this.groupedRowid = null;
    }
    return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
  }

  private emptyResult(): ExecResult {
    return { cursorId: 0, columns: null, converters: null, rows: [], rowcount: -1, lastrowid: this.lastInsertRowid(), isDml: false, ...this.state() };
  }

  /** Reads up to `n` more rows of an open cursor. */
  fetch(cursorId: number, n: number): FetchResult {
    this.checkOpen();
    const c = this.cursors.get(cursorId);
    if (!c) return { rows: [], done: true, rowcount: -1, ...this.state() };
    const rows: Cell[][] = [];
    let done: boolean;
    try {
      done = this.stepRows(c.st, c.ncol, c.modes, Math.max(1, n), rows);
    } catch (e) {
      this.closeCursor(cursorId);
      throw e;
    }
    let rowcount = -1;
    if (done) {
      if (c.st.isDml) rowcount = Number(this.raw.sqlite3_changes64(this.db));
      this.closeCursor(cursorId);
    }
    return { rows, done, rowcount, ...this.state() };
  }

  /** Releases an open cursor's statement (resetting it drops its read lock). */
  closeCursor(cursorId: number): void {
    const c = this.cursors.get(cursorId);
    if (!c) return;
    this.cursors.delete(cursorId);
    if (this.db !== 0) this.cache.release(c.st);
  }

  /** Runs one DML statement once per parameter set (the `sqlite3` module's executemany). */
  async executemany(sql: string, seq: Iterable<BindParams>, opts: ExecOptions = {}): Promise<ExecResult> {
    this.checkOpen();
    if (this.versionsOf !== null && mayHaveAsOf(sql)) sql = this.versionsOf.rewrite(sql);
    const st = this.cache.acquire(sql);
    if (st === null) return this.emptyResult();
    try {
      if (!st.isDml) throw programmingError('executemany() can only execute DML statements.');
      let changes = 0;
      for (const params of seq) {
        this.raw.sqlite3_reset(st.ptr);
        bindParams(this.raw, this.mem, st.ptr, params);
        if (opts.implicitBegin && this.raw.sqlite3_get_autocommit(this.db)) {
          await this.retryBusy(() => this.execSimple(opts.implicitBegin as string));
        }
        this.trackWrites(st.ptr, sql);
        await this.retryBusy(() => {
          const rc = this.raw.sqlite3_step(st.ptr);
          if (rc === RC.DONE || rc === RC.ROW) return;
          const err = this.error(rc);
          this.raw.sqlite3_reset(st.ptr);
          throw err;
        });
        changes += Number(this.raw.sqlite3_changes64(this.db));
      }
      await this.settleDurability();
      return { ...this.emptyResult(), rowcount: changes, isDml: true };
    } finally {
      this.cache.release(st);
    }
  }

  /** Runs a statement to completion, discarding rows (BEGIN, COMMIT, PRAGMA…). */
  execSimple(sql: string): void {
    this.checkOpen();
    const st = this.cache.acquire(sql);
    if (st === null) return;
    try {
      for (;;) {
        const rc = this.raw.sqlite3_step(st.ptr);
        if (rc === RC.ROW) continue;
        if (rc === RC.DONE) return;
        throw this.error(rc);
      }
    } finally {
      this.cache.release(st);
    }
  }

  /** Runs every statement of a script, in order, outside the statement cache. */
  async executescript(script: string): Promise<SessionState> {
    this.checkOpen();
    if (this.versionsOf !== null && mayHaveAsOf(script)) script = this.versionsOf.rewrite(script);
    this.noteLocalSql(script);
    const raw = this.raw;
    const zScript = this.mem.allocCString(script);
    const outs = raw.sqlite3_malloc(8);
    try {
      const end = zScript + new TextEncoder().encode(script).length;
      let p = zScript;
      while (p < end) {
        const heap32 = new Int32Array(this.mem.heap().buffer);
        heap32[outs >> 2] = 0;
        heap32[(outs >> 2) + 1] = 0;
        const rc = raw.sqlite3_prepare_v3(this.db, p, end - p, 0, outs, outs + 4);
        const h = new Int32Array(this.mem.heap().buffer);
        const stmt = h[outs >> 2];
        const tail = h[(outs >> 2) + 1];
        if (rc !== RC.OK) throw this.error(rc);
        if (stmt) {
          try {
            this.trackWrites(stmt);
            await this.retryBusy(() => {
              for (;;) {
                const src = raw.sqlite3_step(stmt);
                if (src === RC.ROW) continue;
                if (src === RC.DONE) return;
                const err = this.error(src);
                raw.sqlite3_reset(stmt);
                throw err;
              }
            }, () => this.mem.cstr(raw.sqlite3_sql(stmt)));
          } finally {
            raw.sqlite3_finalize(stmt);
          }
          if (this.deferred.length > 0) this.runDeferred();
        }
        if (tail <= p) break;
        p = tail;
      }
    } finally {
      raw.sqlite3_free(outs);
      raw.sqlite3_free(zScript);
      // Statements that committed before a failure are acknowledged durable too.
      await this.settleDurability();
    }
    return this.state();
  }

  /** Runs a transaction-control statement (waits for locks like any statement). */
  async control(sql: string): Promise<SessionState> {
    await this.retryBusy(() => this.execSimple(sql), () => sql);
    await this.settleDurability();
    return this.state();
  }

  async commit(): Promise<SessionState> {
    this.checkOpen();
    if (this.raw.sqlite3_get_autocommit(this.db) === 0) await this.control('COMMIT');
    return this.state();
  }

  async rollback(): Promise<SessionState> {
    this.checkOpen();
    if (this.raw.sqlite3_get_autocommit(this.db) === 0) {
      // Open read cursors would keep the rollback from releasing locks; reset them first.
      for (const id of [...this.cursors.keys()]) this.closeCursor(id);
      await this.control('ROLLBACK');
    }
    return this.state();
  }

  interrupt(): void {
    if (this.db !== 0) this.raw.sqlite3_interrupt(this.db);
  }

  getLimit(category: number): number {
    this.checkOpen();
    const v = this.raw.sqlite3_limit(this.db, category, -1);
    if (v < 0) throw programmingError("'category' is out of bounds");
    return v;
  }

  setLimit(category: number, value: number): number {
    this.checkOpen();
    this.markLocal();
    const old = this.raw.sqlite3_limit(this.db, category, value);
    if (old < 0) throw programmingError("'category' is out of bounds");
    return old;
  }

  setCachedStatements(n: number): void {
    this.cache.setCapacity(n);
  }

  createFunction(name: string, nArg: number, fn: ScalarFunction | null, deterministic: boolean): void {
    this.checkOpen();
    this.markLocal();
    this.callbacks.createFunction(name, nArg, fn, deterministic);
  }

  createAggregate(name: string, nArg: number, cls: AggregateClass | null): void {
    this.checkOpen();
    this.markLocal();
    this.callbacks.createAggregate(name, nArg, cls);
  }

  createWindowFunction(name: string, nArg: number, cls: WindowClass | null): void {
    this.checkOpen();
    this.markLocal();
    this.callbacks.createWindowFunction(name, nArg, cls);
  }

  createCollation(name: string, fn: Collation | null): void {
    this.checkOpen();
    this.markLocal();
    this.callbacks.createCollation(name, fn);
  }

  setAuthorizer(fn: Authorizer | null): void {
    this.checkOpen();
    this.markLocal();
    this.callbacks.setAuthorizer(fn);
  }

  setProgressHandler(fn: ProgressHandler | null, n: number): void {
    this.checkOpen();
    this.markLocal();
    this.callbacks.setProgressHandler(fn, n);
  }

  setTraceCallback(fn: TraceCallback | null): void {
    this.checkOpen();
    this.markLocal();
    this.callbacks.setTraceCallback(fn);
  }

  /** The database `name` as the bytes of a SQLite file. */
  serialize(name = 'main'): Uint8Array {
    this.checkOpen();
    const raw = this.raw as BackupExports;
    const z = this.mem.allocCString(name);
    const pSize = raw.sqlite3_malloc(8);
    try {
      const p = raw.sqlite3_serialize(this.db, z, pSize, 0);
      if (!p) {
        // An empty database serializes to nothing; a missing schema is an error.
        const size = new BigInt64Array(this.mem.heap().buffer, pSize, 1)[0];
        if (size === 0n && this.schemaExists(name)) return new Uint8Array(0);
        throw new EngineError({ kind: 'OperationalError', message: `unable to serialize '${name}'` });
      }
      const size = Number(new BigInt64Array(this.mem.heap().buffer, pSize, 1)[0]);
      const out = this.mem.bytes(p, size);
      raw.sqlite3_free(p);
      return out;
    } finally {
      raw.sqlite3_free(pSize);
      raw.sqlite3_free(z);
    }
  }

  private schemaExists(name: string): boolean {
    const r = this.listSchemas();
    return r.includes(name);
  }

  private listSchemas(): string[] {
    const st = this.cache.acquire('PRAGMA database_list');
    if (!st) return [];
    const names: string[] = [];
    try {
      while (this.raw.sqlite3_step(st.ptr) === RC.ROW) names.push(this.mem.cstr(this.raw.sqlite3_column_text(st.ptr, 1)) ?? '');
    } finally {
      this.cache.release(st);
    }
    return names;
  }

  /** Replaces database `name` with the given SQLite file image (held in memory). */
  deserialize(data: Uint8Array, name = 'main'): SessionState {
    this.checkOpen();
    this.markLocal();
    const raw = this.raw as BackupExports;
    for (const id of [...this.cursors.keys()]) this.closeCursor(id);
    this.cache.resetAll();
    const p = raw.sqlite3_malloc64(BigInt(Math.max(1, data.length)));
    if (!p) throw new EngineError({ kind: 'OperationalError', message: 'out of memory deserializing the database' });
    this.mem.heap().set(data, p);
    const z = this.mem.allocCString(name);
    try {
      const n = BigInt(data.length);
      const rc = raw.sqlite3_deserialize(this.db, z, p, n, n, SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
      if (rc !== RC.OK) throw this.error(rc);
    } finally {
      raw.sqlite3_free(z);
    }
    return this.state();
  }

  /** Copies database `opts.name` of this session into `target`'s main database. */
  async backup(targetPort: SessionPort, opts: BackupOptions): Promise<void> {
    this.checkOpen();
    if (!(targetPort instanceof Session)) {
      throw new EngineError({ kind: 'NotSupportedError', message: 'backup target must be a connection of the same engine' });
    }
    const target = targetPort;
    target.checkOpen();
    const raw = this.raw as BackupExports;
    const zDest = this.mem.allocCString('main');
    const zSrc = this.mem.allocCString(opts.name);
    let b: Ptr;
    try {
      b = raw.sqlite3_backup_init(target.db, zDest, this.db, zSrc);
    } finally {
      raw.sqlite3_free(zDest);
      raw.sqlite3_free(zSrc);
    }
    if (!b) throw target.error(raw.sqlite3_errcode(target.db));
    let rc: number = RC.OK;
    try {
      const pages = opts.pages === 0 ? -1 : opts.pages;
      do {
        rc = raw.sqlite3_backup_step(b, pages);
        if (opts.progress) {
          opts.progress(rc, raw.sqlite3_backup_remaining(b), raw.sqlite3_backup_pagecount(b));
        }
        if (rc === RC.BUSY || rc === RC.LOCKED) {
          await new Promise((r) => setTimeout(r, Math.max(0, opts.sleepMs)));
        } else if (rc === RC.OK) {
          // Yield between steps so other work on the engine can proceed.
          await Promise.resolve();
        }
      } while (rc === RC.OK || rc === RC.BUSY || rc === RC.LOCKED);
    } finally {
      const frc = raw.sqlite3_backup_finish(b);
      if (rc === RC.DONE && frc !== RC.OK) rc = frc;
    }
    if (rc !== RC.DONE) throw target.error(raw.sqlite3_errcode(target.db) || rc);
  }

  /** Closes the handle; open cursors and cached statements are finalized first. */
  close(): void {
    if (this.db === 0) return;
    for (const id of [...this.cursors.keys()]) this.closeCursor(id);
    this.endTxn();
    if (this.countsAsUser && this.mvcc !== null) this.mvcc.store.userConnections--;
    this.countsAsUser = false;
    this.cache.clear();
    this.mem.scratch(0);
    this.raw.sqlite3_close_v2(this.db);
    this.db = 0;
    this.callbacks.dispose();
    this.host.forget(this);
  }
}
