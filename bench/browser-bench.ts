/**
 * Browser benchmark: three measurements in headless Chromium (on-disk
 * profile), in one run, side by side.
 *
 * 1. One tab, the core workload (bench/lib/workload.ts at browser size):
 *    heliosdb-nano through its API from the page's main thread
 *    (`connect('opfs://…')`) vs raw `@sqlite.org/sqlite-wasm` on its
 *    `opfs-sahpool` VFS in a dedicated worker of the same page, driven from the
 *    main thread with one postMessage per operation (and, for reference, the
 *    same worker looping over each row by itself). Message-bound rows run in
 *    10 parts interleaved across the systems (CORE_PARTS).
 * 2. 4 tabs × 1,000 durable autocommit inserts at once into one database:
 *    ours (`opfs://`, tabs of one browser profile sharing it through the
 *    elected leader) vs the official `opfs` VFS opened in each tab's worker
 *    (pages served with COOP/COEP). Errors by message, wall time, rows present.
 * 3. The main-thread round trip of a one-row SELECT through our API (median,
 *    p99 over ≥ 2,000 calls), beside a bare postMessage round trip.
 *
 * Usage (after `npm run build && npm run build:test`, or just `npm run bench:browser`):
 *
 *   node build/bench/browser-bench.js [--quick] [--rounds N] [--only core,tabs,roundtrip] [--scheduling default,one_cpu]
 *                                     [--tab-rows N] [--calls N] [--no-build] [--no-write]
 *
 * Measurements 1 and 3 run twice: with the browser's threads scheduled over
 * every CPU, and with Chromium pinned to one CPU (`taskset`), because on this
 * VM a worker woken on another idle vCPU costs tens of µs more per message
 * and message-bound rows otherwise switch between two speeds at random.
 *
 * It builds its pages (bench/web/, Vite) into build/bench-web/ first. A
 * complete run writes bench/results/browser-<timestamp>.json,
 * browser-latest.json and the generated block of docs/benchmarks.md; `--quick`
 * writes only browser-quick-latest.json, and filtered runs only
 * browser-partial-latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, firstPage, launchChromium, type LaunchedChromium } from '../e2e/chromium.js';
import { watchdog } from '../e2e/harness.js';
import { startStaticServer, type StaticServer } from '../e2e/static-server.js';
import {
  BROWSER_FULL,
  BROWSER_HOW,
  BROWSER_QUICK,
  BROWSER_TARGETS,
  buildCoreRow,
  consoleSummary,
  insertLatency,
  roundTripResult,
  writeBrowserDoc,
  type BrowserResults,
  type CoreResult,
  type CoreRow,
  type OneTabResult,
  type RoundTripResult,
  type SchedulingId,
  type TabsResult,
} from './lib/browser-report.js';
import { parseCommonArgs } from './lib/cli.js';
import { r4 } from './lib/concurrent-report.js';
import { machineInfo, writeResults } from './lib/results.js';
import { wasmPackageVersion } from './lib/systems.js';
import { DURABLE_CHUNKS, ROWS, type RowId } from './lib/workload.js';
import { CORE_SYSTEMS, type CoreSystem, type DbSettings, type PageInfo, type TabRun, type TabsSystem } from './web/page-api.js';

type Part = 'core' | 'tabs' | 'roundtrip';
const PARTS: readonly Part[] = ['core', 'tabs', 'roundtrip'];

/** The scheduling configurations of the one-tab measurements (see SchedulingId). */
const SCHEDULINGS: readonly { id: SchedulingId; label: string }[] = [
  { id: 'default', label: 'default scheduling, all CPUs' },
  { id: 'one_cpu', label: 'Chromium on one CPU, `taskset -c 0`' },
];

/**
 * Parts each message-bound row of the one-tab workload is split into, run
 * interleaved across the systems (ours, raw, ours, raw, …, rotating the
 * order): on a shared 2-vCPU machine the cost of a message round trip drifts
 * within a second (other load, which vCPU a woken thread lands on), and a row
 * run by one system after the other would meet different conditions.
 */
