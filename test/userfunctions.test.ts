/**
 * User-defined functions, aggregates, window functions and collations, organised
 * like CPython's Lib/test/test_sqlite3/test_userfunctions.py. Expected messages and
 * exception classes are those of Python 3.11's `sqlite3` module.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as sqlite3 from 'heliosdb-nano';
import type { Connection, SqlValue } from 'heliosdb-nano';
import { rejectsWith } from './helpers/assert-errors.js';

async function open(): Promise<Connection> {
  return sqlite3.connect(':memory:');
}

async function one(conn: Connection, sql: string, params?: readonly unknown[]): Promise<unknown[]> {
  const row = await (await conn.execute(sql, params)).fetchone();
  assert.ok(row !== null, `no row for ${sql}`);
  return row as unknown[];
}

async function all(conn: Connection, sql: string, params?: readonly unknown[]): Promise<unknown[][]> {
  return (await (await conn.execute(sql, params)).fetchall()) as unknown[][];
}


/** Captures console.error while `fn` runs. */
async function captureConsoleError(fn: () => Promise<void>): Promise<unknown[][]> {
  const calls: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    calls.push(args);
  };
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return calls;
}

const UNICODE = 'héllo wörld ✓ 日本語 😀';
const BIG = 2n ** 60n + 7n; // beyond 2^53: not exactly representable as a number

