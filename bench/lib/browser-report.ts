/**
 * Results of the browser benchmark (bench/browser-bench.ts): the JSON
 * document, the console summary and the Markdown block in docs/benchmarks.md.
 */
import type { CoreSystem, DbSettings, PageInfo, TabSettings, TabsSystem } from '../web/page-api.js';
import { percentiles, r2, r4, type Latency } from './concurrent-report.js';
import { median } from './report.js';
import { replaceMarkedBlock } from './results.js';
import { ROWS, type RowId, type Sizes } from './workload.js';

/** Targets from the issue. */
export const BROWSER_TARGETS = {
  /** Ours / raw sqlite-wasm (time, both seen from the main thread), read rows. */
  readRatio: 1.1,
  /** Same, write rows. */
  writeRatio: 1.15,
  /** Concurrent tabs: the official `opfs` VFS's wall time / ours. */
  tabsSpeedup: 5,
} as const;

/** The one-tab workload at browser size: full, and `--quick`. */
export const BROWSER_FULL: Sizes = { bulk: 20_000, autocommit: 1_000, point: 20_000, scans: 500, scanWidth: 100, updates: 5_000, deletes: 5_000 };
export const BROWSER_QUICK: Sizes = { bulk: 2_000, autocommit: 100, point: 2_000, scans: 100, scanWidth: 100, updates: 500, deletes: 500 };

export const READ_ROWS: ReadonlySet<RowId> = new Set<RowId>(['point_select', 'point_select_cursor', 'range_scan']);

/** How each system runs each row (the Node benchmark's descriptions, for the raw systems adapted to the worker). */
export const BROWSER_HOW: Readonly<Record<CoreSystem, string>> = {
  heliosdb: 'our API from the page\'s main thread, exactly as in the Node benchmark (`connect(\'opfs://bench-N.db\')`; the engine runs in the package\'s worker)',
  'sqlite-wasm-msg':
    'raw sqlite-wasm (oo1, `opfs-sahpool`) in a dedicated worker; the main thread sends one postMessage per statement ' +
    '(`BEGIN`, each row, `COMMIT`) or per batch where our API batches (executemany: all rows in one message), and awaits the reply; statements prepared once and reused',
  'sqlite-wasm-worker': 'the same worker running the whole row in one message (the Node benchmark\'s raw loop: prepared statement, `bind` / `step` / `reset`), timed inside the worker',
};

export interface CoreSystemResult {
  /** Seconds of each run. */
  readonly runs: number[];
  /** Median seconds. */
  readonly seconds: number;
  readonly opsPerSec: number;
}

export interface CoreRow {
  readonly id: RowId;
  readonly label: string;
  readonly kind: 'read' | 'write';
  readonly ops: number;
  readonly systems: Partial<Record<CoreSystem, CoreSystemResult>>;
  /** Time ratio ours / raw driven from the main thread (>1: ours is slower): the issue's comparison. */
  readonly oursVsRawMsg: number | null;
  /** Time ratio ours / raw looping inside its worker (what a main-thread API costs in all). */
  readonly oursVsRawWorker: number | null;
  /** The issue's target for this row's kind. */
  readonly target: number;
  readonly meetsTarget: boolean | null;
}

export interface TabsResult {
  readonly system: TabsSystem;
  readonly label: string;
  readonly how: string;
  readonly settings: TabSettings | null;
  readonly tabs: number;
  readonly perTab: number;
  /** From the first tab's first insert to the last tab's last (page clocks). */
  readonly wallSeconds: number | null;
  /** The same seen from the driver (evaluate calls included). */
  readonly driverSeconds: number;
  /** Acknowledged inserts per second of wall time. */
  readonly rowsPerSec: number | null;
  /** Seconds each tab took, from the common start. */
  readonly perTabSeconds: (number | null)[];
  readonly acknowledged: number;
  readonly errors: number;
  readonly errorsByMessage: Readonly<Record<string, number>>;
  /** Tabs that had not answered when the phase's time ran out. */
  readonly timedOutTabs: number;
  readonly rowsPresent: number | null;
  readonly distinctPairs: number | null;
  /** Acknowledged inserts missing afterwards. */
  readonly missingAcknowledged: number | null;
  /** Rows present whose insert failed, plus duplicates. */
  readonly unexpectedRows: number | null;
  readonly integrity: string | null;
  readonly insertLatency: Latency | null;
  /** Console lines of the phase's tabs (workers included) by kind, e.g. the official VFS's lock retries. */
  readonly consoleLines: Readonly<Record<string, number>>;
  /** The first few distinct console lines of those kinds (cut to 300 characters), to see what they said. */
  readonly consoleSamples: string[];
  /** Errors from closing the tabs' connections after the measurement (not counted above). */
  readonly closeErrors: string[];
  /** Failure of the phase itself (could not open, verify failed…), if any. */
  readonly failure: string | null;
}

