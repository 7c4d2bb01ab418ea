/**
 * A storage backend on IndexedDB, for contexts without OPFS sync handles (the
 * main thread, shared workers). IndexedDB is asynchronous and SQLite's VFS is
 * not, so each prepared file lives in memory as 64 KiB blocks: `prepare` loads
 * them, writes mark blocks dirty, and `flush()` starts one readwrite
 * transaction storing the dirty blocks and the file's size.
 *
 * Ordering makes this crash-consistent. All transactions here have the same
 * scope, and IndexedDB runs readwrite transactions with overlapping scope one
 * at a time, in creation order, each atomically: what is stored is always the
 * state after some prefix of the flushes. So the commit log is durable before
 * the checkpoint's writes to the database file, and its reset after them, in
 * the order the MVCC layer flushed them. A failed flush (quota, abort) breaks
 * the prefix: the later transactions of that database are aborted and the
 * database fails from then on, so nothing in memory silently diverges from the
 * last durable state, which is what IndexedDB keeps.
 */
import { StorageError, type OpenOptions, type StorageBackend, type StorageFile } from './backend.js';
import { BlockImage } from './block-image.js';
import { canonicalPath, errorName, isQuotaError, KeyedQueue, messageOf } from './browser-util.js';

const BLOCK_SIZE = 64 * 1024;
const SCHEMA_VERSION = 1;
/** Blocks keyed by [file, block index]; the last one may be short, all-zero ones may be absent. */
const BLOCKS = 'blocks';
/** `StoredMeta` keyed by file name: a file exists iff it has one. */
const FILES = 'files';

interface StoredMeta {
  readonly size: number;
  /** Recorded so that a later version can change the block size and still read old files. */
  readonly blockSize: number;
}

export interface IdbBackendOptions {
  /** IndexedDB database name. Default 'heliosdb'. */
  readonly database?: string;
  /** Default: the global `indexedDB`. */
  readonly factory?: IDBFactory;
  /**
   * Default 'strict': a flush is durable when its transaction completes.
   * Chromium's own default ('relaxed') may lose the last flushes on power loss.
   */
  readonly durability?: IDBTransactionDurability;
}

/** The files prepared together with one database; they fail together. */
interface IdbGroup {
  readonly files: Set<string>;
  /** Set when a transaction failed: every later operation throws it. */
  failure: StorageError | null;
  /** Unfinished transactions, oldest first. */
  readonly pending: Set<IDBTransaction>;
  /** Settles (never rejects) once every transaction started so far has finished. */
  settled: Promise<void>;
}

/** One file's working copy. */
interface IdbNode {
  readonly path: string;
  readonly group: IdbGroup;
  readonly image: BlockImage;
  exists: boolean;
  /** Bumped by `delete`: files opened before it fail rather than write into a later incarnation. */
  generation: number;
}

function isStoredMeta(v: unknown): v is StoredMeta {
  const { size, blockSize } = (typeof v === 'object' && v !== null ? v : {}) as Partial<Record<keyof StoredMeta, unknown>>;
  return Number.isSafeInteger(size) && (size as number) >= 0 && blockSize === BLOCK_SIZE;
}

/** All stored blocks of `path` from block `from` on. */
function blockRange(path: string, from = 0): IDBKeyRange {
  return IDBKeyRange.bound([path, from], [path, Infinity]);
}

/** Resolves on the transaction's 'complete', rejects with its error on 'abort' (request errors abort it). */
function completion(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new StorageError('io', 'IndexedDB transaction aborted'));
  });
}

function failureOf(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  if (!isQuotaError(e)) return new StorageError('io', `${what}: ${errorName(e) ?? 'Error'}: ${messageOf(e)}`, { cause: e });
  const advice =
    'IndexedDB keeps the last durable state; close the database, free space (or ask for persistent storage), open it again';
  const quota = "the origin's storage quota is exhausted (QuotaExceededError)";
  return new StorageError('no-space', `${what}: ${quota}. ${advice}`, { cause: e });
}

