/**
 * The core benchmark's workload: sizes, the deterministic data every system
 * gets, and the rows of the result table.
 */

/** One inserted row: id, grp, name, score (matches {@link SCHEMA}). */
export type ItemRow = [number, number, string, number];

export const SCHEMA =
  'CREATE TABLE items(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, name TEXT NOT NULL, score REAL NOT NULL)';
export const SCHEMA_MANY =
  'CREATE TABLE items_many(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, name TEXT NOT NULL, score REAL NOT NULL)';

export const SQL = {
  insert: 'INSERT INTO items(id, grp, name, score) VALUES (?, ?, ?, ?)',
  insertMany: 'INSERT INTO items_many(id, grp, name, score) VALUES (?, ?, ?, ?)',
  point: 'SELECT id, grp, name, score FROM items WHERE id = ?',
  range: 'SELECT id, grp, name, score FROM items WHERE id BETWEEN ? AND ?',
  update: 'UPDATE items SET score = ? WHERE id = ?',
  delete: 'DELETE FROM items WHERE id = ?',
} as const;

export interface Sizes {
  /** Rows of each bulk insert (one transaction). */
  readonly bulk: number;
  /** Durable autocommit inserts. */
  readonly autocommit: number;
  /** Point selects by key. */
  readonly point: number;
  /** Range scans, and rows per scan. */
  readonly scans: number;
  readonly scanWidth: number;
  /** Updates and deletes by key (each in one transaction). */
  readonly updates: number;
  readonly deletes: number;
}

/**
 * Update and delete rows run this many times per round (on fresh keys): each
 * run is short (≈ 50 ms) and its COMMIT's fsync adds several ms of disk noise,
 * so they need more samples for a stable median.
 */
export const WRITE_REPEATS = 3;

/** The durable row runs in this many interleaved chunks. */
export const DURABLE_CHUNKS = 10;

export const FULL: Sizes = { bulk: 100_000, autocommit: 10_000, point: 100_000, scans: 1_000, scanWidth: 100, updates: 10_000, deletes: 10_000 };
export const QUICK: Sizes = { bulk: 10_000, autocommit: 1_000, point: 10_000, scans: 100, scanWidth: 100, updates: 1_000, deletes: 1_000 };

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function itemRow(id: number): ItemRow {
  return [id, id % 97, `item-${id.toString(36)}-${'abcdefghij'.slice(id % 10)}`, id * 0.25];
}

/** Everything the workload feeds the systems; built once, shared by all of them. */
export interface WorkloadData {
  readonly sizes: Sizes;
  /** Rows 1..bulk. */
  readonly bulkRows: readonly ItemRow[];
  /** Rows bulk+1..bulk+autocommit. */
  readonly autocommitRows: readonly ItemRow[];
  /** Random keys in 1..bulk. */
  readonly pointKeys: readonly number[];
  /** Range scan [start, end] pairs inside 1..bulk. */
  readonly ranges: readonly (readonly [number, number])[];
  /** Per repetition: [score, id] pairs. */
  readonly updates: readonly (readonly (readonly [number, number])[])[];
  /** Per repetition: ids to delete (distinct across all repetitions). */
  readonly deleteKeys: readonly (readonly number[])[];
}

