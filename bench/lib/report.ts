/**
 * Results of the core benchmark: the JSON document and the Markdown table.
 */
import { ROWS, SYSTEMS, TARGET_RATIO, type RowId, type Sizes, type SystemId } from './workload.js';
import type { DbSettings } from './systems.js';
import { replaceMarkedBlock } from './results.js';

/** Raw measurements of one row on one system: wall and CPU seconds per run. */
export interface Measured {
  readonly wall: number[];
  /** Process CPU time (user + system, all threads) of each run. */
  readonly cpu: number[];
}

export interface SystemResult {
  /** Wall seconds of each run (one per round; the durable row: the sum of its chunks). */
  readonly runs: number[];
  /** Median wall seconds. */
  readonly seconds: number;
  readonly opsPerSec: number;
  /** Median process CPU time per operation, in microseconds. */
  readonly cpuMicrosPerOp: number;
}

export interface RowResult {
  readonly id: RowId;
  readonly label: string;
  readonly ops: number;
  readonly durability: string;
  readonly how: Readonly<Record<SystemId, string>>;
  readonly systems: Partial<Record<SystemId, SystemResult>>;
  /** Time ratio heliosdb / sqlite-wasm (>1: ours is slower). */
  readonly oursVsRaw: number | null;
  /** CPU-time ratio heliosdb / sqlite-wasm (what our layers add, without disk-latency noise). */
  readonly oursVsRawCpu: number | null;
  /** Time ratio sqlite-wasm / better-sqlite3 (>1: WASM is slower). */
  readonly rawVsNative: number | null;
  /** oursVsRaw <= TARGET_RATIO. */
  readonly meetsTarget: boolean | null;
}

export interface BenchResults {
  readonly benchmark: 'core';
  readonly timestamp: string;
  readonly quick: boolean;
  readonly rounds: number;
  readonly sizes: Sizes;
  readonly targetRatio: number;
  readonly machine: {
    readonly node: string;
    readonly v8: string;
    readonly platform: string;
    readonly arch: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly totalMemGiB: number;
    readonly dataDir: string;
  };
  readonly versions: Readonly<Record<string, string>>;
  readonly settings: Partial<Record<SystemId, DbSettings>>;
  /** Per system: reads' checksums and the final `items` summary, identical across systems when all is well. */
  readonly checks: Partial<Record<SystemId, Record<string, number | string>>>;
  readonly checksAgree: boolean;
  readonly rows: RowResult[];
  readonly totalSeconds: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function buildRow(id: RowId, sizes: Sizes, runs: Partial<Record<SystemId, Measured>>): RowResult {
  const spec = ROWS.find((r) => r.id === id);
  if (!spec) throw new Error(`unknown row ${id}`);
  const ops = spec.ops(sizes);
  const systems: Partial<Record<SystemId, SystemResult>> = {};
  for (const sys of SYSTEMS) {
    const r = runs[sys];
    if (!r || r.wall.length === 0) continue;
    const seconds = median(r.wall);
    systems[sys] = {
      runs: r.wall.map((x) => round(x, 5)),
      seconds: round(seconds, 5),
      opsPerSec: Math.round(ops / seconds),
      cpuMicrosPerOp: round((median(r.cpu) / ops) * 1e6, 3),
    };
  }
  const ours = systems.heliosdb?.seconds;
  const raw = systems['sqlite-wasm']?.seconds;
  const native = systems['better-sqlite3']?.seconds;
  const oursVsRaw = ours !== undefined && raw !== undefined ? round(ours / raw, 3) : null;
  const oursCpu = systems.heliosdb?.cpuMicrosPerOp;
  const rawCpu = systems['sqlite-wasm']?.cpuMicrosPerOp;
  const oursVsRawCpu = oursCpu !== undefined && rawCpu !== undefined && rawCpu > 0 ? round(oursCpu / rawCpu, 3) : null;
  const rawVsNative = raw !== undefined && native !== undefined ? round(raw / native, 3) : null;
  return {
    id,
    label: spec.label,
    ops,
    durability: spec.durability,
    how: spec.how,
    systems,
    oursVsRaw,
    oursVsRawCpu,
    rawVsNative,
    meetsTarget: oursVsRaw === null ? null : oursVsRaw <= TARGET_RATIO,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const fmtInt = (n: number | undefined): string => (n === undefined ? '–' : n.toLocaleString('en-US'));
const fmtRatio = (r: number | null): string => (r === null ? '–' : `${r.toFixed(2)}×`);

/** The Markdown result table (plus the run's context line). */
export function markdownTable(res: BenchResults): string {
  const lines: string[] = [];
  const m = res.machine;
  lines.push(
    `Run ${res.timestamp}${res.quick ? ' (quick)' : ''}: Node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${m.platform}/${m.arch}; ` +
      `${res.rounds} round(s), median per row; SQLite ${res.settings['sqlite-wasm']?.sqliteVersion ?? '?'} (WASM) / ` +
      `${res.settings['better-sqlite3']?.sqliteVersion ?? '?'} (native); total ${res.totalSeconds.toFixed(0)} s. ` +
      `Checksums ${res.checksAgree ? 'agree' : '**DISAGREE**'} across systems.`,
  );
  lines.push('');
  lines.push(
    '| Workload | Ops | heliosdb-nano ops/s | sqlite-wasm (oo1) ops/s | better-sqlite3 ops/s | ours / raw WASM (time) | ours / raw WASM (CPU) | raw WASM / native (time) | ≤ 1.3× |',
  );
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|:-:|');
  for (const r of res.rows) {
    const ok = r.meetsTarget === null ? '–' : r.meetsTarget ? 'yes' : '**no**';
    lines.push(
      `| ${r.label} | ${fmtInt(r.ops)} | ${fmtInt(r.systems.heliosdb?.opsPerSec)} | ${fmtInt(r.systems['sqlite-wasm']?.opsPerSec)} | ` +
        `${fmtInt(r.systems['better-sqlite3']?.opsPerSec)} | ${fmtRatio(r.oursVsRaw)} | ${fmtRatio(r.oursVsRawCpu)} | ${fmtRatio(r.rawVsNative)} | ${ok} |`,
    );
  }
  return lines.join('\n');
}

export const TABLE_START = '<!-- core-bench:table:start (generated by bench/core-bench.ts; edits inside are overwritten) -->';
export const TABLE_END = '<!-- core-bench:table:end -->';

/** Replaces the generated table in `docPath` (creating a bare document if it lacks the markers). */
export function writeDocTable(docPath: string, res: BenchResults): void {
  replaceMarkedBlock(docPath, TABLE_START, TABLE_END, markdownTable(res), '## Results');
}

/** A plain-text table for the console. */
export function consoleTable(res: BenchResults): string {
  const head = ['workload', 'ops', 'heliosdb', 'sqlite-wasm', 'native', 'ours/raw', 'cpu ours/raw', 'raw/native'];
  const body = res.rows.map((r) => [
    r.label,
    String(r.ops),
    fmtInt(r.systems.heliosdb?.opsPerSec),
    fmtInt(r.systems['sqlite-wasm']?.opsPerSec),
    fmtInt(r.systems['better-sqlite3']?.opsPerSec),
    fmtRatio(r.oursVsRaw) + (r.meetsTarget === false ? ' !' : ''),
    fmtRatio(r.oursVsRawCpu),
    fmtRatio(r.rawVsNative),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), ...body.map(fmt)].join('\n');
}
