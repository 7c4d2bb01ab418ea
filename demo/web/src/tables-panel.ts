/** Table browser: the tables and views with their row counts; a click shows a table's first rows. */
import type { App } from './app.js';
import { describeError, quoteId } from './db.js';
import { byId, h, renderGrid } from './dom.js';

const PAGE_ROWS = 200;

export function mountTables(app: App): void {
  const list = byId('table-list', HTMLUListElement);
  const grid = byId('table-grid', HTMLTableElement);
  const caption = byId('table-caption', HTMLElement);
  const refresh = byId('tables-refresh', HTMLButtonElement);
  let selected: string | null = null;

  async function show(name: string): Promise<void> {
    selected = name;
    for (const li of list.querySelectorAll('li')) li.classList.toggle('selected', li.dataset.table === name);
    try {
      const cur = await app.conn.execute(`SELECT * FROM ${quoteId(name)} LIMIT ${PAGE_ROWS}`);
      const rows = (await cur.fetchall()) as unknown[][];
      renderGrid(grid, (cur.description ?? []).map((d) => d[0]), rows);
      caption.className = 'message';
      caption.textContent = `${name}: ${rows.length < PAGE_ROWS ? `${rows.length} rows` : `first ${PAGE_ROWS} rows`}`;
    } catch (e) {
      grid.replaceChildren();
      caption.className = 'message error';
      caption.textContent = describeError(e);
    }
  }

  async function load(): Promise<void> {
    try {
      const cur = await app.conn.execute(
        "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
      );
      const tables = (await cur.fetchall()) as [string, string][];
      const items: HTMLLIElement[] = [];
      for (const [name, type] of tables) {
        const count = (await (await app.conn.execute(`SELECT count(*) FROM ${quoteId(name)}`)).fetchone()) as [number];
        const li = h('li');
        li.dataset.table = name;
        const button = h('button', 'link', name);
        button.type = 'button';
        button.addEventListener('click', () => void show(name));
        li.append(button, h('span', 'count', `${type === 'view' ? 'view · ' : ''}${count[0]} rows`));
        items.push(li);
      }
      list.replaceChildren(...items);
      if (selected && tables.some(([n]) => n === selected)) await show(selected);
      else if (tables.length > 0) await show(tables[0][0]);
      else {
        grid.replaceChildren();
        caption.textContent = 'no tables';
      }
    } catch (e) {
      caption.className = 'message error';
      caption.textContent = describeError(e);
    }
  }

  refresh.addEventListener('click', () => void load());
  app.onChange(() => void load());
  void load();
}
