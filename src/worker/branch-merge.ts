/**
 * Diff and merge of branches with SQLite's session extension.
 *
 * Both sides are attached to one connection as read-only views at fixed
 * versions (the branch's head and its base). `sqlite3session_diff` gives the
 * changeset that turns the base into the head, table by table; its old values
 * are the base's rows. Merging applies that changeset to the target branch
 * with `sqlite3changeset_apply_v2`: a row the target changed too since the
 * base (or deleted, or inserted with the same key) is a conflict, which
 * `on_conflict` settles: 'abort' (nothing is merged), 'ours' (the target's
 * row stays) or 'theirs' (the branch's row wins).
 *
 * Schema changes are not merged: when the schemas differ the operation is
 * refused with the differences listed.
 */
import { changeHeader, type ChangeHeader } from './changeset.js';
import { EngineError } from './engine-error.js';
import type { FunctionInstaller } from './txn-rebase.js';
import type { Ptr, RawExports } from './sqlite-module.js';
import { readValue, type SqlValue } from './values.js';
import type { WasmMemory } from './wasm-memory.js';

interface DiffExports extends RawExports {
  sqlite3session_create(db: Ptr, zDb: Ptr, ppSession: Ptr): number;
  sqlite3session_object_config(s: Ptr, op: number, pArg: Ptr): number;
  sqlite3session_attach(s: Ptr, zTab: Ptr): number;
  sqlite3session_diff(s: Ptr, zFromDb: Ptr, zTbl: Ptr, pzErrMsg: Ptr): number;
  sqlite3session_changeset(s: Ptr, pnChangeset: Ptr, ppChangeset: Ptr): number;
  sqlite3session_delete(s: Ptr): void;
  sqlite3changeset_start(pp: Ptr, n: number, p: Ptr): number;
  sqlite3changeset_next(it: Ptr): number;
  sqlite3changeset_op(it: Ptr, pzTab: Ptr, pnCol: Ptr, pOp: Ptr, pbIndirect: Ptr): number;
  sqlite3changeset_finalize(it: Ptr): number;
  sqlite3changeset_new(it: Ptr, i: number, ppValue: Ptr): number;
  sqlite3changeset_conflict(it: Ptr, i: number, ppValue: Ptr): number;
  sqlite3changeset_apply_v2(
    db: Ptr, n: number, p: Ptr, xFilter: Ptr, xConflict: Ptr, pCtx: Ptr, ppRebase: Ptr, pnRebase: Ptr, flags: number,
  ): number;
  sqlite3__wasm_db_config_ip(db: Ptr, op: number, v: number, pOut: Ptr): number;
}

const SQLITE_OK = 0;
const SQLITE_ROW = 100;
const SQLITE_INSERT = 18;
const SQLITE_DELETE = 9;
const SQLITE_UPDATE = 23;
const OBJCONFIG_ROWID = 2;
const DBCONFIG_ENABLE_TRIGGER = 1003;
const CHANGESET_DATA = 1;
const CHANGESET_NOTFOUND = 2;
const CHANGESET_CONFLICT = 3;
const CHANGESET_OMIT = 0;
const CHANGESET_REPLACE = 1;
const CHANGESET_ABORT = 2;
const APPLY_FKNOACTION = 0x0008;

export type OnConflict = 'abort' | 'ours' | 'theirs';

export interface TableDiff {
  table: string;
  added: number;
  changed: number;
  removed: number;
}

export interface SchemaDifference {
  readonly object: string;
  readonly type: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly side: string;
}

export interface MergeReport {
  branch: string;
  into: string;
  /** Row changes of the branch applied to the target, per table. */
  tables: TableDiff[];
  merged: number;
  conflicts: number;
  /** How conflicts were settled ('abort' never gets here with conflicts: it raises). */
  on_conflict: OnConflict;
  /** The target's version the merge committed (null when there was nothing to merge). */
  version: number | null;
}

function sameValue(a: SqlValue, b: SqlValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a == b;
  return a === b;
}

function quoteId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

type Query = (sql: string, params?: readonly SqlValue[]) => SqlValue[][];

