/**
 * The history of a database's main branch: page images of versions older than
 * the database file's, in a history file (history-log.ts) with an in-memory
 * index page → versions → offset.
 *
 * A checkpoint hands over, before it overwrites the database file, every
 * version of the commit log (their page images move here) and, for pages it
 * overwrites for the first time since the history began, their image in the
 * file (a base image, valid from the base version on). So for every version V
 * from the base on, page p at V is the newest image ≤ V among the log and the
 * history; when there is none, p was never overwritten and the file holds it.
 *
 * Retention drops the versions older than a cutoff by rewriting the file
 * under its other name: base images at the cutoff, then every later version.
 */
import type { StorageBackend } from '../vfs/backend.js';
import { applyDelta, BlockKind, deltaRef, HistoryLog, type HistoryBlock, type HistoryHeader } from './history-log.js';
import type { VersionInfo } from './page-store.js';

interface Location {
  readonly version: number;
  readonly offset: number;
  /** 0: a whole image; else the length of a delta (see history-log.ts). */
  readonly length: number;
}

/** What a checkpoint hands to the history before writing the database file. */
export interface CheckpointInput {
  /** The log's versions, oldest first, with the log offset of each page they wrote. */
  readonly versions: ReadonlyArray<VersionInfo & { readonly pages: ReadonlyMap<number, number> }>;
  readLogPage(offset: number, into: Uint8Array): void;
  /** Pages the checkpoint will overwrite or cut off. */
  readonly overwritten: Iterable<number>;
  /** Reads page `pgno` of the database file as it is now (zeros past its end). */
  readFilePage(pgno: number, into: Uint8Array): void;
}

const NAMES = ['-hhist', '-hhist1'] as const;

export class History {
  private readonly index = new Map<number, Location[]>();
  private readonly list: VersionInfo[] = [];
  private readonly cache = new Map<number, Uint8Array>();
  private cacheBytes = 0;
  private static readonly CACHE_LIMIT = 8 * 1024 * 1024;

  private constructor(
    private readonly backend: StorageBackend,
    private readonly dbPath: string,
    private log: HistoryLog,
    blocks: readonly HistoryBlock[],
  ) {
    this.load(blocks);
  }

  /** Side files a history may use, as suffixes of the database path. */
  static readonly SIDE_FILES: readonly string[] = NAMES;

  private load(blocks: readonly HistoryBlock[]): void {
    this.index.clear();
    this.list.length = 0;
    this.cache.clear();
    this.cacheBytes = 0;
    for (const b of blocks) this.publish(b);
  }

  private publish(b: HistoryBlock): void {
    for (const f of b.frames) {
      let locs = this.index.get(f.pgno);
      if (locs === undefined) {
        locs = [];
        this.index.set(f.pgno, locs);
      }
      locs.push({ version: b.version, offset: f.offset, length: f.length });
    }
    if (b.kind === BlockKind.Version) this.list.push({ version: b.version, time: b.time, txnId: b.txnId, dbPages: b.dbPages });
  }

  /** The current history of the database at `dbPath`, if it has one (an unfinished rewrite is discarded). */
  static open(backend: StorageBackend, dbPath: string): History | null {
    const headers = NAMES.map((n) => HistoryLog.readHeader(backend, dbPath + n));
    let pick = -1;
    for (let i = 0; i < NAMES.length; i++) {
      const h = headers[i];
      if (h !== null && (pick < 0 || h.generation > (headers[pick] as HistoryHeader).generation)) pick = i;
    }
    for (let i = 0; i < NAMES.length; i++) if (i !== pick && backend.exists(dbPath + NAMES[i])) backend.delete(dbPath + NAMES[i]);
    if (pick < 0) return null;
    const found = HistoryLog.recover(backend, dbPath + NAMES[pick]);
    if (found === null) return null;
    return new History(backend, dbPath, found.log, found.blocks);
  }

  /** Starts a history whose base is the database file at `version`. */
  static create(backend: StorageBackend, dbPath: string, pageSize: number, version: number, time: number, dbPages: number): History {
    const log = HistoryLog.create(backend, dbPath + NAMES[0], { pageSize, generation: 1, baseVersion: version, baseTime: time, baseDbPages: dbPages });
    return new History(backend, dbPath, log, []);
  }

  get baseVersion(): number {
    return this.log.header.baseVersion;
  }

  get baseTime(): number {
    return this.log.header.baseTime;
  }

  /** The newest version the history holds (its base when it holds none). */
  get latest(): number {
    return this.list.length > 0 ? this.list[this.list.length - 1].version : this.baseVersion;
  }

  get latestTime(): number {
    return this.list.length > 0 ? this.list[this.list.length - 1].time : this.baseTime;
  }

  /** Bytes of the history file. */
  get bytes(): number {
    return this.log.size;
  }

  /** The versions held, oldest first (the base itself excluded). */
  get versions(): readonly VersionInfo[] {
    return this.list;
  }

