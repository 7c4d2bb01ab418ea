/**
 * Results of the vector benchmark: the JSON document, the target checks and
 * the Markdown / console tables.
 */
import type { DatasetSpec } from './vector-data.js';
import { replaceMarkedBlock } from './results.js';

/** One measured setting of one system: sequential single-threaded queries. */
export interface Point {
  readonly setting: string;
  /** The expansion_search / ef used (null for exact search). */
  readonly ef: number | null;
  readonly queries: number;
  /** Mean recall@k against the exact ground truth. */
  readonly recall: number;
  readonly qps: number;
  /** Latency per query, milliseconds (all rounds pooled). */
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Rounds over the same queries (interleaved with the other systems). */
  readonly rounds: number;
  /** Each round's QPS (wall time); `qps` is their median. */
  readonly roundsQps: readonly number[];
  /** Queries per second of process CPU time (user + system), median of the rounds: less sensitive to other load on the machine. */
  readonly cpuQps: number;
}

export type SystemId = 'heliosdb-ann' | 'heliosdb-exact' | 'sqlite-vec-wasm' | 'hnswlib-wasm' | 'usearch-native' | 'heliosdb-binding';

export interface SystemEntry {
  readonly id: SystemId;
  readonly label: string;
  readonly version: string;
  /** How it is driven. */
  readonly how: string;
  /** Why it did not run (then nothing else is filled in). */
  readonly skipped: string | null;
  /** Seconds to make it searchable (see `buildNote`). */
  readonly buildSeconds: number | null;
  /** Process CPU seconds of the build (less sensitive than wall time to other load on the machine). */
  readonly buildCpuSeconds: number | null;
  readonly buildNote: string;
  /** Bytes, by what was measured (e.g. `indexBlob`, `onDisk`, `serialized`). */
  readonly sizes: Readonly<Record<string, number>>;
  readonly sizeNote: string;
  readonly points: readonly Point[];
  /** Anything else measured for this system (seconds unless named otherwise). */
  readonly extra: Readonly<Record<string, number | string>>;
}

export interface TargetCheck {
  readonly recallTarget: number;
  readonly speedupTarget: number;
  readonly nativeFractionTarget: number;
  /** Ours: the fastest measured ANN setting with recall ≥ recallTarget. */
  readonly ours: Point | null;
  readonly exactQps: number | null;
  readonly speedupVsExact: number | null;
  readonly meetsRecallAndSpeedup: boolean | null;
  /** Native: its fastest measured setting with recall ≥ ours' recall (else its highest-recall one). */
  readonly native: Point | null;
  /** Native's QPS at exactly ours' recall, interpolated linearly between its two measured settings around it. */
  readonly nativeQpsAtOurRecall: number | null;
  /** Ours / native at equal recall (the interpolated native QPS). */
  readonly fractionOfNative: number | null;
  /** Ours / the native setting `native` (whose recall is at least ours). */
  readonly fractionOfNativeMeasured: number | null;
  readonly meetsNativeFraction: boolean | null;
  /** The same comparison at each common ef (same graph parameters, near-equal recall). */
  readonly perEf: ReadonlyArray<{ ef: number; oursQps: number; oursRecall: number; nativeQps: number; nativeRecall: number; fraction: number }>;
}

export interface VectorBenchResults {
  readonly benchmark: 'vector';
  readonly timestamp: string;
  readonly quick: boolean;
  readonly dataset: DatasetSpec & { readonly distribution: string; readonly exactQueries: number };
  readonly machine: Readonly<Record<string, string | number>>;
  readonly groundTruthSeconds: number;
  readonly systems: readonly SystemEntry[];
  readonly targets: TargetCheck;
  /** Where our time goes (see the docs). */
  readonly diagnostics: Readonly<Record<string, number | string>>;
  readonly totalSeconds: number;
}

export const RECALL_TARGET = 0.95;
export const SPEEDUP_TARGET = 50;
export const NATIVE_FRACTION_TARGET = 0.5;

