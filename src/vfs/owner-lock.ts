/**
 * Ownership of database files between processes: one engine owns each
 * database (ARCHITECTURE.md §2). Our VFS arbitrates locks only between the
 * connections of one engine, so a second process that opened the same file
 * would commit beside the first and corrupt it. Whoever opens a database file
 * first therefore creates `<db>-hlock` beside it, naming itself; every other
 * engine (another process, or a second engine in this one) is refused until
 * the owner closes the database or dies.
 *
 * The lock file appears atomically with its whole content: it is written to a
 * private temporary name and hard-linked to `<db>-hlock` (`link` fails if the
 * name exists), so a reader never sees a half-written owner. A lock whose
 * owner is gone (no such process, a zombie, a process with the same pid but a
 * later start time, a boot ago) is stale and taken over; see `takeOver` for
 * why two processes that find the same stale lock cannot both win.
 *
 * Node-only (it imports `node:fs`); Deno runs it through its `node:` modules.
 */
import { closeSync, fstatSync, linkSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { StorageError } from './backend.js';

/** Suffix of the lock file beside a database (`app.db-hlock`). */
export const OWNER_LOCK_SUFFIX = '-hlock';

/** What a lock file says about its owner (JSON). */
export interface OwnerInfo {
  /** The software and version that wrote the lock, e.g. "heliosdb-nano 0.1.0". */
  readonly engine: string;
  readonly pid: number;
  readonly host: string;
  /** Linux boot id (/proc/sys/kernel/random/boot_id) when known: a lock from before a reboot is stale. */
  readonly boot: string | null;
  /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22), to tell a reused pid. */
  readonly startTicks: number | null;
  /** When the owner process started (ISO 8601). */
  readonly started: string;
  /** When it took the database (ISO 8601). */
  readonly since: string;
  readonly database: string;
  /** How to reach the owner instead (a server address); null: it serves nobody else. */
  readonly reach: string | null;
  /** Random; tells this lock from any other, including one at the same path later. */
  readonly token: string;
}

/** A lock file too young to judge when it holds no readable owner (being written without `link`). */
const GARBAGE_GRACE_MS = 2000;
/**
 * How long an open waits for another process in the middle of taking a stale lock over, or for an
 * unreadable fresh lock to be written: longer than that grace, so a lock abandoned mid-write is taken
 * over rather than refused.
 */
const CONTENDED_WAIT_MS = GARBAGE_GRACE_MS + 1000;
const POLL_MS = 5;
/** Takeover levels tried before giving up (each needs the previous level's holder dead). */
const MAX_TAKEOVER_LEVELS = 64;

/** Errors creating a lock file that mean "no lock can be kept here" (read-only or missing directory). */
const LOCK_UNAVAILABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR']);
/** Errors from `link` that mean "this file system has no hard links": the lock is then created in place. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

function errnoOf(e: unknown): string | undefined {
  return e instanceof Error ? (e as { code?: string }).code : undefined;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw e;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` (the open is synchronous; only reached while another process is mid-takeover). */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

// ---- this process -----------------------------------------------------------------

interface ProcStat {
  readonly state: string;
  readonly startTicks: number;
}

/** State and start time of a process from /proc/<pid>/stat (Linux), or null where unavailable. */
function procStat(pid: number | 'self'): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses; the fields after the last ')' do not.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[19]);
  return Number.isFinite(startTicks) ? { state: fields[0], startTicks } : null;
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || null;
  } catch {
    return null;
  }
}

let self: { readonly host: string; readonly boot: string | null; readonly startTicks: number | null; readonly started: string } | null = null;

function thisProcess(): NonNullable<typeof self> {
  self ??= {
    host: hostname(),
    boot: readBootId(),
    startTicks: procStat('self')?.startTicks ?? null,
    started: new Date(performance.timeOrigin).toISOString(),
  };
  return self;
}

