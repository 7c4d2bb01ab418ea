/**
 * Concurrent write transactions: recording a transaction's row changes and
 * replaying them on the latest version when another connection committed
 * first.
 *
 * An explicit transaction writes on its own snapshot (mvcc/MvccFile in
 * `concurrent` mode) while a `sqlite3session` records its row changes. If
 * nothing committed since its snapshot, it commits as it is. Otherwise the
 * session rolls it back and replays the changeset on the latest version with
 * `sqlite3changeset_apply_v2`, where the conflict handler decides:
 * - a row the transaction updated or deleted was changed (or deleted) by the
 *   other commit → a real write-write conflict: abort (ConflictError);
 * - both inserted the same key: if the key was assigned by SQLite (a rowid
 *   past every row of the snapshot) the row is inserted again with a fresh
 *   rowid; an explicit key collides for real → abort;
 * - a constraint or foreign key fails on the new version → abort;
 * - `sqlite_sequence` (AUTOINCREMENT bookkeeping) never conflicts.
 * Triggers and foreign-key actions are off during the replay: their effects
 * are already in the changeset.
 */
import { changeHeader, type ChangeHeader } from './changeset.js';
import { EngineError } from './engine-error.js';
import type { Ptr, RawExports } from './sqlite-module.js';
import { readValue, type SqlValue } from './values.js';
import type { WasmMemory } from './wasm-memory.js';

interface SessionExports extends RawExports {
  sqlite3session_create(db: Ptr, zDb: Ptr, ppSession: Ptr): number;
  sqlite3session_object_config(s: Ptr, op: number, pArg: Ptr): number;
  sqlite3session_attach(s: Ptr, zTab: Ptr): number;
  sqlite3session_changeset(s: Ptr, pnChangeset: Ptr, ppChangeset: Ptr): number;
  sqlite3session_delete(s: Ptr): void;
  sqlite3changeset_start(pp: Ptr, n: number, p: Ptr): number;
  sqlite3changeset_next(it: Ptr): number;
  sqlite3changeset_op(it: Ptr, pzTab: Ptr, pnCol: Ptr, pOp: Ptr, pbIndirect: Ptr): number;
  sqlite3changeset_pk(it: Ptr, pabPK: Ptr, pnCol: Ptr): number;
  sqlite3changeset_new(it: Ptr, i: number, ppValue: Ptr): number;
  sqlite3changeset_old(it: Ptr, i: number, ppValue: Ptr): number;
  sqlite3changeset_finalize(it: Ptr): number;
  sqlite3changeset_apply_v2(
    db: Ptr, n: number, p: Ptr, xFilter: Ptr, xConflict: Ptr, pCtx: Ptr, ppRebase: Ptr, pnRebase: Ptr, flags: number,
  ): number;
  sqlite3_set_last_insert_rowid(db: Ptr, v: bigint): void;
  sqlite3__wasm_db_config_ip(db: Ptr, op: number, v: number, pOut: Ptr): number;
}

export interface FunctionInstaller {
  installFunction(signature: string, func: (...args: number[]) => number | void): Ptr;
  uninstallFunction(ptr: Ptr): unknown;
}

const SQLITE_OK = 0;
const SQLITE_ROW = 100;
const SQLITE_DONE = 101;
const SQLITE_ABORT = 4;
const SQLITE_INSERT = 18;
const SQLITE_DELETE = 9;
const OBJCONFIG_ROWID = 2;
const DBCONFIG_ENABLE_TRIGGER = 1003;
const CHANGESET_DATA = 1;
const CHANGESET_NOTFOUND = 2;
const CHANGESET_CONFLICT = 3;
const CHANGESET_CONSTRAINT = 4;
const CHANGESET_OMIT = 0;
const CHANGESET_ABORT = 2;
const APPLY_FKNOACTION = 0x0008;

/** A retryable write-write conflict (the API raises ConflictError). */
export function conflictError(message: string): EngineError {
  return new EngineError({
    kind: 'OperationalError',
    message: `could not serialize access: ${message}; retry the transaction`,
    sqliteCode: 517,
    sqliteName: 'SQLITE_BUSY_SNAPSHOT',
    retryable: true,
  });
}

