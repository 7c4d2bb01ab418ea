/**
 * What the browser benchmark's pages (bench/web/) hand back to the Node driver
 * (bench/browser-bench.ts) through `page.evaluate`: plain JSON only.
 *
 * - `core.html` exposes {@link CoreBenchApi} as `window.heliosBench`: the core
 *   workload through our API from the main thread, and raw sqlite-wasm in a
 *   dedicated worker, plus the main-thread round-trip samples.
 * - `tabs.html` (ours) and `official-tabs.html` (the official `opfs` VFS)
 *   expose {@link TabsApi} as `window.heliosBenchTabs`: one tab of the
 *   concurrent-tabs measurement.
 */
import type { RowId, Sizes } from '../lib/workload.js';

/**
 * The systems of the one-tab measurement:
 * - `heliosdb`: our API from the page's main thread (`connect('opfs://…')`);
 * - `sqlite-wasm-msg`: raw `@sqlite.org/sqlite-wasm` (oo1) on `opfs-sahpool` in
 *   a dedicated worker, driven from the main thread, one postMessage per
 *   operation (one per batch where our API batches: executemany);
 * - `sqlite-wasm-worker`: the same worker running each whole workload row in
 *   one message, timed inside the worker (the engine's cost with no messaging).
 */
export type CoreSystem = 'heliosdb' | 'sqlite-wasm-msg' | 'sqlite-wasm-worker';
export const CORE_SYSTEMS: readonly CoreSystem[] = ['heliosdb', 'sqlite-wasm-msg', 'sqlite-wasm-worker'];

/** Settings read back from an open database. */
export interface DbSettings {
  readonly sqliteVersion: string;
  readonly pageSize: number;
  readonly journalMode: string;
  readonly synchronous: number;
  /** Where the database lives (`opfs` for ours, the VFS name for raw). */
  readonly storage: string;
}

/**
 * A share of a workload row: part `index` of `count`, the row's operations
 * split evenly. The driver interleaves the systems part by part, so that every
 * system meets the same moments of a shared, drifting machine; a row's time is
 * the sum of its parts. The first part opens the row's transaction, the last
 * commits it.
 */
export interface Part {
  readonly index: number;
  readonly count: number;
}

/** The whole row in one part. */
export const WHOLE: Part = { index: 0, count: 1 };

/** `list`'s items that belong to `part`. */
export function share<T>(list: readonly T[], part: Part): readonly T[] {
  return list.slice(Math.floor((list.length * part.index) / part.count), Math.floor((list.length * (part.index + 1)) / part.count));
}

export const isFirst = (part: Part): boolean => part.index === 0;
export const isLast = (part: Part): boolean => part.index === part.count - 1;

/** One timed run: milliseconds and a checksum of what was read (0 for writes). */
export interface Timed {
  readonly ms: number;
  readonly checksum: number;
}

/** What the page knows about itself. */
export interface PageInfo {
  readonly userAgent: string;
  readonly crossOriginIsolated: boolean;
  /** Smallest positive step of `performance.now()` seen (ms): 0.005 when isolated, 0.1 otherwise. */
  readonly timerResolutionMs: number;
  readonly hardwareConcurrency: number;
}

/** One set of round-trip samples (ms per call, in call order). */
export interface RoundTripSet {
  readonly id: 'ours_select1' | 'ours_select1_memory' | 'ours_point' | 'raw_msg_select1' | 'raw_msg_point' | 'raw_msg_ping' | 'comlink_ping';
  readonly label: string;
  readonly how: string;
  readonly samplesMs: number[];
}

/** The API of core.html, as `window.heliosBench`. */
export interface CoreBenchApi {
  readonly ready: true;
  /** Builds the workload data, starts the raw worker and installs its VFS. */
  setup(sizes: Sizes): Promise<PageInfo>;
  /** Opens a fresh database for `sys` (named after `round`), with the schema. */
  open(sys: CoreSystem, round: number): Promise<DbSettings>;
  /** Runs one part of a workload row (not the durable one), timed on the main thread (in the worker for `sqlite-wasm-worker`). */
  run(sys: CoreSystem, row: RowId, rep: number, part: Part): Promise<Timed>;
  /** Untimed clean-up after a row (drops the executemany table). */
  between(sys: CoreSystem, row: RowId): Promise<void>;
  /** `count(*)` and `total(score)` of `items`. */
  summary(sys: CoreSystem): Promise<[number, number]>;
  /** Closes the database of `sys`. */
  close(sys: CoreSystem): Promise<void>;
  /** Opens the durable (autocommit) database of `sys`, with the schema. */
  openDurable(sys: CoreSystem): Promise<DbSettings>;
  /** Inserts autocommit rows [from, to) of the workload, one transaction each; returns ms. */
  durableChunk(sys: CoreSystem, from: number, to: number): Promise<number>;
  /** `count(*)` of the durable database; closes it. */
  closeDurable(sys: CoreSystem): Promise<number>;
  /** The round-trip samples: `calls` timed calls of each kind after `warmup` untimed ones. */
  roundTrips(calls: number, warmup: number): Promise<RoundTripSet[]>;
}

/** The systems of the concurrent-tabs measurement. */
export type TabsSystem = 'heliosdb' | 'sqlite-wasm-opfs';

export interface TabSettings {
  readonly journalMode: string;
  readonly synchronous: number;
  /** `PRAGMA busy_timeout` (official) / the connection's `timeout` in ms (ours). */
  readonly busyTimeoutMs: number;
  readonly storage: string;
}

/** One tab's inserts. */
export interface TabRun {
  readonly tab: number;
  readonly rows: number;
  /** Inserts that returned without an error. */
  readonly acknowledged: number;
  /** Seq numbers whose insert failed (not retried). */
  readonly failedSeqs: number[];
  /** Error count by message. */
  readonly errors: Record<string, number>;
  /** `performance.timeOrigin + performance.now()` at the first insert and after the last (ms since the epoch). */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Each insert's latency (ms), in order. */
  readonly latenciesMs: number[];
}

/** The finished shared database, read back from one tab after every tab finished. */
export interface TabsVerify {
  readonly rowsPresent: number;
  /** Every (writer, seq) pair present (duplicates included). */
  readonly pairs: [number, number][];
  readonly integrity: string;
}

/** The API of tabs.html and official-tabs.html, as `window.heliosBenchTabs`. */
export interface TabsApi {
  readonly ready: true;
  readonly system: TabsSystem;
  /** Opens the shared database (`create`: also creates the table; one tab does that first). */
  open(create: boolean): Promise<TabSettings>;
  /** Waits until `startAt` (ms since the epoch), then inserts `rows` rows as writer `tab`, one autocommit insert each. */
  run(tab: number, rows: number, startAt: number): Promise<TabRun>;
  /** Reads the table back (this tab's connection). */
  verify(): Promise<TabsVerify>;
  close(): Promise<void>;
}

declare global {
  interface Window {
    heliosBench?: CoreBenchApi;
    heliosBenchTabs?: TabsApi;
  }
}

/** The smallest positive step of `performance.now()` over a short busy loop (ms). */
export function timerResolutionMs(): number {
  let best = Infinity;
  let last = performance.now();
  const end = last + 20;
  while (last < end) {
    const t = performance.now();
    if (t > last) {
      best = Math.min(best, t - last);
      last = t;
    }
  }
  return Math.round(best * 1e4) / 1e4;
}

/** `error.message` (or the value as text), for error counts by message. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
