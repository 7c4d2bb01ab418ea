/**
 * Odd cases, in the spirit of CPython's Lib/test/test_sqlite3/test_regression.py:
 * the statement cache under reuse, sharing and eviction, cursors left open while
 * other statements run, errors inside transactions, very long SQL, unusual column
 * names, schema changes under cached statements, PRAGMAs, ATTACH and temp tables.
 * Expected results were checked against Python's `sqlite3` module.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';
import { raises } from './helpers/assert-errors.js';

// ---------------------------------------------------------------------------
// Helpers

let dir = '';
let fileCounter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heliosdb-regression-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function freshPath(): string {
  return join(dir, `reg-${++fileCounter}.sqlite`);
}



async function all(conn: sqlite3.Connection, sql: string, params?: sqlite3.BindParams): Promise<unknown[][]> {
  return (await (await conn.execute(sql, params)).fetchall()) as unknown[][];
}

async function scalar(conn: sqlite3.Connection, sql: string, params?: sqlite3.BindParams): Promise<unknown> {
  const row = (await (await conn.execute(sql, params)).fetchone()) as unknown[] | null;
  return row === null ? undefined : row[0];
}

function names(cur: sqlite3.Cursor): string[] | undefined {
  return cur.description?.map((d) => d[0]);
}

/** SELECT of 1..n, enough rows that a cursor stays open across fetch batches. */
const SERIES = 'WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) SELECT i FROM s';

// ---------------------------------------------------------------------------
// The statement cache

