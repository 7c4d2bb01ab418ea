/**
 * The page's end of the synchronous callback bridge (worker/sync-bridge.ts):
 * on a cross-origin isolated page, callbacks registered with
 * `create_function` & co. stay on the page, closures and all, and the worker
 * calls them synchronously while SQLite runs a statement.
 */
import { answer, BRIDGE_BYTES, type BridgeCall } from '../worker/sync-bridge.js';

type Callable = (...args: unknown[]) => unknown;
type Constructible = new () => Record<string, unknown>;

export class PageBridge {
  readonly sab = new SharedArrayBuffer(BRIDGE_BYTES);
  private readonly fns = new Map<number, Callable | Constructible>();
  private readonly instances = new Map<number, Record<string, unknown>>();
  private nextFn = 1;
  private nextInstance = 1;

  constructor(readonly port: MessagePort) {
    port.onmessage = (ev: MessageEvent<BridgeCall>) => this.handle(ev.data);
  }

  /** Whether this page can use the bridge (SharedArrayBuffer needs cross-origin isolation). */
  static available(): boolean {
    return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
  }

  /** Registers a callback (a function, or a class for aggregates) and returns its id. */
  register(fn: Callable | Constructible): number {
    const id = this.nextFn++;
    this.fns.set(id, fn);
    return id;
  }

  private handle(call: BridgeCall): void {
    try {
      answer(this.sab, { value: this.run(call) });
    } catch (error) {
      answer(this.sab, { error });
    }
  }

  private run(call: BridgeCall): unknown {
    switch (call.op) {
      case 'call':
        return (this.fns.get(call.fn) as Callable)(...call.args);
      case 'new': {
        const inst = new (this.fns.get(call.fn) as Constructible)();
        const id = this.nextInstance++;
        this.instances.set(id, inst);
        return id;
      }
      case 'method': {
        const inst = this.instances.get(call.inst);
        if (inst === undefined) throw new Error('aggregate instance is gone');
        if (call.drop) this.instances.delete(call.inst);
        const method = inst[call.name];
        if (typeof method !== 'function') throw new TypeError(`the aggregate class has no method ${call.name}()`);
        return (method as Callable).apply(inst, call.args);
      }
    }
  }
}
