/**
 * The semantic-search data set: `data/semantic-corpus.bin`, written (and
 * committed) by scripts/build-semantic-data.mjs: 320 short texts in 8
 * categories with their embeddings, precomputed by embedding.js. Vite emits
 * it as a hashed asset, so the service worker precaches it with the rest of
 * the build and the panel works offline.
 */
import { DIMENSIONS, MODEL_ID } from './embedding.js';

export interface Category {
  readonly id: string;
  readonly label: string;
}

export interface Dataset {
  /** Hash of the data set's contents (texts, vectors, model): tells a stored copy is current. */
  readonly version: string;
  readonly model: string;
  readonly dimensions: number;
  readonly categories: readonly Category[];
  /** Rows in file order; `id` is the 1-based position, the table's rowid. */
  readonly rows: readonly { readonly id: number; readonly category: string; readonly text: string }[];
  /** One float32 vector per row, unit length. */
  readonly vectors: readonly Float32Array[];
  /** Size of the file, in bytes. */
  readonly bytes: number;
}

interface Header {
  format: number;
  model: string;
  dimensions: number;
  count: number;
  version: string;
  categories: Category[];
  rows: [number, string][];
}

/** Where the asset is (Vite rewrites this to the hashed file of the build). */
export const DATASET_URL = new URL('./data/semantic-corpus.bin', import.meta.url);

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Parses the file; throws on anything but format 1 of the current embedding function. */
export function parseDataset(buffer: ArrayBuffer): Dataset {
  const bytes = new Uint8Array(buffer);
  const dv = new DataView(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== 'HSEM' || dv.getUint32(4, true) !== 1) throw new Error('semantic-corpus.bin: not a format-1 data set file');
  const headerLength = dv.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as Header;
  if (header.model !== MODEL_ID || header.dimensions !== DIMENSIONS) {
    throw new Error(`semantic-corpus.bin was made with ${header.model} (${header.dimensions} dims), the page embeds with ${MODEL_ID}: rebuild it`);
  }
  const start = 12 + headerLength + ((4 - ((12 + headerLength) % 4)) % 4);
  const dims = header.dimensions;
  if (buffer.byteLength !== start + header.count * dims * 2) throw new Error('semantic-corpus.bin: truncated');
  const vectors = header.rows.map((_, i) => {
    const v = new Float32Array(dims);
    for (let j = 0; j < dims; j++) v[j] = halfToFloat(dv.getUint16(start + (i * dims + j) * 2, true));
    return v;
  });
  return {
    version: header.version,
    model: header.model,
    dimensions: dims,
    categories: header.categories,
    rows: header.rows.map(([c, text], i) => ({ id: i + 1, category: header.categories[c].id, text })),
    vectors,
    bytes: buffer.byteLength,
  };
}

/** Fetches and parses the data set (from the service worker's cache when offline). */
export async function loadDataset(): Promise<Dataset> {
  const res = await fetch(DATASET_URL);
  if (!res.ok) throw new Error(`cannot load the data set (${DATASET_URL.pathname}): HTTP ${res.status}`);
  return parseDataset(await res.arrayBuffer());
}
