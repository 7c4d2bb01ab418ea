/**
 * MVCC over any storage backend.
 *
 * Each SQLite connection that opens a database gets its own `MvccFile` on the
 * database's shared `PageStore`:
 * - taking the SHARED lock pins the latest version as the connection's
 *   snapshot; every read is served as of that version, so readers never wait
 *   and never see part of a commit;
 * - the commit slot (`store.writer`) admits one committer at a time (others
 *   get SQLITE_BUSY and are queued by the engine). A plain writer takes it with
 *   the RESERVED lock, and is refused as stale (SQLITE_BUSY_SNAPSHOT) when its
 *   snapshot is older than the latest version, as in SQLite's WAL mode;
 * - a *concurrent* writer (an explicit transaction whose row changes the engine
 *   records, see worker/txn-rebase.ts) writes on its snapshot without the slot
 *   and asks for it only at commit, with the EXCLUSIVE lock: granted when the
 *   slot is free and nothing committed since its snapshot, else SQLITE_BUSY
 *   (the transaction stays open; the engine waits, or replays its row changes
 *   on the latest version);
 * - a writer's pages go to a private overlay until SQLite's commit point
 *   (SQLITE_FCNTL_COMMIT_PHASETWO), where they become the next version in the
 *   commit log; a rollback simply drops the overlay.
 * Rollback journals live in memory: atomicity and durability come from the
 * commit log, so SQLite runs with `journal_mode=MEMORY`.
 */
import {
  StorageError,
  type LockLevel,
  type LockOutcome,
  type OpenOptions,
  type SelfLockingFile,
  type StorageBackend,
  type StorageFile,
} from '../vfs/backend.js';
import { MemoryBackend } from '../vfs/memory-backend.js';
import { newTxnId } from './commit-log.js';
import { PageStore, pageSizeOf, type PageStoreOptions } from './page-store.js';
import { MAIN_BRANCH, Versioning } from './versioning.js';

const NONE = 0;
const SHARED = 1;
const RESERVED = 2;

interface StoreEntry {
  readonly store: PageStore;
  readonly versioning: Versioning;
  refs: number;
}

/**
 * What the next open of a database file is for (set by the engine just
 * before SQLite opens or ATTACHes it): a branch other than main, and/or a
 * fixed past version to read (a read-only view, for `AS OF`).
 */
export interface OpenAs {
  readonly branch?: string;
  readonly version?: number;
}

function isTransient(path: string): boolean {
  return path.endsWith('-journal') || path.endsWith('-wal') || path.endsWith('-shm');
}

export class MvccBackend implements StorageBackend {
  readonly name: string;
  private readonly stores = new Map<string, StoreEntry>();
  private readonly transient = new MemoryBackend();

  constructor(
    readonly inner: StorageBackend,
    private readonly options: PageStoreOptions = {},
  ) {
    this.name = inner.name;
  }

  /** See OpenAs: consumed by the next open of a database file. */
  openAs: OpenAs | null = null;

  open(path: string, options: OpenOptions): StorageFile {
    if (options.kind === 'main-db') {
      const as = this.openAs;
      this.openAs = null;
      const key = this.inner.canonical(path);
      let entry = this.stores.get(key);
      if (entry === undefined) {
        const store = PageStore.open(this.inner, path, { ...this.options, create: options.create, readonly: options.readonly });
        let versioning: Versioning;
        try {
          versioning = new Versioning(this.inner, store);
        } catch (e) {
          store.close();
          throw e;
        }
        entry = { store, versioning, refs: 0 };
        this.stores.set(key, entry);
      } else if (!options.readonly && as?.version === undefined) {
        // Opened read-only so far: this connection's commits must reach the file.
        entry.store.makeWritable();
      }
      entry.refs++;
      const branch = as?.branch ?? MAIN_BRANCH;
      let store: PageStore;
      try {
        store = entry.versioning.acquire(branch);
      } catch (e) {
        this.releaseStore(key);
        throw e;
      }
      const file = new MvccFile(this, store, entry.versioning, key, branch, options.readonly || as?.version !== undefined);
      if (as?.version !== undefined) file.pinned = as.version;
      return file;
    }
    if (options.kind === 'main-journal' || options.kind === 'wal' || isTransient(path)) {
      return this.transient.open(path, options);
    }
    return this.inner.open(path, options);
  }

