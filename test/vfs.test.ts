/**
 * The VFS layer against real SQLite: our WASM build through `registerVfs`, with
 * native SQLite (Python's `sqlite3` module) as the oracle for on-disk files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import init, { type Database } from '@sqlite.org/sqlite-wasm';
// Types come from the built package at compile time (test/ -> ../dist); at run
// time this file is build/test/vfs.test.js, hence the deeper relative URL.
import type * as VfsApi from '../dist/vfs/index.js';
import { dumpDb, prng, python, runPython, type PythonDump } from './helpers/vfs-oracle.js';

const vfsModule = (await import(new URL('../../dist/vfs/index.js', import.meta.url).href)) as typeof VfsApi;
const { MemoryBackend, NodeBackend, StorageError, registerVfs } = vfsModule;

const sqlite3 = await init();
const { capi, wasm } = sqlite3;

// ---------------------------------------------------------------------------
// Helpers

/** sqlite3.h: an extended result code's low byte is its primary result code. */
const PRIMARY_CODE_MASK = 0xff;

let vfsCounter = 0;
function uniqueVfsName(prefix: string): string {
  return `vfs-test-${prefix}-${++vfsCounter}`;
}

function openDb(filename: string, vfs: string, flags = 'c'): Database {
  return new sqlite3.oo1.DB({ filename, flags, vfs });
}

/** Runs `fn`, which must fail with a SQLite error; returns its primary result code. */
function sqliteErrorOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof sqlite3.SQLite3Error) return e.resultCode & PRIMARY_CODE_MASK;
    throw e;
  }
  return assert.fail('expected a SQLite error');
}

function dbPointer(db: Database): number {
  const p = db.pointer;
  assert.ok(p, 'database is open');
  return p;
}

/** The lock level our VFS holds for `db`'s main file (SQLITE_FCNTL_LOCKSTATE). */
function lockState(db: Database): number {
  const p = wasm.alloc(8);
  try {
    assert.equal(capi.sqlite3_file_control(dbPointer(db), 'main', capi.SQLITE_FCNTL_LOCKSTATE, p), capi.SQLITE_OK);
    return wasm.peek32(p);
  } finally {
    wasm.dealloc(p);
  }
}

/** The member offsets sqlite-wasm's struct binder records (not in its typings). */
interface StructLayout {
  readonly structInfo: { readonly members: Record<string, { readonly offset: number }> };
}

/** A method installed in the `sqlite3_io_methods` of `db`'s main file, and that file. */
function ioMethod<F>(db: Database, name: string): { pFile: number; method: F } {
  const p = wasm.alloc(8);
  try {
    assert.equal(capi.sqlite3_file_control(dbPointer(db), 'main', capi.SQLITE_FCNTL_FILE_POINTER, p), capi.SQLITE_OK);
    const pFile = wasm.peekPtr(p);
    const pMethods = wasm.peekPtr(pFile);
    const { offset } = (capi.sqlite3_io_methods as unknown as StructLayout).structInfo.members[name];
    const fn = wasm.functionEntry(wasm.peekPtr(pMethods + offset));
    assert.ok(fn, `${name} is installed`);
    return { pFile, method: fn as F };
  } finally {
    wasm.dealloc(p);
  }
}

/**
 * Calls the installed `xCheckReservedLock` of `db`'s main file through SQLite's
 * own function table, as SQLite itself would, and returns its answer.
 */
function checkReservedLock(db: Database): number {
  const { pFile, method } = ioMethod<(pFile: number, pResOut: number) => number>(db, 'xCheckReservedLock');
  const p = wasm.alloc(4);
  try {
    wasm.poke32(p, -1);
    assert.equal(method(pFile, p), capi.SQLITE_OK);
    return wasm.peek32(p);
  } finally {
    wasm.dealloc(p);
  }
}

