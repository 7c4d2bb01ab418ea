/**
 * Concurrent-writers benchmark: many writers, durable autocommit inserts into
 * one table, in Node, in one run.
 *
 * - ours: N connections on one engine (`isolation_level: null`: every insert
 *   is its own autocommit transaction, acknowledged once durable), all writing
 *   at once; each awaiting every insert, and (a separate row) pipelined;
 * - native: better-sqlite3 in N worker_threads, each its own connection,
 *   journal_mode=WAL, busy_timeout=5000, synchronous=FULL, `stmt.run()` per row;
 * - ceiling: ours, all the rows in one transaction (executemany, and execute per row);
 * - read latency: point selects on a reader connection without a writer, and
 *   while another connection holds a long write transaction that keeps inserting.
 *
 * Every database is checked after close with Python's sqlite3 (rows present,
 * distinct (writer, seq) pairs, integrity_check).
 *
 * Usage (after `npm run build && npm run build:test`):
 *
 *   node build/bench/concurrent-bench.js [--quick] [--rounds N] [--dir PATH] [--no-write] [--only ours,native,ceiling,reads]
 *
 * A complete run writes bench/results/concurrent-<timestamp>.json,
 * concurrent-latest.json and the generated block of docs/benchmarks.md;
 * `--quick` (10× fewer rows) writes only concurrent-quick-latest.json and
 * `--only` runs only concurrent-partial-latest.json.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fdatasyncSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as sqlite3 from 'heliosdb-nano';
import type { NativeWriterDone, NativeWriterMessage, NativeWriterReady, NativeWriterTask } from './lib/concurrent-native-worker.js';
import { getGc, parseCommonArgs } from './lib/cli.js';
import { machineInfo, writeResults } from './lib/results.js';
import {
  consoleSummary,
  percentiles,
  r2,
  r4,
  writeConcurrentDoc,
  type ConcurrentResults,
  type Latency,
  type ReadCondition,
  type Verified,
  type WriteRow,
  type WriteRowId,
} from './lib/concurrent-report.js';
import {
  BLOCK_INSERT,
  CONCURRENT_FULL,
  CONCURRENT_INSERT,
  CONCURRENT_QUICK,
  CONCURRENT_SCHEMA,
  CONCURRENT_TARGETS,
  ITEMS_INSERT,
  ITEMS_SCHEMA,
  POINT_SELECT,
  VERIFY_SQL,
  eventRow,
  type ConcurrentSizes,
  type EventRow,
} from './lib/concurrent-workload.js';
import { nativeVersion, wasmPackageVersion } from './lib/systems.js';
import { prng } from './lib/workload.js';

type Phase = 'ours' | 'native' | 'ceiling' | 'reads';
const PHASES: readonly Phase[] = ['ours', 'native', 'ceiling', 'reads'];

interface Args {
  quick: boolean;
  rounds: number;
  dir: string;
  write: boolean;
  only: Phase[];
}

function parseArgs(argv: readonly string[]): Args {
  let only: Phase[] = [...PHASES];
  const common = parseCommonArgs(argv, (a, value) => {
    if (a !== '--only') return false;
    const list = value().split(',');
    for (const p of list) if (!PHASES.includes(p as Phase)) throw new Error(`unknown phase ${p} (phases: ${PHASES.join(', ')})`);
    only = list as Phase[];
    return true;
  });
  return { ...common, only };
}

const gc = getGc();

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median latency of fdatasync after an 8 KiB append in `dir` (ms): what one durable commit costs at least. */
function fdatasyncLatency(dir: string, n = 200): number {
  const path = join(dir, `heliosdb-fsync-probe-${process.pid}`);
  const fd = openSync(path, 'w');
  const buf = new Uint8Array(8192).fill(1);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      writeSync(fd, buf, 0, buf.length, i * buf.length);
      const t0 = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
  return r4(median(times));
}

// ---------------------------------------------------------------------------
// Checking a finished database (every connection closed) with Python's sqlite3

