/**
 * Messages between the shell (main thread) and the database thread. The
 * database runs in a worker thread so that the terminal stays responsive while
 * a statement runs, and Ctrl-C can stop that statement: the shell sets a flag
 * in shared memory that the connection's progress handler reads.
 */

/**
 * A REAL value known to be one. The engine returns REAL and INTEGER values
 * alike as numbers, so an integral REAL (1.0) reads as an integer; where the
 * shell learns the type (`.dump` asks typeof()), it marks the value this way.
 */
export interface RealCell {
  readonly real: number;
}

/** A value as the engine returns it, or a REAL marked as such. */
export type Cell = null | number | bigint | string | Uint8Array | RealCell;

/** The first rows of a statement, or the next ones. */
export interface RowBatch {
  readonly rows: Cell[][];
  /** No more rows: the statement is finished. */
  readonly done: boolean;
}

export interface ExecuteResult extends RowBatch {
  /** Column names; null for statements without result columns. */
  readonly columns: string[] | null;
}

export interface OpenResult {
  /** The file the connection opened ('' for an in-memory database). */
  readonly file: string;
  readonly readonly: boolean;
}

export interface Counts {
  readonly changes: number;
  readonly totalChanges: number;
  readonly inTransaction: boolean;
}

/** What crosses back when a call fails: enough to rebuild the error's meaning. */
export interface ErrorInfo {
  /** The DB-API class name ('OperationalError', …) or 'Error'. */
  readonly kind: string;
  readonly message: string;
  /** SQLite's extended result code, when the error came from SQLite. */
  readonly code: number | null;
}

/** Each call the database thread answers: its arguments and its result. */
export interface Calls {
  open: { args: { path: string; readonly: boolean; features?: Features }; result: OpenResult };
  close: { args: Record<string, never>; result: null };
  /** Runs one statement; the first `batch` rows come back with the result. */
  execute: { args: { sql: string; batch: number }; result: ExecuteResult };
  /** More rows of the current statement. */
  fetch: { args: { batch: number }; result: RowBatch };
  /** Drops the current statement's remaining rows. */
  discard: { args: Record<string, never>; result: null };
  /** Runs one statement and returns all its rows (for the shell's own queries). */
  query: { args: { sql: string; params?: Cell[] }; result: { columns: string[]; rows: Cell[][] } };
  /** Runs `sql` once per row of `rows`; rows that fail are reported and the others kept. */
  insertMany: { args: { sql: string; rows: Cell[][] }; result: { inserted: number; failures: Array<{ index: number; error: ErrorInfo }> } };
  counts: { args: Record<string, never>; result: Counts };
  /** Copies the database `schema` to `file` (save) or `file` into it (restore), reporting progress. */
  backup: { args: { file: string; schema: string; direction: 'save' | 'restore' }; result: null };
  vectorIndexes: { args: Record<string, never>; result: Array<Record<string, unknown>> };
  /** A time travel or branch method of the connection (see HistoryMethod). */
  history: { args: { method: HistoryMethod; args: unknown[] }; result: unknown };
}

/** Connection methods of time travel and branches the shell calls. */
export type HistoryMethod =
  | 'versions'
  | 'restore_to'
  | 'set_retention'
  | 'list_branches'
  | 'create_branch'
  | 'checkout_branch'
  | 'delete_branch'
  | 'diff_branch'
  | 'merge_branch';

/** Product features to turn on when opening (connect options). */
export interface Features {
  readonly timeTravel: boolean;
  readonly branching: boolean;
  readonly branch: string | null;
}

export type CallName = keyof Calls;

export interface Request<K extends CallName = CallName> {
  readonly id: number;
  readonly call: K;
  readonly args: Calls[K]['args'];
}

export type Reply =
  | { readonly type: 'result'; readonly id: number; readonly result: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: ErrorInfo }
  | { readonly type: 'progress'; readonly id: number; readonly done: number; readonly total: number };

/** Index of the interrupt flag in the shared Int32Array. */
export const INTERRUPT_FLAG = 0;