describe('statement cache', () => {
  test('the same SQL reused with different parameters and types', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const sql = 'SELECT ?, typeof(?)';
    const values: Array<[unknown, unknown, string]> = [
      [1, 1, 'integer'],
      ['a', 'a', 'text'],
      [2.5, 2.5, 'real'],
      [null, null, 'null'],
      [new Uint8Array([1, 2]), new Uint8Array([1, 2]), 'blob'],
      [2n ** 60n, 2n ** 60n, 'integer'],
      [true, 1, 'integer'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [v, back, type] of values) {
        assert.deepEqual(await (await conn.execute(sql, [v, v])).fetchone(), [back, type]);
      }
    }
    // The same SQL text with named parameters, as an object then a Map.
    assert.deepEqual(await (await conn.execute('SELECT :a + :b', { a: 1, b: 2 })).fetchone(), [3]);
    assert.deepEqual(await (await conn.execute('SELECT :a + :b', new Map([['a', 10], ['b', 20]]))).fetchone(), [30]);
  });

  test('bindings do not leak from one execution into the next', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(a, b)');
    await conn.execute('INSERT INTO t VALUES (:a, :b)', { a: 1, b: 'one' });
    // A failed binding must not leave the earlier values bound.
    await raises(() => conn.execute('INSERT INTO t VALUES (:a, :b)', { a: 2 }), sqlite3.ProgrammingError);
    await conn.execute('INSERT INTO t VALUES (:a, :b)', { a: 3, b: null });
    assert.deepEqual(await all(conn, 'SELECT a, b FROM t ORDER BY a'), [
      [1, 'one'],
      [3, null],
    ]);
  });

  test('the same SQL on two open cursors at once: both iterate correctly', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const a = await conn.execute(SERIES, [1000]);
    const b = await conn.execute(SERIES, [1000]);
    const c = await conn.execute(SERIES, [500]);
    const got: Record<'a' | 'b' | 'c', number[]> = { a: [], b: [], c: [] };
    for (let i = 0; i < 1000; i++) {
      const ra = (await a.fetchone()) as [number];
      const rb = (await b.fetchone()) as [number];
      got.a.push(ra[0]);
      got.b.push(rb[0]);
      if (i % 2 === 0) {
        const rc = (await c.fetchone()) as [number] | null;
        if (rc) got.c.push(rc[0]);
      }
    }
    assert.equal(await a.fetchone(), null);
    assert.equal(await b.fetchone(), null);
    got.c.push(...((await c.fetchall()) as [number][]).map((r) => r[0]));
    const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
    assert.deepEqual(got.a, range(1000));
    assert.deepEqual(got.b, range(1000));
    assert.deepEqual(got.c, range(500));
    // And the cached statement still works afterwards.
    assert.deepEqual(await (await conn.execute(SERIES, [3])).fetchall(), [[1], [2], [3]]);
  });

  test('many unfinished cursors on one SQL text', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const cursors: sqlite3.Cursor[] = [];
    for (let i = 0; i < 150; i++) {
      const cur = await conn.execute(SERIES, [200 + i]);
      assert.deepEqual(await cur.fetchone(), [1]);
      cursors.push(cur);
    }
    for (let i = 0; i < cursors.length; i += 7) {
      const rows = (await cursors[i].fetchall()) as [number][];
      assert.equal(rows.length, 200 + i - 1);
      assert.equal(rows[rows.length - 1][0], 200 + i);
    }
    for (const cur of cursors) await cur.close();
    assert.equal(await scalar(conn, 'SELECT 42'), 42);
  });

  test('1000 distinct statements: eviction keeps results right, evicted ones re-prepare', async () => {
    await using conn = await sqlite3.connect(':memory:', { cached_statements: 50 });
    await conn.execute('CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)');
    await conn.executemany('INSERT INTO t VALUES (?, ?)', Array.from({ length: 100 }, (_, i) => [i, `v${i}`]));
    for (let i = 0; i < 1000; i++) {
      // Distinct text each time: a different constant folded into the SQL.
      assert.equal(await scalar(conn, `SELECT ${i} + count(*) FROM t WHERE k < ?`, [i % 100]), i + (i % 100));
    }
    for (let i = 0; i < 100; i++) {
      assert.equal(await scalar(conn, `SELECT ${i} + count(*) FROM t WHERE k < ?`, [i % 100]), i + (i % 100));
    }
  });

  test('a cursor still reading keeps its statement through heavy eviction', async () => {
    await using conn = await sqlite3.connect(':memory:', { cached_statements: 10 });
    const cur = await conn.execute(SERIES, [2000]);
    assert.deepEqual(await cur.fetchmany(10), Array.from({ length: 10 }, (_, i) => [i + 1]));
    for (let i = 0; i < 300; i++) assert.equal(await scalar(conn, `SELECT ${i} * 2`), i * 2);
    const rest = (await cur.fetchall()) as [number][];
    assert.equal(rest.length, 1990);
    assert.equal(rest[0][0], 11);
    assert.equal(rest[1989][0], 2000);
    // The SQL of the open cursor can be run again now.
    assert.equal(((await (await conn.execute(SERIES, [5])).fetchall()) as unknown[]).length, 5);
  });

  test('cached_statements: 0 disables the cache but not execution', async () => {
    await using conn = await sqlite3.connect(':memory:', { cached_statements: 0 });
    for (let i = 0; i < 20; i++) assert.equal(await scalar(conn, 'SELECT ? * 3', [i]), i * 3);
    const a = await conn.execute(SERIES, [300]);
    const b = await conn.execute(SERIES, [300]);
    assert.equal(((await a.fetchall()) as unknown[]).length, 300);
    assert.equal(((await b.fetchall()) as unknown[]).length, 300);
  });
});

// ---------------------------------------------------------------------------
// Cursors and other statements

