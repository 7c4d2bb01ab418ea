/**
 * Semantic search over a small shipped data set (semantic-data.ts): on first
 * use the panel stores the texts and their precomputed embeddings in table
 * `docs` of a database of its own (heliosdb-semantic.db, on OPFS where the
 * browser has it) and creates a cosine vector index on them; later visits
 * find both there. A query is embedded in the page by the function that
 * embedded the data set (embedding.js) and answered by `vector_search()`
 * joined to the table, optionally filtered by category (its filtered form);
 * the query plan shown under the results is SQLite's own, with the index's
 * virtual table in it.
 */
import * as sqlite3 from 'heliosdb-nano';
import { describeError } from './db.js';
import { byId, h } from './dom.js';
import { createModel, embed, type EmbeddingModel } from './embedding.js';
import { loadDataset, type Dataset } from './semantic-data.js';

/** The panel's database (separate from the demo database, which an import replaces). */
export const SEMANTIC_DATABASE = 'heliosdb-semantic.db';
const INDEX = 'docs_embedding';
const K = 10;

const SELECT = 'SELECT d.id, d.text, d.category, s.distance';
const JOIN = 'JOIN docs AS d ON d.rowid = s.rowid\n ORDER BY s.distance';
/** Top K of the whole table. */
const SEARCH_SQL = `${SELECT}\n  FROM vector_search('${INDEX}', ?, ${K}) AS s\n  ${JOIN}`;
/** Top K among one category's rows: the filter is a WHERE expression on `docs`, built from a bound value. */
const FILTERED_SQL = `${SELECT}\n  FROM vector_search('${INDEX}', ?, ${K}, 'category = ' || quote(?)) AS s\n  ${JOIN}`;

/** Queries offered as one-click examples. */
const EXAMPLES = ['how do black holes form', 'baking bread at home', 'marathon training', 'learning the piano', 'database indexes', 'animals that migrate'];

type Connection = Awaited<ReturnType<typeof sqlite3.connect>>;

interface Ready {
  readonly conn: Connection;
  readonly dataset: Dataset;
  readonly model: EmbeddingModel;
  /** Rows per category, for the note on filtered searches. */
  readonly perCategory: ReadonlyMap<string, number>;
  readonly index: Record<string, unknown>;
}

