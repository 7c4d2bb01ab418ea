/**
 * The page's end of a minimal request/reply protocol with a dedicated worker:
 * each request is one postMessage carrying an `id`, answered by one message
 * with the same `id` ({@link WorkerReply}). Used for the raw sqlite-wasm worker
 * (raw-protocol.ts) and the official build's per-tab worker (official-protocol.ts).
 */

/** A worker's answer to one request. */
export type WorkerReply<V> =
  | { readonly t: 'ok'; readonly id: number; readonly value: V }
  | { readonly t: 'err'; readonly id: number; readonly message: string };

/** The request shape every protocol here shares. */
export interface WorkerRequest {
  readonly t: string;
  readonly id: number;
}

/** A request of kind `K`, without its id (the client numbers requests). */
export type CallOf<Req extends WorkerRequest, K extends Req['t']> = Omit<Extract<Req, { t: K }>, 'id'>;

/** A promise per request, settled by the reply with the same id. */
export class WorkerClient<Req extends WorkerRequest, Results extends { [K in Req['t']]: unknown }> {
  private n = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<WorkerReply<unknown>>) => {
      const r = ev.data;
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      if (r.t === 'ok') p.resolve(r.value);
      else p.reject(new Error(r.message));
    };
    worker.onerror = (ev: ErrorEvent) => {
      const e = new Error(`worker failed: ${ev.message || 'it could not be loaded'}`);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
  }

  call<K extends Req['t']>(req: CallOf<Req, K>): Promise<Results[K]> {
    const id = ++this.n;
    return new Promise<Results[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id });
    });
  }
}

/** The worker's end: answers `handle(request)` (sync or async) with a {@link WorkerReply}. */
export function serveRequests<Req extends WorkerRequest>(handle: (req: Req) => unknown): void {
  const scope = globalThis as unknown as {
    onmessage: ((ev: MessageEvent<Req>) => void) | null;
    postMessage(message: WorkerReply<unknown>): void;
  };
  const failed = (id: number, e: unknown): WorkerReply<unknown> => ({ t: 'err', id, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  scope.onmessage = (ev: MessageEvent<Req>) => {
    const req = ev.data;
    let value: unknown;
    try {
      value = handle(req);
    } catch (e) {
      scope.postMessage(failed(req.id, e));
      return;
    }
    if (value instanceof Promise) {
      value.then(
        (v: unknown) => scope.postMessage({ t: 'ok', id: req.id, value: v }),
        (e: unknown) => scope.postMessage(failed(req.id, e)),
      );
    } else {
      scope.postMessage({ t: 'ok', id: req.id, value });
    }
  };
}
