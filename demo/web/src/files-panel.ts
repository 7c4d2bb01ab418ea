/**
 * Import and export of `.db` files: a chosen file replaces the demo database
 * through `import_database()` (the connection is closed first and reopened
 * after); export downloads `serialize()`, an ordinary SQLite file.
 */
import * as sqlite3 from 'heliosdb-nano';
import type { App } from './app.js';
import { DATABASE, describeError, open } from './db.js';
import { byId, formatBytes } from './dom.js';
import type { LiveWrites } from './live-panel.js';

export function mountFiles(app: App, live: LiveWrites): void {
  const input = byId('import-file', HTMLInputElement);
  const exportButton = byId('export', HTMLButtonElement);
  const message = byId('files-message', HTMLElement);

  function say(text: string, error = false): void {
    message.textContent = text;
    message.className = error ? 'message error' : 'message';
  }

  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (!file) return;
    void (async () => {
      input.disabled = true;
      say(`importing ${file.name}…`);
      await live.stop();
      await app.conn.close();
      try {
        await sqlite3.import_database(DATABASE, file);
        app.conn = await open();
        const cur = await app.conn.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
        const [tables] = (await cur.fetchone()) as [number];
        say(`imported ${file.name} (${formatBytes(file.size)}, ${tables} tables)`);
      } catch (e) {
        say(`import failed: ${describeError(e)}`, true);
        app.conn = await open();
      } finally {
        input.value = '';
        input.disabled = false;
        app.changed();
      }
    })();
  });

  exportButton.addEventListener('click', () => {
    void (async () => {
      try {
        const bytes = await app.conn.serialize();
        const url = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: 'application/vnd.sqlite3' }));
        const a = document.createElement('a');
        a.href = url;
        a.download = DATABASE;
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        say(`exported ${DATABASE} (${formatBytes(bytes.length)})`);
      } catch (e) {
        say(`export failed: ${describeError(e)}`, true);
      }
    })();
  });
}
