/**
 * The storage backend interface: the only thing a backend implements.
 *
 * Backends move bytes and nothing else. They never see WASM memory, SQLite
 * result codes, locks or connections; the VFS adapter (`sqlite-vfs.ts`) turns
 * SQLite's pointer-based `sqlite3_io_methods` calls into these typed calls.
 * Cross-cutting concerns (locking, MVCC, encryption) wrap a backend instead of
 * being copied into each one.
 *
 * All calls are synchronous because SQLite's VFS is synchronous. A backend whose
 * medium is asynchronous (IndexedDB) keeps a synchronous working copy and
 * persists it from `flush()` onwards (see the browser backends).
 */

/** What SQLite opens a file for; backends may keep journals in memory, say. */
export type FileKind = 'main-db' | 'main-journal' | 'wal' | 'temp-db' | 'temp-journal' | 'other';

export interface OpenOptions {
  /** Create the file if it does not exist. */
  readonly create: boolean;
  /** Open without write access. */
  readonly readonly: boolean;
  /** Remove the file when it is closed (SQLITE_OPEN_DELETEONCLOSE). */
  readonly deleteOnClose: boolean;
  readonly kind: FileKind;
}

/** One open file. Offsets and sizes are byte counts below 2^53. */
export interface StorageFile {
  /**
   * Reads up to `into.length` bytes at `offset` into `into` and returns how many
   * were read; fewer than asked means the file ended (the caller zero-fills).
   */
  read(into: Uint8Array, offset: number): number;
  /** Writes all of `data` at `offset`, growing the file if needed. */
  write(data: Uint8Array, offset: number): void;
  truncate(size: number): void;
  size(): number;
  /** Makes every earlier write durable (fsync, or the medium's equivalent). */
  flush(): void;
  /**
   * The same, without blocking the thread, where the medium allows it: writes
   * completed before the call are durable when the promise resolves.
   */
  flushAsync?(): Promise<void>;
  close(): void;
}

export interface StorageBackend {
  /** Short name, reported to users ("node", "memory", "opfs", …). */
  readonly name: string;
  /** Opens (or creates) a file; throws `StorageError` with code 'not-found' etc. */
  open(path: string, options: OpenOptions): StorageFile;
  exists(path: string): boolean;
  /**
   * Removes a file; removing a missing file is not an error. With `syncDir`, the
   * removal is made durable before returning (fsync of the directory), where
   * the medium has such a notion.
   */
  delete(path: string, syncDir?: boolean): void;
  /** The canonical absolute form of a path (used as the file's identity for locking). */
  canonical(path: string): string;
  /**
   * Optional: whether an existing file may be opened for writing. When absent,
   * every existing file is taken to be writable.
   */
  writable?(path: string): boolean;
  /**
   * Optional: the path at which a temporary file called `name` should live (for
   * SQLite's nameless temp files). When absent, `name` itself is used.
   */
  tempPath?(name: string): string;
  /**
   * Optional: asynchronous set-up before the database at `path` is opened, for
   * media whose handles or data can only be had asynchronously (OPFS sync
   * access handles, IndexedDB). The engine awaits it before SQLite opens the
   * file; afterwards `open`, `exists` and `delete` for `path` and for the side
   * files named in `siblings` (`-hlog`, …) must work synchronously.
   */
  prepare?(path: string, siblings: readonly string[]): Promise<void>;
  /**
   * Optional: the database at `path` was closed by its last connection; the
   * backend may release what `prepare` acquired (OPFS handles are exclusive
   * per file). Resolves once released (pending writes persisted).
   */
  release?(path: string): Promise<void>;
  /**
   * Optional, for media that other processes can open too (files): makes this
   * engine the owner of the database at `path` until the returned function is
   * called (calls nest; node: a lock file beside it, see owner-lock.ts).
   * Throws StorageError('in-use') naming the owner when another process has it.
   */
  claim?(path: string): () => void;
}

/** What went wrong; 'in-use': the database belongs to another process (or engine). */
export type StorageErrorCode = 'not-found' | 'permission' | 'no-space' | 'is-directory' | 'in-use' | 'io';

/** The one error type backends throw; the VFS maps it to a specific SQLite code. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

/** SQLite's file lock levels (NONE 0 … EXCLUSIVE 4). */
export type LockLevel = 0 | 1 | 2 | 3 | 4;

/** Outcome of a lock request on a self-locking file. */
export type LockOutcome =
  /** Granted. */
  | 'ok'
  /** Another connection holds a conflicting lock: try again later. */
  | 'busy'
  /** The caller's snapshot is older than the latest commit: its transaction must restart. */
  | 'stale';

/**
 * A file that arbitrates its own locks, used by layers that wrap a backend
 * with their own concurrency control (MVCC). The adapter calls these instead
 * of its lock table, tells the file when SQLite commits, and refuses WAL
 * shared memory for it (the wrapping layer provides isolation itself).
 */
export interface SelfLockingFile extends StorageFile {
  readonly selfLocking: true;
  lock(level: LockLevel): LockOutcome;
  unlock(level: LockLevel): void;
  /** Whether some other connection holds a RESERVED or higher lock. */
  reservedByOther(): boolean;
  /**
   * SQLite finished committing a write transaction on this file (it sends
   * SQLITE_FCNTL_COMMIT_PHASETWO, before unlocking). Throws StorageError to
   * fail the commit.
   */
  commitPhaseTwo(): void;
}

export function isSelfLocking(f: StorageFile): f is SelfLockingFile {
  return (f as Partial<SelfLockingFile>).selfLocking === true;
}