  exists(path: string): boolean {
    if (isTransient(path)) return this.transient.exists(path);
    return this.inner.exists(path);
  }

  delete(path: string, syncDir?: boolean): void {
    if (isTransient(path)) this.transient.delete(path);
    else this.inner.delete(path, syncDir);
  }

  canonical(path: string): string {
    return this.inner.canonical(path);
  }

  /** The open store for `path`, if any connection has it open. */
  storeFor(path: string): PageStore | undefined {
    return this.stores.get(this.inner.canonical(path))?.store;
  }

  /** Adds side files (a new branch's log) to what the medium prepared for the database at `path`. */
  prepareSide(path: string, suffixes: readonly string[]): Promise<void> {
    const inner = this.inner;
    if (inner.prepare === undefined) return Promise.resolve();
    return inner.prepare(path, suffixes);
  }

  /** @internal A file closed: the last one closes the store (final checkpoint). */
  releaseStore(key: string): void {
    const entry = this.stores.get(key);
    if (!entry) return;
    if (--entry.refs > 0) return;
    this.stores.delete(key);
    this.ready.delete(key);
    try {
      entry.store.close();
    } finally {
      // Media that hold handles (OPFS) let them go, so another worker may open the file.
      const released = this.inner.release?.(entry.store.path);
      if (released !== undefined) {
        // A medium that fails to store the final state (quota) keeps its last durable one, which the
        // next open finds; nobody is left to tell, so the failure must not surface as unhandled.
        const tracked = released.catch(() => undefined).finally(() => {
          if (this.releasing.get(key) === tracked) this.releasing.delete(key);
        });
        this.releasing.set(key, tracked);
      }
    }
  }

  private readonly ready = new Map<string, Promise<void>>();
  private readonly releasing = new Map<string, Promise<void>>();

  /**
   * Asynchronous set-up of the inner medium before the database at `path` is
   * first opened (see StorageBackend.prepare): the page store's side files are
   * prepared with it. Waits for an earlier release of the same file.
   */
  prepare(path: string, siblings: readonly string[] = []): Promise<void> {
    const inner = this.inner;
    if (inner.prepare === undefined) return Promise.resolve();
    const key = inner.canonical(path);
    if (this.stores.has(key)) return Promise.resolve();
    let p = this.ready.get(key);
    if (p === undefined) {
      const pending = this.releasing.get(key);
      const sides = [...new Set([...siblings, ...PageStore.SIDE_FILES, ...Versioning.SIDE_FILES])];
      const prepare = (inner.prepare as NonNullable<StorageBackend['prepare']>).bind(inner);
      p = (pending ?? Promise.resolve())
        .then(() => prepare(path, sides))
        // History and branch logs exist only when the catalog does, and are named by it.
        .then(() => {
          const more = Versioning.sideFilesOf(inner, path);
          return more.length > 0 ? prepare(path, more) : undefined;
        });
      p.catch(() => this.ready.delete(key));
      this.ready.set(key, p);
    }
    return p;
  }

  /** Resolves once every file this backend released has been let go by the medium. */
  async settled(): Promise<void> {
    await Promise.all([...this.releasing.values()].map((p) => p.catch(() => undefined)));
  }
}

/** One connection's view of a database under MVCC. */
export class MvccFile implements SelfLockingFile {
  readonly selfLocking = true;
  private level: LockLevel = NONE;
  private snapshot = -1;
  private overlay: Map<number, Uint8Array> | null = null;
  private overlayPages = 0;
  private syncRequested = false;
  private closed = false;
  /** Version of this connection's last commit that asked for durability (0: none). */
  lastDurableCommit = 0;
  /** Transaction id for this connection's next commit (a client's idempotency tag), else a fresh one. */
  nextTxnId: string | null = null;
  /**
   * Set by the engine before a transaction's first write when it records the
   * transaction's row changes: the write lock then takes no commit slot and
   * accepts an old snapshot (see the class comment).
   */
  concurrent = false;

