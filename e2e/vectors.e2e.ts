/**
 * Vector search in real Chromium, from the page's main thread, on OPFS:
 * a few thousand clustered vectors with a cosine index whose top 10 agree
 * with an exact search computed in the page; inserts, updates, deletes and a
 * rollback reflected in what searches return; the index surviving page
 * reloads (stored index plus replayed log, then after save_vector_index) with
 * the same answers; malformed vectors failing with OperationalError and a
 * message that says what is wrong. Then the web demo's semantic-search
 * panel: it loads its data set and index on first search, a query equal to
 * one of its texts finds that text first, the category filter and the query
 * plan work, and after one visit it searches offline (the service worker has
 * usearch.wasm and the data set). Screenshot: test-output/screenshots/semantic-search.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { firstPage, launchChromium, type LaunchedChromium } from './chromium.js';
import { DEMO_WEB, E2E_WEB, OUTPUT, TEST_TIMEOUT_MS, callPageApi, requireBuilt, watchdog, withLog } from './harness.js';
import type { ErrorInfo } from './protocol.js';
import { startStaticServer, type StaticServer } from './static-server.js';

interface Shape {
  count: number;
  dims: number;
  clusters: number;
  spread: number;
}
interface Hits {
  ids: number[];
  distances: number[];
}
interface Results {
  hits: Hits[];
  exact: number[][];
  log: number;
  count: number;
  indexes: Record<string, unknown>[];
  storage: string;
}
/** What e2e/pages/vectors.ts exposes as window.heliosVectors. */
interface VectorsApi {
  ready: true;
  setup(database: string, shape: Shape): Promise<unknown>;
  recall(database: string, shape: Shape, n: number, k: number): Promise<unknown>;
  mutations(database: string, shape: Shape): Promise<unknown>;
  results(database: string, shape: Shape, k: number): Promise<unknown>;
  save(database: string): Promise<unknown>;
  errors(database: string, shape: Shape): Promise<unknown>;
}
type Method = Exclude<keyof VectorsApi, 'ready'>;

const SHOTS = join(OUTPUT, 'screenshots');
const DB = 'opfs://vectors-e2e.db';
const SHAPE: Shape = { count: 5000, dims: 64, clusters: 20, spread: 0.6 };

let browser: LaunchedChromium | undefined;
let pagesServer: StaticServer | undefined;
let demoServer: StaticServer | undefined;
watchdog(8 * 60_000, () => browser);

before(async () => {
  requireBuilt(E2E_WEB);
  requireBuilt(DEMO_WEB);
  mkdirSync(SHOTS, { recursive: true });
  pagesServer = await startStaticServer({ root: E2E_WEB });
  demoServer = await startStaticServer({ root: DEMO_WEB });
  browser = await launchChromium();
}, { timeout: TEST_TIMEOUT_MS });

after(async () => {
  await browser?.close();
  await pagesServer?.close();
  await demoServer?.close();
});

/** Calls `window.heliosVectors[method](...args)` in the page; failures carry the browser log. */
function call<T>(page: Page, method: Method, ...args: unknown[]): Promise<T> {
  return callPageApi<T>(page, browser, 'heliosVectors', method, args);
}

async function openVectorsPage(page: Page): Promise<void> {
  await page.goto(`${pagesServer!.url}/vectors.html`);
  try {
    await page.waitForFunction(() => (window as unknown as { heliosVectors?: VectorsApi }).heliosVectors?.ready === true, undefined, { timeout: 30_000 });
  } catch (e) {
    throw new Error(withLog(browser, `vectors.html: test API not ready: ${String(e)}`), { cause: e });
  }
}