describe('cursors interleaved with other work', () => {
  test('a cursor left open while other statements run (and commit) continues correctly', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE src(i)');
    await conn.execute('CREATE TABLE dst(i)');
    await conn.executemany('INSERT INTO src VALUES (?)', Array.from({ length: 1000 }, (_, i) => [i]));
    await conn.commit();
    const cur = await conn.execute('SELECT i FROM src ORDER BY i');
    let n = 0;
    for await (const row of cur) {
      const [i] = row as [number];
      assert.equal(i, n++);
      if (i % 100 === 0) {
        await conn.execute('INSERT INTO dst VALUES (?)', [i]);
        await conn.commit();
        assert.equal(await scalar(conn, 'SELECT count(*) FROM dst'), i / 100 + 1);
      }
    }
    assert.equal(n, 1000);
    assert.deepEqual(await all(conn, 'SELECT sum(i) FROM dst'), [[4500]]);
  });

  test('re-executing a cursor drops its unread rows', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const cur = conn.cursor();
    await cur.execute(SERIES, [1000]);
    assert.deepEqual(await cur.fetchone(), [1]);
    await cur.execute('SELECT 7');
    assert.deepEqual(await cur.fetchall(), [[7]]);
    await cur.execute(SERIES, [1000]);
    assert.equal(((await cur.fetchall()) as unknown[]).length, 1000);
  });

  test('interleaved fetches of two cursors on different queries', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE a(x)');
    await conn.execute('CREATE TABLE b(y)');
    await conn.executemany('INSERT INTO a VALUES (?)', Array.from({ length: 700 }, (_, i) => [i]));
    await conn.executemany('INSERT INTO b VALUES (?)', Array.from({ length: 900 }, (_, i) => [`b${i}`]));
    const ca = await conn.execute('SELECT x FROM a ORDER BY x');
    const cb = await conn.execute('SELECT y FROM b ORDER BY rowid');
    const xs: unknown[] = [];
    const ys: unknown[] = [];
    for (let round = 0; round < 200; round++) {
      xs.push(...((await ca.fetchmany(3)) as unknown[][]).map((r) => r[0]));
      const one = (await cb.fetchone()) as unknown[] | null;
      if (one) ys.push(one[0]);
      ys.push(...((await cb.fetchmany(4)) as unknown[][]).map((r) => r[0]));
    }
    xs.push(...((await ca.fetchall()) as unknown[][]).map((r) => r[0]));
    ys.push(...((await cb.fetchall()) as unknown[][]).map((r) => r[0]));
    assert.deepEqual(xs, Array.from({ length: 700 }, (_, i) => i));
    assert.deepEqual(ys, Array.from({ length: 900 }, (_, i) => `b${i}`));
  });

  test('DROP TABLE while a cursor reads it: database table is locked; the cursor carries on', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE a(x)');
    await conn.executemany('INSERT INTO a VALUES (?)', Array.from({ length: 1000 }, (_, i) => [i]));
    await conn.commit();
    const cur = await conn.execute('SELECT x FROM a');
    await cur.fetchone();
    await raises(() => conn.execute('DROP TABLE a'), sqlite3.OperationalError, 'database table is locked');
    assert.equal(((await cur.fetchall()) as unknown[]).length, 999);
    await conn.execute('DROP TABLE a');
    assert.equal(await scalar(conn, "SELECT count(*) FROM sqlite_master WHERE name = 'a'"), 0);
  });

  test('closing a connection with unfinished cursors', async () => {
    const conn = await sqlite3.connect(':memory:');
    const a = await conn.execute(SERIES, [1000]);
    const b = await conn.execute(SERIES, [1000]);
    await a.fetchone();
    await b.fetchone();
    await conn.close();
    await raises(() => a.fetchone(), sqlite3.ProgrammingError, 'Cannot operate on a closed database.');
    await b.close();
  });
});

// ---------------------------------------------------------------------------
// Errors inside transactions

