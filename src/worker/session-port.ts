/**
 * The surface of a session that the API layer talks to. In Node, Deno and edge
 * runtimes it is the in-process `Session`; in browsers, a proxy to the session
 * inside the worker. Every method may answer now or later, so callers await.
 */
import type {
  AggregateClass,
  Authorizer,
  Collation,
  ProgressHandler,
  ScalarFunction,
  TraceCallback,
  WindowClass,
} from './callbacks.js';
import type { BackupOptions, ExecOptions, ExecResult, FetchResult, SessionState, VectorIndexAction } from './session.js';
import type { BindParams } from './values.js';
import type { HistoryAction } from './time-travel.js';

type Maybe<T> = T | Promise<T>;

export interface SessionPort {
  timeoutMs: number;
  execute(sql: string, params: BindParams | undefined, opts?: ExecOptions): Promise<ExecResult>;
  fetch(cursorId: number, n: number): Maybe<FetchResult>;
  closeCursor(cursorId: number): Maybe<void>;
  executemany(sql: string, seq: Iterable<BindParams>, opts?: ExecOptions): Promise<ExecResult>;
  executescript(script: string): Promise<SessionState>;
  control(sql: string): Promise<SessionState>;
  commit(): Promise<SessionState>;
  rollback(): Promise<SessionState>;
  state(): Maybe<SessionState>;
  interrupt(): Maybe<void>;
  getLimit(category: number): Maybe<number>;
  setLimit(category: number, value: number): Maybe<number>;
  setCachedStatements(n: number): Maybe<void>;
  createFunction(name: string, nArg: number, fn: ScalarFunction | null, deterministic: boolean): Maybe<void>;
  createAggregate(name: string, nArg: number, cls: AggregateClass | null): Maybe<void>;
  createWindowFunction(name: string, nArg: number, cls: WindowClass | null): Maybe<void>;
  createCollation(name: string, fn: Collation | null): Maybe<void>;
  setAuthorizer(fn: Authorizer | null): Maybe<void>;
  setProgressHandler(fn: ProgressHandler | null, n: number): Maybe<void>;
  setTraceCallback(fn: TraceCallback | null): Maybe<void>;
  serialize(name?: string): Maybe<Uint8Array>;
  deserialize(data: Uint8Array, name?: string): Maybe<SessionState>;
  backup(target: SessionPort, opts: BackupOptions): Promise<void>;
  vectorIndex(action: VectorIndexAction, args: unknown[]): Promise<unknown>;
  /** Time travel and branches (see worker/time-travel.ts). */
  history(action: HistoryAction, args: unknown[]): Promise<unknown>;
  close(): Maybe<void>;
}
