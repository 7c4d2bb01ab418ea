/**
 * The insert loop of one tab in the concurrent-tabs benchmark, shared by our
 * page (tabs.ts, main thread) and the official build's worker
 * (official-worker.ts): wait for the common start time, then `rows`
 * autocommit inserts one after the other; a failed insert is counted by its
 * message and not retried (so rows present afterwards show what was lost).
 */
import { eventRow, type EventRow } from '../lib/concurrent-workload.js';
import { errorMessage, type TabRun } from './page-api.js';

/** Milliseconds since the epoch, on the clock every tab and worker of the machine shares. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves at `startAt` (ms since the epoch): a timer to just before, then a short spin. */
export async function waitUntil(startAt: number): Promise<void> {
  const early = startAt - epochMs() - 5;
  if (early > 0) await new Promise<void>((resolve) => setTimeout(resolve, early));
  while (epochMs() < startAt) {
    // spin: the last few milliseconds, so all tabs start within a millisecond of each other
  }
}

export async function insertRows(tab: number, rows: number, startAt: number, insert: (row: EventRow) => unknown): Promise<TabRun> {
  await waitUntil(startAt);
  const errors: Record<string, number> = {};
  const failedSeqs: number[] = [];
  const latenciesMs = new Array<number>(rows);
  let acknowledged = 0;
  const startedAt = epochMs();
  for (let seq = 0; seq < rows; seq++) {
    const t0 = performance.now();
    try {
      await insert(eventRow(tab, seq));
      acknowledged++;
    } catch (e) {
      failedSeqs.push(seq);
      const m = errorMessage(e);
      errors[m] = (errors[m] ?? 0) + 1;
    }
    latenciesMs[seq] = performance.now() - t0;
  }
  return { tab, rows, acknowledged, failedSeqs, errors, startedAt, endedAt: epochMs(), latenciesMs };
}