export function r(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Builds a point from each round's per-query latencies (ms) and CPU seconds, and the recall of round 0. */
export function point(setting: string, ef: number | null, rounds: readonly Float64Array[], cpuSeconds: readonly number[], recallSum: number): Point {
  const n = rounds[0].length;
  const pooled = new Float64Array(n * rounds.length);
  rounds.forEach((lat, i) => pooled.set(lat, i * n));
  const sorted = pooled.sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  let total = 0;
  for (const x of sorted) total += x;
  const roundsQps = rounds.map((lat) => {
    let t = 0;
    for (const x of lat) t += x;
    return r((n * 1000) / t, 1);
  });
  return {
    setting,
    ef,
    queries: n,
    recall: r(recallSum / n, 4),
    qps: median(roundsQps),
    meanMs: r(total / sorted.length, 4),
    p50Ms: r(at(0.5), 4),
    p99Ms: r(at(0.99), 4),
    rounds: rounds.length,
    roundsQps,
    cpuQps: r(median(cpuSeconds.map((c) => n / c)), 1),
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * A system's QPS at `recall`, interpolated linearly between its measured settings just below
 * and just above that recall; outside the measured range, the nearest end's QPS.
 */
export function qpsAtRecall(points: readonly Point[], recall: number): number {
  const s = [...points].sort((a, b) => a.recall - b.recall);
  if (recall <= s[0].recall) return s[0].qps;
  for (let i = 1; i < s.length; i++) {
    const lo = s[i - 1];
    const hi = s[i];
    if (recall <= hi.recall) {
      const f = hi.recall === lo.recall ? 1 : (recall - lo.recall) / (hi.recall - lo.recall);
      return lo.qps + f * (hi.qps - lo.qps);
    }
  }
  return s[s.length - 1].qps;
}

export function checkTargets(systems: readonly SystemEntry[]): TargetCheck {
  const ann = systems.find((s) => s.id === 'heliosdb-ann');
  const exact = systems.find((s) => s.id === 'heliosdb-exact');
  const native = systems.find((s) => s.id === 'usearch-native');
  const annPoints = (ann?.points ?? []).filter((p) => p.setting.startsWith('vector_search'));
  const good = annPoints.filter((p) => p.recall >= RECALL_TARGET).sort((a, b) => b.qps - a.qps);
  const ours = good[0] ?? null;
  const exactQps = exact?.points[0]?.qps ?? null;
  const speedup = ours !== null && exactQps !== null ? r(ours.qps / exactQps, 1) : null;
  let nat: Point | null = null;
  let natQps: number | null = null;
  if (ours !== null && native && native.points.length > 0) {
    const ok = native.points.filter((p) => p.recall >= ours.recall).sort((a, b) => b.qps - a.qps);
    nat = ok[0] ?? [...native.points].sort((a, b) => b.recall - a.recall)[0];
    natQps = r(qpsAtRecall(native.points, ours.recall), 1);
  }
  const fraction = ours !== null && natQps !== null ? r(ours.qps / natQps, 3) : null;
  const fractionMeasured = ours !== null && nat !== null ? r(ours.qps / nat.qps, 3) : null;
  const perEf: Array<TargetCheck['perEf'][number]> = [];
  for (const p of annPoints) {
    const n = native?.points.find((q) => q.ef === p.ef);
    if (p.ef !== null && n) perEf.push({ ef: p.ef, oursQps: p.qps, oursRecall: p.recall, nativeQps: n.qps, nativeRecall: n.recall, fraction: r(p.qps / n.qps, 3) });
  }
  return {
    recallTarget: RECALL_TARGET,
    speedupTarget: SPEEDUP_TARGET,
    nativeFractionTarget: NATIVE_FRACTION_TARGET,
    ours,
    exactQps,
    speedupVsExact: speedup,
    meetsRecallAndSpeedup: ann === undefined || exact === undefined ? null : ours !== null && speedup !== null && speedup >= SPEEDUP_TARGET,
    native: nat,
    nativeQpsAtOurRecall: natQps,
    fractionOfNative: fraction,
    fractionOfNativeMeasured: fractionMeasured,
    meetsNativeFraction: fraction === null ? null : fraction >= NATIVE_FRACTION_TARGET,
    perEf,
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Sizes shown in the Markdown table (the JSON has them all). */
const SHOWN_SIZES = ['indexBlob', 'database', 'fileAfterClose', 'serialized', 'serializedEstimate'];
const SIZE_NAMES: Readonly<Record<string, string>> = {
  indexBlob: 'index blob',
  database: 'database',
  fileAfterClose: 'file',
  serialized: 'serialized',
  serializedEstimate: 'serialized, estimated',
};

function sizeText(s: SystemEntry): string {
  const parts = SHOWN_SIZES.filter((k) => s.sizes[k] !== undefined).map((k) => `${mib(s.sizes[k])} (${SIZE_NAMES[k]})`);
  return parts.length ? parts.join(', ') : '–';
}

const qpsText = (q: number): string => (q < 10 ? q.toFixed(1) : int(q));

const yes = (b: boolean | null): string => (b === null ? 'not measured' : b ? '**met**' : '**not met**');

/** The Markdown block for docs/benchmarks.md. */
export function markdown(res: VectorBenchResults): string {
  const d = res.dataset;
  const m = res.machine;
  const lines: string[] = [];
  lines.push(
    `Run ${res.timestamp}${res.quick ? ' (quick)' : ''}: Node ${m.node}, ${m.cpus} × ${m.cpuModel}; ` +
      `${int(d.count)} vectors × ${d.dims} dims (${d.distribution}), cosine, top-${d.k}, ${int(d.queries)} queries ` +
      `(${d.exactQueries} for exact search); ground truth by brute force in JS (${res.groundTruthSeconds.toFixed(1)} s); total ${res.totalSeconds.toFixed(0)} s.`,
  );
  lines.push('');
  lines.push(`| System | Setting | Build (wall / CPU) | Size | Recall@${d.k} | QPS | QPS per CPU-second | ms/query p50 / p99 |`);
  lines.push('|---|---|--:|---|--:|--:|--:|--:|');
  for (const s of res.systems) {
    if (s.skipped !== null) {
      lines.push(`| ${s.label} | skipped: ${s.skipped.replace(/\|/g, '\\|')} | | | | | | |`);
      continue;
    }
    s.points.forEach((p, i) => {
      const build =
        i === 0 && s.buildSeconds !== null ? `${s.buildSeconds.toFixed(1)} s${s.buildCpuSeconds !== null ? ` / ${s.buildCpuSeconds.toFixed(1)} s` : ''}` : '';
      const size = i === 0 ? sizeText(s) : '';
      lines.push(
        `| ${i === 0 ? s.label : ''} | ${p.setting} | ${build} | ${size} | ${p.recall.toFixed(4)} | ${qpsText(p.qps)} | ${qpsText(p.cpuQps)} | ${ms(p.p50Ms)} / ${ms(p.p99Ms)} |`,
      );
    });
  }
  const t = res.targets;
  lines.push('');
  if (t.ours === null) {
    lines.push(`- Target recall@${d.k} ≥ ${t.recallTarget} at ≥ ${t.speedupTarget}× our exact search: **not met** (no measured setting reaches recall ${t.recallTarget}).`);
  } else {
    lines.push(
      `- Target recall@${d.k} ≥ ${t.recallTarget} at ≥ ${t.speedupTarget}× the QPS of our exact SQL search: ${yes(t.meetsRecallAndSpeedup)} — ` +
        `${t.ours.setting}: recall ${t.ours.recall.toFixed(4)}, ${int(t.ours.qps)} QPS = ${t.speedupVsExact ?? '–'}× exact (${t.exactQps ?? '–'} QPS).`,
    );
    lines.push(
      `- Target ≥ ${t.nativeFractionTarget * 100}% of native USearch's QPS at equal recall: ${yes(t.meetsNativeFraction)} — ` +
        (t.native === null
          ? 'native USearch not measured.'
          : `native at recall ${t.ours.recall.toFixed(4)} (interpolated between its settings): ${int(t.nativeQpsAtOurRecall ?? 0)} QPS; ` +
            `ours ${((t.fractionOfNative ?? 0) * 100).toFixed(0)}% of that (${((t.fractionOfNativeMeasured ?? 0) * 100).toFixed(0)}% of native ${t.native.setting}, recall ${t.native.recall.toFixed(4)}: ${int(t.native.qps)} QPS).`),
    );
    if (t.perEf.length > 0) {
      lines.push(
        `- At equal ef (same graph parameters): ` +
          t.perEf.map((e) => `ef ${e.ef}: ${(e.fraction * 100).toFixed(0)}% (recall ${e.oursRecall.toFixed(3)} vs ${e.nativeRecall.toFixed(3)})`).join('; ') +
          '.',
      );
    }
  }
  return lines.join('\n');
}

export const VECTOR_START = '<!-- vector-bench:table:start (generated by bench/vector-bench.ts; edits inside are overwritten) -->';
export const VECTOR_END = '<!-- vector-bench:table:end -->';

export function writeVectorDoc(docPath: string, res: VectorBenchResults): void {
  replaceMarkedBlock(docPath, VECTOR_START, VECTOR_END, markdown(res), '## Vector search benchmark (`bench/vector-bench.ts`)');
}

/** A plain-text table for the console. */
export function consoleTable(res: VectorBenchResults): string {
  const head = ['system', 'setting', 'build s', 'size MiB', 'recall', 'QPS', 'p50 ms'];
  const body: string[][] = [];
  for (const s of res.systems) {
    if (s.skipped !== null) {
      body.push([s.id, `skipped: ${s.skipped.slice(0, 80)}`, '', '', '', '', '']);
      continue;
    }
    s.points.forEach((p, i) => {
      const firstSize = Object.values(s.sizes)[0];
      body.push([
        i === 0 ? s.id : '',
        p.setting,
        i === 0 && s.buildSeconds !== null ? s.buildSeconds.toFixed(1) : '',
        i === 0 && firstSize !== undefined ? (firstSize / 2 ** 20).toFixed(1) : '',
        p.recall.toFixed(4),
        qpsText(p.qps),
        ms(p.p50Ms),
      ]);
    });
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), ...body.map(fmt)].join('\n');
}
