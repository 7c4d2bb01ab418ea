/**
 * The SQLite VFS adapter: speaks pointers and `sqlite3_io_methods` to SQLite and
 * typed calls to a {@link StorageBackend}.
 *
 * What lives here and nowhere else:
 * - pointer and WASM-heap handling (backends only ever see `Uint8Array`s);
 * - error mapping: nothing is thrown across the WASM boundary; a backend's
 *   error is remembered (see {@link RegisteredVfs.takeLastError}) and turned into
 *   the specific SQLite result code;
 * - SQLite's five file-lock levels between the connections of this engine, in a
 *   lock table keyed by the backend's canonical path, exactly as the unix VFS
 *   arbitrates between connections of one process (never blocking: a conflict is
 *   answered with `SQLITE_BUSY` at once);
 * - WAL shared memory (`xShmMap` and friends): wal-index regions allocated in WASM
 *   memory and shared by every connection of the same file in this engine.
 */
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { isSelfLocking, StorageError, type FileKind, type LockLevel, type StorageBackend, type StorageFile } from './backend.js';

/**
 * A VFS registered with SQLite by {@link registerVfs}.
 */
export interface RegisteredVfs {
  /** The VFS name to pass to `sqlite3_open_v2` (or `oo1.DB`'s `vfs` option). */
  readonly name: string;
  readonly backend: StorageBackend;
  /** The last error a backend threw inside a VFS call for this VFS (for error messages), then cleared. */
  takeLastError(): Error | undefined;
  /** The storage file behind an open `sqlite3_file*` (from SQLITE_FCNTL_FILE_POINTER). */
  storageFileOf(pFile: number): StorageFile | undefined;
  /**
   * Subscribe to "some file lock was released or downgraded" (the engine uses it
   * to wake sessions waiting after SQLITE_BUSY). Listeners run in a microtask,
   * never inside a SQLite call; several releases in one turn give one call.
   * Returns an unsubscribe function.
   */
  onLockReleased(listener: () => void): () => void;
}

// ---------------------------------------------------------------------------
// The parts of sqlite-wasm this file uses, described by the members it calls.
// The package's typings declare i64 arguments as `number` (this build passes
// BigInt), results as literal unions, and lack `$iVersion` on
// `sqlite3_io_methods` and the static `structInfo`; hence these shapes.

interface WasmStruct {
  readonly pointer: number;
  dispose(): void;
}
interface IoMethodsStruct extends WasmStruct {
  $iVersion: number;
}
interface VfsStruct extends WasmStruct {
  $iVersion: number;
  $szOsFile: number;
  $mxPathname: number;
}
interface FileStruct extends WasmStruct {
  $pMethods: number;
}
interface StructCtor<T> {
  new (pointer?: number): T;
  readonly structInfo: { readonly sizeof: number };
}
interface StructApi {
  readonly sqlite3_io_methods: StructCtor<IoMethodsStruct>;
  readonly sqlite3_vfs: StructCtor<VfsStruct>;
  readonly sqlite3_file: StructCtor<FileStruct>;
}

/** A 64-bit argument: BigInt in this build, a number in builds without WASM_BIGINT. */
type I64 = bigint | number;

interface IoMethods {
  xClose(pFile: number): number;
  xRead(pFile: number, pDest: number, n: number, offset: I64): number;
  xWrite(pFile: number, pSrc: number, n: number, offset: I64): number;
  xTruncate(pFile: number, size: I64): number;
  xSync(pFile: number, flags: number): number;
  xFileSize(pFile: number, pSize: number): number;
  xLock(pFile: number, level: number): number;
  xUnlock(pFile: number, level: number): number;
  xCheckReservedLock(pFile: number, pOut: number): number;
  xFileControl(pFile: number, op: number, pArg: number): number;
  xSectorSize(pFile: number): number;
  xDeviceCharacteristics(pFile: number): number;
  xShmMap(pFile: number, region: number, regionSize: number, extend: number, pp: number): number;
  xShmLock(pFile: number, offset: number, n: number, flags: number): number;
  xShmBarrier(pFile: number): void;
  xShmUnmap(pFile: number, deleteFlag: number): number;
}

