/** The status bar: storage backend, usage/quota, persistence, online state, service worker. */
import * as sqlite3 from 'heliosdb-nano';
import type { App } from './app.js';
import { describeError } from './db.js';
import { byId, formatBytes } from './dom.js';

export function mountStatus(app: App): void {
  const storage = byId('status-storage', HTMLElement);
  const usage = byId('status-usage', HTMLElement);
  const network = byId('status-network', HTMLElement);
  const worker = byId('status-sw', HTMLElement);
  byId('status-version', HTMLElement).textContent = `heliosdb-nano ${sqlite3.version} · SQLite ${sqlite3.sqlite_version}`;
  byId('status-tab', HTMLElement).textContent = `tab ${app.tabId}`;

  async function refresh(): Promise<void> {
    storage.textContent = `storage: ${app.conn.storage}`;
    document.body.dataset.storage = app.conn.storage;
    try {
      const info = await sqlite3.storage_info();
      const share = info.quota > 0 ? ` (${((100 * info.usage) / info.quota).toFixed(2)}%)` : '';
      usage.textContent = `${formatBytes(info.usage)} of ${formatBytes(info.quota)}${share} · ${info.persisted ? 'persistent' : 'best-effort'}`;
    } catch (e) {
      usage.textContent = describeError(e);
    }
  }

  function showNetwork(): void {
    network.textContent = navigator.onLine ? 'online' : 'offline';
    network.classList.toggle('warn', !navigator.onLine);
  }

  function showWorker(): void {
    if (!('serviceWorker' in navigator)) worker.textContent = 'no service worker support';
    else worker.textContent = navigator.serviceWorker.controller ? 'offline-ready' : 'caching for offline…';
  }

  window.addEventListener('online', showNetwork);
  window.addEventListener('offline', showNetwork);
  if ('serviceWorker' in navigator) navigator.serviceWorker.addEventListener('controllerchange', showWorker);
  app.onChange(() => void refresh());
  showNetwork();
  showWorker();
  setInterval(() => void refresh(), 5000);
  void refresh();
}