describe('vector search from the page, on OPFS', () => {
  let page: Page;

  before(async () => {
    page = await firstPage(browser!);
    await openVectorsPage(page);
  }, { timeout: TEST_TIMEOUT_MS });

  test(`${SHAPE.count} clustered vectors: the cosine index's top 10 agree with exact search computed in the page`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const setup = await call<{ storage: string; count: number; indexes: Record<string, unknown>[]; insertMs: number; indexMs: number }>(page, 'setup', DB, SHAPE);
    assert.equal(setup.storage, 'opfs');
    assert.equal(setup.count, SHAPE.count);
    assert.deepEqual(
      setup.indexes.map((i) => [i.name, i.table, i.column, i.metric, i.dimensions]),
      [['docs_embedding', 'docs', 'embedding', 'cosine', SHAPE.dims]],
    );
    const r = await call<{ recall: number; perQuery: number[]; sorted: boolean; searchMs: number; plan: string[]; plainIsIndexed: boolean; sameCluster: boolean }>(
      page,
      'recall',
      DB,
      SHAPE,
      50,
      10,
    );
    console.log(
      `${SHAPE.count} × ${SHAPE.dims}: insert ${setup.insertMs.toFixed(0)} ms, index ${setup.indexMs.toFixed(0)} ms, ` +
        `recall@10 ${r.recall.toFixed(3)} over 50 queries, ${r.searchMs.toFixed(1)} ms per search`,
    );
    assert.ok(r.recall >= 0.95, `recall@10 ${r.recall} (per query: ${r.perQuery.join(' ')})`);
    assert.equal(r.sorted, true, 'distances come out in increasing order');
    assert.equal(r.sameCluster, true, "a query near a centre finds that centre's cluster");
    // The plain ORDER BY vector_distance(…) LIMIT form reads the index too, and agrees with it.
    assert.match(r.plan.join(' | '), /VIRTUAL TABLE INDEX/, r.plan.join(' | '));
    assert.equal(r.plainIsIndexed, true);
  });

  test('inserts, updates and deletes are reflected at once; a rolled-back insert never is', { timeout: TEST_TIMEOUT_MS }, async () => {
    const m = await call<{
      insert: { id: number; hits: Hits };
      update: { hits: Hits };
      delete: { victim: number; before: number[]; after: number[]; exact: number[] };
      rollback: { pending: number; inTransaction: boolean; during: number[]; after: number[]; stillThere: number };
      count: number;
    }>(page, 'mutations', DB, SHAPE);
    assert.equal(m.insert.id, SHAPE.count + 1);
    assert.equal(m.insert.hits.ids[0], m.insert.id, `insert: ${JSON.stringify(m.insert)}`);
    assert.ok(m.insert.hits.distances[0] < 1e-6, `insert: ${JSON.stringify(m.insert)}`);
    assert.deepEqual(m.update.hits.ids, [17], `update: ${JSON.stringify(m.update)}`);
    assert.ok(m.update.hits.distances[0] < 1e-6);
    assert.ok(!m.delete.after.includes(m.delete.victim), `delete: ${JSON.stringify(m.delete)}`);
    assert.deepEqual(m.delete.before.slice(1, 9), m.delete.after.slice(0, 8), `the others move up: ${JSON.stringify(m.delete)}`);
    assert.ok(m.delete.after.filter((id) => m.delete.exact.includes(id)).length >= 9, `delete: ${JSON.stringify(m.delete)}`);
    assert.equal(m.rollback.inTransaction, true);
    assert.deepEqual(m.rollback.during, [m.rollback.pending], 'inside its transaction the insert is found');
    assert.ok(!m.rollback.after.includes(m.rollback.pending), `rollback: ${JSON.stringify(m.rollback)}`);
    assert.equal(m.rollback.stillThere, 0);
    assert.equal(m.count, SHAPE.count + 1 - 1);
  });

  let beforeReload: Results;

  test('the index survives a reload: the same answers from the stored index and its replayed log', { timeout: TEST_TIMEOUT_MS }, async () => {
    beforeReload = await call<Results>(page, 'results', DB, SHAPE, 10);
    assert.ok(beforeReload.log > 0, 'the changes since the index was stored are in its log');
    // Reload: a new worker and engine; the index comes from the database (stored data + log replay).
    await page.reload();
    await openVectorsPage(page);
    const reloaded = await call<Results>(page, 'results', DB, SHAPE, 10);
    assert.equal(reloaded.storage, 'opfs');
    assert.equal(reloaded.count, beforeReload.count);
    assert.deepEqual(reloaded.indexes, beforeReload.indexes);
    assert.equal(reloaded.log, beforeReload.log);
    assertSameHits(reloaded.hits, beforeReload.hits, 'after a reload');
    const probes = reloaded.hits.slice(-3).map((h) => h.ids[0]);
    assert.deepEqual(probes.slice(0, 2), [SHAPE.count + 1, 17], 'the committed insert and update are in the reloaded index');
    assert.notEqual(probes[2], SHAPE.count + 2, 'the rolled-back insert is not');
    // And they agree with exact search.
    let hits = 0;
    reloaded.hits.forEach((h, i) => (hits += h.ids.filter((id) => reloaded.exact[i].includes(id)).length));
    assert.ok(hits / (reloaded.hits.length * 10) >= 0.95, `recall after reload ${hits / (reloaded.hits.length * 10)}`);
  });

  test(
    'after save_vector_index (log folded into the stored index) a reload answers the same, from the index',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      assert.deepEqual(await call(page, 'save', DB), { log: 0 });
      await page.reload();
      await openVectorsPage(page);
      const saved = await call<Results>(page, 'results', DB, SHAPE, 10);
      assert.equal(saved.log, 0);
      assertSameHits(saved.hits, beforeReload.hits, 'after save_vector_index and a reload');
    },
  );

  test('malformed vectors raise OperationalError with a message saying what is wrong', { timeout: TEST_TIMEOUT_MS }, async () => {
    const e = await call<Record<string, ErrorInfo | 'did not throw' | unknown>>(page, 'errors', DB, SHAPE);
    const expect: Record<string, RegExp> = {
      notANumber: /^vector: element 2 is "three", not a number$/,
      badJson: /^vector: malformed vector text "\[1, 2,": expected a JSON array of numbers$/,
      oddBlob: /^vector_search: a float32 vector BLOB has a multiple of 4 bytes, this one has 7$/,
      nan: /^vector_search: element 3 is NaN; vectors hold finite numbers only$/,
      wrongDims: new RegExp(`^vector_search: dimension mismatch: the query has 3, index docs_embedding has ${SHAPE.dims}$`),
      badMetric: /^vector_distance: unknown metric "manhattan"; use one of /,
      distanceDims: /^vector_distance: dimension mismatch: 2 vs 3$/,
    };
    for (const [name, message] of Object.entries(expect)) {
      const err = e[name] as ErrorInfo | 'did not throw';
      assert.notEqual(err, 'did not throw', `${name} did not throw`);
      const info = err as ErrorInfo;
      assert.equal(info.name, 'OperationalError', `${name}: ${info.name}: ${info.message}`);
      assert.equal(info.is.OperationalError && info.is.DatabaseError && info.is.Error, true, `${name}: instanceof the module's classes`);
      assert.match(info.message, message, name);
    }
    assert.equal(e.usableAfter, 1, 'the connection is usable after the errors');
    const without = e.withoutOption as ErrorInfo;
    assert.equal(without.name, 'ProgrammingError', without.message);
    assert.match(without.message, /enable_vector_search/);
  });
});