interface VfsMethods {
  xOpen(pVfs: number, zName: number, pFile: number, flags: number, pOutFlags: number): number;
  xDelete(pVfs: number, zName: number, syncDir: number): number;
  xAccess(pVfs: number, zName: number, flags: number, pOut: number): number;
  xFullPathname(pVfs: number, zName: number, nOut: number, pOut: number): number;
  xRandomness(pVfs: number, n: number, pOut: number): number;
  xSleep(pVfs: number, microseconds: number): number;
  xCurrentTime(pVfs: number, pOut: number): number;
  xCurrentTimeInt64(pVfs: number, pOut: number): number;
  xGetLastError(pVfs: number, nOut: number, pOut: number): number;
}

interface VfsInstaller {
  installVfs(options: {
    io: { struct: IoMethodsStruct; methods: IoMethods };
    vfs?: { struct: VfsStruct; methods: VfsMethods; name: string };
  }): unknown;
}

// ---------------------------------------------------------------------------
// Constants that sqlite-wasm's capi lacks (from sqlite3.h).

/** `SQLITE_SHM_UNLOCK`, `_LOCK`, `_SHARED`, `_EXCLUSIVE`: xShmLock flags. */
const SQLITE_SHM_UNLOCK = 1;
const SQLITE_SHM_LOCK = 2;
const SQLITE_SHM_SHARED = 4;
const SQLITE_SHM_EXCLUSIVE = 8;
/** `SQLITE_SHM_NLOCK`: the number of wal-index lock slots. */
const SQLITE_SHM_NLOCK = 8;

/** Sector size reported to SQLite (a common device block size). */
const SECTOR_SIZE = 4096;
/** `mxPathname`: the longest full path name this VFS produces. */
const MAX_PATHNAME = 1024;
/** Julian day number of the Unix epoch, in days and in milliseconds. */
const UNIX_EPOCH_JULIAN_DAYS = 2440587.5;
const UNIX_EPOCH_JULIAN_MS = 210866760000000n;
const MS_PER_DAY = 86400000;
/** `crypto.getRandomValues` fills at most this many bytes per call. */
const RANDOM_CHUNK = 65536;

// ---------------------------------------------------------------------------
// State shared by every connection of a file: locks and shared memory.

/** One connection's view of a wal-index: which lock slots it holds. */
interface ShmConnection {
  sharedMask: number;
  exclusiveMask: number;
}

/** The wal-index of one database file: regions in WASM memory, slot locks. */
interface ShmNode {
  /** The WASM memory allocator the regions belong to (one per sqlite3 instance). */
  readonly owner: object;
  regionSize: number;
  readonly regions: number[];
  readonly users: Set<OpenFile>;
  /** Per slot: how many connections hold it shared. */
  readonly sharedCount: number[];
  /** Per slot: the connection holding it exclusively. */
  readonly exclusiveOwner: (OpenFile | null)[];
}

/** What every open handle of one file (by canonical path) shares: the "inode". */
interface Inode {
  readonly key: string;
  openCount: number;
  /** Connections holding SHARED or higher. */
  sharedHolders: number;
  /** The one connection at RESERVED, PENDING or EXCLUSIVE, if any. */
  writer: OpenFile | null;
  shm: ShmNode | null;
}

/** Per backend instance: its files' inodes and the lock-release listeners. */
class BackendState {
  readonly inodes = new Map<string, Inode>();
  readonly listeners = new Set<() => void>();
  private notifyQueued = false;

  acquireInode(key: string): Inode {
    let inode = this.inodes.get(key);
    if (!inode) {
      inode = { key, openCount: 0, sharedHolders: 0, writer: null, shm: null };
      this.inodes.set(key, inode);
    }
    inode.openCount++;
    return inode;
  }

  releaseInode(inode: Inode): void {
    inode.openCount--;
    if (inode.openCount <= 0 && this.inodes.get(inode.key) === inode) this.inodes.delete(inode.key);
  }

