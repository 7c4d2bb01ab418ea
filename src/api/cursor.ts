/**
 * `Cursor`: executes statements and fetches their rows, with the `sqlite3`
 * module's attributes (`description`, `rowcount`, `lastrowid`, `arraysize`).
 * Rows arrive from the engine in batches; `fetchone` costs no round trip while
 * the current batch lasts.
 */
import type { ColumnInfo, ExecResult, FetchResult } from '../worker/session.js';
import type { BindParams, Cell, TextBytes } from '../worker/values.js';
import { adapt, converters as registeredConverters, type Converter } from './adapters.js';
import type { Connection } from './connection.js';
import { ProgrammingError, toDbApiError, translate } from './errors.js';
import { Row } from './row.js';

/** A 7-item column description; only the name is set, as in the `sqlite3` module. */
export type ColumnDescription = readonly [string, null, null, null, null, null, null];

/** Turns a row (an array of values) into whatever the application wants. */
export type RowFactory<R = unknown> = ((cursor: Cursor, row: unknown[]) => R) | typeof Row;

/** Progress of `batch_insert`: rows inserted so far and in all. */
export type BatchProgress = (inserted: number, total: number) => void;

const FETCH_BATCH = 512;

function isTextBytes(c: Cell): c is TextBytes {
  return c !== null && typeof c === 'object' && !(c instanceof Uint8Array);
}

/** Applies adapters to parameters, copying the container only when a value changes. */
export function adaptParams(params: unknown): BindParams | undefined {
  if (params === undefined || params === null) return undefined;
  if (Array.isArray(params)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < params.length; i++) {
      const v: unknown = params[i];
      if (v !== null && typeof v === 'object') {
        const a = adapt(v);
        if (a !== v) {
          out ??= params.slice();
          out[i] = a;
        }
      }
    }
    return out ?? params;
  }
  if (params instanceof Map) {
    const out = new Map<string, unknown>();
    for (const [k, v] of params as Map<string, unknown>) out.set(k, adapt(v));
    return out;
  }
  if (typeof params === 'object') {
    if (ArrayBuffer.isView(params)) throw new ProgrammingError('parameters are of unsupported type');
    const src = params as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(src)) out[k] = adapt(src[k]);
    return out;
  }
  throw new ProgrammingError('parameters are of unsupported type');
}

/**
 * Descriptions by column list: the engine hands back the same list for a
 * statement run again (its prepared statement's), so a cursor that repeats a
 * query builds its description once. Frozen: shared, and tuples in Python.
 */
const descriptions = new WeakMap<readonly ColumnInfo[], ColumnDescription[]>();

function describe(columns: readonly ColumnInfo[]): ColumnDescription[] {
  let d = descriptions.get(columns);
  if (d === undefined) {
    d = Object.freeze(columns.map((c) => Object.freeze([c.name, null, null, null, null, null, null] as const))) as ColumnDescription[];
    descriptions.set(columns, d);
  }
  return d;
}

/** No rows (the buffer of a cursor between statements). */
const NO_ROWS = Object.freeze([]) as unknown as Cell[][];

/** The DB-API error for a failed engine call, once the connection's mirrored state is refreshed (the failed call may have changed it). */
async function failure(conn: Connection, e: unknown): Promise<unknown> {
  const error = toDbApiError(e);
  // The state refresh must not hide the statement's own error (the engine may be gone too).
  await conn._syncState().catch(() => undefined);
  return error;
}

/** Runs an engine call; when it fails, refreshes the connection's mirrored state before rethrowing. */
async function run<T>(conn: Connection, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await translate(fn);
  } catch (e) {
    // The state refresh must not hide the statement's own error (the engine may be gone too).
    await conn._syncState().catch(() => undefined);
    throw e;
  }
}

export class Cursor<R = unknown> implements AsyncIterable<R> {
  /** Rows `fetchmany()` returns by default. */
  arraysize = 1;
  /** Row factory for this cursor (initialized from the connection's). */
  row_factory: RowFactory | null;
  private _description: ColumnDescription[] | null = null;
  private _rowcount = -1;
  private _lastrowid: number | bigint | null = null;
  private _closed = false;
  private buffer: Cell[][] = NO_ROWS;
  private pos = 0;
  private cursorId = 0;
  private converters: (Converter | null)[] | null = null;
  private textFactory: ((b: Uint8Array) => unknown) | null = null;
  private isDml = false;

  constructor(readonly connection: Connection) {
    this.row_factory = connection.row_factory;
  }

  /** Column descriptions of the last query, or null. */
  get description(): ColumnDescription[] | null {
    return this._description;
  }

