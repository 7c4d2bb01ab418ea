/**
 * `Connection`: the `sqlite3` module's connection, async. Transaction control
 * follows the module exactly: with `autocommit` left at
 * LEGACY_TRANSACTION_CONTROL, `isolation_level` decides whether DML statements
 * open a transaction implicitly; `autocommit = true` is SQLite's own autocommit;
 * `autocommit = false` keeps a transaction always open (PEP 249).
 */
import type { AggregateClass, Authorizer, Collation, ProgressHandler, ScalarFunction, TraceCallback, WindowClass } from '../worker/callbacks.js';
import type { SessionState } from '../worker/session.js';
import type { VectorIndexOptions } from '../worker/vector-index.js';
import type { BranchRow, DiffReport, HistoryAction, VersionRow } from '../worker/time-travel.js';
import type { MergeReport } from '../worker/branch-merge.js';
import type { SessionPort } from '../worker/session-port.js';
import type { BindParams } from '../worker/values.js';
import { Cursor, type RowFactory } from './cursor.js';
import { iterdump as dumpLines } from './dump.js';
import * as errors from './errors.js';
import { ConflictError, NotSupportedError, OperationalError, ProgrammingError, translate } from './errors.js';

/** The `autocommit` value that selects the module's legacy (isolation_level) behaviour. */
export const LEGACY_TRANSACTION_CONTROL = -1;

export type IsolationLevel = '' | 'DEFERRED' | 'IMMEDIATE' | 'EXCLUSIVE';
export type AutocommitMode = boolean | typeof LEGACY_TRANSACTION_CONTROL;
/** A text factory: String (the default), Uint8Array (bytes), or a function of the UTF-8 bytes. */
export type TextFactory = StringConstructor | Uint8ArrayConstructor | ((bytes: Uint8Array) => unknown);

export interface BackupOptions {
  /** Pages to copy per step; 0 or negative copies everything in one step. */
  pages?: number;
  /** Called after each step with (status, remaining, total). */
  progress?: ((status: number, remaining: number, total: number) => unknown) | null;
  /** The database to copy: 'main' (default), 'temp', or an attached name. */
  name?: string;
  /** Seconds to sleep between retries when the source is busy (default 0.25). */
  sleep?: number;
}

/** Options a Connection is built with (resolved by `connect`). */
export interface ConnectionSettings {
  readonly database: string;
  readonly isolationLevel: IsolationLevel | null;
  readonly autocommit: AutocommitMode;
  readonly detectTypes: number;
  /** The storage the database lives on ('node', 'opfs', 'idb', 'memory'). */
  readonly storage?: string;
}

const ISOLATION_LEVELS: readonly string[] = ['', 'DEFERRED', 'IMMEDIATE', 'EXCLUSIVE'];

export function checkIsolationLevel(v: unknown): IsolationLevel | null {
  if (v === null) return null;
  if (typeof v !== 'string' || !ISOLATION_LEVELS.includes(v.toUpperCase())) {
    throw new ProgrammingError("isolation_level string must be '', 'DEFERRED', 'IMMEDIATE', or 'EXCLUSIVE'");
  }
  return v.toUpperCase() as IsolationLevel;
}

function checkAutocommit(v: unknown): AutocommitMode {
  if (v === true || v === false || v === LEGACY_TRANSACTION_CONTROL) return v;
  throw new ProgrammingError("autocommit must be True, False, or sqlite3.LEGACY_TRANSACTION_CONTROL");
}

export class Connection implements AsyncDisposable {
  /** Row factory applied to cursors created from now on. */
  row_factory: RowFactory | null = null;
  /** How TEXT values are returned. */
  text_factory: TextFactory = String;

  // The DB-API exception classes, also reachable from the connection.
  readonly Warning = errors.Warning;
  readonly Error = errors.Error;
  readonly InterfaceError = errors.InterfaceError;
  readonly DatabaseError = errors.DatabaseError;
  readonly DataError = errors.DataError;
  readonly OperationalError = errors.OperationalError;
  readonly IntegrityError = errors.IntegrityError;
  readonly InternalError = errors.InternalError;
  readonly ProgrammingError = errors.ProgrammingError;
  readonly NotSupportedError = errors.NotSupportedError;

