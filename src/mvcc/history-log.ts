/**
 * The history file (`<db>-hhist` or `<db>-hhist1`): page images of versions
 * that the database file and the commit log no longer hold, kept for time
 * travel and for branches based on old versions.
 *
 * Layout (integers little-endian):
 *
 *     header (48 bytes)  magic "HDBHIST1" | page size u32 | salt u32 | generation u32 |
 *                        base db size in pages u32 | base version u64 | base time f64 |
 *                        checksum (2 × u32) of bytes 0..39
 *     per block:         frame × n, then one block record
 *       frame            pgno u32 (≥ 1) | salt u32 | version lo u32 | payload length u32 | payload
 *                        (length 0: the page's bytes; else a delta, padded to 8 bytes)
 *       block record     0 u32 | salt u32 | kind u32 | frame count u32 | version u64 |
 *                        time f64 | db size in pages u32 | 0 u32 | transaction id (16 bytes) |
 *                        checksum (2 × u32)
 *
 * A delta stores a page as the few byte runs in which it differs from the
 * page's last full image in this file: ref offset u64 | run count u32 |
 * per run: start u32 | length u32 | bytes, padded to 4. Most commits change a
 * few bytes of a page (a row, page 1's change counter), so a history of small
 * commits takes a fraction of their page images. A page is stored whole when
 * its delta would exceed a quarter page, and that image is the next reference.
 *
 * A block is either a version (kind 1: the pages a commit wrote, moved here
 * from the commit log at a checkpoint) or base images (kind 2: pages as they
 * were at the base version, saved from the database file before a checkpoint
 * first overwrites them). Checksums chain from block to block, starting from
 * the header's, so recovery keeps every whole block and drops a torn tail.
 *
 * Retention rewrites the file under the other name with the next generation
 * (see History.compact); a file whose header is not valid is an unfinished
 * rewrite and is ignored.
 */
import { StorageError, type StorageBackend, type StorageFile } from '../vfs/backend.js';
import { addChecksum, newChecksum, type Checksum } from './checksum.js';
import { getU64, randomU32, setU64, txnIdBytes, txnIdString } from './commit-log.js';

const MAGIC = 'HDBHIST1';
const HEADER_SIZE = 48;
const FRAME_HEADER = 16;
const RECORD_SIZE = 64;

export const enum BlockKind {
  Version = 1,
  Base = 2,
}

/** Where a page image is: `length` 0 for a whole page at `offset`, else a delta of that many bytes. */
export interface FrameRef {
  readonly pgno: number;
  readonly offset: number;
  readonly length: number;
}

export interface HistoryBlock {
  readonly kind: BlockKind;
  readonly version: number;
  readonly time: number;
  readonly dbPages: number;
  readonly txnId: string;
  readonly frames: readonly FrameRef[];
}

/** Byte runs in which `page` differs from `ref`, encoded as a delta payload; null when too large to pay off. */
function encodeDelta(page: Uint8Array, ref: Uint8Array, refOffset: number, limit: number): Uint8Array | null {
  const runs: Array<[number, number]> = [];
  let size = 12;
  const n = page.length;
  let i = 0;
  while (i < n) {
    if (page[i] === ref[i]) {
      i++;
      continue;
    }
    let end = i + 1;
    // A gap of fewer than 12 equal bytes costs less inside the run than as a new run's 8-byte header.
    for (let equal = 0; end < n; end++) {
      if (page[end] === ref[end]) {
        if (++equal >= 12) {
          end -= equal - 1;
          break;
        }
      } else equal = 0;
    }
    if (end > n) end = n;
    while (end > i && page[end - 1] === ref[end - 1]) end--;
    runs.push([i, end - i]);
    size += 8 + ((end - i + 3) & ~3);
    if (size > limit) return null;
    i = end;
  }
  const out = new Uint8Array((size + 7) & ~7);
  const v = new DataView(out.buffer);
  setU64(v, 0, refOffset);
  v.setUint32(8, runs.length, true);
  let at = 12;
  for (const [start, len] of runs) {
    v.setUint32(at, start, true);
    v.setUint32(at + 4, len, true);
    out.set(page.subarray(start, start + len), at + 8);
    at += 8 + ((len + 3) & ~3);
  }
  return out;
}

