/**
 * A storage backend over Node's synchronous `node:fs` calls: real files on disk,
 * readable by the `sqlite3` CLI, Python and any other SQLite.
 *
 * Node-only (it imports `node:fs`): import it from Node, Deno or Bun code only.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
  statSync,
  accessSync,
  unlinkSync,
  writeSync,
  fdatasync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StorageError, type OpenOptions, type StorageBackend, type StorageErrorCode, type StorageFile } from './backend.js';

/** The members of Node's `ErrnoException` this file reads. */
interface ErrnoLike {
  readonly code?: string;
}

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error ? (e as ErrnoLike).code : undefined;
}

const codeForErrno: Readonly<Record<string, StorageErrorCode>> = {
  ENOENT: 'not-found',
  ENOTDIR: 'not-found',
  EACCES: 'permission',
  EPERM: 'permission',
  EROFS: 'permission',
  ENOSPC: 'no-space',
  EDQUOT: 'no-space',
  EISDIR: 'is-directory',
};

/** Wraps a `node:fs` error in a `StorageError` whose code says what went wrong. */
function toStorageError(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const errno = errnoCode(e);
  const code = (errno !== undefined ? codeForErrno[errno] : undefined) ?? 'io';
  const detail = e instanceof Error ? e.message : String(e);
  return new StorageError(code, `${what}: ${detail}`, { cause: e });
}

/**
 * Errors from fsync on a directory that only mean "this platform or file
 * system does not do that" (Windows, some network and FUSE file systems).
 */
const directorySyncUnsupported = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);

/**
 * Makes the creation or removal of a directory entry durable. Best effort, as in
 * SQLite's unix VFS: platforms that cannot fsync a directory are skipped; any
 * other failure is reported.
 */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch (e) {
    const errno = errnoCode(e);
    if (errno === undefined || !directorySyncUnsupported.has(errno)) throw toStorageError(e, `fsync directory ${dir}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const isWindows = process.platform === 'win32';

class NodeFile implements StorageFile {
  private fd: number;
  /** Set for a file this open created: its directory is fsynced at the first flush. */
  private directorySyncPending: boolean;

  constructor(
    private readonly path: string,
    fd: number,
    created: boolean,
    private readonly unlinkOnClose: boolean,
  ) {
    this.fd = fd;
    this.directorySyncPending = created && !unlinkOnClose;
  }

  read(into: Uint8Array, offset: number): number {
    let done = 0;
    try {
      while (done < into.length) {
        const n = readSync(this.fd, into, done, into.length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw toStorageError(e, `read ${this.path}`);
    }
    return done;
  }

  write(data: Uint8Array, offset: number): void {
    let done = 0;
    try {
      while (done < data.length) {
        done += writeSync(this.fd, data, done, data.length - done, offset + done);
      }
    } catch (e) {
      throw toStorageError(e, `write ${this.path}`);
    }
  }

  truncate(size: number): void {
    try {
      ftruncateSync(this.fd, size);
    } catch (e) {
      throw toStorageError(e, `truncate ${this.path}`);
    }
  }

  size(): number {
    try {
      return fstatSync(this.fd).size;
    } catch (e) {
      throw toStorageError(e, `stat ${this.path}`);
    }
  }

  flush(): void {
    try {
      fsyncSync(this.fd);
    } catch (e) {
      throw toStorageError(e, `fsync ${this.path}`);
    }
    if (this.directorySyncPending) {
      syncDirectory(dirname(this.path));
      this.directorySyncPending = false;
    }
  }

  /**
   * fdatasync on libuv's thread pool (the event loop keeps running): the data,
   * and any metadata needed to read it back (such as a grown size), is durable.
   */
  flushAsync(): Promise<void> {
    if (this.directorySyncPending) {
      this.flush();
      return Promise.resolve();
    }
    const fd = this.fd;
    return new Promise((resolve, reject) => {
      fdatasync(fd, (err) => (err ? reject(toStorageError(err, `fdatasync ${this.path}`)) : resolve()));
    });
  }

  close(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    try {
      closeSync(fd);
      if (this.unlinkOnClose) unlinkSync(this.path);
    } catch (e) {
      throw toStorageError(e, `close ${this.path}`);
    }
  }
}

/**
 * Files on the local file system through synchronous `node:fs` calls.
 * Paths are resolved against the current directory; a nameless temp file goes
 * to `os.tmpdir()`.
 *
 * @example
 * ```ts
 * import { NodeBackend, registerVfs } from './vfs/index.js';
 * const vfs = registerVfs(sqlite3, 'node', new NodeBackend());
 * const db = new sqlite3.oo1.DB({ filename: 'app.db', flags: 'c', vfs: vfs.name });
 * ```
 */
export class NodeBackend implements StorageBackend {
  readonly name = 'node';

  open(path: string, options: OpenOptions): StorageFile {
    const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL } = constants;
    let fd: number;
    let created = false;
    try {
      if (options.readonly) {
        fd = openSync(path, O_RDONLY);
      } else if (options.create) {
        // Exclusive first, to learn whether this call created the file; an
        // existing file is opened as is (never truncated).
        try {
          fd = openSync(path, O_RDWR | O_CREAT | O_EXCL, 0o644);
          created = true;
        } catch (e) {
          if (errnoCode(e) !== 'EEXIST') throw e;
          fd = openSync(path, O_RDWR);
        }
      } else {
        fd = openSync(path, O_RDWR);
      }
    } catch (e) {
      throw toStorageError(e, `open ${path}`);
    }
    try {
      // A read-only open of a directory succeeds on Linux; refuse it here.
      if (fstatSync(fd).isDirectory()) throw new StorageError('is-directory', `open ${path}: is a directory`);
      // As SQLite's unix VFS does: unlink a delete-on-close file at once, so a
      // crash cannot leave it behind. Windows cannot unlink an open file.
      if (options.deleteOnClose && !isWindows) unlinkSync(path);
    } catch (e) {
      closeSync(fd);
      throw toStorageError(e, `open ${path}`);
    }
    return new NodeFile(path, fd, created, options.deleteOnClose && isWindows);
  }

  exists(path: string): boolean {
    try {
      return statSync(path, { throwIfNoEntry: false }) !== undefined;
    } catch (e) {
      const error = toStorageError(e, `stat ${path}`);
      if (error.code === 'not-found') return false;
      throw error;
    }
  }

  writable(path: string): boolean {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
      return true;
    } catch (e) {
      const error = toStorageError(e, `access ${path}`);
      if (error.code === 'permission' || error.code === 'not-found') return false;
      throw error;
    }
  }

  delete(path: string, syncDir = false): void {
    try {
      unlinkSync(path);
    } catch (e) {
      const error = toStorageError(e, `delete ${path}`);
      if (error.code === 'not-found') return;
      throw error;
    }
    if (syncDir) syncDirectory(dirname(path));
  }

  canonical(path: string): string {
    return resolve(path);
  }

  tempPath(name: string): string {
    return join(tmpdir(), name);
  }
}