describe('create_function', () => {
  test('zero, one, N and -1 (variadic) arguments', async () => {
    await using conn = await open();
    await conn.create_function('answer', 0, () => 42);
    await conn.create_function('double', 1, (x) => (x as number) * 2);
    await conn.create_function('join3', 3, (a, b, c) => `${String(a)}-${String(b)}-${String(c)}`);
    await conn.create_function('nargs', -1, (...args) => args.length);
    await conn.create_function('concat', -1, (...args) => args.map(String).join(''));
    assert.deepEqual(await one(conn, 'SELECT answer(), double(21), join3(1, ?, 3)', ['b']), [42, 42, '1-b-3']);
    assert.deepEqual(await one(conn, 'SELECT nargs(), nargs(1), nargs(1, 2, 3, 4, 5)'), [0, 1, 5]);
    assert.deepEqual(await one(conn, "SELECT concat('a', 1, 'b')"), ['a1b']);
    // Calling with the wrong number of arguments is a prepare-time error.
    await rejectsWith(conn.execute('SELECT double(1, 2)'), sqlite3.OperationalError, 'wrong number of arguments to function double()');
    await rejectsWith(conn.execute('SELECT answer(1)'), sqlite3.OperationalError, 'wrong number of arguments to function answer()');
  });

  test('the same name with different argument counts are distinct functions', async () => {
    await using conn = await open();
    await conn.create_function('f', 1, () => 'one');
    await conn.create_function('f', 2, () => 'two');
    assert.deepEqual(await one(conn, 'SELECT f(1), f(1, 2)'), ['one', 'two']);
  });

  test('every value type goes in and comes back out unchanged', async () => {
    await using conn = await open();
    const seen: SqlValue[] = [];
    await conn.create_function('echo', 1, (x) => {
      seen.push(x);
      return x;
    });
    const blob = new Uint8Array([0, 1, 2, 254, 255]);
    const cases: Array<[unknown, SqlValue, string]> = [
      [null, null, 'null'],
      [7, 7, 'integer'],
      [-2147483649, -2147483649, 'integer'],
      [BIG, BIG, 'integer'],
      [-BIG, -BIG, 'integer'],
      [2n ** 63n - 1n, 2n ** 63n - 1n, 'integer'],
      [3.25, 3.25, 'real'],
      [-0.5, -0.5, 'real'],
      [UNICODE, UNICODE, 'text'],
      ['', '', 'text'],
      [blob, blob, 'blob'],
      [true, 1, 'integer'],
      [false, 0, 'integer'],
    ];
    for (const [input, expected, type] of cases) {
      seen.length = 0;
      const [value, typeName] = await one(conn, 'SELECT echo(?), typeof(echo(?))', [input, input]);
      assert.deepEqual(value, expected, `value of ${String(input)}`);
      assert.equal(typeName, type, `type of ${String(input)}`);
      assert.deepEqual(seen[0], expected, `argument seen for ${String(input)}`);
    }
    // Bigints arrive as bigint only when they are not exact numbers.
    seen.length = 0;
    await one(conn, 'SELECT echo(9007199254740991), echo(9007199254740993)');
    assert.equal(typeof seen[0], 'number');
    assert.equal(seen[1], 9007199254740993n);
  });

  test('results of each JS type map to the SQLite storage classes', async () => {
    await using conn = await open();
    const values: Record<string, unknown> = {
      nul: null,
      undef: undefined,
      int: 12,
      big: BIG,
      flt: 0.125,
      txt: UNICODE,
      blb: new Uint8Array([9, 8, 7]),
      yes: true,
      no: false,
      buf: new Uint16Array([1]).buffer,
    };
    for (const [name, v] of Object.entries(values)) await conn.create_function(name, 0, () => v);
    const row = await one(
      conn,
      'SELECT typeof(nul()), typeof(undef()), typeof(int()), typeof(big()), typeof(flt()), typeof(txt()), ' +
        'typeof(blb()), yes(), no(), typeof(buf()), big(), txt(), blb(), flt()',
    );
    assert.deepEqual(row, [
      'null', 'null', 'integer', 'integer', 'real', 'text', 'blob', 1, 0, 'blob', BIG, UNICODE, new Uint8Array([9, 8, 7]), 0.125,
    ]);
  });

  test('a function that throws raises OperationalError and the connection stays usable', async () => {
    await using conn = await open();
    await conn.create_function('boom', 0, () => {
      throw new Error('kaboom');
    });
    await conn.create_function('boom_on_3', 1, (x) => {
      if (x === 3) throw new RangeError('three');
      return x;
    });
    await rejectsWith(conn.execute('SELECT boom()'), sqlite3.OperationalError, 'user-defined function raised exception');
    // Also when it throws on a later row, while rows are being fetched.
    await conn.execute('CREATE TABLE t(x)');
    await conn.executemany('INSERT INTO t VALUES (?)', Array.from({ length: 600 }, (_, i) => [i + 1]));
    await conn.commit();
    await rejectsWith(
      conn.execute('SELECT boom_on_3(x) FROM t ORDER BY x'),
      sqlite3.OperationalError,
      'user-defined function raised exception',
    );
    const err = await rejectsWith(conn.execute('SELECT boom()'), sqlite3.DatabaseError, /raised exception/);
    assert.equal(err.name, 'OperationalError');
    // Still usable, also for the failing function's statement with other input.
    assert.deepEqual(await one(conn, 'SELECT count(*), boom_on_3(5) FROM t'), [600, 5]);
    await conn.execute('INSERT INTO t VALUES (0)');
    await conn.commit();
    assert.deepEqual(await one(conn, 'SELECT count(*) FROM t'), [601]);
  });

  test('returning an unsupported type is an error', async () => {
    await using conn = await open();
    await conn.create_function('obj', 0, () => ({ a: 1 }));
    await conn.create_function('fn', 0, () => () => 1);
    await conn.create_function('sym', 0, () => Symbol('s'));
    await conn.create_function('arr', 0, () => [1, 2]);
    for (const name of ['obj', 'fn', 'sym', 'arr']) {
      // Python: set_result fails, so the call counts as having raised.
      await rejectsWith(conn.execute(`SELECT ${name}()`), sqlite3.OperationalError, 'user-defined function raised exception');
    }
    // An integer too large for 64 bits: Python's OverflowError becomes SQLITE_TOOBIG.
    await conn.create_function('huge', 0, () => 2n ** 63n);
    await rejectsWith(conn.execute('SELECT huge()'), sqlite3.DataError, 'string or blob too big');
    assert.deepEqual(await one(conn, 'SELECT 1'), [1]);
  });

  test('deterministic: true allows the function in index expressions and generated columns', async () => {
    await using conn = await open();
    let calls = 0;
    const lower = (x: SqlValue): SqlValue => {
      calls++;
      return typeof x === 'string' ? x.toLowerCase() : x;
    };
    await conn.create_function('det_lower', 1, lower, { deterministic: true });
    await conn.create_function('nd_lower', 1, lower);
    await conn.execute('CREATE TABLE t(name TEXT)');
    await conn.execute('CREATE INDEX t_lower ON t(det_lower(name))');
    await rejectsWith(
      conn.execute('CREATE INDEX t_lower2 ON t(nd_lower(name))'),
      sqlite3.OperationalError,
      'non-deterministic functions prohibited in index expressions',
    );
    await rejectsWith(
      conn.execute('CREATE TABLE g(x, y AS (nd_lower(x)))'),
      sqlite3.OperationalError,
      'non-deterministic functions prohibited in generated columns',
    );
    await conn.execute('CREATE TABLE g(x, y AS (det_lower(x)))');
    await conn.execute("INSERT INTO g(x) VALUES ('ABC')");
    assert.deepEqual(await one(conn, 'SELECT y FROM g'), ['abc']);
    await conn.executemany('INSERT INTO t VALUES (?)', [['Alice'], ['BOB'], ['carol']]);
    calls = 0;
    // The index on the expression is used: the function is not evaluated per row.
    const plan = await conn.query_plan("SELECT name FROM t WHERE det_lower(name) = 'bob'");
    assert.ok(plan.some((p) => p.detail.includes('t_lower')), JSON.stringify(plan));
    assert.deepEqual(await all(conn, "SELECT name FROM t WHERE det_lower(name) = 'bob'"), [['BOB']]);
    // Deterministic with constant args is factored out of the loop: evaluated once, not per row.
    calls = 0;
    await all(conn, "SELECT det_lower('X') FROM t");
    assert.equal(calls, 1);
    calls = 0;
    await all(conn, "SELECT nd_lower('X') FROM t");
    assert.equal(calls, 3);
  });

  test('CHECK constraints accept both (SQLite only refuses non-deterministic functions in indexes and generated columns)', async () => {
    // Python 3.11's sqlite3 (SQLite 3.40) accepts this too.
    await using conn = await open();
    await conn.create_function('nd', 1, (x) => x);
    await conn.execute('CREATE TABLE c(x CHECK (nd(x) > 0))');
    await conn.execute('INSERT INTO c VALUES (1)');
    await rejectsWith(conn.execute('INSERT INTO c VALUES (-1)'), sqlite3.IntegrityError, 'CHECK constraint failed: nd(x) > 0');
  });

  test('replacing a function and removing it with null', async () => {
    await using conn = await open();
    await conn.create_function('f', 1, (x) => (x as number) * 2);
    assert.deepEqual(await one(conn, 'SELECT f(10)'), [20]);
    await conn.create_function('f', 1, (x) => (x as number) * 3);
    assert.deepEqual(await one(conn, 'SELECT f(10)'), [30]);
    // Names are case-insensitive in SQL.
    await conn.create_function('F', 1, (x) => (x as number) * 4);
    assert.deepEqual(await one(conn, 'SELECT f(10)'), [40]);
    await conn.create_function('f', 1, null);
    await rejectsWith(conn.execute('SELECT f(10)'), sqlite3.OperationalError, 'no such function: f');
    // Removing one arity leaves the others.
    await conn.create_function('g', 0, () => 'zero');
    await conn.create_function('g', 1, () => 'one');
    await conn.create_function('g', 0, null);
    assert.deepEqual(await one(conn, 'SELECT g(1)'), ['one']);
    await rejectsWith(conn.execute('SELECT g()'), sqlite3.OperationalError, 'wrong number of arguments to function g()');
  });

  test('argument checks', async () => {
    await using conn = await open();
    await assert.rejects(conn.create_function('f', -2, () => 1), sqlite3.ProgrammingError);
    await assert.rejects(conn.create_function('f', 128, () => 1), sqlite3.ProgrammingError);
    await assert.rejects(conn.create_function('f', 0, 42 as unknown as () => number), sqlite3.ProgrammingError);
    await conn.close();
    await rejectsWith(conn.create_function('f', 0, () => 1), sqlite3.ProgrammingError, 'Cannot operate on a closed database.');
  });
});