/** The reference offset of a delta payload. */
export function deltaRef(payload: Uint8Array): number {
  return getU64(new DataView(payload.buffer, payload.byteOffset, payload.length), 0);
}

/** Applies a delta payload onto `into`, which holds its reference image. */
export function applyDelta(payload: Uint8Array, into: Uint8Array): void {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const runs = v.getUint32(8, true);
  let at = 12;
  for (let r = 0; r < runs; r++) {
    const start = v.getUint32(at, true);
    const len = v.getUint32(at + 4, true);
    into.set(payload.subarray(at + 8, at + 8 + len), start);
    at += 8 + ((len + 3) & ~3);
  }
}

export interface HistoryHeader {
  readonly pageSize: number;
  readonly generation: number;
  readonly baseVersion: number;
  readonly baseTime: number;
  readonly baseDbPages: number;
}

const NO_TXN = '0'.repeat(32);

export class HistoryLog {
  private end: number;
  private sum: Checksum;
  /** Per page, the offset of its last whole image here: what the next delta refers to. */
  private readonly lastFull = new Map<number, number>();
  private refScratch: Uint8Array | null = null;

  private constructor(
    private readonly file: StorageFile,
    readonly path: string,
    readonly header: HistoryHeader,
    private readonly salt: number,
    end: number,
    sum: Checksum,
  ) {
    this.end = end;
    this.sum = sum;
  }

  get size(): number {
    return this.end;
  }

  get pageSize(): number {
    return this.header.pageSize;
  }

  private static encodeHeader(h: HistoryHeader, salt: number): { bytes: Uint8Array; sum: Checksum } {
    const bytes = new Uint8Array(HEADER_SIZE);
    const v = new DataView(bytes.buffer);
    for (let i = 0; i < 8; i++) bytes[i] = MAGIC.charCodeAt(i);
    v.setUint32(8, h.pageSize, true);
    v.setUint32(12, salt, true);
    v.setUint32(16, h.generation, true);
    v.setUint32(20, h.baseDbPages, true);
    setU64(v, 24, h.baseVersion);
    v.setFloat64(32, h.baseTime, true);
    const sum = newChecksum(0x4849, 0x5354);
    addChecksum(sum, bytes.subarray(0, 40));
    v.setUint32(40, sum.s0, true);
    v.setUint32(44, sum.s1, true);
    return { bytes, sum };
  }

  /**
   * Creates a history file at `path` (replacing any). With `sealLater`, the
   * header is left invalid until `seal()`: a crash before then leaves a file
   * that recovery ignores (a rewrite in progress).
   */
  static create(backend: StorageBackend, path: string, header: HistoryHeader, sealLater = false): HistoryLog {
    const file = backend.open(path, { create: true, readonly: false, deleteOnClose: false, kind: 'other' });
    file.truncate(0);
    const salt = randomU32();
    const { bytes, sum } = HistoryLog.encodeHeader(header, salt);
    file.write(sealLater ? new Uint8Array(HEADER_SIZE) : bytes, 0);
    if (!sealLater) file.flush();
    return new HistoryLog(file, path, header, salt, HEADER_SIZE, sum);
  }

  /** Makes a file created with `sealLater` valid: everything appended so far is flushed first. */
  seal(): void {
    this.file.flush();
    this.file.write(HistoryLog.encodeHeader(this.header, this.salt).bytes, 0);
    this.file.flush();
  }

  /** Reads a history file's header; null when it is missing or not valid (an unfinished rewrite). */
  static readHeader(backend: StorageBackend, path: string): HistoryHeader | null {
    if (!backend.exists(path)) return null;
    const file = backend.open(path, { create: false, readonly: true, deleteOnClose: false, kind: 'other' });
    try {
      return HistoryLog.parseHeader(file)?.header ?? null;
    } finally {
      file.close();
    }
  }

