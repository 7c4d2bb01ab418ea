/**
 * A storage backend on the Origin Private File System, through
 * `FileSystemSyncAccessHandle`: synchronous reads and writes on real files,
 * which is what SQLite's synchronous VFS needs. Sync access handles exist only
 * in dedicated workers; elsewhere use `IdbBackend`.
 *
 * Handles can only be had asynchronously, so `prepare(path, siblings)` opens
 * them all before SQLite opens the database; `open`, `exists` and `delete` are
 * then synchronous lookups. A handle is exclusive per file (another tab or
 * worker gets NoModificationAllowedError), so `release` closes them when the
 * last connection is gone.
 */
import { StorageError, type OpenOptions, type StorageBackend, type StorageErrorCode, type StorageFile } from './backend.js';
import { canonicalPath, errorName, KeyedQueue, messageOf } from './browser-util.js';

/** The members of `FileSystemSyncAccessHandle` used here (worker-only: not in the DOM lib). */
export interface OpfsSyncAccessHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** The member of `FileSystemFileHandle` used here. */
export interface OpfsFileHandle {
  createSyncAccessHandle(): Promise<OpfsSyncAccessHandle>;
}

/** The members of `FileSystemDirectoryHandle` used here. */
export interface OpfsDirectory {
  getDirectoryHandle(name: string, options: { create: boolean }): Promise<OpfsDirectory>;
  getFileHandle(name: string, options: { create: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string): Promise<void>;
}

export interface OpfsBackendOptions {
  /**
   * The directory that paths are relative to. Default: the OPFS root
   * (`navigator.storage.getDirectory()`). Tests pass a stand-in.
   */
  readonly root?: () => Promise<OpfsDirectory>;
  /**
   * How long `prepare` keeps trying while another tab or worker still holds a
   * file's handle, in ms (a closing holder needs 25–45 ms to let go). Default 2000.
   */
  readonly busyTimeoutMs?: number;
}

const codeForDomError: Readonly<Record<string, StorageErrorCode>> = {
  NotFoundError: 'not-found',
  TypeMismatchError: 'is-directory',
  NotAllowedError: 'permission',
  SecurityError: 'permission',
  QuotaExceededError: 'no-space',
};

/** Wraps an OPFS error in a `StorageError` whose code the VFS maps to a SQLite code. */
function toStorageError(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const name = errorName(e);
  const code = (name !== undefined ? codeForDomError[name] : undefined) ?? 'io';
  const detail =
    code === 'no-space'
      ? "the origin's storage quota is exhausted (QuotaExceededError); the write was refused and the file keeps its " +
        'previous contents. Free space, or ask for persistent storage (navigator.storage.persist())'
      : `${name ?? 'Error'}: ${messageOf(e)}`;
  return new StorageError(code, `${what}: ${detail}`, { cause: e });
}

function notPrepared(path: string): StorageError {
  const why = 'before SQLite opens it (sync access handles can only be opened asynchronously)';
  return new StorageError('io', `OPFS file ${path} is not prepared: await backend.prepare(databasePath, siblings) ${why}`);
}

/** One prepared file: its handle lives from `prepare` to `release`. */
interface OpfsEntry {
  readonly path: string;
  readonly dir: OpfsDirectory;
  readonly leaf: string;
  /** Null once released: files still open then fail instead of touching a closed handle. */
  handle: OpfsSyncAccessHandle | null;
  /**
   * Whether the file exists for SQLite. `prepare` creates every file it is
   * given (a handle needs an entry), so the OPFS entry alone says nothing:
   * this is true if it existed before `prepare` or was opened with `create`
   * since, and false after `delete`.
   */
  exists: boolean;
  /** Bumped by `delete`: files opened before it fail rather than write into a later incarnation. */
  generation: number;
}

class OpfsFile implements StorageFile {
  constructor(
    private readonly backend: OpfsBackend,
    private readonly entry: OpfsEntry,
    private readonly generation: number,
    private readonly options: OpenOptions,
  ) {}

  read(into: Uint8Array, offset: number): number {
    // The handle reads what is there: a short count at the end, as the caller expects.
    return this.use('read', false, (h) => h.read(into, { at: offset }));
  }

  write(data: Uint8Array, offset: number): void {
    const written = this.use('write', true, (h) => h.write(data, { at: offset }));
    if (written !== data.length) {
      throw new StorageError('io', `write to ${this.entry.path}: ${written} of ${data.length} bytes written at ${offset}`);
    }
  }

  truncate(size: number): void {
    this.use('truncate', true, (h) => h.truncate(size));
  }

