/**
 * Results of the concurrent benchmark (bench/concurrent-bench.ts): the JSON
 * document, the console summary and the Markdown block in docs/benchmarks.md.
 */
import { CONCURRENT_TARGETS, type ConcurrentSizes } from './concurrent-workload.js';
import { replaceMarkedBlock } from './results.js';

export type WriteRowId =
  | 'ours_concurrent_awaited'
  | 'ours_concurrent_pipelined'
  | 'ours_concurrent_local_pragma'
  | 'native_concurrent_wal'
  | 'ours_one_txn_executemany'
  | 'ours_one_txn_execute';

/** Percentiles of a latency sample, in milliseconds. */
export interface Latency {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** What the run checked on the finished database, after every connection closed. */
export interface Verified {
  /** Checked by Python's sqlite3 (the system's own SQLite build not involved). */
  readonly by: string;
  readonly rowsPresent: number;
  readonly distinctPairs: number;
  /** Writers whose seq numbers are not exactly 0..perWriter-1. */
  readonly incompleteWriters: number;
  readonly integrity: string;
  readonly journalMode: string;
  /** Side files left beside the database after close (-hlog, -wal, -journal, -shm). */
  readonly leftovers: string[];
}

export interface WriteRow {
  readonly id: WriteRowId;
  readonly label: string;
  readonly system: 'heliosdb-nano' | 'better-sqlite3';
  readonly how: string;
  readonly rows: number;
  /** Wall seconds of each run (the row's value is their median). */
  readonly runs: number[];
  readonly seconds: number;
  readonly rowsPerSec: number;
  /** Process CPU seconds (all threads) of the median run. */
  readonly cpuSeconds: number;
  /** The same per inserted row, in microseconds. */
  readonly cpuMicrosPerRow: number;
  /** fdatasync latency (ms, median of 50 8 KiB appends) probed just before each run: the disk drifts. */
  readonly fsyncMsBeforeRuns: number[];
  /** 'database is locked' / SQLITE_BUSY* errors caught (and retried), summed over runs. */
  readonly busyErrors: number;
  readonly busyByCode?: Readonly<Record<string, number>>;
  /** Native: seconds from the start signal to each writer thread's last insert (the wall time is the slowest). */
  readonly writerSeconds?: number[];
  /** Other errors (any makes the run fail). */
  readonly otherErrors: number;
  /** Per-insert latency (issue to acknowledgement, retries included) of the median run; null for one-transaction rows. */
  readonly insertLatency: Latency | null;
  /** The finished database, checked after every connection closed (the worst run's, if any failed). */
  readonly verified: Verified;
}

export interface ReadCondition {
  readonly id: 'no_writer' | 'writer_blocks' | 'writer_per_statement';
  readonly label: string;
  /** Pooled over all rounds. */
  readonly latency: Latency;
  /** Each round's own percentiles (the spread shows the run-to-run noise). */
  readonly perRound: Latency[];
  /** Selects per second of the reader (wall clock of the sample sets, which share the thread with the writer). */
  readonly selectsPerSec: number;
  /** Rows the writer inserted (uncommitted) while this condition's selects ran, summed over rounds. */
  readonly writerRows: number;
}

export interface ConcurrentResults {
  readonly benchmark: 'concurrent';
  readonly timestamp: string;
  readonly quick: boolean;
  readonly rounds: number;
  readonly sizes: ConcurrentSizes;
  readonly targets: typeof CONCURRENT_TARGETS;
  readonly machine: {
    readonly node: string;
    readonly v8: string;
    readonly platform: string;
    readonly arch: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly totalMemGiB: number;
    readonly dataDir: string;
    /** Median fdatasync latency of an 8 KiB append on dataDir, measured before the run (ms). */
    readonly fdatasyncMs: number;
  };
  readonly versions: Readonly<Record<string, string>>;
  readonly settings: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  readonly writes: WriteRow[];
  readonly ratios: {
    /** Native wall time / ours (×: how many times faster ours is). */
    readonly awaitedVsNative: number | null;
    readonly pipelinedVsNative: number | null;
    /** Ours concurrent rows/s / ours one-transaction rows/s. */
    readonly awaitedVsCeilingExecute: number | null;
    readonly awaitedVsCeilingExecutemany: number | null;
    readonly pipelinedVsCeilingExecute: number | null;
    readonly pipelinedVsCeilingExecutemany: number | null;
  };
  readonly reads: {
    readonly conditions: ReadCondition[];
    /** Latency with the block writer / without a writer. */
    readonly p50Ratio: number;
    readonly p99Ratio: number;
    /** Same, for the writer that awaits every insert. */
    readonly perStatementP50Ratio: number;
    readonly perStatementP99Ratio: number;
    readonly checksumsAgree: boolean;
  };
  readonly targetsMet: Readonly<Record<string, boolean | null>>;
  readonly ok: boolean;
  readonly totalSeconds: number;
}

export function percentiles(xs: Float64Array): Latency {
  const s = Float64Array.from(xs).sort();
  const at = (q: number): number => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]);
  return { samples: s.length, p50: r4(at(0.5)), p99: r4(at(0.99)), p999: r4(at(0.999)), max: r4(s.length ? s[s.length - 1] : 0) };
}

