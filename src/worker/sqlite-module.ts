/**
 * Loading the SQLite WASM module, and the minimal typed shape of the raw
 * exports the engine calls on its hot paths.
 *
 * The package's `capi` wrappers convert arguments on every call and cost about
 * 20x a raw export call, so statement execution goes through `wasm.exports`
 * directly; `capi` is kept for set-up work where convenience wins.
 */
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';

export type { Sqlite3Static };

/** A pointer into WASM memory. */
export type Ptr = number;

/** The raw C exports used by the engine (pointers are numbers, 64-bit ints are bigint). */
export interface RawExports {
  sqlite3_open_v2(zFilename: Ptr, ppDb: Ptr, flags: number, zVfs: Ptr): number;
  sqlite3_close_v2(db: Ptr): number;
  sqlite3_prepare_v3(db: Ptr, zSql: Ptr, nByte: number, flags: number, ppStmt: Ptr, pzTail: Ptr): number;
  sqlite3_finalize(stmt: Ptr): number;
  sqlite3_reset(stmt: Ptr): number;
  sqlite3_step(stmt: Ptr): number;
  sqlite3_clear_bindings(stmt: Ptr): number;
  sqlite3_bind_parameter_count(stmt: Ptr): number;
  sqlite3_bind_parameter_name(stmt: Ptr, i: number): Ptr;
  sqlite3_bind_null(stmt: Ptr, i: number): number;
  sqlite3_bind_int(stmt: Ptr, i: number, v: number): number;
  sqlite3_bind_int64(stmt: Ptr, i: number, v: bigint): number;
  sqlite3_bind_double(stmt: Ptr, i: number, v: number): number;
  sqlite3_bind_text(stmt: Ptr, i: number, p: Ptr, n: number, destructor: number): number;
  sqlite3_bind_blob(stmt: Ptr, i: number, p: Ptr, n: number, destructor: number): number;
  sqlite3_bind_zeroblob(stmt: Ptr, i: number, n: number): number;
  sqlite3_column_count(stmt: Ptr): number;
  sqlite3_data_count(stmt: Ptr): number;
  sqlite3_column_type(stmt: Ptr, i: number): number;
  sqlite3_column_int(stmt: Ptr, i: number): number;
  sqlite3_column_int64(stmt: Ptr, i: number): bigint;
  sqlite3_column_double(stmt: Ptr, i: number): number;
  sqlite3_column_text(stmt: Ptr, i: number): Ptr;
  sqlite3_column_blob(stmt: Ptr, i: number): Ptr;
  sqlite3_column_bytes(stmt: Ptr, i: number): number;
  sqlite3_column_name(stmt: Ptr, i: number): Ptr;
  sqlite3_column_decltype(stmt: Ptr, i: number): Ptr;
  sqlite3_stmt_readonly(stmt: Ptr): number;
  sqlite3_stmt_status(stmt: Ptr, op: number, resetFlag: number): number;
  sqlite3_stmt_busy(stmt: Ptr): number;
  sqlite3_sql(stmt: Ptr): Ptr;
  sqlite3_expanded_sql(stmt: Ptr): Ptr;
  sqlite3_changes64(db: Ptr): bigint;
  sqlite3_total_changes64(db: Ptr): bigint;
  sqlite3_last_insert_rowid(db: Ptr): bigint;
  sqlite3_get_autocommit(db: Ptr): number;
  sqlite3_errmsg(db: Ptr): Ptr;
  sqlite3_errcode(db: Ptr): number;
  sqlite3_extended_errcode(db: Ptr): number;
  sqlite3_extended_result_codes(db: Ptr, onoff: number): number;
  sqlite3_error_offset(db: Ptr): number;
  sqlite3_errstr(rc: number): Ptr;
  sqlite3_interrupt(db: Ptr): void;
  sqlite3_limit(db: Ptr, id: number, newVal: number): number;
  sqlite3_txn_state(db: Ptr, zSchema: Ptr): number;
  sqlite3_malloc(n: number): Ptr;
  sqlite3_free(p: Ptr): void;
  sqlite3_value_type(v: Ptr): number;
  sqlite3_value_int64(v: Ptr): bigint;
  sqlite3_value_double(v: Ptr): number;
  sqlite3_value_text(v: Ptr): Ptr;
  sqlite3_value_blob(v: Ptr): Ptr;
  sqlite3_value_bytes(v: Ptr): number;
  sqlite3_result_null(ctx: Ptr): void;
  sqlite3_result_int64(ctx: Ptr, v: bigint): void;
  sqlite3_result_double(ctx: Ptr, v: number): void;
  sqlite3_result_text(ctx: Ptr, p: Ptr, n: number, destructor: number): void;
  sqlite3_result_blob(ctx: Ptr, p: Ptr, n: number, destructor: number): void;
  sqlite3_result_error(ctx: Ptr, p: Ptr, n: number): void;
  sqlite3_result_error_toobig(ctx: Ptr): void;
}

let loading: Promise<Sqlite3Static> | undefined;

/** Loads (once per JS realm) and returns the SQLite WASM module. */
export function loadSqlite(): Promise<Sqlite3Static> {
  if (!loading) {
    loading = (async () => {
      const mod = await import('@sqlite.org/sqlite-wasm');
      return mod.default();
    })();
  }
  return loading;
}

/** The raw exports of a loaded module, typed by the members the engine uses. */
export function rawExports(sqlite3: Sqlite3Static): RawExports {
  return sqlite3.wasm.exports as unknown as RawExports;
}
