/**
 * The versioned page store of one database: the database file, the commit log
 * beside it, and an in-memory index page → versions → location.
 *
 * Reading page p at version V returns the newest log frame of p with version
 * ≤ V, else the database file's image. A commit appends the transaction's
 * pages and a commit record and publishes a new version at once; durability is
 * a separate step (`whenDurable`) so that commits arriving while a flush is in
 * flight share the next flush (group commit). A checkpoint copies the newest
 * images into the database file and empties the log, but only when no reader
 * is pinned to an older version, so it never disturbs a snapshot. After the
 * last connection closes, the database file alone holds the current state.
 */
import { StorageError, type StorageBackend, type StorageFile } from '../vfs/backend.js';
import { addChecksum, newChecksum } from './checksum.js';
import { CommitLog, type CommitRecord } from './commit-log.js';
import { macrotask, nextTurn } from '../runtime/macrotask.js';

interface Location {
  readonly version: number;
  readonly offset: number;
}

/** A version's metadata. */
export interface VersionInfo {
  readonly version: number;
  readonly time: number;
  readonly txnId: string;
  readonly dbPages: number;
}

export interface PageStoreOptions {
  /** Checkpoint once the log holds this many bytes (and no old snapshot is pinned). */
  readonly checkpointBytes?: number;
}

const DEFAULT_CHECKPOINT_BYTES = 8 * 1024 * 1024;

const SQLITE_MAGIC = 'SQLite format 3\0';

function fingerprintOf(page: Uint8Array): readonly [number, number] {
  const c = newChecksum(0x46, 0x50);
  addChecksum(c, page);
  return [c.s0, c.s1];
}

function isSqliteHeader(h: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (h[i] !== SQLITE_MAGIC.charCodeAt(i)) return false;
  return true;
}

/** Reads the page size from a database header (bytes 16–17, big-endian; 1 means 65536). */
export function pageSizeOf(header: Uint8Array): number {
  const v = (header[16] << 8) | header[17];
  return v === 1 ? 65536 : v;
}