/** Same rowids in the same order, distances equal to float32 precision. */
function assertSameHits(got: Hits[], want: Hits[], when: string): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    assert.deepEqual(g.ids, want[i].ids, `query ${i} ${when}`);
    g.distances.forEach((d, j) => assert.ok(Math.abs(d - want[i].distances[j]) < 1e-5, `query ${i} hit ${j} ${when}: ${d} vs ${want[i].distances[j]}`));
  });
}

// ---------------------------------------------------------------------------------------------
// The web demo's semantic-search panel.

interface SemanticResult {
  state: string;
  store: string;
  status: string;
  rows: { id: string; text: string; category: string; distance: number }[];
  plan: string;
}

async function semanticSearch(page: Page, query: string, category = ''): Promise<SemanticResult> {
  // Set without a change event (which would start a search of its own).
  await page.$eval('#semantic-category', (el, v) => ((el as HTMLSelectElement).value = v), category);
  await page.fill('#semantic-query', query);
  await page.evaluate(() => {
    document.getElementById('panel-semantic')!.dataset.state = 'submitted';
  });
  await page.click('#semantic-search');
  try {
    await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('panel-semantic')?.dataset.state ?? ''), undefined, { timeout: 60_000 });
  } catch (e) {
    throw new Error(withLog(browser, `semantic search for ${JSON.stringify(query)} did not finish: ${String(e)}`), { cause: e });
  }
  return page.evaluate(() => {
    const grid = document.getElementById('semantic-grid') as HTMLTableElement;
    return {
      state: document.getElementById('panel-semantic')?.dataset.state ?? '',
      store: document.getElementById('semantic-store')?.textContent ?? '',
      status: document.getElementById('semantic-status')?.textContent ?? '',
      rows: Array.from(grid.tBodies[0]?.rows ?? [], (tr) => ({
        id: tr.dataset.id ?? '',
        text: tr.cells[2]?.textContent ?? '',
        category: tr.cells[3]?.dataset.category ?? '',
        distance: Number(tr.cells[4]?.textContent),
      })),
      plan: document.getElementById('semantic-plan')?.textContent ?? '',
    };
  });
}

/** The precache list written into the demo's service worker at build time. */
function precacheList(): string[] {
  const sw = readFileSync(join(DEMO_WEB, 'sw.js'), 'utf8');
  const m = /"urls":(\[[^\]]*\])/.exec(sw);
  assert.ok(m, 'sw.js has a precache list');
  return JSON.parse(m[1]) as string[];
}

