/**
 * Connection hooks, organised like CPython's Lib/test/test_sqlite3/test_hooks.py:
 * the authorizer, the progress handler, the trace callback, interrupt(), and
 * getlimit/setlimit. Expected classes and messages are those of Python 3.11's `sqlite3`.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as sqlite3 from 'heliosdb-nano';
import type { Connection } from 'heliosdb-nano';
import { rejectsWith } from './helpers/assert-errors.js';

type AuthCall = [number, string | null, string | null, string | null, string | null];

/** A query that runs long enough to hit the progress handler thousands of times. */
const LONG_QUERY = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT count(*), sum(x) FROM c';

async function open(): Promise<Connection> {
  const conn = await sqlite3.connect(':memory:');
  await conn.executescript(`
    CREATE TABLE s(a INTEGER, b TEXT);
    INSERT INTO s VALUES (1, 'secret'), (2, 'hidden');
  `);
  return conn;
}

async function all(conn: Connection, sql: string, params?: readonly unknown[]): Promise<unknown[][]> {
  return (await (await conn.execute(sql, params)).fetchall()) as unknown[][];
}


describe('set_authorizer', () => {
  test('denying reads of a column raises DatabaseError with SQLite message', async () => {
    await using conn = await open();
    await conn.set_authorizer((action, arg1, arg2) =>
      action === sqlite3.SQLITE_READ && arg1 === 's' && arg2 === 'b' ? sqlite3.SQLITE_DENY : sqlite3.SQLITE_OK,
    );
    const err = await rejectsWith(conn.execute('SELECT b FROM s'), sqlite3.DatabaseError, 'access to s.b is prohibited');
    // SQLITE_AUTH maps to DatabaseError itself, not a subclass.
    assert.equal(err.constructor, sqlite3.DatabaseError);
    assert.equal((err as sqlite3.DatabaseError).sqlite_errorcode, sqlite3.SQLITE_AUTH);
    await rejectsWith(conn.execute('SELECT * FROM s'), sqlite3.DatabaseError, 'access to s.b is prohibited');
    // Other columns are still readable.
    assert.deepEqual(await all(conn, 'SELECT a FROM s ORDER BY a'), [[1], [2]]);
  });

  test('denying an action gives "not authorized"', async () => {
    await using conn = await open();
    await conn.set_authorizer((action) => (action === sqlite3.SQLITE_INSERT ? sqlite3.SQLITE_DENY : sqlite3.SQLITE_OK));
    await rejectsWith(conn.execute("INSERT INTO s VALUES (3, 'x')"), sqlite3.DatabaseError, 'not authorized');
    await conn.set_authorizer((action) => (action === sqlite3.SQLITE_PRAGMA ? sqlite3.SQLITE_DENY : sqlite3.SQLITE_OK));
    await rejectsWith(conn.execute('PRAGMA user_version'), sqlite3.DatabaseError, 'not authorized');
    await conn.execute("INSERT INTO s VALUES (3, 'x')");
    assert.deepEqual(await all(conn, 'SELECT count(*) FROM s'), [[3]]);
  });

  test('SQLITE_IGNORE makes the column read as NULL', async () => {
    await using conn = await open();
    await conn.set_authorizer((action, _t, column) =>
      action === sqlite3.SQLITE_READ && column === 'b' ? sqlite3.SQLITE_IGNORE : sqlite3.SQLITE_OK,
    );
    assert.deepEqual(await all(conn, 'SELECT a, b FROM s ORDER BY a'), [
      [1, null],
      [2, null],
    ]);
    // Also inside expressions and WHERE clauses.
    assert.deepEqual(await all(conn, "SELECT count(*) FROM s WHERE b = 'secret'"), [[0]]);
  });

  test('the callback receives action codes and their arguments', async () => {
    await using conn = await open();
    await conn.execute('CREATE VIEW v AS SELECT a FROM s');
    const calls: AuthCall[] = [];
    await conn.set_authorizer((...args) => {
      calls.push(args);
      return sqlite3.SQLITE_OK;
    });
    await all(conn, 'SELECT b FROM s');
    assert.deepEqual(calls, [
      [sqlite3.SQLITE_SELECT, null, null, null, null],
      [sqlite3.SQLITE_READ, 's', 'b', 'main', null],
    ]);
    calls.length = 0;
    await conn.execute("UPDATE s SET b = 'z' WHERE a = 2");
    assert.deepEqual(calls.slice(0, 2), [
      [sqlite3.SQLITE_UPDATE, 's', 'b', 'main', null],
      [sqlite3.SQLITE_READ, 's', 'a', 'main', null],
    ]);
    await conn.commit();
    calls.length = 0;
    await conn.execute('DELETE FROM s WHERE a = 2');
    assert.deepEqual(calls.slice(0, 2), [
      [sqlite3.SQLITE_DELETE, 's', null, 'main', null],
      [sqlite3.SQLITE_READ, 's', 'a', 'main', null],
    ]);
    calls.length = 0;
    // Reads through a view name the view as the inner-most trigger or view (arg 4).
    await all(conn, 'SELECT abs(a) FROM v');
    assert.deepEqual(calls, [
      [sqlite3.SQLITE_SELECT, null, null, null, null],
      [sqlite3.SQLITE_READ, 's', 'a', 'main', 'v'],
      [sqlite3.SQLITE_FUNCTION, null, 'abs', null, null],
      [sqlite3.SQLITE_READ, 'v', 'a', 'main', null],
      [sqlite3.SQLITE_SELECT, null, null, null, 'v'],
    ]);
    calls.length = 0;
    await all(conn, 'PRAGMA user_version');
    assert.deepEqual(calls, [[sqlite3.SQLITE_PRAGMA, 'user_version', null, null, null]]);
  });

  test('an authorizer that throws or returns a non-integer denies', async () => {
    await using conn = await open();
    await conn.set_authorizer(() => {
      throw new Error('nope');
    });
    await rejectsWith(conn.execute('SELECT a FROM s'), sqlite3.DatabaseError, 'not authorized');
    await conn.set_authorizer((() => 'yes') as unknown as sqlite3.Authorizer);
    await rejectsWith(conn.execute('SELECT a FROM s'), sqlite3.DatabaseError, 'not authorized');
    // An integer that is not an authorizer code is SQLite's "authorizer malfunction".
    await conn.set_authorizer(() => 99);
    await rejectsWith(conn.execute('SELECT a FROM s'), sqlite3.OperationalError, 'authorizer malfunction');
    await conn.set_authorizer(null);
    assert.deepEqual(await all(conn, 'SELECT a FROM s ORDER BY a'), [[1], [2]]);
  });

  test('clearing the authorizer with null', async () => {
    await using conn = await open();
    let calls = 0;
    await conn.set_authorizer(() => {
      calls++;
      return sqlite3.SQLITE_DENY;
    });
    await rejectsWith(conn.execute('SELECT b FROM s WHERE a = 1'), sqlite3.DatabaseError, 'not authorized');
    assert.ok(calls > 0);
    await conn.set_authorizer(null);
    calls = 0;
    assert.deepEqual(await all(conn, 'SELECT b FROM s WHERE a = 1'), [['secret']]);
    assert.equal(calls, 0);
  });
});