const PY_VERIFY = `
import json, sqlite3, sys
path, per = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(path)
q = lambda sql, *a: c.execute(sql, a).fetchone()[0]
out = {
  "rows": q(sys.argv[3]),
  "distinct": q(sys.argv[4]),
  "bad": q(sys.argv[5], per, per),
  "integrity": q("PRAGMA integrity_check"),
  "journal_mode": q("PRAGMA journal_mode"),
  "sqlite": sqlite3.sqlite_version,
}
c.close()
print(json.dumps(out))
`;

function verify(path: string, perWriter: number): Verified {
  const leftovers = ['-hlog', '-wal', '-journal', '-shm'].filter((s) => existsSync(path + s)).map((s) => `bench.db${s}`);
  const p = spawnSync('python3', ['-c', PY_VERIFY, path, String(perWriter), VERIFY_SQL.count, VERIFY_SQL.distinct, VERIFY_SQL.badWriters], {
    encoding: 'utf8',
  });
  if (p.status !== 0) throw new Error(`python3 verification of ${path} failed: ${p.stderr || p.error?.message || `exit ${p.status}`}`);
  const out = JSON.parse(p.stdout) as { rows: number; distinct: number; bad: number; integrity: string; journal_mode: string; sqlite: string };
  return {
    by: `Python ${pythonVersion()} sqlite3 (SQLite ${out.sqlite})`,
    rowsPresent: out.rows,
    distinctPairs: out.distinct,
    incompleteWriters: out.bad,
    integrity: out.integrity,
    journalMode: out.journal_mode,
    leftovers,
  };
}

let pyVersion: string | null = null;
function pythonVersion(): string {
  if (pyVersion === null) {
    const p = spawnSync('python3', ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' });
    pyVersion = p.status === 0 ? p.stdout.trim() : 'unknown';
  }
  return pyVersion;
}

// ---------------------------------------------------------------------------
// ours

type Conn = sqlite3.Connection;

/** 'database is locked' (SQLITE_BUSY*): what the engine should never let through. */
function isBusy(e: unknown): e is sqlite3.OperationalError {
  return (
    e instanceof sqlite3.OperationalError &&
    ((e.sqlite_errorname ?? '').startsWith('SQLITE_BUSY') || e.message === 'database is locked')
  );
}

interface Counters {
  busy: number;
  other: number;
  firstOther: string | null;
}

/** One insert; a busy error is counted and the insert retried, anything else is counted and stops the writer. */
async function insertRetrying(conn: Conn, row: EventRow, c: Counters): Promise<void> {
  for (;;) {
    try {
      await conn.execute(CONCURRENT_INSERT, row);
      return;
    } catch (e) {
      if (isBusy(e)) {
        c.busy++;
        continue;
      }
      c.other++;
      c.firstOther ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw e;
    }
  }
}

/** Opens `path`, creates the schema and reads the settings every connection on it gets. */
async function setupOurs(path: string, schema: string): Promise<Record<string, string | number>> {
  const conn = await sqlite3.connect(path);
  try {
    await conn.execute(schema);
    await conn.commit();
    const one = async (sql: string): Promise<unknown> => ((await (await conn.execute(sql)).fetchone()) as unknown[])[0];
    return {
      sqliteVersion: String(await one('SELECT sqlite_version()')),
      journalMode: String(await one('PRAGMA journal_mode')),
      synchronous: Number(await one('PRAGMA synchronous')),
      pageSize: Number(await one('PRAGMA page_size')),
      busyTimeoutMs: 5000,
    };
  } finally {
    await conn.close();
  }
}

type OursMode = 'awaited' | 'pipelined' | 'local_pragma';

interface RunOutcome {
  seconds: number;
  cpuSeconds: number;
  busy: number;
  other: number;
  firstOther: string | null;
  busyByCode?: Record<string, number>;
  latency: Latency | null;
  verified: Verified;
  /** Settings read back from the database (ours: on the set-up connection). */
  settings?: Record<string, string | number>;
  /** fdatasync latency probed just before the run (ms; the disk's latency drifts). */
  fsyncMs?: number;
  /** Native: seconds from the start signal to each writer thread's last insert. */
  writerSeconds?: number[];
}

async function runOursConcurrent(dir: string, s: ConcurrentSizes, mode: OursMode, rows: readonly EventRow[][]): Promise<RunOutcome> {
  const path = join(dir, 'bench.db');
  const settings = await setupOurs(path, CONCURRENT_SCHEMA);
  const conns: Conn[] = [];
  for (let w = 0; w < s.writers; w++) {
    const conn = await sqlite3.connect(path, { isolation_level: null });
    // The issue's literal setting. A PRAGMA gives a connection state of its own, so it leaves the
    // shared group-commit writer: this row measures that (per-connection commits) path.
    if (mode === 'local_pragma') await conn.execute('PRAGMA synchronous=FULL');
    conns.push(conn);
  }
  const c: Counters = { busy: 0, other: 0, firstOther: null };
  const lat = new Float64Array(s.writers * s.perWriter);
  const writer = async (w: number): Promise<void> => {
    const conn = conns[w];
    const mine = rows[w];
    const base = w * s.perWriter;
    if (mode !== 'pipelined') {
      for (let seq = 0; seq < mine.length; seq++) {
        const t = performance.now();
        await insertRetrying(conn, mine[seq], c);
        lat[base + seq] = performance.now() - t;
      }
      return;
    }
    for (let b = 0; b < mine.length; b += s.pipelineDepth) {
      const batch: Promise<void>[] = [];
      for (let seq = b; seq < Math.min(b + s.pipelineDepth, mine.length); seq++) {
        const t = performance.now();
        batch.push(insertRetrying(conn, mine[seq], c).then(() => void (lat[base + seq] = performance.now() - t)));
      }
      await Promise.all(batch);
    }
  };
  gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const settled = await Promise.allSettled(conns.map((_, w) => writer(w)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const conn of conns) await conn.close();
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed && c.firstOther === null) c.firstOther = String((failed as PromiseRejectedResult).reason);
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    busy: c.busy,
    other: c.other,
    firstOther: c.firstOther,
    latency: percentiles(lat),
    verified: verify(path, s.perWriter),
    settings,
  };
}

