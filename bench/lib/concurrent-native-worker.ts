/**
 * One native writer of the concurrent benchmark (bench/concurrent-bench.ts),
 * run in a `worker_threads` Worker: its own better-sqlite3 connection
 * (journal_mode=WAL, busy_timeout=5000, synchronous=FULL), then `rows`
 * autocommit inserts, each `stmt.run()` on its own. An SQLITE_BUSY* error
 * (busy_timeout ran out, or a snapshot conflict the busy handler cannot wait
 * out) is counted and the same insert retried, so every row gets in.
 *
 * Protocol: workerData is {@link NativeWriterTask}; the worker posts
 * `{ type: 'ready' }` once its connection is open and its statement
 * prepared, waits until the main thread sets `start[0]` (Atomics), runs, and
 * posts a {@link NativeWriterDone}.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { CONCURRENT_INSERT, eventRow } from './concurrent-workload.js';

export interface NativeWriterTask {
  readonly path: string;
  readonly writer: number;
  readonly rows: number;
  /** Int32Array over a SharedArrayBuffer: the main thread sets [0] to 1 to start every writer at once. */
  readonly start: Int32Array;
}

export interface NativeWriterReady {
  readonly type: 'ready';
  readonly journalMode: string;
  readonly synchronous: number;
  readonly busyTimeout: number;
  readonly pageSize: number;
}

export interface NativeWriterDone {
  readonly type: 'done';
  readonly writer: number;
  /** Inserts that succeeded (== rows unless a non-busy error stopped the writer). */
  readonly inserted: number;
  /** SQLITE_BUSY* errors caught (each followed by a retry of the same insert). */
  readonly busyErrors: number;
  /** Busy errors by code (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT…). */
  readonly busyByCode: Readonly<Record<string, number>>;
  /** Each insert's latency in ms, retries included. */
  readonly latencies: Float64Array;
  /** From the start signal to the last insert (ms). */
  readonly ms: number;
  /** A non-busy error that stopped the writer, if any. */
  readonly error: string | null;
}

export type NativeWriterMessage = NativeWriterReady | NativeWriterDone;

interface BetterStatement {
  run(...params: readonly unknown[]): unknown;
}
interface BetterDatabase {
  prepare(sql: string): BetterStatement;
  pragma(sql: string, options: { simple: true }): unknown;
  close(): unknown;
}
type BetterCtor = new (path: string, options?: { timeout?: number }) => BetterDatabase;

function busyCode(e: unknown): string | null {
  if (typeof e !== 'object' || e === null || !('code' in e)) return null;
  const code = (e as { code: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY') ? code : null;
}

function run(task: NativeWriterTask): void {
  const port = parentPort;
  if (port === null) throw new Error('concurrent-native-worker must run in a worker thread');
  const require = createRequire(import.meta.url);
  const Database = require('better-sqlite3') as BetterCtor;
  const db = new Database(task.path, { timeout: 5000 });
  db.pragma('busy_timeout = 5000', { simple: true });
  db.pragma('journal_mode = WAL', { simple: true });
  db.pragma('synchronous = FULL', { simple: true });
  const stmt = db.prepare(CONCURRENT_INSERT);
  const ready: NativeWriterReady = {
    type: 'ready',
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: Number(db.pragma('synchronous', { simple: true })),
    busyTimeout: Number(db.pragma('busy_timeout', { simple: true })),
    pageSize: Number(db.pragma('page_size', { simple: true })),
  };
  port.postMessage(ready);
  Atomics.wait(task.start, 0, 0);

  const busyByCode: Record<string, number> = {};
  let busyErrors = 0;
  let inserted = 0;
  const latencies = new Float64Array(task.rows);
  let error: string | null = null;
  const t0 = performance.now();
  outer: for (let seq = 0; seq < task.rows; seq++) {
    const row = eventRow(task.writer, seq);
    const s0 = performance.now();
    for (;;) {
      try {
        stmt.run(...row);
        break;
      } catch (e) {
        const code = busyCode(e);
        if (code === null) {
          error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          break outer;
        }
        busyErrors++;
        busyByCode[code] = (busyByCode[code] ?? 0) + 1;
      }
    }
    latencies[inserted++] = performance.now() - s0;
  }
  const ms = performance.now() - t0;
  db.close();
  const done: NativeWriterDone = { type: 'done', writer: task.writer, inserted, busyErrors, busyByCode, latencies: latencies.subarray(0, inserted), ms, error };
  port.postMessage(done);
}

run(workerData as NativeWriterTask);