/** Wraps a backend, recording every open and letting a test refuse some. */
class SpyBackend implements VfsApi.StorageBackend {
  readonly name: string;
  readonly opened: { path: string; options: VfsApi.OpenOptions }[] = [];
  /** Throw this from `open` when it returns an error for the call. */
  refuse: (path: string, options: VfsApi.OpenOptions) => Error | undefined = () => undefined;
  constructor(private readonly inner: VfsApi.StorageBackend) {
    this.name = `spy-${inner.name}`;
  }
  open(path: string, options: VfsApi.OpenOptions): VfsApi.StorageFile {
    this.opened.push({ path, options });
    const refusal = this.refuse(path, options);
    if (refusal) throw refusal;
    return this.inner.open(path, options);
  }
  exists(path: string): boolean {
    return this.inner.exists(path);
  }
  delete(path: string, syncDir?: boolean): void {
    this.inner.delete(path, syncDir);
  }
  canonical(path: string): string {
    return this.inner.canonical(path);
  }
  tempPath(name: string): string {
    return this.inner.tempPath ? this.inner.tempPath(name) : name;
  }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function count(db: Database, sql: string): number {
  return Number(db.selectValue(sql));
}

/** Lets queued microtasks and one macrotask turn run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---------------------------------------------------------------------------

describe('MemoryBackend', () => {
  test('stores bytes: write, read back, short reads, truncate, read-only and missing files', () => {
    const backend = new MemoryBackend();
    const file = backend.open('/raw', { create: true, readonly: false, deleteOnClose: false, kind: 'other' });
    file.write(Uint8Array.of(1, 2, 3), 10);
    assert.equal(file.size(), 13);
    const into = new Uint8Array(8).fill(9);
    assert.equal(file.read(into, 8), 5, 'a read past the end is short');
    assert.deepEqual([...into.subarray(0, 5)], [0, 0, 1, 2, 3]);
    file.truncate(11);
    file.write(Uint8Array.of(7), 14);
    const after = new Uint8Array(15);
    assert.equal(file.read(after, 0), 15);
    assert.deepEqual([...after.subarray(10)], [1, 0, 0, 0, 7], 'bytes cut by truncate read back as zeros');
    file.close();

    const ro = backend.open('/raw', { create: false, readonly: true, deleteOnClose: false, kind: 'other' });
    assert.throws(() => ro.write(Uint8Array.of(1), 0), (e) => e instanceof StorageError && e.code === 'permission');
    ro.close();
    assert.throws(
      () => backend.open('/missing', { create: false, readonly: false, deleteOnClose: false, kind: 'main-db' }),
      (e) => e instanceof StorageError && e.code === 'not-found',
    );
    const temp = backend.open('/temp', { create: true, readonly: false, deleteOnClose: true, kind: 'temp-db' });
    temp.write(Uint8Array.of(1), 0);
    assert.ok(backend.exists('/temp'));
    temp.close();
    assert.ok(!backend.exists('/temp'), 'deleteOnClose removes the file');
  });

  test('creates a database, writes it and reads it back after reopening', () => {
    const backend = new MemoryBackend();
    const vfs = registerVfs(sqlite3, uniqueVfsName('mem'), backend);
    const rnd = prng(1);
    const expected: [number, string, number][] = [];
    const db = openDb('/app.db', vfs.name);
    db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, b BLOB); CREATE INDEX t_s ON t(s)');
    db.exec('BEGIN');
    const insert = db.prepare('INSERT INTO t(id, s, b) VALUES (?, ?, ?)');
    for (let i = 1; i <= 500; i++) {
      const size = Math.floor(rnd() * 12000);
      expected.push([i, `row ${i} ✓`, size]);
      insert.bind([i, `row ${i} ✓`, new Uint8Array(size).fill((i % 251) + 1)]).stepReset();
    }
    insert.finalize();
    db.exec('COMMIT');
    assert.equal(db.selectValue('PRAGMA journal_mode'), 'delete');
    db.close();
    assert.deepEqual(backend.list(), ['/app.db'], 'only the database remains: the journal was deleted');

    const again = openDb('/app.db', vfs.name, 'w');
    const rows = again.selectArrays('SELECT id, s, length(b) FROM t ORDER BY id');
    assert.deepEqual(rows, expected);
    assert.equal(count(again, 'SELECT count(*) FROM t WHERE b != zeroblob(length(b)) OR length(b) = 0'), 500);
    assert.equal(again.selectValue('PRAGMA integrity_check'), 'ok');
    again.close();
  });

  test("two connections in one engine see each other's commits", () => {
    const vfs = registerVfs(sqlite3, uniqueVfsName('mem'), new MemoryBackend());
    const a = openDb('/shared.db', vfs.name);
    const b = openDb('/shared.db', vfs.name);
    a.exec('CREATE TABLE t(x)');
    b.exec('INSERT INTO t VALUES (1)');
    assert.deepEqual(a.selectValues('SELECT x FROM t'), [1]);
    a.exec('INSERT INTO t VALUES (2)');
    assert.deepEqual(b.selectValues('SELECT x FROM t ORDER BY x'), [1, 2]);
    b.exec('BEGIN; UPDATE t SET x = x * 10; COMMIT');
    assert.deepEqual(a.selectValues('SELECT x FROM t ORDER BY x'), [10, 20]);
    a.close();
    b.close();
  });

  test('a second writer gets SQLITE_BUSY while the first holds a write transaction, and succeeds after it commits', () => {
    const vfs = registerVfs(sqlite3, uniqueVfsName('mem'), new MemoryBackend());
    const a = openDb('/busy.db', vfs.name);
    const b = openDb('/busy.db', vfs.name);
    a.exec('CREATE TABLE t(x)');
    assert.equal(lockState(a), capi.SQLITE_LOCK_NONE);

    a.exec('BEGIN; INSERT INTO t VALUES (1)');
    assert.equal(lockState(a), capi.SQLITE_LOCK_RESERVED);
    assert.equal(sqliteErrorOf(() => b.exec('INSERT INTO t VALUES (2)')), capi.SQLITE_BUSY);
    assert.equal(lockState(b), capi.SQLITE_LOCK_NONE, 'the failed writer let go of its SHARED lock');
    assert.deepEqual(b.selectValues('SELECT x FROM t'), [], 'readers still read the committed state');

    // A reader in an open read transaction keeps the committer at PENDING.
    b.exec('BEGIN; SELECT count(*) FROM t');
    assert.equal(lockState(b), capi.SQLITE_LOCK_SHARED);
    assert.equal(sqliteErrorOf(() => a.exec('COMMIT')), capi.SQLITE_BUSY);
    assert.equal(lockState(a), capi.SQLITE_LOCK_PENDING);
    const c = openDb('/busy.db', vfs.name);
    assert.equal(sqliteErrorOf(() => c.selectValue('SELECT count(*) FROM t')), capi.SQLITE_BUSY, 'PENDING keeps new readers out');
    b.exec('COMMIT');
    a.exec('COMMIT');
    assert.equal(lockState(a), capi.SQLITE_LOCK_NONE);

    b.exec('INSERT INTO t VALUES (2)');
    assert.deepEqual(c.selectValues('SELECT x FROM t ORDER BY x'), [1, 2]);
    for (const db of [a, b, c]) db.close();
  });

  test('xCheckReservedLock tells the truth, so a live journal is not mistaken for a hot one', () => {
    const backend = new MemoryBackend();
    const vfs = registerVfs(sqlite3, uniqueVfsName('mem'), backend);
    const a = openDb('/reserved.db', vfs.name);
    const b = openDb('/reserved.db', vfs.name);
    a.exec("CREATE TABLE t(x); INSERT INTO t SELECT 'v' FROM json_each('[1,2,3,4,5]')");
    assert.equal(checkReservedLock(a), 0);
    assert.equal(checkReservedLock(b), 0);

    a.exec("BEGIN; UPDATE t SET x = 'changed'");
    assert.ok(backend.exists('/reserved.db-journal'), 'the writer has a rollback journal on storage');
    assert.equal(checkReservedLock(b), 1, 'another connection holds RESERVED');
    assert.equal(checkReservedLock(a), 1, 'RESERVED is seen by its holder too');
    // If xCheckReservedLock said 0 here, b would treat the journal as hot, try to
    // roll it back and fail with SQLITE_BUSY instead of reading.
    assert.deepEqual(b.selectValues('SELECT DISTINCT x FROM t'), ['v']);

    a.exec('COMMIT');
    assert.equal(checkReservedLock(b), 0);
    assert.deepEqual(b.selectValues('SELECT DISTINCT x FROM t'), ['changed']);
    a.close();
    b.close();
  });

  test('onLockReleased notifies after a lock is lowered, outside the SQLite call, until unsubscribed', async () => {
    const vfs = registerVfs(sqlite3, uniqueVfsName('mem'), new MemoryBackend());
    const db = openDb('/notify.db', vfs.name);
    db.exec('CREATE TABLE t(x)');
    await settle();
    let calls = 0;
    const unsubscribe = vfs.onLockReleased(() => {
      calls++;
    });
    db.exec('BEGIN; INSERT INTO t VALUES (1)');
    await settle();
    assert.equal(calls, 0, 'taking locks notifies nobody');
    db.exec('COMMIT');
    assert.equal(calls, 0, 'listeners do not run inside the SQLite call');
    await settle();
    assert.equal(calls, 1, 'several lock changes in one turn coalesce into one call');
    unsubscribe();
    db.exec('INSERT INTO t VALUES (2)');
    await settle();
    assert.equal(calls, 1);
    db.close();
  });

  test('xRead past the end zero-fills and returns SQLITE_IOERR_SHORT_READ (offsets are BigInt)', () => {
    const backend = new MemoryBackend();
    const vfs = registerVfs(sqlite3, uniqueVfsName('mem'), backend);
    const db = openDb('/short.db', vfs.name);
    db.exec('CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(5000))');
    const size = count(db, 'PRAGMA page_count') * count(db, 'PRAGMA page_size');
    const { pFile, method: xRead } = ioMethod<(pFile: number, p: number, n: number, offset: bigint) => number>(db, 'xRead');
    const raw = backend.open('/short.db', { create: false, readonly: true, deleteOnClose: false, kind: 'other' });
    const tail = new Uint8Array(40);
    assert.equal(raw.read(tail, size - 40), 40);
    raw.close();
    const p = wasm.alloc(100);
    try {
      wasm.heap8u().fill(0xaa, p, p + 100);
      assert.equal(xRead(pFile, p, 100, BigInt(size - 40)), capi.SQLITE_IOERR_SHORT_READ);
      const got = wasm.heap8u().slice(p, p + 100);
      assert.deepEqual(got.subarray(0, 40), tail);
      assert.deepEqual(got.subarray(40), new Uint8Array(60), 'the rest is zero-filled');
      assert.equal(xRead(pFile, p, 100, 0n), capi.SQLITE_OK);
      assert.deepEqual([...wasm.heap8u().subarray(p, p + 16)], [...new TextEncoder().encode('SQLite format 3\0')]);
    } finally {
      wasm.dealloc(p);
    }
    db.close();
  });

  test('a file the backend will not open for writing is opened read-only, as the unix VFS does', () => {
    const inner = new MemoryBackend();
    const setup = openDb('/locked.db', registerVfs(sqlite3, uniqueVfsName('mem'), inner).name);
    setup.exec("CREATE TABLE t(x); INSERT INTO t VALUES ('kept')");
    setup.close();
    const spy = new SpyBackend(inner);
    spy.refuse = (path, options) =>
      options.readonly ? undefined : new StorageError('permission', `test: ${path} is read-only`);
    const vfs = registerVfs(sqlite3, uniqueVfsName('ro'), spy);
    const db = openDb('/locked.db', vfs.name, 'w');
    assert.equal(capi.sqlite3_db_readonly(dbPointer(db), 'main'), 1, 'SQLite was told through pOutFlags');
    assert.deepEqual(db.selectValues('SELECT x FROM t'), ['kept']);
    assert.equal(sqliteErrorOf(() => db.exec("INSERT INTO t VALUES ('no')")), capi.SQLITE_READONLY);
    db.close();
    assert.deepEqual(
      spy.opened.map((o) => o.options.readonly),
      [false, true],
      'a read-write attempt, then the read-only fallback',
    );
  });

  test('a full path that does not fit in mxPathname fails with SQLITE_CANTOPEN', () => {
    const vfs = registerVfs(sqlite3, uniqueVfsName('mem'), new MemoryBackend());
    assert.equal(sqliteErrorOf(() => openDb(`/${'x'.repeat(1100)}.db`, vfs.name)), capi.SQLITE_CANTOPEN);
    assert.match(String(vfs.takeLastError()), /too long/);
  });

  test('WAL mode: shared memory lets readers keep snapshots and keeps writers apart', () => {
    const backend = new MemoryBackend();
    const vfs = registerVfs(sqlite3, uniqueVfsName('mem'), backend);
    const a = openDb('/wal.db', vfs.name);
    const b = openDb('/wal.db', vfs.name);
    assert.equal(a.selectValue('PRAGMA journal_mode=WAL'), 'wal', 'WAL needs xShmMap and friends');
    a.exec('CREATE TABLE t(x); INSERT INTO t VALUES (1)');
    assert.ok(backend.exists('/wal.db-wal'));

    b.exec('BEGIN');
    assert.equal(count(b, 'SELECT count(*) FROM t'), 1);
    a.exec('INSERT INTO t VALUES (2)');
    assert.equal(count(b, 'SELECT count(*) FROM t'), 1, 'the reader keeps its snapshot while a writer commits');
    b.exec('COMMIT');
    assert.equal(count(b, 'SELECT count(*) FROM t'), 2);

    a.exec('BEGIN IMMEDIATE');
    assert.equal(sqliteErrorOf(() => b.exec('BEGIN IMMEDIATE')), capi.SQLITE_BUSY, 'one WAL writer at a time');
    a.exec('INSERT INTO t VALUES (3); COMMIT');
    b.exec('BEGIN IMMEDIATE; INSERT INTO t VALUES (4); COMMIT');
    assert.deepEqual(a.selectValues('SELECT x FROM t ORDER BY x'), [1, 2, 3, 4]);

    // A reader's read-mark (a shared wal-index lock) keeps a truncating checkpoint out.
    b.exec('BEGIN');
    assert.equal(count(b, 'SELECT sum(x) FROM t'), 10);
    a.exec('INSERT INTO t VALUES (5)');
    assert.equal(a.selectArrays('PRAGMA wal_checkpoint(TRUNCATE)')[0][0], 1, 'busy: a reader is still in the WAL');
    assert.ok(backend.exists('/wal.db-wal'));
    assert.equal(count(b, 'SELECT sum(x) FROM t'), 10, "the reader's snapshot survived the checkpoint attempt");
    b.exec('COMMIT');
    assert.equal(a.selectArrays('PRAGMA wal_checkpoint(TRUNCATE)')[0][0], 0, 'no reader: the checkpoint completes');
    assert.equal(count(b, 'SELECT sum(x) FROM t'), 15);
    a.exec('DELETE FROM t WHERE x = 5');
    a.close();
    b.close();
    assert.ok(!backend.exists('/wal.db-wal'), 'the last close checkpoints and removes the WAL');

    const c = openDb('/wal.db', vfs.name, 'w');
    assert.equal(c.selectValue('PRAGMA journal_mode'), 'wal');
    assert.deepEqual(c.selectValues('SELECT x FROM t ORDER BY x'), [1, 2, 3, 4]);
    c.close();
  });
});

// ---------------------------------------------------------------------------

describe('NodeBackend', () => {
  let dir = '';
  const backend = new NodeBackend();
  const vfs = registerVfs(sqlite3, uniqueVfsName('node'), backend);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'heliosdb-vfs-test-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A database with tables, indexes, a view, blobs (some overflowing pages) and unicode. */
  function writeSample(db: Database, rows: number): void {
    const rnd = prng(99);
    db.exec(`
      CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, score REAL, avatar BLOB, note TEXT);
      CREATE UNIQUE INDEX people_name ON people(name);
      CREATE INDEX people_age ON people(age, score);
      CREATE TABLE tags(tag TEXT PRIMARY KEY, weight REAL, big INTEGER) WITHOUT ROWID;
      CREATE VIEW adults AS SELECT id, name FROM people WHERE age >= 18;
      BEGIN;`);
    const people = db.prepare('INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < rows; i++) {
      const size = i % 97 === 0 ? 20000 : Math.floor(rnd() * 300);
      const avatar = new Uint8Array(size).map(() => Math.floor(rnd() * 256));
      const age = rnd() < 0.2 ? null : Math.floor(rnd() * 100);
      const note = rnd() < 0.3 ? null : 'note ✓ '.repeat(Math.floor(rnd() * 50));
      people.bind([i + 1, `js-${i}-hélios-✓`, age, rnd() * 2e6 - 1e6, avatar, note]).stepReset();
    }
    people.finalize();
    const tags = db.prepare('INSERT INTO tags VALUES (?, ?, ?)');
    for (let i = 0; i < rows / 10; i++) tags.bind([`tag-${i}`, rnd(), 2n ** 62n + BigInt(i * 7919) - 3n]).stepReset();
    tags.finalize();
    db.exec('COMMIT');
  }