export interface RoundTripResult {
  readonly id: string;
  readonly label: string;
  readonly how: string;
  /** Percentiles in ms. */
  readonly latency: Latency;
  readonly meanMs: number;
}

/** The core workload's results in one scheduling configuration. */
export interface CoreResult {
  readonly settings: Partial<Record<CoreSystem, DbSettings>>;
  readonly durableSettings: Partial<Record<CoreSystem, DbSettings>>;
  /** Per system: reads' checksums and the final `items` summary, identical across systems when all is well. */
  readonly checks: Partial<Record<CoreSystem, Record<string, number | string>>>;
  readonly checksAgree: boolean;
  readonly rows: CoreRow[];
}

/**
 * How the browser's threads were scheduled for the one-tab measurements:
 * - `default`: as the OS schedules them over every CPU;
 * - `one_cpu`: Chromium pinned to one CPU (`taskset`). On this VM a thread
 *   woken on another, idle vCPU takes tens of µs more per hop, and whether the
 *   page and a worker share a vCPU changes from run to run (even within a
 *   run), so message-bound rows switch between two speeds; on one CPU there is
 *   no cross-CPU wake-up and per-call costs are stable.
 */
export type SchedulingId = 'default' | 'one_cpu';

export interface OneTabResult {
  readonly scheduling: SchedulingId;
  readonly label: string;
  readonly page: PageInfo;
  readonly core: CoreResult | null;
  readonly roundTrips: RoundTripResult[];
}

export interface BrowserResults {
  readonly benchmark: 'browser';
  readonly timestamp: string;
  readonly quick: boolean;
  readonly rounds: number;
  readonly sizes: Sizes;
  readonly tabSizes: { readonly tabs: number; readonly perTab: number };
  readonly roundTripCalls: number;
  readonly targets: typeof BROWSER_TARGETS;
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly totalMemGiB: number;
    /** 1, 5 and 15-minute load averages before and after the run (other work on the machine skews timings). */
    readonly loadAverage: { readonly before: number[]; readonly after: number[] };
    readonly chromium: string;
    readonly profile: string;
  };
  readonly versions: Readonly<Record<string, string>>;
  readonly how: Readonly<Record<CoreSystem, string>>;
  /** Measurements 1 and 3, once per scheduling configuration. */
  readonly oneTab: OneTabResult[];
  /** Measurement 2 (default scheduling). */
  readonly tabs: TabsResult[];
  /** Official wall time / ours (×: how many times faster ours is). */
  readonly tabsSpeedup: number | null;
  readonly targetsMet: Readonly<Record<string, boolean | null>>;
  /** Things that went wrong in the run (also in the console output). */
  readonly notes: string[];
  readonly totalSeconds: number;
}