describe('set_progress_handler', () => {
  test('is called during a long query', async () => {
    await using conn = await open();
    let calls = 0;
    await conn.set_progress_handler(() => {
      calls++;
      return 0;
    }, 100);
    assert.deepEqual(await all(conn, LONG_QUERY), [[20000, 200010000]]);
    assert.ok(calls > 100, `called ${calls} times`);
    // A larger n means fewer calls.
    const few = calls;
    calls = 0;
    await conn.set_progress_handler(() => {
      calls++;
      return false;
    }, 10000);
    await all(conn, LONG_QUERY);
    assert.ok(calls > 0 && calls < few / 10, `called ${calls} times vs ${few}`);
  });

  test('returning truthy aborts with OperationalError "interrupted"', async () => {
    await using conn = await open();
    let calls = 0;
    await conn.set_progress_handler(() => ++calls >= 3, 100);
    const err = await rejectsWith(conn.execute(LONG_QUERY), sqlite3.OperationalError, 'interrupted');
    assert.equal((err as sqlite3.OperationalError).sqlite_errorcode, sqlite3.SQLITE_INTERRUPT);
    assert.equal(calls, 3);
    // A throwing handler aborts too.
    await conn.set_progress_handler(() => {
      throw new Error('stop');
    }, 100);
    await rejectsWith(conn.execute(LONG_QUERY), sqlite3.OperationalError, 'interrupted');
    // Clearing with null lets the query finish; the connection is fine.
    await conn.set_progress_handler(null, 100);
    assert.deepEqual(await all(conn, LONG_QUERY), [[20000, 200010000]]);
  });

  test('aborting a write rolls back that statement only', async () => {
    await using conn = await open();
    await conn.set_progress_handler(() => 1, 50);
    await rejectsWith(
      conn.execute('WITH RECURSIVE c(x) AS (SELECT 10 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) INSERT INTO s SELECT x, x FROM c'),
      sqlite3.OperationalError,
      'interrupted',
    );
    await conn.set_progress_handler(null, 0);
    assert.deepEqual(await all(conn, 'SELECT count(*) FROM s'), [[2]]);
  });
});

