/**
 * Vectors as SQLite values.
 *
 * A float32 vector is a BLOB of little-endian float32s, nothing else: the
 * form every vector tool reads, and what a `Float32Array` parameter binds to.
 * Quantised forms start with a 4-byte tag whose bytes, read as a float32, are
 * a NaN, which no float32 vector may contain, so they are never mistaken for
 * one:
 *   f16:  tag 01 00 C0 7F, then one IEEE half per dimension;
 *   int8: tag 02 00 C0 7F, a float32 scale, then one signed byte per
 *         dimension (value = byte × scale).
 * JSON text (`'[0.1, 2, -3e-2]'`) is accepted wherever a vector is.
 */

export type VectorFormat = 'f32' | 'f16' | 'int8';

const TAG_F16 = 0x01;
const TAG_INT8 = 0x02;

/** A vector was malformed or the wrong shape; the message says how. */
export class VectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VectorError';
  }
}

function tagOf(b: Uint8Array): number {
  return b.length >= 4 && b[1] === 0 && b[2] === 0xc0 && b[3] === 0x7f ? b[0] : 0;
}

function checkFinite(v: Float32Array, what: string): Float32Array {
  if (v.length === 0) throw new VectorError(`${what}: a vector needs at least one dimension`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new VectorError(`${what}: element ${i} is ${v[i]}; vectors hold finite numbers only`);
  }
  return v;
}

/** Parses JSON text `[x, y, …]` into float32s. */
export function parseJsonVector(text: string, what: string): Float32Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VectorError(`${what}: malformed vector text ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}: expected a JSON array of numbers`);
  }
  if (!Array.isArray(parsed)) throw new VectorError(`${what}: expected a JSON array of numbers, got ${typeof parsed}`);
  const out = new Float32Array(parsed.length);
  for (let i = 0; i < parsed.length; i++) {
    const x: unknown = parsed[i];
    if (typeof x !== 'number') throw new VectorError(`${what}: element ${i} is ${JSON.stringify(x)}, not a number`);
    out[i] = x;
  }
  return checkFinite(out, what);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  const mant = b & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >> (1 - exp);
    return sign | ((m + 0x1000) >> 13);
  }
  if (exp >= 31) return sign | 0x7c00;
  const rounded = (exp << 10) | ((mant + 0x1000) >> 13);
  return sign | Math.min(rounded, 0x7bff);
}

/** Decodes any vector value (BLOB of any form, or JSON text) to float32s. */
export function decodeVector(v: unknown, what: string): Float32Array {
  if (typeof v === 'string') return parseJsonVector(v, what);
  if (!(v instanceof Uint8Array)) {
    throw new VectorError(`${what}: expected a vector (a BLOB of float32 or JSON text), got ${v === null ? 'NULL' : typeof v}`);
  }
  const tag = tagOf(v);
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  if (tag === TAG_F16) {
    if ((v.length - 4) % 2 !== 0 || v.length === 4) throw new VectorError(`${what}: malformed f16 vector (${v.length} bytes)`);
    const out = new Float32Array((v.length - 4) / 2);
    for (let i = 0; i < out.length; i++) out[i] = halfToFloat(dv.getUint16(4 + i * 2, true));
    return out;
  }
  if (tag === TAG_INT8) {
    if (v.length <= 8) throw new VectorError(`${what}: malformed int8 vector (${v.length} bytes)`);
    const scale = dv.getFloat32(4, true);
    const out = new Float32Array(v.length - 8);
    for (let i = 0; i < out.length; i++) out[i] = dv.getInt8(8 + i) * scale;
    return out;
  }
  if (v.length === 0 || v.length % 4 !== 0) {
    throw new VectorError(`${what}: a float32 vector BLOB has a multiple of 4 bytes, this one has ${v.length}`);
  }
  // Aligned bytes on a little-endian machine (every JS engine in practice) are read in place.
  if (LITTLE_ENDIAN && v.byteOffset % 4 === 0) return checkFinite(new Float32Array(v.buffer, v.byteOffset, v.length / 4), what);
  const out = new Float32Array(v.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
  return checkFinite(out, what);
}

/** Encodes float32s in the given form. */
export function encodeVector(v: Float32Array, format: VectorFormat = 'f32'): Uint8Array {
  if (format === 'f32' && LITTLE_ENDIAN) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (format === 'f32') {
    const out = new Uint8Array(v.length * 4);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < v.length; i++) dv.setFloat32(i * 4, v[i], true);
    return out;
  }
  if (format === 'f16') {
    const out = new Uint8Array(4 + v.length * 2);
    out.set([TAG_F16, 0, 0xc0, 0x7f]);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < v.length; i++) dv.setUint16(4 + i * 2, floatToHalf(v[i]), true);
    return out;
  }
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]));
  const scale = max === 0 ? 1 : max / 127;
  const out = new Uint8Array(8 + v.length);
  out.set([TAG_INT8, 0, 0xc0, 0x7f]);
  const dv = new DataView(out.buffer);
  dv.setFloat32(4, scale, true);
  for (let i = 0; i < v.length; i++) dv.setInt8(8 + i, Math.max(-127, Math.min(127, Math.round(v[i] / scale))));
  return out;
}

/** The shortest decimal that reads back as the same float32. */
function shortestFloat32(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x);
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(x);
}

/** JSON text of a vector, each element as the shortest decimal of its float32. */
export function vectorToJson(v: Float32Array): string {
  return `[${Array.from(v, shortestFloat32).join(',')}]`;
}
