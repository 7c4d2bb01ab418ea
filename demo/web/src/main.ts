/**
 * heliosdb-nano web demo: an offline-capable PWA on an embedded SQLite
 * database in the browser's own storage (OPFS, else IndexedDB).
 */
import type { App } from './app.js';
import { mountConsole } from './console-panel.js';
import { describeError, open, seed } from './db.js';
import { byId } from './dom.js';
import { mountFiles } from './files-panel.js';
import { mountLive } from './live-panel.js';
import { mountSemantic } from './semantic-panel.js';
import { mountStatus } from './status-bar.js';
import { mountTables } from './tables-panel.js';

/** An id for this tab, kept in sessionStorage so a reload stays the same tab. */
function tabId(): string {
  const key = 'heliosdb-demo-tab';
  let id = sessionStorage.getItem(key);
  if (!id) {
    id = `tab-${Math.random().toString(36).slice(2, 6)}`;
    sessionStorage.setItem(key, id);
  }
  return id;
}

async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('./sw.js', { scope: './' });
  } catch (e) {
    console.warn(`service worker not registered (offline use unavailable): ${describeError(e)}`);
  }
}

async function main(): Promise<void> {
  void registerServiceWorker();
  const conn = await open();
  await seed(conn);
  const listeners: (() => void)[] = [];
  const app: App = {
    conn,
    tabId: tabId(),
    changed: () => listeners.forEach((fn) => fn()),
    onChange: (fn) => listeners.push(fn),
  };
  mountStatus(app);
  mountConsole(app);
  mountTables(app);
  mountFiles(app, mountLive(app));
  mountSemantic();
  document.body.dataset.ready = 'true';
}

main().catch((e: unknown) => {
  const status = byId('status-storage', HTMLElement);
  status.textContent = `could not open the database: ${describeError(e)}`;
  status.classList.add('error');
  document.body.dataset.error = describeError(e);
  console.error(e);
});
