/**
 * The concurrent benchmark's workload (bench/concurrent-bench.ts): schema,
 * statements, sizes and the deterministic rows every system inserts.
 */

/** The table the writers insert into: the rowid is assigned by SQLite (appends). */
export const CONCURRENT_SCHEMA =
  'CREATE TABLE events(id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, seq INTEGER NOT NULL, payload TEXT NOT NULL)';

export const CONCURRENT_INSERT = 'INSERT INTO events(writer, seq, payload) VALUES (?, ?, ?)';

/** One inserted row's parameters: writer, seq, payload (≈ 30 bytes). */
export type EventRow = [number, number, string];

export function eventRow(writer: number, seq: number): EventRow {
  return [writer, seq, `event-${writer}-${seq}-${'abcdefghij'.slice(seq % 10)}`];
}

/**
 * The checks run on every finished database: row count, distinct
 * (writer, seq) pairs, per-writer sequences complete, integrity.
 */
export const VERIFY_SQL = {
  count: 'SELECT count(*) FROM events',
  distinct: 'SELECT count(*) FROM (SELECT DISTINCT writer, seq FROM events)',
  /** Writers whose seqs are not exactly 0..rows-1 (0 when all is well). */
  badWriters: 'SELECT count(*) FROM (SELECT writer FROM events GROUP BY writer HAVING count(*) != ? OR min(seq) != 0 OR max(seq) != ? - 1)',
} as const;

/** The read-latency phase: a pre-filled table of point-select targets. */
export const ITEMS_SCHEMA =
  'CREATE TABLE items(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, name TEXT NOT NULL, score REAL NOT NULL)';
export const ITEMS_INSERT = 'INSERT INTO items(id, grp, name, score) VALUES (?, ?, ?, ?)';
export const POINT_SELECT = 'SELECT id, grp, name, score FROM items WHERE id = ?';
/**
 * The long write transaction's unit of work: one statement that inserts rows
 * `?1`..`?2` (thousands of inserts between two awaits of the writer).
 */
export const BLOCK_INSERT =
  "WITH RECURSIVE c(x) AS (SELECT ?1 UNION ALL SELECT x + 1 FROM c WHERE x < ?2) " +
  "INSERT INTO items(id, grp, name, score) SELECT x, x % 97, 'item-' || x || '-' || substr('abcdefghij', 1 + x % 10), x * 0.25 FROM c";

export interface ConcurrentSizes {
  /** Concurrent writers (connections, or native worker threads). */
  readonly writers: number;
  /** Autocommit inserts per writer. */
  readonly perWriter: number;
  /** Pipelined variant: inserts each writer has in flight at once. */
  readonly pipelineDepth: number;
  /** Rows pre-filled for the point selects. */
  readonly readRows: number;
  /** Point selects per latency sample set. */
  readonly selects: number;
  /**
   * Point selects per round with the writer that awaits each insert: far fewer,
   * since each then takes a whole event-loop slice (see docs/benchmarks.md).
   */
  readonly perStatementSelects: number;
  /** Latency rounds (each: one set without a writer, one with each writer kind). */
  readonly readRounds: number;
  /** Rows per statement of the long write transaction. */
  readonly writerBlock: number;
}

export const CONCURRENT_FULL: ConcurrentSizes = {
  writers: 10,
  perWriter: 10_000,
  pipelineDepth: 100,
  readRows: 100_000,
  selects: 20_000,
  perStatementSelects: 500,
  readRounds: 5,
  writerBlock: 2_000,
};

export const CONCURRENT_QUICK: ConcurrentSizes = {
  writers: 10,
  perWriter: 1_000,
  pipelineDepth: 100,
  readRows: 10_000,
  selects: 2_000,
  perStatementSelects: 200,
  readRounds: 2,
  writerBlock: 2_000,
};

/** Targets from the issue. */
export const CONCURRENT_TARGETS = {
  /** Ours (concurrent autocommit) at least this many times faster than the native WAL setup. */
  vsNative: 10,
  /** Ours (concurrent autocommit) at least this fraction of our own one-transaction rate. */
  vsCeiling: 0.5,
  /** Read latency (p50 and p99) with a writer at most this ratio of the latency without one. */
  readSlowdown: 1.2,
} as const;
