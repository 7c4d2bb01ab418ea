/**
 * The DB-API surface, organised like CPython's Lib/test/test_sqlite3/test_dbapi.py:
 * module attributes, the exception hierarchy, connect() and its failure modes,
 * cursors and their attributes, parameter binding, value round-trips,
 * complete_statement, errors, refused product options, the connection pool,
 * batch_insert and query plans. Where the `sqlite3` module has a documented or
 * observable behaviour (messages, classes, counts) the test asserts exactly that.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';
import { raises, type ErrorClass } from './helpers/assert-errors.js';

// ---------------------------------------------------------------------------
// Helpers

let dir = '';
let fileCounter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heliosdb-dbapi-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh path in the test's temp dir. */
function freshPath(stem = 'db'): string {
  return join(dir, `${stem}-${++fileCounter}.sqlite`);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}



async function all(conn: sqlite3.Connection, sql: string, params?: sqlite3.BindParams): Promise<unknown[][]> {
  const cur = await conn.execute(sql, params);
  return (await cur.fetchall()) as unknown[][];
}

async function one(conn: sqlite3.Connection, sql: string, params?: sqlite3.BindParams): Promise<unknown[] | null> {
  const cur = await conn.execute(sql, params);
  return (await cur.fetchone()) as unknown[] | null;
}

/** A database file with table t holding 0..n-1. */
async function makeFileWithRows(path: string, n: number): Promise<void> {
  const conn = await sqlite3.connect(path);
  await conn.execute('CREATE TABLE t(x)');
  await conn.executemany('INSERT INTO t VALUES (?)', Array.from({ length: n }, (_, i) => [i]));
  await conn.commit();
  await conn.close();
}

// ---------------------------------------------------------------------------
// Module attributes

describe('module attributes', () => {
  test('apilevel, paramstyle, threadsafety', () => {
    assert.equal(sqlite3.apilevel, '2.0');
    assert.equal(sqlite3.paramstyle, 'qmark');
    assert.equal(sqlite3.threadsafety, 1);
  });

  test('PARSE_DECLTYPES and PARSE_COLNAMES', () => {
    assert.equal(sqlite3.PARSE_DECLTYPES, 1);
    assert.equal(sqlite3.PARSE_COLNAMES, 2);
  });

  test('sqlite_version is the version of the embedded library', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const [v] = (await one(conn, 'SELECT sqlite_version()')) as [string];
    assert.equal(sqlite3.sqlite_version, v);
    assert.deepEqual(
      [...sqlite3.sqlite_version_info],
      v.split('.').map((s) => Number(s)),
    );
    assert.equal(sqlite3.sqlite_version_info.length, 3);
  });

  test('LEGACY_TRANSACTION_CONTROL is -1, as in the module', () => {
    assert.equal(sqlite3.LEGACY_TRANSACTION_CONTROL, -1);
  });

  test('SQLite result code constants', () => {
    assert.equal(sqlite3.SQLITE_CONSTRAINT_UNIQUE, 2067);
    assert.equal(sqlite3.SQLITE_BUSY, 5);
    assert.equal(sqlite3.SQLITE_NOTADB, 26);
  });
});

describe('exception hierarchy', () => {
  test('each class has exactly the DB-API parent', () => {
    const parents: Array<[ErrorClass, ErrorClass]> = [
      [sqlite3.Warning, globalThis.Error],
      [sqlite3.Error, globalThis.Error],
      [sqlite3.InterfaceError, sqlite3.Error],
      [sqlite3.DatabaseError, sqlite3.Error],
      [sqlite3.DataError, sqlite3.DatabaseError],
      [sqlite3.OperationalError, sqlite3.DatabaseError],
      [sqlite3.IntegrityError, sqlite3.DatabaseError],
      [sqlite3.InternalError, sqlite3.DatabaseError],
      [sqlite3.ProgrammingError, sqlite3.DatabaseError],
      [sqlite3.NotSupportedError, sqlite3.DatabaseError],
    ];
    for (const [cls, parent] of parents) {
      assert.equal(Object.getPrototypeOf(cls), parent, `${cls.name} should extend ${parent.name}`);
    }
    // Warning is not a sqlite3.Error (DB-API: Warning derives from Exception directly).
    assert.ok(!(new sqlite3.Warning('w') instanceof sqlite3.Error));
  });

  test('names are the DB-API names', () => {
    for (const cls of [
      sqlite3.Warning,
      sqlite3.InterfaceError,
      sqlite3.DatabaseError,
      sqlite3.DataError,
      sqlite3.OperationalError,
      sqlite3.IntegrityError,
      sqlite3.InternalError,
      sqlite3.ProgrammingError,
      sqlite3.NotSupportedError,
    ]) {
      assert.equal(new cls('x').name, cls.name);
    }
    assert.equal(new sqlite3.Error('x').name, 'Error');
  });

  test('the connection exposes the same classes', async () => {
    await using conn = await sqlite3.connect(':memory:');
    assert.equal(conn.Error, sqlite3.Error);
    assert.equal(conn.OperationalError, sqlite3.OperationalError);
    assert.equal(conn.IntegrityError, sqlite3.IntegrityError);
    assert.equal(conn.ProgrammingError, sqlite3.ProgrammingError);
    assert.equal(conn.NotSupportedError, sqlite3.NotSupportedError);
  });

  test('constraint errors carry sqlite_errorcode and sqlite_errorname', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE, y NOT NULL DEFAULT 0, z CHECK (z > 0))');
    await conn.execute('INSERT INTO u(x, z) VALUES (1, 1)');
    const e = (await raises(() => conn.execute('INSERT INTO u(x, z) VALUES (1, 1)'), sqlite3.IntegrityError, 'UNIQUE constraint failed: u.x')) as sqlite3.Error;
    assert.equal(e.sqlite_errorcode, 2067);
    assert.equal(e.sqlite_errorcode, sqlite3.SQLITE_CONSTRAINT_UNIQUE);
    assert.equal(e.sqlite_errorname, 'SQLITE_CONSTRAINT_UNIQUE');
    const n = (await raises(() => conn.execute('INSERT INTO u(x, y, z) VALUES (2, NULL, 1)'), sqlite3.IntegrityError)) as sqlite3.Error;
    assert.equal(n.sqlite_errorcode, sqlite3.SQLITE_CONSTRAINT_NOTNULL);
    assert.equal(n.sqlite_errorname, 'SQLITE_CONSTRAINT_NOTNULL');
    const c = (await raises(() => conn.execute('INSERT INTO u(x, z) VALUES (3, 0)'), sqlite3.IntegrityError)) as sqlite3.Error;
    assert.equal(c.sqlite_errorcode, sqlite3.SQLITE_CONSTRAINT_CHECK);
    assert.equal(c.sqlite_errorname, 'SQLITE_CONSTRAINT_CHECK');
  });

  test('a syntax error carries SQLITE_ERROR', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const e = (await raises(() => conn.execute('selec 1'), sqlite3.OperationalError, 'near "selec": syntax error')) as sqlite3.Error;
    assert.equal(e.sqlite_errorcode, 1);
    assert.equal(e.sqlite_errorname, 'SQLITE_ERROR');
  });
});