export class PageStore {
  private log: CommitLog | null;
  private readonly index = new Map<number, Location[]>();
  private readonly versions: VersionInfo[] = [];
  private readonly pins = new Map<number, number>();
  private latestVersion: number;
  /** Version whose image the database file holds. */
  private fileVersion: number;
  private fileDbPages: number;
  private durableVersion: number;
  private flushing: Promise<void> | null = null;
  private flushWaiters: Array<{ version: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  private _pageSize: number;
  private readonly checkpointBytes: number;
  /** The connection holding the write lock, if any. */
  writer: object | null = null;
  /** Open user connections (the engine counts them; its own group-commit writer is not one). */
  userConnections = 0;
  private closed = false;
  private checkpointQueued = false;
  /** Size of a file that is not a SQLite database (read through unchanged), else 0. */
  foreignBytes: number;

  private constructor(
    private readonly backend: StorageBackend,
    readonly path: string,
    private db: StorageFile,
    /** Whether `db` was opened without write access (a read-only connection opened the store). */
    private dbReadonly: boolean,
    options: PageStoreOptions,
  ) {
    this.checkpointBytes = options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
    const size = db.size();
    this._pageSize = 0;
    this.foreignBytes = 0;
    if (size > 0) {
      const header = new Uint8Array(100);
      const got = db.read(header, 0);
      const ps = got === 100 && isSqliteHeader(header) ? pageSizeOf(header) : 0;
      if (ps >= 512 && ps <= 65536 && (ps & (ps - 1)) === 0) this._pageSize = ps;
      // Not a database we can page: SQLite must see the bytes as they are (and refuse them).
      else this.foreignBytes = size;
    }
    // A file cut inside a page still has that page (zero-filled): SQLite then finds it malformed.
    this.fileDbPages = this._pageSize ? Math.ceil(size / this._pageSize) : 0;
    this.log = null;
    this.latestVersion = 0;
    this.fileVersion = 0;
    this.durableVersion = 0;
  }

  /** Files the store keeps beside the database, as suffixes of its path. */
  static readonly SIDE_FILES: readonly string[] = ['-hlog'];

  get logPath(): string {
    return `${this.path}-hlog`;
  }

  /** Opens the store for `path`, recovering committed transactions from its log. */
  static open(backend: StorageBackend, path: string, options: PageStoreOptions & { readonly?: boolean; create?: boolean } = {}): PageStore {
    const db = backend.open(path, {
      create: options.create ?? true,
      readonly: options.readonly ?? false,
      deleteOnClose: false,
      kind: 'main-db',
    });
    const store = new PageStore(backend, path, db, options.readonly ?? false, options);
    try {
      store.recover();
    } catch (e) {
      db.close();
      throw e;
    }
    return store;
  }

  private recover(): void {
    const found = CommitLog.recover(this.backend, this.logPath);
    if (found === null) return;
    const { log, commits } = found;
    if (this._pageSize !== 0 && log.pageSize !== this._pageSize) {
      log.close();
      throw new StorageError('io', `${this.logPath}: page size ${log.pageSize} does not match the database's ${this._pageSize}`);
    }
    this._pageSize = log.pageSize;
    // The file must still be the one this log generation started from (or hold a
    // page 1 the log committed, after a crash mid-checkpoint).
    const now = this.fingerprintFile();
    const same = (fp: readonly [number, number]): boolean => fp[0] === now[0] && fp[1] === now[1];
    if (!same(log.fingerprint)) {
      const page = new Uint8Array(log.pageSize);
      const known = commits.some((c) =>
        c.frames.some((f) => {
          if (f.pgno !== 1) return false;
          log.readPage(f.offset, page);
          return same(fingerprintOf(page));
        }),
      );
      if (!known) {
        log.close();
        throw new StorageError(
          'io',
          `${this.path} was changed by another program after heliosdb last had it open; its commit log ` +
            `${this.logPath} (${commits.length} commits) would overwrite those changes. Move ${this.logPath} away ` +
            `to keep the other program's version, or restore the previous ${this.path} to keep heliosdb's.`,
        );
      }
    }
    this.log = log;
    this.fileVersion = log.baseVersion;
    this.latestVersion = log.baseVersion;
    for (const c of commits) this.publish(c);
    this.durableVersion = this.latestVersion;
  }

  get pageSize(): number {
    return this._pageSize;
  }

  /** The newest committed version. */
  get latest(): number {
    return this.latestVersion;
  }


  /** Database size in pages at `version`. */
  dbPagesAt(version: number): number {
    for (let i = this.versions.length - 1; i >= 0; i--) {
      if (this.versions[i].version <= version) return this.versions[i].dbPages;
    }
    return this.fileDbPages;
  }

  /**
   * Shared cache of immutable page images, every connection reads through it
   * (LRU by insertion, bounded in bytes): log frames by log offset, and the
   * database file's pages by -pgno until the next checkpoint rewrites them.
   */
  private readonly cache = new Map<number, Uint8Array>();
  private cacheBytes = 0;
  private readonly cacheLimit = 16 * 1024 * 1024;

  private remember(offset: number, page: Uint8Array): void {
    if (this.cache.has(offset)) return;
    this.cache.set(offset, page);
    this.cacheBytes += page.length;
    while (this.cacheBytes > this.cacheLimit) {
      const first = this.cache.keys().next();
      if (first.done) break;
      this.cacheBytes -= this.cache.get(first.value)?.length ?? 0;
      this.cache.delete(first.value);
    }
  }

  /**
   * A read-write connection joins a store that a read-only one opened: the
   * database file is reopened for writing, since checkpoints (at the latest
   * the one on close) write the commits of that connection into it. Throws
   * StorageError ('permission') when the file may not be written.
   */
  makeWritable(): void {
    if (!this.dbReadonly) return;
    const rw = this.backend.open(this.path, { create: false, readonly: false, deleteOnClose: false, kind: 'main-db' });
    const old = this.db;
    this.db = rw;
    this.dbReadonly = false;
    old.close();
  }

  /** Fixes the page size for a database that had none (its first write). */
  setPageSize(size: number): void {
    if (this.foreignBytes > 0) throw new StorageError('io', `${this.path} is not a SQLite database`);
    if (this._pageSize === 0) this._pageSize = size;
    else if (this._pageSize !== size) throw new StorageError('io', `page size cannot change from ${this._pageSize} to ${size}`);
  }

  /** The fingerprint of the database file as it is now (a checksum of its page 1). */
  private fingerprintFile(): readonly [number, number] {
    const page = new Uint8Array(this._pageSize);
    this.db.read(page, 0);
    return fingerprintOf(page);
  }

  /** Reads a non-database file's bytes unchanged (for SQLite to reject). */
  readForeign(into: Uint8Array, offset: number): number {
    return this.db.read(into, offset);
  }

  /** Copies page `pgno` as of `version` into `into` (zeros beyond the end). */
  readPage(pgno: number, version: number, into: Uint8Array): void {
    const locs = this.index.get(pgno);
    if (locs !== undefined && this.log !== null) {
      for (let i = locs.length - 1; i >= 0; i--) {
        if (locs[i].version <= version) {
          const offset = locs[i].offset;
          const hit = this.cache.get(offset);
          if (hit !== undefined) {
            into.set(hit);
            return;
          }
          this.log.readPage(offset, into);
          this.remember(offset, into.slice());
          return;
        }
      }
    }
    if (pgno > this.fileDbPages) {
      into.fill(0);
      return;
    }
    // The file's images change only at a checkpoint (which empties the cache): they are cached too,
    // under negative keys. Page 1 above all: every transaction reads its change counter.
    const key = -pgno;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      into.set(hit);
      return;
    }
    const got = this.db.read(into, (pgno - 1) * this._pageSize);
    if (got < into.length) into.fill(0, got);
    this.remember(key, into.slice());
  }

