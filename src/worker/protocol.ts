/**
 * The messages between a page and the engine's dedicated worker, on two
 * channels:
 *
 * - **Session calls** (every `SessionPort` method: `execute`, `fetch`,
 *   `commit`, …) travel on the worker's own message channel
 *   (`worker.postMessage`), each as one flat array ({@link SessionCall}),
 *   answered by one flat array ({@link SessionReply}). This is the hot path:
 *   a statement costs one structured clone of a short array each way, and the
 *   reply to `execute` carries the first batch of rows, the row count, the
 *   last rowid and the session's state, so a point select or a single-row
 *   write is one round trip. (A worker's own channel is cheaper than a
 *   `MessageChannel` port: ≈ 2.5 µs less per round trip in Chromium.)
 * - **Setup** (`open`, `importDatabase`, the callback bridge) goes through
 *   Comlink on a `MessagePort` the page hands over first ({@link WorkerApi}).
 *
 * Every call answers with a `Reply` inside the worker: never a thrown value,
 * so an engine error keeps its class data (kind, SQLite code) across the
 * boundary, and events the call produced (trace lines, backup progress) ride
 * along in order, delivered on the page before the call's promise settles.
 */
import type { EngineErrorData } from './engine-error.js';
import type { ColumnInfo, ExecOptions, SessionState } from './session.js';

export type WorkerEvent =
  | { readonly kind: 'trace'; readonly sql: string }
  | { readonly kind: 'progress'; readonly status: number; readonly remaining: number; readonly total: number };

export type Reply<T> =
  | { readonly ok: true; readonly value: T; readonly events?: WorkerEvent[] }
  | { readonly ok: false; readonly error: EngineErrorData; readonly events?: WorkerEvent[] };

export interface OpenRequest {
  readonly uri: boolean;
  readonly timeoutMs: number;
  readonly cachedStatements: number;
  readonly vectorSearch?: boolean;
  readonly timeTravel?: boolean | { seconds?: number | null; versions?: number | null };
  readonly branching?: boolean;
  readonly branch?: string;
}

export interface Opened {
  readonly id: number;
  readonly storage: string;
  readonly state: SessionState;
}

/**
 * A callback shipped to the worker as source text: it runs there, so it must
 * be self-contained (no variables of the page's scope).
 */
export interface ShippedCallback {
  readonly source: string;
  /**
   * Set when the page is cross-origin isolated: the callback's id in the
   * page's registry, called synchronously through sync-bridge.ts by sessions
   * this worker runs for its own page (the source serves the others).
   */
  readonly bridge?: number;
}

/** Session methods the page may invoke (arguments as in `SessionPort`, callbacks as `ShippedCallback`). */
export type SessionMethod =
  | 'execute'
  | 'fetch'
  | 'closeCursor'
  | 'executemany'
  | 'executescript'
  | 'control'
  | 'commit'
  | 'rollback'
  | 'state'
  | 'interrupt'
  | 'getLimit'
  | 'setLimit'
  | 'setCachedStatements'
  | 'setTimeout'
  | 'createFunction'
  | 'createAggregate'
  | 'createWindowFunction'
  | 'createCollation'
  | 'setAuthorizer'
  | 'setProgressHandler'
  | 'setTraceCallback'
  | 'serialize'
  | 'deserialize'
  | 'backup'
  | 'vectorIndex'
  | 'history'
  | 'close';

/** What the worker exposes through Comlink (setup; session calls use {@link SessionCall}). */
export interface WorkerApi {
  open(database: string, request: OpenRequest): Promise<Reply<Opened>>;
  importDatabase(database: string, bytes: Uint8Array): Promise<Reply<void>>;
  /** The storages this worker can open, default first. */
  storages(): Promise<string[]>;
  /** Gives the worker the page's end of the synchronous callback bridge (cross-origin isolated pages). */
  attachBridge(sab: SharedArrayBuffer, port: MessagePort): Promise<void>;
}

export type { ExecOptions };

/**
 * A session call: `[seq, session id, method, ...arguments]`, the arguments as
 * in `SessionPort`, except `execute`, whose options are flattened
 * ({@link EXEC_ARGS}) so that the common call clones no object but its
 * parameters.
 */
export type SessionCall = [seq: number, id: number, method: SessionMethod, ...args: unknown[]];

/**
 * Where `execute`'s arguments sit in its {@link SessionCall}:
 * `[seq, id, 'execute', sql, params, batch, implicitBegin, textAsBytes, detectTypes, converterNames]`
 * (the last three only when one of them is set).
 */
export const EXEC_ARGS = { sql: 3, params: 4, batch: 5, implicitBegin: 6, textAsBytes: 7, detectTypes: 8, converterNames: 9 } as const;

/** The kinds of {@link SessionReply}. */
export const REPLY = {
  /** `[seq, VALUE, events, value]` */
  VALUE: 0,
  /** `[seq, ERROR, events, EngineErrorData]` */
  ERROR: 1,
  /** `[seq, EXEC, events, ...]`: an `ExecResult`, flattened as {@link EXEC_REPLY} says. */
  EXEC: 2,
  /** `[seq, FETCH, events, rows, done, rowcount, inTransaction, totalChanges]` */
  FETCH: 3,
  /**
   * `[seq, DONE, events, rowcount, lastrowid, inTransaction, totalChanges, isDml]`: an
   * `ExecResult` with no rows, no columns and no open cursor (a write), in fewer fields.
   */
  DONE: 4,
} as const;

/** Where an `ExecResult`'s fields sit in an EXEC reply. */
export const EXEC_REPLY = {
  rows: 3,
  rowcount: 4,
  lastrowid: 5,
  inTransaction: 6,
  totalChanges: 7,
  cursorId: 8,
  isDml: 9,
  /**
   * The result's columns: -1 when they are in `columns` (or null: no result
   * columns); else the slot of the page's column table that holds them, after
   * storing `columns` there when it is set ({@link COLUMN_SLOTS}).
   */
  columnSlot: 10,
  columns: 11,
  converters: 12,
} as const;

/**
 * Slots of the page's column table: a statement run again answers with the
 * slot of its columns instead of the columns themselves (the worker tracks
 * which columns each slot holds; slots are reused round-robin).
 */
export const COLUMN_SLOTS = 256;

/** A reply on the session channel: `[seq, kind, events | undefined, ...payload]` (see {@link REPLY}). */
export type SessionReply = [seq: number, kind: number, events: WorkerEvent[] | undefined, ...payload: unknown[]];

export type { ColumnInfo };