  test('a database written here (rollback journal) opens in Python with identical contents and integrity ok', () => {
    const path = join(dir, 'written-here.db');
    const db = openDb(path, vfs.name);
    writeSample(db, 3000);
    assert.equal(db.selectValue('PRAGMA journal_mode'), 'delete');
    const ours = dumpDb(db);
    db.close();
    assert.equal(ours.tables.people.length, 3000);
    assert.equal(ours.tables.tags.length, 300);
    assert.ok(!existsSync(`${path}-journal`), 'the committed journal is gone');

    const theirs = python<PythonDump>('dump', path);
    assert.equal(theirs.integrity, 'ok');
    assert.deepEqual({ schema: theirs.schema, tables: theirs.tables }, ours);
  });

  test('a database written by Python opens here with identical contents', () => {
    const path = join(dir, 'written-by-python.db');
    python('sample', path, 'delete', '3000');
    const theirs = python<PythonDump>('dump', path);
    assert.equal(theirs.tables.people.length, 3000);

    const db = openDb(path, vfs.name, 'w');
    assert.deepEqual(dumpDb(db), { schema: theirs.schema, tables: theirs.tables });
    assert.equal(db.selectValue('PRAGMA integrity_check'), 'ok');
    db.close();
  });

  test('a WAL-mode database made by Python opens here for reading and writing', () => {
    const path = join(dir, 'python-wal.db');
    python('sample', path, 'wal', '2000');
    assert.equal(readFileSync(path)[18], 2, 'the file header says WAL');
    const theirs = python<PythonDump>('dump', path);

    const db = openDb(path, vfs.name, 'w');
    assert.equal(db.selectValue('PRAGMA journal_mode'), 'wal');
    assert.deepEqual(dumpDb(db), { schema: theirs.schema, tables: theirs.tables });
    db.exec(`BEGIN; INSERT INTO people(name, age) VALUES ('from wasm 1', 30), ('from wasm 2', 40); COMMIT;
             UPDATE tags SET weight = -1 WHERE tag = 'tag-3'`);
    assert.ok(statSync(`${path}-wal`).size > 0, 'our commits went to the real -wal file');
    db.close();

    const afterwards = python<PythonDump>('dump', path);
    assert.equal(afterwards.integrity, 'ok');
    const names = afterwards.tables.people.map((row) => row[1]?.v);
    assert.deepEqual(names.slice(-2), ['from wasm 1', 'from wasm 2']);
    assert.equal(afterwards.tables.people.length, 2002);
    const tag3 = afterwards.tables.tags.find((row) => row[0]?.v === 'tag-3');
    assert.deepEqual(tag3?.[1], { t: 'real', v: 'bff0000000000000' }, 'the update is there (-1.0)');
  });