// ---------------------------------------------------------------------------
// connect()

describe('connect', () => {
  test(':memory: databases are private to their connection', async () => {
    await using a = await sqlite3.connect(':memory:');
    await using b = await sqlite3.connect(':memory:');
    await a.execute('CREATE TABLE t(x)');
    await raises(() => b.execute('SELECT * FROM t'), sqlite3.OperationalError, 'no such table: t');
    assert.equal(a.database, ':memory:');
  });

  test('a path creates a real SQLite file', async () => {
    const path = freshPath();
    assert.ok(!existsSync(path));
    {
      await using conn = await sqlite3.connect(path);
      await conn.execute('CREATE TABLE t(x)');
      await conn.execute('INSERT INTO t VALUES (?)', ['hello']);
      await conn.commit();
    }
    const bytes = readFileSync(path);
    assert.equal(bytes.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    await using again = await sqlite3.connect(path);
    assert.deepEqual(await all(again, 'SELECT x FROM t'), [['hello']]);
  });

  test('a file: URL object opens the path', async () => {
    const path = freshPath();
    await makeFileWithRows(path, 3);
    await using conn = await sqlite3.connect(new URL(`file://${path}`));
    assert.deepEqual(await all(conn, 'SELECT count(*) FROM t'), [[3]]);
  });

  test('file: URI with mode=ro reads but refuses writes, leaving the file unchanged', async () => {
    const path = freshPath();
    await makeFileWithRows(path, 5);
    const before = sha256(path);
    {
      await using conn = await sqlite3.connect(`file:${path}?mode=ro`, { uri: true });
      assert.deepEqual(await all(conn, 'SELECT count(*) FROM t'), [[5]]);
      const e = (await raises(
        () => conn.execute('INSERT INTO t VALUES (99)'),
        sqlite3.OperationalError,
        'attempt to write a readonly database',
      )) as sqlite3.Error;
      assert.equal(e.sqlite_errorcode, sqlite3.SQLITE_READONLY);
      await raises(() => conn.execute('CREATE TABLE u(y)'), sqlite3.OperationalError, 'attempt to write a readonly database');
      // The connection stays usable for reads.
      await conn.rollback();
      assert.deepEqual(await all(conn, 'SELECT count(*) FROM t'), [[5]]);
    }
    assert.equal(sha256(path), before);
  });

  test('file: URI with mode=rw on a missing file fails and creates nothing', async () => {
    const path = freshPath('missing');
    await raises(() => sqlite3.connect(`file:${path}?mode=rw`, { uri: true }), sqlite3.OperationalError, /^unable to open database file/);
    assert.ok(!existsSync(path));
  });

  test('file: URI with mode=rwc creates the file', async () => {
    const path = freshPath();
    {
      await using conn = await sqlite3.connect(`file:${path}?mode=rwc`, { uri: true });
      await conn.execute('CREATE TABLE t(x)');
    }
    assert.ok(existsSync(path));
  });

  test('file: URI with mode=memory is an in-memory database and writes no file', async () => {
    const path = freshPath('memuri');
    await using conn = await sqlite3.connect(`file:${path}?mode=memory`, { uri: true });
    await conn.execute('CREATE TABLE t(x)');
    await conn.execute('INSERT INTO t VALUES (1), (2)');
    await conn.commit();
    assert.deepEqual(await all(conn, 'SELECT sum(x) FROM t'), [[3]]);
    assert.ok(!existsSync(path));
  });

  test('a path in a missing directory raises OperationalError', async () => {
    const path = join(dir, 'no-such-dir', 'x.db');
    const e = (await raises(() => sqlite3.connect(path), sqlite3.OperationalError, /^unable to open database file/)) as sqlite3.Error;
    assert.equal((e.sqlite_errorcode ?? 0) & 0xff, sqlite3.SQLITE_CANTOPEN);
    assert.ok(!existsSync(join(dir, 'no-such-dir')));
  });

  test('a non-SQLite file: DatabaseError on first use, file untouched', async () => {
    const path = freshPath('junk');
    writeFileSync(path, Buffer.from('hello world, this is not a database\n'.repeat(200)));
    const before = sha256(path);
    {
      await using conn = await sqlite3.connect(path);
      const e = (await raises(() => conn.execute('SELECT * FROM sqlite_master'), sqlite3.DatabaseError, 'file is not a database')) as sqlite3.Error;
      assert.equal(e.sqlite_errorcode, sqlite3.SQLITE_NOTADB);
      assert.equal(e.sqlite_errorname, 'SQLITE_NOTADB');
      await raises(() => conn.execute('CREATE TABLE t(x)'), sqlite3.DatabaseError, 'file is not a database');
    }
    assert.equal(sha256(path), before);
  });

  test('a SQLite file truncated inside its header: file is not a database', async () => {
    const good = freshPath();
    await makeFileWithRows(good, 1000);
    const path = freshPath('trunc');
    writeFileSync(path, readFileSync(good).subarray(0, 20));
    const before = sha256(path);
    {
      await using conn = await sqlite3.connect(path);
      await raises(() => conn.execute('SELECT count(*) FROM t'), sqlite3.DatabaseError, 'file is not a database');
    }
    assert.equal(sha256(path), before);
  });

  test('a SQLite file truncated after its header: malformed, as native SQLite says', async () => {
    const good = freshPath();
    await makeFileWithRows(good, 1000);
    const path = freshPath('trunc');
    writeFileSync(path, readFileSync(good).subarray(0, 1000));
    const before = sha256(path);
    {
      await using conn = await sqlite3.connect(path);
      const e = (await raises(() => conn.execute('SELECT count(*) FROM t'), sqlite3.DatabaseError, 'database disk image is malformed')) as sqlite3.Error;
      assert.equal((e.sqlite_errorcode ?? 0) & 0xff, sqlite3.SQLITE_CORRUPT);
    }
    assert.equal(sha256(path), before);
  });

  test('product options not built yet (or not possible on :memory:) raise NotSupportedError naming the option', async () => {
    const cases: Array<[sqlite3.ConnectOptions, string]> = [
      // A private in-memory database keeps no versions.
      [{ enable_time_travel: true }, 'enable_time_travel'],
      [{ enable_branching: true }, 'enable_branching'],
      [{ encryption_key: 'secret' }, 'encryption_key'],
      [{ heliosdb_mode: 'server' }, 'heliosdb_mode'],
    ];
    for (const [options, name] of cases) {
      const e = await raises(() => sqlite3.connect(':memory:', options), sqlite3.NotSupportedError);
      assert.ok(e.message.includes(name), `message should name ${name}: ${e.message}`);
    }
  });

  test('the refused options may be given as off', async () => {
    await using conn = await sqlite3.connect(':memory:', {
      enable_vector_search: false,
      enable_time_travel: false,
      enable_branching: false,
      encryption_key: null,
      heliosdb_mode: 'embedded',
    });
    assert.deepEqual(await one(conn, 'SELECT 1'), [1]);
  });

  test('check_same_thread is accepted', async () => {
    await using a = await sqlite3.connect(':memory:', { check_same_thread: false });
    await using b = await sqlite3.connect(':memory:', { check_same_thread: true });
    assert.deepEqual(await one(a, 'SELECT 1'), [1]);
    assert.deepEqual(await one(b, 'SELECT 2'), [2]);
  });

  test('bad option values raise ProgrammingError', async () => {
    await raises(() => sqlite3.connect(':memory:', { timeout: -1 }), sqlite3.ProgrammingError);
    await raises(
      () => sqlite3.connect(':memory:', { isolation_level: 'SERIALIZABLE' as sqlite3.IsolationLevel }),
      sqlite3.ProgrammingError,
      "isolation_level string must be '', 'DEFERRED', 'IMMEDIATE', or 'EXCLUSIVE'",
    );
    await raises(() => sqlite3.connect(':memory:', { autocommit: 2 as sqlite3.AutocommitMode }), sqlite3.ProgrammingError);
  });

  test('await using closes the connection', async () => {
    let kept: sqlite3.Connection | undefined;
    {
      await using conn = await sqlite3.connect(':memory:');
      kept = conn;
      assert.equal(conn.closed, false);
    }
    assert.equal(kept.closed, true);
    await raises(() => kept.execute('SELECT 1'), sqlite3.ProgrammingError, 'Cannot operate on a closed database.');
  });

  test('load_extension and enable_load_extension raise NotSupportedError', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await raises(() => conn.enable_load_extension(true), sqlite3.NotSupportedError);
    await raises(() => conn.load_extension('/usr/lib/whatever.so'), sqlite3.NotSupportedError);
    // The connection is unaffected.
    assert.deepEqual(await one(conn, 'SELECT 1'), [1]);
  });
});