async function runOursOneTxn(dir: string, s: ConcurrentSizes, how: 'executemany' | 'execute', all: readonly EventRow[]): Promise<RunOutcome> {
  const path = join(dir, 'bench.db');
  await setupOurs(path, CONCURRENT_SCHEMA);
  const conn = await sqlite3.connect(path);
  gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const cur = conn.cursor();
  if (how === 'executemany') await cur.executemany(CONCURRENT_INSERT, all);
  else for (const r of all) await cur.execute(CONCURRENT_INSERT, r);
  await conn.commit();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await conn.close();
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    busy: 0,
    other: 0,
    firstOther: null,
    latency: null,
    verified: verify(path, s.perWriter),
  };
}

// ---------------------------------------------------------------------------
// native: better-sqlite3 in worker threads

interface BetterDatabase {
  prepare(sql: string): { pluck(): { get(): unknown } };
  pragma(sql: string, options: { simple: true }): unknown;
  exec(sql: string): unknown;
  close(): unknown;
}
type BetterCtor = new (path: string) => BetterDatabase;
const require = createRequire(import.meta.url);

async function runNative(dir: string, s: ConcurrentSizes, settings: Record<string, string | number>): Promise<RunOutcome> {
  const path = join(dir, 'bench.db');
  const Database = require('better-sqlite3') as BetterCtor;
  const setup = new Database(path);
  setup.pragma('journal_mode = WAL', { simple: true });
  setup.exec(CONCURRENT_SCHEMA);
  settings.sqliteVersion = String(setup.prepare('SELECT sqlite_version()').pluck().get());
  setup.close();

  const start = new Int32Array(new SharedArrayBuffer(4));
  const workers: Worker[] = [];
  const readies: Promise<NativeWriterReady>[] = [];
  const dones: Promise<NativeWriterDone>[] = [];
  const url = new URL('./lib/concurrent-native-worker.js', import.meta.url);
  for (let w = 0; w < s.writers; w++) {
    const task: NativeWriterTask = { path, writer: w, rows: s.perWriter, start };
    const worker = new Worker(url, { workerData: task });
    workers.push(worker);
    let onReady: (r: NativeWriterReady) => void = () => undefined;
    let onDone: (d: NativeWriterDone) => void = () => undefined;
    let onFail: (e: unknown) => void = () => undefined;
    readies.push(new Promise((resolve) => (onReady = resolve)));
    dones.push(
      new Promise((resolve, reject) => {
        onDone = resolve;
        onFail = reject;
      }),
    );
    worker.on('message', (m: NativeWriterMessage) => (m.type === 'ready' ? onReady(m) : onDone(m)));
    worker.on('error', (e) => onFail(e));
    worker.on('exit', (code) => onFail(new Error(`native writer ${w} exited (${code}) before reporting`)));
  }
  const ready = await Promise.all(readies);
  settings.journalMode = ready[0].journalMode;
  settings.synchronous = ready[0].synchronous;
  settings.busyTimeoutMs = ready[0].busyTimeout;
  settings.pageSize = ready[0].pageSize;
  gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const done = await Promise.all(dones);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(workers.map((w) => w.terminate()));
  const busyByCode: Record<string, number> = {};
  for (const d of done) for (const [k, v] of Object.entries(d.busyByCode)) busyByCode[k] = (busyByCode[k] ?? 0) + v;
  const lat = new Float64Array(done.reduce((n, d) => n + d.latencies.length, 0));
  let at = 0;
  for (const d of done) {
    lat.set(d.latencies, at);
    at += d.latencies.length;
  }
  const errors = done.filter((d) => d.error !== null);
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    busy: done.reduce((n, d) => n + d.busyErrors, 0),
    busyByCode,
    other: errors.length,
    firstOther: errors[0]?.error ?? null,
    latency: percentiles(lat),
    verified: verify(path, s.perWriter),
    writerSeconds: done.map((d) => r4(d.ms / 1000)),
  };
}

