/**
 * USearch (HNSW vector search) compiled to WebAssembly: a typed binding over its C API.
 *
 * `wasm/usearch.wasm` is a standalone module (no emscripten JS glue; built by
 * `wasm/build-usearch.sh`). It is instantiated here with a handful of imports, so it loads the
 * same way in browsers and workers, Node, Deno and Cloudflare Workers. Where compiling wasm from
 * bytes at run time is forbidden (workerd), import the `.wasm` file as a module and pass the
 * resulting `WebAssembly.Module` to {@link loadUsearch}.
 *
 * Keys are unsigned 64-bit integers (`bigint`); 2^64 − 1 is reserved by USearch for deleted slots.
 * Vectors are `Float32Array`s; the index may store them as f32, f16 or i8 (`quantization`).
 *
 * @example
 * ```ts
 * import { loadUsearchNode, UsearchIndex } from './usearch.js';
 * const lib = await loadUsearchNode();
 * const index = UsearchIndex.create(lib, { dimensions: 3, metric: 'cos' });
 * index.add(1n, new Float32Array([1, 0, 0]));
 * index.add(2n, new Float32Array([0, 1, 0]));
 * const { keys, distances, count } = index.search(new Float32Array([0.9, 0.1, 0]), 1);
 * // count === 1, keys[0] === 1n, distances[0] ≈ 0.006
 * index.free();
 * ```
 */

export type Metric = 'cos' | 'l2sq' | 'ip';
export type Scalar = 'f32' | 'f16' | 'i8';

export interface IndexOptions {
  /** Number of dimensions of every vector. */
  dimensions: number;
  /** Distance: cosine (`1 − cos θ`), squared Euclidean, or inner product (`1 − a·b`). */
  metric: Metric;
  /** How vectors are stored; `i8` only with `cos` (USearch normalises vectors to cast them). Default `f32`. */
  quantization?: Scalar;
  /** Graph edges per node (HNSW `M`). 0 or absent: USearch's default (16). */
  connectivity?: number;
  /** Candidate list size while inserting (`efConstruction`). 0 or absent: USearch's default (128). */
  expansionAdd?: number;
  /** Candidate list size while searching (`ef`). 0 or absent: USearch's default (64). */
  expansionSearch?: number;
}

/** The `count` nearest keys, closest first, with their distances. */
export interface SearchResult {
  keys: BigUint64Array;
  distances: Float32Array;
  count: number;
}

/** An error reported by USearch (its message), or a misuse of this binding. */
export class UsearchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsearchError';
  }
}

/** The instantiated library: pass it to {@link UsearchIndex.create} / {@link UsearchIndex.load}. */
export interface Usearch {
  /** USearch's version, e.g. `2.26.2`. */
  readonly version: string;
  /** The SIMD kernels compiled in (`serial` for this build: the compiler auto-vectorises to wasm SIMD). */
  readonly hardwareAcceleration: string;
  /** The index class bound to this copy of the module (for callers that only hold the library). */
  readonly UsearchIndex: typeof UsearchIndex;
  /** Bytes of wasm memory in use (it grows, never shrinks, up to 4 GiB). */
  memoryBytes(): number;
}

// ---------------------------------------------------------------------------------------------
// The raw module.

type Ptr = number;