// ---------------------------------------------------------------------------
// Cursor

describe('cursor', () => {
  let conn: sqlite3.Connection;
  before(async () => {
    conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER)');
  });
  after(async () => {
    await conn.close();
  });

  test('execute, executemany and executescript return the cursor', async () => {
    const cur = conn.cursor();
    assert.equal(await cur.execute('SELECT 1'), cur);
    assert.equal(await cur.executemany('INSERT INTO t(name) VALUES (?)', [['a']]), cur);
    assert.equal(await cur.executescript('SELECT 1; SELECT 2;'), cur);
    assert.equal(cur.connection, conn);
    await conn.execute('DELETE FROM t');
  });

  test('conn.execute returns a new cursor of this connection', async () => {
    const a = await conn.execute('SELECT 1');
    const b = await conn.execute('SELECT 1');
    assert.ok(a instanceof sqlite3.Cursor);
    assert.notEqual(a, b);
    assert.equal(a.connection, conn);
  });

  test('fresh cursor attributes', () => {
    const cur = conn.cursor();
    assert.equal(cur.lastrowid, null);
    assert.equal(cur.rowcount, -1);
    assert.equal(cur.description, null);
    assert.equal(cur.arraysize, 1);
    assert.equal(cur.row_factory, null);
  });

  test('fetchone, fetchmany (arraysize and explicit), fetchall', async () => {
    const cur = await conn.execute('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT x FROM c');
    assert.deepEqual(await cur.fetchone(), [1]);
    assert.deepEqual(await cur.fetchmany(), [[2]]);
    cur.arraysize = 3;
    assert.deepEqual(await cur.fetchmany(), [[3], [4], [5]]);
    assert.deepEqual(await cur.fetchmany(2), [[6], [7]]);
    assert.deepEqual(await cur.fetchall(), [[8], [9], [10]]);
    assert.equal(await cur.fetchone(), null);
    assert.deepEqual(await cur.fetchmany(), []);
    assert.deepEqual(await cur.fetchall(), []);
  });

  test('fetchmany larger than the rest returns the rest', async () => {
    const cur = await conn.execute('SELECT 1 UNION ALL SELECT 2');
    assert.deepEqual(await cur.fetchmany(100), [[1], [2]]);
    assert.deepEqual(await cur.fetchmany(100), []);
  });

  test('fetching many rows crosses batch boundaries without loss', async () => {
    const n = 5000;
    const cur = await conn.execute(
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT x FROM c',
      [n],
    );
    let expected = 1;
    for (;;) {
      const row = (await cur.fetchone()) as [number] | null;
      if (row === null) break;
      assert.equal(row[0], expected++);
      if (expected === 1000) {
        const chunk = (await cur.fetchmany(777)) as [number][];
        assert.equal(chunk.length, 777);
        assert.deepEqual(chunk.map((r) => r[0]), Array.from({ length: 777 }, (_, i) => 1000 + i));
        expected += 777;
      }
    }
    assert.equal(expected, n + 1);
  });

  test('for await iterates the rows', async () => {
    const cur = await conn.execute('SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3');
    const got: unknown[] = [];
    for await (const row of cur) got.push(row);
    assert.deepEqual(got, [[1], [2], [3]]);
    const rest: unknown[] = [];
    for await (const row of cur) rest.push(row);
    assert.deepEqual(rest, []);
  });

  test('for await continues after fetchone', async () => {
    const cur = await conn.execute('SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3');
    await cur.fetchone();
    const got: unknown[] = [];
    for await (const row of cur) got.push(row);
    assert.deepEqual(got, [[2], [3]]);
  });

  test('description: 7-tuples of name and six nulls; null for DML and DDL', async () => {
    const cur = await conn.execute('SELECT 1 AS a, 2 AS "b c", name FROM t');
    assert.deepEqual(cur.description, [
      ['a', null, null, null, null, null, null],
      ['b c', null, null, null, null, null, null],
      ['name', null, null, null, null, null, null],
    ]);
    // Even with no rows, a query has a description.
    assert.deepEqual(await cur.fetchall(), []);
    assert.equal(cur.description?.length, 3);
    await cur.execute('INSERT INTO t(name) VALUES (?)', ['x']);
    assert.equal(cur.description, null);
    await cur.execute('CREATE TABLE IF NOT EXISTS d(x)');
    assert.equal(cur.description, null);
    await cur.execute('DELETE FROM t');
  });

  test('rowcount: -1 for SELECT and DDL, changes for DML, summed by executemany', async () => {
    const cur = conn.cursor();
    await cur.execute('CREATE TABLE rc(x)');
    assert.equal(cur.rowcount, -1);
    await cur.execute('INSERT INTO rc VALUES (1), (2), (3)');
    assert.equal(cur.rowcount, 3);
    await cur.execute('SELECT * FROM rc');
    assert.equal(cur.rowcount, -1);
    await cur.fetchall();
    assert.equal(cur.rowcount, -1);
    await cur.execute('UPDATE rc SET x = x + 1 WHERE x > 1');
    assert.equal(cur.rowcount, 2);
    await cur.execute('UPDATE rc SET x = 0 WHERE x > 1000');
    assert.equal(cur.rowcount, 0);
    await cur.executemany('INSERT INTO rc VALUES (?)', [[10], [11], [12], [13]]);
    assert.equal(cur.rowcount, 4);
    await cur.executemany('UPDATE rc SET x = x WHERE x >= ?', [[10], [12]]);
    assert.equal(cur.rowcount, 4 + 2);
    await cur.execute('DELETE FROM rc WHERE x >= 10');
    assert.equal(cur.rowcount, 4);
    await cur.execute('DROP TABLE rc');
    assert.equal(cur.rowcount, -1);
  });

  test('rowcount with RETURNING counts the rows once they are all fetched', async () => {
    await conn.execute('CREATE TABLE ret(id INTEGER PRIMARY KEY, v)');
    const cur = await conn.execute('INSERT INTO ret(v) VALUES (1), (2), (3) RETURNING id');
    assert.deepEqual(cur.description, [['id', null, null, null, null, null, null]]);
    assert.deepEqual(await cur.fetchall(), [[1], [2], [3]]);
    assert.equal(cur.rowcount, 3);
    const del = await conn.execute('DELETE FROM ret WHERE id > 1 RETURNING v');
    assert.deepEqual(await del.fetchall(), [[2], [3]]);
    assert.equal(del.rowcount, 2);
  });

  test('lastrowid: null at first, set by INSERT, kept by other statements', async () => {
    await conn.execute('CREATE TABLE lr(id INTEGER PRIMARY KEY, v)');
    const cur = conn.cursor();
    assert.equal(cur.lastrowid, null);
    await cur.execute('INSERT INTO lr(id, v) VALUES (41, ?)', ['a']);
    assert.equal(cur.lastrowid, 41);
    await cur.execute('INSERT INTO lr(v) VALUES (?)', ['b']);
    assert.equal(cur.lastrowid, 42);
    await cur.execute('SELECT * FROM lr');
    assert.equal(cur.lastrowid, 42);
    await cur.execute('INSERT INTO lr(id, v) VALUES (?, ?)', [2n ** 62n, 'big']);
    assert.equal(cur.lastrowid, 2n ** 62n);
    // Another cursor's INSERT does not change this cursor's lastrowid.
    const other = await conn.execute('INSERT INTO lr(id, v) VALUES (7, ?)', ['c']);
    assert.equal(other.lastrowid, 7);
    assert.equal(cur.lastrowid, 2n ** 62n);
  });

  test('close: further use raises ProgrammingError; closing twice is fine', async () => {
    const cur = await conn.execute('SELECT 1 UNION ALL SELECT 2');
    await cur.close();
    assert.equal(cur.closed, true);
    await cur.close();
    const msg = 'Cannot operate on a closed cursor.';
    await raises(() => cur.execute('SELECT 1'), sqlite3.ProgrammingError, msg);
    await raises(() => cur.executemany('INSERT INTO t(name) VALUES (?)', [['x']]), sqlite3.ProgrammingError, msg);
    await raises(() => cur.executescript('SELECT 1'), sqlite3.ProgrammingError, msg);
    await raises(() => cur.fetchone(), sqlite3.ProgrammingError, msg);
    await raises(() => cur.fetchmany(), sqlite3.ProgrammingError, msg);
    await raises(() => cur.fetchall(), sqlite3.ProgrammingError, msg);
    // The connection is fine.
    assert.deepEqual(await one(conn, 'SELECT 3'), [3]);
  });

  test('setinputsizes and setoutputsize are no-ops', () => {
    const cur = conn.cursor();
    cur.setinputsizes([1, 2]);
    cur.setoutputsize(10, 0);
    assert.equal(cur.rowcount, -1);
  });
});

