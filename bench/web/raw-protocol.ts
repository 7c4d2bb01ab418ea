/**
 * The minimal postMessage protocol between core.html's main thread and the
 * raw sqlite-wasm worker (raw-worker.ts): one request message, one reply
 * message, matched by `id` (worker-client.ts). No Comlink, no proxies: the least a page can do to
 * reach SQLite in a worker, so that the comparison with our API (which also
 * runs SQLite in a worker) is what the main thread sees on both sides.
 */
import type { RowId, Sizes } from '../lib/workload.js';
import type { DbSettings, Timed } from './page-api.js';

/** A bindable value as it crosses postMessage (the workload uses only these). */
export type Bindable = number | string | null;

/** Requests, by kind; `db` names an open database inside the worker. */
export type RawRequest =
  | { readonly t: 'init'; readonly id: number; readonly sizes: Sizes; readonly capacity: number }
  | { readonly t: 'open'; readonly id: number; readonly db: string; readonly file: string; readonly schema: readonly string[] }
  | { readonly t: 'exec'; readonly id: number; readonly db: string; readonly sql: string; readonly params: readonly Bindable[] | null }
  | { readonly t: 'many'; readonly id: number; readonly db: string; readonly sql: string; readonly rows: readonly (readonly Bindable[])[] }
  | { readonly t: 'loop'; readonly id: number; readonly db: string; readonly row: RowId; readonly rep: number }
  | { readonly t: 'durableLoop'; readonly id: number; readonly db: string; readonly from: number; readonly to: number }
  | { readonly t: 'close'; readonly id: number; readonly db: string; readonly unlink: boolean }
  | { readonly t: 'ping'; readonly id: number };

export interface InitInfo {
  readonly vfs: string;
  readonly capacity: number;
  readonly sqliteVersion: string;
}

/** What each kind of request answers. */
export interface RawResults {
  init: InitInfo;
  open: DbSettings;
  /** Every result row, as arrays (an empty array for statements without rows). */
  exec: unknown[][];
  /** Rows inserted. */
  many: number;
  /** Timed inside the worker. */
  loop: Timed;
  /** Milliseconds, timed inside the worker. */
  durableLoop: number;
  close: null;
  ping: null;
}

export type RawKind = RawRequest['t'];