/** What usearch.wasm exports (see wasm/build-usearch.sh); sizes and pointers are wasm32 i32s. */
interface UsearchExports {
  readonly memory: WebAssembly.Memory;
  _initialize?(): void;
  malloc(size: number): Ptr;
  free(ptr: Ptr): void;
  usearch_version(): Ptr;
  usearch_hardware_acceleration_compiled(): Ptr;
  usearch_init(options: Ptr, error: Ptr): Ptr;
  usearch_free(index: Ptr, error: Ptr): void;
  usearch_memory_usage(index: Ptr, error: Ptr): number;
  usearch_serialized_length(index: Ptr, error: Ptr): number;
  usearch_save_buffer(index: Ptr, buffer: Ptr, length: number, error: Ptr): void;
  usearch_load_buffer(index: Ptr, buffer: Ptr, length: number, error: Ptr): void;
  usearch_metadata_buffer(buffer: Ptr, length: number, options: Ptr, error: Ptr): void;
  usearch_size(index: Ptr, error: Ptr): number;
  usearch_capacity(index: Ptr, error: Ptr): number;
  usearch_dimensions(index: Ptr, error: Ptr): number;
  usearch_reserve(index: Ptr, capacity: number, error: Ptr): void;
  usearch_expansion_search(index: Ptr, error: Ptr): number;
  usearch_change_expansion_search(index: Ptr, expansion: number, error: Ptr): void;
  usearch_change_expansion_add(index: Ptr, expansion: number, error: Ptr): void;
  usearch_add(index: Ptr, key: bigint, vector: Ptr, kind: number, error: Ptr): void;
  usearch_contains(index: Ptr, key: bigint, error: Ptr): number;
  usearch_remove(index: Ptr, key: bigint, error: Ptr): number;
  usearch_search(index: Ptr, query: Ptr, kind: number, count: number, keys: Ptr, distances: Ptr, error: Ptr): number;
  usearch_wasm_filtered_search(
    index: Ptr, query: Ptr, kind: number, count: number, state: Ptr, keys: Ptr, distances: Ptr, error: Ptr,
  ): number;
}

/** `usearch_metric_kind_t` values (c/usearch.h). */
const METRIC_KIND: Readonly<Record<Metric, number>> = { cos: 1, ip: 2, l2sq: 3 };
const METRIC_NAME: ReadonlyMap<number, Metric> = new Map([[1, 'cos'], [2, 'ip'], [3, 'l2sq']]);
/** `usearch_scalar_kind_t` values (c/usearch.h). */
const SCALAR_KIND: Readonly<Record<Scalar, number>> = { f32: 1, f16: 3, i8: 4 };
const SCALAR_NAME: ReadonlyMap<number, Scalar> = new Map([[1, 'f32'], [3, 'f16'], [4, 'i8']]);
const SCALAR_F32 = SCALAR_KIND.f32;

/** `usearch_init_options_t` on wasm32 (checked by static_asserts in wasm/usearch-filter.cpp). */
const OPTIONS = {
  size: 32,
  metricKind: 0,
  metric: 4,
  quantization: 8,
  dimensions: 12,
  connectivity: 16,
  expansionAdd: 20,
  expansionSearch: 24,
  multi: 28,
} as const;

/** Deleted slots carry this key (USearch's `default_free_value<uint64_t>()`). */
const RESERVED_KEY = (1n << 64n) - 1n;
const ENOSYS = 52;
const WASI_EBADF = 8;

/** One filtered search in progress: its predicate, and the first error the predicate threw. */
interface FilterFrame {
  readonly accept: (key: bigint) => boolean;
  failed: boolean;
  error: unknown;
}

/** The instance and the memory helpers every index shares. */
class Kernel {
  readonly ex: UsearchExports;
  /** A `usearch_error_t` slot, reset before and read after every C call. */
  readonly err: Ptr;
  /** Scratch `usearch_init_options_t`. */
  readonly options: Ptr;
  /** Innermost filtered search last (a predicate may itself search). */
  readonly filters: FilterFrame[] = [];
  /** Set when the module trapped or aborted: its memory can no longer be trusted. */
  dead: unknown = null;
  private buffer: ArrayBuffer | null = null;
  private u8 = new Uint8Array(0);
  private dv = new DataView(new ArrayBuffer(0));

  constructor(ex: UsearchExports) {
    this.ex = ex;
    this.err = this.alloc(4);
    this.options = this.alloc(OPTIONS.size);
  }

  /** The heap as bytes; refetched whenever memory has grown (the old buffer is then detached). */
  heap(): Uint8Array {
    if (this.ex.memory.buffer !== this.buffer) this.refresh();
    return this.u8;
  }

  view(): DataView {
    if (this.ex.memory.buffer !== this.buffer) this.refresh();
    return this.dv;
  }

  private refresh(): void {
    const buffer = this.ex.memory.buffer;
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
  }

  alloc(bytes: number): Ptr {
    const p = this.ex.malloc(Math.max(bytes, 1)) >>> 0;
    if (p === 0) throw new UsearchError(`out of wasm memory allocating ${bytes} bytes`);
    return p;
  }