describe('closed connection', () => {
  test('every operation raises ProgrammingError', async () => {
    const conn = await sqlite3.connect(':memory:');
    const cur = await conn.execute('SELECT 1 UNION ALL SELECT 2');
    await conn.close();
    assert.equal(conn.closed, true);
    const msg = 'Cannot operate on a closed database.';
    await raises(() => conn.execute('SELECT 1'), sqlite3.ProgrammingError, msg);
    await raises(() => conn.executemany('INSERT INTO t VALUES (?)', []), sqlite3.ProgrammingError, msg);
    await raises(() => conn.executescript('SELECT 1'), sqlite3.ProgrammingError, msg);
    await raises(() => conn.cursor(), sqlite3.ProgrammingError, msg);
    await raises(() => conn.commit(), sqlite3.ProgrammingError, msg);
    await raises(() => conn.rollback(), sqlite3.ProgrammingError, msg);
    await raises(() => conn.in_transaction, sqlite3.ProgrammingError, msg);
    await raises(() => conn.total_changes, sqlite3.ProgrammingError, msg);
    await raises(() => cur.fetchone(), sqlite3.ProgrammingError, msg);
    await raises(() => cur.execute('SELECT 1'), sqlite3.ProgrammingError, msg);
    // Closing again is harmless, as in the module.
    await conn.close();
  });
});