const CORE_PARTS = 10;
/** Rounds of the one-tab workload in a full run (the whole run must stay within ~5 minutes). */
const FULL_ROUNDS = 3;
const TABS = 4;
const TAB_ROWS_FULL = 1_000;
const TAB_ROWS_QUICK = 100;
const CALLS_FULL = 5_000;
const CALLS_QUICK = 2_000;
const WARMUP_CALLS = 200;
/** A tabs phase still running after this long is stopped and reported as timed out. */
const TABS_PHASE_LIMIT_MS = 150_000;

interface Args {
  quick: boolean;
  rounds: number;
  write: boolean;
  build: boolean;
  only: Part[];
  scheduling: SchedulingId[];
  tabRows: number;
  calls: number;
  filtered: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let only: Part[] = [...PARTS];
  let scheduling: SchedulingId[] = SCHEDULINGS.map((x) => x.id);
  let tabRows = 0;
  let calls = 0;
  let build = true;
  let filtered = false;
  const common = parseCommonArgs(argv, (a, value) => {
    if (a === '--only') {
      const list = value().split(',');
      for (const p of list) if (!PARTS.includes(p as Part)) throw new Error(`unknown part ${p} (parts: ${PARTS.join(', ')})`);
      only = list as Part[];
      filtered = true;
    } else if (a === '--scheduling') {
      const ids = SCHEDULINGS.map((x) => x.id as string);
      const list = value().split(',');
      for (const x of list) if (!ids.includes(x)) throw new Error(`unknown scheduling ${x} (known: ${ids.join(', ')})`);
      scheduling = list as SchedulingId[];
      filtered = true;
    } else if (a === '--tab-rows') {
      tabRows = Math.max(1, Number.parseInt(value(), 10));
      filtered = true;
    } else if (a === '--calls') {
      calls = Math.max(2_000, Number.parseInt(value(), 10));
    } else if (a === '--no-build') {
      build = false;
    } else return false;
    return true;
  });
  const rounds = argv.includes('--rounds') ? common.rounds : common.quick ? 1 : FULL_ROUNDS;
  return {
    quick: common.quick,
    rounds,
    write: common.write,
    build,
    only,
    scheduling,
    tabRows: tabRows || (common.quick ? TAB_ROWS_QUICK : TAB_ROWS_FULL),
    calls: calls || (common.quick ? CALLS_QUICK : CALLS_FULL),
    filtered,
  };
}

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH_WEB = join(ROOT, 'build/bench-web');

/** Builds bench/web/ with Vite (after linking node_modules/heliosdb-nano, as scripts/build-web.mjs does). */
async function buildPages(): Promise<void> {
  const t0 = Date.now();
  const { linkSelf } = (await import(new URL('../../scripts/link-self.mjs', import.meta.url).href)) as { linkSelf: () => void };
  linkSelf();
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'bench/web/vite.config.ts'), logLevel: 'warn' });
  log(`built the benchmark pages (bench/web -> build/bench-web) in ${Date.now() - t0} ms`);
}

async function openPage(page: Page, url: string, log: readonly string[], ready: () => boolean): Promise<void> {
  await page.goto(url);
  try {
    await page.waitForFunction(ready, undefined, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`${url}: benchmark API not ready: ${String(e)}\n--- browser log ---\n${log.slice(-30).join('\n')}`, { cause: e });
  }
}

/** Chromium started through `taskset -c <cpu>` (every thread it ever starts inherits the affinity), on its own on-disk profile. */
interface PinnedChromium {
  readonly page: Page;
  readonly log: string[];
  close(): Promise<void>;
}

