/**
 * Many tabs, one database, in real Chromium (pages of one browser context
 * share OPFS and Web Locks): tabs writing at once, and the leader tab closed
 * in the middle of the writes again and again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './chromium.js';
import { E2E_WEB, TEST_TIMEOUT_MS, requireBuilt, watchdog, withLog } from './harness.js';
import { startStaticServer, type StaticServer } from './static-server.js';

interface Run {
  acked: number;
  errors: string[];
  done: boolean;
}

interface TabsApi {
  ready: true;
  setup(database: string): Promise<string>;
  start(database: string, tab: string, from: number, count: number): number;
  status(run: number): Run;
  stop(): void;
  rows(database: string): Promise<Array<[string, number]>>;
  exec(database: string, sql: string): Promise<{ rows?: unknown[][]; description?: string[] | null; error?: string; message?: string; inTransaction: boolean }>;
}

let server: StaticServer | undefined;
let browser: LaunchedChromium | undefined;
watchdog(8 * 60_000, () => browser);

before(async () => {
  requireBuilt(E2E_WEB);
  server = await startStaticServer({ root: E2E_WEB });
  browser = await launchChromium();
}, { timeout: TEST_TIMEOUT_MS });

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Acknowledged inserts as the pages report them: "tab i" keys. */
const acked = new Set<string>();
const errors: string[] = [];

async function openTab(database: string): Promise<Page> {
  const page = await (browser as LaunchedChromium).newPage();
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith('ack ')) acked.add(t.slice(4));
    else if (t.startsWith('error ')) errors.push(t.slice(6));
  });
  await page.goto(`${(server as StaticServer).url}/tabs.html`);
  await page.waitForFunction(() => (window as unknown as { heliosTabs?: TabsApi }).heliosTabs?.ready === true, undefined, { timeout: 30_000 });
  const storage = await page.evaluate((db) => (window as unknown as { heliosTabs: TabsApi }).heliosTabs.setup(db), database);
  assert.equal(storage, 'opfs');
  return page;
}

function tabs(page: Page): <T>(fn: (api: TabsApi, arg: unknown) => T | Promise<T>, arg?: unknown) => Promise<T> {
  return (fn, arg) =>
    page.evaluate(
      ([src, a]) => {
        const f = new Function(`return (${src as string})`)() as (api: TabsApi, arg: unknown) => unknown;
        return f((window as unknown as { heliosTabs: TabsApi }).heliosTabs, a);
      },
      [fn.toString(), arg] as const,
    ) as never;
}