export function buildCoreRow(id: RowId, ops: number, runsMs: Partial<Record<CoreSystem, number[]>>): CoreRow {
  const spec = ROWS.find((r) => r.id === id);
  if (!spec) throw new Error(`unknown row ${id}`);
  const systems: Partial<Record<CoreSystem, CoreSystemResult>> = {};
  for (const [sys, ms] of Object.entries(runsMs) as [CoreSystem, number[]][]) {
    if (ms.length === 0) continue;
    const seconds = median(ms) / 1000;
    systems[sys] = { runs: ms.map((x) => Math.round(x * 10) / 1e4), seconds: Math.round(seconds * 1e5) / 1e5, opsPerSec: Math.round(ops / seconds) };
  }
  const ours = systems.heliosdb?.seconds;
  const ratio = (other: number | undefined): number | null => (ours === undefined || other === undefined ? null : Math.round((ours / other) * 1000) / 1000);
  const kind = READ_ROWS.has(id) ? 'read' : 'write';
  const target = kind === 'read' ? BROWSER_TARGETS.readRatio : BROWSER_TARGETS.writeRatio;
  const oursVsRawMsg = ratio(systems['sqlite-wasm-msg']?.seconds);
  return {
    id,
    label: spec.label,
    kind,
    ops,
    systems,
    oursVsRawMsg,
    oursVsRawWorker: ratio(systems['sqlite-wasm-worker']?.seconds),
    target,
    meetsTarget: oursVsRawMsg === null ? null : oursVsRawMsg <= target,
  };
}

export function roundTripResult(id: string, label: string, how: string, samplesMs: readonly number[]): RoundTripResult {
  const mean = samplesMs.reduce((a, b) => a + b, 0) / Math.max(1, samplesMs.length);
  return { id, label, how, latency: percentiles(Float64Array.from(samplesMs)), meanMs: r4(mean) };
}

/** Latency percentiles of every insert of a phase. */
export function insertLatency(samplesMs: readonly number[]): Latency | null {
  return samplesMs.length === 0 ? null : percentiles(Float64Array.from(samplesMs));
}

const int = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const ratio = (x: number | null): string => (x === null ? '–' : `${x.toFixed(2)}×`);
const yes = (b: boolean | null | undefined): string => (b === null || b === undefined ? '–' : b ? 'yes' : '**no**');
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const secs = (x: number | null): string => (x === null ? '–' : x.toFixed(2));

function errorList(t: TabsResult): string {
  const e = Object.entries(t.errorsByMessage);
  if (e.length === 0) return '0';
  return `${int(t.errors)}: ${e.map(([m, n]) => `${int(n)} × \`${m.replaceAll('|', '\\|').replaceAll('`', "'")}\``).join('; ')}`;
}

/** The worst ours / raw (postMessage) ratio of a kind of row, or null. */
export function worstRatio(core: CoreResult | null, kind: 'read' | 'write'): number | null {
  const xs = core?.rows.filter((r) => r.kind === kind && r.oursVsRawMsg !== null).map((r) => r.oursVsRawMsg as number) ?? [];
  return xs.length ? Math.max(...xs) : null;
}

function settingsLine(core: CoreResult): string {
  const s = core.settings;
  const one = (x: DbSettings | undefined): string => (x ? `page ${x.pageSize}, journal_mode ${x.journalMode}, synchronous ${x.synchronous} on ${x.storage}` : '?');
  return `Settings read back: ours ${one(s.heliosdb)}; raw ${one(s['sqlite-wasm-msg'])}.`;
}

