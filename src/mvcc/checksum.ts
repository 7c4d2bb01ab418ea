/**
 * A running 64-bit (two 32-bit lanes) checksum over 32-bit words, in the
 * spirit of SQLite's WAL checksum: fast on typed arrays, order-sensitive, and
 * chained from frame to frame so a commit record vouches for every frame of
 * its transaction.
 */

export interface Checksum {
  s0: number;
  s1: number;
}

export function newChecksum(seed0 = 0x5ed, seed1 = 0xc0ffee): Checksum {
  return { s0: seed0 >>> 0, s1: seed1 >>> 0 };
}

/** Adds `bytes` (length a multiple of 8) to the running checksum `c`. */
export function addChecksum(c: Checksum, bytes: Uint8Array): void {
  if (bytes.length % 8 !== 0) throw new RangeError('checksum input must be a multiple of 8 bytes');
  // Int32 lanes with `| 0` wrap-around keep the loop in integer arithmetic.
  const words =
    bytes.byteOffset % 4 === 0
      ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2)
      : new Int32Array(bytes.slice().buffer);
  let s0 = c.s0 | 0;
  let s1 = c.s1 | 0;
  const n = words.length;
  for (let i = 0; i < n; i += 2) {
    s0 = (s0 + words[i] + s1) | 0;
    s1 = (s1 + words[i + 1] + s0) | 0;
  }
  c.s0 = s0 >>> 0;
  c.s1 = s1 >>> 0;
}