export function r4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

export function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const us = (x: number): string => `${(x * 1000).toFixed(1)} µs`;
const ratio = (x: number | null): string => (x === null ? '–' : `${x.toFixed(2)}×`);
const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const yes = (b: boolean | null | undefined): string => (b === null || b === undefined ? '–' : b ? 'yes' : '**no**');

function row(res: ConcurrentResults, id: WriteRowId): WriteRow | undefined {
  return res.writes.find((w) => w.id === id);
}

/** The generated Markdown block (inside the markers). */
export function markdownBlock(res: ConcurrentResults): string {
  const m = res.machine;
  const L: string[] = [];
  L.push(
    `Run ${res.timestamp}${res.quick ? ' (quick)' : ''}: Node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${m.platform}/${m.arch}; ` +
      `fdatasync of an 8 KiB append ≈ ${ms(m.fdatasyncMs)} ms on the data disk; ours: median of ${res.rounds} run(s) per row, ` +
      `native: 1 run; total ${res.totalSeconds.toFixed(0)} s. Every database checked after close with Python's sqlite3 ` +
      `(rows, distinct (writer, seq) pairs, \`integrity_check\`).`,
  );
  L.push('');
  L.push('| Run | Rows | Wall s | Rows/s | CPU µs/row | Busy errors | Rows present | Insert latency p50 / p99 / max (ms) | integrity | fdatasync before (ms) |');
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|:-:|--:|');
  for (const w of res.writes) {
    const lat = w.insertLatency ? `${ms(w.insertLatency.p50)} / ${ms(w.insertLatency.p99)} / ${ms(w.insertLatency.max)}` : '–';
    const codes = w.busyByCode && Object.keys(w.busyByCode).length > 0
      ? ` (${Object.entries(w.busyByCode).map(([k, v]) => `${k} ${int(v)}`).join(', ')})`
      : '';
    const runs = w.runs.length > 1 ? ` (runs: ${w.runs.map((x) => x.toFixed(2)).join(', ')})` : '';
    L.push(
      `| ${w.label} | ${int(w.rows)} | ${w.seconds.toFixed(2)}${runs} | ${int(w.rowsPerSec)} | ${w.cpuMicrosPerRow.toFixed(1)} | ${int(w.busyErrors)}${codes} | ` +
        `${int(w.verified.rowsPresent)} | ${lat} | ${w.verified.integrity} | ${w.fsyncMsBeforeRuns.map((x) => x.toFixed(2)).join(', ')} |`,
    );
  }
  for (const w of res.writes) {
    if (w.writerSeconds && w.writerSeconds.length > 0) {
      const xs = [...w.writerSeconds].sort((a, b) => a - b);
      L.push('');
      L.push(`${w.label}: the threads finished after ${xs.map((x) => x.toFixed(1)).join(', ')} s (wall time = the slowest).`);
    }
  }
  const t = res.targetsMet;
  const r = res.ratios;
  L.push('');
  L.push('| Target | Measured | Met |');
  L.push('|---|--:|:-:|');
  L.push(`| zero busy errors, all ${int(res.sizes.writers * res.sizes.perWriter)} rows (ours, both variants) | ` +
    `${int((row(res, 'ours_concurrent_awaited')?.busyErrors ?? 0) + (row(res, 'ours_concurrent_pipelined')?.busyErrors ?? 0))} errors; ` +
    `${int(row(res, 'ours_concurrent_awaited')?.verified.rowsPresent ?? 0)} / ${int(row(res, 'ours_concurrent_pipelined')?.verified.rowsPresent ?? 0)} rows | ${yes(t.zeroErrorsAllRows)} |`);
  L.push(`| ≥ ${CONCURRENT_TARGETS.vsNative}× faster than native (awaited inserts) | ${ratio(r.awaitedVsNative)} | ${yes(t.awaitedVsNative)} |`);
  L.push(`| ≥ ${CONCURRENT_TARGETS.vsNative}× faster than native (pipelined) | ${ratio(r.pipelinedVsNative)} | ${yes(t.pipelinedVsNative)} |`);
  L.push(`| ≥ ${pct(CONCURRENT_TARGETS.vsCeiling)} of one transaction, execute per row (awaited / pipelined) | ` +
    `${pct(r.awaitedVsCeilingExecute)} / ${pct(r.pipelinedVsCeilingExecute)} | ${yes(t.awaitedVsCeiling)} / ${yes(t.pipelinedVsCeiling)} |`);
  L.push(`| same, vs executemany (awaited / pipelined) | ${pct(r.awaitedVsCeilingExecutemany)} / ${pct(r.pipelinedVsCeilingExecutemany)} | – |`);
  L.push(`| reads slow by ≤ ${pct(CONCURRENT_TARGETS.readSlowdown - 1)} with a long write transaction (p50 / p99) | ` +
    `${ratio(res.reads.p50Ratio)} / ${ratio(res.reads.p99Ratio)} | ${yes(t.readLatency)} |`);
  L.push(`| same, writer awaiting each insert (not the issue's setup: shows the event-loop slice problem) | ` +
    `${ratio(res.reads.perStatementP50Ratio)} / ${ratio(res.reads.perStatementP99Ratio)} | ${yes(t.readLatencyPerStatementWriter)} |`);
  L.push('');
  L.push('| Point-select latency (reader connection) | Samples | p50 | p99 | p99.9 | max | Selects/s (shared thread) | Writer rows meanwhile |');
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const c of res.reads.conditions) {
    const l = c.latency;
    L.push(`| ${c.label} | ${int(l.samples)} | ${us(l.p50)} | ${us(l.p99)} | ${us(l.p999)} | ${us(l.max)} | ${int(c.selectsPerSec)} | ${int(c.writerRows)} |`);
  }
  L.push('');
  L.push('Per round (p50 / p99): ' + res.reads.conditions
    .map((c) => `${c.id.replace(/_/g, ' ')}: ${c.perRound.map((l) => `${(l.p50 * 1000).toFixed(1)} / ${(l.p99 * 1000).toFixed(0)}`).join(', ')} µs`)
    .join('; ') + '.');
  return L.join('\n');
}

