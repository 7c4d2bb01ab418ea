/**
 * The web demo (demo/web, built to build/demo-web) in real Chromium: it opens
 * its database on OPFS, runs a query in the console, browses tables, shows two
 * tabs writing at once, exports a file Python reads and imports one Python
 * made; after one online visit its service worker has everything cached, and
 * with the server gone and the browser offline the app still loads and runs
 * queries. A screenshot of each panel goes to test-output/screenshots/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { firstPage, launchChromium, type LaunchedChromium } from './chromium.js';
import { DEMO_WEB, OUTPUT, TEST_TIMEOUT_MS, python, requireBuilt, watchdog, withLog } from './harness.js';
import { startStaticServer, type StaticServer } from './static-server.js';

const SHOTS = join(OUTPUT, 'screenshots');
let server: StaticServer | undefined;
let browser: LaunchedChromium | undefined;
let page: Page;
let tmp: string;
watchdog(8 * 60_000, () => browser);

before(async () => {
  requireBuilt(DEMO_WEB);
  mkdirSync(SHOTS, { recursive: true });
  tmp = await mkdtemp(join(tmpdir(), 'heliosdb-demo-e2e-'));
  server = await startStaticServer({ root: DEMO_WEB });
  browser = await launchChromium();
  page = await firstPage(browser);
}, { timeout: TEST_TIMEOUT_MS });

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Waits until the app has opened its database (or failed to: then the failure is the message). */
async function waitReady(p: Page): Promise<void> {
  try {
    await p.waitForFunction(() => document.body.dataset.ready === 'true' || document.body.dataset.error !== undefined);
  } catch (e) {
    assert.fail(withLog(browser, `demo did not become ready: ${String(e)}`));
  }
  const error = await p.evaluate(() => document.body.dataset.error ?? null);
  assert.equal(error, null, withLog(browser, 'the demo could not open its database'));
}

/** Runs `sql` in the console panel and returns the grid (header + rows) and the message line. */
async function runSql(p: Page, sql: string): Promise<{ header: string[]; rows: string[][]; message: string }> {
  await p.fill('#sql', sql);
  await p.click('#run');
  await p.waitForFunction(() => {
    const m = document.getElementById('console-message')?.textContent ?? '';
    return m !== '' && m !== 'running…';
  });
  return p.evaluate(() => {
    const grid = document.getElementById('console-grid') as HTMLTableElement;
    const header = Array.from(grid.tHead?.rows[0]?.cells ?? [], (c) => c.textContent ?? '');
    const rows = Array.from(grid.tBodies[0]?.rows ?? [], (r) => Array.from(r.cells, (c) => c.textContent ?? ''));
    return { header, rows, message: document.getElementById('console-message')?.textContent ?? '' };
  });
}

async function shot(p: Page, selector: string, name: string): Promise<void> {
  await p.locator(selector).screenshot({ path: join(SHOTS, `${name}.png`) });
}

test('the demo opens its database on OPFS and the console runs queries', { timeout: TEST_TIMEOUT_MS }, async () => {
  await page.goto(`${server!.url}/`);
  await waitReady(page);
  assert.equal(await page.textContent('#status-storage'), 'storage: opfs');
  const r = await runSql(page, 'SELECT id, name, email FROM users ORDER BY id');
  assert.deepEqual(r.header, ['id', 'name', 'email']);
  assert.deepEqual(
    r.rows.map((row) => row[1]),
    ['ada', 'grace', 'linus', 'margaret', 'ken'],
  );
  assert.match(r.message, /^5 rows in [\d.]+ ms$/);
  const bad = await runSql(page, 'SELECT * FROM no_such_table');
  assert.equal(bad.message, 'OperationalError: no such table: no_such_table (SQLITE_ERROR)');
  const script = await runSql(page, "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES ('first'), ('second');");
  assert.match(script.message, /^script executed/);
  const notes = await runSql(page, 'SELECT body FROM notes ORDER BY id');
  assert.deepEqual(notes.rows, [['first'], ['second']]);
  await runSql(page, "SELECT name, email, joined FROM users WHERE name LIKE '%a%' ORDER BY name");
  await shot(page, '#panel-console', 'console');
});

test('the status bar shows the backend and usage/quota', { timeout: TEST_TIMEOUT_MS }, async () => {
  await page.waitForFunction(() => /of .*(persistent|best-effort)/.test(document.getElementById('status-usage')?.textContent ?? ''));
  const usage = (await page.textContent('#status-usage')) ?? '';
  assert.match(usage, /^[\d.]+ (B|KB|MB|GB) of [\d.]+ (B|KB|MB|GB|TB) \([\d.]+%\) · (persistent|best-effort)$/);
  await shot(page, '#status', 'status-bar');
});

