/**
 * `connect(database, options)`: opens a connection. Where the engine runs is
 * the runtime's business, registered by the package entry: in Node, Deno and
 * edge runtimes it runs in-process (`node-opener.ts`); in browsers in a
 * dedicated worker (`client/`). A path opens on the runtime's durable storage,
 * `opfs://`, `idb://`, `memory://` name one, ':memory:' is a private in-memory
 * database, a `file:` URI honours `mode=ro|rw|rwc|memory`.
 */
import type { CallbackErrorReporter } from '../worker/callbacks.js';
import type { SessionState } from '../worker/session.js';
import type { SessionPort } from '../worker/session-port.js';
import { Connection, LEGACY_TRANSACTION_CONTROL, checkIsolationLevel, type AutocommitMode, type IsolationLevel } from './connection.js';
import { InterfaceError, NotSupportedError, OperationalError, ProgrammingError, translate } from './errors.js';

/** What the runtime needs to open a session. */
export interface SessionRequest {
  readonly uri: boolean;
  readonly timeoutMs: number;
  readonly cachedStatements: number;
  readonly reportCallbackError: CallbackErrorReporter;
  /** Ask the browser to make the origin's storage persistent. */
  readonly persist: boolean;
  /** Load the vector engine (USearch) and allow vector index operations. */
  readonly vectorSearch: boolean;
  /** Time travel on, with an optional retention (see Connection.set_retention). */
  readonly timeTravel?: boolean | { seconds?: number | null; versions?: number | null };
  readonly branching?: boolean;
  /** The branch to open (default 'main'). */
  readonly branch?: string;
}

/** A session the runtime opened, and where its database lives. */
export interface OpenedSession {
  readonly port: SessionPort;
  readonly storage: string;
  readonly state: SessionState;
}

export type SessionOpener = (database: string, request: SessionRequest) => Promise<OpenedSession>;

/** Storage usage of the runtime (the origin's, in browsers). */
export interface StorageInfo {
  /** Bytes used. */
  readonly usage: number;
  /** Bytes available in all (the origin's quota, or the file system's size). */
  readonly quota: number;
  /** Whether the storage is safe from eviction (always true for files). */
  readonly persisted: boolean;
}

/** What a runtime provides (registered by the package entry). */
export interface Runtime {
  readonly open: SessionOpener;
  importDatabase(database: string, bytes: Uint8Array): Promise<void>;
  storageInfo(): Promise<StorageInfo>;
}

let runtime: Runtime | null = null;

/** @internal Set by the package entry for its runtime. */
export function registerRuntime(rt: Runtime): void {
  runtime = rt;
}

function currentRuntime(): Runtime {
  if (runtime === null) throw new InterfaceError('no engine is registered for this runtime (import the package entry, not api/connect.js)');
  return runtime;
}

/** Bytes of a `.db` file given as bytes, a Blob/File or a fetch Response. */
async function bytesOf(source: unknown): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const s = source as { arrayBuffer?: () => Promise<ArrayBuffer>; ok?: boolean; status?: number };
  if (s !== null && typeof s === 'object' && typeof s.arrayBuffer === 'function') {
    if (s.ok === false) throw new OperationalError(`cannot import: the response has status ${String(s.status)}`);
    return new Uint8Array(await s.arrayBuffer());
  }
  throw new ProgrammingError('source must be a Uint8Array, ArrayBuffer, Blob, File or Response');
}

/**
 * Stores an existing SQLite database file as `database` (a path, or
 * `opfs://…` / `idb://…` in browsers), replacing its contents. The database
 * must not be open. Raises DatabaseError when the bytes are not a database.
 */
export async function import_database(database: string, source: Uint8Array | ArrayBuffer | Blob | Response): Promise<void> {
  if (typeof database !== 'string') throw new ProgrammingError('database must be a string');
  const bytes = await bytesOf(source);
  const rt = currentRuntime();
  await translate(() => rt.importDatabase(database, bytes));
}

/** Storage usage and quota (browsers: the origin's; Node: the file system's). */
export async function storage_info(): Promise<StorageInfo> {
  return currentRuntime().storageInfo();
}

export type HeliosMode = 'embedded' | 'server' | 'hybrid';

export interface ConnectOptions {
  /** Seconds a statement waits for a lock before 'database is locked' (default 5.0). */
  timeout?: number;
  /** PARSE_DECLTYPES | PARSE_COLNAMES: apply registered converters. */
  detect_types?: number;
  /** '' / 'DEFERRED' (default), 'IMMEDIATE', 'EXCLUSIVE', or null for no implicit transactions. */
  isolation_level?: IsolationLevel | 'deferred' | 'immediate' | 'exclusive' | null;
  /** Accepted for compatibility; JS connections are not shared between threads. */
  check_same_thread?: boolean;
  /** A Connection subclass to instantiate. */
  factory?: new (...args: ConstructorParameters<typeof Connection>) => Connection;
  /** Size of the statement cache (default 128). */
  cached_statements?: number;
  /** Interpret `database` as a `file:` URI. Strings starting with 'file:' are always URIs. */
  uri?: boolean;
  /** true, false, or LEGACY_TRANSACTION_CONTROL (default). */
  autocommit?: AutocommitMode;
  /** Vector search: loads USearch (WASM) and allows `create_vector_index` / `vector_search()`. */
  enable_vector_search?: boolean;
  /**
   * Time travel: history is kept (default retention 7 days) and `AS OF
   * TIMESTAMP '…'` / `AS OF VERSION n` work after table references;
   * `versions()`, `restore_to()`, `set_retention()`. An object sets the
   * retention: `{ retention_seconds, retention_versions }` (null: no limit).
   */
  enable_time_travel?: boolean | { retention_seconds?: number | null; retention_versions?: number | null };
  /** Branches: `create_branch`, `checkout_branch`, `merge_branch` & co. */
  enable_branching?: boolean;
  /** The branch to open (needs enable_branching unless 'main'). */
  branch?: string;
  /** Refused with NotSupportedError until it exists. */
  encryption_key?: string | Uint8Array | null;
  heliosdb_mode?: HeliosMode;
  /** Browsers: ask for persistent storage (`navigator.storage.persist()`) so the origin's data is not evicted. */
  persist?: boolean;
}