  private static parseHeader(file: StorageFile): { header: HistoryHeader; salt: number; sum: Checksum } | null {
    const h = new Uint8Array(HEADER_SIZE);
    if (file.size() < HEADER_SIZE || file.read(h, 0) < HEADER_SIZE) return null;
    for (let i = 0; i < 8; i++) if (h[i] !== MAGIC.charCodeAt(i)) return null;
    const v = new DataView(h.buffer);
    const sum = newChecksum(0x4849, 0x5354);
    addChecksum(sum, h.subarray(0, 40));
    if (v.getUint32(40, true) !== sum.s0 || v.getUint32(44, true) !== sum.s1) return null;
    const pageSize = v.getUint32(8, true);
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return null;
    return {
      header: {
        pageSize,
        generation: v.getUint32(16, true),
        baseDbPages: v.getUint32(20, true),
        baseVersion: getU64(v, 24),
        baseTime: v.getFloat64(32, true),
      },
      salt: v.getUint32(12, true),
      sum,
    };
  }

  /**
   * Opens a history file and reads its whole blocks, dropping a torn tail.
   * Null when the file is missing or its header is not valid.
   */
  static recover(backend: StorageBackend, path: string): { log: HistoryLog; blocks: HistoryBlock[] } | null {
    if (!backend.exists(path)) return null;
    const file = backend.open(path, { create: false, readonly: false, deleteOnClose: false, kind: 'other' });
    const parsed = HistoryLog.parseHeader(file);
    if (parsed === null) {
      file.close();
      return null;
    }
    const { header, salt } = parsed;
    const ps = header.pageSize;
    const total = file.size();
    const blocks: HistoryBlock[] = [];
    const sum = { ...parsed.sum };
    let good = { ...sum };
    let offset = HEADER_SIZE;
    let committedEnd = offset;
    let pending: FrameRef[] = [];
    let frame = new Uint8Array(FRAME_HEADER + ps);
    const record = new Uint8Array(RECORD_SIZE);
    const rv = new DataView(record.buffer);
    const fulls = new Map<number, number>();
    let pendingFulls: Array<[number, number]> = [];
    for (;;) {
      if (offset + FRAME_HEADER > total) break;
      if (file.read(frame.subarray(0, FRAME_HEADER), offset) < FRAME_HEADER) break;
      const fv = new DataView(frame.buffer);
      if (fv.getUint32(4, true) !== salt) break;
      const pgno = fv.getUint32(0, true);
      if (pgno !== 0) {
        const length = fv.getUint32(12, true);
        if (length > ps || length % 8 !== 0) break;
        const size = FRAME_HEADER + (length === 0 ? ps : length);
        if (frame.length < size) {
          const grown = new Uint8Array(size);
          grown.set(frame.subarray(0, FRAME_HEADER));
          frame = grown;
        }
        const whole = frame.subarray(0, size);
        if (offset + size > total || file.read(whole, offset) < size) break;
        addChecksum(sum, whole);
        pending.push({ pgno, offset: offset + FRAME_HEADER, length });
        if (length === 0) pendingFulls.push([pgno, offset + FRAME_HEADER]);
        offset += size;
        continue;
      }
      if (offset + RECORD_SIZE > total || file.read(record, offset) < RECORD_SIZE) break;
      addChecksum(sum, record.subarray(0, 56));
      if (rv.getUint32(56, true) !== sum.s0 || rv.getUint32(60, true) !== sum.s1) break;
      const kind = rv.getUint32(8, true) as BlockKind;
      if (rv.getUint32(12, true) !== pending.length || (kind !== BlockKind.Version && kind !== BlockKind.Base)) break;
      blocks.push({
        kind,
        version: getU64(rv, 16),
        time: rv.getFloat64(24, true),
        dbPages: rv.getUint32(32, true),
        txnId: txnIdString(record.subarray(40, 56)),
        frames: pending,
      });
      offset += RECORD_SIZE;
      committedEnd = offset;
      good = { ...sum };
      pending = [];
      for (const [p, o] of pendingFulls) fulls.set(p, o);
      pendingFulls = [];
    }
    if (committedEnd < total) {
      file.truncate(committedEnd);
      file.flush();
    }
    const log = new HistoryLog(file, path, header, salt, committedEnd, good);
    for (const [p, o] of fulls) log.lastFull.set(p, o);
    return { log, blocks };
  }