  /** For a view of a past version (`AS OF`): the version it reads; read-only. */
  pinned: number | null = null;
  private scratch: Uint8Array | null = null;

  constructor(
    readonly backend: MvccBackend,
    public store: PageStore,
    /** Time travel and branches of this file's database. */
    readonly versioning: Versioning,
    private readonly key: string,
    /** The branch this connection reads and writes. */
    public branch: string,
    private readonly readonly: boolean,
  ) {}

  /** Whether SQLite holds any lock on this file (a statement or transaction is using it). */
  get locked(): boolean {
    return this.level !== NONE;
  }

  /**
   * Moves this connection to another branch's store (checkout). Only between
   * transactions; the engine then makes SQLite drop its page cache and schema.
   */
  switchBranch(branch: string): void {
    if (this.level !== NONE) throw new StorageError('io', 'cannot switch branches inside a transaction');
    const store = this.versioning.acquire(branch);
    this.versioning.release(this.branch);
    this.store = store;
    this.branch = branch;
  }

  private get version(): number {
    return this.snapshot >= 0 ? this.snapshot : this.store.latest;
  }

  private get dbPages(): number {
    return this.overlay !== null ? this.overlayPages : this.store.dbPagesAt(this.version);
  }

  lock(level: LockLevel): LockOutcome {
    if (level >= SHARED && this.level === NONE) {
      // A transaction starts: refuse if another program wrote the file (throttled, see foreign-guard.ts).
      this.store.guard?.check();
      this.snapshot = this.pinned ?? this.store.latest;
      this.store.pin(this.snapshot);
      this.level = SHARED;
    }
    if (level >= RESERVED && this.level < RESERVED) {
      if (this.readonly) return 'busy';
      if (!this.concurrent) {
        const outcome = this.takeSlot();
        if (outcome !== 'ok') return outcome;
      }
      this.overlay = new Map();
      this.overlayPages = this.store.dbPagesAt(this.snapshot);
      this.syncRequested = false;
    }
    if (level > RESERVED && this.store.writer !== this) {
      // A concurrent writer about to commit (or to spill its cache: SQLite then
      // just keeps the pages in memory). A stale one must be replayed first.
      if (this.reservedByOther() || this.isStale()) return 'busy';
      this.store.writer = this;
    }
    if (level > this.level) this.level = level;
    return 'ok';
  }

  private takeSlot(): LockOutcome {
    if (this.reservedByOther()) return 'busy';
    if (this.snapshot < this.store.latest) return 'stale';
    this.store.writer = this;
    return 'ok';
  }

  unlock(level: LockLevel): void {
    if (this.level >= RESERVED && level < RESERVED) {
      // Either commitPhaseTwo published the overlay, or this is a rollback.
      this.overlay = null;
      if (this.store.writer === this) this.store.writer = null;
    }
    if (level === NONE && this.level >= SHARED) {
      this.store.unpin(this.snapshot);
      this.snapshot = -1;
    }
    this.level = level;
  }

  reservedByOther(): boolean {
    const w = this.store.writer;
    return w !== null && w !== this;
  }

  /** Whether this connection holds a write lock (an open write transaction). */
  get writing(): boolean {
    return this.overlay !== null;
  }

  /** A writer whose snapshot is no longer the latest version (its commit must be replayed). */
  isStale(): boolean {
    return this.overlay !== null && this.snapshot < this.store.latest;
  }

