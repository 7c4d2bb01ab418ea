/**
 * What the browser test pages (e2e/pages/) hand back to the node:test files
 * through `page.evaluate`. Everything is plain JSON so that nothing depends on
 * how Playwright serialises BigInt or typed arrays: SQL values are encoded as
 * {@link JsonCell}s, database files as base64.
 */

/** The storage backends of the browser build. */
export type Backend = 'opfs' | 'idb' | 'memory';

/** A SQL value as JSON: bigint and blob are tagged, the rest are as they came. */
export type JsonCell = null | number | string | boolean | { readonly bigint: string } | { readonly blob: string };

/** What an exception looked like in the page. */
export interface ErrorInfo {
  /** `error.name` (`IntegrityError`); class names themselves do not survive minification. */
  readonly name: string;
  readonly message: string;
  readonly sqlite_errorname: string | null;
  readonly sqlite_errorcode: number | null;
  /** instanceof checks against the module's own classes. */
  readonly is: {
    readonly Error: boolean;
    readonly DatabaseError: boolean;
    readonly IntegrityError: boolean;
    readonly OperationalError: boolean;
    readonly ProgrammingError: boolean;
    readonly DataError: boolean;
  };
  readonly stack: string;
}

/** The outcome of one check: the values it observed, or what it threw. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: ErrorInfo };

/** Check name → outcome. */
export type Report = Record<string, Outcome>;

/** Ways of handing a file to `import_database`. */
export type SourceKind = 'uint8array' | 'arraybuffer' | 'blob' | 'file' | 'response';

/** The API a test page exposes as `window.heliosE2E`. */
export interface E2EApi {
  readonly ready: true;
  /** Runs the conformance checks on one backend, from the main thread. */
  conformance(backend: Backend): Promise<Report>;
  /** `conn.storage` of a connection to `database` (closed again). */
  storageOf(database: string): Promise<string>;
  /** `sqlite3.storage_info()`. */
  storageInfo(): Promise<unknown>;
  /** Writes and commits the persistence rows (then one row left uncommitted), closes; returns the committed rows. */
  writeRows(database: string, token: string): Promise<JsonCell[][]>;
  /** Reads the persistence rows back (connects and closes). */
  readRows(database: string): Promise<JsonCell[][]>;
  /** `serialize()` of `database`, base64. */
  exportDatabase(database: string): Promise<string>;
  /** `import_database(database, source)` with the file given in base64, then every row of `table`. */
  importDatabase(database: string, base64: string, kind: SourceKind, table: string): Promise<Outcome>;
}

declare global {
  interface Window {
    heliosE2E?: E2EApi;
  }
}
