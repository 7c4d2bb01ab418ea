/**
 * A file's bytes in memory as fixed-size blocks, remembering what changed
 * since the changes were last taken: the working copy behind `IdbBackend`,
 * kept apart from IndexedDB so that it can be tested anywhere.
 */

/** What must be stored to bring the stored copy up to date with the image. */
export interface BlockChanges {
  readonly size: number;
  /** Stored blocks from this index on are stale (the file shrank): drop them before storing `blocks`. */
  readonly dropFrom: number | null;
  /**
   * Changed blocks within the size, the last one cut to the size. Full blocks
   * are the image's own arrays: store (copy) them before the next write.
   */
  readonly blocks: ReadonlyArray<readonly [index: number, data: Uint8Array]>;
}

function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export class BlockImage {
  /** Missing blocks read as zeros (and are not stored either). */
  private blocks: Array<Uint8Array | undefined> = [];
  private bytes = 0;
  private dirty = new Set<number>();
  /** The smallest size since the changes were taken, if the file shrank. */
  private shrunkTo: number | null = null;
  private sizeChanged = false;

  constructor(readonly blockSize: number) {}

  get size(): number {
    return this.bytes;
  }

  /** Whether anything changed since the changes were last taken. */
  get changed(): boolean {
    return this.sizeChanged || this.dirty.size > 0 || this.shrunkTo !== null;
  }

  read(into: Uint8Array, offset: number): number {
    const n = Math.max(0, Math.min(into.length, this.bytes - offset));
    for (let done = 0; done < n; ) {
      const index = Math.floor((offset + done) / this.blockSize);
      const within = offset + done - index * this.blockSize;
      const len = Math.min(this.blockSize - within, n - done);
      const block = this.blocks[index];
      if (block !== undefined) into.set(block.subarray(within, within + len), done);
      else into.fill(0, done, done + len);
      done += len;
    }
    return n;
  }

  write(data: Uint8Array, offset: number): void {
    for (let done = 0; done < data.length; ) {
      const index = Math.floor((offset + done) / this.blockSize);
      const within = offset + done - index * this.blockSize;
      const chunk = data.subarray(done, done + Math.min(this.blockSize - within, data.length - done));
      done += chunk.length;
      let block = this.blocks[index];
      // Zeros into a block that is all zeros change nothing: the commit log's
      // preallocation then costs no writes to the medium.
      if (block === undefined && isZero(chunk)) continue;
      if (block === undefined) this.blocks[index] = block = new Uint8Array(this.blockSize);
      block.set(chunk, within);
      this.dirty.add(index);
    }
    this.resize(Math.max(this.bytes, offset + data.length));
  }

  resize(size: number): void {
    if (size < this.bytes) {
      const keep = Math.ceil(size / this.blockSize);
      if (this.blocks.length > keep) this.blocks.length = keep;
      // Bytes past the end must read as zeros if the file grows again.
      const last = keep > 0 ? this.blocks[keep - 1] : undefined;
      if (last !== undefined && size % this.blockSize !== 0) {
        last.fill(0, size % this.blockSize);
        this.dirty.add(keep - 1);
      }
      for (const index of this.dirty) if (index >= keep) this.dirty.delete(index);
      this.shrunkTo = Math.min(this.shrunkTo ?? size, size);
    }
    if (size !== this.bytes) this.sizeChanged = true;
    this.bytes = size;
  }

  /** Fills the image from the stored copy (not a change): `size` first, then each stored block. */
  loadSize(size: number): void {
    this.bytes = size;
  }

  loadBlock(index: number, data: Uint8Array): void {
    // Bytes past the stored size are not part of the file.
    const at = index * this.blockSize;
    if (at < this.bytes) this.write(data.subarray(0, this.bytes - at), at);
    this.dirty.delete(index);
  }

  /** Empties the image; with `changed`, its (empty) size counts as a change to store. */
  clear(changed: boolean): void {
    this.blocks = [];
    this.bytes = 0;
    this.dirty.clear();
    this.shrunkTo = null;
    this.sizeChanged = changed;
  }

  /** The changes since the last call (null if none), and forgets them. */
  takeChanges(): BlockChanges | null {
    if (!this.changed) return null;
    const blocks: Array<readonly [number, Uint8Array]> = [];
    for (const index of [...this.dirty].sort((a, b) => a - b)) {
      const block = this.blocks[index];
      const length = Math.min(this.blockSize, this.bytes - index * this.blockSize);
      if (block !== undefined && length > 0) blocks.push([index, length === this.blockSize ? block : block.slice(0, length)]);
    }
    const dropFrom = this.shrunkTo === null ? null : Math.ceil(this.shrunkTo / this.blockSize);
    this.dirty.clear();
    this.shrunkTo = null;
    this.sizeChanged = false;
    return { size: this.bytes, dropFrom, blocks };
  }
}