function notPrepared(path: string): StorageError {
  const why = 'before SQLite opens it (its contents are loaded asynchronously)';
  return new StorageError('io', `IndexedDB file ${path} is not prepared: await backend.prepare(databasePath, siblings) ${why}`);
}

class IdbFile implements StorageFile {
  constructor(
    private readonly backend: IdbBackend,
    private readonly node: IdbNode,
    private readonly generation: number,
    private readonly options: OpenOptions,
  ) {}

  read(into: Uint8Array, offset: number): number {
    return this.live().image.read(into, offset);
  }

  write(data: Uint8Array, offset: number): void {
    this.writable().image.write(data, offset);
  }

  truncate(size: number): void {
    this.writable().image.resize(size);
  }

  size(): number {
    return this.live().image.size;
  }

  /** Starts the transaction that stores this file's changes; durable once it completes. */
  flush(): void {
    this.backend.persist(this.live());
  }

  async flushAsync(): Promise<void> {
    const group = this.live().group;
    this.backend.persist(this.node);
    await group.settled;
    if (group.failure !== null) throw group.failure;
  }

  close(): void {
    if (this.options.deleteOnClose && this.backend.isCurrent(this.node) && this.node.generation === this.generation) {
      this.backend.delete(this.node.path);
    }
  }

  private live(): IdbNode {
    const { node } = this;
    if (!this.backend.isCurrent(node)) throw new StorageError('io', `${node.path} was released (its database was closed)`);
    if (node.group.failure !== null) throw node.group.failure;
    if (node.generation !== this.generation) throw new StorageError('io', `${node.path} was deleted while open`);
    return node;
  }

  private writable(): IdbNode {
    if (this.options.readonly) throw new StorageError('permission', `${this.node.path} is open read-only`);
    return this.live();
  }
}

/**
 * Files in IndexedDB (database 'heliosdb', stores 'blocks' and 'files'), held
 * in memory between `prepare` and `release`. The whole database and its side
 * files must fit in memory. One tab or worker at a time may have a database
 * prepared: two working copies would overwrite each other's flushes (the
 * engine's tab coordination must ensure a single owner).
 *
 * @example
 * ```ts
 * const backend = new IdbBackend();
 * await backend.prepare('app/main.db', ['-hlog']);
 * const vfs = registerVfs(sqlite3, 'idb-helios', new MvccBackend(backend));
 * // … open 'app/main.db' with that VFS; after the last connection closed:
 * await backend.release('app/main.db');
 * ```
 */
export class IdbBackend implements StorageBackend {
  readonly name = 'idb';
  private readonly nodes = new Map<string, IdbNode>();
  private readonly groups = new Map<string, IdbGroup>();
  private readonly queue = new KeyedQueue();
  private connection: IDBDatabase | null = null;
  private connecting: Promise<IDBDatabase> | null = null;
  private readonly database: string;
  private readonly durability: IDBTransactionDurability;

  constructor(private readonly options: IdbBackendOptions = {}) {
    this.database = options.database ?? 'heliosdb';
    this.durability = options.durability ?? 'strict';
  }

  /**
   * Loads `path` and every `path + sibling` into memory (after any transaction
   * of an earlier release of them). Preparing again loads siblings not loaded
   * yet; a database whose storage failed must be released first.
   */
  prepare(path: string, siblings: readonly string[]): Promise<void> {
    const key = canonicalPath(path);
    const names = [key, ...siblings.map((s) => canonicalPath(path + s))];
    return this.queue.run(key, async () => {
      if (key === '') throw new StorageError('is-directory', `prepare '${path}': an empty path names no file`);
      const existing = this.groups.get(key);
      if (existing?.failure) throw existing.failure;
      const db = await this.connect();
      const group = existing ?? { files: new Set<string>(), failure: null, pending: new Set(), settled: Promise.resolve() };
      const wanted = [...new Set(names)].filter((n) => !this.nodes.has(n));
      const loaded = await this.load(db, wanted, group);
      for (const node of loaded) {
        this.nodes.set(node.path, node);
        group.files.add(node.path);
      }
      this.groups.set(key, group);
    });
  }

