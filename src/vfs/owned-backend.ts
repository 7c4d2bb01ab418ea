/**
 * A backend whose database files belong to one engine at a time: opening a
 * database file (`kind: 'main-db'`) claims it through `OwnerLocks` (a lock
 * file beside it, see owner-lock.ts) for as long as that file stays open, and
 * `claim(path)` lets the engine hold it across an open. Every other file
 * (the commit log, journals, temp files) passes straight through.
 *
 * Node-only through OwnerLocks.
 */
import type { OpenOptions, StorageBackend, StorageFile } from './backend.js';
import type { OwnerLocks } from './owner-lock.js';

class OwnedFile implements StorageFile {
  constructor(
    private readonly file: StorageFile,
    private readonly release: () => void,
  ) {}

  read(into: Uint8Array, offset: number): number {
    return this.file.read(into, offset);
  }

  write(data: Uint8Array, offset: number): void {
    this.file.write(data, offset);
  }

  truncate(size: number): void {
    this.file.truncate(size);
  }

  size(): number {
    return this.file.size();
  }

  flush(): void {
    this.file.flush();
  }

  flushAsync(): Promise<void> {
    if (this.file.flushAsync) return this.file.flushAsync();
    this.file.flush();
    return Promise.resolve();
  }

  close(): void {
    try {
      this.file.close();
    } finally {
      this.release();
    }
  }
}

export class OwnedBackend implements StorageBackend {
  readonly name: string;

  constructor(
    readonly inner: StorageBackend,
    private readonly locks: OwnerLocks,
  ) {
    this.name = inner.name;
  }

  /** See StorageBackend.claim. */
  claim(path: string): () => void {
    return this.locks.claim(path);
  }

  open(path: string, options: OpenOptions): StorageFile {
    if (options.kind !== 'main-db') return this.inner.open(path, options);
    // The lock comes first: a database another process owns is not even created.
    const release = this.locks.claim(path);
    try {
      return new OwnedFile(this.inner.open(path, options), release);
    } catch (e) {
      release();
      throw e;
    }
  }

  exists(path: string): boolean {
    return this.inner.exists(path);
  }

  delete(path: string, syncDir?: boolean): void {
    this.inner.delete(path, syncDir);
  }

  canonical(path: string): string {
    return this.inner.canonical(path);
  }

  writable(path: string): boolean {
    return this.inner.writable ? this.inner.writable(path) : true;
  }

  tempPath(name: string): string {
    return this.inner.tempPath ? this.inner.tempPath(name) : name;
  }
}