describe('errors inside a transaction', () => {
  test('statements after an error still run; the transaction stays open and commits', async () => {
    const path = freshPath();
    {
      await using conn = await sqlite3.connect(path);
      await conn.execute('CREATE TABLE u(x UNIQUE)');
      await conn.commit();
      await conn.execute('INSERT INTO u VALUES (1)');
      await raises(() => conn.execute('INSERT INTO u VALUES (1)'), sqlite3.IntegrityError);
      assert.equal(conn.in_transaction, true);
      await raises(() => conn.execute('INSERT INTO nowhere VALUES (1)'), sqlite3.OperationalError, 'no such table: nowhere');
      assert.equal(conn.in_transaction, true);
      await raises(() => conn.execute('INSERT INTO u VALUES (?)'), sqlite3.ProgrammingError);
      assert.equal(conn.in_transaction, true);
      await conn.execute('INSERT INTO u VALUES (2)');
      await conn.commit();
    }
    await using check = await sqlite3.connect(path);
    assert.deepEqual(await all(check, 'SELECT x FROM u ORDER BY x'), [[1], [2]]);
  });

  test('an error from a multi-row statement undoes only that statement', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE)');
    await conn.execute('INSERT INTO u VALUES (5)');
    await raises(() => conn.execute('INSERT INTO u VALUES (1), (2), (5), (3)'), sqlite3.IntegrityError);
    assert.deepEqual(await all(conn, 'SELECT x FROM u'), [[5]]);
    await conn.execute('UPDATE u SET x = x + 1');
    await conn.commit();
    assert.deepEqual(await all(conn, 'SELECT x FROM u'), [[6]]);
  });

  test('ON CONFLICT ROLLBACK ends the transaction', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE ON CONFLICT ROLLBACK)');
    await conn.execute('INSERT INTO u VALUES (1)');
    await conn.execute('INSERT INTO u VALUES (2)');
    assert.equal(conn.in_transaction, true);
    await raises(() => conn.execute('INSERT INTO u VALUES (1)'), sqlite3.IntegrityError);
    assert.equal(conn.in_transaction, false);
    assert.deepEqual(await all(conn, 'SELECT x FROM u'), []);
    // commit and rollback are fine with nothing open.
    await conn.commit();
    await conn.rollback();
  });

  test('an error in executemany inside a transaction keeps earlier statements', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE)');
    await conn.execute('INSERT INTO u VALUES (0)');
    await raises(() => conn.executemany('INSERT INTO u VALUES (?)', [[1], [0], [2]]), sqlite3.IntegrityError);
    assert.equal(conn.in_transaction, true);
    await conn.commit();
    assert.deepEqual(await all(conn, 'SELECT x FROM u ORDER BY x'), [[0], [1]]);
  });
});

// ---------------------------------------------------------------------------
// Long SQL, names, schema changes

describe('very long SQL', () => {
  test('a 2 MB string literal', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const s = 'x'.repeat(2 * 1024 * 1024);
    const v = await scalar(conn, `SELECT length('${s}')`);
    assert.equal(v, s.length);
  });

  test('multi-byte characters in long SQL (byte length far above string length)', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const s = '😀é'.repeat(100_000);
    const row = (await (await conn.execute(`SELECT '${s}', length('${s}')`)).fetchone()) as [string, number];
    assert.equal(row[0], s);
    assert.equal(row[1], 200_000);
  });

  test('an IN list of 10000 values and a 1000-column SELECT', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    await conn.executemany('INSERT INTO t VALUES (?)', Array.from({ length: 100 }, (_, i) => [i * 3]));
    const list = Array.from({ length: 10000 }, (_, i) => i * 2).join(', ');
    // x = 0, 3, …, 297 and the list holds the even numbers below 20000: the 50 even x.
    assert.equal(await scalar(conn, `SELECT count(*) FROM t WHERE x IN (${list})`), 50);
    const cols = Array.from({ length: 1000 }, (_, i) => `${i} AS c${i}`).join(', ');
    const cur = await conn.execute(`SELECT ${cols}`);
    assert.equal(cur.description?.length, 1000);
    assert.equal(cur.description?.[999][0], 'c999');
    const row = (await cur.fetchone()) as number[];
    assert.equal(row.length, 1000);
    assert.equal(row[999], 999);
  });

  test('999+ parameters in one statement', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const n = 5000;
    const sql = `SELECT count(*), sum(column1) FROM (VALUES ${Array.from({ length: n }, () => '(?)').join(', ')})`;
    const cur = await conn.execute(sql, Array.from({ length: n }, (_, i) => i));
    assert.deepEqual(await cur.fetchone(), [n, (n * (n - 1)) / 2]);
  });
});