  test('a WAL left by a SIGKILLed native process is recovered: all committed data, nothing uncommitted', () => {
    const path = join(dir, 'killed.db');
    const txns = 40;
    const rowsPerTxn = 25;
    const run = runPython('wal-crash', path, String(txns), String(rowsPerTxn));
    assert.equal(run.signal, 'SIGKILL', run.stderr);
    const reported = JSON.parse(run.stdout) as { wal: number };
    assert.ok(reported.wal > 0);
    assert.ok(statSync(`${path}-wal`).size > 0, 'the -wal file was left behind');
    assert.ok(existsSync(`${path}-shm`), 'so was the native -shm file');

    // The main file alone does not even have the table: everything is in the WAL.
    const bare = join(dir, 'killed-main-only.db');
    copyFileSync(path, bare);
    const bareDb = openDb(bare, vfs.name, 'w');
    assert.equal(count(bareDb, "SELECT count(*) FROM sqlite_schema WHERE name = 't'"), 0);
    bareDb.close();

    const db = openDb(path, vfs.name, 'w');
    assert.equal(db.selectValue('PRAGMA journal_mode'), 'wal');
    assert.equal(count(db, 'SELECT count(*) FROM t'), txns * rowsPerTxn);
    assert.equal(count(db, 'SELECT count(DISTINCT txn) FROM t'), txns);
    assert.equal(count(db, 'SELECT count(*) FROM t WHERE txn < 0'), 0, 'the uncommitted insert is not there');
    assert.equal(
      count(db, "SELECT count(*) FROM t WHERE length(b) = 500 AND hex(substr(b, 500, 1)) = printf('%02X', txn % 256)"),
      txns * rowsPerTxn,
    );
    assert.equal(db.selectValue('SELECT v FROM t ORDER BY id DESC LIMIT 1'), `committed ${txns - 1}/${rowsPerTxn - 1}`);
    assert.equal(db.selectValue('PRAGMA integrity_check'), 'ok');
    db.exec("INSERT INTO t(txn, v) VALUES (1000, 'after recovery')");
    db.close();

    const theirs = python<PythonDump>('dump', path);
    assert.equal(theirs.integrity, 'ok');
    assert.equal(theirs.tables.t.length, txns * rowsPerTxn + 1);
    assert.deepEqual(theirs.tables.t.at(-1)?.[2], { t: 'text', v: 'after recovery' });
  });

