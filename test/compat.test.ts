/**
 * File compatibility through the public API (`connect`): databases written
 * here open in native SQLite — Python's `sqlite3` module and the `sqlite3`
 * CLI — with identical contents (every cell; reals bit-exact), and databases
 * native SQLite left behind (rollback journal, WAL, a hot journal or an
 * unfinished WAL after a kill) open here with exactly their committed data.
 * Also: foreign and truncated files are refused on first use and left
 * untouched, `mode=ro` URIs, two connections on one file, and a heliosdb
 * process killed with its commits only in the -hlog.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';
import { raises } from './helpers/assert-errors.js';
import { cli, cliAvailable, cliDump, dumpConnection, realFromBits } from './helpers/compat-oracle.js';
import { prng, python, runPython, type Dump, type PythonDump } from './helpers/vfs-oracle.js';

// ---------------------------------------------------------------------------
// Helpers

let dir = '';
let counter = 0;
const hasCli = cliAvailable();

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heliosdb-compat-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function freshPath(): string {
  return join(dir, `compat-${++counter}.db`);
}

async function scalar(conn: sqlite3.Connection, sql: string, params?: sqlite3.BindParams): Promise<unknown> {
  const row = (await (await conn.execute(sql, params)).fetchone()) as unknown[] | null;
  return row?.[0];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function fileHash(path: string): string {
  return sha256(readFileSync(path));
}

/** The files beside `path` that belong to it (`<name>-journal`, `-wal`, `-shm`, `-hlog`, `-hlock`). */
function sideFiles(path: string): string[] {
  const name = basename(path);
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${name}-`))
    .map((f) => f.slice(name.length))
    .sort();
}

/** A Python dump without its integrity verdict, after checking that verdict. */
function pythonContents(path: string): Dump {
  const { integrity, ...contents } = python<PythonDump>('dump', path);
  assert.equal(integrity, 'ok', `Python's integrity_check of ${path}`);
  return contents;
}

