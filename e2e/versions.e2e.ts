/**
 * Time travel and branches in real Chromium, from the page's main thread, on
 * each storage (opfs, idb, memory): versions written past the log's
 * checkpoint threshold read back exactly with AS OF VERSION / TIMESTAMP,
 * restore_to, a branch written, diffed and merged; on the durable storages,
 * after a reload the same versions and the branch are still there.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { firstPage, launchChromium, type LaunchedChromium } from './chromium.js';
import { E2E_WEB, TEST_TIMEOUT_MS, callPageApi, requireBuilt, watchdog } from './harness.js';
import { startStaticServer, type StaticServer } from './static-server.js';

interface WriteReport {
  storage: string;
  versions: number[];
  counts: number[];
  byTimestamp: number;
  future: { name: string; message: string } | string;
  restoredVersion: number;
  afterRestore: number;
  historyBytes: number;
  branch: { rows: number; mainRows: number; diff: { tables: Array<{ table: string; added: number; changed: number; removed: number }> }; merged: number; mainAfterMerge: number; branches: string[] };
}
interface ReadReport {
  versions: number[];
  counts: number[];
  branches: string[];
  branchRows: number;
}

let browser: LaunchedChromium | undefined;
let server: StaticServer | undefined;
watchdog(6 * 60_000, () => browser);

before(async () => {
  requireBuilt(E2E_WEB);
  server = await startStaticServer({ root: E2E_WEB });
  browser = await launchChromium();
}, { timeout: TEST_TIMEOUT_MS });

after(async () => {
  await browser?.close();
  await server?.close();
});

function call<T>(page: Page, method: 'write' | 'read', ...args: unknown[]): Promise<T> {
  return callPageApi<T>(page, browser, 'heliosVersions', method, args);
}

const ready = (): boolean => (window as unknown as { heliosVersions?: { ready?: boolean } }).heliosVersions?.ready === true;

for (const backend of ['opfs', 'idb', 'memory'] as const) {
  describe(`time travel and branches on ${backend}`, () => {
    let page: Page;
    const database = `${backend}://versions-e2e.db`;
    let written: WriteReport;

    before(async () => {
      page = await firstPage(browser!);
      await page.goto(`${server!.url}/versions.html`);
      await page.waitForFunction(ready, undefined, { timeout: 30_000 });
    }, { timeout: TEST_TIMEOUT_MS });

    test('AS OF reads every version, across a checkpoint into the history file; restore_to; a branch diffed and merged', { timeout: TEST_TIMEOUT_MS }, async () => {
      written = await call<WriteReport>(page, 'write', database);
      assert.equal(written.storage, backend);
      // 1..4 rows, then the state after 150 big rows came and went.
      assert.deepEqual(written.counts, [1, 2, 3, 4, 4]);
      assert.equal(written.byTimestamp, 4);
      assert.equal(typeof written.future === 'object' && written.future.name, 'OperationalError');
      assert.equal(written.afterRestore, 2);
      assert.equal(written.branch.rows, 4);
      assert.equal(written.branch.mainRows, 4);
      assert.deepEqual(written.branch.diff.tables.map((t) => [t.table, t.added, t.changed, t.removed]), [['t', 1, 0, 1]]);
      assert.equal(written.branch.merged, 2);
      assert.equal(written.branch.mainAfterMerge, 4);
      assert.deepEqual(written.branch.branches, ['main', 'feature']);
      // The big transaction went past the log's checkpoint threshold: its pages are in the history file now.
      if (backend === 'opfs') assert.ok(written.historyBytes > 8 * 1024 * 1024, `history file: ${written.historyBytes} bytes`);
    });

    if (backend !== 'memory') {
      test('after a reload the versions and the branch are still there', { timeout: TEST_TIMEOUT_MS }, async () => {
        await page.reload();
        await page.waitForFunction(ready, undefined, { timeout: 30_000 });
        const read = await call<ReadReport>(page, 'read', database, written.versions);
        for (const v of written.versions) assert.ok(read.versions.includes(v), `version ${v} kept after reload`);
        assert.deepEqual(read.counts, written.counts);
        assert.deepEqual(read.branches, ['main', 'feature']);
        assert.equal(read.branchRows, 4);
      });
    }
  });
}