  /**
   * Appends a block: `pages` in page order, each tagged `version`. Not durable
   * until `flush()`. Returns the block with the offsets of its images.
   */
  append(kind: BlockKind, version: number, pages: ReadonlyMap<number, Uint8Array>, dbPages: number, time: number, txnId = NO_TXN): HistoryBlock {
    const ps = this.pageSize;
    const order = [...pages.keys()].sort((a, b) => a - b);
    // Versions store pages as deltas where that pays off; base images are always whole.
    const payloads = order.map((pgno) => {
      const data = pages.get(pgno) as Uint8Array;
      if (data.length !== ps) throw new StorageError('io', `history: page ${pgno} has ${data.length} bytes, expected ${ps}`);
      const ref = kind === BlockKind.Version ? this.lastFull.get(pgno) : undefined;
      if (ref === undefined) return null;
      this.refScratch ??= new Uint8Array(ps);
      this.readPage(ref, this.refScratch);
      return encodeDelta(data, this.refScratch, ref, ps >> 2);
    });
    const bytes = payloads.reduce((n, d) => n + FRAME_HEADER + (d === null ? ps : d.length), 0);
    const buf = new Uint8Array(bytes + RECORD_SIZE);
    const view = new DataView(buf.buffer);
    const sum = { ...this.sum };
    const frames: FrameRef[] = [];
    const fulls: Array<[number, number]> = [];
    let at = 0;
    order.forEach((pgno, k) => {
      const delta = payloads[k];
      const size = delta === null ? ps : delta.length;
      view.setUint32(at, pgno, true);
      view.setUint32(at + 4, this.salt, true);
      view.setUint32(at + 8, version % 0x100000000, true);
      view.setUint32(at + 12, delta === null ? 0 : delta.length, true);
      buf.set(delta ?? (pages.get(pgno) as Uint8Array), at + FRAME_HEADER);
      addChecksum(sum, buf.subarray(at, at + FRAME_HEADER + size));
      const offset = this.end + at + FRAME_HEADER;
      frames.push({ pgno, offset, length: delta === null ? 0 : delta.length });
      if (delta === null) fulls.push([pgno, offset]);
      at += FRAME_HEADER + size;
    });
    view.setUint32(at + 4, this.salt, true);
    view.setUint32(at + 8, kind, true);
    view.setUint32(at + 12, frames.length, true);
    setU64(view, at + 16, version);
    view.setFloat64(at + 24, time, true);
    view.setUint32(at + 32, dbPages, true);
    buf.set(txnIdBytes(txnId), at + 40);
    addChecksum(sum, buf.subarray(at, at + 56));
    view.setUint32(at + 56, sum.s0, true);
    view.setUint32(at + 60, sum.s1, true);
    this.file.write(buf, this.end);
    this.end += buf.length;
    this.sum = sum;
    for (const [p, o] of fulls) this.lastFull.set(p, o);
    return { kind, version, time, dbPages, txnId, frames };
  }

  /** Reads the image of a frame (resolving a delta against its reference) into `into`. */
  readFrame(f: { readonly offset: number; readonly length: number }, into: Uint8Array): void {
    if (f.length === 0) {
      this.readPage(f.offset, into);
      return;
    }
    const payload = new Uint8Array(f.length);
    this.readPage(f.offset, payload);
    this.readPage(deltaRef(payload), into);
    applyDelta(payload, into);
  }

  /** Reads raw bytes at `offset` (a whole image, or a delta payload). */
  readPage(offset: number, into: Uint8Array): void {
    if (this.file.read(into, offset) < into.length) throw new StorageError('io', `${this.path} is shorter than expected at offset ${offset}`);
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }
}
