/**
 * Moving strings and bytes in and out of WASM memory.
 *
 * Memory can grow, which detaches old views: the heap view is cached and
 * refetched once it has been detached (sqlite-wasm's own `heap8u()` reads the
 * costly `memory.buffer` getter on every call). One scratch allocation, grown
 * on demand, carries strings and blobs that SQLite copies at once
 * (SQLITE_TRANSIENT binds, prepare).
 */
import type { Ptr, RawExports } from './sqlite-module.js';

interface WasmLike {
  heap8u(): Uint8Array;
}

const encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the stored text, not a byte-order mark to drop.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export class WasmMemory {
  private scratchPtr: Ptr = 0;
  private scratchSize = 0;
  /** The cached heap view; null until first use, or always for shared memory. */
  private view: Uint8Array | null = null;
  /** False when the memory is shared (its views are never detached, so staleness is undetectable). */
  private cacheView = true;

  constructor(
    private readonly wasm: WasmLike,
    private readonly raw: RawExports,
  ) {}

  /** The whole WASM heap as bytes; valid until the next call that may grow memory. */
  heap(): Uint8Array {
    const v = this.view;
    // Growing a (non-shared) WebAssembly.Memory detaches its old buffer: views on it read as empty.
    if (v !== null && v.byteLength !== 0) return v;
    const fresh = this.wasm.heap8u();
    if (this.cacheView) {
      if (typeof SharedArrayBuffer !== 'undefined' && fresh.buffer instanceof SharedArrayBuffer) this.cacheView = false;
      else this.view = fresh;
    }
    return fresh;
  }

  /** Reads a NUL-terminated UTF-8 string; a null pointer gives null. */
  cstr(ptr: Ptr): string | null {
    if (!ptr) return null;
    const heap = this.heap();
    let end = ptr;
    while (heap[end] !== 0) end++;
    return this.text(ptr, end - ptr, heap);
  }

  /** Decodes `len` bytes of UTF-8 at `ptr`. Short ASCII strings skip TextDecoder. */
  text(ptr: Ptr, len: number, heap: Uint8Array = this.heap()): string {
    if (len === 0) return '';
    if (len <= 24) {
      let s = '';
      for (let i = 0; i < len; i++) {
        const c = heap[ptr + i];
        if (c >= 0x80) return decoder.decode(heap.subarray(ptr, ptr + len));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decoder.decode(heap.subarray(ptr, ptr + len));
  }

  /** Copies `len` bytes at `ptr` out of WASM memory. */
  bytes(ptr: Ptr, len: number): Uint8Array {
    const out = new Uint8Array(len);
    if (len > 0) out.set(this.heap().subarray(ptr, ptr + len));
    return out;
  }

  /** A scratch buffer of at least `n` bytes, valid until the next scratch call. */
  scratch(n: number): Ptr {
    if (n > this.scratchSize) {
      if (this.scratchPtr) this.raw.sqlite3_free(this.scratchPtr);
      const size = Math.max(256, 1 << Math.ceil(Math.log2(n)));
      const p = this.raw.sqlite3_malloc(size);
      if (!p) throw new RangeError(`out of WASM memory allocating ${size} bytes`);
      this.scratchPtr = p;
      this.scratchSize = size;
    }
    return this.scratchPtr;
  }

  /**
   * Encodes `s` as NUL-terminated UTF-8 in the scratch buffer; returns the
   * pointer and the byte length (without the NUL).
   */
  encodeScratch(s: string): [Ptr, number] {
    const max = s.length * 3 + 1;
    const p = this.scratch(max);
    const heap = this.heap();
    let n: number;
    if (s.length <= 24) {
      n = 0;
      for (; n < s.length; n++) {
        const c = s.charCodeAt(n);
        if (c >= 0x80) break;
        heap[p + n] = c;
      }
      if (n < s.length) n = encoder.encodeInto(s, heap.subarray(p, p + max)).written;
    } else {
      n = encoder.encodeInto(s, heap.subarray(p, p + max)).written;
    }
    heap[p + n] = 0;
    return [p, n];
  }

  /** Copies bytes into the scratch buffer. */
  bytesScratch(b: Uint8Array): Ptr {
    const p = this.scratch(Math.max(1, b.length));
    this.heap().set(b, p);
    return p;
  }

  /** Allocates a NUL-terminated copy of `s` that the caller must free with sqlite3_free. */
  allocCString(s: string): Ptr {
    const bytes = encoder.encode(s);
    const p = this.raw.sqlite3_malloc(bytes.length + 1);
    if (!p) throw new RangeError('out of WASM memory');
    const heap = this.heap();
    heap.set(bytes, p);
    heap[p + bytes.length] = 0;
    return p;
  }

  dispose(): void {
    if (this.scratchPtr) this.raw.sqlite3_free(this.scratchPtr);
    this.scratchPtr = 0;
    this.scratchSize = 0;
  }
}