test('the table browser lists tables with row counts and shows rows', { timeout: TEST_TIMEOUT_MS }, async () => {
  await page.click('#tables-refresh');
  await page.waitForSelector('#table-list li[data-table="notes"]');
  const items = await page.$$eval('#table-list li', (lis) => lis.map((li) => [li.dataset.table ?? '', li.querySelector('.count')?.textContent ?? '']));
  assert.deepEqual(items, [
    ['live_writes', '0 rows'],
    ['notes', '2 rows'],
    ['users', '5 rows'],
  ]);
  await page.click('#table-list li[data-table="users"] button');
  await page.waitForFunction(() => document.getElementById('table-caption')?.textContent === 'users: 5 rows');
  const header = await page.$$eval('#table-grid thead th', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(header, ['id', 'name', 'email', 'joined']);
  await shot(page, '#panel-tables', 'tables');
});

/** The live-writes counters of a page: tab id → rows. */
async function liveCounters(p: Page): Promise<Record<string, number>> {
  return p.$$eval('#live-grid tbody tr', (trs) =>
    Object.fromEntries(
      (trs as HTMLTableRowElement[]).map((tr) => [(tr.cells[0]?.textContent ?? '').replace(' (this tab)', ''), Number(tr.cells[1]?.textContent)]),
    ),
  );
}

test('live writes: this tab inserts N per second and the counter follows', { timeout: TEST_TIMEOUT_MS }, async () => {
  const tab = await page.evaluate(() => sessionStorage.getItem('heliosdb-demo-tab'));
  assert.ok(tab);
  await page.fill('#live-rate', '25');
  const t0 = Date.now();
  await page.click('#live-toggle');
  await page.waitForFunction((id) => {
    const row = Array.from((document.getElementById('live-grid') as HTMLTableElement).tBodies[0]?.rows ?? []).find((tr) => tr.cells[0]?.textContent === `${id} (this tab)`);
    return Number(row?.cells[1]?.textContent ?? 0) >= 40;
  }, tab);
  const elapsed = (Date.now() - t0) / 1000;
  await shot(page, '#panel-live', 'live-writes');
  await page.click('#live-toggle');
  await page.waitForFunction(() => (document.getElementById('live-stats')?.textContent ?? '').includes('stopped'));
  const stats = (await page.textContent('#live-stats')) ?? '';
  assert.match(stats, / 0 errors/);
  const inserted = Number(/ (\d+) inserted/.exec(stats)?.[1]);
  // 25/s for `elapsed` seconds: at least 40 rows, and no burst beyond the rate (plus a second of slack).
  assert.ok(inserted >= 40 && inserted <= 25 * (elapsed + 1), `${inserted} inserted in ${elapsed.toFixed(1)} s at 25/s`);
  const r = await runSql(page, `SELECT count(*) FROM live_writes WHERE tab = '${tab}'`);
  assert.deepEqual(r.rows, [[String(inserted)]], 'every insert the panel counted is in the table');
});

test('live writes: two tabs insert at once and both are counted', { timeout: TEST_TIMEOUT_MS }, async () => {
  const second = await browser!.newPage();
  try {
    await liveWritesInTwoTabs(second);
  } finally {
    await second.close();
  }
});

async function liveWritesInTwoTabs(second: Page): Promise<void> {
  await second.goto(`${server!.url}/`);
  await waitReady(second);
  const tabs = await Promise.all([page, second].map((p) => p.evaluate(() => sessionStorage.getItem('heliosdb-demo-tab'))));
  assert.ok(tabs[0] && tabs[1] && tabs[0] !== tabs[1], `tab ids ${String(tabs)}`);
  for (const p of [page, second]) {
    await p.fill('#live-rate', '20');
    await p.click('#live-toggle');
  }
  // Both tabs' counters (refreshed every second) must show 30 more rows for each tab.
  const start = await liveCounters(page);
  const base = (id: string): number => (start[id] ?? 0) + 30;
  const deadline = Date.now() + 30_000;
  let seen: Record<string, number>[] = [];
  while (Date.now() < deadline) {
    seen = await Promise.all([page, second].map(liveCounters));
    if (seen.every((c) => (c[tabs[0]!] ?? 0) >= base(tabs[0]!) && (c[tabs[1]!] ?? 0) >= base(tabs[1]!))) break;
    await page.waitForTimeout(250);
  }
  await shot(page, '#panel-live', 'live-writes-two-tabs');
  for (const p of [page, second]) await p.click('#live-toggle');
  const stats = await Promise.all([page, second].map((p) => p.textContent('#live-stats')));
  assert.ok(
    seen.every((c) => (c[tabs[0]!] ?? 0) >= base(tabs[0]!) && (c[tabs[1]!] ?? 0) >= base(tabs[1]!)),
    withLog(browser, `counters never showed 30 more rows for both tabs: ${JSON.stringify(seen)}; stats: ${JSON.stringify(stats)}`),
  );
  for (const s of stats) assert.match(s ?? '', / 0 errors/, `writer stats: ${s}`);
}

test('export downloads a .db file that Python reads', { timeout: TEST_TIMEOUT_MS }, async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  assert.equal(download.suggestedFilename(), 'heliosdb-demo.db');
  const file = join(tmp, 'exported.db');
  await download.saveAs(file);
  const seen = python<{ integrity: string; users: string[]; notes: string[] }>(
    `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(json.dumps({
  "integrity": c.execute("PRAGMA integrity_check").fetchone()[0],
  "users": [n for (n,) in c.execute("SELECT name FROM users ORDER BY id")],
  "notes": [b for (b,) in c.execute("SELECT body FROM notes ORDER BY id")],
}))
`,
    file,
  );
  assert.deepEqual(seen, { integrity: 'ok', users: ['ada', 'grace', 'linus', 'margaret', 'ken'], notes: ['first', 'second'] });
  await page.waitForFunction(() => (document.getElementById('files-message')?.textContent ?? '').startsWith('exported heliosdb-demo.db'));
});