// ---------------------------------------------------------------------------
// Parameters

describe('parameters', () => {
  let conn: sqlite3.Connection;
  before(async () => {
    conn = await sqlite3.connect(':memory:');
  });
  after(async () => {
    await conn.close();
  });

  test('qmark', async () => {
    assert.deepEqual(await one(conn, 'SELECT ?, ?, ?', [1, 'two', null]), [1, 'two', null]);
  });

  test('named :x @x $x with an object', async () => {
    assert.deepEqual(await one(conn, 'SELECT :x, @y, $z, :x', { x: 1, y: 'b', z: 3.5 }), [1, 'b', 3.5, 1]);
  });

  test('named parameters with a Map', async () => {
    const m = new Map<string, unknown>([
      ['a', 'A'],
      ['b', 2],
    ]);
    assert.deepEqual(await one(conn, 'SELECT :a, @b, $a', m), ['A', 2, 'A']);
  });

  test('extra names in the mapping are ignored', async () => {
    assert.deepEqual(await one(conn, 'SELECT :a', { a: 1, unused: 2 }), [1]);
  });

  test('numbered ?1 ?2', async () => {
    assert.deepEqual(await one(conn, 'SELECT ?2, ?1, ?2', ['one', 'two']), ['two', 'one', 'two']);
  });

  test('named parameters given as a sequence bind by position', async () => {
    assert.deepEqual(await one(conn, 'SELECT :a, :b', [1, 2]), [1, 2]);
  });

  test('wrong number of bindings', async () => {
    await raises(
      () => conn.execute('SELECT ?, ?', [1]),
      sqlite3.ProgrammingError,
      'Incorrect number of bindings supplied. The current statement uses 2, and there are 1 supplied.',
    );
    await raises(
      () => conn.execute('SELECT ?', [1, 2]),
      sqlite3.ProgrammingError,
      'Incorrect number of bindings supplied. The current statement uses 1, and there are 2 supplied.',
    );
    await raises(
      () => conn.execute('SELECT ?'),
      sqlite3.ProgrammingError,
      'Incorrect number of bindings supplied. The current statement uses 1, and there are 0 supplied.',
    );
    // The same cached statement still works with the right count.
    assert.deepEqual(await one(conn, 'SELECT ?, ?', [1, 2]), [1, 2]);
  });

  test('missing named parameter', async () => {
    await raises(
      () => conn.execute('SELECT :x, :y', { x: 1 }),
      sqlite3.ProgrammingError,
      'You did not supply a value for binding parameter :y.',
    );
    await raises(
      () => conn.execute('SELECT @w', new Map([['x', 1]])),
      sqlite3.ProgrammingError,
      'You did not supply a value for binding parameter @w.',
    );
  });

  test('a mapping for qmark parameters', async () => {
    await raises(
      () => conn.execute('SELECT ?', { a: 1 }),
      sqlite3.ProgrammingError,
      'Binding 1 has no name, but you supplied a dictionary (which has only names).',
    );
  });

  test('unsupported types raise ProgrammingError', async () => {
    await raises(
      () => conn.execute('SELECT ?', [{ an: 'object' }]),
      sqlite3.ProgrammingError,
      "Error binding parameter 1: type 'Object' is not supported",
    );
    await raises(() => conn.execute('SELECT ?, ?', [1, Symbol('s')]), sqlite3.ProgrammingError, /^Error binding parameter 2: /);
    await raises(() => conn.execute('SELECT ?', [() => 1]), sqlite3.ProgrammingError, /^Error binding parameter 1: /);
    await raises(() => conn.execute('SELECT ?', [new Set([1])]), sqlite3.ProgrammingError, "Error binding parameter 1: type 'Set' is not supported");
    await raises(() => conn.execute('SELECT :a', { a: [1, 2] }), sqlite3.ProgrammingError, "Error binding parameter 1: type 'Array' is not supported");
  });

  test('a non-container parameters argument is refused', async () => {
    await raises(() => conn.execute('SELECT ?', 5 as unknown as sqlite3.BindParams), sqlite3.ProgrammingError);
    await raises(() => conn.execute('SELECT ?', 'x' as unknown as sqlite3.BindParams), sqlite3.ProgrammingError);
  });
});

