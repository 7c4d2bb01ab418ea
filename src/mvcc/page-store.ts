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
import { History } from './history.js';
import { ForeignGuard } from './foreign-guard.js';
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
  /** Watch for other programs writing the database file and refuse to go on (see foreign-guard.ts). */
  readonly watchForeignWrites?: boolean;
}

/** A branch's store: its own log over a read-only snapshot of its parent (see openBranch). */
interface BranchSetup {
  readonly logPath: string;
  readonly baseVersion: number;
  readonly baseTime: number;
}

/** Which versions a history must keep: it may drop those older than the returned one. */
export type RetentionPolicy = (store: PageStore) => number;

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
  /** Commit time of `fileVersion` (when unknown: when the store was opened). */
  private fileTime = Date.now();
  private durableVersion: number;
  /** Older versions, kept when time travel or branching is on (see history.ts). */
  private history: History | null = null;
  /** Whether checkpoints keep what they overwrite (time travel or branching on). */
  private keepHistory = false;
  /** Which versions the history must keep (set with keepHistory). */
  retention: RetentionPolicy | null = null;
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
  /** Set for a branch: its log is its whole history, never checkpointed nor removed. */
  private readonly branch: BranchSetup | null;
  /** Notices other programs writing the database file (foreign-guard.ts); null unless asked for. */
  readonly guard: ForeignGuard | null;

  private constructor(
    private readonly backend: StorageBackend,
    readonly path: string,
    private db: StorageFile,
    /** Whether `db` was opened without write access (a read-only connection opened the store). */
    private dbReadonly: boolean,
    options: PageStoreOptions,
    branch: BranchSetup | null = null,
  ) {
    this.branch = branch;
    this.checkpointBytes = branch !== null ? Infinity : (options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES);
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
    this.latestVersion = branch?.baseVersion ?? 0;
    this.fileVersion = this.latestVersion;
    this.durableVersion = this.latestVersion;
    if (branch !== null) this.fileTime = branch.baseTime;
    this.guard = branch === null && options.watchForeignWrites === true ? new ForeignGuard(path, () => this.db) : null;
  }

  /** Files the store keeps beside the database, as suffixes of its path. */
  static readonly SIDE_FILES: readonly string[] = ['-hlog'];

  get logPath(): string {
    return this.branch?.logPath ?? `${this.path}-hlog`;
  }

  /** Whether this is a branch's store (not the main one). */
  get isBranch(): boolean {
    return this.branch !== null;
  }

  /**
   * Opens a branch's store: `base` is its parent as of the branch's base
   * version (read-only, immutable), `logPath` its own commit log, holding
   * every version the branch made.
   */
  static openBranch(backend: StorageBackend, path: string, base: StorageFile, setup: BranchSetup): PageStore {
    const store = new PageStore(backend, path, base, true, {}, setup);
    store.recover();
    return store;
  }

  /** Creates a branch's (empty) log, so that the branch exists durably from now on. */
  static createBranchLog(backend: StorageBackend, base: StorageFile, setup: BranchSetup): void {
    const store = new PageStore(backend, '', base, true, {}, setup);
    if (store._pageSize === 0) return;
    // Not synced: the catalog entry written next is what makes the branch exist; a log lost in a crash
    // is an empty branch's, and its first commit creates it again.
    CommitLog.create(backend, setup.logPath, store._pageSize, setup.baseVersion, store.fingerprintFile(), false).close();
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
      store.openHistory();
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
      throw new StorageError(
        'io',
        `${this.path} was changed by another program after heliosdb last had it open (its page size is now ` +
          `${this._pageSize}; its commit log ${this.logPath} has ${log.pageSize}-byte pages). Move ${this.logPath} away ` +
          `to keep the other program's version, or restore the previous ${this.path} to keep heliosdb's.`,
      );
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

  /** Opens the history the database has, if any: version numbers then continue from it. */
  private openHistory(): void {
    const h = History.open(this.backend, this.path);
    if (h === null) return;
    this.history = h;
    this.keepHistory = true;
    if (this.log === null) {
      this.fileVersion = this.latestVersion = this.durableVersion = h.latest;
      this.fileTime = h.latestTime;
    } else if (this.log.baseVersion === h.latest) {
      this.fileTime = h.latestTime;
    }
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
    if (version < this.fileVersion && this.history !== null) return this.history.dbPagesAt(version);
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
    if (this.history !== null && this.history.readPage(pgno, version, into)) return;
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
    if (this.log === null) this.guard?.verify();
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
    if (log === null || this.versions.length === 0 || this.branch !== null) return true;
    // With a history, old snapshots read their pages from it after the checkpoint: no need to wait for them.
    const pinned = !this.keepHistory && this.oldestPin() < this.latestVersion;
    if (!force && (this.writer !== null || pinned || this.flushing !== null)) return false;
    // The log must be durable before the database file takes its pages: a
    // crash then finds every commit the file reflects still in the log.
    if (this.durableVersion < this.latestVersion) {
      log.flush();
      this.durableVersion = this.latestVersion;
    }
    // Another program wrote the file: never overwrite it (the log keeps the commits).
    if (this.guard !== null && !this.guard.mayWrite()) return false;
    const ps = this._pageSize;
    const page = new Uint8Array(ps);
    const dbPages = this.dbPagesAt(this.latestVersion);
    if (this.keepHistory) this.saveHistory(log, dbPages);
    else if (this.history !== null) {
      // History was turned off: what it holds stops matching the file from this checkpoint on.
      this.history.drop();
      this.history = null;
    }
    for (const [pgno, locs] of this.index) {
      if (pgno > dbPages) continue;
      log.readPage(locs[locs.length - 1].offset, page);
      this.db.write(page, (pgno - 1) * ps);
    }
    if (this.db.size() > dbPages * ps) this.db.truncate(dbPages * ps);
    this.db.flush();
    this.guard?.rebase();
    // Only now may the log forget: the file holds everything.
    log.reset(this.latestVersion, this.fingerprintFile());
    this.index.clear();
    this.cache.clear();
    this.cacheBytes = 0;
    if (this.versions.length > 0) this.fileTime = this.versions[this.versions.length - 1].time;
    this.versions.length = 0;
    this.fileVersion = this.latestVersion;
    this.fileDbPages = dbPages;
    this.applyRetention();
    return true;
  }

  /**
   * Before a checkpoint overwrites the database file: the log's versions and
   * the file images about to be overwritten go to the history, durably.
   */
  private saveHistory(log: CommitLog, dbPages: number): void {
    this.history ??= History.create(this.backend, this.path, this._pageSize, this.fileVersion, this.fileTime, this.fileDbPages);
    const byVersion = new Map<number, Map<number, number>>();
    for (const [pgno, locs] of this.index) {
      for (const l of locs) {
        let m = byVersion.get(l.version);
        if (m === undefined) byVersion.set(l.version, (m = new Map()));
        m.set(pgno, l.offset);
      }
    }
    const overwritten = new Set<number>();
    for (const pgno of this.index.keys()) if (pgno <= this.fileDbPages) overwritten.add(pgno);
    for (let p = dbPages + 1; p <= this.fileDbPages; p++) overwritten.add(p);
    const ps = this._pageSize;
    this.history.absorb({
      versions: this.versions.map((v) => ({ ...v, pages: byVersion.get(v.version) ?? new Map<number, number>() })),
      readLogPage: (offset, into) => log.readPage(offset, into),
      overwritten,
      readFilePage: (pgno, into) => {
        const got = this.db.read(into, (pgno - 1) * ps);
        if (got < into.length) into.fill(0, got);
      },
    });
  }

  /** Drops history older than the retention policy allows, once enough of it has expired. */
  private applyRetention(): void {
    const h = this.history;
    if (h === null) return;
    const wanted = this.retention?.(this) ?? h.baseVersion;
    const cutoff = Math.min(wanted, this.oldestPin());
    if (cutoff <= h.baseVersion) return;
    // Rewriting costs the size of what stays: wait until at least a quarter of the file has expired.
    const expired = h.versions.filter((v) => v.version <= cutoff).length;
    if (expired === 0 || expired * 4 < h.versions.length) return;
    h.compact(cutoff);
  }

  /** Turns on keeping history (time travel or branching): checkpoints from now on save what they overwrite. */
  enableHistory(policy: RetentionPolicy): void {
    this.keepHistory = true;
    this.retention = policy;
  }

  /** Turns it off: the history is dropped at the next checkpoint that finds nothing left to keep. */
  disableHistory(): void {
    this.keepHistory = false;
  }

  get historyEnabled(): boolean {
    return this.keepHistory;
  }

  /** Bytes the history file holds (0 without one). */
  get historyBytes(): number {
    return this.history?.bytes ?? 0;
  }

  /** The oldest version that can be read: the history's base, else the database file's. */
  get oldestVersion(): number {
    return this.history?.baseVersion ?? this.fileVersion;
  }

  /**
   * Every version that can be read, oldest first: the oldest one (the
   * history's base or the file's version, with the time it is known from),
   * then each commit kept.
   */
  versionList(): VersionInfo[] {
    const h = this.history;
    const out: VersionInfo[] =
      h !== null
        ? [{ version: h.baseVersion, time: h.baseTime, txnId: '', dbPages: h.dbPagesAt(h.baseVersion) }, ...h.versions]
        : [{ version: this.fileVersion, time: this.fileTime, txnId: '', dbPages: this.fileDbPages }];
    // After a crash mid-checkpoint the history may already hold some of the log's versions.
    for (const v of this.versions) if (v.version > out[out.length - 1].version) out.push(v);
    return out;
  }

  /** Whether page `pgno` changed after `version` (for restoring that version). */
  changedSince(pgno: number, version: number): boolean {
    const locs = this.index.get(pgno);
    if (locs !== undefined && locs[locs.length - 1].version > version) return true;
    return this.history?.changedAfter(pgno, version) ?? false;
  }

  /** Pages that have more than one image (in the log or the history): every page that ever changed. */
  changedPages(): Set<number> {
    const out = new Set<number>(this.index.keys());
    if (this.history !== null) for (const p of this.history.pages()) out.add(p);
    return out;
  }



  /**
   * Closes the store: a final checkpoint leaves the database file an ordinary
   * SQLite file and removes the log.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.branch !== null) {
        // A branch's log is its history: it stays, made durable.
        this.log?.flush();
        for (const w of this.flushWaiters) w.resolve();
        this.flushWaiters = [];
        this.log?.close();
        this.log = null;
      } else if (this.log !== null) {
        // No connection is left: fold everything into the file, then drop the log.
        const folded = this.checkpoint(true);
        for (const w of this.flushWaiters) w.resolve();
        this.flushWaiters = [];
        this.log.close();
        this.log = null;
        // Not folded (another program wrote the file): the log keeps the commits.
        if (folded) this.backend.delete(this.logPath);
      }
    } finally {
      this.history?.close();
      this.history = null;
      this.db.close();
    }
  }
}