/** Runs a Python snippet (native SQLite) with `sys.argv[1:]` = args. */
function py(code: string, ...args: string[]): { stdout: string; stderr: string; status: number | null; signal: string | null } {
  const r = spawnSync('python3', ['-c', `import sqlite3, sys, os, json, hashlib\n${code}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, signal: r.signal };
}

function pyOk(code: string, ...args: string[]): string {
  const r = py(code, ...args);
  if (r.status !== 0) throw new Error(`python3 failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Subtest: the CLI's view of `path` equals `expected` (visibly skipped without the CLI). */
async function cliSees(t: TestContext, path: string, expected: Dump): Promise<void> {
  await t.test('the sqlite3 CLI sees identical contents, integrity ok', (st) => {
    if (!hasCli) {
      st.skip('/usr/bin/sqlite3 is not installed');
      return;
    }
    const { integrity, ...contents } = cliDump(path);
    assert.equal(integrity, 'ok');
    assert.deepEqual(contents, expected);
  });
}

/** Copies a database and its side files to a fresh name (for an oracle that must not disturb the original). */
function copyWithSideFiles(path: string): string {
  const copy = freshPath();
  copyFileSync(path, copy);
  for (const suffix of sideFiles(path)) copyFileSync(`${path}${suffix}`, `${copy}${suffix}`);
  return copy;
}

/**
 * Runs test/helpers/compat-writer.ts in a node child (importing 'heliosdb-nano'
 * from dist), waits for its "ok <dump>" line and SIGKILLs it; returns the dump
 * of what it committed.
 */
async function runAndKill(path: string): Promise<Dump> {
  const script = new URL('./helpers/compat-writer.js', import.meta.url).pathname;
  // The default checkpoint threshold (8 MiB) is never reached: the commits stay in the -hlog.
  const env = { ...process.env };
  delete env.HELIOSDB_CHECKPOINT_BYTES;
  const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const start = Date.now();
  while (!out.includes('\n') && child.exitCode === null && Date.now() - start < 20_000) {
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', `the writer should have been killed: ${err}`);
  assert.ok(out.startsWith('ok '), `the writer did not finish its commits: ${out} ${err}`);
  return JSON.parse(out.slice(3)) as Dump;
}

// ---------------------------------------------------------------------------
// Test data

const TEXTS = [
  'héliós',
  '日本語のテキスト',
  '😀🚀 astral ✓',
  'עברית',
  'Ελληνικά',
  'e\u0301 combining',
  '\u{10FFFF}',
  'tab\tnew\nline\r\n',
  `quote ' " \\ backslash`,
  '',
  'x'.repeat(5000),
];

/** Every 64-bit pattern but NaN (which SQLite stores as NULL). */
function randomDouble(r: () => number): number {
  for (;;) {
    const v = realFromBits(Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32));
    if (!Number.isNaN(v)) return v;
  }
}

function randomBlob(r: () => number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const BIGINTS = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 53n) - 3n, 0n, 1n, -1n];

/**
 * Writes a database exercising the file format through the public API:
 * rowid and WITHOUT ROWID tables, indexes, a view, triggers, blobs (some on
 * overflow pages), bigints, unicode, random reals (any bit pattern), several
 * commits, updates, deletes, ALTER TABLE and a VACUUM. Returns its dump.
 */
async function writeRichDatabase(path: string): Promise<Dump> {
  const r = prng(20240601);
  const c = await sqlite3.connect(path);
  await c.executescript(`
    CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, price REAL, data BLOB, big INTEGER);
    CREATE UNIQUE INDEX items_name ON items(name);
    CREATE INDEX items_qty_price ON items(qty, price);
    CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
    CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, item INTEGER, action TEXT, detail TEXT);
    CREATE TRIGGER items_ins AFTER INSERT ON items BEGIN
      INSERT INTO audit(item, action, detail) VALUES (new.id, 'insert', new.name);
    END;
    CREATE TRIGGER items_qty AFTER UPDATE OF qty ON items BEGIN
      INSERT INTO audit(item, action, detail) VALUES (new.id, 'qty', coalesce(old.qty, 'null') || '->' || new.qty);
    END;
    CREATE VIEW pricey AS SELECT id, name, price FROM items WHERE price > 1000;
    PRAGMA user_version = 4242;
  `);
  // 3000 rows in six commits.
  for (let batch = 0; batch < 6; batch++) {
    const rows: unknown[][] = [];
    for (let i = batch * 500; i < (batch + 1) * 500; i++) {
      const size = i % 97 === 0 ? 20000 : Math.floor(r() * 400);
      rows.push([
        i + 1,
        `item ${i} ${TEXTS[i % TEXTS.length]}`,
        r() < 0.2 ? null : Math.floor(r() * 1000) - 100,
        i % 3 === 0 ? randomDouble(r) : (r() - 0.5) * 1e4,
        r() < 0.1 ? null : randomBlob(r, size),
        i % 5 === 0 ? BIGINTS[i % BIGINTS.length] : BigInt(Math.floor(r() * 2 ** 31)) * 4294967296n + BigInt(Math.floor(r() * 2 ** 32)),
      ]);
    }
    await c.executemany('INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)', rows);
    await c.commit();
  }
  // Dynamic typing in a WITHOUT ROWID table: every storage class and edge value.
  const specials: unknown[] = [null, 0, -0, 1.5, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, 2 ** 53, new Uint8Array(0), '', ...BIGINTS];
  await c.executemany(
    'INSERT INTO kv VALUES (?, ?)',
    Array.from({ length: 400 }, (_, i) => {
      const pick = i % 4;
      const v =
        i < specials.length
          ? specials[i]
          : pick === 0
            ? randomDouble(r)
            : pick === 1
              ? TEXTS[i % TEXTS.length] + i
              : pick === 2
                ? randomBlob(r, Math.floor(r() * 3000))
                : BigInt(Math.floor(r() * 2 ** 52)) * 2048n - 2n ** 62n;
      return [`key-${String(i).padStart(4, '0')}-${TEXTS[i % 7]}`, v];
    }),
  );
  await c.commit();
  await c.execute('UPDATE items SET qty = coalesce(qty, 0) + 1 WHERE id % 7 = 0');
  await c.execute('DELETE FROM items WHERE id % 13 = 0');
  await c.execute("UPDATE kv SET v = 'rewritten ✓' WHERE k LIKE 'key-01%'");
  await c.commit();
  await c.execute("ALTER TABLE items ADD COLUMN note TEXT DEFAULT 'n/a'");
  await c.execute("UPDATE items SET note = 'noted ' || id WHERE id % 11 = 0");
  await c.execute('ALTER TABLE kv RENAME COLUMN v TO val');
  await c.execute('ALTER TABLE audit RENAME TO audit_log');
  await c.commit();
  await c.execute('DELETE FROM items WHERE id > 2500');
  await c.commit();
  await c.execute('VACUUM');
  assert.equal(await scalar(c, 'PRAGMA integrity_check'), 'ok');
  const dump = await dumpConnection(c);
  await c.close();
  return dump;
}

// ---------------------------------------------------------------------------

describe('1. a database written here opens in native SQLite', () => {
  let path = '';
  let written: Dump;

  before(async () => {
    path = freshPath();
    written = await writeRichDatabase(path);
  });

  test('only the database file is left after close', () => {
    assert.deepEqual(sideFiles(path), []);
    assert.equal(readFileSync(path).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    assert.ok(written.tables.items.length > 2000);
    assert.equal(written.tables.kv.length, 400);
  });

  test('Python sees identical contents (every cell, reals bit-exact), integrity ok', async (t) => {
    assert.deepEqual(pythonContents(path), written);
    const header = pyOk(
      "c = sqlite3.connect(sys.argv[1])\nprint(json.dumps([c.execute(p).fetchone()[0] for p in ('PRAGMA user_version', 'PRAGMA journal_mode', 'PRAGMA freelist_count')]))",
      path,
    );
    assert.deepEqual(JSON.parse(header), [4242, 'delete', 0]);
    await cliSees(t, path, written);
    assert.deepEqual(sideFiles(path), []);
  });

  test('reopened here, the same contents; a read-only session leaves the bytes as they were', async () => {
    const before = fileHash(path);
    {
      await using c = await sqlite3.connect(path);
      assert.deepEqual(await dumpConnection(c), written);
      assert.equal(await scalar(c, 'SELECT count(*) FROM pricey'), await scalar(c, 'SELECT count(*) FROM items WHERE price > 1000'));
    }
    assert.equal(fileHash(path), before);
    assert.deepEqual(sideFiles(path), []);
  });
});

describe('2. a database made by Python (rollback journal)', () => {
  test('opens here identically; our changes are seen by Python', async (t) => {
    const path = freshPath();
    python('sample', path, 'delete', '1500');
    const original = pythonContents(path);
    let ours: Dump;
    {
      await using c = await sqlite3.connect(path);
      assert.deepEqual(await dumpConnection(c), original);
      await c.execute('INSERT INTO people(name, age, score, avatar, note) VALUES (?, ?, ?, ?, ?)', [
        'ours ✓ 😀',
        77,
        0.1 + 0.2,
        new Uint8Array(30000).fill(0xa5),
        null,
      ]);
      await c.execute("UPDATE tags SET big = big + 1, weight = -0.0 WHERE tag LIKE 'tag-1%'");
      await c.execute('DELETE FROM people WHERE id % 5 = 0');
      await c.commit();
      await c.execute('CREATE TABLE added(k INTEGER PRIMARY KEY, v TEXT)');
      await c.executemany('INSERT INTO added VALUES (?, ?)', Array.from({ length: 500 }, (_, i) => [i, `v${i} ✓`]));
      await c.execute("UPDATE people SET note = 'changed here' WHERE id % 3 = 0");
      await c.commit();
      assert.equal(await scalar(c, 'PRAGMA integrity_check'), 'ok');
      ours = await dumpConnection(c);
    }
    assert.notDeepEqual(ours, original);
    assert.deepEqual(sideFiles(path), []);
    assert.deepEqual(pythonContents(path), ours);
    await cliSees(t, path, ours);
  });
});

describe('2b. other native layouts: journal modes, page sizes, auto_vacuum', () => {
  const layouts: ReadonlyArray<[journal: string, pageSize: number, autoVacuum: number]> = [
    ['PERSIST', 512, 0],
    ['TRUNCATE', 1024, 1],
    ['DELETE', 65536, 2],
    ['DELETE', 4096, 1],
  ];
  for (const [journal, pageSize, autoVacuum] of layouts) {
    test(`journal_mode=${journal}, page_size=${pageSize}, auto_vacuum=${autoVacuum}`, async () => {
      const path = freshPath();
      pyOk(
        `c = sqlite3.connect(sys.argv[1])
c.execute('PRAGMA page_size=${pageSize}')
c.execute('PRAGMA auto_vacuum=${autoVacuum}')
c.execute('PRAGMA journal_mode=${journal}')
c.execute('CREATE TABLE t(x INTEGER PRIMARY KEY, b BLOB, s TEXT)')
c.executemany('INSERT INTO t VALUES (?, ?, ?)', [(i, os.urandom(300 + i % 700), 'row %d ✓' % i) for i in range(3000)])
c.commit()
c.execute('UPDATE t SET s = s || ?', ('!',))
c.commit()
c.close()`,
        path,
      );
      // PERSIST and TRUNCATE leave a journal that is not hot: it stays, unused.
      const leftover = journal === 'DELETE' ? [] : ['-journal'];
      assert.deepEqual(sideFiles(path), leftover);
      const original = pythonContents(path);
      const sizeBefore = readFileSync(path).length;
      let ours: Dump;
      {
        await using c = await sqlite3.connect(path);
        assert.deepEqual(await dumpConnection(c), original);
        await c.execute('DELETE FROM t WHERE x % 2 = 0');
        await c.commit();
        await c.execute("INSERT INTO t SELECT x + 10000, randomblob(900), 'added ' || x FROM t WHERE x < 1000");
        await c.commit();
        await c.execute('DELETE FROM t WHERE x > 2000');
        await c.commit();
        if (autoVacuum === 2) await c.execute('PRAGMA incremental_vacuum');
        assert.equal(await scalar(c, 'PRAGMA integrity_check'), 'ok');
        ours = await dumpConnection(c);
      }
      assert.deepEqual(sideFiles(path), leftover);
      assert.deepEqual(pythonContents(path), ours);
      const settings = pyOk(
        "c = sqlite3.connect(sys.argv[1])\nprint(json.dumps([c.execute(p).fetchone()[0] for p in ('PRAGMA page_size', 'PRAGMA auto_vacuum', 'PRAGMA freelist_count')]))",
        path,
      );
      const [ps, av, free] = JSON.parse(settings) as [number, number, number];
      assert.deepEqual([ps, av], [pageSize, autoVacuum]);
      if (autoVacuum !== 0) {
        assert.equal(free, 0, 'auto_vacuum left no free pages');
        assert.ok(readFileSync(path).length < sizeBefore, 'the file shrank');
      }
    });
  }
});

describe('3. a WAL-mode database made by Python, closed cleanly', () => {
  test('opens here (read and write); after our close Python reads everything', async (t) => {
    const path = freshPath();
    python('sample', path, 'wal', '1500');
    const header = readFileSync(path).subarray(0, 20);
    assert.deepEqual([header[18], header[19]], [2, 2], 'the header says WAL');
    assert.deepEqual(sideFiles(path), [], 'Python checkpointed and removed its -wal');
    const original = pythonContents(path);
    let ours: Dump;
    {
      await using c = await sqlite3.connect(path);
      assert.deepEqual(await dumpConnection(c), original);
      await c.execute("INSERT INTO tags VALUES ('from heliosdb', 0.5, 9223372036854775807)");
      await c.execute("UPDATE people SET name = name || ' ✓' WHERE id <= 100");
      await c.commit();
      assert.equal(await scalar(c, "SELECT big FROM tags WHERE tag = 'from heliosdb'"), 9223372036854775807n);
      ours = await dumpConnection(c);
    }
    assert.deepEqual(sideFiles(path), []);
    assert.deepEqual(pythonContents(path), ours);
    await cliSees(t, path, ours);
    // Python can go on using it, in WAL mode again if it asks.
    assert.equal(
      pyOk(
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\nprint(c.execute('PRAGMA journal_mode=WAL').fetchone()[0])\nc.execute(\"INSERT INTO tags VALUES ('python again', 1.0, 1)\")\nprint(c.execute('SELECT count(*) FROM tags').fetchone()[0])",
        path,
      ),
      `wal\n${ours.tables.tags.length + 1}`,
    );
  });
});

describe('4. a WAL database whose commits are only in its -wal (native process killed)', () => {
  test('opens here with every committed transaction and without the uncommitted one', async (t) => {
    const path = freshPath();
    const run = runPython('wal-crash', path, '12', '60');
    assert.equal(run.signal, 'SIGKILL', `python3 should have killed itself: ${run.stderr}`);
    assert.ok((JSON.parse(run.stdout) as { wal: number }).wal > 100_000, 'the commits are in the -wal');
    assert.ok(sideFiles(path).includes('-wal'));
    // Oracle: native SQLite recovering a copy of the files.
    const expected = pythonContents(copyWithSideFiles(path));
    assert.equal(expected.tables.t.length, 12 * 60);
    let ours: Dump;
    {
      await using c = await sqlite3.connect(path);
      assert.deepEqual(await dumpConnection(c), expected);
      assert.equal(await scalar(c, 'SELECT count(*) FROM t WHERE txn < 0'), 0, 'the uncommitted row is absent');
      assert.equal(await scalar(c, 'PRAGMA integrity_check'), 'ok');
      await c.execute("INSERT INTO t(txn, v) VALUES (99, 'after recovery')");
      await c.commit();
      ours = await dumpConnection(c);
    }
    assert.deepEqual(sideFiles(path), [], 'the -wal was folded into the file; no -shm or -hlog is left');
    assert.deepEqual(pythonContents(path), ours);
    await cliSees(t, path, ours);
  });
});

describe('5. a rollback-journal database with a hot journal (native process killed mid-transaction)', () => {
  const SETUP = `
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('PRAGMA journal_mode=DELETE')
c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB)')
c.execute('CREATE INDEX t_v ON t(v)')
c.execute('BEGIN')
for i in range(3000):
    c.execute('INSERT INTO t VALUES (?, ?, ?)', (i, 'before ' + str(i) + ' ✓', os.urandom(700)))
c.execute('COMMIT')
c.close()
`;
  const KILL = `
import signal
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('PRAGMA journal_mode=DELETE')
c.execute('PRAGMA cache_size=10')
c.execute('BEGIN')
c.execute("UPDATE t SET v = 'during ' || id, b = randomblob(900)")
c.execute('DELETE FROM t WHERE id % 3 = 0')
c.execute("INSERT INTO t(v, b) SELECT 'new ' || id, randomblob(500) FROM t WHERE id < 1000")
print(json.dumps({'journal': os.path.getsize(sys.argv[1] + '-journal')}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
`;

  test('opens here with the pre-transaction contents, integrity ok', async (t) => {
    const path = freshPath();
    pyOk(SETUP, path);
    const expected = pythonContents(path);
    const committedBytes = fileHash(path);
    const run = py(KILL, path);
    assert.equal(run.signal, 'SIGKILL', `python3 should have killed itself: ${run.stderr}`);
    assert.ok((JSON.parse(run.stdout) as { journal: number }).journal > 0);
    assert.deepEqual(sideFiles(path), ['-journal'], 'a hot journal is left');
    assert.notEqual(fileHash(path), committedBytes, 'uncommitted pages were spilled into the database file');
    // Oracle: native SQLite rolls back a copy the same way.
    assert.deepEqual(pythonContents(copyWithSideFiles(path)), expected);
    let ours: Dump;
    {
      await using c = await sqlite3.connect(path);
      assert.deepEqual(await dumpConnection(c), expected);
      assert.equal(await scalar(c, 'PRAGMA integrity_check'), 'ok');
      assert.equal(await scalar(c, "SELECT count(*) FROM t WHERE v LIKE 'during%' OR v LIKE 'new%'"), 0);
      await c.execute("INSERT INTO t(v) VALUES ('after recovery')");
      await c.commit();
      ours = await dumpConnection(c);
    }
    assert.deepEqual(sideFiles(path), [], 'the hot journal was rolled back and removed');
    assert.deepEqual(pythonContents(path), ours);
    await cliSees(t, path, ours);
  });
});

describe('6. 100 MB round trip', () => {
  const COUNT = 100;
  const SIZE = 1024 * 1024;

  test('Python → heliosdb → Python and heliosdb → Python, checksums equal', { timeout: 60_000 }, async () => {
    const t0 = performance.now();
    // Native SQLite writes, we read.
    const fromPython = freshPath();
    const written = python<{ sha256: string }>('big-write', fromPython, String(COUNT), String(SIZE));
    {
      await using c = await sqlite3.connect(fromPython);
      const hash = createHash('sha256');
      let n = 0;
      for await (const row of await c.execute('SELECT data FROM b ORDER BY id')) {
        const data = (row as [Uint8Array])[0];
        assert.equal(data.length, SIZE);
        hash.update(data);
        n++;
      }
      assert.equal(n, COUNT);
      assert.equal(hash.digest('hex'), written.sha256);
      // Changed here, checked there.
      await c.execute('UPDATE b SET data = zeroblob(10) WHERE id % 2 = 0');
      await c.commit();
    }
    const afterUpdate = pyOk(
      "c = sqlite3.connect(sys.argv[1])\nprint(json.dumps(c.execute('SELECT count(*), sum(length(data)) FROM b').fetchone()))",
      fromPython,
    );
    assert.deepEqual(JSON.parse(afterUpdate), [COUNT, (COUNT / 2) * SIZE + (COUNT / 2) * 10]);
    const t1 = performance.now();
    // We write, native SQLite reads.
    const toPython = freshPath();
    const hash = createHash('sha256');
    {
      await using c = await sqlite3.connect(toPython);
      await c.execute('CREATE TABLE b(id INTEGER PRIMARY KEY, data BLOB)');
      for (let i = 0; i < COUNT; i++) {
        const data = randomBytes(SIZE);
        hash.update(data);
        await c.execute('INSERT INTO b VALUES (?, ?)', [i + 1, data]);
        if (i % 10 === 9) await c.commit();
      }
      await c.commit();
    }
    assert.deepEqual(sideFiles(toPython), []);
    const read = python<{ sha256: string; integrity: string }>('big-hash', toPython);
    assert.deepEqual(read, { sha256: hash.digest('hex'), integrity: 'ok' });
    const t2 = performance.now();
    const total = (t2 - t0) / 1000;
    assert.ok(total < 30, `100 MB each way took ${total.toFixed(1)} s (${((t1 - t0) / 1000).toFixed(1)} s + ${((t2 - t1) / 1000).toFixed(1)} s)`);
  });
});

describe('7. files that are not usable databases', () => {
  async function refusedUntouched(path: string, message: string): Promise<void> {
    const bytes = fileHash(path);
    const c = await sqlite3.connect(path); // no error yet, as in the sqlite3 module
    await raises(() => c.execute('SELECT * FROM sqlite_schema'), sqlite3.DatabaseError, message);
    await raises(() => c.execute('CREATE TABLE x(y)'), sqlite3.DatabaseError, message);
    await raises(() => c.execute('PRAGMA user_version = 7'), sqlite3.DatabaseError, message);
    assert.equal(fileHash(path), bytes, 'unchanged while open');
    assert.deepEqual(sideFiles(path), ['-hlock'], 'no -hlog or journal: only the owner lock while open');
    await c.close();
    assert.equal(fileHash(path), bytes, 'unchanged after close');
    assert.deepEqual(sideFiles(path), []);
  }

  test('a non-SQLite file: DatabaseError on first use, bytes unchanged, no -hlog', async () => {
    const path = freshPath();
    writeFileSync(path, Buffer.from('This is not a database, just some text.\n'.repeat(300)));
    await refusedUntouched(path, 'file is not a database');
  });

  test('a short non-SQLite file (under 100 bytes)', async () => {
    const path = freshPath();
    writeFileSync(path, Buffer.from('hello'));
    await refusedUntouched(path, 'file is not a database');
  });

  test('a truncated SQLite file (cut inside a page): DatabaseError on first use, bytes unchanged', async () => {
    const path = freshPath();
    python('sample', path, 'delete', '800');
    const size = readFileSync(path).length;
    truncateSync(path, Math.floor(size / 2) + 1234);
    await refusedUntouched(path, 'database disk image is malformed');
  });

  test('a SQLite file cut inside its first page', async () => {
    const path = freshPath();
    python('sample', path, 'delete', '800');
    truncateSync(path, 1000);
    await refusedUntouched(path, 'database disk image is malformed');
  });
});

describe('8. file: URI with mode=ro', () => {
  async function makeDb(): Promise<string> {
    const path = freshPath();
    await using c = await sqlite3.connect(path);
    await c.execute('CREATE TABLE t(x INTEGER PRIMARY KEY, y TEXT)');
    await c.executemany('INSERT INTO t VALUES (?, ?)', Array.from({ length: 100 }, (_, i) => [i, `row ${i} ✓`]));
    await c.commit();
    return path;
  }

  test('reads work, writes raise OperationalError, the file is unchanged', async () => {
    const path = await makeDb();
    const bytes = fileHash(path);
    const c = await sqlite3.connect(`file:${path}?mode=ro`, { uri: true });
    assert.equal(await scalar(c, 'SELECT count(*) FROM t'), 100);
    assert.equal(await scalar(c, 'SELECT y FROM t WHERE x = 42'), 'row 42 ✓');
    await raises(() => c.execute("INSERT INTO t VALUES (1000, 'no')"), sqlite3.OperationalError, 'attempt to write a readonly database');
    await c.rollback();
    await raises(() => c.execute('CREATE TABLE u(v)'), sqlite3.OperationalError, 'attempt to write a readonly database');
    await c.rollback();
    await raises(() => c.execute('PRAGMA user_version = 1'), sqlite3.OperationalError, 'attempt to write a readonly database');
    assert.equal(await scalar(c, 'SELECT count(*) FROM t'), 100);
    assert.equal(fileHash(path), bytes);
    assert.deepEqual(sideFiles(path), ['-hlock'], 'only the owner lock while open');
    await c.close();
    assert.equal(fileHash(path), bytes);
    assert.deepEqual(sideFiles(path), []);
  });

  test('a read-only connection opened first, then a read-write one: both work, Python sees the writes', async () => {
    const path = await makeDb();
    const ro = await sqlite3.connect(`file:${path}?mode=ro`);
    assert.equal(await scalar(ro, 'SELECT count(*) FROM t'), 100);
    const rw = await sqlite3.connect(path);
    await rw.execute("INSERT INTO t VALUES (100, 'written beside a reader')");
    await rw.commit();
    assert.equal(await scalar(ro, 'SELECT count(*) FROM t'), 101);
    await raises(() => ro.execute("INSERT INTO t VALUES (1000, 'no')"), sqlite3.OperationalError, 'attempt to write a readonly database');
    await ro.rollback();
    await rw.close();
    await ro.close();
    assert.deepEqual(sideFiles(path), []);
    assert.equal(pyOk("c = sqlite3.connect(sys.argv[1])\nprint(c.execute('SELECT count(*) FROM t').fetchone()[0])", path), '101');
  });
});

describe('9. two connections in one process on one file', () => {
  test('interleaved commits, both closed: Python sees everything', async (t) => {
    const path = freshPath();
    const a = await sqlite3.connect(path);
    const b = await sqlite3.connect(path);
    await a.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, who TEXT, n INTEGER, r REAL)');
    await a.commit();
    for (let i = 0; i < 40; i++) {
      const [w, o] = i % 2 === 0 ? [a, b] : [b, a];
      await w.executemany('INSERT INTO t(who, n, r) VALUES (?, ?, ?)', Array.from({ length: 25 }, (_, k) => [w === a ? 'a' : 'b', i * 100 + k, i / 3]));
      await w.execute('UPDATE t SET n = n + 1 WHERE who <> ? AND id % 7 = ?', [w === a ? 'a' : 'b', i % 7]);
      await w.commit();
      // Each sees the other's commit at once.
      assert.equal(await scalar(o, 'SELECT count(*) FROM t'), (i + 1) * 25);
    }
    await b.execute('CREATE TABLE from_b(x)');
    await b.commit();
    await a.execute('INSERT INTO from_b VALUES (1)');
    await a.commit();
    // Concurrent writers: queued, no errors.
    await Promise.all(
      [a, b].map(async (c, w) => {
        for (let i = 0; i < 20; i++) {
          await c.execute('INSERT INTO from_b VALUES (?)', [w * 1000 + i]);
          await c.commit();
        }
      }),
    );
    const expected = await dumpConnection(a);
    assert.deepEqual(await dumpConnection(b), expected);
    await a.close();
    await b.close();
    assert.deepEqual(sideFiles(path), []);
    assert.equal(expected.tables.t.length, 1000);
    assert.equal(expected.tables.from_b.length, 41);
    assert.deepEqual(pythonContents(path), expected);
    await cliSees(t, path, expected);
  });
});

describe('10. a heliosdb process killed with its commits only in the -hlog', () => {
  test('reopening here recovers every commit; after close Python sees it', async (t) => {
    const path = freshPath();
    const committed = await runAndKill(path);
    assert.equal(committed.tables.t.length, 1000 - Math.floor(1000 / 17));
    assert.ok(sideFiles(path).includes('-hlog'), 'the killed process left its commit log');
    assert.equal(readFileSync(path).length, 0, 'nothing was checkpointed into the file');
    let ours: Dump;
    {
      await using c = await sqlite3.connect(path);
      assert.deepEqual(await dumpConnection(c), committed, 'every commit, nothing uncommitted');
      assert.equal(await scalar(c, 'PRAGMA integrity_check'), 'ok');
      await c.execute("INSERT INTO t(v) VALUES ('after recovery')");
      await c.commit();
      ours = await dumpConnection(c);
    }
    assert.deepEqual(sideFiles(path), []);
    assert.deepEqual(pythonContents(path), ours);
    await cliSees(t, path, ours);
  });
});

describe('10b. native writes after a heliosdb crash, then reopened here', () => {
  // The -hlog records a fingerprint of the file state it started from: a file
  // changed by another program since is refused, never silently overwritten.
  test('the open is refused with a clear error and the native commit is kept', async () => {
    const path = freshPath();
    await runAndKill(path);
    pyOk(
      "c = sqlite3.connect(sys.argv[1])\nc.execute('PRAGMA page_size=8192')\nc.execute('CREATE TABLE native(x)')\nc.executemany('INSERT INTO native VALUES (?)', [(i,) for i in range(5000)])\nc.commit()",
      path,
    );
    const before = readFileSync(path);
    await assert.rejects(sqlite3.connect(path), (e: unknown) => {
      assert.ok(e instanceof sqlite3.OperationalError, String(e));
      assert.match((e as Error).message, /changed by another program/);
      return true;
    });
    assert.ok(readFileSync(path).equals(before), 'the file is untouched');
    const py = spawnSync('python3', ['-c', "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM native').fetchone()[0])", path]);
    assert.equal(py.stdout.toString().trim(), '5000');
    // Moving the log away (as the message says) keeps the other program's version.
    renameSync(`${path}-hlog`, `${path}-hlog.saved`);
    await using c = await sqlite3.connect(path);
    assert.equal(await scalar(c, 'SELECT count(*) FROM native'), 5000);
  });
});

/** The CLI helper must agree with the other oracles on a tiny database (so a skipped CLI is never hiding a broken one). */
describe('oracle self-check', () => {
  test('CLI and Python dumps agree on reals, bigints, blobs and text', (t) => {
    if (!hasCli) {
      t.skip('/usr/bin/sqlite3 is not installed');
      return;
    }
    const path = freshPath();
    pyOk(
      "c = sqlite3.connect(sys.argv[1])\nc.execute('CREATE TABLE t(a, b REAL, c BLOB, d TEXT)')\nc.executemany('INSERT INTO t VALUES (?, ?, ?, ?)', [(2**63-1, 0.1, b'\\x00\\xff', 'é😀'), (-2**63, -0.0, b'', ''), (None, float('inf'), None, 'a\\nb')])\nc.commit()",
      path,
    );
    assert.deepEqual(cliDump(path), python<PythonDump>('dump', path));
    assert.deepEqual(cli(path, 'SELECT count(*) FROM t'), ['3']);
  });
});
