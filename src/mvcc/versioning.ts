/**
 * Time travel and branches of one database: the settings and the branch
 * catalog (in `<db>-hmeta`, see meta-file.ts), the retention policy of the
 * main branch's history, and the stores of open branches.
 *
 * A branch is a named line of versions that starts at a version of its parent
 * (its base) and has its own commit log `<db>-hbr<id>` holding only the pages
 * it wrote; pages it never wrote are its parent's as of the base (read from
 * the parent's log, history or file). Creating one writes the catalog and an
 * empty log: constant time and space whatever the database's size. The
 * parent keeps the base readable: the main branch's history never drops a
 * version a branch is based on.
 *
 * With neither feature on, nothing of this exists: no file, no extra write.
 */
import { StorageError, type StorageBackend, type StorageFile } from '../vfs/backend.js';
import { MetaFile } from './meta-file.js';
import { History } from './history.js';
import { PageStore } from './page-store.js';

export const MAIN_BRANCH = 'main';

/** How long the main branch's history is kept: versions older than both limits may go (null: no limit of that kind). */
export interface Retention {
  readonly seconds: number | null;
  readonly versions: number | null;
}

export const DEFAULT_RETENTION: Retention = { seconds: 7 * 24 * 3600, versions: null };

export interface BranchRecord {
  readonly id: number;
  readonly name: string;
  /** The branch it was created from. */
  readonly parent: string;
  /** The parent's version it starts from. */
  readonly base: number;
  /** Creation time, ms since the epoch. */
  readonly created: number;
  /** Per target branch, this branch's version last merged into it (the next merge starts there). */
  readonly merged?: Readonly<Record<string, number>>;
}

interface MetaDoc {
  readonly format: 1;
  readonly timeTravel: Retention | null;
  readonly branching: boolean;
  readonly nextId: number;
  readonly branches: readonly BranchRecord[];
}

const BRANCH_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** A parent's pages as of a version, as a read-only file: the base of a branch's store. */
class SnapshotFile implements StorageFile {
  private scratch: Uint8Array | null = null;
  constructor(
    private readonly parent: PageStore,
    private readonly version: number,
  ) {}

  size(): number {
    return this.parent.dbPagesAt(this.version) * this.parent.pageSize;
  }

  read(into: Uint8Array, offset: number): number {
    const ps = this.parent.pageSize;
    const size = this.size();
    if (ps === 0 || offset >= size) return 0;
    const n = Math.min(into.length, size - offset);
    let done = 0;
    while (done < n) {
      const pos = offset + done;
      const pgno = Math.floor(pos / ps) + 1;
      const within = pos - (pgno - 1) * ps;
      const take = Math.min(ps - within, n - done);
      if (within === 0 && take === ps) this.parent.readPage(pgno, this.version, into.subarray(done, done + ps));
      else {
        this.scratch ??= new Uint8Array(ps);
        this.parent.readPage(pgno, this.version, this.scratch);
        into.set(this.scratch.subarray(within, within + take), done);
      }
      done += take;
    }
    return n;
  }

  write(): void {
    throw new StorageError('io', 'a branch base is read-only');
  }

  truncate(): void {
    throw new StorageError('io', 'a branch base is read-only');
  }

  flush(): void {}
  close(): void {}
}

function refuse(message: string): never {
  throw new StorageError('io', message);
}

export class Versioning {
  private readonly meta: MetaFile<MetaDoc>;
  private doc: MetaDoc | null;
  private readonly open = new Map<string, { store: PageStore; refs: number }>();

  constructor(
    private readonly backend: StorageBackend,
    readonly main: PageStore,
  ) {
    this.meta = new MetaFile<MetaDoc>(backend, `${main.path}-hmeta`);
    this.doc = this.meta.read();
    if (this.doc !== null && (this.doc.timeTravel !== null || this.doc.branching)) this.main.enableHistory(() => this.cutoff());
  }