describe('column names', () => {
  test('spaces, quotes and unicode in names reach the description and Row', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE "my table"("first col" INTEGER, "ünïcødé 😀" TEXT, "say ""hi""" REAL, [bracket name], `tick name`)');
    await conn.execute('INSERT INTO "my table" VALUES (1, \'u\', 2.5, \'b\', \'t\')');
    const cur = await conn.execute('SELECT * FROM "my table"');
    assert.deepEqual(names(cur), ['first col', 'ünïcødé 😀', 'say "hi"', 'bracket name', 'tick name']);
    const alias = await conn.execute('SELECT 1 AS "my col", 2 AS "ünï 😀", 3 AS [x y]');
    assert.deepEqual(names(alias), ['my col', 'ünï 😀', 'x y']);

    const rowCur = conn.cursor();
    rowCur.row_factory = sqlite3.Row;
    await rowCur.execute('SELECT * FROM "my table"');
    const row = (await rowCur.fetchone()) as sqlite3.Row;
    assert.equal(row.get('first col'), 1);
    assert.equal(row.get('ÜNÏCØDÉ 😀'.toLowerCase()), 'u');
    assert.equal(row.get('say "hi"'), 2.5);
    assert.deepEqual(row.keys(), ['first col', 'ünïcødé 😀', 'say "hi"', 'bracket name', 'tick name']);
  });

  test('unnamed expressions are named by their text; duplicate names are kept', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const cur = await conn.execute('SELECT 1 + 1, lower(\'A\'), 3 AS x, 4 AS x');
    assert.deepEqual(names(cur), ['1 + 1', "lower('A')", 'x', 'x']);
    assert.deepEqual(await cur.fetchone(), [2, 'a', 3, 4]);
  });
});

describe('schema changes under cached statements', () => {
  test('SELECT * after ALTER TABLE ADD COLUMN shows the new column', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE b(x)');
    await conn.execute('INSERT INTO b VALUES (1)');
    const first = await conn.execute('SELECT * FROM b');
    assert.deepEqual(names(first), ['x']);
    assert.deepEqual(await first.fetchall(), [[1]]);
    await conn.execute('ALTER TABLE b ADD COLUMN y DEFAULT 7');
    const second = await conn.execute('SELECT * FROM b');
    assert.deepEqual(names(second), ['x', 'y']);
    assert.deepEqual(await second.fetchall(), [[1, 7]]);
  });

  test('SELECT * after DROP and re-CREATE with other columns', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE b(x)');
    await conn.execute('INSERT INTO b VALUES (1)');
    assert.deepEqual(await all(conn, 'SELECT * FROM b'), [[1]]);
    await conn.execute('DROP TABLE b');
    await conn.execute('CREATE TABLE b(p, q, r)');
    await conn.execute('INSERT INTO b VALUES (1, 2, 3)');
    const cur = await conn.execute('SELECT * FROM b');
    assert.deepEqual(names(cur), ['p', 'q', 'r']);
    assert.deepEqual(await cur.fetchall(), [[1, 2, 3]]);
  });

  test('a schema change made by another connection is seen by a cached statement', async () => {
    const path = freshPath();
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute('CREATE TABLE t(x)');
    await a.execute('INSERT INTO t VALUES (1)');
    await a.commit();
    assert.deepEqual(names(await b.execute('SELECT * FROM t')), ['x']);
    await a.execute('ALTER TABLE t ADD COLUMN z DEFAULT 9');
    await a.commit();
    const cur = await b.execute('SELECT * FROM t');
    assert.deepEqual(names(cur), ['x', 'z']);
    assert.deepEqual(await cur.fetchall(), [[1, 9]]);
  });

  test('ALTER TABLE RENAME COLUMN changes the name in the description', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE b(old)');
    assert.deepEqual(names(await conn.execute('SELECT * FROM b')), ['old']);
    await conn.execute('ALTER TABLE b RENAME COLUMN old TO new');
    assert.deepEqual(names(await conn.execute('SELECT * FROM b')), ['new']);
  });
});

// ---------------------------------------------------------------------------
// rowcount, PRAGMA, ATTACH, temp tables

