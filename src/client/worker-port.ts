/**
 * A session in the browser's database worker, seen from the page: the
 * `SessionPort` the API layer drives, forwarding each call on the session
 * channel (session-channel.ts, worker/protocol.ts).
 *
 * Callbacks cannot cross to the worker as functions: their source is shipped
 * and they run in the worker (see worker/browser-worker.ts), except the trace
 * callback and backup progress, whose calls come back as events and run here,
 * before the call that produced them resolves.
 */
import type { Remote } from 'comlink';
import type { AggregateClass, Authorizer, Collation, ProgressHandler, ScalarFunction, TraceCallback, WindowClass } from '../worker/callbacks.js';
import { EngineError } from '../worker/engine-error.js';
import type { PageBridge } from './page-bridge.js';
import type { EventSink, SessionChannel } from './session-channel.js';
import { EXEC_ARGS, type Reply, type SessionCall, type SessionMethod, type ShippedCallback, type WorkerApi, type WorkerEvent } from '../worker/protocol.js';
import type { BackupOptions, ExecOptions, ExecResult, FetchResult, SessionState, VectorIndexAction } from '../worker/session.js';
import type { HistoryAction } from '../worker/time-travel.js';
import type { SessionPort } from '../worker/session-port.js';
import type { BindParams } from '../worker/values.js';

/** The page's handle on the worker, with a way to fail calls if the worker dies. */
export interface WorkerLink {
  /** Setup calls (Comlink). */
  readonly api: Remote<WorkerApi>;
  /** Session calls. */
  readonly channel: SessionChannel;
  /** The synchronous callback bridge, on cross-origin isolated pages. */
  readonly bridge: PageBridge | null;
  /** Settles like `p`, or rejects if the worker fails to start or crashes first. */
  guard<T>(p: Promise<T>): Promise<T>;
}

/** Unwraps a reply: its value, or its error as the EngineError the API layer translates. */
export function unwrap<T>(r: Reply<T>): T {
  if (!r.ok) throw new EngineError(r.error);
  return r.value;
}

type AnyCallback = ((...args: never[]) => unknown) | (abstract new (...args: never[]) => unknown);

export class WorkerPort implements SessionPort, EventSink {
  private timeout: number;
  private trace: TraceCallback | null = null;
  private progress: BackupOptions['progress'] | undefined;

  constructor(
    private readonly link: WorkerLink,
    /** The session's id in the worker. */
    readonly id: number,
    timeoutMs: number,
    private readonly report: (e: unknown) => void,
  ) {
    this.timeout = timeoutMs;
  }

  get timeoutMs(): number {
    return this.timeout;
  }

  set timeoutMs(ms: number) {
    this.timeout = ms;
    // Calls reach the worker in order: the next statement already sees the new timeout.
    this.call('setTimeout', [ms]).catch((e: unknown) => this.report(e));
  }

  /**
   * A callback as the worker receives it: its source (it then runs in the
   * worker), plus its id on the page's bridge when the page is cross-origin
   * isolated (it then runs here, closures and all, for sessions this tab serves).
   */
  private ship(fn: AnyCallback | null): ShippedCallback | null {
    if (fn === null) return null;
    const source = Function.prototype.toString.call(fn);
    const bridge = this.link.bridge;
    if (bridge === null) return { source };
    return { source, bridge: bridge.register(fn as unknown as (...args: unknown[]) => unknown) };
  }

  private call<T>(method: SessionMethod, args: unknown[]): Promise<T> {
    return this.link.channel.call<T>(this, [0, this.id, method, ...args]);
  }

  dispatch(events: readonly WorkerEvent[]): void {
    for (const ev of events) {
      try {
        if (ev.kind === 'trace') this.trace?.(ev.sql);
        else this.progress?.(ev.status, ev.remaining, ev.total);
      } catch (e) {
        this.report(e);
      }
    }
  }