function quoteId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** One change as the iterator shows it. */

/** What the replay needs to know, per table, to tell assigned rowids from chosen keys. */
interface TableKeys {
  /** Column of the changeset holding the rowid (implicit rowid or INTEGER PRIMARY KEY), or -1. */
  keyColumn: number;
  /** Keys of the rows the transaction inserted. */
  readonly inserted: Set<bigint>;
  /** The transaction's own statements chose keys for this table: a taken key is a real conflict. */
  explicit: boolean;
  /** Greatest rowid that existed in the snapshot (rows past it were assigned by this transaction). */
  snapshotMax: bigint;
}

/** A row to insert again under a fresh rowid after the replay. */
interface Renumber {
  readonly table: string;
  readonly key: bigint;
  readonly keyColumn: number;
  readonly values: SqlValue[];
}

/** An SQL identifier: "quoted", [bracketed], `backticked` or bare. */
const IDENT = '(?:"(?:[^"]|"")*"|\\[[^\\]]*\\]|\u0060[^\u0060]*\u0060|[\\w$]+)';
const INSERT_SQL = new RegExp(
  `^\\s*(?:INSERT|REPLACE)(?:\\s+OR\\s+\\w+)?\\s+INTO\\s+(?:${IDENT}\\s*\\.\\s*)?(${IDENT})\\s*(?:AS\\s+${IDENT}\\s*)?(\\(([^)]*)\\))?`,
  'i',
);
const ROWID_NAMES = new Set(['rowid', 'oid', '_rowid_']);

function unquote(id: string): string {
  const t = id.trim();
  const q = t[0];
  if (q === '"' || q === '\u0060') return t.slice(1, -1).replace(q === '"' ? /""/g : /\u0060\u0060/g, q);
  if (q === '[') return t.slice(1, -1);
  return t;
}

/** An INSERT as written: its table and column list (null when it has none). */
export interface InsertShape {
  readonly table: string;
  readonly columns: readonly string[] | null;
}

/** Reads the target table and column list of an INSERT/REPLACE statement; null for other statements. */
export function insertShapeOf(sql: string): InsertShape | null {
  const m = INSERT_SQL.exec(sql);
  if (m === null) return null;
  const columns = m[2] === undefined ? null : m[3].split(',').map((c) => unquote(c).toLowerCase());
  return { table: unquote(m[1]).toLowerCase(), columns };
}

/** Column layout of a table as a changeset lists it (generated columns excluded). */
interface TableShape {
  /** Names of the changeset's columns; null for the implicit rowid. */
  readonly columns: (string | null)[];
  readonly rowidKey: number;
}

/**
 * Records one transaction's row changes on the `main` database of `db`.
 * Created before the transaction's first write; disposed when it ends.
 */
export class TxnRecorder {
  /** The INSERT statements the transaction ran, by SQL text. */
  readonly inserts = new Map<string, InsertShape | null>();

  private constructor(
    private readonly raw: SessionExports,
    private readonly mem: WasmMemory,
    private session: Ptr,
    /** `PRAGMA schema_version` of the transaction's snapshot. */
    readonly schemaVersion: number,
  ) {}

  /** Starts recording; returns null if SQLite cannot (the transaction then writes as a plain writer). */
  static start(raw: RawExports, mem: WasmMemory, db: Ptr, schemaVersion: number): TxnRecorder | null {
    const r = raw as SessionExports;
    const out = raw.sqlite3_malloc(8);
    const zMain = mem.allocCString('main');
    try {
      if (r.sqlite3session_create(db, zMain, out) !== SQLITE_OK) return null;
      const session = new Int32Array(mem.heap().buffer, out, 1)[0];
      new Int32Array(mem.heap().buffer, out + 4, 1)[0] = 1;
      // Tables without a PRIMARY KEY are tracked by rowid.
      if (r.sqlite3session_object_config(session, OBJCONFIG_ROWID, out + 4) !== SQLITE_OK || r.sqlite3session_attach(session, 0) !== SQLITE_OK) {
        r.sqlite3session_delete(session);
        return null;
      }
      return new TxnRecorder(r, mem, session, schemaVersion);
    } finally {
      raw.sqlite3_free(zMain);
      raw.sqlite3_free(out);
    }
  }