describe('create_aggregate', () => {
  class Sum {
    total = 0;
    step(x: SqlValue): void {
      if (typeof x === 'number') this.total += x;
    }
    finalize(): number {
      return this.total;
    }
  }

  test('a class with step and finalize', async () => {
    await using conn = await open();
    await conn.create_aggregate('mysum', 1, Sum);
    await conn.execute('CREATE TABLE t(g, x)');
    await conn.executemany('INSERT INTO t VALUES (?, ?)', [['a', 1], ['a', 2], ['b', 10], ['b', 20], ['b', 30], ['c', null]]);
    assert.deepEqual(await one(conn, 'SELECT mysum(x) FROM t'), [63]);
    assert.deepEqual(await one(conn, 'SELECT mysum(x), sum(x) FROM t'), [63, 63]);
  });

  test('one instance per group with GROUP BY', async () => {
    await using conn = await open();
    const instances: Collector[] = [];
    class Collector {
      items: SqlValue[] = [];
      constructor() {
        instances.push(this);
      }
      step(...args: SqlValue[]): void {
        this.items.push(args.join('+'));
      }
      finalize(): string {
        return this.items.join(',');
      }
    }
    await conn.create_aggregate('collect', -1, Collector);
    await conn.execute('CREATE TABLE t(g, x, y)');
    await conn.executemany('INSERT INTO t VALUES (?, ?, ?)', [
      ['a', 1, 'p'],
      ['b', 2, 'q'],
      ['a', 3, 'r'],
      ['c', 4, 's'],
      ['b', 5, 't'],
    ]);
    const rows = await all(conn, 'SELECT g, collect(x, y), collect(x) FROM t GROUP BY g ORDER BY g');
    assert.deepEqual(rows, [
      ['a', '1+p,3+r', '1,3'],
      ['b', '2+q,5+t', '2,5'],
      ['c', '4+s', '4'],
    ]);
    // Two aggregate calls per group, three groups.
    assert.equal(instances.length, 6);
  });

  test('an empty table gives NULL without calling finalize', async () => {
    await using conn = await open();
    let finalized = 0;
    class Answer {
      step(): void {}
      finalize(): number {
        finalized++;
        return 42;
      }
    }
    await conn.create_aggregate('answer', 1, Answer);
    await conn.execute('CREATE TABLE t(x)');
    assert.deepEqual(await one(conn, 'SELECT answer(x) FROM t'), [null]);
    assert.equal(finalized, 0);
    await conn.execute('INSERT INTO t VALUES (1)');
    assert.deepEqual(await one(conn, 'SELECT answer(x) FROM t'), [42]);
    assert.equal(finalized, 1);
  });

  test("errors in the constructor, step and finalize, and missing methods, give the module's messages", async () => {
    await using conn = await open();
    class BadInit {
      constructor() {
        throw new Error('init');
      }
      step(): void {}
      finalize(): number {
        return 1;
      }
    }
    class BadStep {
      step(): void {
        throw new Error('step');
      }
      finalize(): number {
        return 1;
      }
    }
    class BadFinalize {
      step(): void {}
      finalize(): number {
        throw new Error('finalize');
      }
    }
    class BadResult {
      step(): void {}
      finalize(): unknown {
        return { not: 'storable' };
      }
    }
    class NoStep {
      finalize(): number {
        return 1;
      }
    }
    class NoFinalize {
      step(): void {}
    }
    class StepTypeError {
      step(): void {
        throw new TypeError('a TypeError inside step is still "raised error"');
      }
      finalize(): number {
        return 1;
      }
    }
    await conn.create_aggregate('bad_init', 1, BadInit);
    await conn.create_aggregate('bad_step', 1, BadStep);
    await conn.create_aggregate('bad_finalize', 1, BadFinalize);
    await conn.create_aggregate('bad_result', 1, BadResult);
    await conn.create_aggregate('no_step', 1, NoStep as unknown as sqlite3.AggregateClass);
    await conn.create_aggregate('no_finalize', 1, NoFinalize as unknown as sqlite3.AggregateClass);
    await conn.create_aggregate('step_type_error', 1, StepTypeError);
    await conn.execute('CREATE TABLE t(x)');
    await conn.executemany('INSERT INTO t VALUES (?)', [[1], [2]]);
    const cases: Array<[string, string]> = [
      ['bad_init', "user-defined aggregate's '__init__' method raised error"],
      ['bad_step', "user-defined aggregate's 'step' method raised error"],
      ['bad_finalize', "user-defined aggregate's 'finalize' method raised error"],
      ['bad_result', "user-defined aggregate's 'finalize' method raised error"],
      ['no_step', "user-defined aggregate's 'step' method not defined"],
      ['no_finalize', "user-defined aggregate's 'finalize' method not defined"],
      ['step_type_error', "user-defined aggregate's 'step' method raised error"],
    ];
    for (const [name, message] of cases) {
      await rejectsWith(conn.execute(`SELECT ${name}(x) FROM t`), sqlite3.OperationalError, message);
    }
    assert.deepEqual(await one(conn, 'SELECT count(*) FROM t'), [2]);
  });

  test('replacing and removing an aggregate', async () => {
    await using conn = await open();
    class Count {
      n = 0;
      step(): void {
        this.n++;
      }
      finalize(): number {
        return this.n;
      }
    }
    class Ten extends Count {
      override finalize(): number {
        return this.n * 10;
      }
    }
    await conn.create_aggregate('cnt', 1, Count);
    assert.deepEqual(await one(conn, 'SELECT cnt(value) FROM json_each(?)', ['[1,2,3]']), [3]);
    await conn.create_aggregate('cnt', 1, Ten);
    assert.deepEqual(await one(conn, 'SELECT cnt(value) FROM json_each(?)', ['[1,2,3]']), [30]);
    await conn.create_aggregate('cnt', 1, null);
    await rejectsWith(conn.execute('SELECT cnt(1)'), sqlite3.OperationalError, 'no such function: cnt');
  });
});

