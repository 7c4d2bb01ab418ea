/**
 * Converting between JS values and SQLite values: statement parameters,
 * result columns, function arguments and function results.
 *
 * Integers come back as `number` when they are exactly representable and as
 * `bigint` otherwise, never rounded. Binding follows the `sqlite3` module:
 * a sequence binds by position, a mapping by name (`:x`, `@x`, `$x`).
 */
import { EngineError, programmingError, RC } from './engine-error.js';
import type { Ptr, RawExports } from './sqlite-module.js';
import type { WasmMemory } from './wasm-memory.js';

/** A value as stored in SQLite. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** Parameters of one statement: by position, or by name. */
export type BindParams = readonly unknown[] | { readonly [name: string]: unknown } | ReadonlyMap<string, unknown>;

export const SQLITE_INTEGER = 1;
export const SQLITE_FLOAT = 2;
export const SQLITE_TEXT = 3;
export const SQLITE_BLOB = 4;
export const SQLITE_NULL = 5;
/** Destructor argument telling SQLite to copy the bytes at once. */
export const SQLITE_TRANSIENT = -1;

const MAX_SAFE = 9007199254740991;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** True for the parameter container kinds that bind by name. */
export function isNamedParams(p: BindParams): p is { readonly [name: string]: unknown } | ReadonlyMap<string, unknown> {
  return !Array.isArray(p) && !ArrayBuffer.isView(p) && typeof p === 'object' && p !== null;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'Object';
  return typeof v;
}

/** Binds one value at parameter index `i` (1-based); returns SQLite's result code. */
export function bindValue(raw: RawExports, mem: WasmMemory, stmt: Ptr, i: number, v: unknown): number {
  switch (typeof v) {
    case 'number':
      if (Number.isInteger(v) && v >= -MAX_SAFE && v <= MAX_SAFE) {
        return v >= -2147483648 && v <= 2147483647
          ? raw.sqlite3_bind_int(stmt, i, v)
          : raw.sqlite3_bind_int64(stmt, i, BigInt(v));
      }
      return raw.sqlite3_bind_double(stmt, i, v);
    case 'string': {
      const [p, n] = mem.encodeScratch(v);
      return raw.sqlite3_bind_text(stmt, i, p, n, SQLITE_TRANSIENT);
    }
    case 'bigint':
      if (v < INT64_MIN || v > INT64_MAX) {
        throw new EngineError({
          kind: 'DataError',
          message: `Error binding parameter ${i}: ${v} is too large for a SQLite INTEGER (64-bit)`,
        });
      }
      return raw.sqlite3_bind_int64(stmt, i, v);
    case 'boolean':
      return raw.sqlite3_bind_int(stmt, i, v ? 1 : 0);
    case 'undefined':
      return raw.sqlite3_bind_null(stmt, i);
    case 'object': {
      if (v === null) return raw.sqlite3_bind_null(stmt, i);
      const bytes = asBytes(v);
      if (bytes) {
        if (bytes.length === 0) return raw.sqlite3_bind_zeroblob(stmt, i, 0);
        return raw.sqlite3_bind_blob(stmt, i, mem.bytesScratch(bytes), bytes.length, SQLITE_TRANSIENT);
      }
      break;
    }
  }
  throw programmingError(`Error binding parameter ${i}: type '${typeName(v)}' is not supported`);
}

/** Views any binary container as bytes, or returns undefined. */
export function asBytes(v: object): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}

/** Binds a whole parameter set with the `sqlite3` module's checks. */
export function bindParams(raw: RawExports, mem: WasmMemory, stmt: Ptr, params: BindParams | undefined): void {
  const count = raw.sqlite3_bind_parameter_count(stmt);
  if (params === undefined || params === null) {
    if (count !== 0) {
      throw programmingError(
        `Incorrect number of bindings supplied. The current statement uses ${count}, and there are 0 supplied.`,
      );
    }
    return;
  }
  if (isNamedParams(params)) {
    const isMap = params instanceof Map;
    for (let i = 1; i <= count; i++) {
      const namePtr = raw.sqlite3_bind_parameter_name(stmt, i);
      const full = mem.cstr(namePtr);
      if (full === null || full[0] === '?') {
        throw programmingError(`Binding ${i} has no name, but you supplied a dictionary (which has only names).`);
      }
      const name = full.slice(1);
      let value: unknown;
      if (isMap) {
        const m = params as ReadonlyMap<string, unknown>;
        if (!m.has(name)) throw programmingError(`You did not supply a value for binding parameter ${full}.`);
        value = m.get(name);
      } else {
        const o = params as { readonly [name: string]: unknown };
        if (!Object.prototype.hasOwnProperty.call(o, name)) {
          throw programmingError(`You did not supply a value for binding parameter ${full}.`);
        }
        value = o[name];
      }
      check(raw, stmt, i, bindValue(raw, mem, stmt, i, value));
    }
    return;
  }
  const seq = params as readonly unknown[];
  if (seq.length !== count) {
    throw programmingError(
      `Incorrect number of bindings supplied. The current statement uses ${count}, and there are ${seq.length} supplied.`,
    );
  }
  for (let i = 0; i < count; i++) check(raw, stmt, i + 1, bindValue(raw, mem, stmt, i + 1, seq[i]));
}

function check(_raw: RawExports, _stmt: Ptr, i: number, rc: number): void {
  if (rc === RC.OK) return;
  // The module reports the connection's error here: SQLite's own message for SQLITE_TOOBIG.
  if (rc === RC.TOOBIG) throw new EngineError({ kind: 'DataError', message: 'string or blob too big', sqliteCode: rc, sqliteName: 'SQLITE_TOOBIG' });
  if (rc === RC.RANGE) throw new EngineError({ kind: 'InterfaceError', message: `Error binding parameter ${i}: index out of range` });
  throw new EngineError({ kind: 'InterfaceError', message: `Error binding parameter ${i}: result code ${rc}` });
}