  /** Schedules one call of every listener (coalesced, outside the SQLite call). */
  lockReleased(): void {
    if (this.notifyQueued || this.listeners.size === 0) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const listener of [...this.listeners]) {
        try {
          listener();
        } catch (e) {
          // A failing listener must not starve the others; report it as an
          // uncaught error of its own.
          queueMicrotask(() => {
            throw e;
          });
        }
      }
    });
  }
}

const backendStates = new WeakMap<StorageBackend, BackendState>();

function stateFor(backend: StorageBackend): BackendState {
  let state = backendStates.get(backend);
  if (!state) {
    state = new BackendState();
    backendStates.set(backend, state);
  }
  return state;
}

/** One open file (one `sqlite3_file*`). */
interface OpenFile {
  readonly pFile: number;
  readonly path: string;
  readonly kind: FileKind;
  readonly readonly: boolean;
  readonly storage: StorageFile;
  readonly inode: Inode;
  lock: number;
  shm: ShmConnection | null;
}

function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** An OS error number carried by the error or its cause (for `sqlite3_system_errno`). */
function systemErrno(e: Error): number {
  const cause: unknown = e.cause;
  if (cause instanceof Error && 'errno' in cause && typeof cause.errno === 'number') return Math.abs(cause.errno);
  return 0;
}

let tempCounter = 0;

/**
 * Registers a SQLite VFS called `name` over `backend` and returns its handle.
 * Any number of VFSes may share one backend instance: they then share its lock
 * table, so their connections exclude each other correctly.
 *
 * @throws Error if a VFS called `name` is already registered.
 * @example
 * ```ts
 * import init from '@sqlite.org/sqlite-wasm';
 * import { MemoryBackend, registerVfs } from './vfs/index.js';
 * const sqlite3 = await init();
 * const vfs = registerVfs(sqlite3, 'helios-memory', new MemoryBackend());
 * const db = new sqlite3.oo1.DB({ filename: '/app.db', flags: 'c', vfs: vfs.name });
 * db.exec('CREATE TABLE t(x)');
 * ```
 */