// ---------------------------------------------------------------------------
// read latency under a long write transaction

type WriterKind = 'none' | 'blocks' | 'per_statement';

interface ReadSample {
  lat: Float64Array;
  seconds: number;
  checksum: number;
  writerRows: number;
}

async function readSample(reader: Conn, writer: Conn, keys: readonly number[], kind: WriterKind, s: ConcurrentSizes, nextId: { v: number }): Promise<ReadSample> {
  const lat = new Float64Array(keys.length);
  let stop = false;
  let writerRows = 0;
  let writerError: unknown = null;
  let writerDone: Promise<void> = Promise.resolve();
  if (kind !== 'none') {
    await writer.execute('BEGIN');
    // The writer holds its write transaction for the whole sample set, and keeps inserting.
    writerDone = (async () => {
      try {
        if (kind === 'blocks') {
          while (!stop) {
            const a = nextId.v;
            const b = a + s.writerBlock - 1;
            await writer.execute(BLOCK_INSERT, [a, b]);
            nextId.v = b + 1;
            writerRows += s.writerBlock;
            // Thousands of inserts per turn of the event loop, then let the others run.
            await nextTurn();
          }
        } else {
          const cur = writer.cursor();
          while (!stop) {
            const id = nextId.v++;
            await cur.execute(ITEMS_INSERT, [id, id % 97, `item-${id}`, id * 0.25]);
            writerRows++;
          }
        }
      } catch (e) {
        writerError = e;
      }
    })();
    // Let the writer take its write lock and get going before the first select.
    await nextTurn();
    await nextTurn();
  }
  gc();
  let checksum = 0;
  const t0 = performance.now();
  for (let i = 0; i < keys.length; i++) {
    const t = performance.now();
    const cur = await reader.execute(POINT_SELECT, [keys[i]]);
    const r = (await cur.fetchone()) as unknown[];
    lat[i] = performance.now() - t;
    checksum += r[0] as number;
  }
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await writerDone;
  if (writerError !== null) throw writerError;
  if (kind !== 'none') {
    // Keep the table the same for every sample set: the long transaction never commits.
    await writer.execute('ROLLBACK');
    if (writer.in_transaction) throw new Error('writer still in a transaction after ROLLBACK');
  }
  return { lat, seconds, checksum, writerRows };
}

