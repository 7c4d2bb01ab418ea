/**
 * The DB-API 2.0 exception hierarchy of the `sqlite3` module:
 *
 *     Warning
 *     Error
 *       InterfaceError
 *       DatabaseError
 *         DataError, OperationalError, IntegrityError,
 *         InternalError, ProgrammingError, NotSupportedError
 *
 * Errors raised by SQLite carry `sqlite_errorcode` (the extended result code)
 * and `sqlite_errorname` (e.g. "SQLITE_CONSTRAINT_UNIQUE").
 */
import { EngineError, type ErrorKind } from '../worker/engine-error.js';

export class Warning extends globalThis.Error {
  override name = 'Warning';
}

class DbApiError extends globalThis.Error {
  override name = 'Error';
  /** The extended SQLite result code, when SQLite raised the error. */
  sqlite_errorcode: number | undefined = undefined;
  /** The symbolic name of `sqlite_errorcode`. */
  sqlite_errorname: string | undefined = undefined;
}
export { DbApiError as Error };

export class InterfaceError extends DbApiError {
  override name = 'InterfaceError';
}
export class DatabaseError extends DbApiError {
  override name = 'DatabaseError';
}
export class DataError extends DatabaseError {
  override name = 'DataError';
}
export class OperationalError extends DatabaseError {
  override name = 'OperationalError';
}
export class IntegrityError extends DatabaseError {
  override name = 'IntegrityError';
}
export class InternalError extends DatabaseError {
  override name = 'InternalError';
}
export class ProgrammingError extends DatabaseError {
  override name = 'ProgrammingError';
}
export class NotSupportedError extends DatabaseError {
  override name = 'NotSupportedError';
}

/**
 * A write-write conflict between concurrent transactions: another connection
 * committed after this transaction's snapshot was taken, so it cannot commit
 * as it stands. Retrying the whole transaction resolves it;
 * `Connection.transaction(fn)` does so automatically.
 */
export class ConflictError extends OperationalError {
  override name = 'ConflictError';
  readonly retryable = true;
}

const classes: Record<ErrorKind, new (message: string, options?: { cause?: unknown }) => globalThis.Error> = {
  Warning,
  Error: DbApiError,
  InterfaceError,
  DatabaseError,
  DataError,
  OperationalError,
  IntegrityError,
  InternalError,
  ProgrammingError,
  NotSupportedError,
};

/** Turns an engine error (or error data that crossed a worker boundary) into the DB-API exception. */
export function toDbApiError(e: unknown): unknown {
  if (!(e instanceof EngineError)) return e;
  const Cls = e.retryable ? ConflictError : (classes[e.kind] ?? DatabaseError);
  const err = new Cls(e.message, { cause: e.cause });
  if (err instanceof DbApiError) {
    err.sqlite_errorcode = e.sqliteCode;
    err.sqlite_errorname = e.sqliteName;
  }
  return err;
}

/** Runs `fn`, translating engine errors into DB-API exceptions. */
export async function translate<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toDbApiError(e);
  }
}