describe('set_trace_callback', () => {
  test('receives each executed statement with bound values expanded', async () => {
    await using conn = await sqlite3.connect(':memory:', { isolation_level: null });
    const traced: string[] = [];
    await conn.set_trace_callback((s) => traced.push(s));
    await conn.execute('CREATE TABLE t(a, b)');
    await conn.execute('INSERT INTO t VALUES (?, ?)', [1, "it's"]);
    await conn.execute('INSERT INTO t VALUES (?, ?)', [2.5, new Uint8Array([1, 2, 0xff])]);
    await conn.execute('INSERT INTO t VALUES (:a, :b)', { a: null, b: 'héllo ✓' });
    await conn.execute('SELECT * FROM t WHERE a > ?', [2n ** 60n]);
    assert.deepEqual(traced, [
      'CREATE TABLE t(a, b)',
      "INSERT INTO t VALUES (1, 'it''s')",
      "INSERT INTO t VALUES (2.5, x'0102ff')",
      "INSERT INTO t VALUES (NULL, 'héllo ✓')",
      'SELECT * FROM t WHERE a > 1152921504606846976',
    ]);
  });

  test('traces statements run by triggers and by the transaction control', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.executescript(`
      CREATE TABLE t(a);
      CREATE TABLE log(x);
      CREATE TRIGGER tg AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a * 10); END;
    `);
    const traced: string[] = [];
    await conn.set_trace_callback((s) => traced.push(s));
    await conn.execute('INSERT INTO t VALUES (?)', [7]);
    await conn.commit();
    assert.deepEqual(traced, ['BEGIN ', 'INSERT INTO t VALUES (7)', '-- TRIGGER tg', '-- INSERT INTO log VALUES (new.a * 10)', 'COMMIT']);
    assert.deepEqual(await all(conn, 'SELECT x FROM log'), [[70]]);
  });

  test('statements of executescript are traced; clearing with null stops tracing', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const traced: string[] = [];
    await conn.set_trace_callback((s) => traced.push(s));
    await conn.executescript('CREATE TABLE a(x); INSERT INTO a VALUES (1);  SELECT * FROM a;');
    // As in Python: each statement's text as SQLite split it, separator and leading blanks included.
    assert.deepEqual(traced, ['CREATE TABLE a(x);', ' INSERT INTO a VALUES (1);', '  SELECT * FROM a;']);
    await conn.set_trace_callback(null);
    traced.length = 0;
    await conn.execute('SELECT 1');
    assert.deepEqual(traced, []);
  });

  test('a throwing trace callback does not affect the statement', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.set_trace_callback(() => {
      throw new Error('trace failed');
    });
    assert.deepEqual(await all(conn, 'SELECT 40 + 2'), [[42]]);
  });
});