/** The generated Markdown block (inside the markers). */
export function markdownBlock(res: BrowserResults): string {
  const m = res.machine;
  const L: string[] = [];
  const page = res.oneTab[0]?.page;
  const agree = res.oneTab.filter((o) => o.core).map((o) => `${o.label}: ${o.core?.checksAgree ? 'agree' : '**DISAGREE**'}`);
  L.push(
    `Run ${res.timestamp}${res.quick ? ' (quick)' : ''}: ${m.chromium}, headless, on-disk profile; ${m.cpus} × ${m.cpuModel}, ${m.platform}/${m.arch}; ` +
      `${res.rounds} round(s), median per row; core page cross-origin isolated: ${page?.crossOriginIsolated ?? '?'} ` +
      `(timer step ${page ? `${page.timerResolutionMs} ms` : '?'}); load average ${m.loadAverage.before[0]} before, ` +
      `${m.loadAverage.after[0]} after (other work on the machine); total ${res.totalSeconds.toFixed(0)} s.` +
      (agree.length ? ` Checksums across systems: ${agree.join('; ')}.` : ''),
  );
  for (const o of res.oneTab) {
    if (!o.core) continue;
    L.push('');
    L.push(`**1. One tab, core workload, seen from the main thread: ${o.label}** (ops/s; ratios are time ratios, > 1: ours slower)`);
    L.push('');
    L.push('| Workload | Ops | heliosdb-nano (main thread) | raw sqlite-wasm, postMessage per op | raw sqlite-wasm, loop in its worker | ours / raw (postMessage) | ours / raw (in-worker loop) | target | met |');
    L.push('|---|--:|--:|--:|--:|--:|--:|--:|:-:|');
    for (const r of o.core.rows) {
      L.push(
        `| ${r.label} | ${int(r.ops)} | ${int(r.systems.heliosdb?.opsPerSec)} | ${int(r.systems['sqlite-wasm-msg']?.opsPerSec)} | ` +
          `${int(r.systems['sqlite-wasm-worker']?.opsPerSec)} | ${ratio(r.oursVsRawMsg)} | ${ratio(r.oursVsRawWorker)} | ≤ ${r.target.toFixed(2)}× | ${yes(r.meetsTarget)} |`,
      );
    }
  }
  const core0 = res.oneTab.find((o) => o.core)?.core;
  if (core0) {
    L.push('');
    L.push(settingsLine(core0));
  }
  if (res.tabs.length > 0) {
    L.push('');
    L.push(`**2. ${res.tabSizes.tabs} tabs × ${int(res.tabSizes.perTab)} autocommit inserts at once, one database** (default scheduling)`);
    L.push('');
    L.push('| System | Wall s | Inserts/s | Per-tab s | Errors (by message) | Rows present | Acknowledged but missing | integrity | Insert latency p50 / p99 / max (ms) |');
    L.push('|---|--:|--:|--:|---|--:|--:|:-:|--:|');
    for (const t of res.tabs) {
      const lat = t.insertLatency ? `${ms(t.insertLatency.p50)} / ${ms(t.insertLatency.p99)} / ${ms(t.insertLatency.max)}` : '–';
      const perTab = t.perTabSeconds.map((x) => (x === null ? 'timed out' : x.toFixed(1))).join(', ');
      L.push(
        `| ${t.label} | ${secs(t.wallSeconds)} | ${int(t.rowsPerSec)} | ${perTab} | ${errorList(t)}${t.failure ? ` (phase failed: ${t.failure})` : ''} | ` +
          `${int(t.rowsPresent)} / ${int(t.tabs * t.perTab)} | ${int(t.missingAcknowledged)} | ${t.integrity ?? '–'} | ${lat} |`,
      );
    }
    for (const t of res.tabs.filter((x) => x.closeErrors.length > 0)) {
      L.push('');
      L.push(`${t.label}: closing the connections after the measurement failed in ${t.closeErrors.map((e) => `\`${e}\``).join('; ')}.`);
    }
    const noisy = res.tabs.filter((t) => Object.keys(t.consoleLines).length > 0);
    for (const t of noisy) {
      L.push('');
      L.push(`${t.label}, console lines during the phase: ${Object.entries(t.consoleLines).map(([k, n]) => `${k} ${int(n)}`).join(', ')}.`);
    }
  }
  const withTrips = res.oneTab.filter((o) => o.roundTrips.length > 0);
  if (withTrips.length > 0) {
    L.push('');
    L.push(`**3. Main-thread round trip of a one-row SELECT** (${int(res.roundTripCalls)} calls each, after a warm-up; ms)`);
    L.push('');
    L.push(`| Call | ${withTrips.map((o) => `${o.label}: median / p99 / max`).join(' | ')} |`);
    L.push(`|---|${withTrips.map(() => '--:').join('|')}|`);
    for (const r of withTrips[0].roundTrips) {
      const cells = withTrips.map((o) => {
        const x = o.roundTrips.find((y) => y.id === r.id);
        return x ? `${ms(x.latency.p50)} / ${ms(x.latency.p99)} / ${ms(x.latency.max)}` : '–';
      });
      L.push(`| ${r.label} | ${cells.join(' | ')} |`);
    }
  }
  const t = res.targetsMet;
  L.push('');
  L.push('| Target (from the issue) | Measured | Met |');
  L.push('|---|--:|:-:|');
  for (const o of res.oneTab) {
    if (!o.core) continue;
    L.push(`| reads ≤ ${BROWSER_TARGETS.readRatio.toFixed(2)}× raw sqlite-wasm, every read row (${o.label}) | worst ${ratio(worstRatio(o.core, 'read'))} | ${yes(t[`coreReads_${o.scheduling}`])} |`);
    L.push(`| writes ≤ ${BROWSER_TARGETS.writeRatio.toFixed(2)}× raw sqlite-wasm, every write row (${o.label}) | worst ${ratio(worstRatio(o.core, 'write'))} | ${yes(t[`coreWrites_${o.scheduling}`])} |`);
  }
  const ours = res.tabs.find((x) => x.system === 'heliosdb');
  if (ours) {
    L.push(`| ${res.tabSizes.tabs} tabs: zero errors, every row present (ours) | ${int(ours.errors)} errors, ${int(ours.rowsPresent)} / ${int(ours.tabs * ours.perTab)} rows | ${yes(t.tabsZeroErrors)} |`);
    L.push(`| ${res.tabSizes.tabs} tabs: ≥ ${BROWSER_TARGETS.tabsSpeedup}× faster than the official \`opfs\` VFS | ${ratio(res.tabsSpeedup)} | ${yes(t.tabsSpeedup)} |`);
  }
  return L.join('\n');
}

