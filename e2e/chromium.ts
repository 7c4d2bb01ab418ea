/**
 * Launches Debian's Chromium through playwright-core with an on-disk profile
 * in a fresh temporary folder, so that OPFS and IndexedDB persist across
 * reloads (a plain `browser.newContext()` keeps them in memory). All pages of
 * the returned context are tabs of one browser profile: they share storage,
 * Web Locks and service workers.
 *
 * @example
 * ```ts
 * await using browser = await launchChromium();
 * const page = await browser.newPage();
 * ```
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet and quick on a closed-network CI machine. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchOptions {
  /** Milliseconds Playwright waits for actions and navigations (default 30 s). */
  readonly timeoutMs?: number;
  /** Viewport of new pages (default 1280 × 900). */
  readonly viewport?: { readonly width: number; readonly height: number };
}

export interface LaunchedChromium extends AsyncDisposable {
  readonly context: BrowserContext;
  /** The profile folder (deleted by `close()`). */
  readonly profileDir: string;
  /** Console messages and page errors of every page opened through `newPage()`, for failure reports. */
  readonly log: string[];
  /** A new tab in this profile, with its console and uncaught errors collected in `log`. */
  newPage(): Promise<Page>;
  /** Closes the browser and deletes the profile. */
  close(): Promise<void>;
}

/** Starts headless Chromium on a new temporary profile. */
export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedChromium> {
  const profileDir = await mkdtemp(join(tmpdir(), 'heliosdb-chromium-'));
  const timeout = options.timeoutMs ?? 30_000;
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: options.viewport ?? { width: 1280, height: 900 },
      timeout,
    });
  } catch (e) {
    await rm(profileDir, { recursive: true, force: true });
    throw e;
  }
  context.setDefaultTimeout(timeout);
  context.setDefaultNavigationTimeout(timeout);
  const log: string[] = [];
  const watch = (page: Page): Page => {
    const tag = `tab${context.pages().indexOf(page)}`;
    page.on('console', (m: ConsoleMessage) => log.push(`[${tag} console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[${tag} pageerror] ${e.stack ?? e.message}`));
    page.on('crash', () => log.push(`[${tag} crashed]`));
    return page;
  };
  for (const page of context.pages()) watch(page);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await context.close().catch((e: unknown) => log.push(`[close] ${String(e)}`));
      await rm(profileDir, { recursive: true, force: true });
    })();
    return closing;
  };
  return {
    context,
    profileDir,
    log,
    newPage: async () => watch(await context.newPage()),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The first page of a fresh persistent context (it opens with one blank tab), watched like `newPage()`. */
export async function firstPage(browser: LaunchedChromium): Promise<Page> {
  const existing = browser.context.pages()[0];
  return existing ?? browser.newPage();
}
