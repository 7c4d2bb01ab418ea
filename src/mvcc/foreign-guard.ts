/**
 * Notices another program writing a database file while a page store has it
 * open (the `sqlite3` CLI, Python: they take POSIX advisory locks, which we
 * cannot see or take from JavaScript). The store caches the file's pages and
 * its checkpoints write its newest images into the file, so going on would
 * read stale pages and then overwrite the other program's changes.
 *
 * The guard remembers the file's size and its 100-byte header (which holds
 * SQLite's file change counter, bytes 24–27, bumped by every native commit in
 * rollback mode, and the journal-mode bytes) as the store last left them. It
 * compares them before every checkpoint writes the file, before a commit log
 * is started (its fingerprint must be of the file our commits were made on),
 * and at the start of a transaction at most once every `intervalMs`. Once a
 * change is seen the guard trips for good: transactions fail with its error,
 * checkpoints stop, and the store's close leaves the file as the other
 * program wrote it and keeps the commit log (whose recovery then refuses to
 * replay it over the changed file, with a message naming both files).
 *
 * A check costs an fstat and a 100-byte read. It is a detector, not a lock: a
 * write that lands between a check and the checkpoint that follows it is not
 * seen (see docs/mvcc.md, "Other processes and native tools").
 */
import { StorageError, type StorageFile } from '../vfs/backend.js';

const HEADER_BYTES = 100;
/** Default spacing of the checks at transaction start. */
export const FOREIGN_CHECK_INTERVAL_MS = 25;

function counterOf(header: Uint8Array, length: number): string {
  if (length < 28) return 'none';
  return String(((header[24] << 24) | (header[25] << 16) | (header[26] << 8) | header[27]) >>> 0);
}

export class ForeignGuard {
  private size = 0;
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerLength = 0;
  private readonly probe = new Uint8Array(HEADER_BYTES);
  private nextCheck: number;
  /** Set once another program's change was seen: the store then refuses to go on. */
  error: StorageError | null = null;

  constructor(
    private readonly path: string,
    /** The database file as the store holds it now (it may be reopened for writing). */
    private readonly file: () => StorageFile,
    private readonly intervalMs = FOREIGN_CHECK_INTERVAL_MS,
  ) {
    this.rebase();
    this.nextCheck = performance.now() + intervalMs;
  }

  /** Takes the file as it is now as the expected state (after the store's own writes). */
  rebase(): void {
    const f = this.file();
    this.size = f.size();
    this.headerLength = f.read(this.header, 0);
  }

  /** At a transaction's start: `verify`, at most once every intervalMs (once tripped, always throws). */
  check(): void {
    if (this.error !== null) throw this.error;
    const now = performance.now();
    if (now < this.nextCheck) return;
    this.nextCheck = now + this.intervalMs;
    this.verify();
  }

  /** Throws (and trips) if the file is not as the store left it. */
  verify(): void {
    if (this.error !== null) throw this.error;
    const f = this.file();
    const size = f.size();
    const got = size === this.size ? f.read(this.probe, 0) : 0;
    if (size === this.size && got === this.headerLength && this.sameHeader(got)) return;
    const what =
      size !== this.size
        ? `its size went from ${this.size} to ${size} bytes`
        : `its header changed (file change counter ${counterOf(this.header, this.headerLength)} → ${counterOf(this.probe, got)})`;
    this.error = new StorageError(
      'io',
      `${this.path} was changed by another program while heliosdb had it open (${what}); heliosdb stopped using it ` +
        `so as not to overwrite those changes. Close every connection to it here, and let one program at a time ` +
        `write the file (close heliosdb before using native tools on it, or use them through heliosdb)`,
    );
    throw this.error;
  }

  /** Before the store writes the file: false (and tripped) if another program changed it. */
  mayWrite(): boolean {
    if (this.error === null) {
      try {
        this.verify();
      } catch (e) {
        if (e !== this.error) throw e;
      }
    }
    return this.error === null;
  }

  /** Whether it tripped. */
  get tripped(): boolean {
    return this.error !== null;
  }

  private sameHeader(n: number): boolean {
    const a = this.header;
    const b = this.probe;
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
    return true;
  }
}