export const BROWSER_START = '<!-- browser-bench:table:start (generated by bench/browser-bench.ts; edits inside are overwritten) -->';
export const BROWSER_END = '<!-- browser-bench:table:end -->';

export function writeBrowserDoc(docPath: string, res: BrowserResults): void {
  replaceMarkedBlock(docPath, BROWSER_START, BROWSER_END, markdownBlock(res), '## Browser benchmark results');
}

/** A plain-text summary for the console. */
export function consoleSummary(res: BrowserResults): string {
  const L: string[] = [];
  for (const o of res.oneTab) {
    if (o.core) {
      L.push(`one tab, ${o.label}:`);
      const head = ['workload', 'ops', 'ours', 'raw msg', 'raw loop', 'ours/msg', 'ours/loop', 'target'];
      const body = o.core.rows.map((r) => [
        r.label,
        String(r.ops),
        int(r.systems.heliosdb?.opsPerSec),
        int(r.systems['sqlite-wasm-msg']?.opsPerSec),
        int(r.systems['sqlite-wasm-worker']?.opsPerSec),
        ratio(r.oursVsRawMsg) + (r.meetsTarget === false ? ' !' : ''),
        ratio(r.oursVsRawWorker),
        `≤ ${r.target.toFixed(2)}×`,
      ]);
      const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
      const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
      L.push(fmt(head), ...body.map(fmt));
    }
    for (const r of o.roundTrips) {
      L.push(`round trip, ${o.label}, ${r.label}: median ${ms(r.latency.p50)} ms, p99 ${ms(r.latency.p99)} ms, max ${ms(r.latency.max)} ms`);
    }
  }
  for (const t of res.tabs) {
    L.push(
      `${t.label}: wall ${secs(t.wallSeconds)} s, ${int(t.rowsPerSec)} inserts/s, errors ${int(t.errors)}` +
        `${t.errors ? ` ${JSON.stringify(t.errorsByMessage)}` : ''}, rows present ${int(t.rowsPresent)}, missing acknowledged ${int(t.missingAcknowledged)}, ` +
        `integrity ${t.integrity ?? '–'}${t.failure ? `, FAILED: ${t.failure}` : ''}`,
    );
  }
  if (res.tabsSpeedup !== null) L.push(`tabs: ours ${r2(res.tabsSpeedup)}× faster than the official opfs VFS`);
  L.push(`targets: ${JSON.stringify(res.targetsMet)}`);
  for (const n of res.notes) L.push(`note: ${n}`);
  return L.join('\n');
}