  pin(version: number): void {
    this.pins.set(version, (this.pins.get(version) ?? 0) + 1);
  }

  unpin(version: number): void {
    const n = (this.pins.get(version) ?? 0) - 1;
    if (n <= 0) this.pins.delete(version);
    else this.pins.set(version, n);
  }

  private oldestPin(): number {
    let min = Infinity;
    for (const v of this.pins.keys()) if (v < min) min = v;
    return min;
  }

  private publish(c: CommitRecord): void {
    for (const f of c.frames) {
      let locs = this.index.get(f.pgno);
      if (locs === undefined) {
        locs = [];
        this.index.set(f.pgno, locs);
      }
      locs.push({ version: c.version, offset: f.offset });
    }
    this.versions.push({ version: c.version, time: c.time, txnId: c.txnId, dbPages: c.dbPages });
    this.latestVersion = c.version;
    this.rememberTxn(c.txnId);
  }

  /**
   * Transaction ids of recent commits (those recovered from the log and every
   * one since, up to a bound), so that a client re-sending a commit after the
   * engine that ran it went away can be told it already committed.
   */
  private readonly recentTxns = new Set<string>();
  private static readonly RECENT_TXNS = 65536;

  private rememberTxn(id: string): void {
    this.recentTxns.add(id);
    if (this.recentTxns.size > PageStore.RECENT_TXNS) {
      const oldest = this.recentTxns.values().next();
      if (!oldest.done) this.recentTxns.delete(oldest.value);
    }
  }

  /** Whether a commit with this transaction id is known (see rememberTxn). */
  hasCommitted(txnId: string): boolean {
    return this.recentTxns.has(txnId);
  }