async function runReads(dir: string, s: ConcurrentSizes, rounds: number): Promise<{ conditions: ReadCondition[]; checksumsAgree: boolean }> {
  const path = join(dir, 'bench.db');
  const setup = await sqlite3.connect(path);
  await setup.execute(ITEMS_SCHEMA);
  await setup.execute(BLOCK_INSERT, [1, s.readRows]);
  await setup.commit();
  await setup.close();
  const reader = await sqlite3.connect(path);
  const writer = await sqlite3.connect(path);
  const rnd = prng(20240611);
  const keys = Array.from({ length: s.selects }, () => 1 + Math.floor(rnd() * s.readRows));
  const nextId = { v: s.readRows + 1 };
  const kinds: WriterKind[] = ['none', 'blocks', 'per_statement'];
  const pooled = new Map<WriterKind, { lats: Float64Array[]; seconds: number; writerRows: number; perRound: Latency[] }>();
  for (const k of kinds) pooled.set(k, { lats: [], seconds: 0, writerRows: 0, perRound: [] });
  let checksumsAgree = true;
  // Warm-up (statement cache, page cache, JIT).
  await readSample(reader, writer, keys.slice(0, Math.min(keys.length, 5000)), 'none', s, nextId);
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so no condition always runs first (or last).
    const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]);
    for (const kind of order) {
      const ks = kind === 'per_statement' ? keys.slice(0, s.perStatementSelects) : keys;
      const r = await readSample(reader, writer, ks, kind, s, nextId);
      // Every select must have found its row (id = key).
      if (r.checksum !== ks.reduce((a, b) => a + b, 0)) checksumsAgree = false;
      const p = pooled.get(kind) as { lats: Float64Array[]; seconds: number; writerRows: number; perRound: Latency[] };
      p.lats.push(r.lat);
      p.seconds += r.seconds;
      p.writerRows += r.writerRows;
      const l = percentiles(r.lat);
      p.perRound.push(l);
      log(
        `reads round ${round + 1}/${rounds}  ${kind.padEnd(14)} p50 ${(l.p50 * 1000).toFixed(1)} µs  p99 ${(l.p99 * 1000).toFixed(1)} µs  ` +
          `${Math.round(ks.length / r.seconds)} selects/s  writer rows ${r.writerRows}`,
      );
    }
  }
  await reader.close();
  await writer.close();
  const labels: Record<WriterKind, string> = {
    none: 'no writer',
    blocks: `long write transaction open, writer inserting ${s.writerBlock.toLocaleString('en-US')} rows per statement, one statement per event-loop turn`,
    per_statement: 'long write transaction open, writer awaiting one insert after another (interleaved per statement)',
  };
  const ids: Record<WriterKind, ReadCondition['id']> = { none: 'no_writer', blocks: 'writer_blocks', per_statement: 'writer_per_statement' };
  const conditions = kinds.map((k): ReadCondition => {
    const p = pooled.get(k) as { lats: Float64Array[]; seconds: number; writerRows: number; perRound: Latency[] };
    const all = new Float64Array(p.lats.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of p.lats) {
      all.set(a, at);
      at += a.length;
    }
    return {
      id: ids[k],
      label: labels[k],
      latency: percentiles(all),
      perRound: p.perRound,
      selectsPerSec: Math.round(all.length / p.seconds),
      writerRows: p.writerRows,
    };
  });
  return { conditions, checksumsAgree };
}

// ---------------------------------------------------------------------------