/** Whether process `pid` (on this host) exists and is not a zombie. */
function processExists(pid: number): boolean {
  let signalled: boolean | null;
  try {
    process.kill(pid, 0);
    signalled = true;
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ESRCH') return false;
    // EPERM: it exists but belongs to another user. Anything else: a runtime without signal 0.
    signalled = code === 'EPERM' ? true : null;
  }
  const stat = procStat(pid);
  // A zombie (killed, not yet reaped by its parent) holds no database.
  if (stat !== null) return stat.state !== 'Z' && stat.state !== 'X';
  if (signalled !== null) return signalled;
  // Neither signal 0 nor an entry in /proc: gone if this system has a /proc, else assume it lives
  // (refusing is the safe mistake).
  return procStat('self') === null;
}

// ---- lock files ------------------------------------------------------------------------

interface LockRead {
  /** The owner, or null when the file does not hold one (garbage, or being written). */
  readonly info: OwnerInfo | null;
  /** Identity of this very file (inode, and the token or the bytes): a stale lock is removed only if it is still this one. */
  readonly identity: string;
  readonly mtimeMs: number;
}

function parseOwner(text: string): OwnerInfo | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.pid !== 'number' || typeof o.host !== 'string' || typeof o.token !== 'string') return null;
  return {
    engine: typeof o.engine === 'string' ? o.engine : 'unknown',
    pid: o.pid,
    host: o.host,
    boot: typeof o.boot === 'string' ? o.boot : null,
    startTicks: typeof o.startTicks === 'number' ? o.startTicks : null,
    started: typeof o.started === 'string' ? o.started : '?',
    since: typeof o.since === 'string' ? o.since : '?',
    database: typeof o.database === 'string' ? o.database : '?',
    reach: typeof o.reach === 'string' ? o.reach : null,
    token: o.token,
  };
}

/** Reads a lock file, or returns null if there is none. */
function readLock(path: string): LockRead | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return null;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    const info = parseOwner(text);
    const what = info !== null ? info.token : createHash('sha256').update(text).digest('hex').slice(0, 16);
    return { info, identity: `${st.dev}:${st.ino}:${what}`, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

type CreateOutcome = 'created' | 'exists' | 'unavailable';

/**
 * Creates `path` holding `text`, atomically, unless it exists: the text goes to a
 * private temporary file that is then hard-linked to `path`. On a file system
 * without hard links, `path` is created exclusively and written in place (a
 * reader may then briefly see it empty: see GARBAGE_GRACE_MS).
 */
function createExclusive(path: string, text: string): CreateOutcome {
  const bytes = new TextEncoder().encode(text);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    if (LOCK_UNAVAILABLE.has(errnoOf(e) ?? '')) return 'unavailable';
    throw e;
  }
  try {
    try {
      writeSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
      return 'created';
    } catch (e) {
      const code = errnoOf(e) ?? '';
      if (code === 'EEXIST') return 'exists';
      if (!NO_HARD_LINKS.has(code)) throw e;
    }
  } finally {
    unlinkQuietly(tmp);
  }
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return 'exists';
    throw e;
  }
  try {
    writeSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
  return 'created';
}

type Verdict =
  /** The owner runs (or cannot be checked): refuse. */
  | { readonly kind: 'alive'; readonly why: 'process' | 'other-host' | 'this-process' }
  /** The owner is gone: the lock may be taken over. */
  | { readonly kind: 'stale'; readonly why: string }
  /** Unreadable and recent: probably being written; look again shortly. */
  | { readonly kind: 'young' };