  /** Database size in pages at `version` (≥ the base). */
  dbPagesAt(version: number): number {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i].version <= version) return this.list[i].dbPages;
    return this.log.header.baseDbPages;
  }

  /** The newest version ≤ `version` at which page `pgno` has an image here, or -1. */
  versionOf(pgno: number, version: number): number {
    const locs = this.index.get(pgno);
    if (locs === undefined) return -1;
    for (let i = locs.length - 1; i >= 0; i--) if (locs[i].version <= version) return locs[i].version;
    return -1;
  }

  /** Whether page `pgno` has an image newer than `version` here. */
  changedAfter(pgno: number, version: number): boolean {
    const locs = this.index.get(pgno);
    return locs !== undefined && locs[locs.length - 1].version > version;
  }

  /** Pages with any image here. */
  pages(): IterableIterator<number> {
    return this.index.keys();
  }

  /** Copies page `pgno` as of `version` into `into`; false when the history has no image of it ≤ `version`. */
  readPage(pgno: number, version: number, into: Uint8Array): boolean {
    const locs = this.index.get(pgno);
    if (locs === undefined) return false;
    for (let i = locs.length - 1; i >= 0; i--) {
      if (locs[i].version > version) continue;
      this.image(locs[i], into);
      return true;
    }
    return false;
  }

  /** The image stored at `at` (a delta resolved against its reference), through the cache. */
  private image(at: { readonly offset: number; readonly length: number }, into: Uint8Array): void {
    const hit = this.cache.get(at.offset);
    if (hit !== undefined) {
      into.set(hit);
      return;
    }
    if (at.length === 0) this.log.readPage(at.offset, into);
    else {
      const payload = new Uint8Array(at.length);
      this.log.readPage(at.offset, payload);
      this.image({ offset: deltaRef(payload), length: 0 }, into);
      applyDelta(payload, into);
    }
    this.remember(at.offset, into.slice());
  }

  private remember(offset: number, page: Uint8Array): void {
    this.cache.set(offset, page);
    this.cacheBytes += page.length;
    while (this.cacheBytes > History.CACHE_LIMIT) {
      const first = this.cache.entries().next();
      if (first.done) break;
      this.cacheBytes -= first.value[1].length;
      this.cache.delete(first.value[0]);
    }
  }

  /**
   * Takes in a checkpoint's versions (those not held yet) and the file images
   * it is about to overwrite for the first time, and makes them durable.
   */
  absorb(input: CheckpointInput): void {
    const ps = this.log.pageSize;
    const base = new Map<number, Uint8Array>();
    for (const pgno of input.overwritten) {
      if (this.index.has(pgno) || base.has(pgno)) continue;
      const page = new Uint8Array(ps);
      input.readFilePage(pgno, page);
      base.set(pgno, page);
    }
    if (base.size > 0) this.publish(this.log.append(BlockKind.Base, this.baseVersion, base, this.log.header.baseDbPages, this.baseTime));
    for (const v of input.versions) {
      if (v.version <= this.latest) continue;
      const pages = new Map<number, Uint8Array>();
      for (const [pgno, offset] of v.pages) {
        const page = new Uint8Array(ps);
        input.readLogPage(offset, page);
        pages.set(pgno, page);
      }
      this.publish(this.log.append(BlockKind.Version, v.version, pages, v.dbPages, v.time, v.txnId));
    }
    this.log.flush();
  }

  /**
   * Drops every version older than `cutoff` (clamped to what the history
   * holds): the file is rewritten under its other name, base images as of
   * `cutoff` first, and the old file deleted once the new one is sealed.
   * Only right after a checkpoint (the database file holds the history's
   * newest version). Returns the bytes freed.
   */
  compact(cutoff: number): number {
    const to = Math.min(Math.max(cutoff, this.baseVersion), this.latest);
    if (to === this.baseVersion) return 0;
    const before = this.log.size;
    const ps = this.log.pageSize;
    const at = this.list.find((v) => v.version === to);
    const header: HistoryHeader = {
      pageSize: ps,
      generation: this.log.header.generation + 1,
      baseVersion: to,
      baseTime: at?.time ?? this.baseTime,
      baseDbPages: this.dbPagesAt(to),
    };
    const oldPath = this.log.path;
    const newPath = this.dbPath + (oldPath.endsWith(NAMES[0]) ? NAMES[1] : NAMES[0]);
    const next = HistoryLog.create(this.backend, newPath, header, true);
    try {
      // A page that did not change after `to` is, as of `to`, what the database file holds (it holds the
      // newest version, as after every checkpoint): it needs no base image.
      const base = new Map<number, Uint8Array>();
      for (const [pgno, locs] of this.index) {
        if (pgno > header.baseDbPages || locs[locs.length - 1].version <= to) continue;
        const page = new Uint8Array(ps);
        if (this.readPage(pgno, to, page)) base.set(pgno, page);
      }
      if (base.size > 0) next.append(BlockKind.Base, to, base, header.baseDbPages, header.baseTime);
      const byVersion = new Map<number, Map<number, Location>>();
      for (const [pgno, locs] of this.index) {
        for (const l of locs) {
          if (l.version <= to) continue;
          let m = byVersion.get(l.version);
          if (m === undefined) byVersion.set(l.version, (m = new Map()));
          m.set(pgno, l);
        }
      }
      for (const v of this.list) {
        if (v.version <= to) continue;
        const pages = new Map<number, Uint8Array>();
        for (const [pgno, at] of byVersion.get(v.version) ?? []) {
          const page = new Uint8Array(ps);
          this.image(at, page);
          pages.set(pgno, page);
        }
        next.append(BlockKind.Version, v.version, pages, v.dbPages, v.time, v.txnId);
      }
      next.seal();
    } catch (e) {
      next.close();
      this.backend.delete(newPath);
      throw e;
    }
    next.close();
    this.log.close();
    this.backend.delete(oldPath);
    const found = HistoryLog.recover(this.backend, newPath);
    if (found === null) throw new Error(`history rewrite ${newPath} did not read back`);
    this.log = found.log;
    this.load(found.blocks);
    return before - this.log.size;
  }

  /** Removes the history (its files); the database file holds the present. */
  drop(): void {
    this.log.close();
    for (const n of NAMES) this.backend.delete(this.dbPath + n);
  }

  close(): void {
    this.log.close();
  }
}
