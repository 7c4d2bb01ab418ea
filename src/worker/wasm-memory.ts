/**
 * Moving strings and bytes in and out of WASM memory.
 *
 * The heap view is refetched on every access because memory can grow (which
 * detaches old views). One scratch allocation, grown on demand, carries strings
 * and blobs that SQLite copies at once (SQLITE_TRANSIENT binds, prepare).
 */
import type { Ptr, RawExports } from './sqlite-module.js';

interface WasmLike {
  heap8u(): Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export class WasmMemory {
  private scratchPtr: Ptr = 0;
  private scratchSize = 0;

  constructor(
    private readonly wasm: WasmLike,
    private readonly raw: RawExports,
  ) {}

  heap(): Uint8Array {
    return this.wasm.heap8u();
  }

  /** Reads a NUL-terminated UTF-8 string; a null pointer gives null. */
  cstr(ptr: Ptr): string | null {
    if (!ptr) return null;
    const heap = this.wasm.heap8u();
    let end = ptr;
    while (heap[end] !== 0) end++;
    return this.text(ptr, end - ptr, heap);
  }

  /** Decodes `len` bytes of UTF-8 at `ptr`. Short ASCII strings skip TextDecoder. */
  text(ptr: Ptr, len: number, heap: Uint8Array = this.wasm.heap8u()): string {
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
    if (len > 0) out.set(this.wasm.heap8u().subarray(ptr, ptr + len));
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
    const heap = this.wasm.heap8u();
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
    this.wasm.heap8u().set(b, p);
    return p;
  }

  /** Allocates a NUL-terminated copy of `s` that the caller must free with sqlite3_free. */
  allocCString(s: string): Ptr {
    const bytes = encoder.encode(s);
    const p = this.raw.sqlite3_malloc(bytes.length + 1);
    if (!p) throw new RangeError('out of WASM memory');
    const heap = this.wasm.heap8u();
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
