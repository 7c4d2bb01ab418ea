/**
 * Group commit: autocommit DML statements from many sessions on one database
 * run together in one SQLite transaction on an internal connection, each as
 * its own statement transaction (SQLite's implicit statement savepoint: a
 * failing statement is rolled back alone and fails alone), and are
 * acknowledged after one durable flush. Each caller gets its
 * own statement's `changes` and `lastrowid`, exactly as if it had run alone.
 *
 * Only statements whose meaning cannot depend on the calling connection are
 * grouped: the session decides that (see `Session.groupable`).
 */
import { EngineError, RC } from './engine-error.js';
import type { Session, SessionHost } from './session.js';
import type { BindParams } from './values.js';
import { macrotask, nextTurn } from '../runtime/macrotask.js';

export interface GroupedResult {
  readonly changes: number;
  readonly lastrowid: number | bigint;
}

interface Pending {
  readonly sql: string;
  readonly params: BindParams | undefined;
  readonly deadline: number;
  readonly resolve: (r: GroupedResult) => void;
  readonly reject: (e: unknown) => void;
  result?: GroupedResult;
}

/** Most statements one group runs before it commits. */
const MAX_GROUP = 2000;

export class GroupCommitter {
  private queue: Pending[] = [];
  private running = false;

  constructor(
    private readonly host: SessionHost,
    /** Opens the internal connection (once). */
    private readonly openWriter: () => Session,
  ) {}

  private writer: Session | null = null;

  /** Queues one statement; resolves once it is committed and durable. */
  submit(sql: string, params: BindParams | undefined, timeoutMs: number): Promise<GroupedResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sql, params, deadline: Date.now() + timeoutMs, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let every statement submitted in this turn of the event loop join the group.
        macrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_GROUP);
        await this.runGroup(batch);
        // Let the callers just acknowledged submit their next statements, so
        // they join the next group together instead of splitting into cohorts.
        await nextTurn();
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) {
        this.running = true;
        macrotask(() => void this.drain());
      }
    }
  }

  private async runGroup(batch: Pending[]): Promise<void> {
    let w: Session;
    try {
      w = this.writer ??= this.openWriter();
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    // Take the write lock like any writer: wait (never fail) until the deadlines pass.
    for (;;) {
      try {
        w.execSimple('BEGIN IMMEDIATE');
        break;
      } catch (e) {
        if (!(e instanceof EngineError) || ((e.sqliteCode ?? 0) & 0xff) !== RC.BUSY) {
          for (const p of batch) p.reject(e);
          return;
        }
        const now = Date.now();
        for (const p of batch.filter((q) => q.deadline <= now)) {
          p.reject(new EngineError({ kind: 'OperationalError', message: 'database is locked', sqliteCode: RC.BUSY, sqliteName: 'SQLITE_BUSY' }));
        }
        batch = batch.filter((q) => q.deadline > now);
        if (batch.length === 0) return;
        await this.host.waitForUnlock(Math.min(...batch.map((q) => q.deadline)));
      }
    }
    const done: Pending[] = [];
    for (const p of batch) {
      // Each statement is its own statement transaction: SQLite undoes a failed
      // statement's changes by itself (ABORT, the default) and keeps what FAIL
      // keeps, exactly as in autocommit mode; the others stay. No SAVEPOINT needed.
      try {
        p.result = w.runGrouped(p.sql, p.params);
        done.push(p);
      } catch (e) {
        if (!w.state().inTransaction) {
          // The statement rolled back the whole transaction (ON CONFLICT ROLLBACK,
          // RAISE(ROLLBACK), an interrupt or I/O error): it fails alone; the
          // others run again in the next group.
          p.reject(e);
          this.queue.unshift(...done, ...batch.slice(batch.indexOf(p) + 1));
          return;
        }
        p.reject(e);
      }
    }
    try {
      await w.control('COMMIT');
    } catch (e) {
      try {
        w.execSimple('ROLLBACK');
      } catch (inner) {
        for (const p of done) p.reject(inner);
        return;
      }
      for (const p of done) p.reject(e);
      return;
    }
    for (const p of done) p.resolve(p.result as GroupedResult);
  }

  close(): void {
    this.writer?.close();
    this.writer = null;
  }
}