test('import replaces the database with a file Python made; a non-SQLite file is refused', { timeout: TEST_TIMEOUT_MS }, async () => {
  const file = join(tmp, 'from-python.db');
  python<null>(
    `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
  CREATE TABLE planets(id INTEGER PRIMARY KEY, name TEXT, moons INTEGER);
  INSERT INTO planets(name, moons) VALUES ('Mercury', 0), ('Venus', 0), ('Earth', 1), ('Mars', 2);
""")
c.commit()
print("null")
`,
    file,
  );
  const garbage = join(tmp, 'not-a-database.db');
  await writeFile(garbage, Buffer.alloc(4096, 0x41));
  await page.setInputFiles('#import-file', garbage);
  await page.waitForFunction(() => (document.getElementById('files-message')?.textContent ?? '').startsWith('import failed'));
  assert.match((await page.textContent('#files-message')) ?? '', /^import failed: DatabaseError: /);
  // The old database is still there and usable.
  assert.deepEqual((await runSql(page, 'SELECT count(*) FROM users')).rows, [['5']]);

  await page.setInputFiles('#import-file', file);
  await page.waitForFunction(() => (document.getElementById('files-message')?.textContent ?? '').startsWith('imported'));
  assert.match((await page.textContent('#files-message')) ?? '', /^imported from-python\.db \([\d.]+ KB, 1 tables\)$/);
  const r = await runSql(page, 'SELECT name, moons FROM planets ORDER BY id');
  assert.deepEqual(r.rows, [['Mercury', '0'], ['Venus', '0'], ['Earth', '1'], ['Mars', '2']]);
  await page.waitForSelector('#table-list li[data-table="planets"]');
  await shot(page, '#panel-files', 'import-export');
});

test('after one online visit the demo loads and runs queries offline', { timeout: TEST_TIMEOUT_MS }, async () => {
  // The service worker took control of the page and cached the whole build, wasm and worker included.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
  const cached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
    return urls;
  });
  assert.ok(cached.some((u) => u.endsWith('.wasm')), `cached: ${cached.join(', ')}`);
  assert.ok(cached.some((u) => /browser-worker-.*\.js$/.test(u)), `cached: ${cached.join(', ')}`);
  assert.ok(cached.includes('/index.html'), `cached: ${cached.join(', ')}`);
  assert.equal(await page.textContent('#status-sw'), 'offline-ready');

  // Really offline: the server is gone and the browser has no network.
  await server!.close();
  await browser!.context.setOffline(true);
  await page.reload();
  await waitReady(page);
  const network = await page.evaluate(() => fetch('./not-precached.txt').then((r) => `HTTP ${r.status}`, (e: unknown) => `failed: ${String(e)}`));
  assert.match(network, /^failed: /, 'the network must really be unreachable');
  assert.equal(await page.textContent('#status-storage'), 'storage: opfs');
  const r = await runSql(page, 'SELECT name FROM planets WHERE moons > 0 ORDER BY name');
  assert.deepEqual(r.rows, [['Earth'], ['Mars']]);
  const w = await runSql(page, "INSERT INTO planets(name, moons) VALUES ('Jupiter', 95)");
  assert.match(w.message, /^1 row changed/);
  await page.screenshot({ path: join(SHOTS, 'offline.png'), fullPage: true });
});
