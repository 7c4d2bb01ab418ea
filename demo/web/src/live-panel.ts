/**
 * Live writes: a button starts N inserts per second from this tab into the
 * shared `live_writes` table (on a connection of its own); the counters below
 * show the rows of every tab, refreshed every second, so several tabs writing
 * at once are visible side by side.
 */
import type { App } from './app.js';
import { describeError, open, type Connection } from './db.js';
import { byId, renderGrid } from './dom.js';

export interface LiveWrites {
  /** Stops this tab's writer (if running) and waits until its connection is closed. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

export function mountLive(app: App): LiveWrites {
  const rateInput = byId('live-rate', HTMLInputElement);
  const toggle = byId('live-toggle', HTMLButtonElement);
  const grid = byId('live-grid', HTMLTableElement);
  const stats = byId('live-stats', HTMLElement);
  const totals = byId('live-total', HTMLElement);

  let running = false;
  let loop: Promise<void> | null = null;
  let inserted = 0;
  let errors = 0;
  let lastError = '';
  let startedAt = 0;
  let lastTotal: number | null = null;

  async function write(rate: number): Promise<void> {
    let writer: Connection;
    try {
      writer = await open();
    } catch (e) {
      lastError = describeError(e);
      running = false;
      return;
    }
    const interval = 1000 / rate;
    let next = performance.now();
    try {
      while (running) {
        try {
          await writer.execute('INSERT INTO live_writes(tab) VALUES (?)', [app.tabId]);
          inserted++;
        } catch (e) {
          errors++;
          lastError = describeError(e);
        }
        next += interval;
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        else next = performance.now(); // behind schedule: carry on, without a burst to catch up
      }
    } finally {
      await writer.close();
    }
  }

  function renderStats(): void {
    const secs = (performance.now() - startedAt) / 1000;
    const state = running ? `writing ${rateInput.value}/s` : loop ? 'stopping…' : 'stopped';
    const rate = running && secs > 0 ? ` · ${(inserted / secs).toFixed(1)}/s achieved` : '';
    stats.textContent = `This tab (${app.tabId}): ${state} · ${inserted} inserted${rate} · ${errors} errors${lastError ? ` · last: ${lastError}` : ''}`;
    stats.classList.toggle('error', errors > 0);
  }

  async function refresh(): Promise<void> {
    try {
      const cur = await app.conn.execute(
        'SELECT tab, count(*) AS n, max(at) AS last_write FROM live_writes GROUP BY tab ORDER BY tab',
      );
      const rows = (await cur.fetchall()) as [string, number, string][];
      renderGrid(
        grid,
        ['tab', 'rows', 'last write (UTC)'],
        rows.map(([tab, n, at]) => [tab === app.tabId ? `${tab} (this tab)` : tab, n, at]),
      );
      for (const tr of grid.tBodies[0]?.rows ?? []) tr.classList.toggle('mine', tr.cells[0]?.textContent?.endsWith('(this tab)') ?? false);
      const total = rows.reduce((s, [, n]) => s + n, 0);
      const perSecond = lastTotal === null ? '' : ` · ${total - lastTotal} rows in the last second`;
      lastTotal = total;
      totals.textContent = `${rows.length} tab${rows.length === 1 ? '' : 's'} · ${total} rows${perSecond}`;
    } catch (e) {
      totals.textContent = describeError(e);
    }
    renderStats();
  }

  async function stop(): Promise<void> {
    running = false;
    toggle.textContent = 'Start writing';
    toggle.classList.remove('active');
    renderStats();
    await loop;
    loop = null;
    renderStats();
  }

  toggle.addEventListener('click', () => {
    if (running) {
      void stop();
      return;
    }
    const rate = Math.min(500, Math.max(1, Math.round(Number(rateInput.value) || 1)));
    rateInput.value = String(rate);
    running = true;
    inserted = 0;
    errors = 0;
    lastError = '';
    startedAt = performance.now();
    toggle.textContent = 'Stop writing';
    toggle.classList.add('active');
    loop = write(rate);
    renderStats();
  });

  setInterval(() => void refresh(), 1000);
  void refresh();
  return { stop };
}