  /** Rows changed by the last DML statement (summed by executemany); -1 otherwise. */
  get rowcount(): number {
    return this._rowcount;
  }

  /** The last inserted rowid as of the last `execute`; null before any. */
  get lastrowid(): number | bigint | null {
    return this._lastrowid;
  }

  get closed(): boolean {
    return this._closed;
  }

  private check(): void {
    this.connection._checkOpen();
    if (this._closed) throw new ProgrammingError('Cannot operate on a closed cursor.');
  }

  private async resetStatement(): Promise<void> {
    this.buffer = NO_ROWS;
    this.pos = 0;
    if (this.cursorId) {
      const id = this.cursorId;
      this.cursorId = 0;
      await this.connection._port.closeCursor(id);
    }
  }

  private absorb(r: ExecResult): void {
    this._description = r.columns ? describe(r.columns) : null;
    this.buffer = r.rows;
    this.pos = 0;
    this.cursorId = r.cursorId;
    this._rowcount = r.rowcount;
    this.isDml = r.isDml;
    this.converters = r.converters ? r.converters.map((n) => (n ? (registeredConverters.get(n) ?? null) : null)) : null;
    this.connection._absorbState(r);
  }

  /** Executes one SQL statement with optional parameters (a sequence, or a mapping for named ones). */
  async execute(sql: string, parameters?: BindParams): Promise<this> {
    this.check();
    if (typeof sql !== 'string') throw new ProgrammingError('execute() argument 1 must be str');
    // The hot path of every statement: no promise or closure it can do without.
    if (this.cursorId !== 0) await this.resetStatement();
    else {
      this.buffer = NO_ROWS;
      this.pos = 0;
    }
    const conn = this.connection;
    const textFactory = conn._textFactoryFn();
    this.textFactory = textFactory;
    const detectTypes = conn._detectTypes;
    let r: ExecResult;
    try {
      r = await conn._port.execute(sql, adaptParams(parameters), {
        implicitBegin: conn._implicitBegin(),
        textAsBytes: textFactory !== null,
        detectTypes,
        converterNames: detectTypes ? [...registeredConverters.keys()] : undefined,
        batch: Math.max(this.arraysize, 64),
      });
    } catch (e) {
      throw await failure(conn, e);
    }
    this.absorb(r);
    this._lastrowid = r.lastrowid;
    return this;
  }

  /** Executes a DML statement once for each parameter set. */
  async executemany(sql: string, seq_of_parameters: Iterable<BindParams> | AsyncIterable<BindParams>): Promise<this> {
    this.check();
    if (typeof sql !== 'string') throw new ProgrammingError('executemany() argument 1 must be str');
    await this.resetStatement();
    const conn = this.connection;
    const params: BindParams[] = [];
    if (seq_of_parameters === null || typeof seq_of_parameters !== 'object') {
      throw new ProgrammingError('executemany() argument 2 must be iterable');
    }
    if (Symbol.asyncIterator in seq_of_parameters) {
      for await (const p of seq_of_parameters) params.push(adaptParams(p) as BindParams);
    } else {
      for (const p of seq_of_parameters) params.push(adaptParams(p) as BindParams);
    }
    const r = await run(conn, () => conn._port.executemany(sql, params, { implicitBegin: conn._implicitBegin() }));
    this.absorb(r);
    return this;
  }

  /** Executes a script of several statements (no parameters), committing a pending transaction first. */
  async executescript(sql_script: string): Promise<this> {
    this.check();
    if (typeof sql_script !== 'string') throw new ProgrammingError('script argument must be unicode.');
    await this.resetStatement();
    const conn = this.connection;
    this._description = null;
    this._rowcount = -1;
    await run(conn, async () => {
      if (conn._legacyControl && conn.in_transaction) conn._absorbState(await conn._port.commit());
      conn._absorbState(await conn._port.executescript(sql_script));
    });
    return this;
  }

  private toRow(cells: Cell[]): R {
    let row = cells as unknown[];
    if (this.converters !== null || this.textFactory !== null) {
      row = new Array<unknown>(cells.length);
      for (let i = 0; i < cells.length; i++) {
        const c = cells[i];
        const conv = this.converters?.[i];
        if (conv && c !== null) row[i] = conv(c as Uint8Array);
        else if (isTextBytes(c)) row[i] = this.textFactory ? this.textFactory(c.textBytes) : c.textBytes;
        else row[i] = c;
      }
    }
    const f = this.row_factory;
    if (f === null) return row as R;
    // Row (or a subclass) is a class, as in the module: construct it.
    if (f === Row || f.prototype instanceof Row) return new (f as unknown as typeof Row)(this, row) as R;
    return (f as (cursor: Cursor, row: unknown[]) => unknown)(this as Cursor, row) as R;
  }