describe('values round-trip', () => {
  let conn: sqlite3.Connection;
  before(async () => {
    conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE v(x)');
  });
  after(async () => {
    await conn.close();
  });

  /** Stores `v` in a table (not just SELECT ?) and reads it back with its storage class. */
  async function roundTrip(v: unknown): Promise<[unknown, string]> {
    await conn.execute('DELETE FROM v');
    await conn.execute('INSERT INTO v VALUES (?)', [v]);
    return (await one(conn, 'SELECT x, typeof(x) FROM v')) as [unknown, string];
  }

  test('number, string, null', async () => {
    assert.deepEqual(await roundTrip(42), [42, 'integer']);
    assert.deepEqual(await roundTrip(-7), [-7, 'integer']);
    assert.deepEqual(await roundTrip(0), [0, 'integer']);
    assert.deepEqual(await roundTrip(3.25), [3.25, 'real']);
    assert.deepEqual(await roundTrip('text'), ['text', 'text']);
    assert.deepEqual(await roundTrip(''), ['', 'text']);
    assert.deepEqual(await roundTrip(null), [null, 'null']);
    assert.deepEqual(await roundTrip(2 ** 40), [2 ** 40, 'integer']);
  });

  test('boolean binds as 1 or 0, like Python True and False', async () => {
    assert.deepEqual(await roundTrip(true), [1, 'integer']);
    assert.deepEqual(await roundTrip(false), [0, 'integer']);
  });

  test('bigint binds as INTEGER and comes back as number when safe', async () => {
    assert.deepEqual(await roundTrip(5n), [5, 'integer']);
    assert.deepEqual(await roundTrip(-(2n ** 53n) + 1n), [-(2 ** 53) + 1, 'integer']);
    assert.deepEqual(await roundTrip(2n ** 53n - 1n), [2 ** 53 - 1, 'integer']);
  });

  test('integers beyond 2^53 come back as exact bigints', async () => {
    for (const big of [2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 1234567890123456789n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) + 1n]) {
      const [x, t] = await roundTrip(big);
      assert.equal(t, 'integer');
      assert.equal(typeof x, 'bigint', `${big} should come back as a bigint`);
      assert.equal(x, big);
      // And SQLite sees the exact value.
      assert.deepEqual(await one(conn, 'SELECT x = ?, CAST(x AS TEXT) FROM v', [big]), [1, big.toString()]);
    }
  });

  test('computed integers beyond 2^53 are exact too', async () => {
    assert.deepEqual(await one(conn, 'SELECT 9223372036854775807, -9223372036854775808, 9007199254740993'), [
      9223372036854775807n,
      -9223372036854775808n,
      9007199254740993n,
    ]);
  });

  test('bigints outside 64 bits are refused', async () => {
    await raises(() => conn.execute('SELECT ?', [2n ** 63n]), sqlite3.DataError);
    await raises(() => conn.execute('SELECT ?', [-(2n ** 63n) - 1n]), sqlite3.DataError);
  });

  test('floats are exact', async () => {
    for (const f of [0.1, 1 / 3, -2.5e-300, 5e-324, Number.MAX_VALUE, Number.MIN_VALUE, 1e300, Math.PI, 2 ** 53 + 2, 1.5e20]) {
      const [x, t] = await roundTrip(f);
      assert.equal(t, 'real');
      assert.ok(Object.is(x, f), `${f} came back as ${String(x)}`);
    }
    assert.deepEqual(await roundTrip(Infinity), [Infinity, 'real']);
    assert.deepEqual(await roundTrip(-Infinity), [-Infinity, 'real']);
  });

  test('NaN becomes NULL, as SQLite (and Python) do', async () => {
    assert.deepEqual(await one(conn, 'SELECT ?', [NaN]), [null]);
  });

  test('unicode text and embedded NUL', async () => {
    for (const s of ['ünïcødé', '日本語テキスト', '😀👍🏽 emoji', 'a\u0000b', '\u0000', 'tab\tnewline\n', 'e\u0301', '\uFEFFbom']) {
      const [x, t] = await roundTrip(s);
      assert.equal(t, 'text');
      assert.equal(x, s);
    }
    assert.deepEqual(await one(conn, 'SELECT length(?), length(CAST(? AS BLOB))', ['😀', '😀']), [1, 4]);
  });

  test('Uint8Array and ArrayBuffer bind as BLOB and come back as Uint8Array', async () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 0, 128]);
    const [x, t] = await roundTrip(bytes);
    assert.equal(t, 'blob');
    assert.ok(x instanceof Uint8Array);
    assert.deepEqual([...x], [...bytes]);
    const [y, ty] = await roundTrip(bytes.buffer);
    assert.equal(ty, 'blob');
    assert.deepEqual([...(y as Uint8Array)], [...bytes]);
    // A view on part of a buffer binds just its bytes.
    const [z] = await roundTrip(new Uint8Array(bytes.buffer, 2, 2));
    assert.deepEqual([...(z as Uint8Array)], [2, 255]);
  });

  test('an empty blob is an empty blob, not NULL', async () => {
    const [x, t] = await roundTrip(new Uint8Array(0));
    assert.equal(t, 'blob');
    assert.ok(x instanceof Uint8Array);
    assert.equal(x.length, 0);
    assert.deepEqual(await one(conn, "SELECT x = x'' FROM v"), [1]);
  });

  test('a 10 MB blob round-trips intact', async () => {
    const size = 10 * 1024 * 1024;
    const big = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) big[i] = (i / 4096) & 0xff;
    big[size - 1] = 0x5a;
    const [x, t] = await roundTrip(big);
    assert.equal(t, 'blob');
    assert.ok(x instanceof Uint8Array);
    assert.equal(x.length, size);
    assert.equal(createHash('sha256').update(x).digest('hex'), createHash('sha256').update(big).digest('hex'));
    assert.deepEqual(await one(conn, 'SELECT length(x) FROM v'), [size]);
    await conn.execute('DELETE FROM v');
  });

  test('values inside a transaction, many rows, mixed types per column', async () => {
    const values: unknown[] = [1, 'a', 2.5, null, new Uint8Array([9]), 2n ** 60n];
    await conn.execute('DELETE FROM v');
    await conn.executemany('INSERT INTO v VALUES (?)', values.map((x) => [x]));
    await conn.commit();
    const rows = await all(conn, 'SELECT x FROM v ORDER BY rowid');
    assert.deepEqual(rows.map((r) => r[0]), [1, 'a', 2.5, null, new Uint8Array([9]), 2n ** 60n]);
    await conn.execute('DELETE FROM v');
  });
});

// ---------------------------------------------------------------------------
// complete_statement

describe('complete_statement', () => {
  test('the same answers as sqlite3_complete (checked against Python)', () => {
    const cases: Array<[string, boolean]> = [
      ['select 1', false],
      ['select 1;', true],
      ["select ';", false],
      ["select ';';", true],
      ['select "a;b";', true],
      ['select [a;b]', false],
      ['select `a;` ;', true],
      ['create trigger tr after insert on t begin select 1;', false],
      ['create trigger tr after insert on t begin select 1; end;', true],
      ['CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;', true],
      ['create trigger tr after insert on t begin select 1; end', false],
      ['select 1 -- ;', false],
      ['select 1; -- c', true],
      ['/* ; */ select 1', false],
      ['select 1 /* ; */;', true],
      ['select 1 /* unterminated ;', false],
      [';', true],
      ['', false],
      ['   ', false],
      ['explain select 1;', true],
      ['select 1; select 2', false],
      ['select 1; select 2;', true],
    ];
    for (const [sql, expected] of cases) {
      assert.equal(sqlite3.complete_statement(sql), expected, JSON.stringify(sql));
    }
  });
});

