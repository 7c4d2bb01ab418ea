/**
 * Time travel and branches, as seen by one connection (session):
 * - `AS OF` in SQL: each past version a statement reads is attached as a
 *   read-only schema `heliosdb_asof_<k>` whose file is pinned at that version
 *   (a few slots per connection, re-pinned between statements), and the table
 *   reference is rewritten to it (as-of.ts);
 * - versions(), restore_to(), retention;
 * - branches: create, list, checkout (the connection's file moves to the
 *   branch's store and SQLite drops its page cache and schema), delete, diff
 *   and merge (branch-merge.ts).
 */
import { MAIN_BRANCH, type BranchRecord, type Retention, type Versioning } from '../mvcc/versioning.js';
import { newTxnId } from '../mvcc/commit-log.js';
import type { MvccFile } from '../mvcc/mvcc-backend.js';
import type { PageStore } from '../mvcc/page-store.js';
import { StorageError } from '../vfs/backend.js';
import { AsOfError, findAsOf, parseTimestamp, rewriteAsOf, type AsOfRef, type AsOfTarget } from './as-of.js';
import { ChangesetTools, describeSchemaDifferences, schemaDifferences, schemaOf, type MergeReport, type OnConflict, type TableDiff } from './branch-merge.js';
import { EngineError } from './engine-error.js';
import type { FunctionInstaller } from './txn-rebase.js';
import type { Ptr } from './sqlite-module.js';
import type { Session } from './session.js';

export type HistoryAction =
  | 'versions'
  | 'restore'
  | 'retention'
  | 'createBranch'
  | 'listBranches'
  | 'checkout'
  | 'deleteBranch'
  | 'diff'
  | 'merge';

/** One version, as `versions()` lists it. */
export interface VersionRow {
  version: number;
  /** Commit time, 'YYYY-MM-DD HH:MM:SS.sss' UTC (usable in AS OF TIMESTAMP). */
  timestamp: string;
  /** Commit time, ms since the epoch. */
  time: number;
  /** The committing transaction's id ('' for the oldest version kept, whose commit is not). */
  txn_id: string;
  /** Database size in pages. */
  pages: number;
}

export interface BranchRow {
  name: string;
  parent: string | null;
  base: number | null;
  created: string | null;
  /** The branch's newest version (null if its log cannot be read). */
  head: number | null;
  current: boolean;
}

export interface DiffReport {
  branch: string;
  parent: string;
  base: number;
  head: number;
  tables: TableDiff[];
  schema_changes: Array<{ object: string; type: string; change: string }>;
}

/** What the engine provides to these operations. */
export interface VersionsHost {
  /** The MVCC file behind schema `schema` of connection `db`, if it is one. */
  fileOf(db: Ptr, schema: string): MvccFile | undefined;
  /** Makes SQLite drop its page cache for `schema` (SQLITE_FCNTL_RESET_CACHE). */
  resetCache(db: Ptr, schema: string): void;
  /** Lets the storage prepare a side file of the database (a new branch's log) before it is created. */
  prepareSide(file: MvccFile, suffix: string): Promise<void>;
  /** The session moved to another branch: its group-commit writer must follow. */
  regroup(session: Session): void;
  /** An internal connection to `branch` of the database (for merges into another branch). */
  openBranch(file: MvccFile, branch: string): Session;
  readonly installer: FunctionInstaller;
}

const SLOT_PREFIX = 'heliosdb_asof_';
const MAX_SLOTS = 4;

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function opError(message: string, kind: 'OperationalError' | 'ProgrammingError' | 'NotSupportedError' = 'OperationalError'): EngineError {
  return new EngineError({ kind, message });
}

interface Slot {
  readonly name: string;
  readonly file: MvccFile;
}

export class SessionVersions {
  private slots: Slot[] = [];

  constructor(
    private readonly session: Session,
    private readonly host: VersionsHost,
    private readonly file: MvccFile,
    /** Whether the connection asked for time travel (it is also on when the database has it on). */
    private readonly askedTimeTravel: boolean,
    private readonly askedBranching: boolean,
  ) {}

  /** Time travel is usable on this connection: asked for, or on for the database (then it costs nothing more). */
  get timeTravel(): boolean {
    return this.askedTimeTravel || this.file.versioning.timeTravel !== null;
  }

  get branching(): boolean {
    return this.askedBranching || this.file.versioning.branching;
  }

  private get db(): Ptr {
    return this.session.handle;
  }

  /** Inside BEGIN … COMMIT, or with a statement still reading. */
  private inTransaction(): boolean {
    return this.session.txnState() !== 0 || this.session.raw.sqlite3_get_autocommit(this.db) === 0;
  }