export const CONCURRENT_START = '<!-- concurrent-bench:results:start (generated by bench/concurrent-bench.ts; edits inside are overwritten) -->';
export const CONCURRENT_END = '<!-- concurrent-bench:results:end -->';

/** Replaces the generated block in `docPath`; appends a bare section when the markers are missing. */
export function writeConcurrentDoc(docPath: string, res: ConcurrentResults): void {
  replaceMarkedBlock(docPath, CONCURRENT_START, CONCURRENT_END, markdownBlock(res), '## Concurrent writers benchmark (`bench/concurrent-bench.ts`)\n\n### Results');
}

/** A plain-text summary for the console. */
export function consoleSummary(res: ConcurrentResults): string {
  const L: string[] = [];
  const head = ['run', 'rows', 'wall s', 'rows/s', 'busy', 'present', 'lat p50/p99/max ms', 'integrity'];
  const body = res.writes.map((w) => [
    w.label,
    int(w.rows),
    w.seconds.toFixed(3),
    int(w.rowsPerSec),
    int(w.busyErrors),
    int(w.verified.rowsPresent),
    w.insertLatency ? `${ms(w.insertLatency.p50)}/${ms(w.insertLatency.p99)}/${ms(w.insertLatency.max)}` : '–',
    w.verified.integrity,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  L.push(fmt(head), ...body.map(fmt), '');
  const r = res.ratios;
  L.push(`ours/native speed-up: awaited ${ratio(r.awaitedVsNative)}, pipelined ${ratio(r.pipelinedVsNative)}`);
  L.push(
    `ours vs one-transaction ceiling: awaited ${pct(r.awaitedVsCeilingExecute)} (execute) / ${pct(r.awaitedVsCeilingExecutemany)} (executemany); ` +
      `pipelined ${pct(r.pipelinedVsCeilingExecute)} / ${pct(r.pipelinedVsCeilingExecutemany)}`,
  );
  for (const c of res.reads.conditions) {
    const l = c.latency;
    L.push(
      `read ${c.id.padEnd(20)} p50 ${us(l.p50)}  p99 ${us(l.p99)}  p99.9 ${us(l.p999)}  max ${us(l.max)}  ${int(c.selectsPerSec)} selects/s  writer rows ${int(c.writerRows)}`,
    );
  }
  L.push(`read ratio with writer (blocks): p50 ${ratio(res.reads.p50Ratio)}, p99 ${ratio(res.reads.p99Ratio)}; (per statement): p50 ${ratio(res.reads.perStatementP50Ratio)}, p99 ${ratio(res.reads.perStatementP99Ratio)}`);
  L.push(`targets: ${Object.entries(res.targetsMet).map(([k, v]) => `${k}=${v === null ? '–' : v ? 'yes' : 'NO'}`).join(', ')}`);
  return L.join('\n');
}