describe("the web demo's semantic-search panel", () => {
  let page: Page;

  before(async () => {
    page = await browser!.newPage();
  }, { timeout: TEST_TIMEOUT_MS });

  test('first search stores the data set and its index; a text as query finds itself first; filter and plan', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.goto(`${demoServer!.url}/`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true' || document.body.dataset.error !== undefined);
    assert.equal(await page.evaluate(() => document.body.dataset.error ?? null), null, withLog(browser, 'the demo could not open its database'));
    await page.waitForFunction(() => (document.getElementById('semantic-category') as HTMLSelectElement).options.length > 1);
    const categories = await page.$$eval('#semantic-category option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(categories, ['', 'space', 'food', 'sports', 'music', 'computing', 'health', 'travel', 'nature']);

    // A query equal to a text of the data set: that text first, at distance ~0.
    const text = 'Honeybees communicate the location of flowers with a waggle dance';
    const first = await semanticSearch(page, text);
    assert.equal(first.state, 'done', withLog(browser, first.status));
    assert.match(first.store, /^320 texts in table docs \(opfs\), stored 320 texts in \d+ ms, created index docs_embedding in \d+ ms; ready in \d+ ms$/);
    assert.equal(first.rows.length, 10);
    assert.equal(first.rows[0].text, text);
    assert.equal(first.rows[0].category, 'nature');
    assert.ok(first.rows[0].distance < 0.001, `distance of the text to itself: ${first.rows[0].distance}`);
    assert.ok(first.rows[1].distance > 0.2, 'the next text is clearly further');
    for (let i = 1; i < first.rows.length; i++) assert.ok(first.rows[i].distance >= first.rows[i - 1].distance);
    assert.match(first.plan, /✓ vector index docs_embedding \(cosine, 384 dims, USearch HNSW/);
    assert.match(first.plan, /query plan: .*VIRTUAL TABLE INDEX/);

    // Free text: the texts it is about come first (the embedding matches words and word pieces).
    const galaxies = await semanticSearch(page, 'telescope pictures of distant galaxies');
    assert.match(galaxies.status, /^10 nearest of 320 texts in [\d.]+ ms/);
    assert.match(galaxies.rows[0].text, /telescope/i);
    assert.ok(galaxies.rows.slice(0, 5).every((r) => r.category === 'space'), JSON.stringify(galaxies.rows));
    for (const [query, category, word] of [
      ['how to bake bread', 'food', /bread/i],
      ['marathon training', 'sports', /marathon/i],
      ['vaccines and the immune system', 'health', /immune/i],
      ['guitar chords for beginners', 'music', /chords/i],
    ] as const) {
      const r = await semanticSearch(page, query);
      assert.deepEqual(
        r.rows.slice(0, 2).map((x) => x.category),
        [category, category],
        `${query}: ${JSON.stringify(r.rows.slice(0, 3))}`,
      );
      assert.match(r.rows[0].text, word);
    }

    // The filtered form: only the chosen category, nearest first.
    const filtered = await semanticSearch(page, 'telescope pictures of distant galaxies', 'travel');
    assert.equal(filtered.rows.length, 10);
    assert.ok(filtered.rows.every((r) => r.category === 'travel'), JSON.stringify(filtered.rows));
    assert.match(filtered.status, /^10 nearest among 40 texts in Travel in [\d.]+ ms/);
    assert.match(filtered.plan, /the filter admits 40 rows/);

    // The screenshot: a query about space, all categories.
    await semanticSearch(page, 'how do black holes form');
    // Tall enough that the sticky status bar does not cover the panel; the SQL unfolded.
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 1280, height: 2000 });
    await page.$eval('#panel-semantic details.sql', (d) => ((d as HTMLDetailsElement).open = true));
    await page.locator('#panel-semantic').screenshot({ path: join(SHOTS, 'semantic-search.png') });
    if (viewport) await page.setViewportSize(viewport);
  });

  test('a reload finds the stored table and index; after one visit it searches offline (usearch.wasm and the data set precached)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const urls = precacheList();
    assert.ok(urls.some((u) => /^assets\/usearch-[\w-]+\.wasm$/.test(u)), `usearch.wasm in the precache list: ${urls.join(', ')}`);
    assert.ok(urls.some((u) => /^assets\/semantic-corpus-[\w-]+\.bin$/.test(u)), `the data set in the precache list: ${urls.join(', ')}`);

    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    const cached = await page.evaluate(async () => {
      const out: string[] = [];
      for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname);
      return out;
    });
    assert.ok(cached.some((u) => /\/usearch-[\w-]+\.wasm$/.test(u)), `cached: ${cached.join(', ')}`);
    assert.ok(cached.some((u) => /\/semantic-corpus-[\w-]+\.bin$/.test(u)), `cached: ${cached.join(', ')}`);

    await demoServer!.close();
    await browser!.context.setOffline(true);
    try {
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.ready === 'true' || document.body.dataset.error !== undefined);
      const text = 'Whales sing songs that travel across entire oceans';
      const r = await semanticSearch(page, text);
      assert.equal(r.state, 'done', withLog(browser, r.status));
      assert.match(r.store, /^320 texts in table docs \(opfs\), found from an earlier visit; ready in \d+ ms$/);
      assert.equal(r.rows[0].text, text);
      assert.ok(r.rows[0].distance < 0.001);
    } finally {
      await browser!.context.setOffline(false);
    }
  });
});