  /** The transaction's changes so far, as a changeset. */
  changeset(): Uint8Array {
    const raw = this.raw;
    const out = raw.sqlite3_malloc(8);
    try {
      const rc = raw.sqlite3session_changeset(this.session, out, out + 4);
      if (rc !== SQLITE_OK) throw conflictError(`the transaction's changes could not be recorded (SQLite error ${rc})`);
      const h = new Int32Array(this.mem.heap().buffer, out, 2);
      const [n, p] = [h[0], h[1]];
      const bytes = this.mem.bytes(p, n);
      raw.sqlite3_free(p);
      return bytes;
    } finally {
      raw.sqlite3_free(out);
    }
  }

  dispose(): void {
    if (this.session !== 0) this.raw.sqlite3session_delete(this.session);
    this.session = 0;
  }
}

/** Replays a changeset on the latest version for one connection. */
export class ChangesetReplayer {
  private readonly raw: SessionExports;
  private readonly shapes = new Map<string, TableShape>();

  constructor(
    raw: RawExports,
    private readonly mem: WasmMemory,
    private readonly installer: FunctionInstaller,
    private readonly db: Ptr,
    /** Runs a query and returns its rows (used for schema and rowid lookups). */
    private readonly query: (sql: string, params?: readonly SqlValue[]) => SqlValue[][],
  ) {
    this.raw = raw as SessionExports;
  }

  /**
   * Reads what the replay needs from the transaction's own view, before it is
   * rolled back: per table changed, the key column and (with inserts) the
   * greatest rowid that existed in the snapshot.
   */
  analyse(changes: Uint8Array, inserts: Iterable<InsertShape | null>): Map<string, TableKeys> {
    const tables = new Map<string, TableKeys>();
    const deletedMax = new Map<string, bigint>();
    this.forEach(changes, (it, h) => {
      let t = tables.get(h.table);
      if (t === undefined) {
        t = { keyColumn: this.rowidKeyOf(h.table, h.nCol), inserted: new Set(), snapshotMax: 0n, explicit: false };
        tables.set(h.table, t);
      }
      if (t.keyColumn < 0 || (h.op !== SQLITE_INSERT && h.op !== SQLITE_DELETE)) return;
      const key = this.valueOf(it, t.keyColumn, h.op === SQLITE_INSERT);
      if (typeof key !== 'number' && typeof key !== 'bigint') return;
      if (h.op === SQLITE_INSERT) t.inserted.add(BigInt(key));
      else if (BigInt(key) > (deletedMax.get(h.table) ?? 0n)) deletedMax.set(h.table, BigInt(key));
    });
    for (const ins of inserts) {
      if (ins === null) continue;
      for (const [table, t] of tables) {
        if (table.toLowerCase() !== ins.table || t.keyColumn < 0) continue;
        const keyName = this.shapeOf(table).columns[t.keyColumn]?.toLowerCase() ?? null;
        // Without a column list every declared column is given: an INTEGER PRIMARY KEY too, not an implicit rowid.
        if (ins.columns === null ? keyName !== null : ins.columns.some((c) => c === keyName || ROWID_NAMES.has(c))) t.explicit = true;
      }
    }
    for (const [table, t] of tables) {
      if (t.keyColumn < 0 || t.inserted.size === 0) continue;
      // Walk down from the top: the first rowid this transaction did not insert existed before it.
      let max = deletedMax.get(table) ?? 0n;
      const top = this.query(`SELECT rowid FROM main.${quoteId(table)} ORDER BY rowid DESC LIMIT ?`, [t.inserted.size + 1]);
      for (const [v] of top) {
        const k = BigInt(v as number | bigint);
        if (!t.inserted.has(k)) {
          if (k > max) max = k;
          break;
        }
      }
      t.snapshotMax = max;
    }
    return tables;
  }

