/**
 * The page's end of the session channel (see worker/protocol.ts): session
 * calls as flat arrays on the worker's own message channel, a promise per
 * call settled by the reply with the same sequence number.
 *
 * Kept lean on purpose: a point select is one call, and what this file does
 * per call (one array built, one posted, one Map entry, one small object
 * decoded from the reply) is most of what the page adds to the worker's
 * round trip.
 */
import { EngineError, type EngineErrorData } from '../worker/engine-error.js';
import { COLUMN_SLOTS, EXEC_REPLY, REPLY, type ColumnInfo, type SessionCall, type SessionReply, type WorkerEvent } from '../worker/protocol.js';
import type { ExecResult, FetchResult } from '../worker/session.js';
import type { Cell } from '../worker/values.js';

/** Who receives a call's events (trace lines, backup progress) before its promise settles. */
export interface EventSink {
  dispatch(events: readonly WorkerEvent[]): void;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly sink: EventSink;
}

export class SessionChannel {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Column lists the worker stored here (EXEC replies name them by slot). */
  private readonly columnSlots = new Array<readonly ColumnInfo[] | undefined>(COLUMN_SLOTS);
  private failure: EngineError | null = null;

  constructor(private readonly worker: Worker) {
    worker.addEventListener('message', (ev: MessageEvent<unknown>) => {
      const m = ev.data;
      if (Array.isArray(m)) this.receive(m as SessionReply);
    });
  }

  /**
   * Sends `call` (its `seq`, element 0, is filled in here) and returns the
   * reply's value: an `ExecResult` for EXEC replies, a `FetchResult` for
   * FETCH ones; an error reply rejects with its `EngineError`.
   */
  call<T>(sink: EventSink, call: SessionCall): Promise<T> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const seq = ++this.seq;
    call[0] = seq;
    // Posted first: the worker starts on it while this side settles its bookkeeping.
    this.worker.postMessage(call);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject, sink });
    });
  }

  /** The worker is gone: every pending call, and every later one, fails with `error`. */
  fail(error: EngineError): void {
    this.failure = error;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }

  private receive(m: SessionReply): void {
    const seq = m[0];
    const p = this.pending.get(seq);
    if (p === undefined) return;
    this.pending.delete(seq);
    const events = m[2];
    if (events !== undefined) p.sink.dispatch(events);
    switch (m[1]) {
      case REPLY.VALUE:
        p.resolve(m[3]);
        return;
      case REPLY.ERROR:
        p.reject(new EngineError(m[3] as EngineErrorData));
        return;
      case REPLY.EXEC:
        p.resolve(this.execResult(m));
        return;
      case REPLY.DONE: {
        const r: ExecResult = {
          cursorId: 0,
          columns: null,
          converters: null,
          rows: [],
          rowcount: m[3] as number,
          lastrowid: m[4] as number | bigint,
          inTransaction: m[5] as boolean,
          totalChanges: m[6] as number,
          isDml: m[7] as boolean,
        };
        p.resolve(r);
        return;
      }
      case REPLY.FETCH: {
        const r: FetchResult = {
          rows: m[3] as Cell[][],
          done: m[4] as boolean,
          rowcount: m[5] as number,
          inTransaction: m[6] as boolean,
          totalChanges: m[7] as number,
        };
        p.resolve(r);
        return;
      }
      default:
        p.reject(new EngineError({ kind: 'InternalError', message: `unknown reply kind ${String(m[1])} from the database worker` }));
    }
  }

  private execResult(m: SessionReply): ExecResult {
    const slot = m[EXEC_REPLY.columnSlot] as number;
    let columns = m[EXEC_REPLY.columns] as readonly ColumnInfo[] | null | undefined;
    if (slot >= 0) {
      if (columns === undefined) columns = this.columnSlots[slot];
      else this.columnSlots[slot] = columns as readonly ColumnInfo[];
    }
    return {
      cursorId: m[EXEC_REPLY.cursorId] as number,
      columns: columns ?? null,
      converters: m[EXEC_REPLY.converters] as (string | null)[] | null,
      rows: m[EXEC_REPLY.rows] as Cell[][],
      rowcount: m[EXEC_REPLY.rowcount] as number,
      lastrowid: m[EXEC_REPLY.lastrowid] as number | bigint,
      isDml: m[EXEC_REPLY.isDml] as boolean,
      inTransaction: m[EXEC_REPLY.inTransaction] as boolean,
      totalChanges: m[EXEC_REPLY.totalChanges] as number,
    };
  }
}