export function registerVfs(sqlite3: Sqlite3Static, name: string, backend: StorageBackend): RegisteredVfs {
  const { capi, wasm } = sqlite3;
  if (capi.sqlite3_vfs_find(name)) throw new Error(`a SQLite VFS named "${name}" is already registered`);

  const structs = capi as unknown as StructApi;
  const installer = sqlite3.vfs as unknown as VfsInstaller;
  const state = stateFor(backend);
  const files = new Map<number, OpenFile>();
  let lastError: Error | undefined;

  const {
    SQLITE_OK,
    SQLITE_BUSY,
    SQLITE_FULL,
    SQLITE_READONLY,
    SQLITE_NOTFOUND,
    SQLITE_CANTOPEN,
    SQLITE_IOERR,
    SQLITE_IOERR_READ,
    SQLITE_IOERR_SHORT_READ,
    SQLITE_IOERR_WRITE,
    SQLITE_IOERR_FSYNC,
    SQLITE_IOERR_TRUNCATE,
    SQLITE_IOERR_FSTAT,
    SQLITE_IOERR_DELETE,
    SQLITE_IOERR_ACCESS,
    SQLITE_IOERR_CLOSE,
    SQLITE_IOERR_LOCK,
    SQLITE_IOERR_UNLOCK,
    SQLITE_IOERR_CHECKRESERVEDLOCK,
    SQLITE_IOERR_SHMMAP,
    SQLITE_IOERR_SHMSIZE,
    SQLITE_IOERR_SHMLOCK,
    SQLITE_LOCK_NONE,
    SQLITE_LOCK_SHARED,
    SQLITE_LOCK_RESERVED,
    SQLITE_LOCK_PENDING,
    SQLITE_LOCK_EXCLUSIVE,
    SQLITE_OPEN_READONLY,
    SQLITE_OPEN_READWRITE,
    SQLITE_OPEN_CREATE,
    SQLITE_OPEN_DELETEONCLOSE,
    SQLITE_OPEN_MAIN_DB,
    SQLITE_OPEN_MAIN_JOURNAL,
    SQLITE_OPEN_WAL,
    SQLITE_OPEN_TEMP_DB,
    SQLITE_OPEN_TRANSIENT_DB,
    SQLITE_OPEN_TEMP_JOURNAL,
    SQLITE_OPEN_SUBJOURNAL,
    SQLITE_ACCESS_EXISTS,
    SQLITE_ACCESS_READWRITE,
    SQLITE_ACCESS_READ,
    SQLITE_FCNTL_LOCKSTATE,
    SQLITE_FCNTL_COMMIT_PHASETWO,
    SQLITE_BUSY_SNAPSHOT,
    SQLITE_IOCAP_SAFE_APPEND,
    SQLITE_IOCAP_POWERSAFE_OVERWRITE,
  } = capi;

  // ---- errors ---------------------------------------------------------------

  /** Remembers `e` and returns the result code for it: `fallback` unless the medium is full. */
  function fail(e: unknown, fallback: number): number {
    const error = errorOf(e);
    lastError = error;
    if (error instanceof StorageError && error.code === 'no-space') return SQLITE_FULL;
    return fallback;
  }

  function fileOf(pFile: number): OpenFile {
    const file = files.get(pFile);
    if (!file) throw new Error(`VFS ${name}: unknown sqlite3_file pointer ${pFile}`);
    return file;
  }

  // ---- file locks -------------------------------------------------------------

  /** Raises `file`'s lock to `level`, as the unix VFS does between connections of one process. */
  function lock(file: OpenFile, level: number): number {
    const inode = file.inode;
    if (file.lock >= level) return SQLITE_OK;
    const writer = inode.writer;
    if (level === SQLITE_LOCK_SHARED) {
      // A PENDING or EXCLUSIVE lock keeps new readers out.
      if (writer !== null && writer.lock >= SQLITE_LOCK_PENDING) return SQLITE_BUSY;
      inode.sharedHolders++;
      file.lock = SQLITE_LOCK_SHARED;
      return SQLITE_OK;
    }
    // RESERVED, PENDING and EXCLUSIVE are only ever asked for from SHARED or above,
    // and only one connection may hold any of them.
    if (file.lock < SQLITE_LOCK_SHARED) {
      lastError = new Error(`${file.path}: lock level ${level} asked for without a SHARED lock`);
      return SQLITE_IOERR_LOCK;
    }
    if (writer !== null && writer !== file) return SQLITE_BUSY;
    if (level === SQLITE_LOCK_RESERVED) {
      inode.writer = file;
      file.lock = SQLITE_LOCK_RESERVED;
      return SQLITE_OK;
    }
    // PENDING first: from now on no new SHARED lock is granted, so the readers
    // still present drain and a retry can reach EXCLUSIVE.
    inode.writer = file;
    file.lock = SQLITE_LOCK_PENDING;
    if (level === SQLITE_LOCK_PENDING) return SQLITE_OK;
    if (inode.sharedHolders > 1) return SQLITE_BUSY;
    file.lock = SQLITE_LOCK_EXCLUSIVE;
    return SQLITE_OK;
  }

  /** Lowers `file`'s lock to `level` (SHARED or NONE). */
  function unlock(file: OpenFile, level: number): void {
    const inode = file.inode;
    if (file.lock <= level) return;
    if (file.lock > SQLITE_LOCK_SHARED) {
      if (inode.writer === file) inode.writer = null;
      file.lock = SQLITE_LOCK_SHARED;
    }
    if (level === SQLITE_LOCK_NONE && file.lock === SQLITE_LOCK_SHARED) {
      inode.sharedHolders--;
      file.lock = SQLITE_LOCK_NONE;
    }
    state.lockReleased();
  }

  // ---- shared memory ----------------------------------------------------------

  function shmUnlockSlots(file: OpenFile, node: ShmNode, mask: number): boolean {
    const conn = file.shm;
    if (conn === null) return false;
    let released = false;
    for (let slot = 0; slot < SQLITE_SHM_NLOCK; slot++) {
      const bit = 1 << slot;
      if ((mask & bit) === 0) continue;
      if (conn.exclusiveMask & bit) {
        if (node.exclusiveOwner[slot] === file) node.exclusiveOwner[slot] = null;
        released = true;
      }
      if (conn.sharedMask & bit) {
        node.sharedCount[slot]--;
        released = true;
      }
    }
    conn.exclusiveMask &= ~mask;
    conn.sharedMask &= ~mask;
    return released;
  }

  function shmDetach(file: OpenFile): void {
    const node = file.inode.shm;
    if (node === null || file.shm === null) return;
    if (shmUnlockSlots(file, node, (1 << SQLITE_SHM_NLOCK) - 1)) state.lockReleased();
    node.users.delete(file);
    file.shm = null;
    if (node.users.size === 0) {
      // Nothing backs the wal-index but this memory: the next connection starts
      // from zeros and SQLite rebuilds the index from the -wal file, as the unix
      // VFS does when it finds a -shm file no process holds.
      for (const region of node.regions) wasm.dealloc(region);
      file.inode.shm = null;
    }
  }

  // ---- sqlite3_io_methods -------------------------------------------------------

  const ioMethods: IoMethods = {
    xClose(pFile) {
      const file = files.get(pFile);
      if (!file) return SQLITE_OK;
      try {
        shmDetach(file);
        unlock(file, SQLITE_LOCK_NONE);
        file.storage.close();
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_CLOSE);
      } finally {
        files.delete(pFile);
        state.releaseInode(file.inode);
      }
    },

    xRead(pFile, pDest, n, offset) {
      try {
        const file = fileOf(pFile);
        const got = file.storage.read(wasm.heap8u().subarray(pDest, pDest + n), Number(offset));
        if (got < n) {
          wasm.heap8u().fill(0, pDest + got, pDest + n);
          return SQLITE_IOERR_SHORT_READ;
        }
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_READ);
      }
    },

    xWrite(pFile, pSrc, n, offset) {
      try {
        const file = fileOf(pFile);
        if (file.readonly) return SQLITE_READONLY;
        file.storage.write(wasm.heap8u().subarray(pSrc, pSrc + n), Number(offset));
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_WRITE);
      }
    },

    xTruncate(pFile, size) {
      try {
        const file = fileOf(pFile);
        if (file.readonly) return SQLITE_READONLY;
        file.storage.truncate(Number(size));
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_TRUNCATE);
      }
    },

    xSync(pFile) {
      try {
        fileOf(pFile).storage.flush();
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_FSYNC);
      }
    },

    xFileSize(pFile, pSize) {
      try {
        wasm.poke64(pSize, BigInt(fileOf(pFile).storage.size()));
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_FSTAT);
      }
    },

    xLock(pFile, level) {
      try {
        const file = fileOf(pFile);
        const own = file.storage;
        if (isSelfLocking(own)) {
          if (file.lock >= level) return SQLITE_OK;
          const outcome = own.lock(level as LockLevel);
          if (outcome === 'ok') {
            file.lock = level;
            return SQLITE_OK;
          }
          return outcome === 'stale' ? SQLITE_BUSY_SNAPSHOT : SQLITE_BUSY;
        }
        return lock(file, level);
      } catch (e) {
        return fail(e, SQLITE_IOERR_LOCK);
      }
    },

    xUnlock(pFile, level) {
      try {
        const file = fileOf(pFile);
        const own = file.storage;
        if (isSelfLocking(own)) {
          if (file.lock > level) {
            own.unlock(level as LockLevel);
            file.lock = level;
            state.lockReleased();
          }
          return SQLITE_OK;
        }
        unlock(file, level);
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_UNLOCK);
      }
    },

    xCheckReservedLock(pFile, pOut) {
      try {
        const file = fileOf(pFile);
        const own = file.storage;
        wasm.poke32(pOut, (isSelfLocking(own) ? own.reservedByOther() || file.lock >= SQLITE_LOCK_RESERVED : file.inode.writer !== null) ? 1 : 0);
        return SQLITE_OK;
      } catch (e) {
        wasm.poke32(pOut, 0);
        return fail(e, SQLITE_IOERR_CHECKRESERVEDLOCK);
      }
    },

    xFileControl(pFile, op, pArg) {
      try {
        if (op === SQLITE_FCNTL_LOCKSTATE) {
          wasm.poke32(pArg, fileOf(pFile).lock);
          return SQLITE_OK;
        }
        if (op === SQLITE_FCNTL_COMMIT_PHASETWO) {
          const own = fileOf(pFile).storage;
          if (isSelfLocking(own)) own.commitPhaseTwo();
          return SQLITE_OK;
        }
        return SQLITE_NOTFOUND;
      } catch (e) {
        return fail(e, SQLITE_IOERR);
      }
    },

    xSectorSize() {
      return SECTOR_SIZE;
    },

    xDeviceCharacteristics() {
      return SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_POWERSAFE_OVERWRITE;
    },

    xShmMap(pFile, region, regionSize, extend, pp) {
      try {
        const file = fileOf(pFile);
        const inode = file.inode;
        let node = inode.shm;
        if (node === null) {
          node = {
            owner: wasm,
            regionSize,
            regions: [],
            users: new Set(),
            sharedCount: new Array<number>(SQLITE_SHM_NLOCK).fill(0),
            exclusiveOwner: new Array<OpenFile | null>(SQLITE_SHM_NLOCK).fill(null),
          };
          inode.shm = node;
        }
        if (node.owner !== wasm) {
          throw new Error(`${file.path}: its wal-index belongs to another SQLite instance in this thread`);
        }
        if (regionSize !== node.regionSize) {
          lastError = new Error(`${file.path}: wal-index region size ${regionSize} != ${node.regionSize}`);
          return SQLITE_IOERR_SHMSIZE;
        }
        if (file.shm === null) {
          file.shm = { sharedMask: 0, exclusiveMask: 0 };
          node.users.add(file);
        }
        if (region >= node.regions.length) {
          if (!extend) {
            wasm.pokePtr(pp, 0);
            return SQLITE_OK;
          }
          while (node.regions.length <= region) {
            const p = wasm.alloc(regionSize);
            wasm.heap8u().fill(0, p, p + regionSize);
            node.regions.push(p);
          }
        }
        wasm.pokePtr(pp, node.regions[region]);
        return SQLITE_OK;
      } catch (e) {
        wasm.pokePtr(pp, 0);
        return fail(e, SQLITE_IOERR_SHMMAP);
      }
    },

    xShmLock(pFile, offset, n, flags) {
      try {
        const file = fileOf(pFile);
        const node = file.inode.shm;
        const conn = file.shm;
        if (node === null || conn === null) throw new Error(`${file.path}: xShmLock before xShmMap`);
        if (offset < 0 || n < 1 || offset + n > SQLITE_SHM_NLOCK) {
          throw new Error(`${file.path}: xShmLock slots ${offset}+${n} out of range`);
        }
        const mask = ((1 << n) - 1) << offset;
        if (flags & SQLITE_SHM_UNLOCK) {
          if (shmUnlockSlots(file, node, mask)) state.lockReleased();
          return SQLITE_OK;
        }
        if ((flags & SQLITE_SHM_LOCK) === 0) throw new Error(`${file.path}: xShmLock flags ${flags}`);
        if (flags & SQLITE_SHM_SHARED) {
          for (let slot = offset; slot < offset + n; slot++) {
            const owner = node.exclusiveOwner[slot];
            if (owner !== null && owner !== file) return SQLITE_BUSY;
          }
          for (let slot = offset; slot < offset + n; slot++) {
            if ((conn.sharedMask & (1 << slot)) === 0) node.sharedCount[slot]++;
          }
          conn.sharedMask |= mask;
          return SQLITE_OK;
        }
        if (flags & SQLITE_SHM_EXCLUSIVE) {
          for (let slot = offset; slot < offset + n; slot++) {
            const owner = node.exclusiveOwner[slot];
            if (owner !== null && owner !== file) return SQLITE_BUSY;
            const mine = (conn.sharedMask >> slot) & 1;
            if (node.sharedCount[slot] - mine > 0) return SQLITE_BUSY;
          }
          for (let slot = offset; slot < offset + n; slot++) node.exclusiveOwner[slot] = file;
          conn.exclusiveMask |= mask;
          return SQLITE_OK;
        }
        throw new Error(`${file.path}: xShmLock flags ${flags}`);
      } catch (e) {
        return fail(e, SQLITE_IOERR_SHMLOCK);
      }
    },

    xShmBarrier() {
      // One thread: every store is already visible to every connection.
    },

    xShmUnmap(pFile) {
      // deleteFlag asks for the wal-index storage to go once nobody maps it; it
      // is only WASM memory, freed when the last connection unmaps either way.
      try {
        shmDetach(fileOf(pFile));
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_SHMMAP);
      }
    },
  };

  // ---- sqlite3_vfs ----------------------------------------------------------------

  function kindOf(flags: number): FileKind {
    if (flags & SQLITE_OPEN_MAIN_DB) return 'main-db';
    if (flags & SQLITE_OPEN_MAIN_JOURNAL) return 'main-journal';
    if (flags & SQLITE_OPEN_WAL) return 'wal';
    if (flags & (SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TRANSIENT_DB)) return 'temp-db';
    if (flags & (SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_SUBJOURNAL)) return 'temp-journal';
    return 'other';
  }

  function tempName(): string {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    const safeName = name.replace(/[^A-Za-z0-9_-]/g, '_');
    const fileName = `heliosdb-${safeName}-${(++tempCounter).toString(36)}-${hex}.tmp`;
    return backend.tempPath ? backend.tempPath(fileName) : fileName;
  }

  function pathOf(zName: number): string {
    const path = wasm.cstrToJs(zName);
    if (path === null) throw new Error('null file name');
    return path;
  }

  const vfsMethods: VfsMethods = {
    xOpen(_pVfs, zName, pFile, flags, pOutFlags) {
      try {
        const named = zName !== 0 && wasm.heap8u()[zName] !== 0;
        const path = named ? pathOf(zName) : tempName();
        const kind = kindOf(flags);
        const deleteOnClose = !named || (flags & SQLITE_OPEN_DELETEONCLOSE) !== 0;
        let readonly = (flags & SQLITE_OPEN_READONLY) !== 0;
        let outFlags = flags;
        let storage: StorageFile;
        try {
          storage = backend.open(path, {
            create: !readonly && (flags & SQLITE_OPEN_CREATE) !== 0,
            readonly,
            deleteOnClose,
            kind,
          });
        } catch (e) {
          // As the unix VFS does: a file we may not write is opened read-only and
          // SQLite is told so through pOutFlags.
          if (readonly || !(e instanceof StorageError) || e.code !== 'permission' || !backend.exists(path)) throw e;
          storage = backend.open(path, { create: false, readonly: true, deleteOnClose, kind });
          readonly = true;
          outFlags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
        }
        let inode: Inode;
        try {
          inode = state.acquireInode(backend.canonical(path));
        } catch (e) {
          storage.close();
          throw e;
        }
        files.set(pFile, { pFile, path, kind, readonly, storage, inode, lock: SQLITE_LOCK_NONE, shm: null });
        const fileStruct = new structs.sqlite3_file(pFile);
        // Self-locking (MVCC) files get version-1 methods: no shared memory, so SQLite never switches them to WAL.
        fileStruct.$pMethods = isSelfLocking(storage) ? ioStructNoShm.pointer : ioStruct.pointer;
        fileStruct.dispose();
        if (pOutFlags) wasm.poke32(pOutFlags, outFlags);
        return SQLITE_OK;
      } catch (e) {
        // SQLite reads pMethods to decide whether to call xClose: leave it NULL.
        wasm.pokePtr(pFile, 0);
        return fail(e, SQLITE_CANTOPEN);
      }
    },

    xDelete(_pVfs, zName, syncDir) {
      try {
        backend.delete(pathOf(zName), syncDir !== 0);
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_IOERR_DELETE);
      }
    },

    xAccess(_pVfs, zName, flags, pOut) {
      try {
        const path = pathOf(zName);
        let result = false;
        if (flags === SQLITE_ACCESS_EXISTS || flags === SQLITE_ACCESS_READ) {
          result = backend.exists(path);
        } else if (flags === SQLITE_ACCESS_READWRITE) {
          result = backend.exists(path) && (backend.writable ? backend.writable(path) : true);
        }
        wasm.poke32(pOut, result ? 1 : 0);
        return SQLITE_OK;
      } catch (e) {
        wasm.poke32(pOut, 0);
        return fail(e, SQLITE_IOERR_ACCESS);
      }
    },

    xFullPathname(_pVfs, zName, nOut, pOut) {
      const scope = wasm.scopedAllocPush();
      try {
        const full = backend.canonical(pathOf(zName));
        const [cFull, length] = wasm.scopedAllocCString(full, true);
        if (length >= nOut) {
          lastError = new Error(`path too long for SQLite (${length} >= ${nOut} bytes): ${full}`);
          return SQLITE_CANTOPEN;
        }
        wasm.cstrncpy(pOut, cFull, nOut);
        return SQLITE_OK;
      } catch (e) {
        return fail(e, SQLITE_CANTOPEN);
      } finally {
        wasm.scopedAllocPop(scope);
      }
    },

    xRandomness(_pVfs, n, pOut) {
      const chunk = new Uint8Array(Math.min(n, RANDOM_CHUNK));
      for (let done = 0; done < n; done += chunk.length) {
        const part = chunk.subarray(0, Math.min(chunk.length, n - done));
        crypto.getRandomValues(part);
        wasm.heap8u().set(part, pOut + done);
      }
      return n;
    },

    xSleep() {
      // Never block: the only contenders are connections on this same thread,
      // which cannot make progress while it sleeps.
      return 0;
    },

    xCurrentTime(_pVfs, pOut) {
      wasm.poke64f(pOut, UNIX_EPOCH_JULIAN_DAYS + Date.now() / MS_PER_DAY);
      return SQLITE_OK;
    },

    xCurrentTimeInt64(_pVfs, pOut) {
      wasm.poke64(pOut, UNIX_EPOCH_JULIAN_MS + BigInt(Date.now()));
      return SQLITE_OK;
    },

    xGetLastError(_pVfs, nOut, pOut) {
      const error = lastError;
      if (error === undefined) return 0;
      if (nOut > 0 && pOut) {
        const bytes = new TextEncoder().encode(error.message).subarray(0, nOut - 1);
        const heap = wasm.heap8u();
        heap.set(bytes, pOut);
        heap[pOut + bytes.length] = 0;
      }
      return systemErrno(error);
    },
  };

  // ---- installation ---------------------------------------------------------------

  const ioStruct = new structs.sqlite3_io_methods();
  ioStruct.$iVersion = 2; // version 2 adds xShmMap, xShmLock, xShmBarrier, xShmUnmap
  const vfsStruct = new structs.sqlite3_vfs();
  vfsStruct.$iVersion = 2; // version 2 adds xCurrentTimeInt64
  vfsStruct.$szOsFile = structs.sqlite3_file.structInfo.sizeof;
  vfsStruct.$mxPathname = MAX_PATHNAME;
  installer.installVfs({
    io: { struct: ioStruct, methods: ioMethods },
    vfs: { struct: vfsStruct, methods: vfsMethods, name },
  });
  const ioStructNoShm = new structs.sqlite3_io_methods();
  ioStructNoShm.$iVersion = 1;
  installer.installVfs({ io: { struct: ioStructNoShm, methods: ioMethods } });

  return {
    name,
    backend,
    storageFileOf(pFile) {
      return files.get(pFile)?.storage;
    },
    takeLastError() {
      const error = lastError;
      lastError = undefined;
      return error;
    },
    onLockReleased(listener) {
      const entry = (): void => listener();
      state.listeners.add(entry);
      return () => {
        state.listeners.delete(entry);
      };
    },
  };
}