  /**
   * Applies `changes` inside the caller's open transaction on the latest
   * version. Throws a conflict error (the caller rolls back) when a change
   * cannot be applied as it was made. Returns old → new rowids of re-inserted rows.
   */
  apply(changes: Uint8Array, keys: ReadonlyMap<string, TableKeys>): Map<string, Map<bigint, bigint>> {
    const raw = this.raw;
    const renumber: Renumber[] = [];
    let reason: string | null = null;
    const onConflict = (_ctx: number, kind: number, it: number): number => {
      try {
        const h = this.header(it);
        if (h.table === 'sqlite_sequence') return CHANGESET_OMIT;
        if (kind === CHANGESET_CONFLICT && h.op === SQLITE_INSERT) {
          const t = keys.get(h.table);
          const key = t && t.keyColumn >= 0 ? this.valueOf(it, t.keyColumn, true) : null;
          // SQLite assigns max(rowid)+1: such keys form a block just past the snapshot's last row.
          const assigned =
            t !== undefined && !t.explicit && (typeof key === 'number' || typeof key === 'bigint') &&
            BigInt(key) > t.snapshotMax && BigInt(key) <= t.snapshotMax + BigInt(t.inserted.size);
          if (t && assigned && key !== null) {
            const values: SqlValue[] = [];
            for (let i = 0; i < h.nCol; i++) values.push(this.valueOf(it, i, true));
            renumber.push({ table: h.table, key: BigInt(key), keyColumn: t.keyColumn, values });
            return CHANGESET_OMIT;
          }
          reason = `another connection inserted the same key into ${h.table}`;
        } else if (kind === CHANGESET_DATA) {
          reason = `a row of ${h.table} this transaction changed was changed by another connection`;
        } else if (kind === CHANGESET_NOTFOUND) {
          reason = `a row of ${h.table} this transaction changed was deleted by another connection`;
        } else if (kind === CHANGESET_CONSTRAINT) {
          reason = `a change to ${h.table} violates a constraint after another connection's commit`;
        } else {
          reason = 'a foreign key constraint fails after another connection\'s commit';
        }
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
      }
      return CHANGESET_ABORT;
    };
    const xConflict = this.installer.installFunction('i(pip)', onConflict);
    const p = raw.sqlite3_malloc(Math.max(1, changes.length));
    const out = raw.sqlite3_malloc(4);
    // Triggers already ran in the transaction: their changes are in the changeset.
    this.raw.sqlite3__wasm_db_config_ip(this.db, DBCONFIG_ENABLE_TRIGGER, -1, out);
    const triggers = new Int32Array(this.mem.heap().buffer, out, 1)[0];
    this.raw.sqlite3__wasm_db_config_ip(this.db, DBCONFIG_ENABLE_TRIGGER, 0, out);
    try {
      this.mem.heap().set(changes, p);
      const rc = raw.sqlite3changeset_apply_v2(this.db, changes.length, p, 0, xConflict, 0, 0, 0, APPLY_FKNOACTION);
      if (rc === SQLITE_ABORT || reason !== null) {
        throw conflictError(reason ?? 'another connection committed conflicting changes');
      }
      if (rc !== SQLITE_OK) throw conflictError(`the transaction could not be replayed on the latest version (SQLite error ${rc})`);
      return this.reinsert(renumber, keys);
    } finally {
      this.raw.sqlite3__wasm_db_config_ip(this.db, DBCONFIG_ENABLE_TRIGGER, triggers, out);
      raw.sqlite3_free(out);
      raw.sqlite3_free(p);
      this.installer.uninstallFunction(xConflict);
    }
  }

