/**
 * Prepared statements and the per-connection statement cache (LRU, like the
 * `sqlite3` module's `cached_statements`).
 */
import { EngineError, programmingError, RC } from './engine-error.js';
import type { ColumnInfo } from './session.js';
import type { Ptr, RawExports } from './sqlite-module.js';
import type { WasmMemory } from './wasm-memory.js';

/** SQLITE_PREPARE_PERSISTENT: the statement will be reused many times. */
const PREPARE_PERSISTENT = 0x01;
const SQLITE_LIMIT_SQL_LENGTH = 1;

export class Statement {
  /** Set while a cursor still has rows to read from it. */
  inUse = false;
  /**
   * Result columns (names, declared types) as last read, and SQLite's
   * re-prepare count then: valid while the count is unchanged.
   */
  columnInfo: { readonly reprepares: number; readonly columns: ColumnInfo[] } | null = null;
  constructor(
    readonly ptr: Ptr,
    readonly sql: string,
    /** INSERT/UPDATE/DELETE/REPLACE, by the `sqlite3` module's textual rule. */
    readonly isDml: boolean,
    readonly cached: boolean,
  ) {}
}

/** Skips leading whitespace and SQL comments; returns the index of the first token. */
export function firstTokenIndex(sql: string): number {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) {
      i++;
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const nl = sql.indexOf('\n', i + 2);
      i = nl < 0 ? n : nl + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else {
      break;
    }
  }
  return i;
}

/** The `sqlite3` module's DML test: the statement starts with INSERT, UPDATE, DELETE or REPLACE. */
export function isDmlSql(sql: string): boolean {
  const i = firstTokenIndex(sql);
  const word = sql.slice(i, i + 7).toUpperCase();
  return word.startsWith('INSERT') || word.startsWith('UPDATE') || word.startsWith('DELETE') || word.startsWith('REPLACE');
}

/** Whether only whitespace, comments and semicolons remain. */
function onlySemicolonsAndComments(s: string): boolean {
  let rest = s;
  for (;;) {
    rest = rest.slice(firstTokenIndex(rest));
    if (rest.length === 0) return true;
    if (rest[0] !== ';') return false;
    rest = rest.slice(1);
  }
}

export class StatementCache {
  private readonly map = new Map<string, Statement>();
  /** The last entry of `map` (its most recently used statement), or null when unknown. */
  private newest: Statement | null = null;

  constructor(
    private readonly raw: RawExports,
    private readonly mem: WasmMemory,
    private readonly db: () => Ptr,
    private capacity: number,
    /** Turns the connection's last error into an EngineError. */
    private readonly dbError: (rc: number) => EngineError,
  ) {}

  /**
   * Returns a statement for `sql`, ready to bind; null for SQL that holds no
   * statement (only whitespace or comments). Throws ProgrammingError for more
   * than one statement, as the `sqlite3` module does.
   */
  acquire(sql: string): Statement | null {
    const hit = this.map.get(sql);
    if (hit !== undefined && !hit.inUse) {
      // Refresh its LRU position (already there when it was the last one used).
      if (hit !== this.newest) {
        this.map.delete(sql);
        this.map.set(sql, hit);
        this.newest = hit;
      }
      hit.inUse = true;
      return hit;
    }
    const st = this.prepare(sql, hit === undefined && this.capacity > 0);
    if (st === null) return null;
    st.inUse = true;
    if (st.cached) {
      this.map.set(sql, st);
      this.newest = st;
      if (this.map.size > this.capacity) this.evictOldest();
    }
    return st;
  }

  /** Returns a statement after use: reset it, and finalize it if it is not cached. */
  release(st: Statement): void {
    st.inUse = false;
    this.raw.sqlite3_reset(st.ptr);
    this.raw.sqlite3_clear_bindings(st.ptr);
    if (!st.cached) this.raw.sqlite3_finalize(st.ptr);
  }

  private evictOldest(): void {
    for (const [key, st] of this.map) {
      if (st.inUse) continue;
      this.map.delete(key);
      if (st === this.newest) this.newest = null;
      this.raw.sqlite3_finalize(st.ptr);
      return;
    }
  }

  private prepare(sql: string, cache: boolean): Statement | null {
    const raw = this.raw;
    // One scratch area holds the encoded SQL and, just past it (aligned), the two out-pointers.
    this.mem.scratch(sql.length * 3 + 32);
    const [pSql, nSql] = this.mem.encodeScratch(sql);
    const ppStmt = (pSql + nSql + 8) & ~7;
    const pzTail = ppStmt + 4;
    const heap32 = new Int32Array(this.mem.heap().buffer);
    heap32[ppStmt >> 2] = 0;
    heap32[pzTail >> 2] = 0;
    const rc = raw.sqlite3_prepare_v3(this.db(), pSql, nSql + 1, cache ? PREPARE_PERSISTENT : 0, ppStmt, pzTail);
    const h32 = new Int32Array(this.mem.heap().buffer);
    const stmt = h32[ppStmt >> 2];
    const tail = h32[pzTail >> 2];
    if (rc !== RC.OK) {
      if (stmt) raw.sqlite3_finalize(stmt);
      // SQL longer than SQLITE_LIMIT_SQL_LENGTH: the module refuses it with its own message.
      if ((rc & 0xff) === RC.TOOBIG && nSql > raw.sqlite3_limit(this.db(), SQLITE_LIMIT_SQL_LENGTH, -1)) {
        throw new EngineError({ kind: 'DataError', message: 'query string is too large' });
      }
      throw this.dbError(rc);
    }
    // Byte offset of the tail within the UTF-8 text, mapped back to a JS string offset.
    const tailBytes = tail - pSql;
    if (tailBytes < nSql) {
      const restBytes = this.mem.heap().subarray(tail, pSql + nSql);
      const rest = new TextDecoder().decode(restBytes);
      if (!onlySemicolonsAndComments(rest)) {
        if (stmt) raw.sqlite3_finalize(stmt);
        throw programmingError('You can only execute one statement at a time.');
      }
    }
    if (!stmt) return null;
    return new Statement(stmt, sql, isDmlSql(sql), cache);
  }

  setCapacity(n: number): void {
    this.capacity = n;
    // Statements still in use by a cursor stay until released; never spin on them.
    let evictable = [...this.map.values()].filter((st) => !st.inUse).length;
    while (this.map.size > n && evictable-- > 0) this.evictOldest();
  }


  /** Finalizes every cached statement (on close). */
  clear(): void {
    for (const st of this.map.values()) this.raw.sqlite3_finalize(st.ptr);
    this.map.clear();
    this.newest = null;
  }

  /** Resets every cached statement (releases their read locks). */
  resetAll(): void {
    for (const st of this.map.values()) if (!st.inUse) this.raw.sqlite3_reset(st.ptr);
  }
}