async function untilDone(page: Page, run: number, timeoutMs: number): Promise<Run> {
  const t0 = Date.now();
  for (;;) {
    const s = await tabs(page)((api, r) => api.status(r as number), run);
    if (s.done) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error(withLog(browser, `run still going after ${timeoutMs} ms: ${JSON.stringify(s)}`));
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('many tabs, one database', () => {
  test('4 tabs write 250 rows each at once: every row present, zero errors', { timeout: TEST_TIMEOUT_MS }, async () => {
    const db = 'opfs://tabs-four.db';
    const pages = [];
    for (let i = 0; i < 4; i++) pages.push(await openTab(db));
    const runs = await Promise.all(pages.map((p, i) => tabs(p)((api, a) => api.start(...(a as [string, string, number, number])), [db, `t${i}`, 0, 250])));
    const results = await Promise.all(pages.map((p, i) => untilDone(p, runs[i], 60_000)));
    for (const r of results) {
      assert.deepEqual(r.errors, []);
      assert.equal(r.acked, 250);
    }
    const rows = await tabs(pages[3])((api, d) => api.rows(d as string), db);
    assert.equal(rows.length, 1000);
    assert.equal(new Set(rows.map(([t, i]) => `${t} ${i}`)).size, 1000);
    for (const p of pages) await p.close();
  });

  test('idle connections of other tabs carry on after the leader closes; an open transaction there is rolled back, retryably', { timeout: TEST_TIMEOUT_MS }, async () => {
    const db = 'opfs://tabs-idle.db';
    const leader = await openTab(db);
    const idle = await openTab(db);
    const inTxn = await openTab(db);
    const run = (p: Page, sql: string): ReturnType<TabsApi['exec']> => tabs(p)((api, a) => api.exec(...(a as [string, string])), [db, sql]);
    assert.deepEqual((await run(idle, "INSERT INTO w(tab, i) VALUES ('idle', 1)")).error, undefined);
    // Results served by another tab's engine carry their column names (twice: nothing cached wrongly).
    const described = "SELECT tab AS who, i AS n FROM w WHERE tab = 'idle'";
    for (let k = 0; k < 2; k++) assert.deepEqual(await run(idle, described), { rows: [['idle', 1]], description: ['who', 'n'], inTransaction: false });
    assert.equal((await run(inTxn, 'BEGIN')).error, undefined);
    assert.equal((await run(inTxn, "INSERT INTO w(tab, i) VALUES ('txn', 1)")).inTransaction, true);
    await leader.close();
    // The idle tab's next statement runs on the new leader.
    const after = await run(idle, "SELECT count(*) FROM w WHERE tab = 'idle'");
    assert.deepEqual(after.rows, [[1]], JSON.stringify(after));
    // The same query, now served by this tab's own engine (it opened second: it leads now).
    for (let k = 0; k < 2; k++) assert.deepEqual(await run(idle, described), { rows: [['idle', 1]], description: ['who', 'n'], inTransaction: false });
    // The transaction died with the old leader: a retryable error, and the connection is usable again.
    const lost = await run(inTxn, "INSERT INTO w(tab, i) VALUES ('txn', 2)");
    assert.equal(lost.error, 'ConflictError', JSON.stringify(lost));
    assert.match(lost.message ?? '', /transaction was rolled back/);
    assert.equal(lost.inTransaction, false);
    assert.deepEqual((await run(inTxn, "SELECT count(*) FROM w WHERE tab = 'txn'")).rows, [[0]]);
    await idle.close();
    await inTxn.close();
  });

  test('the leader tab closed mid-write 10 times in a row: every acknowledged write present exactly once', { timeout: 3 * TEST_TIMEOUT_MS }, async () => {
    const db = 'opfs://tabs-failover.db';
    acked.clear();
    errors.length = 0;
    // Tabs queue for leadership in the order they open: the oldest open tab leads.
    const open: Page[] = [];
    let n = 0;
    const startTab = async (): Promise<void> => {
      const page = await openTab(db);
      const name = `tab${n++}`;
      await tabs(page)((api, a) => api.start(...(a as [string, string, number, number])), [db, name, 0, 1_000_000]);
      open.push(page);
    };
    for (let i = 0; i < 3; i++) await startTab();
    const takeovers: number[] = [];
    for (let round = 0; round < 10; round++) {
      // Let everyone write for a moment, then close the leader in the middle of its writes.
      await new Promise((r) => setTimeout(r, 300));
      const before = acked.size;
      const leader = open.shift() as Page;
      await leader.close();
      const closedAt = Date.now();
      // Writes from the other tabs resume once a new leader has recovered the database.
      const seen = acked.size;
      while (acked.size <= seen) {
        if (Date.now() - closedAt > 10_000) assert.fail(withLog(browser, `no write acknowledged for 10 s after closing the leader (round ${round})`));
        await new Promise((r) => setTimeout(r, 5));
      }
      takeovers.push(Date.now() - closedAt);
      assert.ok(acked.size > before);
      await startTab();
    }
    for (const p of open) await tabs(p)((api) => api.stop());
    await new Promise((r) => setTimeout(r, 300));
    const rows = await tabs(open[0])((api, d) => api.rows(d as string), db);
    const counts = new Map<string, number>();
    for (const [t, i] of rows) counts.set(`${t} ${i}`, (counts.get(`${t} ${i}`) ?? 0) + 1);
    const dupes = [...counts].filter(([, c]) => c > 1);
    assert.deepEqual(dupes, [], 'no write applied twice');
    const missing = [...acked].filter((k) => !counts.has(k));
    assert.deepEqual(missing, [], 'every acknowledged write is present');
    assert.deepEqual(errors, [], 'writers saw no errors');
    takeovers.sort((a, b) => a - b);
    console.log(`failover: ${acked.size} acknowledged writes; time to the next acknowledged write after closing the leader: median ${takeovers[5]} ms, max ${takeovers[9]} ms`);
    // The issue asks for a takeover within a second; allow slack for a loaded CI machine.
    assert.ok(takeovers[5] < 1000, `median takeover ${takeovers[5]} ms`);
    for (const p of open) await p.close();
  });
});
