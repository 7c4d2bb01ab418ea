/**
 * Synchronous calls from the database worker into the page, for callbacks
 * registered on the page when it is cross-origin isolated (COOP/COEP give it
 * SharedArrayBuffer and Atomics).
 *
 * SQLite calls a user function synchronously inside `sqlite3_step`, so the
 * worker cannot await the page. Instead it posts the call on a MessagePort and
 * blocks in `Atomics.wait` on a shared buffer; the page runs the callback and
 * writes the result into the buffer, then wakes it. The page's event loop is
 * free meanwhile: it is awaiting the statement's promise.
 *
 * Buffer: Int32 [0] state (0 idle, 1 waiting for the page, 2 answered),
 * [1] value type, [2] payload length; payload bytes from offset 16.
 */

export const BRIDGE_BYTES = 4 * 1024 * 1024;
const HEADER = 16;
const IDLE = 0;
const WAITING = 1;
const ANSWERED = 2;

/** Value types in the buffer. */
const T_NULL = 0;
const T_BIGINT = 1;
const T_NUMBER = 2;
const T_TEXT = 3;
const T_BLOB = 4;
const T_ERROR = 5;
const T_BOOLEAN = 6;
const T_UNSUPPORTED = 7;
const T_BIG_DIGITS = 8;

/** One call the worker asks the page to make. */
export type BridgeCall =
  | { readonly op: 'call'; readonly fn: number; readonly args: unknown[] }
  | { readonly op: 'new'; readonly fn: number }
  | { readonly op: 'method'; readonly inst: number; readonly name: string; readonly args: unknown[]; readonly drop?: boolean };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The page's side: writes a callback's outcome for the waiting worker. */
export function answer(sab: SharedArrayBuffer, outcome: { value: unknown } | { error: unknown }): void {
  const head = new Int32Array(sab, 0, 4);
  const body = new Uint8Array(sab, HEADER);
  let type: number;
  let len = 0;
  const put = (bytes: Uint8Array): void => {
    if (bytes.length > body.length) throw new RangeError(`callback result of ${bytes.length} bytes exceeds the ${body.length}-byte bridge`);
    body.set(bytes);
    len = bytes.length;
  };
  try {
    if ('error' in outcome) {
      type = T_ERROR;
      const e = outcome.error;
      put(encoder.encode(e instanceof Error ? `${e.name}: ${e.message}` : String(e)));
    } else {
      const v = outcome.value;
      if (v === null || v === undefined) type = T_NULL;
      else if (typeof v === 'bigint') {
        if (v < -(2n ** 63n) || v >= 2n ** 63n) {
          // Beyond 64 bits: passed as digits, so the worker reports it as the module does (too big).
          type = T_BIG_DIGITS;
          put(encoder.encode(v.toString()));
        } else {
          type = T_BIGINT;
          new DataView(sab, HEADER, 8).setBigInt64(0, v, true);
          len = 8;
        }
      } else if (typeof v === 'number') {
        type = T_NUMBER;
        new DataView(sab, HEADER, 8).setFloat64(0, v, true);
        len = 8;
      } else if (typeof v === 'boolean') {
        type = T_BOOLEAN;
        body[0] = v ? 1 : 0;
        len = 1;
      } else if (typeof v === 'string') {
        type = T_TEXT;
        put(encoder.encode(v));
      } else if (v instanceof Uint8Array || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
        type = T_BLOB;
        put(v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      } else {
        type = T_UNSUPPORTED;
      }
    }
  } catch (e) {
    type = T_ERROR;
    const msg = encoder.encode(e instanceof Error ? e.message : String(e));
    body.set(msg.subarray(0, Math.min(msg.length, body.length)));
    len = Math.min(msg.length, body.length);
  }
  head[1] = type;
  head[2] = len;
  Atomics.store(head, 0, ANSWERED);
  Atomics.notify(head, 0);
}

/** Sentinel for a value the page could not pass (the caller rejects it as an unsupported result). */
export const UNSUPPORTED: unique symbol = Symbol('unsupported callback result');

/** The worker's side: makes blocking calls into the page. */
export class SyncCaller {
  private readonly head: Int32Array;

  constructor(
    private readonly sab: SharedArrayBuffer,
    private readonly port: MessagePort,
    private readonly timeoutMs = 30_000,
  ) {
    this.head = new Int32Array(sab, 0, 4);
  }

  call(request: BridgeCall): unknown {
    const head = this.head;
    Atomics.store(head, 0, WAITING);
    this.port.postMessage(request);
    const r = Atomics.wait(head, 0, WAITING, this.timeoutMs);
    if (r === 'timed-out') {
      Atomics.store(head, 0, IDLE);
      throw new Error(`the page did not answer a callback within ${this.timeoutMs / 1000} s (is its main thread blocked?)`);
    }
    const type = head[1];
    const len = head[2];
    Atomics.store(head, 0, IDLE);
    const body = new Uint8Array(this.sab, HEADER, len);
    switch (type) {
      case T_NULL:
        return null;
      case T_BIGINT:
        return new DataView(this.sab, HEADER, 8).getBigInt64(0, true);
      case T_NUMBER:
        return new DataView(this.sab, HEADER, 8).getFloat64(0, true);
      case T_BOOLEAN:
        return body[0] === 1;
      case T_TEXT:
        return decoder.decode(body.slice());
      case T_BLOB:
        return body.slice();
      case T_BIG_DIGITS:
        return BigInt(decoder.decode(body.slice()));
      case T_ERROR:
        throw new Error(decoder.decode(body.slice()));
      default:
        return UNSUPPORTED;
    }
  }
}