  /** Inserts rows whose assigned rowid was taken, under fresh rowids. */
  private reinsert(rows: readonly Renumber[], keys: ReadonlyMap<string, TableKeys>): Map<string, Map<bigint, bigint>> {
    const moved = new Map<string, Map<bigint, bigint>>();
    if (rows.length === 0) return moved;
    // A row another table points at by foreign key cannot move without breaking the reference.
    const referenced = new Set<string>();
    for (const table of keys.keys()) {
      for (const fk of this.query(`SELECT "table" FROM pragma_foreign_key_list(?)`, [table])) referenced.add(String(fk[0]).toLowerCase());
    }
    const raw = this.raw;
    // In the order they were first inserted, so new rowids keep that order.
    const ordered = [...rows].sort((x, y) => (x.table < y.table ? -1 : x.table > y.table ? 1 : x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (const row of ordered) {
      if (referenced.has(row.table.toLowerCase())) {
        throw conflictError(`another connection inserted the same rowid into ${row.table}, which foreign keys reference`);
      }
      const shape = this.shapeOf(row.table);
      const names: string[] = [];
      const values: SqlValue[] = [];
      shape.columns.forEach((name, i) => {
        if (i === row.keyColumn || name === null) return;
        names.push(quoteId(name));
        values.push(row.values[i]);
      });
      const sql = names.length
        ? `INSERT INTO main.${quoteId(row.table)}(${names.join(',')}) VALUES(${names.map(() => '?').join(',')})`
        : `INSERT INTO main.${quoteId(row.table)} DEFAULT VALUES`;
      this.query(sql, values);
      let m = moved.get(row.table);
      if (m === undefined) moved.set(row.table, (m = new Map()));
      m.set(row.key, raw.sqlite3_last_insert_rowid(this.db));
    }
    return moved;
  }

  /** The changeset column layout of `table`: its stored columns, after an implicit rowid if any. */
  private shapeOf(table: string): TableShape {
    let shape = this.shapes.get(table);
    if (shape !== undefined) return shape;
    const cols = this.query(`SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) WHERE hidden IN (0, 1)`, [table]);
    const pks = cols.filter((c) => Number(c[2]) > 0);
    const withoutRowid = this.query(`SELECT wr FROM pragma_table_list WHERE schema='main' AND name=?`, [table]).some((r) => Number(r[0]) === 1);
    const names = cols.map((c) => String(c[0]));
    if (pks.length === 0 && !withoutRowid) {
      shape = { columns: [null, ...names], rowidKey: 0 };
    } else {
      const alias = pks.length === 1 && !withoutRowid && String(pks[0][1]).toUpperCase() === 'INTEGER';
      shape = { columns: names, rowidKey: alias ? cols.indexOf(pks[0]) : -1 };
    }
    this.shapes.set(table, shape);
    return shape;
  }

  /** The column holding the rowid in `table`'s changes, or -1 when its key is not a rowid. */
  private rowidKeyOf(table: string, nCol: number): number {
    if (table === 'sqlite_sequence') return -1;
    const shape = this.shapeOf(table);
    return shape.columns.length === nCol ? shape.rowidKey : -1;
  }

  private forEach(changes: Uint8Array, fn: (it: Ptr, h: ChangeHeader) => void): void {
    const raw = this.raw;
    const p = raw.sqlite3_malloc(Math.max(1, changes.length));
    const pp = raw.sqlite3_malloc(4);
    try {
      this.mem.heap().set(changes, p);
      if (raw.sqlite3changeset_start(pp, changes.length, p) !== SQLITE_OK) throw conflictError('the transaction\'s changes could not be read');
      const it = new Int32Array(this.mem.heap().buffer, pp, 1)[0];
      try {
        let rc: number;
        while ((rc = raw.sqlite3changeset_next(it)) === SQLITE_ROW) fn(it, this.header(it));
        if (rc !== SQLITE_DONE) throw conflictError(`the transaction's changes could not be read (SQLite error ${rc})`);
      } finally {
        raw.sqlite3changeset_finalize(it);
      }
    } finally {
      raw.sqlite3_free(pp);
      raw.sqlite3_free(p);
    }
  }

  private header(it: Ptr): ChangeHeader {
    return changeHeader(this.raw, this.mem, it);
  }

  /** Column `i` of the current change: its new value (INSERT) or old value (DELETE). */
  private valueOf(it: Ptr, i: number, isNew: boolean): SqlValue {
    const out = this.raw.sqlite3_malloc(4);
    try {
      const rc = isNew ? this.raw.sqlite3changeset_new(it, i, out) : this.raw.sqlite3changeset_old(it, i, out);
      const v = new Int32Array(this.mem.heap().buffer, out, 1)[0];
      return rc === SQLITE_OK && v !== 0 ? readValue(this.raw, this.mem, v) : null;
    } finally {
      this.raw.sqlite3_free(out);
    }
  }
}

