/**
 * SQL console: runs what is typed (Ctrl/⌘+Enter or the Run button) and shows
 * the result in a grid. One statement goes through `execute()`; several
 * (which `execute()` refuses) through `executescript()`.
 */
import * as sqlite3 from 'heliosdb-nano';
import type { App } from './app.js';
import { describeError } from './db.js';
import { byId, renderGrid } from './dom.js';

/** Rows shown at most; the rest is counted, not rendered. */
const MAX_ROWS = 1000;

export function mountConsole(app: App): void {
  const sql = byId('sql', HTMLTextAreaElement);
  const run = byId('run', HTMLButtonElement);
  const grid = byId('console-grid', HTMLTableElement);
  const message = byId('console-message', HTMLElement);

  async function execute(): Promise<void> {
    const text = sql.value.trim();
    if (!text) return;
    run.disabled = true;
    message.className = 'message';
    message.textContent = 'running…';
    const t0 = performance.now();
    try {
      let cur;
      try {
        cur = await app.conn.execute(text);
      } catch (e) {
        // Several statements: `execute()` refuses them before running any, as in Python.
        if (!(e instanceof sqlite3.ProgrammingError && e.message.includes('one statement at a time'))) throw e;
        await app.conn.executescript(text);
        grid.replaceChildren();
        message.textContent = `script executed in ${(performance.now() - t0).toFixed(1)} ms`;
        app.changed();
        return;
      }
      if (cur.description) {
        const columns = cur.description.map((d) => d[0]);
        const rows = (await cur.fetchmany(MAX_ROWS)) as unknown[][];
        let more = 0;
        for (let batch = await cur.fetchmany(MAX_ROWS); batch.length > 0; batch = await cur.fetchmany(MAX_ROWS)) more += batch.length;
        renderGrid(grid, columns, rows);
        const ms = (performance.now() - t0).toFixed(1);
        message.textContent = more
          ? `${rows.length + more} rows in ${ms} ms (first ${rows.length} shown)`
          : `${rows.length} row${rows.length === 1 ? '' : 's'} in ${ms} ms`;
      } else {
        grid.replaceChildren();
        const changes = cur.rowcount >= 0 ? `${cur.rowcount} row${cur.rowcount === 1 ? '' : 's'} changed` : 'done';
        message.textContent = `${changes} in ${(performance.now() - t0).toFixed(1)} ms`;
        app.changed();
      }
    } catch (e) {
      grid.replaceChildren();
      message.className = 'message error';
      message.textContent = describeError(e);
    } finally {
      run.disabled = false;
    }
  }

  run.addEventListener('click', () => void execute());
  sql.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      void execute();
    }
  });
}
