/**
 * The shell's handle on the database thread: typed calls answered in order,
 * progress reports routed to the caller, and the shared interrupt flag.
 */
import { Worker } from 'node:worker_threads';
import { INTERRUPT_FLAG, type CallName, type Calls, type ErrorInfo, type Reply, type Request } from './protocol.js';

/** An error reported by the database thread. */
export class DbCallError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
    this.name = info.kind;
  }

  /** SQLite's primary result code (the extended code's low byte), or 0. */
  get primaryCode(): number {
    return (this.info.code ?? 0) & 0xff;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
  progress?: (done: number, total: number) => void;
}

export class DbClient {
  private readonly worker: Worker;
  private readonly flag: Int32Array;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | null = null;

  constructor() {
    const shared = new SharedArrayBuffer(4);
    this.flag = new Int32Array(shared);
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { interrupt: shared } });
    this.worker.on('message', (m: Reply) => this.receive(m));
    this.worker.on('error', (e: Error) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`the database thread exited (code ${code})`)));
    // The shell decides when the process ends, not an idle worker.
    this.worker.unref();
  }

  private receive(m: Reply): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    if (m.type === 'progress') {
      p.progress?.(m.done, m.total);
      return;
    }
    this.pending.delete(m.id);
    if (m.type === 'result') p.resolve(m.result);
    else p.reject(new DbCallError(m.error));
  }

  private fail(e: Error): void {
    this.exited ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Sends one call; resolves with its result or rejects with a DbCallError. */
  call<K extends CallName>(
    call: K,
    args: Calls[K]['args'],
    progress?: (done: number, total: number) => void,
  ): Promise<Calls[K]['result']> {
    if (this.exited !== null) return Promise.reject(this.exited);
    const id = this.nextId++;
    const req: Request<K> = { id, call, args };
    return new Promise<Calls[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      this.worker.ref();
      this.worker.postMessage(req);
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    });
  }

  /** Asks the running statement to stop (its progress handler sees the flag). */
  interrupt(): void {
    Atomics.store(this.flag, INTERRUPT_FLAG, 1);
  }

  /** Whether an interrupt was asked for since the last `clearInterrupt()`. */
  get interrupted(): boolean {
    return Atomics.load(this.flag, INTERRUPT_FLAG) !== 0;
  }

  clearInterrupt(): void {
    Atomics.store(this.flag, INTERRUPT_FLAG, 0);
  }

  /** Closes the connection and stops the thread. */
  async shutdown(): Promise<void> {
    if (this.exited === null) {
      try {
        await this.call('close', {});
      } finally {
        this.exited = new Error('the database thread was stopped');
        await this.worker.terminate();
      }
    }
  }
}