function tasksetWorks(): boolean {
  const r = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

async function launchOnOneCpu(cpu: number): Promise<PinnedChromium> {
  const dir = await mkdtemp(join(tmpdir(), 'heliosdb-bench-one-cpu-'));
  const wrapper = join(dir, 'chromium-on-one-cpu.sh');
  await writeFile(wrapper, `#!/bin/sh\nexec taskset -c ${cpu} '${CHROMIUM_PATH.replaceAll("'", "'\\''")}' "$@"\n`, { mode: 0o755 });
  try {
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: wrapper,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 120_000,
    });
    context.setDefaultTimeout(120_000);
    const page = context.pages()[0] ?? (await context.newPage());
    const log: string[] = [];
    page.on('console', (m) => log.push(`[one-cpu console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[one-cpu pageerror] ${e.stack ?? e.message}`));
    return {
      page,
      log,
      close: async () => {
        await context.close().catch((e: unknown) => log.push(`[close] ${String(e)}`));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

// ---------------------------------------------------------------------------
// 1 and 3: one tab

interface CoreOutcome {
  readonly info: PageInfo;
  readonly core: CoreResult | null;
  readonly roundTrips: RoundTripResult[];
}

async function runCorePage(page: Page, args: Args, tag: string): Promise<CoreOutcome> {
  const sizes = args.quick ? BROWSER_QUICK : BROWSER_FULL;
  const info = await page.evaluate((s) => window.heliosBench?.setup(s) ?? Promise.reject(new Error('no benchmark API on the page')), sizes);
  log(`${tag}: page ${info.userAgent}; crossOriginIsolated ${info.crossOriginIsolated}; timer step ${info.timerResolutionMs} ms`);

  let core: CoreOutcome['core'] = null;
  if (args.only.includes('core')) {
    const runs = new Map<RowId, Partial<Record<CoreSystem, number[]>>>();
    const settings: Partial<Record<CoreSystem, DbSettings>> = {};
    const durableSettings: Partial<Record<CoreSystem, DbSettings>> = {};
    const checks: Partial<Record<CoreSystem, Record<string, number | string>>> = {};
    const record = (row: RowId, sys: CoreSystem, ms: number): void => {
      const perRow = runs.get(row) ?? {};
      (perRow[sys] ??= []).push(ms);
      runs.set(row, perRow);
    };

    for (let round = 0; round < args.rounds; round++) {
      // Every system opens its own fresh database; the order of the systems rotates each round
      // and each part, so that none always runs first (or last).
      const rotated = (k: number): CoreSystem[] => CORE_SYSTEMS.map((_, i) => CORE_SYSTEMS[(i + k) % CORE_SYSTEMS.length]);
      for (const sys of rotated(round)) {
        settings[sys] = await page.evaluate(([s, r]) => window.heliosBench?.open(s, r) ?? Promise.reject(new Error('no benchmark API on the page')), [sys, round] as const);
      }
      for (const spec of ROWS) {
        if (spec.durable) continue;
        for (let rep = 0; rep < (spec.repeats ?? 1); rep++) {
          // Message-bound rows run in parts interleaved across the systems (see CORE_PARTS).
          const parts = (sys: CoreSystem): number => (sys === 'sqlite-wasm-worker' || spec.id === 'bulk_insert_executemany' ? 1 : CORE_PARTS);
          const ms: Partial<Record<CoreSystem, number>> = {};
          const sums: Partial<Record<CoreSystem, number>> = {};
          for (let index = 0; index < CORE_PARTS; index++) {
            for (const sys of rotated(round + index)) {
              const count = parts(sys);
              if (index >= count) continue;
              const t = await page.evaluate(
                ([s, row, k, part]) => window.heliosBench?.run(s, row, k, part) ?? Promise.reject(new Error('no benchmark API on the page')),
                [sys, spec.id, rep, { index, count }] as const,
              );
              ms[sys] = (ms[sys] ?? 0) + t.ms;
              sums[sys] = (sums[sys] ?? 0) + t.checksum;
            }
          }
          const ops = spec.ops(sizes);
          for (const sys of rotated(round)) {
            await page.evaluate(([s, row]) => window.heliosBench?.between(s, row) ?? Promise.reject(new Error('no benchmark API on the page')), [sys, spec.id] as const);
            const total = ms[sys] ?? 0;
            record(spec.id, sys, total);
            if (round === 0 && sums[sys] !== 0) (checks[sys] ??= {})[spec.id] = sums[sys] ?? 0;
            log(
              `${tag} round ${round + 1}/${args.rounds}  ${sys.padEnd(18)} ${spec.id.padEnd(24)} ` +
                `${((ops / total) * 1000).toFixed(0).padStart(9)} ops/s  (${(total / 1000).toFixed(3)} s)`,
            );
          }
        }
      }
      for (const sys of rotated(round)) {
        if (round === 0) {
          const [count, total] = await page.evaluate((s) => window.heliosBench?.summary(s) ?? Promise.reject(new Error('no benchmark API on the page')), sys);
          (checks[sys] ??= {}).items = `${count} rows, total(score) ${total}`;
        }
        await page.evaluate((s) => window.heliosBench?.close(s) ?? Promise.reject(new Error('no benchmark API on the page')), sys);
      }
    }

    // The durable row: each system on its own database, in chunks interleaved across the systems.
    for (const sys of CORE_SYSTEMS) durableSettings[sys] = await page.evaluate((s) => window.heliosBench?.openDurable(s) ?? Promise.reject(new Error('no benchmark API on the page')), sys);
    const chunk = Math.ceil(sizes.autocommit / DURABLE_CHUNKS);
    for (let c = 0; c * chunk < sizes.autocommit; c++) {
      const from = c * chunk;
      const to = Math.min(sizes.autocommit, from + chunk);
      const order = CORE_SYSTEMS.map((_, i) => CORE_SYSTEMS[(i + c) % CORE_SYSTEMS.length]);
      for (const sys of order) {
        const ms = await page.evaluate(([s, a, b]) => window.heliosBench?.durableChunk(s, a, b) ?? Promise.reject(new Error('no benchmark API on the page')), [sys, from, to] as const);
        const perRow = runs.get('autocommit_insert') ?? {};
        const acc = (perRow[sys] ??= [0]);
        acc[0] += ms;
        runs.set('autocommit_insert', perRow);
        log(`${tag} durable chunk ${c + 1}/${DURABLE_CHUNKS}  ${sys.padEnd(18)} ${(((to - from) / ms) * 1000).toFixed(0).padStart(7)} inserts/s`);
      }
    }
    for (const sys of CORE_SYSTEMS) {
      (checks[sys] ??= {}).durable_items = await page.evaluate((s) => window.heliosBench?.closeDurable(s) ?? Promise.reject(new Error('no benchmark API on the page')), sys);
    }

    const rows: CoreRow[] = ROWS.map((spec) => buildCoreRow(spec.id, spec.ops(sizes), runs.get(spec.id) ?? {}));
    const values = Object.values(checks).map((c) => JSON.stringify(c));
    core = { settings, durableSettings, checks, checksAgree: values.every((v) => v === values[0]), rows };
  }

  const roundTrips: RoundTripResult[] = [];
  if (args.only.includes('roundtrip')) {
    const sets = await page.evaluate(([n, w]) => window.heliosBench?.roundTrips(n, w) ?? Promise.reject(new Error('no benchmark API on the page')), [args.calls, WARMUP_CALLS] as const);
    for (const s of sets) roundTrips.push(roundTripResult(s.id, s.label, s.how, s.samplesMs));
  }
  return { info, core, roundTrips };
}

// ---------------------------------------------------------------------------
// 2: several tabs

const TAB_SYSTEMS: readonly { system: TabsSystem; label: string; how: string; page: string; isolated: boolean }[] = [
  {
    system: 'heliosdb',
    label: 'heliosdb-nano (`opfs://`, shared by the tabs)',
    how:
      "each tab: `connect('opfs://tabs.db', { isolation_level: null })`, then `await cur.execute(insert, row)` per row from the main thread; " +
      'one tab leads the database (Web Lock), the others forward to it; pages served without COOP/COEP',
    page: 'tabs.html',
    isolated: false,
  },
  {
    system: 'sqlite-wasm-opfs',
    label: 'official sqlite-wasm, `opfs` VFS in each tab',
    how:
      "each tab: a worker with `new sqlite3.oo1.OpfsDb('/tabs.db')` (busy_timeout 5000, journal_mode DELETE), a prepared insert, " +
      '`stmt.bind(row).stepReset()` per row; pages served with COOP/COEP',
    page: 'official-tabs.html',
    isolated: true,
  },
];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Console lines of a phase, by kind (the official VFS logs its lock retries), and a few distinct examples. */
function consoleKinds(lines: readonly string[]): { kinds: Record<string, number>; samples: string[] } {
  const kinds: Record<string, number> = {};
  const samples = new Set<string>();
  const patterns: [string, RegExp][] = [
    ['NoModificationAllowedError', /NoModificationAllowedError/],
    ['GetSyncHandleError', /GetSyncHandleError/],
    ['SQLITE_BUSY', /SQLITE_BUSY|database is locked/i],
    ['SQLITE_CORRUPT', /SQLITE_CORRUPT|malformed/i],
    ['pageerror', /\bpageerror\b/],
    ['other errors', /console\.error/],
  ];
  for (const line of lines) {
    const hit = patterns.find(([, re]) => re.test(line));
    if (!hit) continue;
    kinds[hit[0]] = (kinds[hit[0]] ?? 0) + 1;
    if (samples.size < 6) samples.add(line.replace(/\s+/g, ' ').slice(0, 300));
  }
  return { kinds, samples: [...samples] };
}

async function runTabs(browser: LaunchedChromium, servers: { plain: StaticServer; isolated: StaticServer }, spec: (typeof TAB_SYSTEMS)[number], perTab: number): Promise<TabsResult> {
  const logStart = browser.log.length;
  const pages: Page[] = [];
  let settings: TabsResult['settings'] = null;
  let failure: string | null = null;
  const runs: (TabRun | null)[] = Array.from({ length: TABS }, () => null);
  let driverSeconds = 0;
  let verify: { rowsPresent: number; pairs: [number, number][]; integrity: string } | null = null;
  const closeErrors: string[] = [];
  try {
    const url = `${(spec.isolated ? servers.isolated : servers.plain).url}/${spec.page}`;
    for (let i = 0; i < TABS; i++) {
      const page = await browser.newPage();
      pages.push(page);
      await openPage(page, url, browser.log, () => window.heliosBenchTabs?.ready === true);
    }
    // One tab creates the table, then the others open (not timed).
    for (let i = 0; i < TABS; i++) {
      const s = await pages[i].evaluate((create) => window.heliosBenchTabs?.open(create) ?? Promise.reject(new Error('no benchmark API on the page')), i === 0);
      if (i === 0) settings = s;
    }
    const startAt = Date.now() + 500;
    const t0 = performance.now();
    let timedOut = false;
    const limit = sleep(TABS_PHASE_LIMIT_MS).then(() => {
      timedOut = true;
    });
    await Promise.race([
      Promise.all(
        pages.map(async (p, i) => {
          runs[i] = await p.evaluate(([tab, rows, at]) => window.heliosBenchTabs?.run(tab, rows, at) ?? Promise.reject(new Error('no benchmark API on the page')), [i, perTab, startAt] as const);
          log(`tabs ${spec.system}: tab ${i} done (${runs[i]?.acknowledged} acknowledged) after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        }),
      ),
      limit,
    ]);
    driverSeconds = (performance.now() - t0) / 1000;
    if (timedOut) failure = `timed out after ${TABS_PHASE_LIMIT_MS / 1000} s`;
    else verify = await pages[0].evaluate(() => window.heliosBenchTabs?.verify() ?? Promise.reject(new Error('no benchmark API on the page')));
  } catch (e) {
    failure = e instanceof Error ? e.message.split('\n')[0] : String(e);
    log(`tabs ${spec.system}: ${String(e)}`);
  } finally {
    for (const p of pages) {
      await Promise.race([p.evaluate(() => window.heliosBenchTabs?.close() ?? Promise.reject(new Error('no benchmark API on the page'))).catch((e: unknown) => {
          const m = `tab ${pages.indexOf(p)}: ${String(e).split('\n')[0]}`;
          closeErrors.push(m);
          log(`tabs ${spec.system}: closing ${m}`);
        }), sleep(5_000)]);
      await p.close().catch((e: unknown) => log(`page close: ${String(e)}`));
    }
  }

  const phaseConsole = consoleKinds(browser.log.slice(logStart));
  const done = runs.filter((r): r is TabRun => r !== null);
  const errorsByMessage: Record<string, number> = {};
  for (const r of done) for (const [m, n] of Object.entries(r.errors)) errorsByMessage[m] = (errorsByMessage[m] ?? 0) + n;
  const errors = Object.values(errorsByMessage).reduce((a, b) => a + b, 0);
  const acknowledged = done.reduce((a, r) => a + r.acknowledged, 0);
  const start = done.length ? Math.min(...done.map((r) => r.startedAt)) : 0;
  const wallSeconds = done.length === TABS ? r4((Math.max(...done.map((r) => r.endedAt)) - start) / 1000) : null;

  let missingAcknowledged: number | null = null;
  let unexpectedRows: number | null = null;
  let distinctPairs: number | null = null;
  if (verify !== null && done.length === TABS) {
    const key = (w: number, s: number): number => w * 1e9 + s;
    const present = new Set(verify.pairs.map(([w, s]) => key(w, s)));
    distinctPairs = present.size;
    const acked = new Set<number>();
    for (const r of done) {
      const failed = new Set(r.failedSeqs);
      for (let s = 0; s < r.rows; s++) if (!failed.has(s)) acked.add(key(r.tab, s));
    }
    missingAcknowledged = [...acked].filter((k) => !present.has(k)).length;
    unexpectedRows = [...present].filter((k) => !acked.has(k)).length + (verify.pairs.length - present.size);
  }
  return {
    system: spec.system,
    label: spec.label,
    how: spec.how,
    settings,
    tabs: TABS,
    perTab,
    wallSeconds,
    driverSeconds: r4(driverSeconds),
    rowsPerSec: wallSeconds ? Math.round(acknowledged / wallSeconds) : null,
    perTabSeconds: runs.map((r) => (r === null ? null : r4((r.endedAt - start) / 1000))),
    acknowledged,
    errors,
    errorsByMessage,
    timedOutTabs: runs.filter((r) => r === null).length,
    rowsPresent: verify?.rowsPresent ?? null,
    distinctPairs,
    missingAcknowledged,
    unexpectedRows,
    integrity: verify?.integrity ?? null,
    insertLatency: insertLatency(done.flatMap((r) => r.latenciesMs)),
    consoleLines: phaseConsole.kinds,
    consoleSamples: phaseConsole.samples,
    closeErrors,
    failure,
  };
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  let browser: LaunchedChromium | undefined;
  watchdog(9 * 60_000, () => browser);
  if (args.build) await buildPages();

  const isolated = await startStaticServer({ root: BENCH_WEB, crossOriginIsolated: true });
  const plain = await startStaticServer({ root: BENCH_WEB });
  const notes: string[] = [];
  const oneTab: OneTabResult[] = [];
  const tabs: TabsResult[] = [];
  let chromiumVersion: string | undefined;
  const wantsCorePage = args.only.includes('core') || args.only.includes('roundtrip');
  const schedulingLabel = (id: SchedulingId): string => SCHEDULINGS.find((x) => x.id === id)?.label ?? id;
  try {
    browser = await launchChromium({ timeoutMs: 120_000 });
    chromiumVersion = `Chromium ${browser.context.browser()?.version() ?? '?'}`;
    if (wantsCorePage && args.scheduling.includes('default')) {
      const page = await firstPage(browser);
      await openPage(page, `${isolated.url}/core.html`, browser.log, () => window.heliosBench?.ready === true);
      const o = await runCorePage(page, args, 'default');
      oneTab.push({ scheduling: 'default', label: schedulingLabel('default'), page: o.info, core: o.core, roundTrips: o.roundTrips });
      await page.close();
    }
    if (args.only.includes('tabs')) {
      for (const spec of TAB_SYSTEMS) {
        log(`tabs: ${spec.system}, ${TABS} tabs × ${args.tabRows} autocommit inserts`);
        const r = await runTabs(browser, { plain, isolated }, spec, args.tabRows);
        tabs.push(r);
        if (r.failure) notes.push(`${spec.system} tabs phase failed: ${r.failure}`);
        for (const e of r.closeErrors) notes.push(`${spec.system} tabs: closing the connection after the measurement failed in ${e}`);
      }
    }
    await browser.close();
    browser = undefined;

    if (wantsCorePage && args.scheduling.includes('one_cpu')) {
      if (cpus().length < 2) notes.push('one CPU only: the one_cpu configuration would repeat the default one; skipped');
      else if (!tasksetWorks()) notes.push('taskset is not available: the one_cpu configuration was skipped');
      else {
        const pinned = await launchOnOneCpu(0);
        try {
          await openPage(pinned.page, `${isolated.url}/core.html`, pinned.log, () => window.heliosBench?.ready === true);
          const o = await runCorePage(pinned.page, args, 'one_cpu');
          oneTab.push({ scheduling: 'one_cpu', label: schedulingLabel('one_cpu'), page: o.info, core: o.core, roundTrips: o.roundTrips });
        } finally {
          await pinned.close();
        }
      }
    }
  } finally {
    await browser?.close();
    await isolated.close();
    await plain.close();
  }

  for (const o of oneTab) {
    if (o.core && !o.core.checksAgree) notes.push(`${o.label}: checksums differ between systems: ${JSON.stringify(o.core.checks)}`);
  }
  const ours = tabs.find((t) => t.system === 'heliosdb');
  const official = tabs.find((t) => t.system === 'sqlite-wasm-opfs');
  const tabsSpeedup = ours?.wallSeconds && official?.wallSeconds ? Math.round((official.wallSeconds / ours.wallSeconds) * 100) / 100 : null;
  const allMet = (core: CoreResult | null, kind: 'read' | 'write'): boolean | null => {
    const rows = core?.rows.filter((r) => r.kind === kind && r.meetsTarget !== null) ?? [];
    return rows.length === 0 ? null : rows.every((r) => r.meetsTarget === true);
  };
  const oursComplete = ours && ours.failure === null
    ? ours.errors === 0 && ours.missingAcknowledged === 0 && ours.rowsPresent === ours.tabs * ours.perTab
    : ours ? false : null;
  const targetsMet: Record<string, boolean | null> = {};
  for (const o of oneTab) {
    if (!o.core) continue;
    targetsMet[`coreReads_${o.scheduling}`] = allMet(o.core, 'read');
    targetsMet[`coreWrites_${o.scheduling}`] = allMet(o.core, 'write');
  }
  targetsMet.tabsZeroErrors = oursComplete;
  targetsMet.tabsSpeedup = tabsSpeedup === null ? (ours ? false : null) : tabsSpeedup >= BROWSER_TARGETS.tabsSpeedup;
  if (official && official.errors > 0) notes.push(`the official opfs VFS reported ${official.errors} errors: ${JSON.stringify(official.errorsByMessage)}`);
  if (official && (official.missingAcknowledged ?? 0) > 0) notes.push(`the official opfs VFS lost ${official.missingAcknowledged} acknowledged inserts`);

  const now = new Date();
  const res: BrowserResults = {
    benchmark: 'browser',
    timestamp: now.toISOString(),
    quick: args.quick,
    rounds: args.rounds,
    sizes: args.quick ? BROWSER_QUICK : BROWSER_FULL,
    tabSizes: { tabs: TABS, perTab: args.tabRows },
    roundTripCalls: args.calls,
    targets: BROWSER_TARGETS,
    machine: {
      ...machineInfo(),
      loadAverage: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) },
      chromium: chromiumVersion ?? 'Chromium (not started)',
      profile: 'persistent on-disk profile in os.tmpdir() (chromium.launchPersistentContext), a fresh one per browser',
    },
    versions: {
      'heliosdb-nano': (await import('heliosdb-nano')).version,
      '@sqlite.org/sqlite-wasm': wasmPackageVersion(),
      'playwright-core': (createRequire(import.meta.url)('playwright-core/package.json') as { version: string }).version,
    },
    how: BROWSER_HOW,
    oneTab,
    tabs,
    tabsSpeedup,
    targetsMet,
    notes,
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
  };

  console.log(consoleSummary(res));
  console.log(`total ${res.totalSeconds} s`);
  if (args.write) {
    writeResults(ROOT, 'browser', res, { quick: args.quick, partial: args.filtered, now }, (doc) => writeBrowserDoc(doc, res));
  }
  if (oneTab.some((o) => o.core && !o.core.checksAgree)) process.exitCode = 1;
}

await main();