  commitPhaseTwo(): void {
    const overlay = this.overlay;
    if (overlay === null) return;
    // Unreachable by construction (the slot is only granted to an up-to-date
    // writer, and nobody else commits while it is held); refuse rather than
    // publish pages computed on an older version.
    if (this.snapshot < this.store.latest) throw new StorageError('io', 'commit on a stale snapshot refused');
    const base = this.store.dbPagesAt(this.snapshot);
    if (overlay.size === 0 && this.overlayPages === base) return;
    const pages = new Map<number, Uint8Array>();
    for (const [pgno, data] of overlay) if (pgno <= this.overlayPages) pages.set(pgno, data);
    // The overlay's pages are handed to the store (they become immutable versions).
    const version = this.store.commit(pages, this.overlayPages, this.nextTxnId ?? newTxnId());
    this.nextTxnId = null;
    // This connection now reads its own commit.
    this.store.unpin(this.snapshot);
    this.snapshot = version;
    this.store.pin(version);
    if (this.syncRequested) this.lastDurableCommit = version;
    this.overlay = new Map();
  }

  read(into: Uint8Array, offset: number): number {
    if (this.pinned !== null && this.pinned < this.store.oldestVersion) {
      throw new StorageError('io', `version ${this.pinned} is no longer kept (the oldest is ${this.store.oldestVersion})`);
    }
    const ps = this.store.pageSize;
    if (ps === 0) return this.store.foreignBytes > 0 ? this.store.readForeign(into, offset) : 0;
    const version = this.version;
    const dbPages = this.dbPages;
    let done = 0;
    while (done < into.length) {
      const pos = offset + done;
      const pgno = Math.floor(pos / ps) + 1;
      if (pgno > dbPages) break;
      const within = pos - (pgno - 1) * ps;
      const n = Math.min(ps - within, into.length - done);
      const own = this.overlay?.get(pgno);
      if (own !== undefined) {
        into.set(own.subarray(within, within + n), done);
      } else if (within === 0 && n === ps) {
        this.store.readPage(pgno, version, into.subarray(done, done + ps));
      } else {
        // A partial read (SQLite's change-counter check at every transaction): one buffer per file, not an 8 KiB
        // allocation per statement.
        if (this.scratch === null || this.scratch.length !== ps) this.scratch = new Uint8Array(ps);
        this.store.readPage(pgno, version, this.scratch);
        into.set(this.scratch.subarray(within, within + n), done);
      }
      done += n;
    }
    return done;
  }

  write(data: Uint8Array, offset: number): void {
    const overlay = this.overlay;
    if (overlay === null) throw new StorageError('io', 'write to the database without a write lock');
    if (this.store.pageSize === 0) {
      if (offset !== 0 || data.length < 100) throw new StorageError('io', 'the first write must be page 1');
      this.store.setPageSize(pageSizeOf(data));
    }
    const ps = this.store.pageSize;
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const pgno = Math.floor(pos / ps) + 1;
      const within = pos - (pgno - 1) * ps;
      const n = Math.min(ps - within, data.length - done);
      let page = overlay.get(pgno);
      if (page === undefined) {
        page = new Uint8Array(ps);
        if (within !== 0 || n !== ps) this.store.readPage(pgno, this.snapshot, page);
        overlay.set(pgno, page);
      }
      page.set(data.subarray(done, done + n), within);
      if (pgno > this.overlayPages) this.overlayPages = pgno;
      done += n;
    }
  }

  truncate(size: number): void {
    if (this.overlay === null) throw new StorageError('io', 'truncate without a write lock');
    const ps = this.store.pageSize;
    if (ps === 0) return;
    this.overlayPages = Math.ceil(size / ps);
    for (const pgno of [...this.overlay.keys()]) if (pgno > this.overlayPages) this.overlay.delete(pgno);
  }

  size(): number {
    if (this.store.pageSize === 0) return this.store.foreignBytes;
    return this.dbPages * this.store.pageSize;
  }

  /** SQLite syncs the database during a commit unless `synchronous=OFF`: the commit must then be durable. */
  flush(): void {
    if (this.overlay !== null) this.syncRequested = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.level !== NONE) this.unlock(NONE);
    this.versioning.release(this.branch);
    this.backend.releaseStore(this.key);
  }
}