describe('rowcount oddities', () => {
  test('DELETE without WHERE reports the rows deleted', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    await conn.executemany('INSERT INTO t VALUES (?)', Array.from({ length: 5 }, (_, i) => [i]));
    const cur = await conn.execute('DELETE FROM t');
    assert.equal(cur.rowcount, 5);
    const again = await conn.execute('DELETE FROM t');
    assert.equal(again.rowcount, 0);
  });

  test('rowcount of a trigger-firing statement counts only its own rows', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.executescript(`
      CREATE TABLE t(x);
      CREATE TABLE log(x);
      CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.x); INSERT INTO log VALUES (new.x); END;
    `);
    const cur = await conn.execute('INSERT INTO t VALUES (1), (2)');
    assert.equal(cur.rowcount, 2);
    assert.equal(await scalar(conn, 'SELECT count(*) FROM log'), 4);
  });
});

describe('PRAGMA', () => {
  test('PRAGMA results have rows and a description', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE a(x INTEGER NOT NULL, y TEXT DEFAULT \'d\', PRIMARY KEY (x))');
    const cur = await conn.execute('PRAGMA table_info(a)');
    assert.deepEqual(names(cur), ['cid', 'name', 'type', 'notnull', 'dflt_value', 'pk']);
    assert.equal(cur.rowcount, -1);
    assert.deepEqual(await cur.fetchall(), [
      [0, 'x', 'INTEGER', 1, null, 1],
      [1, 'y', 'TEXT', 0, "'d'", 0],
    ]);
  });

  test('setting and reading a PRAGMA', async () => {
    await using conn = await sqlite3.connect(':memory:');
    assert.equal(await scalar(conn, 'PRAGMA user_version'), 0);
    const set = await conn.execute('PRAGMA user_version = 7');
    assert.equal(set.description, null);
    assert.equal(set.rowcount, -1);
    assert.deepEqual(await set.fetchall(), []);
    assert.equal(await scalar(conn, 'PRAGMA user_version'), 7);
    assert.equal(await scalar(conn, 'PRAGMA foreign_keys'), 0);
    assert.equal(await scalar(conn, 'PRAGMA recursive_triggers'), 0);
    assert.equal(await scalar(conn, 'PRAGMA journal_mode'), 'memory');
  });

  test('journal mode is managed by the MVCC store: WAL is declined, isolation holds', async () => {
    const path = freshPath();
    await using a = await sqlite3.connect(path);
    assert.equal(await scalar(a, 'PRAGMA journal_mode'), 'memory');
    // SQLite declines WAL on MVCC storage (no shared memory) and keeps the managed mode.
    assert.equal(await scalar(a, 'PRAGMA journal_mode = wal'), 'memory');
    await a.execute('CREATE TABLE t(x)');
    await a.execute('INSERT INTO t VALUES (1)');
    await using b = await sqlite3.connect(path);
    assert.equal(await scalar(b, 'SELECT count(*) FROM t'), 0);
    await a.commit();
    assert.equal(await scalar(b, 'SELECT count(*) FROM t'), 1);
  });

  test('foreign keys are enforced once the PRAGMA is on', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('PRAGMA foreign_keys = ON');
    await conn.executescript('CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(pid REFERENCES p(id));');
    const e = (await raises(() => conn.execute('INSERT INTO c VALUES (1)'), sqlite3.IntegrityError, 'FOREIGN KEY constraint failed')) as sqlite3.Error;
    assert.equal(e.sqlite_errorcode, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY);
  });
});