/** Reads an integer column exactly: a number when safe, else a bigint. */
function intColumn(raw: RawExports, stmt: Ptr, i: number): number | bigint {
  const d = raw.sqlite3_column_double(stmt, i);
  if (d > -9007199254740992 && d < 9007199254740992) return d;
  const b = raw.sqlite3_column_int64(stmt, i);
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** A TEXT value returned as its UTF-8 bytes, for a custom `text_factory`. */
export interface TextBytes {
  readonly textBytes: Uint8Array;
}

/** A result cell: a value, or TEXT as bytes when a text factory asked for it. */
export type Cell = SqlValue | TextBytes | RealMark;

/** Per-column read mode: as is, as bytes whatever the type (converters), or TEXT as bytes. */
export const COL_PLAIN = 0;
export const COL_CONVERT = 1;
export const COL_TEXT_BYTES = 2;
/** Flag (or'ed with the above): a REAL cell comes back as `{ real: n }`, so 1.0 stays distinguishable from 1. */
export const COL_MARK_REAL = 4;

/** A REAL value marked as one (see COL_MARK_REAL). */
export interface RealMark {
  readonly real: number;
}

/** Reads the current row; `modes` (or null for all plain) says how to read each column. */
export function readRow(
  raw: RawExports,
  mem: WasmMemory,
  stmt: Ptr,
  ncol: number,
  modes: Uint8Array | null,
): Cell[] {
  const row: Cell[] = new Array<Cell>(ncol);
  for (let i = 0; i < ncol; i++) {
    const t = raw.sqlite3_column_type(stmt, i);
    if (modes !== null && t !== SQLITE_NULL) {
      const m = modes[i] & 3;
      if (t === SQLITE_FLOAT && (modes[i] & COL_MARK_REAL) !== 0 && m !== COL_CONVERT) {
        row[i] = { real: raw.sqlite3_column_double(stmt, i) };
        continue;
      }
      if (m === COL_CONVERT || (m === COL_TEXT_BYTES && t === SQLITE_TEXT)) {
        const bytes = mem.bytes(raw.sqlite3_column_blob(stmt, i), raw.sqlite3_column_bytes(stmt, i));
        row[i] = m === COL_CONVERT ? bytes : { textBytes: bytes };
        continue;
      }
    }
    switch (t) {
      case SQLITE_INTEGER:
        row[i] = intColumn(raw, stmt, i);
        break;
      case SQLITE_FLOAT:
        row[i] = raw.sqlite3_column_double(stmt, i);
        break;
      case SQLITE_TEXT: {
        const p = raw.sqlite3_column_text(stmt, i);
        row[i] = mem.text(p, raw.sqlite3_column_bytes(stmt, i));
        break;
      }
      case SQLITE_BLOB: {
        const p = raw.sqlite3_column_blob(stmt, i);
        row[i] = mem.bytes(p, raw.sqlite3_column_bytes(stmt, i));
        break;
      }
      default:
        row[i] = null;
    }
  }
  return row;
}

/** Reads a function argument (an `sqlite3_value*`). */
export function readValue(raw: RawExports, mem: WasmMemory, v: Ptr): SqlValue {
  switch (raw.sqlite3_value_type(v)) {
    case SQLITE_INTEGER: {
      const b = raw.sqlite3_value_int64(v);
      return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
    }
    case SQLITE_FLOAT:
      return raw.sqlite3_value_double(v);
    case SQLITE_TEXT:
      return mem.text(raw.sqlite3_value_text(v), raw.sqlite3_value_bytes(v));
    case SQLITE_BLOB:
      return mem.bytes(raw.sqlite3_value_blob(v), raw.sqlite3_value_bytes(v));
    default:
      return null;
  }
}

/**
 * Sets a function's result from a JS value. Returns false when the value has
 * no SQLite representation (the caller reports the error).
 */
export function setResult(raw: RawExports, mem: WasmMemory, ctx: Ptr, v: unknown): boolean {
  switch (typeof v) {
    case 'number':
      if (Number.isInteger(v) && v >= -MAX_SAFE && v <= MAX_SAFE) raw.sqlite3_result_int64(ctx, BigInt(v));
      else raw.sqlite3_result_double(ctx, v);
      return true;
    case 'string': {
      const [p, n] = mem.encodeScratch(v);
      raw.sqlite3_result_text(ctx, p, n, SQLITE_TRANSIENT);
      return true;
    }
    case 'bigint':
      if (v < INT64_MIN || v > INT64_MAX) return false;
      raw.sqlite3_result_int64(ctx, v);
      return true;
    case 'boolean':
      raw.sqlite3_result_int64(ctx, v ? 1n : 0n);
      return true;
    case 'undefined':
      raw.sqlite3_result_null(ctx);
      return true;
    case 'object': {
      if (v === null) {
        raw.sqlite3_result_null(ctx);
        return true;
      }
      const bytes = asBytes(v);
      if (!bytes) return false;
      raw.sqlite3_result_blob(ctx, mem.bytesScratch(bytes), bytes.length, SQLITE_TRANSIENT);
      return true;
    }
    default:
      return false;
  }
}

/** Sets an error result with a message. */
export function setError(raw: RawExports, mem: WasmMemory, ctx: Ptr, message: string): void {
  const [p, n] = mem.encodeScratch(message);
  raw.sqlite3_result_error(ctx, p, n);
}