  /**
   * Stores what was never flushed, waits for every pending transaction and
   * drops the working copies. Rejects with the database's storage failure, if
   * any (after dropping them all the same).
   */
  release(path: string): Promise<void> {
    const key = canonicalPath(path);
    return this.queue.run(key, async () => {
      const group = this.groups.get(key);
      if (group === undefined) return;
      let failure: StorageError | null = null;
      for (const name of group.files) {
        const node = this.nodes.get(name);
        try {
          if (node !== undefined && group.failure === null) this.persist(node);
        } catch (e) {
          failure ??= failureOf(e, `release ${name}`);
        }
        this.nodes.delete(name);
      }
      this.groups.delete(key);
      await group.settled;
      failure = group.failure ?? failure;
      if (failure !== null) throw failure;
    });
  }

  open(path: string, options: OpenOptions): StorageFile {
    const node = this.node(path);
    if (!node.exists) {
      if (!options.create || options.readonly) throw new StorageError('not-found', `no such file: ${node.path}`);
      node.exists = true;
      // Stored at the next flush even if nothing is written: the file exists.
      node.image.clear(true);
    }
    return new IdbFile(this, node, node.generation, options);
  }

  /** Whether a prepared file exists; false for files that were never prepared. */
  exists(path: string): boolean {
    const node = this.nodes.get(canonicalPath(path));
    if (node?.group.failure) throw node.group.failure;
    return node?.exists ?? false;
  }

  /**
   * Drops the file's working copy at once and removes it from IndexedDB in a
   * transaction ordered after the earlier flushes. `syncDir` changes nothing:
   * that ordering already keeps a crash from undoing the removal but not
   * what came after it.
   */
  delete(path: string): void {
    const node = this.node(path);
    if (!node.exists) return;
    node.image.clear(false);
    node.exists = false;
    node.generation++;
    this.transaction(node, (blocks, files) => {
      blocks.delete(blockRange(node.path));
      files.delete(node.path);
    });
  }

  canonical(path: string): string {
    return canonicalPath(path);
  }

  /** @internal Whether `node` is still the prepared copy of its file (not released). */
  isCurrent(node: IdbNode): boolean {
    return this.nodes.get(node.path) === node;
  }

  /** @internal Starts one transaction storing the node's changes, if it has any. */
  persist(node: IdbNode): void {
    if (node.group.failure !== null) throw node.group.failure;
    const changes = node.exists ? node.image.takeChanges() : null;
    if (changes === null) return;
    this.transaction(node, (blocks, files) => {
      // Requests run in order: stale blocks go before the new ones are stored.
      if (changes.dropFrom !== null) blocks.delete(blockRange(node.path, changes.dropFrom));
      // `put` copies synchronously, so later writes to the image do not leak in.
      for (const [index, data] of changes.blocks) blocks.put(data, [node.path, index]);
      const meta: StoredMeta = { size: changes.size, blockSize: BLOCK_SIZE };
      files.put(meta, node.path);
    });
  }

  private node(path: string): IdbNode {
    const node = this.nodes.get(canonicalPath(path));
    if (node === undefined) throw notPrepared(canonicalPath(path));
    if (node.group.failure !== null) throw node.group.failure;
    return node;
  }

  /** Starts a readwrite transaction for `node`'s group; its failure fails the group. */
  private transaction(node: IdbNode, fill: (blocks: IDBObjectStore, files: IDBObjectStore) => void): void {
    const group = node.group;
    const what = `storing ${node.path} in IndexedDB '${this.database}'`;
    let tx: IDBTransaction | undefined;
    try {
      if (this.connection === null) throw new StorageError('io', 'the IndexedDB connection was closed');
      tx = this.connection.transaction([BLOCKS, FILES], 'readwrite', { durability: this.durability });
      fill(tx.objectStore(BLOCKS), tx.objectStore(FILES));
    } catch (e) {
      const error = failureOf(e, what);
      this.fail(group, error);
      tx?.abort();
      throw group.failure ?? error;
    }
    const started = tx;
    group.pending.add(started);
    const done = completion(started).then(
      () => {
        group.pending.delete(started);
      },
      (e: unknown) => {
        group.pending.delete(started);
        this.fail(group, failureOf(e, what));
      },
    );
    group.settled = group.settled.then(() => done);
  }