  /**
   * Appends a transaction and publishes it as the next version. The caller
   * must `await whenDurable(version)` before acknowledging the commit.
   */
  commit(pages: ReadonlyMap<number, Uint8Array>, dbPages: number, txnId: string): number {
    if (this.closed) throw new StorageError('io', 'the page store is closed');
    if (this._pageSize === 0) throw new StorageError('io', 'commit before the page size is known');
    this.log ??= CommitLog.create(this.backend, this.logPath, this._pageSize, this.latestVersion, this.fingerprintFile());
    const version = this.latestVersion + 1;
    const rec = this.log.append(version, pages, dbPages, txnId, Date.now());
    this.publish(rec);
    // The committed images are immutable from here on: keep them for readers.
    for (const f of rec.frames) {
      const page = pages.get(f.pgno);
      if (page !== undefined) this.remember(f.offset, page);
    }
    // Commits that never ask for a flush (synchronous=OFF) still get checkpointed.
    if (this.log.size >= this.checkpointBytes && this.flushing === null && !this.checkpointQueued) {
      this.checkpointQueued = true;
      macrotask(() => {
        this.checkpointQueued = false;
        if (!this.closed) this.maybeCheckpoint();
      });
    }
    return version;
  }

  /** Whether `version` is already durable. */
  isDurable(version: number): boolean {
    return version <= this.durableVersion;
  }

  /**
   * Resolves once `version` (and everything before it) is durable. Commits
   * that arrive while a flush is running are covered by the next one.
   */
  whenDurable(version: number): Promise<void> {
    if (version <= this.durableVersion) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ version, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing !== null) return;
    this.flushing = (async () => {
      // Let every commit of this turn of the event loop join the flush.
      await nextTurn();
      while (this.flushWaiters.some((w) => w.version > this.durableVersion)) {
        const target = this.latestVersion;
        try {
          // Commits made while this fsync runs wait for the next one.
          if (this.log) await this.log.flushAsync();
          this.durableVersion = Math.max(this.durableVersion, target);
        } catch (e) {
          const failed = this.flushWaiters;
          this.flushWaiters = [];
          for (const w of failed) w.reject(e);
          break;
        }
        const done = this.flushWaiters.filter((w) => w.version <= this.durableVersion);
        this.flushWaiters = this.flushWaiters.filter((w) => w.version > this.durableVersion);
        for (const w of done) w.resolve();
        // Commits made while the waiters ran go into the next round.
        await nextTurn();
      }
      this.flushing = null;
      this.maybeCheckpoint();
    })();
  }

  /** Checkpoints if the log is large and nothing pins an older version. */
  maybeCheckpoint(): void {
    if (this.log === null || this.log.size < this.checkpointBytes) return;
    this.checkpoint();
  }

  /**
   * Copies the newest page images into the database file and empties the log.
   * Returns false (and does nothing) while a snapshot older than the latest
   * version is pinned, a writer is active, or a flush is in flight.
   */
  checkpoint(force = false): boolean {
    const log = this.log;
    if (log === null || this.versions.length === 0) return true;
    if (!force && (this.writer !== null || this.oldestPin() < this.latestVersion || this.flushing !== null)) return false;
    // The log must be durable before the database file takes its pages: a
    // crash then finds every commit the file reflects still in the log.
    if (this.durableVersion < this.latestVersion) {
      log.flush();
      this.durableVersion = this.latestVersion;
    }
    const ps = this._pageSize;
    const page = new Uint8Array(ps);
    const dbPages = this.dbPagesAt(this.latestVersion);
    for (const [pgno, locs] of this.index) {
      if (pgno > dbPages) continue;
      log.readPage(locs[locs.length - 1].offset, page);
      this.db.write(page, (pgno - 1) * ps);
    }
    if (this.db.size() > dbPages * ps) this.db.truncate(dbPages * ps);
    this.db.flush();
    // Only now may the log forget: the file holds everything.
    log.reset(this.latestVersion, this.fingerprintFile());
    this.index.clear();
    this.cache.clear();
    this.cacheBytes = 0;
    this.versions.length = 0;
    this.fileVersion = this.latestVersion;
    this.fileDbPages = dbPages;
    return true;
  }



  /**
   * Closes the store: a final checkpoint leaves the database file an ordinary
   * SQLite file and removes the log.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.log !== null) {
        // No connection is left: fold everything into the file, then drop the log.
        this.checkpoint(true);
        for (const w of this.flushWaiters) w.resolve();
        this.flushWaiters = [];
        this.log.close();
        this.log = null;
        this.backend.delete(this.logPath);
      }
    } finally {
      this.db.close();
    }
  }
}