describe('interrupt', () => {
  test('called from inside a user function aborts the running query', async () => {
    await using conn = await open();
    let seen = 0;
    await conn.create_function('stop_at', 2, (x, at) => {
      seen++;
      if (x === at) conn.interrupt();
      return x;
    });
    await rejectsWith(
      conn.execute('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT stop_at(x, 5) FROM c'),
      sqlite3.OperationalError,
      'interrupted',
    );
    assert.ok(seen >= 5 && seen < 100000, `function saw ${seen} rows`);
    // The next statement runs normally.
    assert.deepEqual(await all(conn, 'SELECT count(*) FROM s'), [[2]]);
  });

  test('called from a progress handler aborts the running query', async () => {
    await using conn = await open();
    let calls = 0;
    await conn.set_progress_handler(() => {
      if (++calls === 2) conn.interrupt();
      return 0;
    }, 100);
    await rejectsWith(conn.execute(LONG_QUERY), sqlite3.OperationalError, 'interrupted');
    await conn.set_progress_handler(null, 0);
    assert.deepEqual(await all(conn, LONG_QUERY), [[20000, 200010000]]);
  });

  test('interrupting an idle connection does not affect the next statement', async () => {
    await using conn = await open();
    conn.interrupt();
    assert.deepEqual(await all(conn, 'SELECT count(*) FROM s'), [[2]]);
    await conn.close();
    assert.throws(() => conn.interrupt(), sqlite3.ProgrammingError);
  });
});

describe('getlimit / setlimit', () => {
  test('get and set SQLITE_LIMIT_LENGTH; exceeding it raises DataError', async () => {
    await using conn = await open();
    const original = await conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH);
    assert.equal(original, 1000000000);
    assert.equal(await conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100), original);
    assert.equal(await conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH), 100);
    // A negative value reads without changing it.
    assert.equal(await conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, -1), 100);
    assert.equal(await conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH), 100);
    assert.deepEqual(await all(conn, 'SELECT length(?)', ['x'.repeat(100)]), [[100]]);
    await rejectsWith(conn.execute('SELECT ?', ['x'.repeat(101)]), sqlite3.DataError, 'string or blob too big');
    await rejectsWith(conn.execute('SELECT ?', [new Uint8Array(200)]), sqlite3.DataError, 'string or blob too big');
    await rejectsWith(conn.execute('SELECT randomblob(200)'), sqlite3.DataError, 'string or blob too big');
    await rejectsWith(conn.execute('SELECT zeroblob(200)'), sqlite3.DataError, 'string or blob too big');
    await rejectsWith(conn.execute(`SELECT '${'y'.repeat(200)}'`), sqlite3.DataError, 'string or blob too big');
    await conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, original);
    assert.deepEqual(await all(conn, 'SELECT length(randomblob(200))'), [[200]]);
  });

  test('other categories', async () => {
    await using conn = await open();
    await conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 20);
    assert.deepEqual(await all(conn, 'SELECT 1'), [[1]]);
    await rejectsWith(conn.execute('SELECT 1 + 1 + 1 + 1 + 1 + 1 + 1'), sqlite3.DataError, 'query string is too large');
    await conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 1000000);
    await conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, 3);
    await rejectsWith(conn.execute('SELECT 1, 2, 3, 4'), sqlite3.OperationalError, 'too many columns in result set');
    await conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 2);
    await rejectsWith(conn.execute('SELECT ?, ?, ?', [1, 2, 3]), sqlite3.OperationalError, 'too many SQL variables');
    await conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0);
    await rejectsWith(conn.execute("ATTACH ':memory:' AS aux"), sqlite3.OperationalError, 'too many attached databases - max 0');
    assert.equal(await conn.getlimit(sqlite3.SQLITE_LIMIT_COLUMN), 3);
  });

  test('a bad category raises ProgrammingError', async () => {
    await using conn = await open();
    await rejectsWith(conn.getlimit(1111), sqlite3.ProgrammingError, "'category' is out of bounds");
    await rejectsWith(conn.getlimit(-1), sqlite3.ProgrammingError, "'category' is out of bounds");
    await rejectsWith(conn.setlimit(-5, 5), sqlite3.ProgrammingError, "'category' is out of bounds");
  });
});
