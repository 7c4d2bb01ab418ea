/**
 * Shared pieces of the browser test files: where the built web apps are, a
 * watchdog that bounds a test file's lifetime, opening a test page and
 * waiting for its API, and Python's `sqlite3` as an oracle for files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { LaunchedChromium } from './chromium.js';

/** The repository root (this file runs from build/e2e/). */
export const ROOT = new URL('../../', import.meta.url).pathname;
/** The Vite build of e2e/pages/. */
export const E2E_WEB = join(ROOT, 'build/e2e-web');
/** The Vite build of demo/web/. */
export const DEMO_WEB = join(ROOT, 'build/demo-web');
/** Where screenshots and other artifacts go. */
export const OUTPUT = join(ROOT, 'test-output');

/** Per-test timeout for browser tests. */
export const TEST_TIMEOUT_MS = 90_000;

/**
 * Ends the process if the file is still running after `ms` (a hung browser
 * must fail the suite, not stall CI). The timer does not keep Node alive.
 */
export function watchdog(ms: number, browser?: () => LaunchedChromium | undefined): void {
  setTimeout(() => {
    console.error(`watchdog: test file still running after ${ms} ms; exiting`);
    const log = browser?.()?.log ?? [];
    if (log.length) console.error(log.slice(-50).join('\n'));
    process.exit(70);
  }, ms).unref();
}

/** Fails with a clear message when a web app was not built. */
export function requireBuilt(dir: string): void {
  if (!existsSync(dir)) {
    throw new Error(`${dir} is missing: run \`node scripts/build-web.mjs\` (npm test does)`);
  }
}

/**
 * Opens `url` in `page` and waits until the page's `window.heliosE2E` is
 * ready; on timeout the page's console and errors are in the thrown message.
 */
export async function openTestPage(page: Page, url: string, browser: LaunchedChromium, timeoutMs = 30_000): Promise<void> {
  await page.goto(url);
  try {
    await page.waitForFunction(() => window.heliosE2E?.ready === true, undefined, { timeout: timeoutMs });
  } catch (e) {
    throw new Error(`${url}: test API not ready: ${String(e)}\n--- browser log ---\n${browser.log.join('\n')}`, { cause: e });
  }
}

/** Runs a Python script (with `args` in `sys.argv[1:]`) and parses the JSON it prints. */
export function python<T>(script: string, ...args: string[]): T {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Appends the browser's log to an assertion message, for failures that need it. */
export function withLog(browser: LaunchedChromium | undefined, message: string): string {
  const log = browser?.log ?? [];
  return log.length ? `${message}\n--- browser log (last 30) ---\n${log.slice(-30).join('\n')}` : message;
}

/**
 * Calls `window[api][method](...args)` in the page (a test page's API) and
 * returns its JSON result; a failure carries the browser's log.
 */
export async function callPageApi<T>(page: Page, browser: LaunchedChromium | undefined, api: string, method: string, args: readonly unknown[]): Promise<T> {
  try {
    return (await page.evaluate(
      ([g, m, a]) => {
        const target = (window as unknown as Record<string, Record<string, (...x: unknown[]) => Promise<unknown>>>)[g];
        return target[m](...a);
      },
      [api, method, args] as const,
    )) as T;
  } catch (e) {
    throw new Error(withLog(browser, `${method} failed in the page: ${String(e)}`), { cause: e });
  }
}