describe('create_window_function', () => {
  class WindowSum {
    total = 0;
    step(x: SqlValue): void {
      this.total += x as number;
    }
    inverse(x: SqlValue): void {
      this.total -= x as number;
    }
    value(): number {
      return this.total;
    }
    finalize(): number {
      return this.total;
    }
  }

  const FRAMES = [
    'ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING',
    'ROWS BETWEEN 2 PRECEDING AND CURRENT ROW',
    'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW',
    'ROWS BETWEEN CURRENT ROW AND 3 FOLLOWING',
  ];

  test('step/inverse/value/finalize over sliding frames match the built-in sum()', async () => {
    await using conn = await open();
    const calls = { step: 0, inverse: 0, value: 0, finalize: 0 };
    class Counted extends WindowSum {
      override step(x: SqlValue): void {
        calls.step++;
        super.step(x);
      }
      override inverse(x: SqlValue): void {
        calls.inverse++;
        super.inverse(x);
      }
      override value(): number {
        calls.value++;
        return super.value();
      }
      override finalize(): number {
        calls.finalize++;
        return super.finalize();
      }
    }
    await conn.create_window_function('winsum', 1, Counted);
    await conn.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, g, x)');
    await conn.executemany(
      'INSERT INTO t(g, x) VALUES (?, ?)',
      Array.from({ length: 20 }, (_, i) => [i % 2 ? 'odd' : 'even', (i * 7) % 11]),
    );
    for (const frame of FRAMES) {
      const mine = await all(conn, `SELECT id, winsum(x) OVER (ORDER BY id ${frame}) FROM t ORDER BY id`);
      const builtin = await all(conn, `SELECT id, sum(x) OVER (ORDER BY id ${frame}) FROM t ORDER BY id`);
      assert.equal(mine.length, 20);
      assert.deepEqual(mine, builtin, frame);
      const parts = await all(conn, `SELECT id, winsum(x) OVER (PARTITION BY g ORDER BY id ${frame}) FROM t ORDER BY id`);
      const builtinParts = await all(conn, `SELECT id, sum(x) OVER (PARTITION BY g ORDER BY id ${frame}) FROM t ORDER BY id`);
      assert.deepEqual(parts, builtinParts, `partitioned ${frame}`);
    }
    assert.ok(calls.step > 0 && calls.inverse > 0 && calls.value > 0 && calls.finalize > 0, JSON.stringify(calls));
    // Also usable as an ordinary aggregate.
    const [[total]] = await all(conn, 'SELECT winsum(x) FROM t');
    const [[expected]] = await all(conn, 'SELECT sum(x) FROM t');
    assert.equal(total, expected);
  });

  test("errors in each method give the module's messages", async () => {
    await using conn = await open();
    const failing = (method: 'step' | 'inverse' | 'value' | 'finalize'): sqlite3.WindowClass =>
      class extends WindowSum {
        override step(x: SqlValue): void {
          if (method === 'step') throw new Error(method);
          super.step(x);
        }
        override inverse(x: SqlValue): void {
          if (method === 'inverse') throw new Error(method);
          super.inverse(x);
        }
        override value(): number {
          if (method === 'value') throw new Error(method);
          return super.value();
        }
        override finalize(): number {
          if (method === 'finalize') throw new Error(method);
          return super.finalize();
        }
      };
    await conn.execute('CREATE TABLE t(x)');
    await conn.executemany('INSERT INTO t VALUES (?)', [[1], [2], [3], [4]]);
    for (const method of ['step', 'inverse', 'value'] as const) {
      await conn.create_window_function(`bad_${method}`, 1, failing(method));
      await rejectsWith(
        conn.execute(`SELECT bad_${method}(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t`),
        sqlite3.OperationalError,
        `user-defined aggregate's '${method}' method raised error`,
      );
    }
    // finalize runs when the function is used as a plain aggregate.
    await conn.create_window_function('bad_finalize', 1, failing('finalize'));
    await rejectsWith(conn.execute('SELECT bad_finalize(x) FROM t'), sqlite3.OperationalError, "user-defined aggregate's 'finalize' method raised error");
    // A class without inverse fails when the frame slides; one without value, when a row is output.
    class NoValue {
      step(): void {}
      inverse(): void {}
      finalize(): number {
        return 0;
      }
    }
    await conn.create_window_function('no_value', 1, NoValue as unknown as sqlite3.WindowClass);
    await rejectsWith(
      conn.execute('SELECT no_value(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t'),
      sqlite3.OperationalError,
      "user-defined aggregate's 'value' method not defined",
    );
    class NoInverse {
      step(): void {}
      value(): number {
        return 0;
      }
      finalize(): number {
        return 0;
      }
    }
    await conn.create_window_function('no_inverse', 1, NoInverse as unknown as sqlite3.WindowClass);
    await rejectsWith(
      conn.execute('SELECT no_inverse(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t'),
      sqlite3.OperationalError,
      "user-defined aggregate's 'inverse' method not defined",
    );
    assert.deepEqual(await one(conn, 'SELECT count(*) FROM t'), [4]);
  });

  test('removing a window function with null', async () => {
    await using conn = await open();
    await conn.create_window_function('ws', 1, WindowSum);
    assert.deepEqual(await one(conn, 'SELECT ws(x) OVER () FROM (SELECT 5 AS x)'), [5]);
    await conn.create_window_function('ws', 1, null);
    await rejectsWith(conn.execute('SELECT ws(x) OVER () FROM (SELECT 5 AS x)'), sqlite3.OperationalError, 'no such function: ws');
  });
});