/** Whether the owner a lock names is still there. */
function judge(lock: LockRead): Verdict {
  const info = lock.info;
  if (info === null) {
    return Date.now() - lock.mtimeMs > GARBAGE_GRACE_MS ? { kind: 'stale', why: 'the lock file names no owner' } : { kind: 'young' };
  }
  const me = thisProcess();
  if (info.host !== me.host) return { kind: 'alive', why: 'other-host' };
  if (info.boot !== null && me.boot !== null && info.boot !== me.boot) return { kind: 'stale', why: 'written before the last reboot' };
  if (info.pid === process.pid) {
    if (info.startTicks !== null && me.startTicks !== null && info.startTicks !== me.startTicks) {
      return { kind: 'stale', why: `pid ${info.pid} was another process's` };
    }
    // Another engine of this process: another thread, or another copy of the package.
    return { kind: 'alive', why: 'this-process' };
  }
  if (!processExists(info.pid)) return { kind: 'stale', why: `process ${info.pid} is gone` };
  if (info.startTicks !== null) {
    const now = procStat(info.pid);
    if (now !== null && now.startTicks !== info.startTicks) return { kind: 'stale', why: `pid ${info.pid} now belongs to another process` };
  }
  return { kind: 'alive', why: 'process' };
}

type TakeoverOutcome = 'removed' | 'contended';

/**
 * Removes the stale lock `stale` from `lockPath`, unless someone else is
 * doing so. Race-free because a stale lock is removed only by the holder of a
 * mutex named after that very lock (`<lock>.takeover-<id>-<level>`, created
 * exclusively): the holder re-reads the lock and removes it only if it is
 * still the same file (same inode and token, and tokens are never reused), so
 * it can never remove a live lock created after the stale one was gone. If a
 * mutex's holder dies mid-takeover, the next process judges that holder as it
 * judges owners and competes for the next level; mutex files are removed only
 * once the stale lock is gone, when a late competitor can do no harm.
 */
function takeOver(lockPath: string, stale: LockRead, text: string): TakeoverOutcome {
  const id = createHash('sha256').update(stale.identity).digest('hex').slice(0, 16);
  const mutex = (level: number): string => `${lockPath}.takeover-${id}-${level}`;
  for (let level = 1; level <= MAX_TAKEOVER_LEVELS; level++) {
    const created = createExclusive(mutex(level), text);
    if (created === 'unavailable') return 'contended';
    if (created === 'exists') {
      const holder = readLock(mutex(level));
      // Gone: its holder finished, so the stale lock is gone too.
      if (holder === null) return 'removed';
      if (judge(holder).kind !== 'stale') return 'contended';
      continue;
    }
    try {
      const now = readLock(lockPath);
      if (now !== null && now.identity === stale.identity) unlinkQuietly(lockPath);
    } finally {
      for (let l = 1; l <= level; l++) unlinkQuietly(mutex(l));
    }
    return 'removed';
  }
  return 'contended';
}

function describeOwner(info: OwnerInfo): string {
  return `pid ${info.pid} on host ${info.host}, since ${info.since}`;
}

function inUseError(database: string, lockPath: string, lock: LockRead, verdict: Verdict): StorageError {
  const info = lock.info;
  let message: string;
  if (info === null) {
    message =
      `database ${database} is being opened by another process (its lock ${lockPath} is being written); ` +
      `try again, or delete ${lockPath} if no process is using the database`;
  } else if (verdict.kind === 'alive' && verdict.why === 'this-process') {
    message =
      `database ${database} is already open in another heliosdb engine of this process (since ${info.since}: ` +
      `another thread, or another copy of the package); open every connection to it through one engine (owner lock: ${lockPath})`;
  } else {
    const reach = info.reach !== null ? `connect through that process at ${info.reach}` : 'connect through that process (server and hybrid modes are not available in this version)';
    const remote =
      verdict.kind === 'alive' && verdict.why === 'other-host'
        ? `; it runs on another host, so this one cannot tell whether it is still alive: if it is not, delete ${lockPath}`
        : '';
    message =
      `database ${database} is in use by another heliosdb process (${describeOwner(info)}); ` +
      `${reach} or close it first${remote} (owner lock: ${lockPath})`;
  }
  return new StorageError('in-use', message);
}

/**
 * Where the lock of `database` lives: beside the file it really is (symbolic
 * links resolved), so that two names of one file share one lock.
 */
function lockPathFor(database: string): string {
  let real: string;
  try {
    real = realpathSync(database);
  } catch {
    try {
      real = join(realpathSync(dirname(database)), basename(database));
    } catch {
      real = database;
    }
  }
  return `${real}${OWNER_LOCK_SUFFIX}`;
}