  test('full paths are canonical; nameless temp files live in os.tmpdir() and vanish', () => {
    const spy = new SpyBackend(new NodeBackend());
    const spyVfs = registerVfs(sqlite3, uniqueVfsName('spy'), spy);
    const db = openDb(join(dir, 'sub', '..', 'canonical.db'), spyVfs.name);
    assert.equal(capi.sqlite3_db_filename(dbPointer(db), 'main'), join(dir, 'canonical.db'));
    db.exec(`PRAGMA temp_store = FILE; CREATE TABLE t(x); CREATE TEMP TABLE warm(x); PRAGMA temp.cache_size = 10;
             CREATE TEMP TABLE scratch AS
               WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
               SELECT i, randomblob(100) AS r FROM c`);
    assert.equal(count(db, 'SELECT count(*) FROM (SELECT DISTINCT r FROM scratch ORDER BY r)'), 20000);
    const temps = spy.opened.filter((o) => o.options.kind === 'temp-db');
    assert.ok(temps.length > 0, 'SQLite used a temp database file');
    for (const t of temps) {
      assert.equal(dirname(t.path), tmpdir());
      assert.ok(t.options.deleteOnClose);
      assert.ok(!existsSync(t.path), `${t.path} is already unlinked`);
    }
    db.close();
    assert.deepEqual(
      spy.opened.filter((o) => o.options.kind === 'main-db').map((o) => o.path),
      [join(dir, 'canonical.db')],
    );
  });

