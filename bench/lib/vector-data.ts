/**
 * Data for the vector benchmark: clustered vectors from a fixed seed, queries
 * from the same distribution (never dataset members), exact top-k by brute
 * force in JS (the ground truth), and recall@k.
 *
 * Why clustered: uniform random vectors in 384 dimensions have almost no
 * neighbourhood structure (every point is about equally far from every other),
 * so recall figures on them say nothing about real embeddings. Here the
 * vectors come from a two-level mixture: topics, clusters around each topic,
 * points around each cluster, with uneven cluster sizes and spreads.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { prng } from './workload.js';

export interface DatasetSpec {
  readonly count: number;
  readonly queries: number;
  readonly dims: number;
  readonly topics: number;
  readonly clusters: number;
  /** Spread of cluster centres around their topic (per dimension, topics have 1). */
  readonly clusterSpread: number;
  /** Spread of points around their cluster centre: uniform in [min, max] per cluster. */
  readonly pointSpread: readonly [number, number];
  readonly seed: number;
  readonly k: number;
}

export interface Dataset {
  readonly spec: DatasetSpec;
  /** `count × dims` float32s, row i is the vector with rowid / key i + 1. */
  readonly data: Float32Array;
  /** `queries × dims` float32s. */
  readonly queries: Float32Array;
}

/** Standard normal samples (Box–Muller, both values of each pair used). */
function gaussian(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** Builds the dataset and the queries (both deterministic in `spec.seed`). */
export function makeDataset(spec: DatasetSpec): Dataset {
  const { dims } = spec;
  const uni = prng(spec.seed);
  const g = gaussian(uni);
  const topics = Array.from({ length: spec.topics }, () => Float32Array.from({ length: dims }, g));
  const centres = Array.from({ length: spec.clusters }, (_, c) => {
    const t = topics[c % spec.topics];
    return Float32Array.from(t, (x) => x + spec.clusterSpread * g());
  });
  const [lo, hi] = spec.pointSpread;
  const spreads = Float64Array.from({ length: spec.clusters }, () => lo + (hi - lo) * uni());
  // Uneven cluster sizes: log-normal weights, drawn through a cumulative table.
  const weights = Float64Array.from({ length: spec.clusters }, () => Math.exp(0.8 * g()));
  const cumulative = new Float64Array(spec.clusters);
  let sum = 0;
  for (let c = 0; c < spec.clusters; c++) cumulative[c] = sum += weights[c];
  const pick = (): number => {
    const x = uni() * sum;
    let a = 0;
    let b = spec.clusters - 1;
    while (a < b) {
      const m = (a + b) >> 1;
      if (cumulative[m] < x) a = m + 1;
      else b = m;
    }
    return a;
  };
  const fill = (out: Float32Array, rows: number): void => {
    for (let i = 0; i < rows; i++) {
      const c = pick();
      const centre = centres[c];
      const s = spreads[c];
      const o = i * dims;
      for (let d = 0; d < dims; d++) out[o + d] = centre[d] + s * g();
    }
  };
  const data = new Float32Array(spec.count * dims);
  fill(data, spec.count);
  const queries = new Float32Array(spec.queries * dims);
  fill(queries, spec.queries);
  return { spec, data, queries };
}

/** Row `i` of a flat `rows × dims` matrix, as a view (no copy). */
export function row(m: Float32Array, dims: number, i: number): Float32Array {
  return m.subarray(i * dims, (i + 1) * dims);
}

/** Row-normalised copy of a flat matrix, in a SharedArrayBuffer (for the workers). */
function normalisedShared(m: Float32Array, dims: number): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(m.byteLength));
  const rows = m.length / dims;
  for (let i = 0; i < rows; i++) {
    const o = i * dims;
    let n = 0;
    for (let d = 0; d < dims; d++) n += m[o + d] * m[o + d];
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let d = 0; d < dims; d++) out[o + d] = m[o + d] * inv;
  }
  return out;
}

/**
 * Exact cosine top-k of every query (0-based dataset indices, nearest first),
 * by brute force in JS, split over worker threads.
 */
export async function groundTruth(ds: Dataset): Promise<Int32Array[]> {
  const { dims, k } = ds.spec;
  const data = normalisedShared(ds.data, dims);
  const queries = normalisedShared(ds.queries, dims);
  const nq = queries.length / dims;
  const out = new Int32Array(new SharedArrayBuffer(nq * k * 4));
  const workers = Math.max(1, Math.min(availableParallelism(), 8));
  const per = Math.ceil(nq / workers);
  const url = new URL('./vector-gt-worker.js', import.meta.url);
  await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const from = w * per;
      const to = Math.min(nq, from + per);
      if (from >= to) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const worker = new Worker(url, { workerData: { data, queries, out, dims, k, from, to } });
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ground-truth worker exited with ${code}`))));
      });
    }),
  );
  return Array.from({ length: nq }, (_, i) => out.slice(i * k, (i + 1) * k));
}

/** |found ∩ truth| / k (rowids are 1-based: rowid = index + 1). */
export function recallOf(foundRowids: ArrayLike<number>, truth: Int32Array, k: number): number {
  const want = new Set<number>();
  for (let i = 0; i < k; i++) want.add(truth[i] + 1);
  let hits = 0;
  const n = Math.min(k, foundRowids.length);
  for (let i = 0; i < n; i++) if (want.has(foundRowids[i])) hits++;
  return hits / k;
}