  private _isolation: IsolationLevel | null;
  private _autocommit: AutocommitMode;
  private _inTransaction = false;
  private _totalChanges = 0;
  private _closed = false;
  /** Work started by property setters, awaited by the next call. */
  private pending: Promise<unknown> = Promise.resolve();
  /** @internal */
  readonly _detectTypes: number;
  readonly database: string;
  /** Where the database lives: 'node' (a file), 'opfs', 'idb' (browsers) or 'memory'. */
  readonly storage: string;

  /** @internal Use `connect()`. */
  constructor(
    /** @internal */ readonly _port: SessionPort,
    settings: ConnectionSettings,
  ) {
    this._isolation = settings.isolationLevel;
    this._autocommit = settings.autocommit;
    this._detectTypes = settings.detectTypes;
    this.database = settings.database;
    this.storage = settings.storage ?? 'memory';
  }

  /** @internal Runs the PEP 249 start-up step for autocommit = false. */
  async _open(): Promise<void> {
    if (this._autocommit === false) await this.begin();
  }

  private async begin(): Promise<void> {
    this._absorbState(await translate(() => this._port.control('BEGIN')));
  }

  /** @internal */
  _checkOpen(): void {
    if (this._closed) throw new ProgrammingError('Cannot operate on a closed database.');
  }

  /** @internal */
  _absorbState(s: SessionState): void {
    this._inTransaction = s.inTransaction;
    this._totalChanges = s.totalChanges;
  }

  /**
   * @internal Re-reads the session's state after a call failed: a failed
   * statement may still have changed it (its implicit BEGIN ran, earlier rows
   * of an executemany were written).
   */
  async _syncState(): Promise<void> {
    if (!this._closed) this._absorbState(await this._port.state());
  }

  /** @internal The statement that opens an implicit transaction, or null. */
  _implicitBegin(): string | null {
    if (this._autocommit !== LEGACY_TRANSACTION_CONTROL || this._isolation === null) return null;
    return this._isolation === '' ? 'BEGIN ' : `BEGIN ${this._isolation}`;
  }

  /** @internal Whether the legacy rules (isolation_level) are in force. */
  get _legacyControl(): boolean {
    return this._autocommit === LEGACY_TRANSACTION_CONTROL;
  }

  /** @internal The text factory as a function of bytes, or null for plain strings. */
  _textFactoryFn(): ((b: Uint8Array) => unknown) | null {
    const f = this.text_factory;
    if (f === String || f === undefined || f === null) return null;
    if (f === Uint8Array) return (b) => b;
    if (typeof f !== 'function') throw new ProgrammingError('text_factory must be callable');
    return f as (b: Uint8Array) => unknown;
  }

  get closed(): boolean {
    return this._closed;
  }

  /** True while a transaction is open. */
  get in_transaction(): boolean {
    this._checkOpen();
    return this._inTransaction;
  }

  /** Rows changed since the connection opened. */
  get total_changes(): number {
    this._checkOpen();
    return this._totalChanges;
  }

  get isolation_level(): IsolationLevel | null {
    return this._isolation;
  }

  /** Setting null commits any open transaction (as the module does). */
  set isolation_level(v: IsolationLevel | null) {
    this._checkOpen();
    const level = checkIsolationLevel(v);
    this._isolation = level;
    if (level === null) this.pending = this.pending.then(() => this.commit());
  }

  get autocommit(): AutocommitMode {
    return this._autocommit;
  }

  /** true commits a pending transaction; false opens one. */
  set autocommit(v: AutocommitMode) {
    this._checkOpen();
    const mode = checkAutocommit(v);
    this._autocommit = mode;
    if (mode === true) this.pending = this.pending.then(() => this.commitNow());
    else if (mode === false) this.pending = this.pending.then(() => (this._inTransaction ? undefined : this.begin()));
  }

  private async settle(): Promise<void> {
    const p = this.pending;
    this.pending = Promise.resolve();
    await p;
  }

  private async commitNow(): Promise<void> {
    await this.absorb(() => this._port.commit());
  }