  test('100 MB of random blobs round-trip in both directions with matching checksums', () => {
    const blobCount = 100;
    const blobSize = 1 << 20;
    const hashBlobs = (db: Database): string => {
      const h = createHash('sha256');
      const stmt = db.prepare('SELECT data FROM b ORDER BY id');
      let n = 0;
      while (stmt.step()) {
        const value = stmt.get(0);
        assert.ok(value instanceof Uint8Array && value.length === blobSize);
        h.update(value);
        n++;
      }
      stmt.finalize();
      assert.equal(n, blobCount);
      return h.digest('hex');
    };

    const ours = join(dir, 'big-here.db');
    const db = openDb(ours, vfs.name);
    db.exec(`CREATE TABLE b(id INTEGER PRIMARY KEY, data BLOB);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${blobCount})
             INSERT INTO b(id, data) SELECT i, randomblob(${blobSize}) FROM c`);
    const ourHash = hashBlobs(db);
    db.close();
    assert.ok(statSync(ours).size > blobCount * blobSize);
    const theirView = python<{ sha256: string; integrity: string }>('big-hash', ours);
    assert.equal(theirView.integrity, 'ok');
    assert.equal(theirView.sha256, ourHash);

    const theirs = join(dir, 'big-python.db');
    const written = python<{ sha256: string }>('big-write', theirs, String(blobCount), String(blobSize));
    const db2 = openDb(theirs, vfs.name, 'r');
    assert.equal(hashBlobs(db2), written.sha256);
    db2.close();
  });

