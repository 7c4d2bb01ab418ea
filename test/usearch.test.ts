/**
 * USearch compiled to WASM (wasm/usearch.wasm) through its typed binding (dist/vector/usearch.js):
 * recall against exact brute force on clustered vectors, add / remove / replace, serialize and
 * load, filtered search, f16 and i8 storage, and the errors.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import type * as DistanceApi from '../dist/vector/distance.js';
import { readFile } from 'node:fs/promises';
import type * as UsearchApi from '../dist/vector/usearch.js';
import { prng } from './helpers/vfs-oracle.js';

const { loadUsearch, loadUsearchNode, usearchWasmUrl, UsearchIndex, UsearchError } = (await import(
  new URL('../../dist/vector/usearch.js', import.meta.url).href
)) as typeof UsearchApi;

const DIMS = 64;
const N = 4000;
const CLUSTERS = 40;
const QUERIES = 200;
const K = 10;

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * `n` vectors around `CLUSTERS` random centres: unit-variance centres, spread 2 around them, so that
 * clusters overlap and recall depends on the expansion (well-separated clusters make any ANN look perfect).
 */
function clustered(seed: number, n: number, dims = DIMS): Float32Array[] {
  const g = gaussian(prng(seed));
  const centres = Array.from({ length: CLUSTERS }, () => Float32Array.from({ length: dims }, g));
  const c = prng(seed + 1);
  return Array.from({ length: n }, () => {
    const centre = centres[Math.floor(c() * CLUSTERS)];
    return Float32Array.from(centre, (x) => x + 2 * g());
  });
}

/** The exact reference: the engine's own distance definitions (the same as USearch's). */
const { distance } = (await import(new URL('../../dist/vector/distance.js', import.meta.url).href)) as typeof DistanceApi;
const cosineDistance = (a: Float32Array, b: Float32Array): number => distance(a, b, 'cosine');

/** Exact top-k keys (key = position) by cosine distance, among the keys `accept` allows. */
function exact(data: Float32Array[], q: Float32Array, k: number, accept: (key: number) => boolean = () => true): number[] {
  const scored: Array<[number, number]> = [];
  data.forEach((v, i) => {
    if (accept(i)) scored.push([cosineDistance(v, q), i]);
  });
  scored.sort((x, y) => x[0] - y[0]);
  return scored.slice(0, k).map(([, i]) => i);
}

function recall(found: BigUint64Array, truth: number[]): number {
  const t = new Set(truth.map((i) => BigInt(i)));
  let hits = 0;
  for (const key of found) if (t.has(key)) hits++;
  return hits / truth.length;
}

const data = clustered(42, N);
/** Queries: noisy copies of held-out points from the same clusters. */
const queries = clustered(42, N + QUERIES).slice(N);
const truth = queries.map((q) => exact(data, q, K));

let lib: UsearchApi.Usearch;

function build(options: Partial<UsearchApi.IndexOptions> = {}): UsearchApi.UsearchIndex {
  const index = UsearchIndex.create(lib, { dimensions: DIMS, metric: 'cos', ...options });
  data.forEach((v, i) => index.add(BigInt(i), v));
  return index;
}

function meanRecall(index: UsearchApi.UsearchIndex, expansion?: number): number {
  let sum = 0;
  queries.forEach((q, i) => {
    const r = index.search(q, K, expansion);
    assert.equal(r.count, K);
    sum += recall(r.keys, truth[i]);
  });
  return sum / queries.length;
}