const LABELS: Record<WriteRowId, { label: string; system: WriteRow['system']; how: string }> = {
  ours_concurrent_awaited: {
    label: 'ours: N writers, awaited',
    system: 'heliosdb-nano',
    how: 'N connections on one engine, `isolation_level: null`; each `await conn.execute(insert, row)` per row, all writers at once (`Promise.all`)',
  },
  ours_concurrent_pipelined: {
    label: 'ours: N writers, pipelined',
    system: 'heliosdb-nano',
    how: 'same connections; each writer issues its inserts in batches of 100 un-awaited `conn.execute` calls, then `await Promise.all(batch)`',
  },
  ours_concurrent_local_pragma: {
    label: 'ours: N writers, awaited, `PRAGMA synchronous=FULL` on each',
    system: 'heliosdb-nano',
    how: 'as "awaited", but every connection first runs `PRAGMA synchronous=FULL` (the default already): the PRAGMA takes it off the shared group-commit writer',
  },
  native_concurrent_wal: {
    label: 'native: N worker threads',
    system: 'better-sqlite3',
    how: 'better-sqlite3, N `worker_threads`, each its own connection: WAL, `busy_timeout=5000`, `synchronous=FULL`; `stmt.run(...row)` per row (busy errors caught, counted, retried)',
  },
  ours_one_txn_executemany: {
    label: 'ours: 1 transaction, executemany (ceiling)',
    system: 'heliosdb-nano',
    how: 'one connection, `await cur.executemany(insert, allRows)`, `await conn.commit()`',
  },
  ours_one_txn_execute: {
    label: 'ours: 1 transaction, execute per row (ceiling)',
    system: 'heliosdb-nano',
    how: 'one connection, `await cur.execute(insert, row)` per row (implicit BEGIN), `await conn.commit()`',
  },
};