  test('a non-SQLite or truncated file fails with SQLITE_NOTADB or SQLITE_CORRUPT and is left unchanged', () => {
    const { SQLITE_NOTADB, SQLITE_CORRUPT } = capi;
    const cases: { name: string; make: (path: string) => void; codes: number[] }[] = [
      { name: 'random.db', make: (p) => writeFileSync(p, randomBytes(64 * 1024)), codes: [SQLITE_NOTADB] },
      { name: 'text.db', make: (p) => writeFileSync(p, 'this is not a database\n'.repeat(100)), codes: [SQLITE_NOTADB] },
    ];
    const sample = join(dir, 'to-truncate.db');
    python('sample', sample, 'delete', '3000');
    const full = readFileSync(sample);
    const pageSize = full.readUInt16BE(16);
    cases.push(
      // A torn header: SQLite reports it as corruption (3.54) or as not a database.
      { name: 'torn-header.db', make: (p) => writeFileSync(p, full.subarray(0, 50)), codes: [SQLITE_NOTADB, SQLITE_CORRUPT] },
      {
        name: 'half.db',
        make: (p) => writeFileSync(p, full.subarray(0, Math.floor(full.length / 2 / pageSize) * pageSize)),
        codes: [SQLITE_CORRUPT],
      },
    );
    for (const c of cases) {
      const path = join(dir, c.name);
      c.make(path);
      const before = sha256(path);
      const db = openDb(path, vfs.name, 'w');
      const code = sqliteErrorOf(() => db.selectValue('SELECT count(*), sum(length(avatar)) FROM people'));
      assert.ok(c.codes.includes(code), `${c.name}: ${capi.sqlite3_errstr(code)}`);
      db.close();
      assert.equal(sha256(path), before, `${c.name} is unchanged`);
      assert.ok(!existsSync(`${path}-journal`), `${c.name} got no journal`);
    }
  });

  test('opening a path in a missing directory fails with SQLITE_CANTOPEN', () => {
    vfs.takeLastError();
    const missingDir = join(dir, 'no-such-directory');
    assert.equal(sqliteErrorOf(() => openDb(join(missingDir, 'x.db'), vfs.name, 'c')), capi.SQLITE_CANTOPEN);
    const error = vfs.takeLastError();
    assert.ok(error instanceof StorageError, String(error));
    assert.equal(error.code, 'not-found');
    assert.equal(vfs.takeLastError(), undefined, 'taking the error clears it');
    assert.ok(!existsSync(missingDir));

    // The raw C API says the same.
    const pp = wasm.alloc(8);
    try {
      const flags = capi.SQLITE_OPEN_READWRITE | capi.SQLITE_OPEN_CREATE;
      const rc = capi.sqlite3_open_v2(join(missingDir, 'y.db'), pp, flags, vfs.name);
      assert.equal(rc & PRIMARY_CODE_MASK, capi.SQLITE_CANTOPEN);
      capi.sqlite3_close_v2(wasm.peekPtr(pp));
    } finally {
      wasm.dealloc(pp);
    }
  });

