/**
 * Callbacks registered on the page's main thread, in real Chromium: on a page
 * that is not cross-origin isolated they are shipped to the worker as source
 * (self-contained ones work; a closure fails with an explanation), and on a
 * cross-origin isolated page (COOP/COEP) they run on the page itself through
 * the synchronous bridge, closures included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './chromium.js';
import { E2E_WEB, TEST_TIMEOUT_MS, requireBuilt, watchdog, withLog } from './harness.js';
import { startStaticServer, type StaticServer } from './static-server.js';

type Observed = Record<string, unknown>;

interface CallbacksApi {
  ready: true;
  isolated(): boolean;
  selfContained(): Promise<Observed>;
  closures(): Promise<Observed>;
}

let plain: StaticServer | undefined;
let isolated: StaticServer | undefined;
let browser: LaunchedChromium | undefined;
watchdog(5 * 60_000, () => browser);

before(async () => {
  requireBuilt(E2E_WEB);
  plain = await startStaticServer({ root: E2E_WEB });
  isolated = await startStaticServer({ root: E2E_WEB, crossOriginIsolated: true });
  browser = await launchChromium();
}, { timeout: TEST_TIMEOUT_MS });

after(async () => {
  await browser?.close();
  await plain?.close();
  await isolated?.close();
});

async function open(server: StaticServer): Promise<Page> {
  const b = browser as LaunchedChromium;
  const page = await b.newPage();
  await page.goto(`${server.url}/callbacks.html`);
  await page.waitForFunction(() => (window as unknown as { heliosCallbacks?: CallbacksApi }).heliosCallbacks?.ready === true, undefined, {
    timeout: 30_000,
  });
  return page;
}

async function run(page: Page, what: 'selfContained' | 'closures'): Promise<Observed> {
  try {
    return await page.evaluate((w) => (window as unknown as { heliosCallbacks: CallbacksApi }).heliosCallbacks[w](), what);
  } catch (e) {
    throw new Error(withLog(browser, `${what} threw: ${String(e)}`), { cause: e });
  }
}

describe('callbacks on a page without cross-origin isolation (shipped to the worker)', () => {
  test('self-contained functions, aggregates, collations, authorizer and trace work; a closure fails clearly', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await open(plain as StaticServer);
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), false);
    const o = await run(page, 'selfContained');
    assert.deepEqual(o.twice, [42]);
    assert.deepEqual(o.mysum, [10]);
    assert.deepEqual(o.collation, [['c'], ['b'], ['a']]);
    assert.deepEqual(o.trace, ['SELECT 42']);
    assert.deepEqual(o.denied, { error: 'DatabaseError', message: 'access to t.x is prohibited' });
    // The closure's variable does not exist in the worker: the call fails as a raising function does.
    assert.deepEqual(o.closure, { error: 'OperationalError', message: 'user-defined function raised exception' });
    assert.equal(o.closureCalls, 0);
    await page.close();
  });
});

describe('callbacks on a cross-origin isolated page (run on the page, synchronously)', () => {
  test('closures see and change the page’s variables; aggregates, collations, progress and errors behave as in Node', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await open(isolated as StaticServer);
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
    const o = await run(page, 'closures');
    assert.deepEqual(o.remember, [[10], [20], [30]]);
    assert.deepEqual(o.seen, [1, 2, 3]);
    assert.deepEqual(o.collect, ['1,2,3']);
    assert.deepEqual(o.groups, ['1+2+3']);
    assert.deepEqual(o.sorted, [['a'], ['b']]);
    assert.ok((o.collationCalls as number) >= 1);
    assert.deepEqual(o.interrupted, { error: 'OperationalError', message: 'interrupted' });
    assert.equal(o.progressCalls, 4);
    assert.deepEqual(o.big, [2n ** 62n]);
    assert.deepEqual(o.fails, { error: 'OperationalError', message: 'user-defined function raised exception' });
    // Self-contained callbacks behave the same there.
    const s = await run(page, 'selfContained');
    assert.deepEqual(s.twice, [42]);
    assert.deepEqual(s.closure, { ok: [1] });
    assert.equal(s.closureCalls, 1);
    await page.close();
  });
});
