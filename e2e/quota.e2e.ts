/**
 * Storage quota in real Chromium: with the origin's quota lowered through the
 * DevTools protocol (Storage.overrideQuotaForOrigin), a write that does not
 * fit fails with OperationalError('database or disk is full …') and the
 * database keeps every earlier commit, on OPFS and on IndexedDB.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './chromium.js';
import { E2E_WEB, TEST_TIMEOUT_MS, requireBuilt, watchdog } from './harness.js';
import { startStaticServer, type StaticServer } from './static-server.js';

interface QuotaApi {
  ready: true;
  overfill(database: string, bytes: number): Promise<unknown>;
  read(database: string): Promise<unknown>;
}

const QUOTA = 4 * 1024 * 1024;
let browser: LaunchedChromium | undefined;
const servers: StaticServer[] = [];
watchdog(5 * 60_000, () => browser);

before(async () => {
  requireBuilt(E2E_WEB);
  browser = await launchChromium();
}, { timeout: TEST_TIMEOUT_MS });

after(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
});

/** A page on a fresh origin (its own port) whose quota is lowered before it stores anything. */
async function pageWithQuota(): Promise<Page> {
  const server = await startStaticServer({ root: E2E_WEB });
  servers.push(server);
  const b = browser as LaunchedChromium;
  const page = await b.newPage();
  const cdp = await b.context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: QUOTA });
  await page.goto(`${server.url}/quota.html`);
  await page.waitForFunction(() => (window as unknown as { heliosQuota?: QuotaApi }).heliosQuota?.ready === true, undefined, { timeout: 30_000 });
  return page;
}

for (const backend of ['opfs', 'idb'] as const) {
  describe(`quota on ${backend}`, () => {
    test('a commit beyond the quota fails with OperationalError; earlier commits survive, also after a reload', { timeout: TEST_TIMEOUT_MS }, async () => {
      const page = await pageWithQuota();
      const db = `${backend}://quota.db`;
      const r = (await page.evaluate(([d, n]) => (window as unknown as { heliosQuota: QuotaApi }).heliosQuota.overfill(d as string, n as number), [
        db,
        2 * QUOTA,
      ] as const)) as { error: { name: string; message: string; errorname: string | null } | null; after: unknown; quota: number };
      assert.ok(r.error !== null, 'the oversized commit must fail');
      assert.equal(r.error.name, 'OperationalError', r.error.message);
      assert.match(r.error.message, /database or disk is full/);
      assert.equal(r.error.errorname, 'SQLITE_FULL');
      if (backend === 'opfs') {
        // The write itself failed: SQLite rolled the transaction back, the connection goes on.
        assert.deepEqual(r.after, { rows: 5, integrity: 'ok' });
      }
      // A reload finds the last durable state: the five committed rows.
      await page.reload();
      await page.waitForFunction(() => (window as unknown as { heliosQuota?: QuotaApi }).heliosQuota?.ready === true);
      const back = await page.evaluate((d) => (window as unknown as { heliosQuota: QuotaApi }).heliosQuota.read(d), db);
      assert.deepEqual(back, { rows: 5, integrity: 'ok' });
      await page.close();
    });
  });
}
