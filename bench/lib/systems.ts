/**
 * The three systems under test, each driven the way its users would drive it:
 * - heliosdb: our async `sqlite3`-style API (imported as 'heliosdb-nano');
 * - sqlite-wasm: raw `@sqlite.org/sqlite-wasm` oo1 on its own module instance,
 *   with our VFS (`registerVfs` + `NodeBackend`) registered on it under the
 *   same name the engine uses, so both WASM systems do identical file I/O;
 * - better-sqlite3: native SQLite with its own unix VFS.
 */
import { createRequire } from 'node:module';
import init, { type Database, type PreparedStatement, type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import * as sqlite3 from 'heliosdb-nano';
import type * as VfsApi from '../../dist/vfs/index.js';
import { SCHEMA, SCHEMA_MANY, SQL, type ItemRow, type RowId, type SystemId, type WorkloadData } from './workload.js';

/** The VFS name our engine registers for Node files (src/worker/engine.ts). */
export const VFS_NAME = 'heliosdb-node';

/** Settings read back from each open database. */
export interface DbSettings {
  readonly sqliteVersion: string;
  readonly pageSize: number;
  readonly journalMode: string;
  readonly synchronous: number;
}

/** What the bench needs from each system. */
export interface Driver {
  readonly id: SystemId;
  /** Opens (creating) `path` and creates the schema; applies journal_mode=DELETE, synchronous=FULL. */
  open(path: string): Promise<DbSettings>;
  /** Runs one workload row (not the durable one); returns a checksum (reads) or 0. */
  run(row: RowId, data: WorkloadData, rep: number): Promise<number>;
  /** The durable row: opens a second database at `path` in autocommit mode, with the schema. */
  openDurable(path: string): Promise<void>;
  /** Inserts `rows` on the durable database, one autocommit transaction each. */
  durableChunk(rows: readonly ItemRow[]): Promise<void>;
  /** `count(*)` of the durable database's `items`; closes it. */
  closeDurable(): Promise<number>;
  /** Untimed clean-up between rows (drops the executemany table). */
  between(row: RowId): Promise<void>;
  /** `count(*)` and `total(score)` of `items`, to compare systems. */
  summary(): Promise<[number, number]>;
  close(): Promise<void>;
}

const PRAGMAS = ['PRAGMA journal_mode=DELETE', 'PRAGMA synchronous=FULL'];

function notHere(row: RowId): never {
  throw new Error(`${row} runs through openDurable/durableChunk`);
}

// ---------------------------------------------------------------------------
// heliosdb-nano

type Conn = sqlite3.Connection;

class HeliosDriver implements Driver {
  readonly id = 'heliosdb' as const;
  private conn: Conn | null = null;

  private get c(): Conn {
    if (!this.conn) throw new Error('heliosdb: not open');
    return this.conn;
  }

  async open(path: string): Promise<DbSettings> {
    const conn = await sqlite3.connect(path);
    this.conn = conn;
    for (const p of PRAGMAS) await conn.execute(p);
    await conn.execute(SCHEMA);
    await conn.execute(SCHEMA_MANY);
    await conn.commit();
    const one = async (sql: string): Promise<unknown> => ((await (await conn.execute(sql)).fetchone()) as unknown[])[0];
    return {
      sqliteVersion: String(await one('SELECT sqlite_version()')),
      pageSize: Number(await one('PRAGMA page_size')),
      journalMode: String(await one('PRAGMA journal_mode')),
      synchronous: Number(await one('PRAGMA synchronous')),
    };
  }

  async run(row: RowId, d: WorkloadData, rep: number): Promise<number> {
    const conn = this.c;
    switch (row) {
      case 'bulk_insert_execute': {
        const cur = conn.cursor();
        for (const r of d.bulkRows) await cur.execute(SQL.insert, r);
        await conn.commit();
        return 0;
      }
      case 'bulk_insert_executemany': {
        const cur = conn.cursor();
        await cur.executemany(SQL.insertMany, d.bulkRows);
        await conn.commit();
        return 0;
      }
      case 'autocommit_insert':
        return notHere(row);
      case 'point_select': {
        let sum = 0;
        for (const k of d.pointKeys) {
          const r = (await (await conn.execute(SQL.point, [k])).fetchone()) as unknown[];
          sum += r[0] as number;
        }
        return sum;
      }
      case 'point_select_cursor': {
        let sum = 0;
        const cur = conn.cursor();
        for (const k of d.pointKeys) {
          await cur.execute(SQL.point, [k]);
          const r = (await cur.fetchone()) as unknown[];
          sum += r[0] as number;
        }
        return sum;
      }
      case 'range_scan': {
        let sum = 0;
        for (const [a, b] of d.ranges) {
          const rows = (await (await conn.execute(SQL.range, [a, b])).fetchall()) as unknown[][];
          for (const r of rows) sum += r[0] as number;
        }
        return sum;
      }
      case 'update': {
        const cur = conn.cursor();
        for (const u of d.updates[rep]) await cur.execute(SQL.update, u);
        await conn.commit();
        return 0;
      }
      case 'delete': {
        const cur = conn.cursor();
        for (const k of d.deleteKeys[rep]) await cur.execute(SQL.delete, [k]);
        await conn.commit();
        return 0;
      }
    }
  }

  async between(row: RowId): Promise<void> {
    if (row === 'bulk_insert_executemany') {
      await this.c.execute('DROP TABLE items_many');
      await this.c.commit();
    }
  }

  private durable: Conn | null = null;
  private durableCur: sqlite3.Cursor | null = null;

  async openDurable(path: string): Promise<void> {
    // isolation_level=None: SQLite's own autocommit, every insert commits.
    const conn = await sqlite3.connect(path, { isolation_level: null });
    for (const p of PRAGMAS) await conn.execute(p);
    await conn.execute(SCHEMA);
    this.durable = conn;
    this.durableCur = conn.cursor();
  }

  async durableChunk(rows: readonly ItemRow[]): Promise<void> {
    const cur = this.durableCur;
    if (!cur) throw new Error('heliosdb: durable database not open');
    for (const r of rows) await cur.execute(SQL.insert, r);
  }

  async closeDurable(): Promise<number> {
    const conn = this.durable;
    if (!conn) return 0;
    const n = Number(((await (await conn.execute('SELECT count(*) FROM items')).fetchone()) as unknown[])[0]);
    await conn.close();
    this.durable = null;
    this.durableCur = null;
    return n;
  }

  async summary(): Promise<[number, number]> {
    const r = (await (await this.c.execute('SELECT count(*), total(score) FROM items')).fetchone()) as unknown[];
    return [Number(r[0]), Number(r[1])];
  }

  async close(): Promise<void> {
    await this.conn?.close();
    this.conn = null;
  }
}

// ---------------------------------------------------------------------------
// raw @sqlite.org/sqlite-wasm (oo1) on our VFS

let rawModule: Promise<Sqlite3Static> | undefined;

/** A separate sqlite-wasm instance with our VFS registered on it as 'heliosdb-node'. */
function rawSqlite(): Promise<Sqlite3Static> {
  rawModule ??= (async () => {
    const vfs = (await import(new URL('../../../dist/vfs/index.js', import.meta.url).href)) as typeof VfsApi;
    const s = await init();
    vfs.registerVfs(s, VFS_NAME, new vfs.NodeBackend());
    return s;
  })();
  return rawModule;
}

class RawWasmDriver implements Driver {
  readonly id = 'sqlite-wasm' as const;
  private db: Database | null = null;

  private get d(): Database {
    if (!this.db) throw new Error('sqlite-wasm: not open');
    return this.db;
  }

  async open(path: string): Promise<DbSettings> {
    const s = await rawSqlite();
    const db = new s.oo1.DB({ filename: path, flags: 'c', vfs: VFS_NAME });
    this.db = db;
    for (const p of PRAGMAS) db.exec(p);
    db.exec(SCHEMA);
    db.exec(SCHEMA_MANY);
    return {
      sqliteVersion: String(db.selectValue('SELECT sqlite_version()')),
      pageSize: Number(db.selectValue('PRAGMA page_size')),
      journalMode: String(db.selectValue('PRAGMA journal_mode')),
      synchronous: Number(db.selectValue('PRAGMA synchronous')),
    };
  }

  private withStmt<T>(sql: string, fn: (st: PreparedStatement) => T): T {
    const st = this.d.prepare(sql);
    try {
      return fn(st);
    } finally {
      st.finalize();
    }
  }

  private inTxn(fn: () => void): void {
    this.d.exec('BEGIN');
    try {
      fn();
      this.d.exec('COMMIT');
    } catch (e) {
      this.d.exec('ROLLBACK');
      throw e;
    }
  }

  async run(row: RowId, d: WorkloadData, rep: number): Promise<number> {
    switch (row) {
      case 'bulk_insert_execute':
      case 'bulk_insert_executemany': {
        const sql = row === 'bulk_insert_execute' ? SQL.insert : SQL.insertMany;
        this.withStmt(sql, (st) => this.inTxn(() => {
          for (const r of d.bulkRows) st.bind(r).stepReset();
        }));
        return 0;
      }
      case 'autocommit_insert':
        return notHere(row);
      case 'point_select':
      case 'point_select_cursor':
        return this.withStmt(SQL.point, (st) => {
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
        return this.withStmt(SQL.range, (st) => {
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
        this.withStmt(SQL.update, (st) => this.inTxn(() => {
          for (const u of d.updates[rep]) st.bind(u).stepReset();
        }));
        return 0;
      case 'delete':
        this.withStmt(SQL.delete, (st) => this.inTxn(() => {
          for (const k of d.deleteKeys[rep]) st.bind(1, k).stepReset();
        }));
        return 0;
    }
  }

  async between(row: RowId): Promise<void> {
    if (row === 'bulk_insert_executemany') this.d.exec('DROP TABLE items_many');
  }

  private durable: Database | null = null;
  private durableStmt: PreparedStatement | null = null;

  async openDurable(path: string): Promise<void> {
    const s = await rawSqlite();
    const db = new s.oo1.DB({ filename: path, flags: 'c', vfs: VFS_NAME });
    for (const p of PRAGMAS) db.exec(p);
    db.exec(SCHEMA);
    this.durable = db;
    this.durableStmt = db.prepare(SQL.insert);
  }

  async durableChunk(rows: readonly ItemRow[]): Promise<void> {
    const st = this.durableStmt;
    if (!st) throw new Error('sqlite-wasm: durable database not open');
    for (const r of rows) st.bind(r).stepReset();
  }

  async closeDurable(): Promise<number> {
    const db = this.durable;
    if (!db) return 0;
    this.durableStmt?.finalize();
    const n = Number(db.selectValue('SELECT count(*) FROM items'));
    db.close();
    this.durable = null;
    this.durableStmt = null;
    return n;
  }

  async summary(): Promise<[number, number]> {
    const r = this.withStmt('SELECT count(*), total(score) FROM items', (st) => {
      st.step();
      return st.get([]);
    });
    return [Number(r[0]), Number(r[1])];
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
  }
}

// ---------------------------------------------------------------------------
// better-sqlite3 (native)

interface BetterStatement {
  run(...params: readonly unknown[]): unknown;
  get(...params: readonly unknown[]): unknown;
  all(...params: readonly unknown[]): unknown[];
  raw(toggle?: boolean): BetterStatement;
}
interface BetterDatabase {
  prepare(sql: string): BetterStatement;
  exec(sql: string): unknown;
  close(): unknown;
}
type BetterCtor = new (path: string) => BetterDatabase;

const require = createRequire(import.meta.url);

class NativeDriver implements Driver {
  readonly id = 'better-sqlite3' as const;
  private db: BetterDatabase | null = null;
  private readonly Ctor = require('better-sqlite3') as BetterCtor;

  private get d(): BetterDatabase {
    if (!this.db) throw new Error('better-sqlite3: not open');
    return this.db;
  }

  async open(path: string): Promise<DbSettings> {
    const db = new this.Ctor(path);
    this.db = db;
    for (const p of PRAGMAS) db.exec(p);
    db.exec(SCHEMA);
    db.exec(SCHEMA_MANY);
    const one = (sql: string): unknown => (db.prepare(sql).raw(true).get() as unknown[])[0];
    return {
      sqliteVersion: String(one('SELECT sqlite_version()')),
      pageSize: Number(one('PRAGMA page_size')),
      journalMode: String(one('PRAGMA journal_mode')),
      synchronous: Number(one('PRAGMA synchronous')),
    };
  }

  private inTxn(fn: () => void): void {
    this.d.exec('BEGIN');
    try {
      fn();
      this.d.exec('COMMIT');
    } catch (e) {
      this.d.exec('ROLLBACK');
      throw e;
    }
  }

  async run(row: RowId, d: WorkloadData, rep: number): Promise<number> {
    const db = this.d;
    switch (row) {
      case 'bulk_insert_execute':
      case 'bulk_insert_executemany': {
        const st = db.prepare(row === 'bulk_insert_execute' ? SQL.insert : SQL.insertMany);
        this.inTxn(() => {
          for (const r of d.bulkRows) st.run(...r);
        });
        return 0;
      }
      case 'autocommit_insert':
        return notHere(row);
      case 'point_select':
      case 'point_select_cursor': {
        const st = db.prepare(SQL.point).raw(true);
        let sum = 0;
        for (const k of d.pointKeys) sum += (st.get(k) as unknown[])[0] as number;
        return sum;
      }
      case 'range_scan': {
        const st = db.prepare(SQL.range).raw(true);
        let sum = 0;
        for (const [a, b] of d.ranges) {
          for (const r of st.all(a, b) as unknown[][]) sum += r[0] as number;
        }
        return sum;
      }
      case 'update': {
        const st = db.prepare(SQL.update);
        this.inTxn(() => {
          for (const u of d.updates[rep]) st.run(...u);
        });
        return 0;
      }
      case 'delete': {
        const st = db.prepare(SQL.delete);
        this.inTxn(() => {
          for (const k of d.deleteKeys[rep]) st.run(k);
        });
        return 0;
      }
    }
  }

  async between(row: RowId): Promise<void> {
    if (row === 'bulk_insert_executemany') this.d.exec('DROP TABLE items_many');
  }

  private durable: BetterDatabase | null = null;
  private durableStmt: BetterStatement | null = null;

  async openDurable(path: string): Promise<void> {
    const db = new this.Ctor(path);
    for (const p of PRAGMAS) db.exec(p);
    db.exec(SCHEMA);
    this.durable = db;
    this.durableStmt = db.prepare(SQL.insert);
  }

  async durableChunk(rows: readonly ItemRow[]): Promise<void> {
    const st = this.durableStmt;
    if (!st) throw new Error('better-sqlite3: durable database not open');
    for (const r of rows) st.run(...r);
  }

  async closeDurable(): Promise<number> {
    const db = this.durable;
    if (!db) return 0;
    const n = Number((db.prepare('SELECT count(*) FROM items').raw(true).get() as unknown[])[0]);
    db.close();
    this.durable = null;
    this.durableStmt = null;
    return n;
  }

  async summary(): Promise<[number, number]> {
    const r = this.d.prepare('SELECT count(*), total(score) FROM items').raw(true).get() as unknown[];
    return [Number(r[0]), Number(r[1])];
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
  }
}

export function createDriver(id: SystemId): Driver {
  switch (id) {
    case 'heliosdb':
      return new HeliosDriver();
    case 'sqlite-wasm':
      return new RawWasmDriver();
    case 'better-sqlite3':
      return new NativeDriver();
  }
}

/** better-sqlite3's package version, for the results. */
export function nativeVersion(): string {
  return (require('better-sqlite3/package.json') as { version: string }).version;
}

/** @sqlite.org/sqlite-wasm's package version, for the results. */
export function wasmPackageVersion(): string {
  const pkgPath = require.resolve('@sqlite.org/sqlite-wasm/package.json');
  return (require(pkgPath) as { version: string }).version;
}