// ---------------------------------------------------------------------------
// Errors

describe('errors leave the connection usable', () => {
  test('syntax, constraint, multiple statements, executemany SELECT, missing table', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE)');
    await conn.execute('INSERT INTO u VALUES (1)');
    await conn.commit();

    await raises(() => conn.execute('SELEKT 1'), sqlite3.OperationalError, 'near "SELEKT": syntax error');
    assert.deepEqual(await one(conn, 'SELECT 1'), [1]);

    await raises(() => conn.execute('INSERT INTO u VALUES (1)'), sqlite3.IntegrityError, 'UNIQUE constraint failed: u.x');
    assert.deepEqual(await all(conn, 'SELECT x FROM u'), [[1]]);

    await raises(() => conn.execute('SELECT 1; SELECT 2'), sqlite3.ProgrammingError, 'You can only execute one statement at a time.');
    await raises(() => conn.execute('INSERT INTO u VALUES (5); INSERT INTO u VALUES (6)'), sqlite3.ProgrammingError, 'You can only execute one statement at a time.');
    assert.deepEqual(await all(conn, 'SELECT x FROM u'), [[1]]);
    // Trailing semicolons and comments are one statement.
    assert.deepEqual(await one(conn, 'SELECT 2; -- done\n ;; /* c */'), [2]);

    await raises(() => conn.executemany('SELECT ?', [[1], [2]]), sqlite3.ProgrammingError, 'executemany() can only execute DML statements.');
    assert.deepEqual(await one(conn, 'SELECT 3'), [3]);

    await raises(() => conn.execute('SELECT * FROM nowhere'), sqlite3.OperationalError, 'no such table: nowhere');
    await raises(() => conn.execute('SELECT nocol FROM u'), sqlite3.OperationalError, 'no such column: nocol');

    await conn.execute('INSERT INTO u VALUES (2)');
    await conn.commit();
    assert.deepEqual(await all(conn, 'SELECT x FROM u ORDER BY x'), [[1], [2]]);
  });

  test('an error while fetching (runtime error) raises from fetch and leaves the connection usable', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE j(v)');
    const rows = Array.from({ length: 300 }, (_, i) => [i === 250 ? 'not json' : `{"a":${i}}`]);
    await conn.executemany('INSERT INTO j VALUES (?)', rows);
    const cur = await conn.execute("SELECT json_extract(v, '$.a') FROM j ORDER BY rowid");
    await raises(() => cur.fetchall(), sqlite3.OperationalError, 'malformed JSON');
    assert.deepEqual(await one(conn, 'SELECT count(*) FROM j'), [300]);
  });

  test('executemany stops at the first failing row; earlier rows stay', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE)');
    await raises(() => conn.executemany('INSERT INTO u VALUES (?)', [[1], [2], [1], [3]]), sqlite3.IntegrityError);
    assert.equal(conn.in_transaction, true);
    assert.deepEqual(await all(conn, 'SELECT x FROM u ORDER BY x'), [[1], [2]]);
    await conn.rollback();
    assert.deepEqual(await all(conn, 'SELECT x FROM u'), []);
  });

  test('executemany accepts generators and async iterables', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE g(x)');
    function* gen(): Generator<number[]> {
      for (let i = 0; i < 5; i++) yield [i];
    }
    async function* agen(): AsyncGenerator<Record<string, unknown>> {
      for (let i = 5; i < 8; i++) yield { x: i };
    }
    const c1 = await conn.executemany('INSERT INTO g VALUES (?)', gen());
    assert.equal(c1.rowcount, 5);
    const c2 = await conn.executemany('INSERT INTO g VALUES (:x)', agen());
    assert.equal(c2.rowcount, 3);
    assert.deepEqual(await one(conn, 'SELECT count(*), sum(x) FROM g'), [8, 28]);
  });

  test('empty SQL and comment-only SQL do nothing', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const cur = await conn.execute('');
    assert.equal(cur.description, null);
    assert.equal(await cur.fetchone(), null);
    const c2 = await conn.execute('-- nothing here\n/* nor here */');
    assert.equal(c2.description, null);
    assert.deepEqual(await c2.fetchall(), []);
  });

  test('execute needs a string', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await raises(() => conn.execute(42 as unknown as string), sqlite3.ProgrammingError);
  });
});

// ---------------------------------------------------------------------------
// Pool, batch_insert, query plans