describe('create_collation', () => {
  const reverse = (a: string, b: string): number => (a < b ? 1 : a > b ? -1 : 0);

  test('a reverse collation orders ORDER BY backwards', async () => {
    await using conn = await open();
    await conn.create_collation('reverse', reverse);
    await conn.execute('CREATE TABLE t(s TEXT)');
    await conn.executemany('INSERT INTO t VALUES (?)', [['b'], ['é'], ['a'], ['c'], ['B']]);
    assert.deepEqual(await all(conn, 'SELECT s FROM t ORDER BY s COLLATE reverse'), [['é'], ['c'], ['b'], ['a'], ['B']]);
    assert.deepEqual(await all(conn, 'SELECT s FROM t ORDER BY s'), [['B'], ['a'], ['b'], ['c'], ['é']]);
    // Case-insensitive name; also used for comparisons.
    assert.deepEqual(await one(conn, "SELECT 'a' < 'b' COLLATE REVERSE, 'x' = 'x' COLLATE Reverse"), [0, 1]);
    // A collation that treats everything as equal makes DISTINCT collapse.
    await conn.create_collation('same', () => 0);
    assert.deepEqual(await one(conn, 'SELECT count(DISTINCT s COLLATE same) FROM t'), [1]);
  });

  test('removing a collation with null', async () => {
    await using conn = await open();
    await conn.create_collation('rev', reverse);
    assert.deepEqual(await all(conn, "SELECT x FROM (SELECT 'a' AS x UNION ALL SELECT 'b') ORDER BY x COLLATE rev"), [['b'], ['a']]);
    await conn.create_collation('rev', null);
    await rejectsWith(
      conn.execute("SELECT x FROM (SELECT 'a' AS x UNION ALL SELECT 'b') ORDER BY x COLLATE rev"),
      sqlite3.OperationalError,
      'no such collation sequence: rev',
    );
  });

  test('a collation that throws does not crash and the connection stays usable', async () => {
    await using conn = await open();
    let calls = 0;
    await conn.create_collation('boom', () => {
      calls++;
      throw new Error('collation failed');
    });
    const rows = await all(conn, "SELECT x FROM (SELECT 'b' AS x UNION ALL SELECT 'a' UNION ALL SELECT 'c') ORDER BY x COLLATE boom");
    assert.equal(calls > 0, true);
    assert.deepEqual(rows.map((r) => r[0]).sort(), ['a', 'b', 'c']);
    assert.deepEqual(await one(conn, "SELECT 'a' < 'b'"), [1]);
  });
});

describe('enable_callback_tracebacks', () => {
  test('prints callback exceptions to the console only when enabled', async () => {
    await using conn = await open();
    const error = new Error('traceback me');
    await conn.create_function('boom', 0, () => {
      throw error;
    });
    await conn.create_collation('badcoll', () => {
      throw error;
    });
    try {
      sqlite3.enable_callback_tracebacks(true);
      const on = await captureConsoleError(async () => {
        await assert.rejects(conn.execute('SELECT boom()'), sqlite3.OperationalError);
        await all(conn, "SELECT x FROM (SELECT 'b' AS x UNION ALL SELECT 'a') ORDER BY x COLLATE badcoll");
      });
      assert.ok(on.length >= 2, `console.error calls: ${on.length}`);
      assert.ok(on.every((args) => args.includes(error)), 'the thrown error is printed');
      sqlite3.enable_callback_tracebacks(false);
      const off = await captureConsoleError(async () => {
        await assert.rejects(conn.execute('SELECT boom()'), sqlite3.OperationalError);
      });
      assert.equal(off.length, 0);
    } finally {
      sqlite3.enable_callback_tracebacks(false);
    }
  });
});