  /** Runs a transaction-control call and mirrors the state it leaves, also when it fails. */
  private async absorb(call: () => Promise<SessionState> | SessionState): Promise<void> {
    try {
      this._absorbState(await translate(call));
    } catch (e) {
      await this._syncState().catch(() => undefined);
      throw e;
    }
  }

  /** A new cursor on this connection (`factory` may be a Cursor subclass). */
  cursor<R = unknown>(factory?: new (connection: Connection) => Cursor<R>): Cursor<R> {
    this._checkOpen();
    if (factory !== undefined) {
      const c = new factory(this);
      if (!(c instanceof Cursor)) throw new ProgrammingError('factory must return a cursor');
      return c;
    }
    return new Cursor<R>(this);
  }

  /** Shortcut: a new cursor's `execute`. */
  async execute<R = unknown>(sql: string, parameters?: BindParams): Promise<Cursor<R>> {
    this._checkOpen();
    await this.settle();
    return this.cursor<R>().execute(sql, parameters);
  }

  /** Shortcut: a new cursor's `executemany`. */
  async executemany<R = unknown>(
    sql: string,
    parameters: Iterable<BindParams> | AsyncIterable<BindParams>,
  ): Promise<Cursor<R>> {
    this._checkOpen();
    await this.settle();
    return this.cursor<R>().executemany(sql, parameters);
  }

  /** Shortcut: a new cursor's `executescript`. */
  async executescript<R = unknown>(sql_script: string): Promise<Cursor<R>> {
    this._checkOpen();
    await this.settle();
    return this.cursor<R>().executescript(sql_script);
  }

  /** Commits the open transaction (a no-op when none is open or autocommit is true). */
  async commit(): Promise<void> {
    this._checkOpen();
    await this.settle();
    if (this._autocommit === true) return;
    try {
      await this.commitNow();
    } finally {
      // A commit refused by a conflict has rolled the transaction back: autocommit=False opens the next one anyway.
      if (this._autocommit === false && !this._inTransaction && !this._closed) await this.begin();
    }
  }

  /** Rolls back the open transaction (a no-op when none is open or autocommit is true). */
  async rollback(): Promise<void> {
    this._checkOpen();
    await this.settle();
    if (this._autocommit === true) return;
    this._absorbState(await translate(() => this._port.rollback()));
    if (this._autocommit === false) await this.begin();
  }

