/**
 * A storage backend that keeps every file in memory: for tests, `:memory:`-like
 * databases shared by several connections, and runtimes without storage.
 */
import { StorageError, type OpenOptions, type StorageBackend, type StorageFile } from './backend.js';

/** One file's bytes: `data` is the allocation, `size` the file's length. */
interface MemoryNode {
  data: Uint8Array;
  size: number;
}

class MemoryFile implements StorageFile {
  constructor(
    private readonly path: string,
    private readonly node: MemoryNode,
    private readonly options: OpenOptions,
    /** Removes this file's name if it still names this node (used for deleteOnClose). */
    private readonly unlink: () => void,
  ) {}

  read(into: Uint8Array, offset: number): number {
    const n = Math.max(0, Math.min(into.length, this.node.size - offset));
    into.set(this.node.data.subarray(offset, offset + n));
    return n;
  }

  write(data: Uint8Array, offset: number): void {
    this.assertWritable();
    const end = offset + data.length;
    this.reserve(end);
    this.node.data.set(data, offset);
    if (end > this.node.size) this.node.size = end;
  }

  truncate(size: number): void {
    this.assertWritable();
    this.reserve(size);
    // Bytes past the old end must read as zeros if the file grows again.
    if (size < this.node.size) this.node.data.fill(0, size, this.node.size);
    this.node.size = size;
  }

  size(): number {
    return this.node.size;
  }

  flush(): void {
    // Memory is as durable as it gets: nothing to do.
  }

  close(): void {
    if (this.options.deleteOnClose) this.unlink();
  }

  private assertWritable(): void {
    if (this.options.readonly) throw new StorageError('permission', `${this.path} is open read-only`);
  }

  private reserve(size: number): void {
    if (size <= this.node.data.length) return;
    const grown = new Uint8Array(Math.max(size, this.node.data.length * 2, 4096));
    grown.set(this.node.data.subarray(0, this.node.size));
    this.node.data = grown;
  }
}

/**
 * Files in a `Map` of growable byte arrays. Deleting a file that is still open
 * behaves as on POSIX: open handles keep the bytes, the name is gone.
 *
 * @example
 * ```ts
 * const vfs = registerVfs(sqlite3, 'mem', new MemoryBackend());
 * const db = new sqlite3.oo1.DB({ filename: '/app.db', flags: 'c', vfs: vfs.name });
 * ```
 */
export class MemoryBackend implements StorageBackend {
  readonly name = 'memory';
  private readonly files = new Map<string, MemoryNode>();

  open(path: string, options: OpenOptions): StorageFile {
    let node = this.files.get(path);
    if (!node) {
      if (!options.create) throw new StorageError('not-found', `no such file: ${path}`);
      node = { data: new Uint8Array(0), size: 0 };
      this.files.set(path, node);
    }
    const opened = node;
    return new MemoryFile(path, opened, options, () => {
      if (this.files.get(path) === opened) this.files.delete(path);
    });
  }

  exists(path: string): boolean {
    return this.files.has(path);
  }

  delete(path: string): void {
    this.files.delete(path);
  }

  canonical(path: string): string {
    return path;
  }

  /** The names of the files that currently exist (for tests and tools). */
  list(): string[] {
    return [...this.files.keys()];
  }
}
