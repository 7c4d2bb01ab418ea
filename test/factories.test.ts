/**
 * Row factories, text factories, adapters and converters, organised like CPython's
 * Lib/test/test_sqlite3/test_factory.py and test_types.py. Expected behaviour is
 * that of Python 3.11's `sqlite3` module.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as sqlite3 from 'heliosdb-nano';
import type { Connection, Cursor } from 'heliosdb-nano';

async function open(options?: sqlite3.ConnectOptions): Promise<Connection> {
  return sqlite3.connect(':memory:', options);
}

async function one<R = unknown[]>(conn: Connection, sql: string, params?: sqlite3.BindParams): Promise<R> {
  const row = await (await conn.execute<R>(sql, params)).fetchone();
  assert.ok(row !== null, `no row for ${sql}`);
  return row;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

describe('row_factory = sqlite3.Row', () => {
  test('index by position, negative index and case-insensitive name', async () => {
    await using conn = await open();
    conn.row_factory = sqlite3.Row;
    const row = await one<sqlite3.Row>(conn, "SELECT 1 AS a, 'two' AS B, NULL AS c, x'00ff' AS d");
    assert.ok(row instanceof sqlite3.Row);
    assert.equal(row[0], 1);
    assert.equal(row[1], 'two');
    assert.equal(row[-1] instanceof Uint8Array, true);
    assert.deepEqual(row[-1], new Uint8Array([0, 0xff]));
    assert.equal(row[-4], 1);
    assert.equal(row['a'], 1);
    assert.equal(row['A'], 1);
    assert.equal(row['b'], 'two');
    assert.equal(row['B'], 'two');
    assert.equal(row.c, null);
    // Missing keys and positions: plain indexing gives undefined, get() throws like the module's IndexError.
    assert.equal(row[4], undefined);
    assert.equal(row['nope'], undefined);
    assert.throws(() => row.get(4), /Row index out of range/);
    assert.throws(() => row.get(-5), /Row index out of range/);
    assert.throws(() => row.get('nope'), /No item with that key/);
    assert.equal(row.get(-2), null);
    assert.equal(row.get('D') instanceof Uint8Array, true);
    assert.equal(row.get(0), 1);
    assert.equal('a' in row, true);
    assert.equal('zz' in row, false);
  });

  test('keys(), length, iteration, equals and toObject', async () => {
    await using conn = await open();
    conn.row_factory = sqlite3.Row;
    const row = await one<sqlite3.Row>(conn, 'SELECT 1 AS First, 2 AS second, 3 AS "Third Col"');
    assert.deepEqual(row.keys(), ['First', 'second', 'Third Col']);
    assert.equal(row.length, 3);
    assert.deepEqual([...row], [1, 2, 3]);
    assert.equal(row['third col'], 3);
    const same = await one<sqlite3.Row>(conn, 'SELECT 1 AS First, 2 AS second, 3 AS "Third Col"');
    assert.notEqual(row, same);
    assert.equal(row.equals(same), true);
    // Equality needs the same column names (case-sensitively) and values, as in the module.
    assert.equal(row.equals(await one<sqlite3.Row>(conn, 'SELECT 1 AS first, 2 AS second, 3 AS "Third Col"')), false);
    assert.equal(row.equals(await one<sqlite3.Row>(conn, 'SELECT 1 AS First, 2 AS second, 4 AS "Third Col"')), false);
    assert.equal(row.equals([1, 2, 3]), false);
    assert.deepEqual(row.toObject(), { First: 1, second: 2, 'Third Col': 3 });
    assert.equal(JSON.stringify(row), '{"First":1,"second":2,"Third Col":3}');
    // Rows are read-only.
    assert.throws(() => {
      'use strict';
      row['First'] = 9;
    }, TypeError);
    assert.equal(row[0], 1);
  });

  test('works for every fetch method and for iteration', async () => {
    await using conn = await open();
    conn.row_factory = sqlite3.Row;
    await conn.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)');
    await conn.executemany('INSERT INTO t(name) VALUES (?)', [['x'], ['y'], ['z']]);
    const cur = await conn.execute<sqlite3.Row>('SELECT id, name FROM t ORDER BY id');
    const first = await cur.fetchone();
    assert.equal(first?.['name'], 'x');
    const [second] = await cur.fetchmany(1);
    assert.equal(second['ID'], 2);
    const rest = await cur.fetchall();
    assert.deepEqual(rest.map((r) => r.toObject()), [{ id: 3, name: 'z' }]);
    const names: unknown[] = [];
    for await (const r of await conn.execute<sqlite3.Row>('SELECT name FROM t ORDER BY id DESC')) names.push(r[0]);
    assert.deepEqual(names, ['z', 'y', 'x']);
  });

  test('a Row subclass as row_factory', async () => {
    await using conn = await open();
    class MyRow extends sqlite3.Row {
      describe(): string {
        return this.keys().join('|');
      }
    }
    conn.row_factory = MyRow;
    const row = await one<MyRow>(conn, 'SELECT 1 AS a, 2 AS b');
    assert.ok(row instanceof MyRow);
    assert.equal(row.describe(), 'a|b');
    assert.equal(row['B'], 2);
  });
});

describe('custom row factories', () => {
  test('a function row_factory receives the cursor and the values', async () => {
    await using conn = await open();
    const seen: Cursor[] = [];
    conn.row_factory = (cursor, row) => {
      seen.push(cursor);
      return Object.fromEntries(row.map((v, i) => [cursor.description?.[i]?.[0] ?? String(i), v]));
    };
    const cur = await conn.execute('SELECT 1 AS a, ? AS b', ['x']);
    assert.deepEqual(await cur.fetchone(), { a: 1, b: 'x' });
    assert.equal(seen[0], cur);
    // A factory may return anything, even null-ish values.
    conn.row_factory = (_cursor, row) => row.length;
    assert.equal(await one<number>(conn, 'SELECT 1, 2, 3'), 3);
  });

  test("a cursor's row_factory overrides the connection's", async () => {
    await using conn = await open();
    conn.row_factory = (_c, row) => `conn:${row.join(',')}`;
    const cur = conn.cursor();
    assert.equal(cur.row_factory, conn.row_factory, 'a new cursor starts with the connection factory');
    cur.row_factory = (_c, row) => `cursor:${row.join(',')}`;
    await cur.execute('SELECT 1, 2');
    assert.equal(await cur.fetchone(), 'cursor:1,2');
    assert.equal(await one<string>(conn, 'SELECT 1, 2'), 'conn:1,2');
    // null on the cursor gives plain arrays whatever the connection says.
    cur.row_factory = null;
    await cur.execute('SELECT 1, 2');
    assert.deepEqual(await cur.fetchone(), [1, 2]);
    // Changing the connection's factory later does not change an existing cursor.
    const older = conn.cursor();
    conn.row_factory = sqlite3.Row;
    await older.execute('SELECT 3, 4');
    assert.equal(await older.fetchone(), 'conn:3,4');
  });

  test('sqlite3.object_factory gives plain objects', async () => {
    await using conn = await open();
    conn.row_factory = sqlite3.object_factory;
    await conn.execute('CREATE TABLE t(id INTEGER, label TEXT)');
    await conn.executemany('INSERT INTO t VALUES (?, ?)', [[1, 'one'], [2, 'two']]);
    const rows = await (await conn.execute('SELECT id, label FROM t ORDER BY id')).fetchall();
    assert.deepEqual(rows, [
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ]);
    assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype);
  });
});

describe('text_factory', () => {
  test('Uint8Array returns TEXT as UTF-8 bytes and leaves other types alone', async () => {
    await using conn = await open();
    conn.text_factory = Uint8Array;
    const row = await one(conn, "SELECT 'héllo', x'0102', 1, 2.5, NULL, ''");
    assert.deepEqual(row, [utf8.encode('héllo'), new Uint8Array([1, 2]), 1, 2.5, null, new Uint8Array(0)]);
    assert.ok(row[0] instanceof Uint8Array);
    // Back to String.
    conn.text_factory = String;
    assert.deepEqual(await one(conn, "SELECT 'héllo', x'0102'"), ['héllo', new Uint8Array([1, 2])]);
  });

  test('a custom function only sees TEXT values', async () => {
    await using conn = await open();
    const seen: Uint8Array[] = [];
    conn.text_factory = (bytes: Uint8Array) => {
      seen.push(bytes);
      return fromUtf8.decode(bytes).toUpperCase();
    };
    await conn.execute('CREATE TABLE t(a TEXT, b BLOB, c INTEGER, d REAL)');
    await conn.execute('INSERT INTO t VALUES (?, ?, ?, ?)', ['größe ✓', utf8.encode('blob'), 7, 1.5]);
    assert.deepEqual(await one(conn, 'SELECT a, b, c, d, NULL FROM t'), ['GRÖSSE ✓', utf8.encode('blob'), 7, 1.5, null]);
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0], utf8.encode('größe ✓'));
    // A factory that makes objects; applied per row through fetchall with many rows.
    conn.text_factory = (bytes: Uint8Array) => ({ length: bytes.length });
    const rows = await (await conn.execute("SELECT 'ab' || value FROM json_each('[1,2,3]')")).fetchall();
    assert.deepEqual(rows, [[{ length: 3 }], [{ length: 3 }], [{ length: 3 }]]);
    conn.text_factory = String;
    assert.deepEqual(await one(conn, 'SELECT a FROM t'), ['größe ✓']);
  });

  test('the factory in force when a query runs applies to its rows; a non-callable is refused', async () => {
    await using conn = await open();
    conn.text_factory = (b: Uint8Array) => `[${fromUtf8.decode(b)}]`;
    const cur = await conn.execute("SELECT 'x' UNION ALL SELECT 'y'");
    conn.text_factory = String;
    assert.deepEqual(await cur.fetchall(), [['[x]'], ['[y]']]);
    conn.text_factory = 42 as unknown as sqlite3.TextFactory;
    await assert.rejects(conn.execute("SELECT 'x'"), sqlite3.ProgrammingError);
  });
});

describe('adapters', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  class Point3 extends Point {}
  class Money {
    constructor(readonly cents: bigint) {}
  }

  test('register_adapter converts instances in sequences, objects and Maps', async () => {
    await using conn = await open();
    let calls = 0;
    sqlite3.register_adapter(Point, (p) => {
      calls++;
      return `${p.x};${p.y}`;
    });
    sqlite3.register_adapter(Money, (m) => m.cents);
    await conn.execute('CREATE TABLE t(p, m)');
    await conn.execute('INSERT INTO t VALUES (?, ?)', [new Point(1, 2), new Money(2n ** 62n)]);
    await conn.execute('INSERT INTO t VALUES (:p, :m)', { p: new Point(3, 4), m: new Money(5n) });
    await conn.execute('INSERT INTO t VALUES (:p, :m)', new Map<string, unknown>([['p', new Point3(5, 6)], ['m', null]]));
    await conn.executemany('INSERT INTO t VALUES (?, ?)', [[new Point(7, 8), 1], [new Point(9, 10), 2]]);
    const rows = await (await conn.execute('SELECT p, typeof(p), m, typeof(m) FROM t ORDER BY rowid')).fetchall();
    assert.deepEqual(rows, [
      ['1;2', 'text', 2n ** 62n, 'integer'],
      ['3;4', 'text', 5, 'integer'],
      ['5;6', 'text', null, 'null'],
      ['7;8', 'text', 1, 'integer'],
      ['9;10', 'text', 2, 'integer'],
    ]);
    assert.equal(calls, 5);
    // Adapted values work in queries too.
    assert.deepEqual(await one(conn, 'SELECT count(*) FROM t WHERE p = ?', [new Point(3, 4)]), [1]);
    assert.equal(sqlite3.adapters.has(Point), true);
  });

  test('an unadapted object is refused with ProgrammingError', async () => {
    await using conn = await open();
    class Unknown {}
    await assert.rejects(conn.execute('SELECT ?', [new Unknown()]), (e: unknown) => {
      assert.ok(e instanceof sqlite3.ProgrammingError);
      assert.equal(e.message, "Error binding parameter 1: type 'Unknown' is not supported");
      return true;
    });
  });

  test('the default Date adapter stores ISO 8601 text in UTC that SQLite date functions read', async () => {
    await using conn = await open();
    const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    const [text, type, julian] = await one(conn, 'SELECT ?, typeof(?), date(?)', [d, d, d]);
    assert.equal(text, '2024-01-02 03:04:05.678');
    assert.equal(type, 'text');
    assert.equal(julian, '2024-01-02');
  });
});

describe('converters', () => {
  const calls: Uint8Array[] = [];
  sqlite3.register_converter('MyType', (b) => {
    calls.push(b);
    return `conv:${fromUtf8.decode(b)}`;
  });
  sqlite3.register_converter('other', (b) => `other:${fromUtf8.decode(b)}`);

  test('PARSE_DECLTYPES uses the first word of the declared type, case-insensitively', async () => {
    await using conn = await open({ detect_types: sqlite3.PARSE_DECLTYPES });
    await conn.execute('CREATE TABLE c(x mytype, y MYTYPE(10), z, w MyType NOT NULL DEFAULT 0, v text)');
    await conn.execute("INSERT INTO c VALUES (1, 'a', 2.5, 3.25, 'plain')");
    await conn.execute("INSERT INTO c(x, y, z, v) VALUES (NULL, x'00ff', NULL, NULL)");
    calls.length = 0;
    const rows = await (await conn.execute('SELECT x, y, z, w, v FROM c ORDER BY rowid')).fetchall();
    assert.deepEqual(rows, [
      ['conv:1', 'conv:a', 2.5, 'conv:3.25', 'plain'],
      [null, `conv:${fromUtf8.decode(new Uint8Array([0, 0xff]))}`, null, 'conv:0', null],
    ]);
    // The converter receives the bytes of the value (numbers as their text), never NULL.
    assert.deepEqual(calls.map((b) => [...b]), [[0x31], [0x61], [...utf8.encode('3.25')], [0, 0xff], [0x30]]);
    assert.ok(calls.every((b) => b instanceof Uint8Array));
    // Expressions have no declared type: no conversion.
    assert.deepEqual(await one(conn, 'SELECT x + 0 FROM c WHERE rowid = 1'), [1]);
    // Without detect_types nothing is converted.
    await using plain = await open();
    await plain.execute('CREATE TABLE c(x mytype)');
    await plain.execute('INSERT INTO c VALUES (1)');
    assert.deepEqual(await one(plain, 'SELECT x FROM c'), [1]);
  });

  test('PARSE_COLNAMES uses "name [type]" and strips the bracket part from the description', async () => {
    await using conn = await open({ detect_types: sqlite3.PARSE_COLNAMES });
    await conn.execute('CREATE TABLE c(x mytype)');
    await conn.execute('INSERT INTO c VALUES (7), (NULL)');
    const cur = await conn.execute(
      'SELECT x AS "x [other]", x, 2.5 AS "z [MYTYPE]", 3 AS "w [unknown]", 4 AS "v [mytype] trailing" FROM c ORDER BY rowid',
    );
    assert.deepEqual(
      cur.description?.map((d) => d[0]),
      ['x', 'x', 'z', 'w', 'v'],
    );
    assert.deepEqual(cur.description?.[0], ['x', null, null, null, null, null, null]);
    assert.deepEqual(await cur.fetchall(), [
      ['other:7', 7, 'conv:2.5', 3, 'conv:4'],
      [null, null, 'conv:2.5', 3, 'conv:4'],
    ]);
  });

  test('with both flags the column name wins over the declared type', async () => {
    await using conn = await open({ detect_types: sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES });
    await conn.execute('CREATE TABLE c(x mytype)');
    await conn.execute('INSERT INTO c VALUES (5)');
    assert.deepEqual(await one(conn, 'SELECT x, x AS "y [other]", x AS "plain" FROM c'), ['conv:5', 'other:5', 'conv:5']);
  });

  test('converters combine with row factories; a converter may return anything', async () => {
    await using conn = await open({ detect_types: sqlite3.PARSE_DECLTYPES });
    sqlite3.register_converter('point', (b) => {
      const [x, y] = fromUtf8.decode(b).split(';').map(Number);
      return { x, y };
    });
    conn.row_factory = sqlite3.Row;
    await conn.execute('CREATE TABLE p(id INTEGER, pos point)');
    await conn.execute("INSERT INTO p VALUES (1, '3;4')");
    const row = await one<sqlite3.Row>(conn, 'SELECT id, pos FROM p');
    assert.deepEqual(row['POS'], { x: 3, y: 4 });
    assert.equal(row['id'], 1);
  });

  test('the default timestamp and date converters return Dates', async () => {
    await using conn = await open({ detect_types: sqlite3.PARSE_DECLTYPES });
    await conn.execute('CREATE TABLE e(at timestamp, day date)');
    const at = new Date(Date.UTC(2023, 11, 31, 23, 59, 58, 250));
    await conn.execute('INSERT INTO e VALUES (?, ?)', [at, '2024-02-29']);
    const [gotAt, gotDay] = await one(conn, 'SELECT at, day FROM e');
    assert.ok(gotAt instanceof Date && gotDay instanceof Date);
    assert.equal(gotAt.getTime(), at.getTime());
    assert.equal(gotDay.toISOString(), '2024-02-29T00:00:00.000Z');
  });
});