  /**
   * Closes the connection. An open transaction is rolled back (not committed),
   * as in the `sqlite3` module. Closing twice is harmless.
   */
  async close(): Promise<void> {
    if (this._closed) return;
    try {
      await this.settle();
    } finally {
      this._closed = true;
      await translate(async () => {
        if (this._autocommit === false) await this._port.rollback();
        await this._port.close();
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Runs `fn` in a transaction: commits when it resolves, rolls back and
   * rethrows when it throws. Nested calls use savepoints. When another
   * connection's commit makes the transaction's snapshot stale (ConflictError),
   * the whole transaction is rolled back and run again (up to `retries` times),
   * so `fn` must be safe to re-run.
   */
  async transaction<T>(fn: (connection: this) => Promise<T> | T, options: { retries?: number } = {}): Promise<T> {
    this._checkOpen();
    await this.settle();
    if (this._inTransaction) return this.runTransaction(fn);
    // A write-write conflict (ConflictError) restarts the whole transaction on a fresh snapshot.
    const retries = options.retries ?? 20;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.runTransaction(fn);
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= retries || this._closed) throw e;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  }

  private async runTransaction<T>(fn: (connection: this) => Promise<T> | T): Promise<T> {
    const nested = this._inTransaction;
    const name = `heliosdb_txn_${++savepointCounter}`;
    const port = this._port;
    const begin = this._isolation ? `BEGIN ${this._isolation}` : 'BEGIN';
    this._absorbState(await translate(() => port.control(nested ? `SAVEPOINT ${name}` : begin)));
    let result: T;
    try {
      result = await fn(this);
    } catch (e) {
      if (!this._closed) {
        await translate(async () => {
          if (nested) {
            await port.control(`ROLLBACK TO ${name}`);
            this._absorbState(await port.control(`RELEASE ${name}`));
          } else {
            this._absorbState(await port.rollback());
          }
        });
      }
      throw e;
    }
    try {
      await this.absorb(() => port.control(nested ? `RELEASE ${name}` : 'COMMIT'));
    } finally {
      if (!nested && this._autocommit === false && !this._inTransaction && !this._closed) await this.begin();
    }
    return result;
  }

  /** Registers (or, with null, removes) a scalar SQL function. */
  async create_function(
    name: string,
    narg: number,
    func: ScalarFunction | null,
    options: { deterministic?: boolean } = {},
  ): Promise<void> {
    this._checkOpen();
    checkName(name);
    checkNarg(narg);
    if (func !== null && typeof func !== 'function') throw new ProgrammingError('func must be callable');
    await translate(() => this._port.createFunction(name, narg, func, !!options.deterministic));
  }

  /** Registers (or removes) an aggregate: a class with `step(...)` and `finalize()`. */
  async create_aggregate(name: string, n_arg: number, aggregate_class: AggregateClass | null): Promise<void> {
    this._checkOpen();
    checkName(name);
    checkNarg(n_arg);
    if (aggregate_class !== null && typeof aggregate_class !== 'function') throw new ProgrammingError('aggregate_class must be a class');
    await translate(() => this._port.createAggregate(name, n_arg, aggregate_class));
  }

  /** Registers (or removes) an aggregate window function: `step`, `inverse`, `value`, `finalize`. */
  async create_window_function(name: string, num_params: number, aggregate_class: WindowClass | null): Promise<void> {
    this._checkOpen();
    checkName(name);
    checkNarg(num_params);
    if (aggregate_class !== null && typeof aggregate_class !== 'function') throw new ProgrammingError('aggregate_class must be a class');
    await translate(() => this._port.createWindowFunction(name, num_params, aggregate_class));
  }

  /** Registers (or removes) a collation: `callable(a, b)` returns negative, zero or positive. */
  async create_collation(name: string, callable: Collation | null): Promise<void> {
    this._checkOpen();
    checkName(name);
    if (callable !== null && typeof callable !== 'function') throw new ProgrammingError('callable must be callable');
    await translate(() => this._port.createCollation(name, callable));
  }

  /** Sets (or clears) the authorizer: returns SQLITE_OK, SQLITE_DENY or SQLITE_IGNORE per action. */
  async set_authorizer(authorizer_callback: Authorizer | null): Promise<void> {
    this._checkOpen();
    await translate(() => this._port.setAuthorizer(authorizer_callback));
  }

  /** Calls `progress_handler` every `n` VM instructions; a truthy return aborts the statement. */
  async set_progress_handler(progress_handler: ProgressHandler | null, n: number): Promise<void> {
    this._checkOpen();
    await translate(() => this._port.setProgressHandler(progress_handler, n));
  }

  /** Calls `trace_callback` with the text of every statement SQLite runs. */
  async set_trace_callback(trace_callback: TraceCallback | null): Promise<void> {
    this._checkOpen();
    await translate(() => this._port.setTraceCallback(trace_callback));
  }

  /** Aborts the statement running on this connection (it raises OperationalError 'interrupted'). */
  interrupt(): void {
    this._checkOpen();
    void this._port.interrupt();
  }

  async getlimit(category: number): Promise<number> {
    this._checkOpen();
    return translate(() => this._port.getLimit(category));
  }

  /** Sets a run-time limit; returns its previous value. A negative value leaves it unchanged. */
  async setlimit(category: number, limit: number): Promise<number> {
    this._checkOpen();
    return translate(() => this._port.setLimit(category, limit));
  }

  /** Copies this database into `target` (another connection), page by page. */
  /**
   * Creates an ANN index (USearch HNSW) on `table(column)`, a column of vectors
   * (float32 BLOBs, quantised forms or JSON text). Needs `enable_vector_search`.
   * Options: `metric` ('cosine' default, 'l2', 'l2sq', 'dot'), `dimensions`
   * (default: those of the first vector), `quantization` ('f32', 'f16',
   * 'int8'), `connectivity` (16), `expansion_add` (128), `expansion_search`
   * (64). The index follows every later insert, update, delete and rollback,
   * and is stored in the database. Query it with
   * `SELECT … FROM vector_search('name', ?, k [, 'filter']) JOIN table …`.
   */
  async create_vector_index(name: string, table: string, column: string, options: VectorIndexOptions = {}): Promise<void> {
    this._checkOpen();
    await this.settle();
    await this.absorb(async () => {
      await this._port.vectorIndex('create', [name, table, column, options]);
      return this._port.state();
    });
  }

  /** Drops a vector index (its stored data, log and triggers; the table is untouched). */
  async drop_vector_index(name: string): Promise<void> {
    this._checkOpen();
    await this.settle();
    await this.absorb(async () => {
      await this._port.vectorIndex('drop', [name]);
      return this._port.state();
    });
  }

  /** Stores a vector index's current state in the database now (otherwise replayed from its log on open). */
  async save_vector_index(name: string): Promise<void> {
    this._checkOpen();
    await this.settle();
    await this.absorb(async () => {
      await this._port.vectorIndex('save', [name]);
      return this._port.state();
    });
  }

  /** The database's vector indexes with their options. */
  async vector_indexes(): Promise<Array<Record<string, unknown>>> {
    this._checkOpen();
    await this.settle();
    return (await translate(() => this._port.vectorIndex('list', []))) as Array<Record<string, unknown>>;
  }

  // ---- time travel (enable_time_travel) ----------------------------------------

  private async history(action: HistoryAction, args: unknown[] = []): Promise<unknown> {
    this._checkOpen();
    await this.settle();
    return translate(() => this._port.history(action, args));
  }

  /**
   * The versions that can be read with `AS OF` (oldest first): each with its
   * number, commit time ('YYYY-MM-DD HH:MM:SS.sss' UTC and ms since the epoch),
   * transaction id and size in pages. The first one is the oldest state kept.
   */
  async versions(): Promise<VersionRow[]> {
    return (await this.history('versions')) as VersionRow[];
  }

  /**
   * How long history is kept: versions older than `seconds` and beyond the
   * newest `versions` may be dropped (null: no limit of that kind; both null:
   * keep everything). The default is 7 days. Stored in the database.
   */
  async set_retention(retention: { seconds?: number | null; versions?: number | null }): Promise<void> {
    await this.history('retention', [retention]);
  }

  /**
   * Makes the state at `target` (a version number, a timestamp string or a
   * Date) the newest version, in one commit that can itself be undone.
   * Returns the new version's number.
   */
  async restore_to(target: number | string | Date): Promise<number> {
    const v = (await this.history('restore', [target])) as number;
    this._absorbState(await this._port.state());
    return v;
  }

  // ---- branches (enable_branching) --------------------------------------------

  /** The branch this connection reads and writes. */
  get branch(): string {
    return this._branch;
  }

  /** @internal */
  _branch = 'main';

  /**
   * Creates branch `name` from this connection's branch: its latest state, or
   * `from` a version number, timestamp string or Date. Constant time and space.
   */
  async create_branch(name: string, options: { from?: number | string | Date } = {}): Promise<BranchRow> {
    return (await this.history('createBranch', [name, options])) as BranchRow;
  }

  /** Every branch ('main' first) with its parent, base version, creation time and head. */
  async list_branches(): Promise<BranchRow[]> {
    return (await this.history('listBranches')) as BranchRow[];
  }

  /** Moves this connection to branch `name` (outside a transaction). */
  async checkout_branch(name: string): Promise<void> {
    this._branch = (await this.history('checkout', [name])) as string;
  }

  /** Deletes branch `name` and frees its space (refused while in use or with branches made from it). */
  async delete_branch(name: string): Promise<void> {
    await this.history('deleteBranch', [name]);
  }

  /** Rows added, changed and removed per table on branch `name` since it was created, and schema changes. */
  async diff_branch(name: string): Promise<DiffReport> {
    return (await this.history('diff', [name])) as DiffReport;
  }

  /**
   * Applies branch `name`'s changes since its base to `into` (default: the
   * branch it was made from) in one transaction. A row changed on both sides
   * is a conflict: `on_conflict` 'abort' (default) raises ConflictError and
   * merges nothing, 'ours' keeps the target's row, 'theirs' takes the branch's.
   */
  async merge_branch(name: string, options: { into?: string; on_conflict?: 'abort' | 'ours' | 'theirs' } = {}): Promise<MergeReport> {
    const report = (await this.history('merge', [name, options])) as MergeReport;
    this._absorbState(await this._port.state());
    return report;
  }

  async backup(target: Connection, options: BackupOptions = {}): Promise<void> {
    this._checkOpen();
    if (!(target instanceof Connection)) throw new ProgrammingError('target must be a Connection');
    target._checkOpen();
    if (target === this) throw new ProgrammingError('target cannot be the same connection instance');
    if (target.in_transaction) throw new OperationalError('target is in transaction');
    const pages = options.pages ?? -1;
    const progress = options.progress ?? undefined;
    if (progress !== undefined && typeof progress !== 'function') throw new ProgrammingError('progress argument must be a callable');
    await this.settle();
    await translate(() =>
      this._port.backup(target._port, {
        pages,
        name: options.name ?? 'main',
        sleepMs: Math.max(0, (options.sleep ?? 0.25) * 1000),
        progress,
      }),
    );
  }

  /** The database as SQL text lines, exactly as the `sqlite3` module's iterdump. */
  async *iterdump(): AsyncGenerator<string, void, undefined> {
    this._checkOpen();
    await this.settle();
    const query = async (sql: string): Promise<unknown[][]> => {
      const r = await translate(() => this._port.execute(sql, undefined, { batch: 1 << 30 }));
      if (r.cursorId) await this._port.closeCursor(r.cursorId);
      return r.rows as unknown[][];
    };
    yield* dumpLines(query);
  }

  /** The database (`main` by default) as the bytes of a SQLite file. */
  async serialize(options: { name?: string } = {}): Promise<Uint8Array> {
    this._checkOpen();
    await this.settle();
    return translate(() => this._port.serialize(options.name ?? 'main'));
  }

  /** Replaces the database (`main` by default) with a serialized SQLite file, held in memory. */
  async deserialize(data: Uint8Array | ArrayBuffer, options: { name?: string } = {}): Promise<void> {
    this._checkOpen();
    await this.settle();
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    this._absorbState(await translate(() => this._port.deserialize(bytes, options.name ?? 'main')));
  }

  /** Native extensions cannot be loaded into WebAssembly. */
  enable_load_extension(_enabled: boolean): never {
    throw new NotSupportedError(
      'loading extensions is not supported: SQLite runs as WebAssembly, which cannot load native extensions; ' +
        'register functions with create_function() instead',
    );
  }

  /** Native extensions cannot be loaded into WebAssembly. */
  load_extension(_path: string, _options?: { entrypoint?: string }): never {
    return this.enable_load_extension(true);
  }

  /** Incremental blob I/O needs sqlite3_blob_*, which this SQLite build does not export. */
  blobopen(_table: string, _column: string, _row: number, _options?: unknown): never {
    throw new NotSupportedError('blobopen() is not supported: this SQLite WebAssembly build has no incremental blob I/O');
  }

  /** Sets the size of the statement cache. */
  async set_cached_statements(n: number): Promise<void> {
    this._checkOpen();
    await translate(() => this._port.setCachedStatements(Math.max(0, n | 0)));
  }

  /** Seconds a statement waits for a lock before 'database is locked'. */
  get timeout(): number {
    return this._port.timeoutMs / 1000;
  }

  set timeout(seconds: number) {
    this._port.timeoutMs = Math.max(0, seconds * 1000);
  }

  /** EXPLAIN QUERY PLAN of a statement, as rows `{ id, parent, detail }`. */
  async query_plan(sql: string, parameters?: BindParams): Promise<Array<{ id: number; parent: number; detail: string }>> {
    const cur = this.cursor();
    cur.row_factory = null;
    await cur.execute(`EXPLAIN QUERY PLAN ${sql}`, parameters);
    const rows = (await cur.fetchall()) as unknown[][];
    return rows.map((r) => ({ id: Number(r[0]), parent: Number(r[1]), detail: String(r[3]) }));
  }
}

let savepointCounter = 0;

function checkName(name: unknown): void {
  if (typeof name !== 'string') throw new ProgrammingError('name must be a string');
}

function checkNarg(n: unknown): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -1 || n > 127) {
    throw new ProgrammingError('narg must be an integer between -1 and 127');
  }
}