  /**
   * Marks the group failed and aborts its later transactions: they queue
   * behind the failed one and have not started, so none of them commits over
   * the gap it leaves.
   */
  private fail(group: IdbGroup, error: StorageError): void {
    if (group.failure !== null) return;
    group.failure = error;
    for (const tx of group.pending) {
      try {
        tx.abort();
      } catch {
        // abort() throws only InvalidStateError, for a transaction that is already
        // committing or finished: its own events settle it.
      }
    }
  }

  private async load(db: IDBDatabase, names: readonly string[], group: IdbGroup): Promise<IdbNode[]> {
    const tx = db.transaction([BLOCKS, FILES], 'readonly');
    const blocks = tx.objectStore(BLOCKS);
    const files = tx.objectStore(FILES);
    const requests = names.map((name) => ({
      name,
      meta: files.get(name),
      keys: blocks.getAllKeys(blockRange(name)),
      values: blocks.getAll(blockRange(name)),
    }));
    try {
      await completion(tx);
    } catch (e) {
      throw failureOf(e, `loading ${names.join(', ')} from IndexedDB '${this.database}'`);
    }
    return requests.map(({ name, meta, keys, values }) => {
      const node: IdbNode = { path: name, group, image: new BlockImage(BLOCK_SIZE), exists: false, generation: 0 };
      const stored: unknown = meta.result;
      if (stored === undefined) return node;
      const malformed = (what: string): StorageError =>
        new StorageError('io', `IndexedDB '${this.database}' holds a malformed or unknown ${what} for ${name}`);
      if (!isStoredMeta(stored)) throw malformed('size record');
      node.exists = true;
      node.image.loadSize(stored.size);
      keys.result.forEach((k, i) => {
        const index = Array.isArray(k) ? k[1] : undefined;
        const data: unknown = values.result[i];
        if (typeof index !== 'number' || !(data instanceof Uint8Array) || data.length > BLOCK_SIZE) throw malformed('block');
        node.image.loadBlock(index, data);
      });
      return node;
    });
  }

  private connect(): Promise<IDBDatabase> {
    if (this.connecting !== null) return this.connecting;
    const attempt = new Promise<IDBDatabase>((resolve, reject) => {
      const factory = this.options.factory ?? (typeof indexedDB === 'undefined' ? undefined : indexedDB);
      if (factory === undefined) throw new StorageError('io', 'IndexedDB is not available here');
      const request = factory.open(this.database, SCHEMA_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains(BLOCKS)) db.createObjectStore(BLOCKS);
        if (!db.objectStoreNames.contains(FILES)) db.createObjectStore(FILES);
      };
      request.onsuccess = () => {
        const db = request.result;
        // Another tab deletes or upgrades the database: let it, and fail loudly here.
        db.onversionchange = () => {
          db.close();
          this.lost(db, 'another tab or worker deleted or upgraded it');
        };
        db.onclose = () => this.lost(db, 'the browser closed the connection (storage cleared?)');
        this.connection = db;
        resolve(db);
      };
      request.onerror = () => reject(failureOf(request.error, `opening IndexedDB database '${this.database}'`));
    });
    this.connecting = attempt;
    // A failed attempt is not cached: the next prepare tries again (the caller got the error).
    attempt.catch(() => {
      if (this.connecting === attempt) this.connecting = null;
    });
    return attempt;
  }

  /** The connection is gone: every prepared database fails, as its flushes can no longer be stored. */
  private lost(db: IDBDatabase, why: string): void {
    if (this.connection !== db) return;
    this.connection = null;
    this.connecting = null;
    const error = new StorageError('io', `IndexedDB database '${this.database}' is no longer usable: ${why}`);
    for (const group of this.groups.values()) this.fail(group, error);
  }
}