describe('connection_pool', () => {
  test('acquire/release hands out at most pool_size connections; waiters get released ones in order', async () => {
    const path = freshPath('pool');
    const pool = await sqlite3.connection_pool.create(path, { pool_size: 2 });
    try {
      assert.equal(pool.size, 2);
      assert.equal(pool.available, 2);
      const a = await pool.acquire();
      const b = await pool.acquire();
      assert.notEqual(a, b);
      assert.equal(pool.available, 0);
      const order: string[] = [];
      const third = pool.acquire().then((c) => {
        order.push('third');
        return c;
      });
      const fourth = pool.acquire().then((c) => {
        order.push('fourth');
        return c;
      });
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(order, [], 'waiters must wait while every connection is out');
      await pool.release(b);
      const c3 = await third;
      assert.equal(c3, b);
      assert.deepEqual(order, ['third']);
      await pool.release(a);
      assert.equal(await fourth, a);
      assert.deepEqual(order, ['third', 'fourth']);
      await pool.release(c3);
      await pool.release(a);
      assert.equal(pool.available, 2);
      await raises(() => pool.release(a), sqlite3.ProgrammingError, 'connection was already released');
    } finally {
      await pool.close();
    }
  });

  test('use() with more callers than connections: all run, never more than pool_size at once', async () => {
    const path = freshPath('pool');
    {
      await using setup = await sqlite3.connect(path);
      await setup.execute('CREATE TABLE hits(n)');
      await setup.commit();
    }
    await using pool = await sqlite3.connection_pool.create(path, { pool_size: 2 });
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        pool.use(async (conn) => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 5));
          await conn.transaction(async () => {
            await conn.execute('INSERT INTO hits VALUES (?)', [i]);
          });
          active--;
          return i * 10;
        }),
      ),
    );
    assert.deepEqual(results, [0, 10, 20, 30, 40, 50]);
    assert.equal(peak, 2);
    assert.equal(pool.available, 2);
    const n = await pool.use(async (conn) => one(conn, 'SELECT count(*), sum(n) FROM hits'));
    assert.deepEqual(n, [6, 15]);
  });

  test('release rolls back an open transaction; use() releases on error', async () => {
    const path = freshPath('pool');
    await using pool = await sqlite3.connection_pool.create(path, { pool_size: 1 });
    await pool.use(async (c) => {
      await c.execute('CREATE TABLE t(x)');
    });
    const boom = new Error('boom');
    await assert.rejects(
      pool.use(async (c) => {
        await c.execute('INSERT INTO t VALUES (1)');
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.equal(pool.available, 1);
    const rows = await pool.use(async (c) => {
      assert.equal(c.in_transaction, false);
      return all(c, 'SELECT * FROM t');
    });
    assert.deepEqual(rows, []);
  });

  test('pool_size must be positive', async () => {
    await raises(() => sqlite3.connection_pool.create(':memory:', { pool_size: 0 }), sqlite3.ProgrammingError);
  });
});

describe('batch_insert', () => {
  test('inserts every row in one transaction, reporting progress', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE b(id INTEGER PRIMARY KEY, name TEXT, score REAL)');
    const rows = Array.from({ length: 2500 }, (_, i) => [i + 1, `n${i}`, i / 2]);
    const progress: Array<[number, number]> = [];
    const statements: string[] = [];
    await conn.set_trace_callback((s) => statements.push(s));
    const cur = conn.cursor();
    const n = await cur.batch_insert('b', ['id', 'name', 'score'], rows, {
      progress: (done, total) => progress.push([done, total]),
    });
    await conn.set_trace_callback(null);
    assert.equal(n, 2500);
    assert.equal(cur.rowcount, 2500);
    assert.deepEqual(progress, [
      [1000, 2500],
      [2000, 2500],
      [2500, 2500],
    ]);
    const begins = statements.filter((s) => /^\s*BEGIN/i.test(s));
    const commits = statements.filter((s) => /^\s*COMMIT/i.test(s));
    assert.equal(begins.length, 1, `one BEGIN expected: ${begins.join(' | ')}`);
    assert.equal(commits.length, 1);
    assert.equal(conn.in_transaction, false);
    assert.deepEqual(await one(conn, 'SELECT count(*), sum(id), max(name) FROM b'), [2500, (2500 * 2501) / 2, 'n999']);
  });

  test('a bad row inserts nothing at all', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE b(id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    const rows: unknown[][] = Array.from({ length: 2500 }, (_, i) => [i + 1, `n${i}`]);
    rows[1800] = [1801, null];
    await raises(() => conn.cursor().batch_insert('b', ['id', 'name'], rows), sqlite3.IntegrityError, 'NOT NULL constraint failed: b.name');
    assert.equal(conn.in_transaction, false);
    assert.deepEqual(await one(conn, 'SELECT count(*) FROM b'), [0]);
  });

  test('a row of the wrong length inserts nothing', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE b(x, y)');
    await raises(() => conn.cursor().batch_insert('b', ['x', 'y'], [[1, 2], [3]]), sqlite3.ProgrammingError);
    assert.deepEqual(await one(conn, 'SELECT count(*) FROM b'), [0]);
  });

  test('inside an open transaction it uses a savepoint: a failure keeps earlier work', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE b(x UNIQUE)');
    await conn.execute('INSERT INTO b VALUES (0)');
    assert.equal(conn.in_transaction, true);
    await raises(() => conn.cursor().batch_insert('b', ['x'], [[1], [2], [0]]), sqlite3.IntegrityError);
    assert.equal(conn.in_transaction, true);
    assert.deepEqual(await all(conn, 'SELECT x FROM b'), [[0]]);
    const n = await conn.cursor().batch_insert('b', ['x'], [[1], [2]]);
    assert.equal(n, 2);
    assert.equal(conn.in_transaction, true);
    await conn.rollback();
    assert.deepEqual(await one(conn, 'SELECT count(*) FROM b'), [0]);
  });

  test('quotes identifiers', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE "odd ""name"""("a col", "b""q")');
    await conn.cursor().batch_insert('odd "name"', ['a col', 'b"q'], [[1, 2]]);
    assert.deepEqual(await all(conn, 'SELECT * FROM "odd ""name"""'), [[1, 2]]);
  });
});

describe('query plans', () => {
  test('EXPLAIN QUERY PLAN rows and conn.query_plan()', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE p(id INTEGER PRIMARY KEY, k TEXT, v)');
    await conn.execute('CREATE INDEX p_k ON p(k)');
    const cur = await conn.execute('EXPLAIN QUERY PLAN SELECT v FROM p WHERE k = ?', ['x']);
    assert.deepEqual(
      cur.description?.map((d) => d[0]),
      ['id', 'parent', 'notused', 'detail'],
    );
    const rows = (await cur.fetchall()) as unknown[][];
    assert.equal(rows.length, 1);
    assert.match(String(rows[0][3]), /^SEARCH p USING INDEX p_k \(k=\?\)$/);

    const plan = await conn.query_plan('SELECT v FROM p WHERE k = ?', ['x']);
    assert.equal(plan.length, 1);
    assert.equal(plan[0].detail, rows[0][3]);
    assert.equal(typeof plan[0].id, 'number');
    assert.equal(plan[0].parent, 0);

    const scan = await conn.query_plan('SELECT * FROM p WHERE v = 1');
    assert.deepEqual(scan.map((r) => r.detail), ['SCAN p']);
    const pk = await conn.query_plan('SELECT * FROM p WHERE id = 1');
    assert.match(pk[0].detail, /^SEARCH p USING INTEGER PRIMARY KEY \(rowid=\?\)$/);
    // Plans do not execute the statement.
    await conn.query_plan('DELETE FROM p');
    assert.equal(conn.in_transaction, false);
  });
});
