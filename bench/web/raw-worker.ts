/**
 * The raw side of the one-tab browser benchmark: a dedicated worker running
 * the official `@sqlite.org/sqlite-wasm` through its oo1 API on its
 * `opfs-sahpool` VFS (the official build's fastest persistent VFS; it needs no
 * COOP/COEP). It answers the minimal protocol of raw-protocol.ts:
 *
 * - `exec` / `many`: one statement (or one batch) per message, on statements
 *   prepared once per database and reused; what the main thread sees is the
 *   least any app pays to use SQLite in a worker;
 * - `loop` / `durableLoop`: a whole workload row inside the worker, timed
 *   here, the same code as the Node benchmark's raw driver (bench/lib/systems.ts).
 */
import init, { type Database, type PreparedStatement, type SAHPoolUtil, type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { SQL, buildData, type RowId, type WorkloadData } from '../lib/workload.js';
import type { DbSettings, Timed } from './page-api.js';
import type { Bindable, InitInfo, RawKind, RawRequest, RawResults } from './raw-protocol.js';
import { serveRequests } from './worker-client.js';

/** The VFS's pool directory: only this worker uses it. */
const POOL_DIRECTORY = '.bench-sahpool';

interface OpenDb {
  readonly db: Database;
  readonly file: string;
  /** Statements prepared by `exec` / `many`, reused until close. */
  readonly stmts: Map<string, PreparedStatement>;
}

let sqlite3: Sqlite3Static | null = null;
let pool: SAHPoolUtil | null = null;
let data: WorkloadData | null = null;
const dbs = new Map<string, OpenDb>();

function need<T>(v: T | null, what: string): T {
  if (v === null) throw new Error(`raw worker: ${what} not initialised`);
  return v;
}

function dbOf(name: string): OpenDb {
  const d = dbs.get(name);
  if (d === undefined) throw new Error(`raw worker: database ${name} is not open`);
  return d;
}

function stmtOf(d: OpenDb, sql: string): PreparedStatement {
  let st = d.stmts.get(sql);
  if (st === undefined) d.stmts.set(sql, (st = d.db.prepare(sql)));
  return st;
}

function settings(db: Database, storage: string): DbSettings {
  return {
    sqliteVersion: String(db.selectValue('SELECT sqlite_version()')),
    pageSize: Number(db.selectValue('PRAGMA page_size')),
    journalMode: String(db.selectValue('PRAGMA journal_mode')),
    synchronous: Number(db.selectValue('PRAGMA synchronous')),
    storage,
  };
}

async function initWorker(req: Extract<RawRequest, { t: 'init' }>): Promise<InitInfo> {
  const s = (sqlite3 ??= await init());
  pool ??= await s.installOpfsSAHPoolVfs({ directory: POOL_DIRECTORY, clearOnInit: true, initialCapacity: req.capacity });
  await pool.reserveMinimumCapacity(req.capacity);
  data = buildData(req.sizes);
  return { vfs: pool.vfsName, capacity: Number(pool.getCapacity()), sqliteVersion: s.version.libVersion };
}

function withStmt<T>(db: Database, sql: string, fn: (st: PreparedStatement) => T): T {
  const st = db.prepare(sql);
  try {
    return fn(st);
  } finally {
    st.finalize();
  }
}

function inTxn(db: Database, fn: () => void): void {
  db.exec('BEGIN');
  try {
    fn();
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

/** One workload row, run entirely in this worker (mirrors the Node benchmark's raw driver). */
function loop(db: Database, row: RowId, d: WorkloadData, rep: number): number {
  switch (row) {
    case 'bulk_insert_execute':
    case 'bulk_insert_executemany':
      withStmt(db, row === 'bulk_insert_execute' ? SQL.insert : SQL.insertMany, (st) =>
        inTxn(db, () => {
          for (const r of d.bulkRows) st.bind(r).stepReset();
        }),
      );
      return 0;
    case 'autocommit_insert':
      throw new Error('autocommit_insert runs through durableLoop');
    case 'point_select':
    case 'point_select_cursor':
      return withStmt(db, SQL.point, (st) => {
        let sum = 0;
        for (const k of d.pointKeys) {
          st.bind(1, k);
          if (!st.step()) throw new Error(`no row ${k}`);
          sum += st.get([])[0] as number;
          st.reset();
        }
        return sum;
      });
    case 'range_scan':
      return withStmt(db, SQL.range, (st) => {
        let sum = 0;
        for (const [a, b] of d.ranges) {
          st.bind([a, b]);
          const rows: unknown[][] = [];
          while (st.step()) rows.push(st.get([]));
          st.reset();
          for (const r of rows) sum += r[0] as number;
        }
        return sum;
      });
    case 'update':
      withStmt(db, SQL.update, (st) =>
        inTxn(db, () => {
          for (const u of d.updates[rep]) st.bind(u).stepReset();
        }),
      );
      return 0;
    case 'delete':
      withStmt(db, SQL.delete, (st) =>
        inTxn(db, () => {
          for (const k of d.deleteKeys[rep]) st.bind(1, k).stepReset();
        }),
      );
      return 0;
  }
}

/** Every request but `init`, answered synchronously (no promise between the message and the reply). */
function handle(req: Exclude<RawRequest, { t: 'init' }>): RawResults[RawKind] {
  switch (req.t) {
    case 'open': {
      const p = need(pool, 'the VFS');
      if (dbs.has(req.db)) throw new Error(`raw worker: database ${req.db} is already open`);
      const db = new p.OpfsSAHPoolDb(req.file);
      dbs.set(req.db, { db, file: req.file, stmts: new Map() });
      for (const sql of req.schema) db.exec(sql);
      return settings(db, p.vfsName);
    }
    case 'exec': {
      const st = stmtOf(dbOf(req.db), req.sql);
      try {
        if (req.params !== null) st.bind(req.params as Bindable[]);
        const rows: unknown[][] = [];
        while (st.step()) rows.push(st.get([]));
        return rows;
      } finally {
        st.reset();
      }
    }
    case 'many': {
      const st = stmtOf(dbOf(req.db), req.sql);
      for (const r of req.rows) st.bind(r as Bindable[]).stepReset();
      return req.rows.length;
    }
    case 'loop': {
      const d = need(data, 'the workload data');
      const t0 = performance.now();
      const checksum = loop(dbOf(req.db).db, req.row, d, req.rep);
      const timed: Timed = { ms: performance.now() - t0, checksum };
      return timed;
    }
    case 'durableLoop': {
      const d = need(data, 'the workload data');
      const db = dbOf(req.db);
      const rows = d.autocommitRows.slice(req.from, req.to);
      const t0 = performance.now();
      const st = stmtOf(db, SQL.insert);
      for (const r of rows) st.bind(r).stepReset();
      return performance.now() - t0;
    }
    case 'close': {
      const d = dbOf(req.db);
      for (const st of d.stmts.values()) st.finalize();
      d.db.close();
      dbs.delete(req.db);
      if (req.unlink) need(pool, 'the VFS').unlink(d.file);
      return null;
    }
    case 'ping':
      return null;
  }
}

serveRequests<RawRequest>((req) => (req.t === 'init' ? initWorker(req) : handle(req)));
