/**
 * Worker of the vector benchmark's ground truth: exact top-k by inner product
 * of row-normalised vectors (= cosine) for the queries [from, to).
 */
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  readonly data: Float32Array;
  readonly queries: Float32Array;
  readonly out: Int32Array;
  readonly dims: number;
  readonly k: number;
  readonly from: number;
  readonly to: number;
}

const { data, queries, out, dims, k, from, to } = workerData as Job;
const n = data.length / dims;
const bestSim = new Float64Array(k);
const bestId = new Int32Array(k);

for (let qi = from; qi < to; qi++) {
  const qo = qi * dims;
  bestSim.fill(-Infinity);
  bestId.fill(-1);
  let floor = -Infinity;
  for (let i = 0; i < n; i++) {
    const o = i * dims;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let d = 0;
    for (; d + 3 < dims; d += 4) {
      s0 += data[o + d] * queries[qo + d];
      s1 += data[o + d + 1] * queries[qo + d + 1];
      s2 += data[o + d + 2] * queries[qo + d + 2];
      s3 += data[o + d + 3] * queries[qo + d + 3];
    }
    for (; d < dims; d++) s0 += data[o + d] * queries[qo + d];
    const s = s0 + s1 + s2 + s3;
    if (s <= floor) continue;
    // Insert into the sorted (descending) top-k.
    let j = k - 1;
    while (j > 0 && bestSim[j - 1] < s) {
      bestSim[j] = bestSim[j - 1];
      bestId[j] = bestId[j - 1];
      j--;
    }
    bestSim[j] = s;
    bestId[j] = i;
    floor = bestSim[k - 1];
  }
  out.set(bestId, qi * k);
}
parentPort?.postMessage('done');