// ---- the registry ---------------------------------------------------------------------

interface Held {
  readonly lockPath: string;
  /** The canonical name the database was opened under here. */
  readonly database: string;
  /** Null when no lock could be kept (a read-only or missing directory). */
  readonly token: string | null;
  refs: number;
}

/** Locks held by every registry of this process, removed at exit. */
const live = new Set<Held>();
let exitHook = false;

function removeOwnLock(h: Held): void {
  live.delete(h);
  if (h.token === null) return;
  // Only our own lock: never one that replaced it.
  const now = readLock(h.lockPath);
  if (now?.info?.token === h.token) unlinkQuietly(h.lockPath);
}

function onExit(): void {
  for (const h of [...live]) {
    try {
      removeOwnLock(h);
    } catch {
      // Exiting: a lock left behind is judged stale by the next opener.
      continue;
    }
  }
}

/**
 * The owner locks of one engine's databases. `claim(path)` makes this engine
 * the owner of the database file at `path` (creating its lock, or sharing the
 * one it holds) until the returned function is called as often as `claim`
 * was; the last release removes the lock. Throws StorageError('in-use') naming
 * the owner when another process (or another engine here) holds the database.
 */
export class OwnerLocks {
  private readonly held = new Map<string, Held>();

  constructor(
    /** Written into locks as the owner's software, e.g. "heliosdb-nano 0.1.0". */
    private readonly engine: string,
  ) {}

  claim(path: string): () => void {
    const database = resolve(path);
    const lockPath = lockPathFor(database);
    let h = this.held.get(lockPath);
    if (h !== undefined) {
      if (h.database !== database) {
        throw new StorageError(
          'in-use',
          `database ${database} is already open in this process as ${h.database} (the same file under another name); open it under one name`,
        );
      }
      h.refs++;
    } else {
      h = { lockPath, database, token: this.acquire(lockPath, database), refs: 1 };
      this.held.set(lockPath, h);
      live.add(h);
      if (!exitHook) {
        exitHook = true;
        process.once('exit', onExit);
      }
    }
    const held = h;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      this.held.delete(held.lockPath);
      removeOwnLock(held);
    };
  }

  /** Creates the lock, taking a stale one over; returns its token, or null if no lock can be kept here. */
  private acquire(lockPath: string, database: string): string | null {
    const me = thisProcess();
    const now = new Date().toISOString();
    const info: OwnerInfo = {
      engine: this.engine,
      pid: process.pid,
      host: me.host,
      boot: me.boot,
      startTicks: me.startTicks,
      started: me.started,
      since: now,
      database,
      reach: null,
      token: randomBytes(12).toString('hex'),
    };
    const text = `${JSON.stringify(info, null, 2)}\n`;
    const deadline = Date.now() + CONTENDED_WAIT_MS;
    for (;;) {
      const created = createExclusive(lockPath, text);
      if (created === 'created') return info.token;
      // A directory we may not write: nobody can keep a lock, nor a commit log, here. What could be
      // opened is read-only in effect; the foreign-change guard watches for writers with more rights.
      if (created === 'unavailable') return null;
      const current = readLock(lockPath);
      // Released in between: try again.
      if (current === null) continue;
      const verdict = judge(current);
      if (verdict.kind === 'alive') throw inUseError(database, lockPath, current, verdict);
      const removed = verdict.kind === 'stale' && takeOver(lockPath, current, text) === 'removed';
      if (Date.now() > deadline) throw inUseError(database, lockPath, current, verdict);
      // Being written, or being taken over by another process: look again shortly.
      if (!removed) sleepSync(POLL_MS);
    }
  }
}

/** Reads the owner named by the lock beside `database`, or null when there is none (for tools and tests). */
export function readOwner(database: string): OwnerInfo | null {
  return readLock(lockPathFor(resolve(database)))?.info ?? null;
}