  get branch(): string {
    return this.file.branch;
  }

  private get versioning(): Versioning {
    return this.file.versioning;
  }

  private needTimeTravel(): void {
    if (!this.timeTravel) throw opError('time travel is not enabled on this connection: connect with { enable_time_travel: true }', 'NotSupportedError');
  }

  private needBranching(): void {
    if (!this.branching) throw opError('branching is not enabled on this connection: connect with { enable_branching: true }', 'NotSupportedError');
  }

  /** The version `target` names on `store`: checked against what is kept. */
  resolve(target: AsOfTarget, store: PageStore = this.file.store): number {
    // The common case without building the version list: a version number in range.
    if (target.kind === 'version' && target.version >= store.oldestVersion && target.version <= store.latest) return target.version;
    const list = store.versionList();
    const oldest = list[0];
    const latest = list[list.length - 1];
    const window = `versions ${oldest.version}..${latest.version}, from ${formatTime(oldest.time)} UTC`;
    if (target.kind === 'version') {
      if (target.version > latest.version) throw opError(`version ${target.version} does not exist yet (the latest is ${latest.version})`);
      if (target.version < oldest.version) throw opError(`version ${target.version} is before the retention window (${window})`);
      return target.version;
    }
    if (target.time > Date.now()) throw opError(`timestamp '${target.text}' is in the future`);
    if (target.time < oldest.time) throw opError(`timestamp '${target.text}' is before the retention window (${window})`);
    let v = oldest.version;
    for (const r of list) if (r.time <= target.time) v = r.version;
    return v;
  }

  /** A target given to the API: a version number, a timestamp string or a Date (ms). */
  static target(value: unknown): AsOfTarget {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { kind: 'version', version: value };
    if (typeof value === 'string') return { kind: 'timestamp', time: parseTimestamp(value), text: value };
    if (value instanceof Date && Number.isFinite(value.getTime())) return { kind: 'timestamp', time: value.getTime(), text: value.toISOString() };
    throw new EngineError({ kind: 'ProgrammingError', message: 'expected a version number, a timestamp string or a Date' });
  }

  // ---- AS OF ---------------------------------------------------------------

  /** Rewrites the AS OF clauses of `sql` to pinned views; throws a clear error when they cannot be served. */
  /** Parsed AS OF clauses of recent statements (parsing is most of the rewrite's cost). */
  private readonly parsed = new Map<string, AsOfRef[]>();

  rewrite(sql: string): string {
    let refs = this.parsed.get(sql);
    if (refs === undefined) {
      try {
        refs = findAsOf(sql);
      } catch (e) {
        if (e instanceof AsOfError) throw opError(e.message, 'ProgrammingError');
        throw e;
      }
      if (this.parsed.size >= 64) this.parsed.delete(this.parsed.keys().next().value as string);
      this.parsed.set(sql, refs);
    }
    if (refs.length === 0) return sql;
    this.needTimeTravel();
    const versions = refs.map((r) => this.resolve(r.target));
    const byVersion = new Map<number, string>();
    const used = new Set<Slot>();
    for (const v of versions) {
      if (byVersion.has(v)) continue;
      const slot = this.slotFor(v, used);
      used.add(slot);
      byVersion.set(v, slot.name);
    }
    return rewriteAsOf(sql, refs, versions.map((v) => byVersion.get(v) as string));
  }

  /**
   * Attaches the first slot now (at connect), pinned at the latest version:
   * ATTACH is impossible inside a transaction, and with this one a
   * transaction can read a past version too.
   */
  prepareSlot(): void {
    if (this.timeTravel && this.slots.length === 0) this.attachSlot(this.file.store.latest);
  }

  private slotFor(version: number, used: Set<Slot>): Slot {
    const same = this.slots.find((s) => !used.has(s) && s.file.pinned === version);
    if (same !== undefined) return same;
    const free = this.slots.find((s) => !used.has(s) && !s.file.locked);
    if (free !== undefined) {
      free.file.pinned = version;
      this.host.resetCache(this.db, free.name);
      return free;
    }
    if (this.slots.length >= MAX_SLOTS) throw opError(`a statement or transaction may read at most ${MAX_SLOTS} past versions at once`);
    if (this.inTransaction()) {
      throw opError(
        'AS OF inside a transaction needs a past-version slot attached before the transaction began: ' +
          'run one AS OF query outside the transaction first, or commit',
      );
    }
    return this.attachSlot(version);
  }