function timeTravelOption(v: ConnectOptions['enable_time_travel']): SessionRequest['timeTravel'] {
  if (v === undefined || v === null || v === false) return false;
  if (v === true) return true;
  if (typeof v !== 'object') throw new ProgrammingError('enable_time_travel must be a boolean or { retention_seconds, retention_versions }');
  const seconds = v.retention_seconds ?? null;
  const versions = v.retention_versions ?? null;
  if (seconds !== null && !(typeof seconds === 'number' && seconds >= 0)) throw new ProgrammingError('retention_seconds must be a non-negative number or null');
  if (versions !== null && !(Number.isInteger(versions) && versions >= 0)) throw new ProgrammingError('retention_versions must be a non-negative integer or null');
  return { seconds, versions };
}

function refuseUnbuilt(options: ConnectOptions): void {
  if (options.encryption_key !== undefined && options.encryption_key !== null) {
    throw new NotSupportedError('encryption_key: encryption at rest is not available in this version of heliosdb-nano');
  }
  const mode = options.heliosdb_mode ?? 'embedded';
  if (mode !== 'embedded') {
    if (mode === 'server' || mode === 'hybrid') {
      throw new NotSupportedError(`heliosdb_mode '${mode}': the server is not available in this version of heliosdb-nano`);
    }
    throw new ProgrammingError(`heliosdb_mode must be 'embedded', 'server' or 'hybrid', not '${String(mode)}'`);
  }
}

function databaseName(database: unknown): string {
  if (typeof database === 'string') return database;
  if (database instanceof URL) {
    if (database.protocol !== 'file:') throw new ProgrammingError(`unsupported database URL scheme '${database.protocol}'`);
    return decodeURIComponent(database.pathname);
  }
  throw new ProgrammingError('database must be a string or a file URL');
}

/**
 * Opens a connection.
 *
 * @example
 * ```ts
 * import * as sqlite3 from 'heliosdb-nano';
 * await using conn = await sqlite3.connect('app.db');
 * await conn.execute('CREATE TABLE IF NOT EXISTS t(x)');
 * await conn.execute('INSERT INTO t VALUES (?)', [42]);
 * await conn.commit();
 * const cur = await conn.execute('SELECT x FROM t');
 * console.log(await cur.fetchall());
 * ```
 */
export async function connect(database: string | URL, options: ConnectOptions = {}): Promise<Connection> {
  if (options === null || typeof options !== 'object') throw new ProgrammingError('options must be an object');
  const name = databaseName(database);
  refuseUnbuilt(options);
  const isolationLevel = checkIsolationLevel(options.isolation_level === undefined ? '' : options.isolation_level);
  const autocommit = options.autocommit ?? LEGACY_TRANSACTION_CONTROL;
  if (autocommit !== true && autocommit !== false && autocommit !== LEGACY_TRANSACTION_CONTROL) {
    throw new ProgrammingError('autocommit must be True, False, or sqlite3.LEGACY_TRANSACTION_CONTROL');
  }
  const timeout = options.timeout ?? 5.0;
  if (typeof timeout !== 'number' || !(timeout >= 0)) throw new ProgrammingError('timeout must be a non-negative number of seconds');
  const cached = options.cached_statements ?? 128;
  if (!Number.isInteger(cached) || cached < 0) throw new ProgrammingError('cached_statements must be a non-negative integer');
  const detectTypes = options.detect_types ?? 0;
  if (!Number.isInteger(detectTypes) || detectTypes < 0) throw new ProgrammingError('detect_types must be a non-negative integer');
  const branch = options.branch ?? 'main';
  if (typeof branch !== 'string' || branch === '') throw new ProgrammingError('branch must be a non-empty string');
  if (branch !== 'main' && options.enable_branching !== true) throw new ProgrammingError(`branch '${branch}': connect with { enable_branching: true } to open a branch`);
  const open = currentRuntime().open;
  const opened = await translate(() =>
    open(name, {
      uri: options.uri === true || name.startsWith('file:'),
      timeoutMs: timeout * 1000,
      cachedStatements: cached,
      reportCallbackError,
      persist: options.persist === true,
      vectorSearch: options.enable_vector_search === true,
      timeTravel: timeTravelOption(options.enable_time_travel),
      branching: options.enable_branching === true,
      branch: branch,
    }),
  );
  const Factory = options.factory ?? Connection;
  const conn = new Factory(opened.port, { database: name, isolationLevel, autocommit, detectTypes, storage: opened.storage });
  if (!(conn instanceof Connection)) {
    await opened.port.close();
    throw new ProgrammingError('factory must be a Connection subclass');
  }
  conn._absorbState(opened.state);
  conn._branch = branch;
  await conn._open();
  return conn;
}

let callbackTracebacks = false;

/** Print exceptions raised in user callbacks (functions, aggregates, authorizer…) to the console. */
export function enable_callback_tracebacks(flag: boolean): void {
  callbackTracebacks = !!flag;
}

function reportCallbackError(e: unknown): void {
  if (callbackTracebacks) console.error('Exception in user-defined callback:', e);
}
