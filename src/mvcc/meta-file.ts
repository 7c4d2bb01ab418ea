/**
 * A small JSON document (settings, the branch catalog) kept beside the
 * database in `<db>-hmeta`, replaced atomically without a rename: the file has
 * two slots and each write goes to the older one,
 *
 *     slot (at 0 or SLOT_SIZE)   sequence u32 | length u32 | checksum (2 × u32) | JSON (UTF-8)
 *
 * so a crash mid-write leaves the other slot, the previous document, intact.
 * Reading takes the valid slot with the higher sequence number.
 */
import { StorageError, type StorageBackend } from '../vfs/backend.js';
import { addChecksum, newChecksum } from './checksum.js';

const SLOT_SIZE = 64 * 1024;
const HEAD = 16;

function checksumOf(seq: number, body: Uint8Array): [number, number] {
  const padded = new Uint8Array(Math.ceil((body.length + 8) / 8) * 8);
  new DataView(padded.buffer).setUint32(0, seq, true);
  new DataView(padded.buffer).setUint32(4, body.length, true);
  padded.set(body, 8);
  const c = newChecksum(0x4d45, 0x5441);
  addChecksum(c, padded);
  return [c.s0, c.s1];
}

export class MetaFile<T> {
  private seq = 0;

  constructor(
    private readonly backend: StorageBackend,
    readonly path: string,
  ) {}

  /** The newest document written, or null when there is none. */
  read(): T | null {
    if (!this.backend.exists(this.path)) return null;
    const file = this.backend.open(this.path, { create: false, readonly: true, deleteOnClose: false, kind: 'other' });
    try {
      let best: { seq: number; doc: T } | null = null;
      for (let slot = 0; slot < 2; slot++) {
        const head = new Uint8Array(HEAD);
        if (file.read(head, slot * SLOT_SIZE) < HEAD) continue;
        const v = new DataView(head.buffer);
        const seq = v.getUint32(0, true);
        const len = v.getUint32(4, true);
        if (seq === 0 || len > SLOT_SIZE - HEAD) continue;
        const body = new Uint8Array(len);
        if (file.read(body, slot * SLOT_SIZE + HEAD) < len) continue;
        const [s0, s1] = checksumOf(seq, body);
        if (v.getUint32(8, true) !== s0 || v.getUint32(12, true) !== s1) continue;
        if (best !== null && best.seq >= seq) continue;
        try {
          best = { seq, doc: JSON.parse(new TextDecoder().decode(body)) as T };
        } catch {
          continue;
        }
      }
      if (best === null) return null;
      this.seq = best.seq;
      return best.doc;
    } finally {
      file.close();
    }
  }

  /** Replaces the document, durably. */
  write(doc: T): void {
    const body = new TextEncoder().encode(JSON.stringify(doc));
    if (body.length > SLOT_SIZE - HEAD) throw new StorageError('io', `${this.path}: the catalog is too large (${body.length} bytes)`);
    const seq = this.seq + 1;
    const buf = new Uint8Array(HEAD + body.length);
    const v = new DataView(buf.buffer);
    const [s0, s1] = checksumOf(seq, body);
    v.setUint32(0, seq, true);
    v.setUint32(4, body.length, true);
    v.setUint32(8, s0, true);
    v.setUint32(12, s1, true);
    buf.set(body, HEAD);
    const file = this.backend.open(this.path, { create: true, readonly: false, deleteOnClose: false, kind: 'other' });
    try {
      file.write(buf, (seq % 2) * SLOT_SIZE);
      file.flush();
    } finally {
      file.close();
    }
    this.seq = seq;
  }

  delete(): void {
    this.backend.delete(this.path);
    this.seq = 0;
  }
}