  size(): number {
    return this.use('size of', false, (h) => h.getSize());
  }

  flush(): void {
    this.use('flush', false, (h) => h.flush());
  }

  close(): void {
    // Nothing to close per file: the handle is shared and belongs to `prepare`/`release`.
    if (this.options.deleteOnClose && this.entry.handle !== null && this.entry.generation === this.generation) {
      this.backend.delete(this.entry.path);
    }
  }

  /** Runs `op` on the handle, if this file may still use it, turning errors into `StorageError`s. */
  private use<T>(verb: string, writes: boolean, op: (handle: OpfsSyncAccessHandle) => T): T {
    const { entry } = this;
    if (writes && this.options.readonly) throw new StorageError('permission', `${entry.path} is open read-only`);
    if (entry.handle === null) throw new StorageError('io', `${entry.path} was released (its database was closed)`);
    if (entry.generation !== this.generation) throw new StorageError('io', `${entry.path} was deleted while open`);
    try {
      return op(entry.handle);
    } catch (e) {
      throw toStorageError(e, `${verb} ${entry.path}`);
    }
  }
}

async function defaultRoot(): Promise<OpfsDirectory> {
  if (typeof navigator === 'undefined' || typeof navigator.storage?.getDirectory !== 'function') {
    throw new StorageError('io', 'the Origin Private File System is not available here (navigator.storage.getDirectory)');
  }
  // Checked before anything is created: pages and shared workers have OPFS, but no sync handles.
  const fileHandle = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
  if (fileHandle === undefined || !('createSyncAccessHandle' in fileHandle.prototype)) {
    throw new StorageError('io', 'OPFS sync access handles exist only in dedicated workers; use IdbBackend here');
  }
  // The DOM lib types file handles without the worker-only member checked above.
  return (await navigator.storage.getDirectory()) as unknown as OpfsDirectory;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Files in the Origin Private File System, for a dedicated worker. Paths are
 * relative to the OPFS root ('/app/main.db' and 'app/main.db' are the same
 * file); their directories are created as needed.
 *
 * @example
 * ```ts
 * // In a dedicated worker:
 * const backend = new OpfsBackend();
 * await backend.prepare('app/main.db', ['-hlog']);
 * const vfs = registerVfs(sqlite3, 'opfs-helios', new MvccBackend(backend));
 * // … open 'app/main.db' with that VFS; after the last connection closed:
 * await backend.release('app/main.db');
 * ```
 */
export class OpfsBackend implements StorageBackend {
  readonly name = 'opfs';
  private readonly entries = new Map<string, OpfsEntry>();
  /** Prepared databases (canonical main path) and the files prepared with each. */
  private readonly groups = new Map<string, Set<string>>();
  private readonly queue = new KeyedQueue();
  private readonly root: () => Promise<OpfsDirectory>;
  private readonly busyTimeoutMs: number;

  constructor(options: OpfsBackendOptions = {}) {
    this.root = options.root ?? defaultRoot;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 2000;
  }

  /**
   * Opens handles for `path` and every `path + sibling`, creating the files
   * (and directories) that do not exist yet: a sibling SQLite creates later
   * (the commit log) then opens synchronously. Files created here stay
   * "missing" for `exists`/`open` until opened with `create`, and are removed
   * again by `release` if that never happens. Preparing again adds siblings
   * not prepared yet. On failure nothing of this call stays open.
   */
  prepare(path: string, siblings: readonly string[]): Promise<void> {
    const key = canonicalPath(path);
    const names = new Set([key, ...siblings.map((s) => canonicalPath(path + s))]);
    return this.queue.run(key, async () => {
      if (key === '') throw new StorageError('is-directory', `prepare '${path}': the OPFS root is a directory, not a file`);
      const opened: OpfsEntry[] = [];
      try {
        for (const name of names) if (!this.entries.has(name)) opened.push(await this.openEntry(name));
      } catch (e) {
        for (const entry of opened) entry.handle?.close();
        // Best effort: an empty file left behind reads as an empty database or an
        // absent commit log, so a failed removal costs nothing but a name.
        await Promise.allSettled(opened.filter((o) => !o.exists).map((o) => o.dir.removeEntry(o.leaf)));
        throw toStorageError(e, `prepare ${key}`);
      }
      const group = this.groups.get(key) ?? new Set<string>();
      for (const entry of opened) {
        this.entries.set(entry.path, entry);
        group.add(entry.path);
      }
      this.groups.set(key, group);
    });
  }

  /**
   * Flushes and closes every handle `prepare` opened for `path`, so that
   * another tab or worker can open the files, and removes the entries of files
   * that are missing (deleted, or never created). Files still open fail from
   * then on. Rejects with the first error met, after releasing everything.
   */
  release(path: string): Promise<void> {
    const key = canonicalPath(path);
    return this.queue.run(key, async () => {
      const group = this.groups.get(key);
      if (group === undefined) return;
      this.groups.delete(key);
      const errors: StorageError[] = [];
      const missing: OpfsEntry[] = [];
      for (const name of group) {
        const entry = this.entries.get(name);
        this.entries.delete(name);
        if (entry === undefined || entry.handle === null) continue;
        const handle = entry.handle;
        entry.handle = null;
        try {
          try {
            if (entry.exists) handle.flush();
          } finally {
            handle.close();
          }
        } catch (e) {
          errors.push(toStorageError(e, `release ${name}`));
        }
        if (!entry.exists) missing.push(entry);
      }
      // Only now, with the handles closed, can the entries go.
      for (const entry of missing) {
        try {
          await entry.dir.removeEntry(entry.leaf);
        } catch (e) {
          // Gone already, or another tab or worker opened it meanwhile: it is theirs now.
          const why = errorName(e);
          if (why === 'NotFoundError' || why === 'NoModificationAllowedError') continue;
          errors.push(toStorageError(e, `remove ${entry.path}`));
        }
      }
      if (errors.length > 0) throw errors[0];
    });
  }

  open(path: string, options: OpenOptions): StorageFile {
    const name = canonicalPath(path);
    const entry = this.entries.get(name);
    if (entry === undefined || entry.handle === null) throw notPrepared(name);
    if (!entry.exists) {
      if (!options.create || options.readonly) throw new StorageError('not-found', `no such file: ${name}`);
      entry.exists = true;
    }
    return new OpfsFile(this, entry, entry.generation, options);
  }

  /** Whether a prepared file exists; false for files that were never prepared. */
  exists(path: string): boolean {
    return this.entries.get(canonicalPath(path))?.exists ?? false;
  }

  /**
   * Deletes a prepared file at once as far as SQLite can tell: it is emptied
   * and reported missing, and `open` with `create` brings it back. Its OPFS
   * entry goes at `release`, once the handle is closed (an entry with an open
   * sync handle cannot be removed). A crash before that leaves an empty file,
   * which reads as an empty database or an absent commit log.
   */
  delete(path: string, syncDir = false): void {
    const name = canonicalPath(path);
    const entry = this.entries.get(name);
    if (entry === undefined || entry.handle === null) throw notPrepared(name);
    if (!entry.exists) return;
    try {
      entry.handle.truncate(0);
      if (syncDir) entry.handle.flush();
    } catch (e) {
      throw toStorageError(e, `delete ${name}`);
    }
    entry.exists = false;
    entry.generation++;
  }

  canonical(path: string): string {
    return canonicalPath(path);
  }

  /**
   * Opens `name`'s sync handle, creating the file if needed, and waits up to
   * `busyTimeoutMs` while another tab or worker holds it. The file is looked up
   * afresh on every attempt: the holder may remove it when it lets go.
   */
  private async openEntry(name: string): Promise<OpfsEntry> {
    const segments = name.split('/');
    const leaf = segments.pop() as string;
    let dir = await this.root();
    for (const segment of segments) dir = await dir.getDirectoryHandle(segment, { create: true });
    const start = Date.now();
    let created = false;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      let found = true;
      let file: OpfsFileHandle;
      try {
        file = await dir.getFileHandle(leaf, { create: false });
      } catch (e) {
        if (errorName(e) !== 'NotFoundError') throw e;
        found = false;
        created = true;
        file = await dir.getFileHandle(leaf, { create: true });
      }
      try {
        const handle = await file.createSyncAccessHandle();
        // A file created by an earlier attempt is still missing unless someone wrote to it since.
        const exists = found && !(created && handle.getSize() === 0);
        return { path: name, dir, leaf, handle, exists, generation: 0 };
      } catch (e) {
        const why = errorName(e);
        if (why !== 'NoModificationAllowedError' && why !== 'NotFoundError') throw e;
        const waited = Date.now() - start;
        if (waited >= this.busyTimeoutMs) {
          throw new StorageError(
            'io',
            `open ${name}: the file is open in another tab or worker (OPFS allows one sync access handle per file; ` +
              `waited ${waited} ms)`,
            { cause: e },
          );
        }
        await sleep(Math.min(delay, this.busyTimeoutMs - waited));
      }
    }
  }
}