describe('usearch.wasm', () => {
  before(async () => {
    lib = await loadUsearch();
  });

  test('loads from the packaged file, from bytes, from a compiled module and from a file: URL', async () => {
    assert.equal(lib.version, '2.26.2');
    assert.equal(lib.UsearchIndex, UsearchIndex);
    const bytes = await readFile(usearchWasmUrl());
    const fromModule = await loadUsearch(new WebAssembly.Module(bytes));
    const fromBytes = await loadUsearch(bytes);
    const fromUrl = await loadUsearch(usearchWasmUrl());
    const fromNode = await loadUsearchNode();
    for (const l of [fromModule, fromBytes, fromUrl, fromNode]) {
      const index = UsearchIndex.create(l, { dimensions: 2, metric: 'l2sq' });
      index.add(7n, new Float32Array([3, 4]));
      const r = index.search(new Float32Array([0, 0]), 5);
      assert.deepEqual([r.count, r.keys[0], r.distances[0]], [1, 7n, 25]);
      index.free();
    }
    // Instances are separate: an index belongs to the library that made it.
    assert.throws(() => UsearchIndex.create({ ...lib }, { dimensions: 2, metric: 'cos' }), UsearchError);
  });

  test(`recall@${K} ≥ 0.95 against exact search (${N} clustered ${DIMS}-d vectors, cosine)`, () => {
    const index = build();
    try {
      assert.equal(index.size, N);
      assert.equal(index.dimensions, DIMS);
      const r = meanRecall(index, 128);
      assert.ok(r >= 0.95, `recall@${K} at expansion 128 is ${r}`);
      // The per-call expansion is applied (measured here: ≈ 0.77 at 16, ≈ 0.997 at 128) and then restored.
      const low = meanRecall(index, 16);
      assert.ok(low < r - 0.05, `recall@${K} at expansion 16 is ${low}, at 128 ${r}`);
      assert.deepEqual(index.search(queries[0], K), index.search(queries[0], K, 64)); // default expansionSearch 64
      // Distances are cosine distances, closest first.
      const res = index.search(queries[0], K);
      for (let i = 0; i < res.count; i++) {
        const expected = cosineDistance(data[Number(res.keys[i])], queries[0]);
        assert.ok(Math.abs(res.distances[i] - expected) < 1e-4, `distance ${res.distances[i]} vs ${expected}`);
        if (i > 0) assert.ok(res.distances[i] >= res.distances[i - 1]);
      }
      // Memory is accounted for.
      assert.ok(index.memoryUsage() > N * DIMS * 4);
    } finally {
      index.free();
    }
  });

  test('add, contains, remove, and re-adding a key replaces its vector', () => {
    const index = UsearchIndex.create(lib, { dimensions: DIMS, metric: 'cos', expansionSearch: 128 });
    try {
      for (let i = 0; i < 500; i++) index.add(BigInt(i), data[i]);
      assert.equal(index.size, 500);
      assert.ok(index.contains(10n));
      assert.ok(!index.contains(500n));

      assert.equal(index.remove(10n), true);
      assert.equal(index.remove(10n), false);
      assert.ok(!index.contains(10n));
      assert.equal(index.size, 499);
      const r = index.search(data[10], 20);
      assert.ok(!Array.from(r.keys).includes(10n), 'a removed key is never a result');

      // Re-add: the key now finds the new vector, and the size does not change.
      index.add(11n, data[3000]);
      assert.equal(index.size, 499);
      const hit = index.search(data[3000], 1);
      assert.equal(hit.keys[0], 11n);
      assert.ok(hit.distances[0] < 1e-5);
      assert.notEqual(index.search(data[11], 1).keys[0], 11n);

      // A removed key can come back.
      index.add(10n, data[10]);
      assert.equal(index.size, 500);
      assert.equal(index.search(data[10], 1).keys[0], 10n);

      // Growing past the reserved capacity, and large keys.
      index.reserve(600);
      for (let i = 500; i < 1500; i++) index.add(BigInt(i) + (1n << 63n), data[i]);
      assert.equal(index.size, 1500);
      assert.equal(index.search(data[1499], 1).keys[0], 1499n + (1n << 63n));
      assert.equal(index.search(data[0], 0).count, 0);
    } finally {
      index.free();
    }
  });

  test('serialize → load gives the same index and the same results', () => {
    const index = build({ connectivity: 12, expansionSearch: 96 });
    const bytes = index.serialize();
    // The expansions are not part of the bytes: without them the copy searches with the default 64.
    const plain = UsearchIndex.load(lib, bytes);
    assert.deepEqual(plain.search(queries[0], K), index.search(queries[0], K, 64));
    plain.free();
    const copy = UsearchIndex.load(lib, bytes, { expansionSearch: 96 });
    try {
      bytes.fill(0); // load copied the bytes
      assert.equal(copy.size, N);
      assert.equal(copy.dimensions, DIMS);
      assert.equal(copy.metric, 'cos');
      assert.equal(copy.quantization, 'f32');
      for (const q of queries.slice(0, 50)) {
        assert.deepEqual(copy.search(q, K), index.search(q, K));
        assert.deepEqual(copy.search(q, K, 300), index.search(q, K, 300));
      }
      // The copy is a live index of its own.
      copy.remove(0n);
      assert.ok(index.contains(0n) && !copy.contains(0n));
      assert.deepEqual(UsearchIndex.load(lib, copy.serialize()).size, N - 1);
    } finally {
      index.free();
      copy.free();
    }
  });

  test('filteredSearch returns only accepted keys, with good recall among them', () => {
    const index = build();
    try {
      let sum = 0;
      let calls = 0;
      queries.slice(0, 100).forEach((q) => {
        const r = index.filteredSearch(q, K, (key) => {
          calls++;
          return key % 3n === 0n;
        });
        assert.equal(r.count, K);
        for (const key of r.keys) assert.equal(key % 3n, 0n);
        sum += recall(r.keys, exact(data, q, K, (i) => i % 3 === 0));
      });
      assert.ok(calls > 0);
      assert.ok(sum / 100 >= 0.9, `filtered recall ${sum / 100}`); // measured: ≈ 0.997

      // Accepting nothing finds nothing; a single key is found.
      assert.equal(index.filteredSearch(queries[0], K, () => false).count, 0);
      const only = index.filteredSearch(data[1234], K, (key) => key === 1234n);
      assert.deepEqual(Array.from(only.keys), [1234n]);

      // A predicate that throws: the error comes out, the index keeps working.
      assert.throws(
        () => index.filteredSearch(queries[0], K, () => {
          throw new TypeError('predicate failed');
        }),
        /predicate failed/,
      );
      // A predicate may itself search (nested calls use their own predicates).
      const nested = index.filteredSearch(queries[1], 3, (key) => {
        if (key === 0n) index.filteredSearch(queries[2], 1, (k2) => k2 === 1n);
        return key % 2n === 1n;
      });
      for (const key of nested.keys) assert.equal(key % 2n, 1n);
      assert.equal(index.search(queries[0], K).count, K);
    } finally {
      index.free();
    }
  });

  test('f16 and i8 storage keep recall and survive a round trip', () => {
    for (const quantization of ['f16', 'i8'] as const) {
      const index = build({ quantization });
      try {
        // Against exact f32 truth; measured here: f16 ≈ 0.997, i8 ≈ 0.93 (its quantisation error caps it).
        const r = meanRecall(index, 128);
        assert.ok(r >= (quantization === 'f16' ? 0.95 : 0.85), `${quantization} recall@${K} is ${r}`);
        const copy = UsearchIndex.load(lib, index.serialize());
        assert.equal(copy.quantization, quantization);
        assert.deepEqual(copy.search(queries[0], K), index.search(queries[0], K));
        copy.free();
      } finally {
        index.free();
      }
    }
    // Stored as f16 or i8, the index is smaller than as f32.
    const f32 = build();
    const i8 = build({ quantization: 'i8' });
    assert.ok(i8.serialize().length < f32.serialize().length * 0.6);
    f32.free();
    i8.free();
  });

  test('errors: wrong dimensions, bad options, bad bytes, reserved keys, use after free', () => {
    const index = UsearchIndex.create(lib, { dimensions: 4, metric: 'l2sq' });
    const three = new Float32Array(3);
    assert.throws(() => index.add(1n, three), { name: 'RangeError', message: 'add: the vector has 3 dimensions, the index has 4' });
    assert.throws(() => index.search(three, 1), /search: the vector has 3 dimensions, the index has 4/);
    assert.throws(() => index.filteredSearch(new Float32Array(5), 1, () => true), /has 5 dimensions, the index has 4/);
    assert.equal(index.size, 0);

    assert.throws(() => UsearchIndex.create(lib, { dimensions: 0, metric: 'cos' }), /dimensions must be an integer ≥ 1/);
    assert.throws(() => UsearchIndex.create(lib, { dimensions: 2.5, metric: 'cos' }), RangeError);
    assert.throws(() => UsearchIndex.create(lib, { dimensions: 2, metric: 'hamming' as UsearchApi.Metric }), /metric must be/);
    assert.throws(() => UsearchIndex.create(lib, { dimensions: 2, metric: 'l2sq', quantization: 'i8' }), /'i8' needs metric 'cos'/);
    assert.throws(() => index.add((1n << 64n) - 1n, new Float32Array(4)), /reserved/);
    assert.throws(() => index.add(-1n, new Float32Array(4)), /key must be/);
    assert.throws(() => index.search(new Float32Array(4), -1), /k must be/);

    // USearch's own messages come through as UsearchError.
    assert.throws(() => UsearchIndex.load(lib, new Uint8Array(256)), (e: unknown) => {
      assert.ok(e instanceof UsearchError);
      assert.match(e.message, /^usearch_metadata_buffer: Not a dense USearch index!$/);
      return true;
    });
    const bytes = index.serialize();
    assert.throws(() => UsearchIndex.load(lib, bytes.subarray(0, bytes.length - 8)), UsearchError);

    index.free();
    index.free(); // idempotent
    assert.throws(() => index.size, { name: 'UsearchError', message: 'this index was freed' });
    assert.throws(() => index.add(1n, new Float32Array(4)), /freed/);
  });

  test('memory grows for large indexes and freed memory is reused', async () => {
    const own = await loadUsearch(await readFile(usearchWasmUrl())); // a fresh instance: 16 MiB to start
    const before = own.memoryBytes();
    const n = 12_000;
    const vectors = clustered(7, n, 256);
    const options: UsearchApi.IndexOptions = { dimensions: 256, metric: 'l2sq', connectivity: 16, expansionAdd: 64 };
    const big = UsearchIndex.create(own, options);
    vectors.forEach((v, i) => big.add(BigInt(i), v));
    const grown = own.memoryBytes();
    assert.ok(grown > before + n * 256 * 4, `${before} → ${grown}`);
    // Vectors written before and after growth are all intact (views are refetched).
    assert.equal(big.size, n);
    assert.ok(big.memoryUsage() > n * 256 * 4);
    for (let i = 0; i < n; i += 101) {
      const r = big.search(vectors[i], 1, 64);
      assert.deepEqual([r.keys[0], r.distances[0]], [BigInt(i), 0]);
    }
    big.free();
    const again = UsearchIndex.create(own, options);
    vectors.forEach((v, i) => again.add(BigInt(i), v));
    assert.equal(own.memoryBytes(), grown, 'an index of the same size fits in the freed memory');
    again.free();
  });
});