  /** Side files of a database with versioning (its branch logs aside), as suffixes of its path. */
  static readonly SIDE_FILES: readonly string[] = ['-hmeta'];

  /**
   * Side files of the database at `path` beyond the catalog, as suffixes:
   * none when it has no catalog (neither feature was ever on), else the
   * history files and the log of every branch listed. Read before the
   * database opens, for media that prepare files ahead (OPFS, IndexedDB).
   */
  static sideFilesOf(backend: StorageBackend, path: string): string[] {
    const doc = new MetaFile<MetaDoc>(backend, `${path}-hmeta`).read();
    if (doc === null) return [];
    return [...History.SIDE_FILES, ...doc.branches.map((b) => Versioning.logSuffix(b.id))];
  }

  static logSuffix(id: number): string {
    return `-hbr${id}`;
  }

  get timeTravel(): Retention | null {
    return this.doc?.timeTravel ?? null;
  }

  get branching(): boolean {
    return this.doc?.branching ?? false;
  }

  private save(doc: MetaDoc): void {
    this.meta.write(doc);
    this.doc = doc;
    if (doc.timeTravel !== null || doc.branching) this.main.enableHistory(() => this.cutoff());
    else this.main.disableHistory();
  }

  private current(): MetaDoc {
    return this.doc ?? { format: 1, timeTravel: null, branching: false, nextId: 1, branches: [] };
  }

  /** Turns time travel on (with `retention`, or keeping the current one); a no-op when nothing changes. */
  enableTimeTravel(retention?: Retention): void {
    const doc = this.current();
    const next = retention ?? doc.timeTravel ?? DEFAULT_RETENTION;
    const same = doc.timeTravel !== null && doc.timeTravel.seconds === next.seconds && doc.timeTravel.versions === next.versions;
    if (!same) this.save({ ...doc, timeTravel: next });
  }

  enableBranching(): void {
    const doc = this.current();
    if (!doc.branching) this.save({ ...doc, branching: true });
  }

  /**
   * The oldest version the main branch's history must keep: the retention
   * window's start (the present when time travel is off), and no later than
   * the base of any branch made from it.
   */
  private cutoff(): number {
    const store = this.main;
    const tt = this.timeTravel;
    const list = store.versionList();
    const latest = store.latest;
    let cutoff = latest;
    if (tt !== null) {
      let byVersions = tt.versions === null ? -Infinity : latest - tt.versions;
      let byTime = -Infinity;
      if (tt.seconds !== null) {
        const since = Date.now() - tt.seconds * 1000;
        // The state at `since` must stay readable: the newest version committed by then.
        for (const v of list) if (v.time <= since) byTime = v.version;
      }
      if (tt.versions === null) byVersions = byTime;
      if (tt.seconds === null) byTime = byVersions;
      cutoff = Math.min(byVersions, byTime);
      if (tt.versions === null && tt.seconds === null) cutoff = -Infinity;
    }
    for (const b of this.current().branches) if (b.parent === MAIN_BRANCH) cutoff = Math.min(cutoff, b.base);
    return cutoff;
  }

  list(): BranchRecord[] {
    return [...this.current().branches];
  }

  find(name: string): BranchRecord | undefined {
    return this.current().branches.find((b) => b.name === name);
  }

  private record(name: string): BranchRecord {
    const b = this.find(name);
    if (b === undefined) refuse(`no such branch: ${name}`);
    return b;
  }

  /** The store of branch `name` (the main store for 'main'), opened if needed; pair with `release`. */
  acquire(name: string): PageStore {
    if (name === MAIN_BRANCH) return this.main;
    const entry = this.open.get(name);
    if (entry !== undefined) {
      entry.refs++;
      return entry.store;
    }
    const b = this.record(name);
    const parent = this.acquire(b.parent);
    let store: PageStore;
    try {
      store = PageStore.openBranch(this.backend, this.main.path, new SnapshotFile(parent, b.base), {
        logPath: this.main.path + Versioning.logSuffix(b.id),
        baseVersion: b.base,
        baseTime: b.created,
      });
    } catch (e) {
      this.release(b.parent);
      throw e;
    }
    this.open.set(name, { store, refs: 1 });
    return store;
  }

