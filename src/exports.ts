/**
 * The package's public surface, shared by its entries: `index.ts` (Node, Deno,
 * edge: the engine runs in-process) and `browser.ts` (the engine runs in a
 * dedicated worker). Importing this module alone registers no runtime.
 */
export {
  connect,
  enable_callback_tracebacks,
  import_database,
  storage_info,
  type ConnectOptions,
  type HeliosMode,
  type StorageInfo,
} from './api/connect.js';
export {
  Connection,
  LEGACY_TRANSACTION_CONTROL,
  type AutocommitMode,
  type BackupOptions,
  type IsolationLevel,
  type TextFactory,
} from './api/connection.js';
export { Cursor, type BatchProgress, type ColumnDescription, type RowFactory } from './api/cursor.js';
export { Row } from './api/row.js';
export {
  Warning,
  Error,
  InterfaceError,
  DatabaseError,
  DataError,
  OperationalError,
  IntegrityError,
  InternalError,
  ProgrammingError,
  NotSupportedError,
  ConflictError,
} from './api/errors.js';
export { adapters, converters, register_adapter, register_converter, type Adapter, type Converter } from './api/adapters.js';
export { complete_statement } from './api/complete-statement.js';
export { ConnectionPool, connection_pool, type PoolOptions } from './api/pool.js';
export { object_factory } from './api/factories.js';
export * from './api/constants.js';
export type { SqlValue, BindParams } from './worker/values.js';
export type { VectorIndexOptions } from './worker/vector-index.js';
export type {
  AggregateClass,
  AggregateInstance,
  Authorizer,
  Collation,
  ScalarFunction,
  TraceCallback,
  WindowClass,
  WindowInstance,
} from './worker/callbacks.js';

/** Detect types from declared column types. */
export const PARSE_DECLTYPES = 1;
/** Detect types from column names like `x [type]`. */
export const PARSE_COLNAMES = 2;
/** The SQLite library version this package embeds. */
export const sqlite_version = '3.54.1';
export const sqlite_version_info: readonly [number, number, number] = [3, 54, 1];
/** DB-API level, parameter style and thread safety, as in the `sqlite3` module. */
export const apilevel = '2.0';
export const paramstyle = 'qmark';
/** Threads (workers) may share the module but not connections. */
export const threadsafety = 1;
/** This package's version. */
export { version } from './version.js';
