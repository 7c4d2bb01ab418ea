/**
 * Exact distances between float32 vectors. The metrics are defined as USearch
 * defines them, so exact search and the ANN index order results alike:
 *   cosine  1 − a·b / (|a| |b|)   (0 for two zero vectors; 1 when one is zero)
 *   l2      √Σ (aᵢ − bᵢ)²
 *   l2sq    Σ (aᵢ − bᵢ)²
 *   dot     1 − a·b               (USearch's inner-product distance)
 */
import { VectorError } from './codec.js';

export type DistanceMetric = 'cosine' | 'l2' | 'l2sq' | 'dot';

export const METRICS: readonly DistanceMetric[] = ['cosine', 'l2', 'l2sq', 'dot'];

export function checkMetric(name: unknown, what: string): DistanceMetric {
  const m = typeof name === 'string' ? name.toLowerCase() : name;
  if (m === 'cos') return 'cosine';
  if (m === 'ip' || m === 'inner_product') return 'dot';
  if (m === 'euclidean') return 'l2';
  if (typeof m !== 'string' || !(METRICS as readonly string[]).includes(m)) {
    throw new VectorError(`${what}: unknown metric ${JSON.stringify(name)}; use one of ${METRICS.join(', ')}`);
  }
  return m as DistanceMetric;
}

export function distance(a: Float32Array, b: Float32Array, metric: DistanceMetric, what = 'vector_distance'): number {
  if (a.length !== b.length) throw new VectorError(`${what}: dimension mismatch: ${a.length} vs ${b.length}`);
  const n = a.length;
  switch (metric) {
    case 'cosine': {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let i = 0; i < n; i++) {
        dot += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
      }
      if (na === 0 && nb === 0) return 0;
      if (na === 0 || nb === 0) return 1;
      return 1 - dot / Math.sqrt(na * nb);
    }
    case 'dot': {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += a[i] * b[i];
      return 1 - dot;
    }
    case 'l2':
    case 'l2sq': {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const d = a[i] - b[i];
        s += d * d;
      }
      return metric === 'l2' ? Math.sqrt(s) : s;
    }
  }
}
