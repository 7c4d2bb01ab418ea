/**
 * Errors raised by the engine, classified by the DB-API exception they become.
 *
 * The engine does not construct the public exception classes (they belong to
 * the API layer, and in browsers errors cross a worker boundary as plain data);
 * it names the class in `kind` and the API layer builds the exception.
 */

/** The DB-API exception classes, by name. */
export type ErrorKind =
  | 'Warning'
  | 'Error'
  | 'InterfaceError'
  | 'DatabaseError'
  | 'DataError'
  | 'OperationalError'
  | 'IntegrityError'
  | 'InternalError'
  | 'ProgrammingError'
  | 'NotSupportedError';

/** Serializable description of an engine error. */
export interface EngineErrorData {
  readonly kind: ErrorKind;
  readonly message: string;
  /** Extended SQLite result code, when the error came from SQLite. */
  readonly sqliteCode?: number;
  /** Its symbolic name, e.g. "SQLITE_CONSTRAINT_UNIQUE". */
  readonly sqliteName?: string;
  /** Set on a write-write conflict that a retry may resolve. */
  readonly retryable?: boolean;
}

export class EngineError extends Error implements EngineErrorData {
  readonly kind: ErrorKind;
  readonly sqliteCode?: number;
  readonly sqliteName?: string;
  readonly retryable?: boolean;
  constructor(data: EngineErrorData, options?: { cause?: unknown }) {
    super(data.message, options);
    this.name = 'EngineError';
    this.kind = data.kind;
    this.sqliteCode = data.sqliteCode;
    this.sqliteName = data.sqliteName;
    this.retryable = data.retryable;
  }
}

/** Primary result codes (sqlite3.h), used to classify errors. */
export const RC = {
  OK: 0,
  ERROR: 1,
  INTERNAL: 2,
  PERM: 3,
  ABORT: 4,
  BUSY: 5,
  LOCKED: 6,
  NOMEM: 7,
  READONLY: 8,
  INTERRUPT: 9,
  IOERR: 10,
  CORRUPT: 11,
  NOTFOUND: 12,
  FULL: 13,
  CANTOPEN: 14,
  PROTOCOL: 15,
  EMPTY: 16,
  SCHEMA: 17,
  TOOBIG: 18,
  CONSTRAINT: 19,
  MISMATCH: 20,
  MISUSE: 21,
  NOLFS: 22,
  AUTH: 23,
  FORMAT: 24,
  RANGE: 25,
  NOTADB: 26,
  NOTICE: 27,
  WARNING: 28,
  ROW: 100,
  DONE: 101,
} as const;

/** The DB-API class for a SQLite result code, as the `sqlite3` module maps them. */
export function kindForCode(code: number): ErrorKind {
  switch (code & 0xff) {
    case RC.INTERNAL:
    case RC.NOTFOUND:
    case RC.NOMEM:
      return 'InternalError';
    case RC.ERROR:
    case RC.PERM:
    case RC.ABORT:
    case RC.BUSY:
    case RC.LOCKED:
    case RC.READONLY:
    case RC.INTERRUPT:
    case RC.IOERR:
    case RC.FULL:
    case RC.CANTOPEN:
    case RC.PROTOCOL:
    case RC.EMPTY:
    case RC.SCHEMA:
      return 'OperationalError';
    case RC.CORRUPT:
      return 'DatabaseError';
    case RC.TOOBIG:
      return 'DataError';
    case RC.CONSTRAINT:
    case RC.MISMATCH:
      return 'IntegrityError';
    case RC.MISUSE:
    case RC.RANGE:
      return 'InterfaceError';
    default:
      return 'DatabaseError';
  }
}

export function programmingError(message: string): EngineError {
  return new EngineError({ kind: 'ProgrammingError', message });
}

export function notSupported(message: string): EngineError {
  return new EngineError({ kind: 'NotSupportedError', message });
}