  private attachSlot(version: number): Slot {
    const name = `${SLOT_PREFIX}${this.slots.length + 1}`;
    const backend = this.file.backend;
    backend.openAs = { branch: this.file.branch, version };
    try {
      this.session.execSimple(`ATTACH ${sqlString(this.file.store.path)} AS ${name}`);
    } finally {
      backend.openAs = null;
    }
    const file = this.host.fileOf(this.db, name);
    if (file === undefined) throw opError('cannot open a past version of this database');
    const slot = { name, file };
    this.slots.push(slot);
    return slot;
  }

  /** Rewrites `heliosdb_asof_<k>.t` in an error message as `t (as of version V)`. */
  explain(message: string): string {
    return message.replace(/"?(heliosdb_asof_\d+)"?\.("?)([^\s"]+)\2/g, (all, slot: string, _q: string, name: string) => {
      const pinned = this.slots.find((x) => x.name === slot)?.file.pinned;
      return pinned === null || pinned === undefined ? all : `${name} (as of version ${pinned})`;
    });
  }

  private detachSlots(): void {
    for (const s of this.slots) this.session.execSimple(`DETACH ${s.name}`);
    this.slots = [];
  }

  /** After a checkout: slots follow the connection to its new branch. */
  private reattachSlots(): void {
    this.detachSlots();
    this.prepareSlot();
  }

  // ---- versions ------------------------------------------------------------

  versions(): VersionRow[] {
    this.needTimeTravel();
    return this.file.store.versionList().map((v) => ({
      version: v.version,
      timestamp: formatTime(v.time),
      time: v.time,
      txn_id: v.txnId,
      pages: v.dbPages,
    }));
  }

  setRetention(r: { seconds?: number | null; versions?: number | null }): void {
    this.needTimeTravel();
    const seconds = r.seconds ?? null;
    const versions = r.versions ?? null;
    if (seconds !== null && !(typeof seconds === 'number' && seconds >= 0)) throw opError('retention seconds must be a non-negative number or null', 'ProgrammingError');
    if (versions !== null && !(Number.isInteger(versions) && versions >= 0)) throw opError('retention versions must be a non-negative integer or null', 'ProgrammingError');
    this.versioning.enableTimeTravel({ seconds, versions } satisfies Retention);
  }

  /**
   * Makes the state at `target` the newest version: one commit that writes
   * back every page changed since, with page 1's change counter and schema
   * cookie moved forward (so every connection sees a change). Synchronous:
   * the caller retries while another connection holds the write lock.
   */
  restore(target: unknown): number {
    this.needTimeTravel();
    if (this.inTransaction()) throw opError('restore_to() cannot run inside a transaction: commit or roll back first', 'ProgrammingError');
    const store = this.file.store;
    const version = this.resolve(SessionVersions.target(target), store);
    if (store.writer !== null) throw new EngineError({ kind: 'OperationalError', message: 'database is locked', sqliteCode: 5, sqliteName: 'SQLITE_BUSY' });
    const ps = store.pageSize;
    const dbPages = store.dbPagesAt(version);
    const pages = new Map<number, Uint8Array>();
    for (const pgno of store.changedPages()) {
      if (pgno > dbPages || !store.changedSince(pgno, version)) continue;
      const page = new Uint8Array(ps);
      store.readPage(pgno, version, page);
      pages.set(pgno, page);
    }
    const page1 = pages.get(1) ?? new Uint8Array(ps);
    if (!pages.has(1)) store.readPage(1, version, page1);
    const now = new Uint8Array(ps);
    store.readPage(1, store.latest, now);
    const nv = new DataView(now.buffer);
    const ov = new DataView(page1.buffer);
    const counter = (nv.getUint32(24) + 1) >>> 0;
    ov.setUint32(24, counter);
    ov.setUint32(92, counter);
    ov.setUint32(40, (Math.max(nv.getUint32(40), ov.getUint32(40)) + 1) >>> 0);
    pages.set(1, page1);
    return store.commit(pages, dbPages, newTxnId());
  }

  // ---- branches ------------------------------------------------------------

  private row(b: BranchRecord | null, name: string): BranchRow {
    return {
      name,
      parent: b?.parent ?? null,
      base: b?.base ?? null,
      created: b === null ? null : formatTime(b.created),
      head: this.headOf(name),
      current: name === this.file.branch,
    };
  }

  /** A branch's newest version (its log is read when no connection has the branch open). */
  private headOf(name: string): number | null {
    const versioning = this.versioning;
    const open = versioning.storeOf(name);
    if (open !== undefined) return open.latest;
    try {
      const store = versioning.acquire(name);
      try {
        return store.latest;
      } finally {
        versioning.release(name);
      }
    } catch {
      return null;
    }
  }

  listBranches(): BranchRow[] {
    this.needBranching();
    return [this.row(null, MAIN_BRANCH), ...this.versioning.list().map((b) => this.row(b, b.name))];
  }

  async createBranch(name: unknown, options: { from?: unknown }): Promise<BranchRow> {
    this.needBranching();
    if (typeof name !== 'string') throw opError('branch name must be a string', 'ProgrammingError');
    const parent = this.file.branch;
    const store = this.file.store;
    const version = options.from === undefined || options.from === null ? store.latest : this.resolve(SessionVersions.target(options.from), store);
    const versioning = this.versioning;
    const id = storageCall(() => versioning.validateNew(name, parent));
    await this.host.prepareSide(this.file, `-hbr${id}`);
    const rec = storageCall(() => versioning.create(name, parent, version));
    return this.row(rec, rec.name);
  }

  checkout(name: unknown): string {
    this.needBranching();
    if (typeof name !== 'string') throw opError('branch name must be a string', 'ProgrammingError');
    if (name === this.file.branch) return name;
    if (this.inTransaction()) {
      throw opError('cannot check out a branch inside a transaction or with unfinished queries: commit, roll back or close cursors first', 'ProgrammingError');
    }
    if (name !== MAIN_BRANCH && this.versioning.find(name) === undefined) throw opError(`no such branch: ${name}`);
    this.detachSlots();
    storageCall(() => this.file.switchBranch(name));
    // The pages and schema SQLite cached are the old branch's.
    this.host.resetCache(this.db, 'main');
    this.session.execSimple('PRAGMA writable_schema=RESET');
    this.host.regroup(this.session);
    this.reattachSlots();
    return name;
  }

  deleteBranch(name: unknown): void {
    this.needBranching();
    if (typeof name !== 'string') throw opError('branch name must be a string', 'ProgrammingError');
    storageCall(() => this.versioning.delete(name));
  }

  private record(name: unknown): BranchRecord {
    if (typeof name !== 'string') throw opError('branch name must be a string', 'ProgrammingError');
    const b = this.versioning.find(name);
    if (b === undefined) throw opError(name === MAIN_BRANCH ? 'the main branch has no base to compare with' : `no such branch: ${name}`);
    return b;
  }

  /**
   * Attaches branch `b`'s head and its base as read-only views, runs `fn`
   * with their schema names, and detaches them.
   */
  private withViews<T>(
    b: BranchRecord,
    fn: (head: string, base: string, headVersion: number) => T,
    from: { branch: string; version: number } = { branch: b.parent, version: b.base },
  ): T {
    if (this.inTransaction()) throw opError('diff and merge cannot run inside a transaction: commit or roll back first', 'ProgrammingError');
    const versioning = this.versioning;
    const headStore = versioning.acquire(b.name);
    try {
      const headVersion = headStore.latest;
      const backend = this.file.backend;
      const path = sqlString(this.file.store.path);
      backend.openAs = { branch: b.name, version: headVersion };
      try {
        this.session.execSimple(`ATTACH ${path} AS heliosdb_head`);
      } finally {
        backend.openAs = null;
      }
      try {
        backend.openAs = from;
        try {
          this.session.execSimple(`ATTACH ${path} AS heliosdb_base`);
        } finally {
          backend.openAs = null;
        }
        try {
          return fn('heliosdb_head', 'heliosdb_base', headVersion);
        } finally {
          this.session.execSimple('DETACH heliosdb_base');
        }
      } finally {
        this.session.execSimple('DETACH heliosdb_head');
      }
    } finally {
      versioning.release(b.name);
    }
  }

  private tools(): ChangesetTools {
    return new ChangesetTools(this.session.raw, this.session.mem, this.host.installer);
  }

  private tablesOf(schema: Map<string, { type: string; sql: string }>): string[] {
    return [...schema].filter(([, o]) => o.type === 'table' && !/^create virtual/i.test(o.sql)).map(([n]) => n);
  }

  diff(name: unknown): DiffReport {
    this.needBranching();
    const b = this.record(name);
    const query = (sql: string) => this.session.queryRows(sql);
    return this.withViews(b, (head, base, headVersion) => {
      const hs = schemaOf(query, head);
      const bs = schemaOf(query, base);
      const changes = schemaDifferences(bs, hs, b.name);
      const same = this.tablesOf(hs).filter((t) => bs.get(t)?.sql === hs.get(t)?.sql);
      const tools = this.tools();
      const tables = tools.count(tools.diff(this.db, head, base, same));
      return {
        branch: b.name,
        parent: b.parent,
        base: b.base,
        head: headVersion,
        tables,
        schema_changes: changes.map(({ object, type, change }) => ({ object, type, change })),
      };
    });
  }

  /**
   * Merges branch `name`'s changes since its base into `into` (default: its
   * parent) in one transaction there. Returns the report; with
   * on_conflict 'abort' a conflict raises ConflictError and nothing changes.
   */
  async merge(name: unknown, options: { into?: unknown; on_conflict?: unknown }): Promise<MergeReport> {
    this.needBranching();
    const b = this.record(name);
    const into = options.into === undefined || options.into === null ? b.parent : options.into;
    if (typeof into !== 'string') throw opError('into must be a branch name', 'ProgrammingError');
    if (into === b.name) throw opError(`cannot merge branch '${b.name}' into itself`, 'ProgrammingError');
    if (into !== MAIN_BRANCH && this.versioning.find(into) === undefined) throw opError(`no such branch: ${into}`);
    const policy = (options.on_conflict ?? 'abort') as OnConflict;
    if (policy !== 'abort' && policy !== 'ours' && policy !== 'theirs') throw opError("on_conflict must be 'abort', 'ours' or 'theirs'", 'ProgrammingError');
    const query = (sql: string) => this.session.queryRows(sql);
    // Changes since the last merge into the same target (or since the branch was made).
    const last = b.merged?.[into];
    const from = last !== undefined ? { branch: b.name, version: last } : { branch: b.parent, version: b.base };
    const { changes, tables, headSchema, headVersion } = this.withViews(b, (head, base, hv) => {
      const hs = schemaOf(query, head);
      const bs = schemaOf(query, base);
      const branchSide = schemaDifferences(bs, hs, `'${b.name}'`);
      if (branchSide.length > 0) {
        throw opError(`cannot merge '${b.name}': its schema changed since it was created (${describeSchemaDifferences(branchSide)}); merge schema changes by hand`);
      }
      const tools = this.tools();
      const names = this.tablesOf(hs);
      const cs = tools.diff(this.db, head, base, names);
      return { changes: cs, tables: tools.count(cs), headSchema: hs, headVersion: hv };
    }, from);
    const merged = tables.reduce((n, t) => n + t.added + t.changed + t.removed, 0);
    const target = this.host.openBranch(this.file, into);
    try {
      await target.control('BEGIN IMMEDIATE');
      let conflicts = 0;
      let skipped = 0;
      let version: number | null = null;
      try {
        const targetSchema = schemaOf((sql) => target.queryRows(sql), 'main');
        const targetSide = schemaDifferences(headSchema, targetSchema, `'${into}'`);
        if (targetSide.length > 0) {
          throw opError(`cannot merge '${b.name}' into '${into}': their schemas differ (${describeSchemaDifferences(targetSide)})`);
        }
        if (changes.length > 0) ({ conflicts, skipped } = this.tools().apply(target.handle, changes, policy, b.name));
      } catch (e) {
        await target.control('ROLLBACK');
        throw e;
      }
      await target.commit();
      if (changes.length > 0) version = target.mvccFile?.store.latest ?? null;
      storageCall(() => this.versioning.recordMerge(b.name, into, headVersion));
      return { branch: b.name, into, tables, merged: merged - skipped, conflicts, on_conflict: policy, version };
    } finally {
      target.close();
    }
  }

  /** Runs `action` (the API's methods). */
  async run(action: HistoryAction, args: unknown[]): Promise<unknown> {
    switch (action) {
      case 'versions':
        return this.versions();
      case 'retention':
        this.setRetention((args[0] ?? {}) as { seconds?: number | null; versions?: number | null });
        return null;
      case 'listBranches':
        return this.listBranches();
      case 'createBranch':
        return this.createBranch(args[0], (args[1] ?? {}) as { from?: unknown });
      case 'checkout':
        return this.checkout(args[0]);
      case 'deleteBranch':
        this.deleteBranch(args[0]);
        return null;
      case 'diff':
        return this.diff(args[0]);
      case 'merge':
        return this.merge(args[0], (args[1] ?? {}) as { into?: unknown; on_conflict?: unknown });
      case 'restore':
        throw opError('restore runs through the session', 'ProgrammingError');
    }
  }
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Runs a catalog operation, turning its StorageError into an OperationalError with the same message. */
function storageCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof StorageError) throw opError(e.message);
    throw e;
  }
}
