/**
 * The messages between a page and the engine's dedicated worker (carried by
 * Comlink). Every call answers with a `Reply`: never a thrown value, so an
 * engine error keeps its class data (kind, SQLite code) across the boundary,
 * and events the call produced (trace lines, backup progress) ride along in
 * order, delivered on the page before the call's promise settles.
 */
import type { EngineErrorData } from './engine-error.js';
import type { ExecOptions, SessionState } from './session.js';

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

/** What the worker exposes. */
export interface WorkerApi {
  open(database: string, request: OpenRequest): Promise<Reply<Opened>>;
  /** One session call, packed in one argument: every argument costs Comlink a wire value to clone. */
  invoke(call: readonly [id: number, method: SessionMethod, args: unknown[]]): Promise<Reply<unknown>>;
  importDatabase(database: string, bytes: Uint8Array): Promise<Reply<void>>;
  /** The storages this worker can open, default first. */
  storages(): Promise<string[]>;
  /** Gives the worker the page's end of the synchronous callback bridge (cross-origin isolated pages). */
  attachBridge(sab: SharedArrayBuffer, port: MessagePort): Promise<void>;
}

export type { ExecOptions };