  test('a read-only open refuses writes with SQLITE_READONLY and leaves the file untouched', () => {
    const path = join(dir, 'read-only.db');
    python('sample', path, 'delete', '500');
    const before = sha256(path);
    const mtime = statSync(path).mtimeMs;
    const db = openDb(path, vfs.name, 'r');
    assert.equal(capi.sqlite3_db_readonly(dbPointer(db), 'main'), 1);
    assert.equal(count(db, 'SELECT count(*) FROM people'), 500);
    assert.equal(sqliteErrorOf(() => db.exec("INSERT INTO people(name) VALUES ('nope')")), capi.SQLITE_READONLY);
    assert.equal(sqliteErrorOf(() => db.exec('CREATE TABLE z(a)')), capi.SQLITE_READONLY);
    assert.equal(sqliteErrorOf(() => db.exec('BEGIN; DELETE FROM people; COMMIT')), capi.SQLITE_READONLY);
    db.close();
    assert.equal(sha256(path), before);
    assert.equal(statSync(path).mtimeMs, mtime);
    assert.ok(!existsSync(`${path}-journal`));
  });

  test("a full disk (StorageError 'no-space') maps to SQLITE_FULL and the database stays intact", () => {
    /** Wraps a backend; writes to the main database fail once `budget` bytes are used up. */
    class FullDiskBackend implements VfsApi.StorageBackend {
      readonly name = 'full-disk';
      budget = Number.POSITIVE_INFINITY;
      written = 0;
      constructor(private readonly inner: VfsApi.StorageBackend) {}
      open(path: string, options: VfsApi.OpenOptions): VfsApi.StorageFile {
        const file = this.inner.open(path, options);
        if (options.kind !== 'main-db') return file;
        return {
          read: (into, offset) => file.read(into, offset),
          write: (data, offset) => {
            if (data.length > this.budget) throw new StorageError('no-space', `test: no space left for ${path}`);
            this.budget -= data.length;
            this.written += data.length;
            file.write(data, offset);
          },
          truncate: (size) => file.truncate(size),
          size: () => file.size(),
          flush: () => file.flush(),
          close: () => file.close(),
        };
      }
      exists(path: string): boolean {
        return this.inner.exists(path);
      }
      delete(path: string, syncDir?: boolean): void {
        this.inner.delete(path, syncDir);
      }
      canonical(path: string): string {
        return this.inner.canonical(path);
      }
    }

    const path = join(dir, 'full.db');
    const setup = openDb(path, vfs.name);
    setup.exec(`CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB, s TEXT); CREATE INDEX t_s ON t(s);
                WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300)
                INSERT INTO t SELECT i, randomblob(1500), 'row ' || i FROM c`);
    const before = dumpDb(setup);
    const pageSize = count(setup, 'PRAGMA page_size');
    setup.close();

    const full = new FullDiskBackend(new NodeBackend());
    const fullVfs = registerVfs(sqlite3, uniqueVfsName('full'), full);
    const db = openDb(path, fullVfs.name, 'w');
    full.budget = 3 * pageSize;
    const code = sqliteErrorOf(() =>
      db.exec(`BEGIN; UPDATE t SET v = randomblob(3000), s = 'changed';
               INSERT INTO t(v, s) SELECT randomblob(2000), 'more' FROM t; COMMIT`),
    );
    assert.equal(code, capi.SQLITE_FULL);
    const error = fullVfs.takeLastError();
    assert.ok(error instanceof StorageError && error.code === 'no-space', String(error));
    assert.equal(full.written, 3 * pageSize, 'some pages of the database file were overwritten before the disk filled');
    db.close();
    assert.ok(existsSync(`${path}-journal`), 'the hot journal is all that can restore the file');

    const reopened = openDb(path, vfs.name, 'w');
    assert.deepEqual(dumpDb(reopened), before, 'the hot journal was rolled back: contents as before');
    assert.equal(reopened.selectValue('PRAGMA integrity_check'), 'ok');
    reopened.close();
    const theirs = python<PythonDump>('dump', path);
    assert.equal(theirs.integrity, 'ok');
    assert.deepEqual({ schema: theirs.schema, tables: theirs.tables }, before);
  });
});