async function storedVersion(conn: Connection): Promise<string | null> {
  const meta = await (await conn.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'semantic_meta'")).fetchone();
  if ((meta as [number])[0] === 0) return null;
  const row = (await (await conn.execute("SELECT value FROM semantic_meta WHERE key = 'dataset'")).fetchone()) as [string] | null;
  return row ? row[0] : null;
}

async function indexInfo(conn: Connection): Promise<Record<string, unknown> | undefined> {
  return (await conn.vector_indexes()).find((i) => i.name === INDEX);
}

const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;

export function mountSemantic(): void {
  const panel = byId('panel-semantic', HTMLElement);
  const form = byId('semantic-form', HTMLFormElement);
  const input = byId('semantic-query', HTMLInputElement);
  const category = byId('semantic-category', HTMLSelectElement);
  const button = byId('semantic-search', HTMLButtonElement);
  const status = byId('semantic-status', HTMLElement);
  const store = byId('semantic-store', HTMLElement);
  const grid = byId('semantic-grid', HTMLTableElement);
  const plan = byId('semantic-plan', HTMLElement);
  const sql = byId('semantic-sql', HTMLElement);
  const sqlBox = byId('semantic-sql-box', HTMLDetailsElement);
  const examples = byId('semantic-examples', HTMLElement);

  let ready: Promise<Ready> | null = null;
  /** Numbers the searches: only the latest one shows its results. */
  let latest = 0;
  let labels = new Map<string, string>();
  // The file (a few hundred KB, precached) is read at once to fill the category list;
  // the database work waits for the first search.
  function fetchDataset(): Promise<Dataset> {
    const p = loadDataset();
    void p.then(
      (d) => {
        labels = new Map(d.categories.map((c) => [c.id, c.label]));
        if (category.options.length > 1) return;
        for (const c of d.categories) {
          const option = h('option', undefined, c.label);
          option.value = c.id;
          category.append(option);
        }
      },
      (e: unknown) => say(`cannot load the data set: ${describeError(e)}`, true),
    );
    return p;
  }
  let datasetP = fetchDataset();

  function say(text: string, error = false): void {
    status.textContent = text;
    status.className = error ? 'message error' : 'message';
  }

  /** First use: the data set into the table, the index on it (each only if not there yet). */
  async function prepare(): Promise<Ready> {
    panel.dataset.state = 'loading';
    store.textContent = 'loading the data set…';
    const t0 = performance.now();
    let dataset: Dataset;
    try {
      dataset = await datasetP;
    } catch {
      datasetP = fetchDataset();
      dataset = await datasetP;
    }
    const model = createModel(dataset.rows.map((r) => r.text));
    const conn = await sqlite3.connect(SEMANTIC_DATABASE, { enable_vector_search: true, timeout: 10 });
    try {
      const done: string[] = [];
      if ((await storedVersion(conn)) !== dataset.version) {
        store.textContent = `storing ${dataset.rows.length} texts and their embeddings in table docs…`;
        const t1 = performance.now();
        await conn.transaction(async (c) => {
          if ((await storedVersion(c)) === dataset.version) return; // another tab was first
          if (await indexInfo(c)) await c.drop_vector_index(INDEX);
          await c.execute('DROP TABLE IF EXISTS docs');
          await c.execute('CREATE TABLE docs(id INTEGER PRIMARY KEY, category TEXT NOT NULL, text TEXT NOT NULL, embedding BLOB NOT NULL)');
          await c.execute('CREATE INDEX docs_category ON docs(category)');
          await c.execute('CREATE TABLE IF NOT EXISTS semantic_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)');
          await c.executemany(
            'INSERT INTO docs(id, category, text, embedding) VALUES (?, ?, ?, ?)',
            dataset.rows.map((r, i) => [r.id, r.category, r.text, dataset.vectors[i]]),
          );
          await c.execute("INSERT OR REPLACE INTO semantic_meta(key, value) VALUES ('dataset', ?)", [dataset.version]);
        });
        done.push(`stored ${dataset.rows.length} texts in ${ms(t1)}`);
      }
      if (!(await indexInfo(conn))) {
        store.textContent = `creating vector index ${INDEX} (cosine, ${dataset.dimensions} dims)…`;
        const t2 = performance.now();
        try {
          await conn.create_vector_index(INDEX, 'docs', 'embedding', { metric: 'cosine' });
        } catch (e) {
          if (!(await indexInfo(conn))) throw e; // else another tab created it meanwhile
        }
        done.push(`created index ${INDEX} in ${ms(t2)}`);
      }
      const index = (await indexInfo(conn)) as Record<string, unknown>;
      const counts = (await (await conn.execute('SELECT category, count(*) FROM docs GROUP BY category')).fetchall()) as [string, number][];
      const total = counts.reduce((n, [, c]) => n + c, 0);
      store.textContent = `${total} texts in table docs (${conn.storage}), ${done.length ? done.join(', ') : 'found from an earlier visit'}; ready in ${ms(t0)}`;
      panel.dataset.storage = conn.storage;
      return { conn, dataset, model, perCategory: new Map(counts), index };
    } catch (e) {
      await conn.close().catch(() => undefined);
      throw e;
    }
  }

  function renderResults(rows: [number, string, string, number][]): void {
    grid.replaceChildren();
    const head = grid.createTHead().insertRow();
    for (const c of ['#', 'id', 'text', 'category', 'distance']) head.append(h('th', undefined, c));
    const body = grid.createTBody();
    rows.forEach(([id, text, cat, distance], i) => {
      const tr = body.insertRow();
      tr.dataset.id = String(id);
      const cells: [string, string][] = [
        [String(i + 1), 'num'],
        [String(id), 'num'],
        [text, 'text wrap'],
        [labels.get(cat) ?? cat, 'text'],
        [distance.toFixed(4), 'num'],
      ];
      for (const [value, kind] of cells) {
        const td = tr.insertCell();
        td.className = kind;
        td.textContent = value;
      }
      tr.cells[3].dataset.category = cat;
    });
  }

  async function search(): Promise<void> {
    const text = input.value.trim();
    if (!text) {
      say('type a few words to search for');
      return;
    }
    const mine = ++latest;
    button.disabled = true;
    panel.dataset.state = 'searching';
    try {
      ready ??= prepare();
      let r: Ready;
      try {
        r = await ready;
      } catch (e) {
        ready = null; // the next search tries again
        store.textContent = `could not store and index the data set: ${describeError(e)}`;
        throw e;
      }
      const query = embed(r.model, text);
      if (!query.some((x) => x !== 0)) {
        grid.replaceChildren();
        plan.replaceChildren();
        say(`"${text}" has no word the embedding can use (only stop words); try other words`);
        panel.dataset.state = 'done';
        return;
      }
      const cat = category.value;
      const statement = cat ? FILTERED_SQL : SEARCH_SQL;
      const params = cat ? [query, cat] : [query];
      const t0 = performance.now();
      const rows = (await (await r.conn.execute(statement, params)).fetchall()) as [number, string, string, number][];
      const took = performance.now() - t0;
      const steps = await r.conn.query_plan(statement, params);
      if (mine !== latest) return;
      renderResults(rows);
      sql.textContent = statement;
      sqlBox.hidden = false;
      showPlan(r, steps, cat);
      const scope = cat ? ` among ${r.perCategory.get(cat) ?? 0} texts in ${labels.get(cat) ?? cat}` : ` of ${r.dataset.rows.length} texts`;
      say(`${rows.length} nearest${scope} in ${took.toFixed(1)} ms (cosine distance: 0 is the same direction)`);
      panel.dataset.state = 'done';
    } catch (e) {
      if (mine !== latest) return;
      grid.replaceChildren();
      plan.replaceChildren();
      say(`search failed: ${describeError(e)}`, true);
      panel.dataset.state = 'error';
    } finally {
      if (mine === latest) button.disabled = false;
    }
  }

  function showPlan(r: Ready, steps: { detail: string }[], cat: string): void {
    plan.replaceChildren();
    const usesIndex = steps.some((s) => /VIRTUAL TABLE INDEX/.test(s.detail));
    const idx = r.index;
    plan.append(
      h('span', usesIndex ? 'plan-index' : 'plan-index warn', usesIndex ? `✓ vector index ${INDEX}` : '✗ the plan has no vector_search scan'),
      h(
        'span',
        undefined,
        ` (${String(idx.metric)}, ${String(idx.dimensions)} dims, USearch HNSW, connectivity ${String(idx.connectivity)}, ` +
          `expansion_search ${String(idx.expansion_search)}; stored in the database)`,
      ),
    );
    const lines = h('code', 'plan-lines', steps.map((s) => s.detail).join('  ·  '));
    plan.append(h('br'), h('span', undefined, 'query plan: '), lines);
    if (cat) {
      const admitted = r.perCategory.get(cat) ?? 0;
      const note =
        admitted <= 32 * K
          ? `the filter admits ${admitted} rows (≤ 32·k = ${32 * K}), so vector_search compared those exactly`
          : `the filter admits ${admitted} rows: the HNSW search skips the others as it goes`;
      plan.append(h('br'), h('span', undefined, note));
    }
  }

  for (const example of EXAMPLES) {
    const b = h('button', 'chip', example);
    b.type = 'button';
    b.addEventListener('click', () => {
      input.value = example;
      void search();
    });
    examples.append(b);
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void search();
  });
  category.addEventListener('change', () => {
    if (input.value.trim()) void search();
  });
  panel.dataset.state = 'idle';
  store.textContent = `database ${SEMANTIC_DATABASE}: the data set is stored and indexed on first search`;
}