  release(name: string): void {
    if (name === MAIN_BRANCH) return;
    const entry = this.open.get(name);
    if (entry === undefined || --entry.refs > 0) return;
    this.open.delete(name);
    entry.store.close();
    this.release(this.record(name).parent);
  }

  /** How many connections use branch `name` now. */
  users(name: string): number {
    return this.open.get(name)?.refs ?? 0;
  }

  /** The store of `name` if open, else undefined. */
  storeOf(name: string): PageStore | undefined {
    return name === MAIN_BRANCH ? this.main : this.open.get(name)?.store;
  }

  /** Checks a new branch's name and source before its log file is prepared. */
  validateNew(name: string, from: string): number {
    if (!BRANCH_NAME.test(name)) refuse(`invalid branch name '${name}': use letters, digits, '_', '-' and '.', at most 64 characters`);
    if (name === MAIN_BRANCH || this.find(name) !== undefined) refuse(`branch '${name}' already exists`);
    if (from !== MAIN_BRANCH) this.record(from);
    return this.current().nextId;
  }

  /**
   * Creates branch `name` from branch `from` at `version` (which must be
   * readable there). The new branch's log is created first, then the catalog
   * names it: a crash in between leaves an unlisted log, removed at the next
   * creation with its id.
   */
  create(name: string, from: string, version: number): BranchRecord {
    const id = this.validateNew(name, from);
    const parent = this.acquire(from);
    try {
      if (version > parent.latest || version < parent.oldestVersion) {
        refuse(`version ${version} of branch '${from}' is not available (versions ${parent.oldestVersion}..${parent.latest})`);
      }
      const rec: BranchRecord = { id, name, parent: from, base: version, created: Date.now() };
      const logPath = this.main.path + Versioning.logSuffix(id);
      this.backend.delete(logPath);
      PageStore.createBranchLog(this.backend, new SnapshotFile(parent, version), { logPath, baseVersion: version, baseTime: rec.created });
      const doc = this.current();
      this.save({ ...doc, branching: true, nextId: id + 1, branches: [...doc.branches, rec] });
      return rec;
    } finally {
      this.release(from);
    }
  }

  /** Deletes branch `name` and its log. Refused while connections use it or branches are based on it. */
  delete(name: string): void {
    if (name === MAIN_BRANCH) refuse('the main branch cannot be deleted');
    const b = this.record(name);
    const children = this.current().branches.filter((c) => c.parent === name).map((c) => c.name);
    if (children.length > 0) refuse(`branch '${name}' has branches made from it (${children.join(', ')}): delete them first`);
    const users = this.users(name);
    if (users > 0) refuse(`branch '${name}' is open: close the connections using it first`);
    const doc = this.current();
    this.save({ ...doc, branches: doc.branches.filter((c) => c.name !== name) });
    this.backend.delete(this.main.path + Versioning.logSuffix(b.id));
  }

  /** Records that branch `name` was merged into `into` up to its version `head`. */
  recordMerge(name: string, into: string, head: number): void {
    const doc = this.current();
    this.save({
      ...doc,
      branches: doc.branches.map((b) => (b.name === name ? { ...b, merged: { ...b.merged, [into]: head } } : b)),
    });
  }

  /** Bytes of a branch's log (what it wrote), 0 when it has none. */
  logBytes(b: BranchRecord): number {
    const path = this.main.path + Versioning.logSuffix(b.id);
    if (!this.backend.exists(path)) return 0;
    const f = this.backend.open(path, { create: false, readonly: true, deleteOnClose: false, kind: 'other' });
    try {
      return f.size();
    } finally {
      f.close();
    }
  }
}