describe('ATTACH', () => {
  test('ATTACH another file, write through it, read it on its own', async () => {
    const main = freshPath();
    const other = freshPath();
    {
      await using conn = await sqlite3.connect(main);
      await conn.execute('ATTACH DATABASE ? AS other', [other]);
      assert.equal(conn.in_transaction, false);
      const dbs = (await all(conn, 'PRAGMA database_list')).map((r) => r[1]);
      assert.deepEqual(dbs, ['main', 'other']);
      await conn.execute('CREATE TABLE other.t(x)');
      await conn.execute('CREATE TABLE main.t(x)');
      await conn.execute('INSERT INTO other.t VALUES (?)', ['in other']);
      await conn.execute('INSERT INTO main.t VALUES (?)', ['in main']);
      await conn.commit();
      assert.deepEqual(await all(conn, 'SELECT m.x, o.x FROM main.t m, other.t o'), [['in main', 'in other']]);
      await conn.execute('DETACH DATABASE other');
      await raises(() => conn.execute('SELECT * FROM other.t'), sqlite3.OperationalError, 'no such table: other.t');
    }
    await using direct = await sqlite3.connect(other);
    assert.deepEqual(await all(direct, 'SELECT x FROM t'), [['in other']]);
  });

  test('a :memory: connection can ATTACH a file, which is created on disk', async () => {
    const other = freshPath();
    {
      await using conn = await sqlite3.connect(':memory:');
      await conn.execute('ATTACH DATABASE ? AS o', [other]);
      await conn.execute('CREATE TABLE o.t(y)');
      await conn.execute('INSERT INTO o.t VALUES (?)', ['from memory']);
      await conn.commit();
      await conn.execute('ATTACH DATABASE ? AS m2', [':memory:']);
      await conn.execute('CREATE TABLE m2.t(z)');
      assert.deepEqual(await all(conn, 'SELECT name FROM m2.sqlite_master'), [['t']]);
    }
    assert.ok(existsSync(other));
    await using direct = await sqlite3.connect(other);
    assert.deepEqual(await all(direct, 'SELECT y FROM t'), [['from memory']]);
  });

  test('a transaction spanning two attached files commits both', async () => {
    const main = freshPath();
    const other = freshPath();
    await using conn = await sqlite3.connect(main);
    await conn.execute('ATTACH DATABASE ? AS o', [other]);
    await conn.execute('CREATE TABLE main.a(x)');
    await conn.execute('CREATE TABLE o.b(x)');
    await conn.execute('INSERT INTO a VALUES (1)');
    await conn.execute('INSERT INTO b VALUES (2)');
    await conn.rollback();
    assert.deepEqual(await all(conn, 'SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)'), [[0, 0]]);
    await conn.execute('INSERT INTO a VALUES (1)');
    await conn.execute('INSERT INTO b VALUES (2)');
    await conn.commit();
    await using checkMain = await sqlite3.connect(main);
    await using checkOther = await sqlite3.connect(other);
    assert.deepEqual(await all(checkMain, 'SELECT x FROM a'), [[1]]);
    assert.deepEqual(await all(checkOther, 'SELECT x FROM b'), [[2]]);
  });
});

describe('temp tables', () => {
  test('private to the connection, gone after close, shadow main tables', async () => {
    const path = freshPath();
    {
      await using conn = await sqlite3.connect(path);
      await using other = await sqlite3.connect(path);
      await conn.execute('CREATE TABLE t(x)');
      await conn.execute("INSERT INTO t VALUES ('main')");
      await conn.commit();
      await conn.execute('CREATE TEMP TABLE tt(x)');
      assert.equal(conn.in_transaction, false);
      await conn.execute('INSERT INTO tt VALUES (1)');
      assert.equal(conn.in_transaction, true, 'DML on a temp table opens a transaction too');
      await conn.commit();
      assert.deepEqual(await all(conn, "SELECT name, type FROM sqlite_temp_master"), [['tt', 'table']]);
      await raises(() => other.execute('SELECT * FROM tt'), sqlite3.OperationalError, 'no such table: tt');
      // A temp table with the name of a main table shadows it.
      await conn.execute('CREATE TEMP TABLE t(x)');
      await conn.execute("INSERT INTO t VALUES ('temp')");
      await conn.commit();
      assert.deepEqual(await all(conn, 'SELECT x FROM t'), [['temp']]);
      assert.deepEqual(await all(conn, 'SELECT x FROM main.t'), [['main']]);
      assert.deepEqual(await all(other, 'SELECT x FROM t'), [['main']]);
    }
    await using reopened = await sqlite3.connect(path);
    await raises(() => reopened.execute('SELECT * FROM tt'), sqlite3.OperationalError, 'no such table: tt');
    assert.deepEqual(await all(reopened, 'SELECT x FROM t'), [['main']]);
  });

  test('a rolled-back temp table insert is undone', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TEMP TABLE tt(x)');
    await conn.execute('INSERT INTO tt VALUES (1)');
    await conn.rollback();
    assert.equal(await scalar(conn, 'SELECT count(*) FROM tt'), 0);
  });
});