  execute(sql: string, params: BindParams | undefined, opts?: ExecOptions): Promise<ExecResult> {
    // Flat (EXEC_ARGS): no options object to clone; the rarely set fields only when set.
    const call: SessionCall = [0, this.id, 'execute', sql, params, opts?.batch, opts?.implicitBegin ?? undefined];
    if (opts !== undefined && (opts.textAsBytes || opts.detectTypes || opts.converterNames !== undefined)) {
      call[EXEC_ARGS.textAsBytes] = opts.textAsBytes;
      call[EXEC_ARGS.detectTypes] = opts.detectTypes;
      call[EXEC_ARGS.converterNames] = opts.converterNames;
    }
    return this.link.channel.call<ExecResult>(this, call);
  }

  fetch(cursorId: number, n: number): Promise<FetchResult> {
    return this.call('fetch', [cursorId, n]);
  }

  closeCursor(cursorId: number): Promise<void> {
    return this.call('closeCursor', [cursorId]);
  }

  executemany(sql: string, seq: Iterable<BindParams>, opts?: ExecOptions): Promise<ExecResult> {
    return this.call('executemany', [sql, Array.from(seq), opts]);
  }

  executescript(script: string): Promise<SessionState> {
    return this.call('executescript', [script]);
  }

  control(sql: string): Promise<SessionState> {
    return this.call('control', [sql]);
  }

  commit(): Promise<SessionState> {
    return this.call('commit', []);
  }

  rollback(): Promise<SessionState> {
    return this.call('rollback', []);
  }

  state(): Promise<SessionState> {
    return this.call('state', []);
  }

  interrupt(): Promise<void> {
    return this.call('interrupt', []);
  }

  getLimit(category: number): Promise<number> {
    return this.call('getLimit', [category]);
  }

  setLimit(category: number, value: number): Promise<number> {
    return this.call('setLimit', [category, value]);
  }

  setCachedStatements(n: number): Promise<void> {
    return this.call('setCachedStatements', [n]);
  }

  createFunction(name: string, nArg: number, fn: ScalarFunction | null, deterministic: boolean): Promise<void> {
    return this.call('createFunction', [name, nArg, this.ship(fn), deterministic]);
  }

  createAggregate(name: string, nArg: number, cls: AggregateClass | null): Promise<void> {
    return this.call('createAggregate', [name, nArg, this.ship(cls)]);
  }

  createWindowFunction(name: string, nArg: number, cls: WindowClass | null): Promise<void> {
    return this.call('createWindowFunction', [name, nArg, this.ship(cls)]);
  }

  createCollation(name: string, fn: Collation | null): Promise<void> {
    return this.call('createCollation', [name, this.ship(fn)]);
  }

  setAuthorizer(fn: Authorizer | null): Promise<void> {
    return this.call('setAuthorizer', [this.ship(fn)]);
  }

  setProgressHandler(fn: ProgressHandler | null, n: number): Promise<void> {
    return this.call('setProgressHandler', [this.ship(fn), n]);
  }

  async setTraceCallback(fn: TraceCallback | null): Promise<void> {
    await this.call('setTraceCallback', [fn !== null]);
    this.trace = fn;
  }

  serialize(name?: string): Promise<Uint8Array> {
    return this.call('serialize', [name]);
  }

  deserialize(data: Uint8Array, name?: string): Promise<SessionState> {
    return this.call('deserialize', [data, name]);
  }

  async backup(target: SessionPort, opts: BackupOptions): Promise<void> {
    if (!(target instanceof WorkerPort) || target.link !== this.link) {
      throw new EngineError({ kind: 'NotSupportedError', message: 'backup target must be a connection of the same page' });
    }
    this.progress = opts.progress;
    try {
      await this.call('backup', [target.id, { pages: opts.pages, name: opts.name, sleepMs: opts.sleepMs, progress: opts.progress !== undefined }]);
    } finally {
      this.progress = undefined;
    }
  }

  vectorIndex(action: VectorIndexAction, args: unknown[]): Promise<unknown> {
    return this.call('vectorIndex', [action, args]);
  }

  history(action: HistoryAction, args: unknown[]): Promise<unknown> {
    return this.call('history', [action, args]);
  }

  close(): Promise<void> {
    return this.call('close', []);
  }
}