  private absorbFetch(f: FetchResult): void {
    this.buffer = f.rows;
    this.pos = 0;
    if (f.done) {
      this.cursorId = 0;
      if (this.isDml) this._rowcount = f.rowcount;
    }
    this.connection._absorbState(f);
  }

  /** Makes sure the buffer has a row if the statement has one; returns false at the end. */
  private async fill(want: number): Promise<boolean> {
    if (this.pos < this.buffer.length) return true;
    if (!this.cursorId) return false;
    const id = this.cursorId;
    const f = await run(this.connection, () => this.connection._port.fetch(id, Math.max(want, FETCH_BATCH)));
    this.absorbFetch(f);
    return this.pos < this.buffer.length;
  }

  /** The next row, or null when there are no more. */
  async fetchone(): Promise<R | null> {
    this.check();
    if (this.pos < this.buffer.length) return this.toRow(this.buffer[this.pos++]);
    if (!(await this.fill(1))) return null;
    return this.toRow(this.buffer[this.pos++]);
  }

  /** Up to `size` more rows (default `arraysize`). */
  async fetchmany(size: number = this.arraysize): Promise<R[]> {
    this.check();
    const out: R[] = [];
    while (out.length < size) {
      if (!(await this.fill(size - out.length))) break;
      while (this.pos < this.buffer.length && out.length < size) out.push(this.toRow(this.buffer[this.pos++]));
    }
    return out;
  }

  /** Every remaining row. */
  async fetchall(): Promise<R[]> {
    this.check();
    const out: R[] = [];
    while (await this.fill(FETCH_BATCH)) {
      while (this.pos < this.buffer.length) out.push(this.toRow(this.buffer[this.pos++]));
    }
    return out;
  }

  /** Closes the cursor; further use raises ProgrammingError. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    if (!this.connection.closed) await this.resetStatement();
    this.buffer = NO_ROWS;
  }

  /** DB-API no-ops. */
  setinputsizes(_sizes: unknown): void {}
  setoutputsize(_size: unknown, _column?: unknown): void {}

  async *[Symbol.asyncIterator](): AsyncIterator<R> {
    for (;;) {
      const row = await this.fetchone();
      if (row === null) return;
      yield row;
    }
  }

  /**
   * Inserts many rows into `table` with one prepared statement inside one
   * transaction (or a savepoint of the current one): all rows or none.
   * Returns the number of rows inserted.
   */
  async batch_insert(
    table: string,
    columns: readonly string[],
    rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>,
    options: { progress?: BatchProgress; batch_size?: number } = {},
  ): Promise<number> {
    this.check();
    if (typeof table !== 'string' || !table) throw new ProgrammingError('batch_insert() needs a table name');
    if (!Array.isArray(columns) || columns.length === 0) throw new ProgrammingError('batch_insert() needs at least one column');
    await this.resetStatement();
    const all: (readonly unknown[])[] = [];
    if (Symbol.asyncIterator in rows) for await (const r of rows) all.push(r);
    else for (const r of rows) all.push(r);
    for (const r of all) {
      if (!Array.isArray(r) || r.length !== columns.length) {
        throw new ProgrammingError(`batch_insert(): every row must have ${columns.length} values`);
      }
    }
    const q = (id: string): string => `"${id.replace(/"/g, '""')}"`;
    const sql = `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    const size = Math.max(1, options.batch_size ?? 1000);
    const conn = this.connection;
    const port = conn._port;
    let inserted = 0;
    await run(conn, async () => {
      const outer = !conn.in_transaction;
      conn._absorbState(await port.control(outer ? 'BEGIN IMMEDIATE' : 'SAVEPOINT heliosdb_batch_insert'));
      try {
        for (let i = 0; i < all.length; i += size) {
          const chunk = all.slice(i, i + size).map((r) => adaptParams(r) as BindParams);
          const r = await port.executemany(sql, chunk, {});
          inserted += r.rowcount;
          options.progress?.(Math.min(i + size, all.length), all.length);
        }
        conn._absorbState(await port.control(outer ? 'COMMIT' : 'RELEASE heliosdb_batch_insert'));
      } catch (e) {
        if (outer) conn._absorbState(await port.rollback());
        else {
          await port.control('ROLLBACK TO heliosdb_batch_insert');
          conn._absorbState(await port.control('RELEASE heliosdb_batch_insert'));
        }
        throw e;
      }
    });
    this._description = null;
    this._rowcount = inserted;
    return inserted;
  }
}