export function buildData(sizes: Sizes): WorkloadData {
  const rnd = prng(20240611);
  const key = (): number => 1 + Math.floor(rnd() * sizes.bulk);
  const bulkRows = Array.from({ length: sizes.bulk }, (_, i) => itemRow(i + 1));
  const autocommitRows = Array.from({ length: sizes.autocommit }, (_, i) => itemRow(sizes.bulk + i + 1));
  const pointKeys = Array.from({ length: sizes.point }, key);
  const ranges = Array.from({ length: sizes.scans }, () => {
    const start = 1 + Math.floor(rnd() * (sizes.bulk - sizes.scanWidth + 1));
    return [start, start + sizes.scanWidth - 1] as const;
  });
  const updates = Array.from({ length: WRITE_REPEATS }, () =>
    Array.from({ length: sizes.updates }, () => [Math.floor(rnd() * 1e6) / 8, key()] as const),
  );
  // A shuffled prefix of 1..bulk: every delete removes exactly one row.
  const ids = Array.from({ length: sizes.bulk }, (_, i) => i + 1);
  const nDelete = Math.min(sizes.deletes * WRITE_REPEATS, ids.length);
  for (let i = 0; i < nDelete; i++) {
    const j = i + Math.floor(rnd() * (ids.length - i));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  const deleteKeys = Array.from({ length: WRITE_REPEATS }, (_, r) => ids.slice(r * sizes.deletes, (r + 1) * sizes.deletes));
  return { sizes, bulkRows, autocommitRows, pointKeys, ranges, updates, deleteKeys };
}

export type SystemId = 'heliosdb' | 'sqlite-wasm' | 'better-sqlite3';
export const SYSTEMS: readonly SystemId[] = ['heliosdb', 'sqlite-wasm', 'better-sqlite3'];

export type RowId =
  | 'bulk_insert_execute'
  | 'bulk_insert_executemany'
  | 'autocommit_insert'
  | 'point_select'
  | 'point_select_cursor'
  | 'range_scan'
  | 'update'
  | 'delete';

/** One line of the result table: what is measured, and how each system does it. */
export interface RowSpec {
  readonly id: RowId;
  readonly label: string;
  /** Operations per run (for ops/s). */
  readonly ops: (s: Sizes) => number;
  /** How each system runs it. */
  readonly how: Readonly<Record<SystemId, string>>;
  /** What a finished operation guarantees. */
  readonly durability: string;
  /**
   * Fsync-bound rows run in their own phase, on a fresh database per system,
   * in chunks interleaved across the systems (disk latency on a shared machine
   * drifts by 2-3× within seconds; interleaving gives every system the same mix).
   */
  readonly durable?: boolean;
  /** Runs per round (default 1); each run is one sample. */
  readonly repeats?: number;
}

const PREPARED_LOOP_INSERT = {
  'sqlite-wasm': 'oo1 `stmt.bind(row).stepReset()` between `BEGIN` / `COMMIT`',
  'better-sqlite3': '`stmt.run(...row)` between `BEGIN` / `COMMIT`',
};

export const ROWS: readonly RowSpec[] = [
  {
    id: 'bulk_insert_execute',
    label: 'Bulk insert, 1 txn (execute per row)',
    ops: (s) => s.bulk,
    how: { heliosdb: '`await cur.execute(sql, row)` per row (implicit BEGIN), `await conn.commit()`', ...PREPARED_LOOP_INSERT },
    durability: 'durable at COMMIT (journal + db fsync)',
  },
  {
    id: 'bulk_insert_executemany',
    label: 'Bulk insert, 1 txn (executemany)',
    ops: (s) => s.bulk,
    how: { heliosdb: '`await cur.executemany(sql, rows)`, `await conn.commit()`', ...PREPARED_LOOP_INSERT },
    durability: 'durable at COMMIT (journal + db fsync)',
  },
  {
    id: 'autocommit_insert',
    label: 'Autocommit inserts (durable)',
    ops: (s) => s.autocommit,
    how: {
      heliosdb: '`isolation_level=None` connection, `await cur.execute(sql, row)` per row',
      'sqlite-wasm': 'oo1 `stmt.bind(row).stepReset()` per row, no transaction',
      'better-sqlite3': '`stmt.run(...row)` per row, no transaction',
    },
    durability: 'each insert durable on return (synchronous=FULL, journal_mode=DELETE: 2+ fsyncs per insert)',
    durable: true,
  },
  {
    id: 'point_select',
    label: 'Point select by key (new cursor)',
    ops: (s) => s.point,
    how: {
      heliosdb: '`await (await conn.execute(sql, [k])).fetchone()`',
      'sqlite-wasm': 'oo1 `stmt.bind(k); stmt.step(); stmt.get([]); stmt.reset()`',
      'better-sqlite3': '`stmt.raw().get(k)`',
    },
    durability: 'read; autocommit (each select is its own read transaction)',
  },
  {
    id: 'point_select_cursor',
    label: 'Point select by key (reused cursor)',
    ops: (s) => s.point,
    how: {
      heliosdb: '`await cur.execute(sql, [k]); await cur.fetchone()` on one cursor',
      'sqlite-wasm': 'same as the line above',
      'better-sqlite3': 'same as the line above',
    },
    durability: 'read; autocommit (each select is its own read transaction)',
  },
  {
    id: 'range_scan',
    label: 'Range scan, 100 rows (per scan)',
    ops: (s) => s.scans,
    how: {
      heliosdb: '`await (await conn.execute(sql, [a, b])).fetchall()`',
      'sqlite-wasm': 'oo1 bind, `while (stmt.step()) rows.push(stmt.get([]))`, reset',
      'better-sqlite3': '`stmt.raw().all(a, b)`',
    },
    durability: 'read; autocommit',
  },
  {
    id: 'update',
    label: 'Update by key, 1 txn',
    ops: (s) => s.updates,
    how: {
      heliosdb: '`await cur.execute(sql, [score, id])` per row, `await conn.commit()`',
      'sqlite-wasm': 'oo1 `stmt.bind([score, id]).stepReset()` between `BEGIN` / `COMMIT`',
      'better-sqlite3': '`stmt.run(score, id)` between `BEGIN` / `COMMIT`',
    },
    durability: 'durable at COMMIT',
    repeats: WRITE_REPEATS,
  },
  {
    id: 'delete',
    label: 'Delete by key, 1 txn',
    ops: (s) => s.deletes,
    how: {
      heliosdb: '`await cur.execute(sql, [id])` per row, `await conn.commit()`',
      'sqlite-wasm': 'oo1 `stmt.bind(id).stepReset()` between `BEGIN` / `COMMIT`',
      'better-sqlite3': '`stmt.run(id)` between `BEGIN` / `COMMIT`',
    },
    durability: 'durable at COMMIT',
    repeats: WRITE_REPEATS,
  },
];

/** Target: our API within this time ratio of raw sqlite-wasm on every row. */
export const TARGET_RATIO = 1.3;
