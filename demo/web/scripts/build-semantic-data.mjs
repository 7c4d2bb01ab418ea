#!/usr/bin/env node
// Embeds the semantic-search demo's data set (corpus.mjs) with the page's own embedding function
// (../src/embedding.js) and writes ../src/data/semantic-corpus.bin, which is committed: the demo
// downloads no model and computes nothing at build time. Deterministic: the same corpus and
// function give the same bytes. Prints how often a text's nearest neighbours share its category.
//   node demo/web/scripts/build-semantic-data.mjs            writes the file
//   node demo/web/scripts/build-semantic-data.mjs --check    fails if the committed file is stale
//
// File layout (little-endian):
//   'HSEM'  u32 format (1)  u32 header length H  H bytes of UTF-8 JSON header  padding to 4 bytes
//   then count × dimensions IEEE half floats (the vectors, row after row).
// Header: { format, model, dimensions, count, version, categories: [{ id, label }], rows: [[category index, text], …] }
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createModel, DIMENSIONS, embed, MODEL_ID } from '../src/embedding.js';
import { CATEGORIES } from './corpus.mjs';

const OUT = new URL('../src/data/semantic-corpus.bin', import.meta.url).pathname;
const FORMAT = 1;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half, rounding to nearest even. */
function toHalf(x) {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** IEEE half → number (what the page does when it reads the file). */
function fromHalf(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function cosineDistance(a, b) {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - d / Math.sqrt(na * nb);
}

// ---------------------------------------------------------------------------------------------

const rows = [];
const seen = new Set();
CATEGORIES.forEach((c, ci) => {
  for (const text of c.texts) {
    const key = text.toLowerCase();
    if (seen.has(key)) throw new Error(`duplicate text: ${text}`);
    seen.add(key);
    rows.push([ci, text]);
  }
});
const texts = rows.map((r) => r[1]);
const model = createModel(texts);
const halves = new Uint16Array(rows.length * DIMENSIONS);
rows.forEach(([, text], i) => {
  const v = embed(model, text);
  if (!v.some((x) => x !== 0)) throw new Error(`no content words in: ${text}`);
  for (let j = 0; j < DIMENSIONS; j++) halves[i * DIMENSIONS + j] = toHalf(v[j]);
});
const vectorBytes = Buffer.alloc(halves.length * 2);
halves.forEach((h, i) => vectorBytes.writeUInt16LE(h, i * 2));
const version = createHash('sha256').update(MODEL_ID).update(JSON.stringify(rows)).update(vectorBytes).digest('hex').slice(0, 16);
const header = Buffer.from(
  JSON.stringify({
    format: FORMAT,
    model: MODEL_ID,
    dimensions: DIMENSIONS,
    count: rows.length,
    version,
    categories: CATEGORIES.map((c) => ({ id: c.id, label: c.label })),
    rows,
  }),
  'utf8',
);
const pad = (4 - ((12 + header.length) % 4)) % 4;
const prefix = Buffer.alloc(12);
prefix.write('HSEM', 0, 'latin1');
prefix.writeUInt32LE(FORMAT, 4);
prefix.writeUInt32LE(header.length, 8);
const file = Buffer.concat([prefix, header, Buffer.alloc(pad, 0x20), vectorBytes]);

// How meaningful the neighbours are: leave-one-out, over the vectors as the page reads them.
const vectors = rows.map((_, i) => Float32Array.from(halves.subarray(i * DIMENSIONS, (i + 1) * DIMENSIONS), fromHalf));
let nn1 = 0;
let at10 = 0;
for (let i = 0; i < rows.length; i++) {
  const order = vectors
    .map((v, j) => [j, j === i ? Infinity : cosineDistance(vectors[i], v)])
    .sort((a, b) => a[1] - b[1])
    .slice(0, 10);
  if (rows[order[0][0]][0] === rows[i][0]) nn1++;
  at10 += order.filter(([j]) => rows[j][0] === rows[i][0]).length;
}
const report =
  `${rows.length} texts, ${CATEGORIES.length} categories, ${DIMENSIONS} dims (${MODEL_ID}), ${file.length} bytes, version ${version}; ` +
  `leave-one-out: nearest neighbour in the same category ${((100 * nn1) / rows.length).toFixed(1)}%, ` +
  `top-10 in the same category ${((100 * at10) / (rows.length * 10)).toFixed(1)}% (chance ${(100 / CATEGORIES.length).toFixed(1)}%)`;

if (process.argv.includes('--check')) {
  const committed = existsSync(OUT) ? readFileSync(OUT) : null;
  if (committed === null || !committed.equals(file)) {
    console.error(`${OUT} is stale: run node demo/web/scripts/build-semantic-data.mjs`);
    process.exit(1);
  }
  console.log(`up to date: ${report}`);
} else {
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, file);
  console.log(`wrote ${OUT}: ${report}`);
}