/** The schema objects of `schema` (name → type and SQL), internal tables left out. */
export function schemaOf(query: Query, schema: string): Map<string, { type: string; sql: string }> {
  const rows = query(
    `SELECT name, type, coalesce(sql, '') FROM ${quoteId(schema)}.sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
  );
  return new Map(rows.map((r) => [String(r[0]), { type: String(r[1]), sql: String(r[2]).replace(/\s+/g, ' ') }]));
}

/** Objects added, removed or changed from `from` to `to` (labelled `side`). */
export function schemaDifferences(
  from: Map<string, { type: string; sql: string }>,
  to: Map<string, { type: string; sql: string }>,
  side: string,
): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const [name, o] of to) {
    const was = from.get(name);
    if (was === undefined) out.push({ object: name, type: o.type, change: 'added', side });
    else if (was.sql !== o.sql) out.push({ object: name, type: o.type, change: 'changed', side });
  }
  for (const [name, o] of from) if (!to.has(name)) out.push({ object: name, type: o.type, change: 'removed', side });
  return out;
}

export function describeSchemaDifferences(diffs: readonly SchemaDifference[]): string {
  return diffs.map((d) => `${d.type} ${d.object} ${d.change} on ${d.side}`).join('; ');
}

export class ChangesetTools {
  private readonly raw: DiffExports;

  constructor(
    raw: RawExports,
    private readonly mem: WasmMemory,
    private readonly installer: FunctionInstaller,
  ) {
    this.raw = raw as DiffExports;
  }

  private fail(message: string): never {
    throw new EngineError({ kind: 'OperationalError', message });
  }

  /** The changeset that turns `fromSchema` into `toSchema` for `tables` (both attached to `db`). */
  diff(db: Ptr, toSchema: string, fromSchema: string, tables: readonly string[]): Uint8Array {
    const raw = this.raw;
    const out = raw.sqlite3_malloc(8);
    const zTo = this.mem.allocCString(toSchema);
    const zFrom = this.mem.allocCString(fromSchema);
    let session = 0;
    try {
      if (raw.sqlite3session_create(db, zTo, out) !== SQLITE_OK) this.fail('cannot start a diff session');
      session = new Int32Array(this.mem.heap().buffer, out, 1)[0];
      new Int32Array(this.mem.heap().buffer, out + 4, 1)[0] = 1;
      raw.sqlite3session_object_config(session, OBJCONFIG_ROWID, out + 4);
      for (const t of tables) {
        const zTab = this.mem.allocCString(t);
        try {
          if (raw.sqlite3session_attach(session, zTab) !== SQLITE_OK) this.fail(`cannot diff table ${t}`);
          new Int32Array(this.mem.heap().buffer, out, 1)[0] = 0;
          const rc = raw.sqlite3session_diff(session, zFrom, zTab, out);
          const pErr = new Int32Array(this.mem.heap().buffer, out, 1)[0];
          if (rc !== SQLITE_OK) {
            const msg = pErr ? this.mem.cstr(pErr) : null;
            if (pErr) raw.sqlite3_free(pErr);
            this.fail(`cannot diff table ${t}: ${msg ?? `SQLite error ${rc}`}`);
          }
        } finally {
          raw.sqlite3_free(zTab);
        }
      }
      if (raw.sqlite3session_changeset(session, out, out + 4) !== SQLITE_OK) this.fail('cannot build the changeset');
      const [n, p] = new Int32Array(this.mem.heap().buffer, out, 2);
      const bytes = this.mem.heap().slice(p, p + n);
      raw.sqlite3_free(p);
      return bytes;
    } finally {
      if (session !== 0) raw.sqlite3session_delete(session);
      raw.sqlite3_free(zTo);
      raw.sqlite3_free(zFrom);
      raw.sqlite3_free(out);
    }
  }

  /** Counts a changeset's inserts, updates and deletes per table. */
  count(changes: Uint8Array): TableDiff[] {
    const raw = this.raw;
    const tables = new Map<string, TableDiff>();
    if (changes.length === 0) return [];
    const p = raw.sqlite3_malloc(changes.length);
    const out = raw.sqlite3_malloc(16);
    try {
      this.mem.heap().set(changes, p);
      if (raw.sqlite3changeset_start(out, changes.length, p) !== SQLITE_OK) this.fail('cannot read the changeset');
      const it = new Int32Array(this.mem.heap().buffer, out, 1)[0];
      try {
        while (raw.sqlite3changeset_next(it) === SQLITE_ROW) {
          const { table, op } = this.header(it);
          let t = tables.get(table);
          if (t === undefined) tables.set(table, (t = { table, added: 0, changed: 0, removed: 0 }));
          if (op === SQLITE_INSERT) t.added++;
          else if (op === SQLITE_UPDATE) t.changed++;
          else if (op === SQLITE_DELETE) t.removed++;
        }
      } finally {
        raw.sqlite3changeset_finalize(it);
      }
    } finally {
      raw.sqlite3_free(out);
      raw.sqlite3_free(p);
    }
    return [...tables.values()];
  }

  private header(it: Ptr): ChangeHeader {
    return changeHeader(this.raw, this.mem, it);
  }

  /** Whether the target's conflicting row already holds every value the change sets. */
  private sameAsTarget(it: Ptr, nCol: number): boolean {
    const raw = this.raw;
    const out = raw.sqlite3_malloc(4);
    try {
      for (let i = 0; i < nCol; i++) {
        const heap = (): Int32Array => new Int32Array(this.mem.heap().buffer, out, 1);
        heap()[0] = 0;
        if (raw.sqlite3changeset_new(it, i, out) !== SQLITE_OK) return false;
        const pNew = heap()[0];
        if (pNew === 0) continue; // an UPDATE leaves this column as it was
        heap()[0] = 0;
        if (raw.sqlite3changeset_conflict(it, i, out) !== SQLITE_OK) return false;
        const pCur = heap()[0];
        if (pCur === 0 || !sameValue(readValue(raw, this.mem, pNew), readValue(raw, this.mem, pCur))) return false;
      }
      return true;
    } finally {
      raw.sqlite3_free(out);
    }
  }

  /**
   * Applies `changes` to `db`'s main schema inside the caller's transaction,
   * settling conflicts by `policy`. Returns the number of conflicts; with
   * 'abort' a conflict raises ConflictError (the caller rolls back).
   */
  apply(db: Ptr, changes: Uint8Array, policy: OnConflict, branch: string): { conflicts: number; skipped: number } {
    const raw = this.raw;
    let conflicts = 0;
    let skipped = 0;
    let reason: string | null = null;
    const onConflict = (_ctx: number, kind: number, it: number): number => {
      const { table, nCol, op } = this.header(it);
      // Both sides made the same change (or the change was merged before): nothing to settle.
      if (op === SQLITE_DELETE && kind === CHANGESET_NOTFOUND) return CHANGESET_OMIT;
      if ((kind === CHANGESET_DATA || kind === CHANGESET_CONFLICT) && op !== SQLITE_DELETE && this.sameAsTarget(it, nCol)) return CHANGESET_OMIT;
      conflicts++;
      if (policy === 'abort') {
        reason ??=
          kind === CHANGESET_DATA || kind === CHANGESET_CONFLICT
            ? `a row of ${table} changed on both branches`
            : kind === CHANGESET_NOTFOUND
              ? `a row of ${table} changed on '${branch}' was deleted on the target`
              : `a change to ${table} violates a constraint on the target`;
        return CHANGESET_ABORT;
      }
      // theirs: the branch's row wins where the row is still there to replace; a row the target deleted stays deleted.
      if (policy === 'theirs' && (kind === CHANGESET_DATA || kind === CHANGESET_CONFLICT)) return CHANGESET_REPLACE;
      skipped++;
      return CHANGESET_OMIT;
    };
    const xConflict = this.installer.installFunction('i(pip)', onConflict);
    const p = raw.sqlite3_malloc(Math.max(1, changes.length));
    const out = raw.sqlite3_malloc(4);
    raw.sqlite3__wasm_db_config_ip(db, DBCONFIG_ENABLE_TRIGGER, -1, out);
    const triggers = new Int32Array(this.mem.heap().buffer, out, 1)[0];
    // The branch's changeset already holds what its triggers did.
    raw.sqlite3__wasm_db_config_ip(db, DBCONFIG_ENABLE_TRIGGER, 0, out);
    try {
      this.mem.heap().set(changes, p);
      const rc = raw.sqlite3changeset_apply_v2(db, changes.length, p, 0, xConflict, 0, 0, 0, APPLY_FKNOACTION);
      if (reason !== null) {
        throw new EngineError({
          kind: 'OperationalError',
          message: `merge of '${branch}' aborted: ${reason} (on_conflict='ours' keeps the target's rows, 'theirs' takes the branch's)`,
          // A ConflictError in the API; not a busy code, which the engine would retry.
          retryable: true,
        });
      }
      if (rc !== SQLITE_OK) this.fail(`merge of '${branch}' failed (SQLite error ${rc})`);
      return { conflicts, skipped };
    } finally {
      raw.sqlite3__wasm_db_config_ip(db, DBCONFIG_ENABLE_TRIGGER, triggers, out);
      raw.sqlite3_free(out);
      raw.sqlite3_free(p);
      this.installer.uninstallFunction(xConflict);
    }
  }
}