function toRow(id: WriteRowId, rows: number, outcomes: RunOutcome[]): WriteRow {
  const byTime = [...outcomes].sort((a, b) => a.seconds - b.seconds);
  const med = byTime[(byTime.length - 1) >> 1];
  const worstVerified = outcomes.find((o) => o.verified.rowsPresent !== rows || o.verified.integrity !== 'ok') ?? med;
  const { label, system, how } = LABELS[id];
  return {
    id,
    label,
    system,
    how,
    rows,
    runs: outcomes.map((o) => r4(o.seconds)),
    seconds: r4(med.seconds),
    rowsPerSec: Math.round(rows / med.seconds),
    cpuSeconds: r4(med.cpuSeconds),
    cpuMicrosPerRow: r2((med.cpuSeconds / rows) * 1e6),
    fsyncMsBeforeRuns: outcomes.map((o) => o.fsyncMs ?? 0),
    busyErrors: outcomes.reduce((n, o) => n + o.busy, 0),
    ...(med.busyByCode ? { busyByCode: med.busyByCode } : {}),
    ...(med.writerSeconds ? { writerSeconds: med.writerSeconds } : {}),
    otherErrors: outcomes.reduce((n, o) => n + o.other, 0),
    insertLatency: med.latency,
    verified: worstVerified.verified,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const s = args.quick ? CONCURRENT_QUICK : CONCURRENT_FULL;
  const total = s.writers * s.perWriter;
  const started = performance.now();
  const fsyncMs = fdatasyncLatency(args.dir);
  log(`fdatasync (8 KiB append) on ${args.dir}: median ${fsyncMs} ms`);
  const rows: EventRow[][] = Array.from({ length: s.writers }, (_, w) => Array.from({ length: s.perWriter }, (_, seq) => eventRow(w, seq)));
  // One transaction gets the same rows, in the order concurrent writers would interleave them.
  const flat: EventRow[] = [];
  for (let seq = 0; seq < s.perWriter; seq++) for (let w = 0; w < s.writers; w++) flat.push(rows[w][seq]);

  const outcomes = new Map<WriteRowId, RunOutcome[]>();
  const settings: Record<string, Record<string, string | number>> = {};
  const errors: string[] = [];

  const runIn = async (id: WriteRowId, fn: (dir: string) => Promise<RunOutcome>): Promise<void> => {
    const dir = mkdtempSync(join(args.dir, `heliosdb-concurrent-${id}-`));
    try {
      const fsyncBefore = fdatasyncLatency(dir, 50);
      const o = await fn(dir);
      o.fsyncMs = fsyncBefore;
      const list = outcomes.get(id) ?? [];
      list.push(o);
      outcomes.set(id, list);
      if (o.other > 0 || o.firstOther) errors.push(`${id}: ${o.other} error(s), first: ${o.firstOther}`);
      log(
        `${id.padEnd(30)} ${o.seconds.toFixed(3).padStart(8)} s  ${Math.round(total / o.seconds).toString().padStart(8)} rows/s  ` +
          `busy ${o.busy}  other ${o.other}  present ${o.verified.rowsPresent}  integrity ${o.verified.integrity}  ` +
          `cpu ${o.cpuSeconds.toFixed(2)} s  fsync ${fsyncBefore.toFixed(2)} ms${o.latency ? `  lat p50 ${o.latency.p50.toFixed(3)} p99 ${o.latency.p99.toFixed(3)} max ${o.latency.max.toFixed(1)} ms` : ''}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  for (let round = 0; round < args.rounds; round++) {
    if (args.only.includes('ours')) {
      await runIn('ours_concurrent_awaited', async (dir) => {
        const o = await runOursConcurrent(dir, s, 'awaited', rows);
        if (o.settings) settings['heliosdb-nano'] ??= o.settings;
        return o;
      });
      await runIn('ours_concurrent_pipelined', (dir) => runOursConcurrent(dir, s, 'pipelined', rows));
      if (round === 0) await runIn('ours_concurrent_local_pragma', (dir) => runOursConcurrent(dir, s, 'local_pragma', rows));
    }
    if (args.only.includes('ceiling')) {
      await runIn('ours_one_txn_executemany', (dir) => runOursOneTxn(dir, s, 'executemany', flat));
      await runIn('ours_one_txn_execute', (dir) => runOursOneTxn(dir, s, 'execute', flat));
    }
    // The native run (one: it is long) sits between our rounds, so disk-latency drift hits both alike.
    if (args.only.includes('native') && round === Math.floor((args.rounds - 1) / 2)) {
      const ns: Record<string, string | number> = {};
      await runIn('native_concurrent_wal', (dir) => runNative(dir, s, ns));
      settings['better-sqlite3'] = ns;
    }
  }
  let reads: { conditions: ReadCondition[]; checksumsAgree: boolean } = { conditions: [], checksumsAgree: true };
  if (args.only.includes('reads')) {
    const dir = mkdtempSync(join(args.dir, 'heliosdb-concurrent-reads-'));
    try {
      reads = await runReads(dir, s, args.quick ? s.readRounds : Math.max(s.readRounds, args.rounds));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const order: WriteRowId[] = [
    'ours_concurrent_awaited',
    'ours_concurrent_pipelined',
    'ours_concurrent_local_pragma',
    'native_concurrent_wal',
    'ours_one_txn_execute',
    'ours_one_txn_executemany',
  ];
  const writes = order.filter((id) => outcomes.has(id)).map((id) => toRow(id, total, outcomes.get(id) as RunOutcome[]));
  const w = (id: WriteRowId): WriteRow | undefined => writes.find((x) => x.id === id);
  const speedup = (a: WriteRowId, b: WriteRowId): number | null => {
    const x = w(a);
    const y = w(b);
    return x && y ? r2(y.seconds / x.seconds) : null;
  };
  const share = (a: WriteRowId, b: WriteRowId): number | null => {
    const x = w(a);
    const y = w(b);
    return x && y ? r4(x.rowsPerSec / y.rowsPerSec) : null;
  };
  const ratios = {
    awaitedVsNative: speedup('ours_concurrent_awaited', 'native_concurrent_wal'),
    pipelinedVsNative: speedup('ours_concurrent_pipelined', 'native_concurrent_wal'),
    awaitedVsCeilingExecute: share('ours_concurrent_awaited', 'ours_one_txn_execute'),
    awaitedVsCeilingExecutemany: share('ours_concurrent_awaited', 'ours_one_txn_executemany'),
    pipelinedVsCeilingExecute: share('ours_concurrent_pipelined', 'ours_one_txn_execute'),
    pipelinedVsCeilingExecutemany: share('ours_concurrent_pipelined', 'ours_one_txn_executemany'),
  };
  const cond = (id: ReadCondition['id']): Latency | undefined => reads.conditions.find((c) => c.id === id)?.latency;
  const base = cond('no_writer');
  const withW = cond('writer_blocks');
  const perSt = cond('writer_per_statement');
  const rr = (a: Latency | undefined, b: Latency | undefined, k: 'p50' | 'p99'): number => (a && b && b[k] > 0 ? r2(a[k] / b[k]) : 0);
  const readsOut = {
    conditions: reads.conditions,
    p50Ratio: rr(withW, base, 'p50'),
    p99Ratio: rr(withW, base, 'p99'),
    perStatementP50Ratio: rr(perSt, base, 'p50'),
    perStatementP99Ratio: rr(perSt, base, 'p99'),
    checksumsAgree: reads.checksumsAgree,
  };
  const oursRows = [w('ours_concurrent_awaited'), w('ours_concurrent_pipelined')].filter((x): x is WriteRow => x !== undefined);
  const targetsMet: Record<string, boolean | null> = {
    zeroErrorsAllRows:
      oursRows.length === 0
        ? null
        : oursRows.every((x) => x.busyErrors === 0 && x.otherErrors === 0 && x.verified.rowsPresent === total && x.verified.distinctPairs === total),
    awaitedVsNative: ratios.awaitedVsNative === null ? null : ratios.awaitedVsNative >= CONCURRENT_TARGETS.vsNative,
    pipelinedVsNative: ratios.pipelinedVsNative === null ? null : ratios.pipelinedVsNative >= CONCURRENT_TARGETS.vsNative,
    awaitedVsCeiling: ratios.awaitedVsCeilingExecute === null ? null : ratios.awaitedVsCeilingExecute >= CONCURRENT_TARGETS.vsCeiling,
    pipelinedVsCeiling: ratios.pipelinedVsCeilingExecute === null ? null : ratios.pipelinedVsCeilingExecute >= CONCURRENT_TARGETS.vsCeiling,
    readLatency:
      base && withW ? readsOut.p50Ratio <= CONCURRENT_TARGETS.readSlowdown && readsOut.p99Ratio <= CONCURRENT_TARGETS.readSlowdown : null,
    readLatencyPerStatementWriter:
      base && perSt
        ? readsOut.perStatementP50Ratio <= CONCURRENT_TARGETS.readSlowdown && readsOut.perStatementP99Ratio <= CONCURRENT_TARGETS.readSlowdown
        : null,
  };
  // The run itself fails only when data is wrong: a missing row, a failed check, an unexpected error.
  const dataOk =
    errors.length === 0 &&
    readsOut.checksumsAgree &&
    writes.every(
      (x) =>
        x.otherErrors === 0 &&
        x.verified.rowsPresent === total &&
        x.verified.distinctPairs === total &&
        x.verified.incompleteWriters === 0 &&
        x.verified.integrity === 'ok',
    );

  const now = new Date();
  const res: ConcurrentResults = {
    benchmark: 'concurrent',
    timestamp: now.toISOString(),
    quick: args.quick,
    rounds: args.rounds,
    sizes: s,
    targets: CONCURRENT_TARGETS,
    machine: {
      ...machineInfo(),
      dataDir: args.dir,
      fdatasyncMs: fsyncMs,
    },
    versions: {
      'heliosdb-nano': sqlite3.version,
      '@sqlite.org/sqlite-wasm': wasmPackageVersion(),
      'better-sqlite3': nativeVersion(),
      python: pythonVersion(),
    },
    settings,
    writes,
    ratios,
    reads: readsOut,
    targetsMet,
    ok: dataOk,
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
  };

  console.log(consoleSummary(res));
  for (const e of errors) console.log(`ERROR ${e}`);
  console.log(`total ${res.totalSeconds} s${dataOk ? '' : '  (DATA CHECKS FAILED)'}`);

  if (args.write) {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    writeResults(root, 'concurrent', res, { quick: args.quick, partial: args.only.length !== PHASES.length, now }, (doc) =>
      writeConcurrentDoc(doc, res),
    );
  }
  if (!dataOk) process.exitCode = 1;
}

await main();