  cString(ptr: Ptr): string {
    const heap = this.heap();
    let end = ptr;
    while (end < heap.length && heap[end] !== 0) end++;
    return new TextDecoder().decode(heap.subarray(ptr, end));
  }

  /** Clears the error slot; call before a C function that may set it. */
  clear(): Ptr {
    this.view().setUint32(this.err, 0, true);
    return this.err;
  }

  /** Throws the C function's `usearch_error_t`, if it set one. */
  check(what: string): void {
    const msg = this.view().getUint32(this.err, true);
    if (msg !== 0) throw new UsearchError(`${what}: ${this.cString(msg)}`);
  }

  /**
   * Runs `fn` (which calls into wasm). A trap or abort inside the module leaves its memory in an
   * unknown state, so the library refuses every later call instead of returning wrong answers.
   */
  run<T>(fn: () => T): T {
    if (this.dead !== null) {
      throw new UsearchError('usearch.wasm failed earlier and can no longer be used; load it again', { cause: this.dead });
    }
    try {
      return fn();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || e instanceof UsearchAbort) {
        this.dead = e;
        throw new UsearchError(`usearch.wasm trapped: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  /** `env.usearch_filter`: USearch asks whether `key` may be a result of the innermost filtered search. */
  filter(key: bigint): number {
    const frame = this.filters[this.filters.length - 1];
    if (frame === undefined || frame.failed) return 0;
    try {
      // WASM hands i64 to JS as a signed BigInt: keys are unsigned.
      return frame.accept(BigInt.asUintN(64, key)) ? 1 : 0;
    } catch (e) {
      // Never throw through USearch's frames: remember, reject the rest, rethrow after the search.
      frame.failed = true;
      frame.error = e;
      return 0;
    }
  }
}

/** Thrown by the module's `proc_exit` import (C `abort()`, `std::terminate`). */
class UsearchAbort extends Error {
  constructor(code: number) {
    super(`aborted (exit code ${code})`);
    this.name = 'UsearchAbort';
  }
}

const kernels = new WeakMap<Usearch, Kernel>();

function kernelOf(lib: Usearch): Kernel {
  const k = kernels.get(lib);
  if (k === undefined) throw new UsearchError('not a library returned by loadUsearch()');
  return k;
}

function imports(getKernel: () => Kernel | null): WebAssembly.Imports {
  return {
    env: {
      usearch_filter: (key: bigint): number => getKernel()?.filter(key) ?? 0,
      // Views are refetched lazily (Kernel.heap compares buffers), so nothing to do here.
      emscripten_notify_memory_growth: (): void => undefined,
      // Only reachable from USearch's file-path APIs, which are not exported: no file system here.
      __syscall_fstat64: (): number => -ENOSYS,
      __syscall_stat64: (): number => -ENOSYS,
      __syscall_fstatat64: (): number => -ENOSYS,
    },
    wasi_snapshot_preview1: {
      fd_close: (): number => WASI_EBADF,
      proc_exit: (code: number): never => {
        throw new UsearchAbort(code);
      },
    },
  };
}

function isBytes(x: unknown): x is BufferSource {
  return ArrayBuffer.isView(x) || x instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && x instanceof SharedArrayBuffer);
}

/** The packaged `wasm/usearch.wasm`, relative to this file (`src/vector/` or `dist/vector/`). */
export function usearchWasmUrl(): URL {
  // Computed on demand: some runtimes (workerd) give modules no usable import.meta.url.
  try {
    return new URL('../../wasm/usearch.wasm', import.meta.url);
  } catch (e) {
    throw new UsearchError(
      'cannot locate usearch.wasm here (no usable import.meta.url): pass the imported WebAssembly.Module to loadUsearch() ' +
        "(in Cloudflare Workers: import wasm from 'heliosdb-nano/wasm/usearch.wasm')",
      { cause: e },
    );
  }
}

async function readUrl(url: URL): Promise<BufferSource> {
  if (url.protocol === 'file:') {
    // Node and Deno, without an import of node:fs that bundlers for browsers and Workers would trip on.
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const fs = proc?.getBuiltinModule?.('node:fs/promises') as { readFile(u: URL): Promise<Uint8Array<ArrayBuffer>> } | undefined;
    if (fs !== undefined) return fs.readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new UsearchError(`cannot fetch ${url.href}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/**
 * Instantiates usearch.wasm.
 *
 * @param source a compiled `WebAssembly.Module` (required in Cloudflare Workers: import the
 *   `.wasm` file), the module's bytes, or a URL to read (`file:` in Node/Deno, else `fetch`).
 *   Default: the `wasm/usearch.wasm` shipped in this package.
 *
 * @example
 * ```ts
 * // Cloudflare Workers / bundlers that turn .wasm imports into modules:
 * import wasm from 'heliosdb-nano/wasm/usearch.wasm';
 * const lib = await loadUsearch(wasm);
 * ```
 */
export async function loadUsearch(source?: WebAssembly.Module | BufferSource | URL): Promise<Usearch> {
  let kernel: Kernel | null = null;
  const imp = imports(() => kernel);
  let instance: WebAssembly.Instance;
  if (source === undefined || source instanceof URL || isBytes(source)) {
    const bytes = source === undefined || source instanceof URL ? await readUrl(source ?? usearchWasmUrl()) : source;
    const compiled: WebAssembly.WebAssemblyInstantiatedSource = await WebAssembly.instantiate(bytes, imp);
    instance = compiled.instance;
  } else {
    instance = await WebAssembly.instantiate(source, imp);
  }
  const ex = instance.exports as unknown as UsearchExports;
  if (!(ex.memory instanceof WebAssembly.Memory) || typeof ex.usearch_init !== 'function') {
    throw new UsearchError('this wasm module is not usearch.wasm (missing memory or usearch_init exports)');
  }
  ex._initialize?.(); // a reactor module: runs the C++ static constructors once
  const k = new Kernel(ex);
  kernel = k;
  const lib: Usearch = Object.freeze({
    version: k.cString(ex.usearch_version() >>> 0),
    hardwareAcceleration: k.cString(ex.usearch_hardware_acceleration_compiled() >>> 0),
    UsearchIndex,
    memoryBytes: () => ex.memory.buffer.byteLength,
  });
  kernels.set(lib, k);
  return lib;
}

/**
 * Node helper: loads the `wasm/usearch.wasm` shipped in this package from disk.
 *
 * @example
 * ```ts
 * const lib = await loadUsearchNode();
 * ```
 */
export async function loadUsearchNode(): Promise<Usearch> {
  return loadUsearch(usearchWasmUrl());
}

// ---------------------------------------------------------------------------------------------
// Indexes.

/** What the finalizer needs to release an index the program forgot to free. */
interface Owned {
  readonly kernel: Kernel;
  ptr: Ptr;
  /** One query/insert vector of `dimensions` f32s. */
  vector: Ptr;
  /** Result buffers for up to `capacity` hits: u64 keys, f32 distances. */
  keys: Ptr;
  distances: Ptr;
  capacity: number;
}

function release(o: Owned): void {
  if (o.ptr === 0 || o.kernel.dead !== null) return;
  const ex = o.kernel.ex;
  ex.usearch_free(o.ptr, o.kernel.clear());
  ex.free(o.vector);
  if (o.keys !== 0) ex.free(o.keys);
  if (o.distances !== 0) ex.free(o.distances);
  o.ptr = 0;
}

// Not every runtime has FinalizationRegistry (Cloudflare Workers lacked it): then only free() frees.
const finalizer = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Owned>(release) : null;

function checkCount(what: string, n: number, min: number): number {
  if (!Number.isInteger(n) || n < min || n > 0xffffffff) {
    throw new RangeError(`${what} must be an integer ≥ ${min}, not ${String(n)}`);
  }
  return n;
}

function checkKey(key: bigint): bigint {
  if (typeof key !== 'bigint' || key < 0n || key >= RESERVED_KEY) {
    throw new RangeError(`key must be a bigint in [0, 2^64 − 2] (2^64 − 1 is reserved by USearch), not ${String(key)}`);
  }
  return key;
}

/**
 * An HNSW index in wasm memory. Call {@link free} when done (a finalizer frees forgotten ones,
 * eventually). Not safe to share between threads; a worker owns its indexes.
 */
export class UsearchIndex {
  private readonly o: Owned;
  private readonly dims: number;
  /** The storage type and metric, as created or as read from serialized bytes. */
  readonly quantization: Scalar;
  readonly metric: Metric;

  private constructor(kernel: Kernel, ptr: Ptr, dims: number, metric: Metric, quantization: Scalar) {
    this.dims = dims;
    this.metric = metric;
    this.quantization = quantization;
    this.o = { kernel, ptr, vector: 0, keys: 0, distances: 0, capacity: 0 };
    try {
      this.o.vector = kernel.alloc(dims * 4);
    } catch (e) {
      kernel.ex.usearch_free(ptr, kernel.clear());
      throw e;
    }
    finalizer?.register(this, this.o, this);
  }

  /** A new, empty index. */
  static create(lib: Usearch, options: IndexOptions): UsearchIndex {
    const k = kernelOf(lib);
    const dims = checkCount('dimensions', options.dimensions, 1);
    const metric = options.metric;
    if (!(metric in METRIC_KIND)) throw new RangeError(`metric must be 'cos', 'l2sq' or 'ip', not ${String(metric)}`);
    const quantization = options.quantization ?? 'f32';
    if (!(quantization in SCALAR_KIND)) throw new RangeError(`quantization must be 'f32', 'f16' or 'i8', not ${String(quantization)}`);
    if (quantization === 'i8' && metric !== 'cos') {
      throw new RangeError(`quantization 'i8' needs metric 'cos' (USearch normalises vectors to cast them to i8), not '${metric}'`);
    }
    const connectivity = checkCount('connectivity', options.connectivity ?? 0, 0);
    const expansionAdd = checkCount('expansionAdd', options.expansionAdd ?? 0, 0);
    const expansionSearch = checkCount('expansionSearch', options.expansionSearch ?? 0, 0);
    return k.run(() => {
      const dv = k.view();
      const o = k.options;
      dv.setUint32(o + OPTIONS.metricKind, METRIC_KIND[metric], true);
      dv.setUint32(o + OPTIONS.metric, 0, true);
      dv.setUint32(o + OPTIONS.quantization, SCALAR_KIND[quantization], true);
      dv.setUint32(o + OPTIONS.dimensions, dims, true);
      dv.setUint32(o + OPTIONS.connectivity, connectivity, true);
      dv.setUint32(o + OPTIONS.expansionAdd, expansionAdd, true);
      dv.setUint32(o + OPTIONS.expansionSearch, expansionSearch, true);
      dv.setUint32(o + OPTIONS.multi, 0, true); // one vector per key
      const ptr = k.ex.usearch_init(o, k.clear()) >>> 0;
      k.check('usearch_init');
      if (ptr === 0) throw new UsearchError('usearch_init: no index returned');
      return new UsearchIndex(k, ptr, dims, metric, quantization);
    });
  }

  /**
   * An index from the bytes of {@link serialize} (copied: `bytes` may be reused afterwards).
   * The bytes hold the metric, storage type, dimensions, connectivity, vectors and graph, but not
   * the expansions: they are USearch's defaults (128 / 64) unless given again here.
   */
  static load(lib: Usearch, bytes: Uint8Array, options: Pick<IndexOptions, 'expansionAdd' | 'expansionSearch'> = {}): UsearchIndex {
    const k = kernelOf(lib);
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new UsearchError('load: expected the non-empty bytes of serialize()');
    const expansionAdd = checkCount('expansionAdd', options.expansionAdd ?? 0, 0);
    const expansionSearch = checkCount('expansionSearch', options.expansionSearch ?? 0, 0);
    return k.run(() => {
      const buf = k.alloc(bytes.length);
      let ptr = 0;
      try {
        k.heap().set(bytes, buf);
        k.ex.usearch_metadata_buffer(buf, bytes.length, k.options, k.clear());
        k.check('usearch_metadata_buffer');
        const dv = k.view();
        const metric = METRIC_NAME.get(dv.getUint32(k.options + OPTIONS.metricKind, true));
        const quantization = SCALAR_NAME.get(dv.getUint32(k.options + OPTIONS.quantization, true));
        if (metric === undefined || quantization === undefined) {
          throw new UsearchError('load: the serialized index uses a metric or scalar type this binding does not support');
        }
        ptr = k.ex.usearch_init(0, k.clear()) >>> 0; // empty; load_buffer restores the configuration
        k.check('usearch_init');
        k.ex.usearch_load_buffer(ptr, buf, bytes.length, k.clear());
        k.check('usearch_load_buffer');
        if (expansionAdd > 0) k.ex.usearch_change_expansion_add(ptr, expansionAdd, k.clear());
        if (expansionSearch > 0) k.ex.usearch_change_expansion_search(ptr, expansionSearch, k.clear());
        const dims = k.ex.usearch_dimensions(ptr, k.clear()) >>> 0;
        const index = new UsearchIndex(k, ptr, dims, metric, quantization);
        ptr = 0;
        return index;
      } finally {
        if (ptr !== 0) k.ex.usearch_free(ptr, k.clear());
        k.ex.free(buf);
      }
    });
  }

  private live(): Ptr {
    if (this.o.ptr === 0) throw new UsearchError('this index was freed');
    return this.o.ptr;
  }

  private put(what: string, vector: Float32Array): void {
    if (!(vector instanceof Float32Array)) throw new TypeError(`${what}: expected a Float32Array`);
    if (vector.length !== this.dims) {
      throw new RangeError(`${what}: the vector has ${vector.length} dimensions, the index has ${this.dims}`);
    }
    this.o.kernel.heap().set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), this.o.vector);
  }

  /**
   * Adds `vector` under `key`, replacing the key's previous vector if it has one (USearch keeps
   * one vector per key here). The vector is copied; quantised on the way in if the index stores f16/i8.
   */
  add(key: bigint, vector: Float32Array): void {
    checkKey(key);
    const ptr = this.live();
    const k = this.o.kernel;
    k.run(() => {
      const ex = k.ex;
      this.put('add', vector);
      // USearch does not grow on its own: keep room for one more (amortised doubling). Done
      // before removing the key's old vector, so that a failure to grow leaves it in place.
      const size = ex.usearch_size(ptr, k.clear()) >>> 0;
      const capacity = ex.usearch_capacity(ptr, k.clear()) >>> 0;
      if (size + 1 > capacity) this.grow(Math.max(64, capacity * 2));
      if (ex.usearch_contains(ptr, key, k.clear()) !== 0) {
        ex.usearch_remove(ptr, key, k.clear());
        k.check('usearch_remove');
      }
      ex.usearch_add(ptr, key, this.o.vector, SCALAR_F32, k.clear());
      k.check('usearch_add');
    });
  }

  private grow(capacity: number): void {
    const k = this.o.kernel;
    k.ex.usearch_reserve(this.o.ptr, capacity, k.clear());
    k.check('usearch_reserve');
  }

  /** Removes `key`; false if it was not there. */
  remove(key: bigint): boolean {
    checkKey(key);
    const ptr = this.live();
    const k = this.o.kernel;
    return k.run(() => {
      const n = k.ex.usearch_remove(ptr, key, k.clear()) >>> 0;
      k.check('usearch_remove');
      return n > 0;
    });
  }

  contains(key: bigint): boolean {
    checkKey(key);
    const ptr = this.live();
    const k = this.o.kernel;
    return k.run(() => k.ex.usearch_contains(ptr, key, k.clear()) !== 0);
  }

  /** Number of vectors (removed ones excluded). */
  get size(): number {
    const ptr = this.live();
    const k = this.o.kernel;
    return k.run(() => k.ex.usearch_size(ptr, k.clear()) >>> 0);
  }

  get dimensions(): number {
    return this.dims;
  }

  /** Makes room for `capacity` vectors up front (adds grow the index by doubling otherwise). */
  reserve(capacity: number): void {
    checkCount('capacity', capacity, 0);
    this.live();
    this.o.kernel.run(() => this.grow(capacity));
  }

  private results(k: number): void {
    if (k <= this.o.capacity) return;
    const kernel = this.o.kernel;
    const n = Math.max(k, 16);
    const keys = kernel.alloc(n * 8);
    let distances: Ptr;
    try {
      distances = kernel.alloc(n * 4);
    } catch (e) {
      kernel.ex.free(keys);
      throw e;
    }
    if (this.o.keys !== 0) kernel.ex.free(this.o.keys);
    if (this.o.distances !== 0) kernel.ex.free(this.o.distances);
    this.o.keys = keys;
    this.o.distances = distances;
    this.o.capacity = n;
  }

  private collect(count: number): SearchResult {
    const heap = this.o.kernel.heap();
    const keys = new BigUint64Array(count);
    const distances = new Float32Array(count);
    new Uint8Array(keys.buffer).set(heap.subarray(this.o.keys, this.o.keys + count * 8));
    new Uint8Array(distances.buffer).set(heap.subarray(this.o.distances, this.o.distances + count * 4));
    return { keys, distances, count };
  }

  /**
   * The `k` approximate nearest neighbours of `query`. `expansion` overrides the index's
   * `expansionSearch` for this call (larger: better recall, slower; at least `k` is sensible).
   */
  search(query: Float32Array, k: number, expansion?: number): SearchResult {
    checkCount('k', k, 0);
    if (expansion !== undefined) checkCount('expansion', expansion, 1);
    const ptr = this.live();
    const kernel = this.o.kernel;
    return kernel.run(() => {
      const ex = kernel.ex;
      this.put('search', query);
      if (k === 0) return { keys: new BigUint64Array(0), distances: new Float32Array(0), count: 0 };
      this.results(k);
      let previous = -1;
      if (expansion !== undefined) {
        previous = ex.usearch_expansion_search(ptr, kernel.clear()) >>> 0;
        if (previous !== expansion) ex.usearch_change_expansion_search(ptr, expansion, kernel.clear());
        else previous = -1;
      }
      try {
        const count = ex.usearch_search(ptr, this.o.vector, SCALAR_F32, k, this.o.keys, this.o.distances, kernel.clear()) >>> 0;
        kernel.check('usearch_search');
        return this.collect(count);
      } finally {
        if (previous >= 0) ex.usearch_change_expansion_search(ptr, previous, kernel.clear());
      }
    });
  }

  /**
   * Like {@link search}, but only keys for which `accept` returns true can be results. The
   * predicate runs during the graph walk (synchronously, many times); if it throws, the search
   * stops accepting and the error is rethrown. A very selective predicate may find fewer than `k`.
   */
  filteredSearch(query: Float32Array, k: number, accept: (key: bigint) => boolean): SearchResult {
    checkCount('k', k, 0);
    if (typeof accept !== 'function') throw new TypeError('filteredSearch: accept must be a function');
    const ptr = this.live();
    const kernel = this.o.kernel;
    return kernel.run(() => {
      this.put('filteredSearch', query);
      if (k === 0) return { keys: new BigUint64Array(0), distances: new Float32Array(0), count: 0 };
      this.results(k);
      const frame: FilterFrame = { accept, failed: false, error: undefined };
      kernel.filters.push(frame);
      let count: number;
      try {
        count = kernel.ex.usearch_wasm_filtered_search(
          ptr, this.o.vector, SCALAR_F32, k, 0, this.o.keys, this.o.distances, kernel.clear(),
        ) >>> 0;
      } finally {
        kernel.filters.pop();
      }
      if (frame.failed) throw frame.error;
      kernel.check('usearch_filtered_search');
      return this.collect(count);
    });
  }

  /** The whole index (configuration, vectors and graph) as bytes for {@link UsearchIndex.load}. */
  serialize(): Uint8Array {
    const ptr = this.live();
    const k = this.o.kernel;
    return k.run(() => {
      const ex = k.ex;
      const length = ex.usearch_serialized_length(ptr, k.clear()) >>> 0;
      k.check('usearch_serialized_length');
      const buf = k.alloc(length);
      try {
        ex.usearch_save_buffer(ptr, buf, length, k.clear());
        k.check('usearch_save_buffer');
        return k.heap().slice(buf, buf + length);
      } finally {
        ex.free(buf);
      }
    });
  }

  /** Bytes of wasm memory this index holds (USearch's estimate). */
  memoryUsage(): number {
    const ptr = this.live();
    const k = this.o.kernel;
    return k.run(() => k.ex.usearch_memory_usage(ptr, k.clear()) >>> 0);
  }

  /** Releases the index's wasm memory. Idempotent; any other call afterwards throws. */
  free(): void {
    if (this.o.ptr === 0) return;
    finalizer?.unregister(this);
    release(this.o);
  }
}
