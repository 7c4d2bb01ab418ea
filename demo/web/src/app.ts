/** What the panels share: the current connection (replaced after an import) and change notifications. */
import type { Connection } from './db.js';

export interface App {
  /** The open connection; read it on every use, an import replaces it. */
  conn: Connection;
  /** This tab's id (kept across reloads of the tab). */
  readonly tabId: string;
  /** Tells every panel that the database content changed. */
  changed(): void;
  /** Registers a listener for `changed()`. */
  onChange(fn: () => void): void;
}
