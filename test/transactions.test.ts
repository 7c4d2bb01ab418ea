/**
 * Transaction control, organised like CPython's Lib/test/test_sqlite3/test_transactions.py:
 * the module's implicit-transaction rules under each isolation_level, the
 * `autocommit` attribute (Python 3.12 semantics), close() without commit,
 * savepoints, `conn.transaction()`, and two connections on one file (visibility,
 * waiting for a lock, 'database is locked' when the timeout runs out).
 * Expected behaviour was checked against Python's `sqlite3` module.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';
import { raises } from './helpers/assert-errors.js';

// ---------------------------------------------------------------------------
// Helpers

let dir = '';
let fileCounter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heliosdb-txn-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function freshPath(): string {
  return join(dir, `txn-${++fileCounter}.sqlite`);
}



async function scalar(conn: sqlite3.Connection, sql: string, params?: sqlite3.BindParams): Promise<unknown> {
  const row = (await (await conn.execute(sql, params)).fetchone()) as unknown[] | null;
  return row === null ? undefined : row[0];
}

async function count(conn: sqlite3.Connection, table = 't'): Promise<unknown> {
  return scalar(conn, `SELECT count(*) FROM ${table}`);
}

/** A file database with an empty committed table t(x). */
async function fileWithTable(): Promise<string> {
  const path = freshPath();
  await using conn = await sqlite3.connect(path);
  await conn.execute('CREATE TABLE t(x)');
  await conn.commit();
  return path;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Records the statements a connection runs (SQLite's trace). */
async function traced(conn: sqlite3.Connection): Promise<string[]> {
  const log: string[] = [];
  await conn.set_trace_callback((s) => log.push(s));
  return log;
}

// ---------------------------------------------------------------------------
// Legacy transaction control (isolation_level)

describe('isolation_level (legacy transaction control)', () => {
  test('defaults: isolation_level "", autocommit LEGACY_TRANSACTION_CONTROL, no transaction', async () => {
    await using conn = await sqlite3.connect(':memory:');
    assert.equal(conn.isolation_level, '');
    assert.equal(conn.autocommit, sqlite3.LEGACY_TRANSACTION_CONTROL);
    assert.equal(conn.in_transaction, false);
  });

  test('DML opens a transaction; SELECT and DDL do not', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    assert.equal(conn.in_transaction, false, 'DDL');
    await conn.execute('SELECT * FROM t');
    assert.equal(conn.in_transaction, false, 'SELECT');
    for (const dml of [
      'INSERT INTO t VALUES (1)',
      'UPDATE t SET x = 2',
      'DELETE FROM t WHERE x = 5',
      'REPLACE INTO t VALUES (3)',
      '/* leading comment */ INSERT INTO t VALUES (4)',
      '  -- line comment\n  insert into t values (5)',
    ]) {
      await conn.execute(dml);
      assert.equal(conn.in_transaction, true, dml);
      await conn.commit();
      assert.equal(conn.in_transaction, false);
    }
    // The module's rule is textual: WITH … INSERT is not "DML" and opens nothing.
    await conn.execute('WITH v(a) AS (SELECT 9) INSERT INTO t SELECT a FROM v');
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(conn), 5);
  });

  test('DDL inside an open transaction is part of it (rolled back with it)', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    await conn.execute('INSERT INTO t VALUES (1)');
    await conn.execute('CREATE TABLE z(y)');
    assert.equal(conn.in_transaction, true);
    await conn.rollback();
    assert.deepEqual(await (await conn.execute("SELECT name FROM sqlite_master ORDER BY name")).fetchall(), [['t']]);
  });

  test('the implicit BEGIN matches isolation_level (seen in the trace, as in Python)', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    const log = await traced(conn);
    const expected: Array<[sqlite3.IsolationLevel, string]> = [
      ['', 'BEGIN '],
      ['DEFERRED', 'BEGIN DEFERRED'],
      ['IMMEDIATE', 'BEGIN IMMEDIATE'],
      ['EXCLUSIVE', 'BEGIN EXCLUSIVE'],
    ];
    for (const [level, begin] of expected) {
      conn.isolation_level = level;
      assert.equal(conn.isolation_level, level);
      log.length = 0;
      await conn.execute('INSERT INTO t VALUES (1)');
      assert.equal(conn.in_transaction, true);
      await conn.commit();
      assert.deepEqual(log, [begin, 'INSERT INTO t VALUES (1)', 'COMMIT']);
    }
    await conn.set_trace_callback(null);
  });

  test('isolation_level is case-insensitive and stored upper-case; bad values are refused', async () => {
    await using conn = await sqlite3.connect(':memory:', { isolation_level: 'exclusive' });
    assert.equal(conn.isolation_level, 'EXCLUSIVE');
    conn.isolation_level = 'immediate' as sqlite3.IsolationLevel;
    assert.equal(conn.isolation_level, 'IMMEDIATE');
    assert.throws(
      () => {
        conn.isolation_level = 'SERIALIZABLE' as sqlite3.IsolationLevel;
      },
      (e) => e instanceof sqlite3.ProgrammingError,
    );
    assert.equal(conn.isolation_level, 'IMMEDIATE');
  });

  test('isolation_level null: autocommit, no implicit transactions; explicit BEGIN works', async () => {
    await using conn = await sqlite3.connect(':memory:', { isolation_level: null });
    assert.equal(conn.isolation_level, null);
    await conn.execute('CREATE TABLE t(x)');
    await conn.execute('INSERT INTO t VALUES (1)');
    assert.equal(conn.in_transaction, false);
    await conn.rollback(); // nothing to roll back
    assert.equal(await count(conn), 1);
    await conn.execute('BEGIN');
    assert.equal(conn.in_transaction, true);
    await conn.execute('INSERT INTO t VALUES (2)');
    await conn.rollback();
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(conn), 1);
  });

  test('commit makes changes visible to other connections; rollback discards them', async () => {
    const path = await fileWithTable();
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute('INSERT INTO t VALUES (1)');
    assert.equal(await count(b), 0);
    await a.commit();
    assert.equal(a.in_transaction, false);
    assert.equal(await count(b), 1);
    await a.execute('INSERT INTO t VALUES (2)');
    assert.equal(await count(a), 2);
    await a.rollback();
    assert.equal(a.in_transaction, false);
    assert.equal(await count(a), 1);
    assert.equal(await count(b), 1);
    // commit and rollback with nothing open are no-ops.
    await a.commit();
    await a.rollback();
    assert.equal(a.in_transaction, false);
  });

  test('setting isolation_level to null commits the open transaction', async () => {
    const path = await fileWithTable();
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute('INSERT INTO t VALUES (1)');
    assert.equal(a.in_transaction, true);
    a.isolation_level = null;
    assert.equal(a.isolation_level, null);
    // The commit runs before the connection's next call (the setter cannot await).
    await a.execute('SELECT 1');
    assert.equal(a.in_transaction, false);
    assert.equal(await count(b), 1);
    // And from now on, no implicit transactions.
    await a.execute('INSERT INTO t VALUES (2)');
    assert.equal(a.in_transaction, false);
    assert.equal(await count(b), 2);
  });

  test('setting isolation_level to another level keeps the open transaction', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    await conn.execute('INSERT INTO t VALUES (1)');
    conn.isolation_level = 'IMMEDIATE';
    await conn.execute('SELECT 1');
    assert.equal(conn.in_transaction, true);
    await conn.rollback();
    assert.equal(await count(conn), 0);
  });

  test('executescript commits a pending transaction first, then runs the script as written', async () => {
    const path = await fileWithTable();
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute('INSERT INTO t VALUES (1)');
    assert.equal(a.in_transaction, true);
    await a.executescript('SELECT 1;');
    assert.equal(a.in_transaction, false);
    assert.equal(await count(b), 1);
    // No implicit transaction inside the script: its DML autocommits…
    await a.executescript('INSERT INTO t VALUES (2); INSERT INTO t VALUES (3);');
    assert.equal(a.in_transaction, false);
    assert.equal(await count(b), 3);
    // …and its own BEGIN stays open.
    await a.executescript('BEGIN; INSERT INTO t VALUES (4);');
    assert.equal(a.in_transaction, true);
    assert.equal(await count(b), 3);
    await a.rollback();
    assert.equal(await count(a), 3);
  });

  test('a failing script stops at the failing statement; earlier statements stay', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE)');
    await raises(
      () => conn.executescript('INSERT INTO u VALUES (1); INSERT INTO u VALUES (1); INSERT INTO u VALUES (2);'),
      sqlite3.IntegrityError,
      'UNIQUE constraint failed: u.x',
    );
    assert.deepEqual(await (await conn.execute('SELECT x FROM u')).fetchall(), [[1]]);
    assert.equal(conn.in_transaction, false);
  });

  test('a failed DML statement still opened its implicit transaction (in_transaction says so)', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE)');
    await conn.execute('INSERT INTO u VALUES (1)');
    await conn.commit();
    assert.equal(conn.in_transaction, false);
    await raises(() => conn.execute('INSERT INTO u VALUES (1)'), sqlite3.IntegrityError);
    assert.equal(conn.in_transaction, true);
    await conn.rollback();
    assert.equal(conn.in_transaction, false);
  });

  test('total_changes counts every changed row since the connection opened', async () => {
    await using conn = await sqlite3.connect(':memory:');
    assert.equal(conn.total_changes, 0);
    await conn.execute('CREATE TABLE t(x)');
    assert.equal(conn.total_changes, 0);
    await conn.execute('INSERT INTO t VALUES (1), (2), (3)');
    assert.equal(conn.total_changes, 3);
    await conn.execute('UPDATE t SET x = x * 10 WHERE x > 1');
    assert.equal(conn.total_changes, 5);
    await conn.executemany('INSERT INTO t VALUES (?)', [[7], [8]]);
    assert.equal(conn.total_changes, 7);
    await conn.rollback(); // rolled-back changes still counted, as in SQLite
    assert.equal(conn.total_changes, 7);
    await conn.executescript('INSERT INTO t VALUES (1); DELETE FROM t;');
    assert.equal(conn.total_changes, 9);
  });
});

// ---------------------------------------------------------------------------
// autocommit (Python 3.12 semantics)

describe('autocommit attribute', () => {
  test('autocommit=false: a transaction is always open; commit and rollback open the next one', async () => {
    const path = await fileWithTable();
    await using other = await sqlite3.connect(path);
    await using conn = await sqlite3.connect(path, { autocommit: false });
    assert.equal(conn.autocommit, false);
    assert.equal(conn.in_transaction, true);
    await conn.execute('INSERT INTO t VALUES (1)');
    await conn.commit();
    assert.equal(conn.in_transaction, true, 'commit reopens');
    assert.equal(await count(other), 1);
    await conn.execute('INSERT INTO t VALUES (2)');
    await conn.rollback();
    assert.equal(conn.in_transaction, true, 'rollback reopens');
    assert.equal(await count(conn), 1);
    // SELECT and DDL run inside the transaction too.
    await conn.execute('CREATE TABLE z(y)');
    await conn.rollback();
    assert.equal(await scalar(conn, "SELECT count(*) FROM sqlite_master WHERE name = 'z'"), 0);
  });

  test('autocommit=false ignores isolation_level for implicit BEGINs', async () => {
    await using conn = await sqlite3.connect(':memory:', { autocommit: false, isolation_level: null });
    assert.equal(conn.in_transaction, true);
    await conn.execute('CREATE TABLE t(x)');
    await conn.execute('INSERT INTO t VALUES (1)');
    await conn.rollback();
    assert.equal(await scalar(conn, "SELECT count(*) FROM sqlite_master WHERE name = 't'"), 0);
  });

  test('autocommit=false: close() rolls back', async () => {
    const path = await fileWithTable();
    {
      const conn = await sqlite3.connect(path, { autocommit: false });
      await conn.execute('INSERT INTO t VALUES (1)');
      await conn.close();
    }
    await using check = await sqlite3.connect(path);
    assert.equal(await count(check), 0);
  });

  test('autocommit=true: SQLite autocommit; commit and rollback do nothing', async () => {
    const path = await fileWithTable();
    await using other = await sqlite3.connect(path);
    await using conn = await sqlite3.connect(path, { autocommit: true, isolation_level: 'IMMEDIATE' });
    assert.equal(conn.autocommit, true);
    assert.equal(conn.in_transaction, false);
    await conn.execute('INSERT INTO t VALUES (1)');
    assert.equal(conn.in_transaction, false, 'isolation_level is ignored');
    assert.equal(await count(other), 1);
    // An explicit transaction is not ended by commit() or rollback()…
    await conn.execute('BEGIN');
    await conn.execute('INSERT INTO t VALUES (2)');
    await conn.commit();
    assert.equal(conn.in_transaction, true);
    await conn.rollback();
    assert.equal(conn.in_transaction, true);
    assert.equal(await count(other), 1);
    // …only by SQL.
    await conn.execute('COMMIT');
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(other), 2);
  });

  test('changing autocommit: to true commits, to false opens, to LEGACY restores isolation_level rules', async () => {
    const path = await fileWithTable();
    await using other = await sqlite3.connect(path);
    await using conn = await sqlite3.connect(path);
    await conn.execute('INSERT INTO t VALUES (1)');
    assert.equal(conn.in_transaction, true);
    conn.autocommit = true;
    await conn.execute('SELECT 1');
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(other), 1);

    conn.autocommit = false;
    await conn.execute('SELECT 1');
    assert.equal(conn.in_transaction, true);
    await conn.execute('INSERT INTO t VALUES (2)');
    assert.equal(await count(other), 1);
    await conn.commit();
    assert.equal(await count(other), 2);
    assert.equal(conn.in_transaction, true);

    conn.autocommit = sqlite3.LEGACY_TRANSACTION_CONTROL;
    assert.equal(conn.autocommit, sqlite3.LEGACY_TRANSACTION_CONTROL);
    await conn.rollback();
    assert.equal(conn.in_transaction, false, 'legacy rollback does not reopen');
    await conn.execute('INSERT INTO t VALUES (3)');
    assert.equal(conn.in_transaction, true);
    await conn.commit();
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(other), 3);

    assert.throws(
      () => {
        conn.autocommit = 1 as sqlite3.AutocommitMode;
      },
      (e) => e instanceof sqlite3.ProgrammingError && e.message === 'autocommit must be True, False, or sqlite3.LEGACY_TRANSACTION_CONTROL',
    );
  });
});

// ---------------------------------------------------------------------------
// close(), savepoints, conn.transaction()

describe('close without commit', () => {
  test('uncommitted changes are lost (legacy control)', async () => {
    const path = await fileWithTable();
    {
      const conn = await sqlite3.connect(path);
      await conn.execute('INSERT INTO t VALUES (1)');
      await conn.commit();
      await conn.execute('INSERT INTO t VALUES (2)');
      await conn.execute('CREATE TABLE never(x)');
      assert.equal(conn.in_transaction, true);
      await conn.close();
    }
    await using check = await sqlite3.connect(path);
    assert.deepEqual(await (await check.execute('SELECT x FROM t')).fetchall(), [[1]]);
    assert.equal(await scalar(check, "SELECT count(*) FROM sqlite_master WHERE name = 'never'"), 0);
  });

  test('await using without commit loses changes too', async () => {
    const path = await fileWithTable();
    {
      await using conn = await sqlite3.connect(path);
      await conn.execute('INSERT INTO t VALUES (1)');
    }
    await using check = await sqlite3.connect(path);
    assert.equal(await count(check), 0);
  });
});

describe('savepoints', () => {
  test('SAVEPOINT, ROLLBACK TO and RELEASE through execute', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    // Outside a transaction a savepoint starts one.
    await conn.execute('SAVEPOINT a');
    assert.equal(conn.in_transaction, true);
    await conn.execute('INSERT INTO t VALUES (1)');
    await conn.execute('SAVEPOINT b');
    await conn.execute('INSERT INTO t VALUES (2)');
    await conn.execute('ROLLBACK TO b');
    assert.equal(await count(conn), 1);
    await conn.execute('RELEASE b');
    assert.equal(conn.in_transaction, true);
    await conn.execute('ROLLBACK TO a');
    assert.equal(conn.in_transaction, true);
    assert.equal(await count(conn), 0);
    await conn.execute('INSERT INTO t VALUES (3)');
    await conn.execute('RELEASE a');
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(conn), 1);
  });

  test('savepoints inside an implicit transaction; commit commits everything released', async () => {
    const path = await fileWithTable();
    await using conn = await sqlite3.connect(path);
    await using other = await sqlite3.connect(path);
    await conn.execute('INSERT INTO t VALUES (1)');
    await conn.execute('SAVEPOINT s');
    await conn.execute('INSERT INTO t VALUES (2)');
    await conn.execute('ROLLBACK TO s');
    await conn.execute('INSERT INTO t VALUES (3)');
    await conn.execute('RELEASE s');
    assert.equal(conn.in_transaction, true);
    await conn.commit();
    assert.deepEqual(await (await other.execute('SELECT x FROM t ORDER BY x')).fetchall(), [[1], [3]]);
  });

  test('errors: unknown savepoint', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await raises(() => conn.execute('RELEASE nope'), sqlite3.OperationalError, 'no such savepoint: nope');
    await raises(() => conn.execute('ROLLBACK TO nope'), sqlite3.OperationalError, 'no such savepoint: nope');
  });
});

describe('conn.transaction()', () => {
  test('commits when fn resolves and returns its value', async () => {
    const path = await fileWithTable();
    await using conn = await sqlite3.connect(path);
    await using other = await sqlite3.connect(path);
    const r = await conn.transaction(async (c) => {
      assert.equal(c, conn);
      assert.equal(c.in_transaction, true);
      await c.execute('INSERT INTO t VALUES (1)');
      await c.execute('INSERT INTO t VALUES (2)');
      assert.equal(await count(other), 0);
      return 'done';
    });
    assert.equal(r, 'done');
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(other), 2);
  });

  test('rolls back and rethrows the same error when fn throws', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    const boom = new Error('boom');
    await assert.rejects(
      conn.transaction(async (c) => {
        await c.execute('INSERT INTO t VALUES (1)');
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(conn), 0);
  });

  test('a failing statement inside fn rolls back the whole transaction', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE u(x UNIQUE)');
    await raises(
      () =>
        conn.transaction(async (c) => {
          await c.execute('INSERT INTO u VALUES (1)');
          await c.execute('INSERT INTO u VALUES (1)');
        }),
      sqlite3.IntegrityError,
    );
    assert.equal(conn.in_transaction, false);
    assert.equal(await count(conn, 'u'), 0);
  });

  test('nests with savepoints: an inner failure undoes only the inner work', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    await conn.transaction(async (c) => {
      await c.execute('INSERT INTO t VALUES (1)');
      await assert.rejects(
        c.transaction(async (inner) => {
          await inner.execute('INSERT INTO t VALUES (2)');
          throw new Error('inner');
        }),
        /inner/,
      );
      assert.equal(c.in_transaction, true, 'the outer transaction survives');
      await c.transaction(async (inner) => {
        await inner.execute('INSERT INTO t VALUES (3)');
      });
      assert.equal(c.in_transaction, true);
    });
    assert.equal(conn.in_transaction, false);
    assert.deepEqual(await (await conn.execute('SELECT x FROM t ORDER BY x')).fetchall(), [[1], [3]]);
  });

  test('an outer failure undoes committed inner savepoints too', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    await assert.rejects(
      conn.transaction(async (c) => {
        await c.transaction(async (inner) => {
          await inner.execute('INSERT INTO t VALUES (1)');
        });
        throw new Error('outer');
      }),
      /outer/,
    );
    assert.equal(await count(conn), 0);
  });

  test('joins an implicit transaction already open as a savepoint', async () => {
    await using conn = await sqlite3.connect(':memory:');
    await conn.execute('CREATE TABLE t(x)');
    await conn.execute('INSERT INTO t VALUES (1)');
    await conn.transaction(async (c) => {
      await c.execute('INSERT INTO t VALUES (2)');
    });
    assert.equal(conn.in_transaction, true, 'the outer implicit transaction is still open');
    await conn.rollback();
    assert.equal(await count(conn), 0);
  });

  test('uses isolation_level for its BEGIN', async () => {
    await using conn = await sqlite3.connect(':memory:', { isolation_level: 'IMMEDIATE' });
    await conn.execute('CREATE TABLE t(x)');
    const log = await traced(conn);
    await conn.transaction(async (c) => {
      await c.execute('INSERT INTO t VALUES (1)');
    });
    await conn.set_trace_callback(null);
    assert.deepEqual(log, ['BEGIN IMMEDIATE', 'INSERT INTO t VALUES (1)', 'COMMIT']);
  });
});

// ---------------------------------------------------------------------------
// Two connections on one file

describe('two connections on the same file', () => {
  test('a reader does not see uncommitted writes', async () => {
    const path = await fileWithTable();
    await using writer = await sqlite3.connect(path);
    await using reader = await sqlite3.connect(path);
    await writer.execute('INSERT INTO t VALUES (1)');
    await writer.execute('CREATE TABLE extra(y)');
    assert.equal(await count(writer), 1);
    assert.equal(await count(reader), 0);
    await raises(() => reader.execute('SELECT * FROM extra'), sqlite3.OperationalError, 'no such table: extra');
    await writer.commit();
    assert.equal(await count(reader), 1);
    assert.equal(await count(reader, 'extra'), 0);
  });

  test('two deferred write transactions run at once and both commit (MVCC)', async () => {
    const path = await fileWithTable();
    await using first = await sqlite3.connect(path);
    await using second = await sqlite3.connect(path, { timeout: 5 });
    await first.execute('INSERT INTO t VALUES (1)');
    const cur = await second.execute('INSERT INTO t VALUES (2)');
    assert.equal(cur.rowcount, 1);
    assert.equal(first.in_transaction, true);
    assert.equal(second.in_transaction, true);
    // Each sees only its own write until it commits.
    assert.deepEqual(await (await first.execute('SELECT x FROM t')).fetchall(), [[1]]);
    assert.deepEqual(await (await second.execute('SELECT x FROM t')).fetchall(), [[2]]);
    await second.commit();
    await first.commit();
    assert.deepEqual(await (await first.execute('SELECT x FROM t ORDER BY x')).fetchall(), [[1], [2]]);
  });

  test('a second IMMEDIATE writer waits for the first to commit, then succeeds', async () => {
    const path = await fileWithTable();
    await using first = await sqlite3.connect(path, { isolation_level: 'IMMEDIATE' });
    await using second = await sqlite3.connect(path, { timeout: 5, isolation_level: 'IMMEDIATE' });
    await first.execute('INSERT INTO t VALUES (1)');
    const events: string[] = [];
    const waiting = second.execute('INSERT INTO t VALUES (2)').then((cur) => {
      events.push('second inserted');
      return cur;
    });
    await sleep(150);
    assert.equal(events.length, 0, 'the second writer must still be waiting');
    events.push('first commits');
    await first.commit();
    const cur = await waiting;
    assert.deepEqual(events, ['first commits', 'second inserted']);
    assert.equal(cur.rowcount, 1);
    assert.equal(second.in_transaction, true);
    await second.commit();
    assert.deepEqual(await (await first.execute('SELECT x FROM t ORDER BY x')).fetchall(), [[1], [2]]);
  });

  test('several waiting writers all get through once the holder commits', async () => {
    const path = await fileWithTable();
    await using holder = await sqlite3.connect(path);
    const waiters = await Promise.all([1, 2, 3].map(() => sqlite3.connect(path, { timeout: 5 })));
    try {
      await holder.execute('INSERT INTO t VALUES (0)');
      // The waiters fail and release their SHARED locks over and over; their
      // retries must not keep the event loop (and so the holder's commit) from running.
      const inserts = waiters.map(async (w, i) => {
        await w.transaction(async (c) => {
          await c.execute('INSERT INTO t VALUES (?)', [i + 1]);
        });
      });
      const t0 = performance.now();
      await sleep(100);
      assert.ok(performance.now() - t0 < 1000, 'the timer fired late: the event loop was starved');
      await holder.commit();
      await Promise.all(inserts);
      assert.deepEqual(await (await holder.execute('SELECT x FROM t ORDER BY x')).fetchall(), [[0], [1], [2], [3]]);
    } finally {
      await Promise.all(waiters.map((w) => w.close()));
    }
  });

  test('a waiting writer polls for the lock; it does not spin', async () => {
    const path = await fileWithTable();
    await using first = await sqlite3.connect(path, { isolation_level: 'IMMEDIATE' });
    await using second = await sqlite3.connect(path, { timeout: 0.3, isolation_level: 'IMMEDIATE' });
    const attempts = await traced(second);
    await first.execute('INSERT INTO t VALUES (1)');
    await raises(() => second.execute('INSERT INTO t VALUES (2)'), sqlite3.OperationalError, 'database is locked');
    await second.set_trace_callback(null);
    const tries = attempts.filter((s) => s === 'BEGIN IMMEDIATE').length;
    assert.ok(tries >= 2, `retried ${tries} times`);
    assert.ok(tries <= 60, `retried ${tries} times in 300 ms: busy-waiting`);
    await second.rollback();
    await first.rollback();
  });

  test("'database is locked' when the timeout runs out while the first holds its transaction", async () => {
    const path = await fileWithTable();
    await using first = await sqlite3.connect(path, { isolation_level: 'IMMEDIATE' });
    await using second = await sqlite3.connect(path, { timeout: 0.2, isolation_level: 'IMMEDIATE' });
    assert.equal(second.timeout, 0.2);
    await first.execute('INSERT INTO t VALUES (1)');
    const t0 = performance.now();
    const e = (await raises(() => second.execute('INSERT INTO t VALUES (2)'), sqlite3.OperationalError, 'database is locked')) as sqlite3.Error;
    const waited = performance.now() - t0;
    assert.ok(waited >= 150, `waited only ${waited.toFixed(0)} ms of the 200 ms timeout`);
    assert.ok(waited < 3000, `waited ${waited.toFixed(0)} ms, far beyond the timeout`);
    assert.equal(e.sqlite_errorcode, sqlite3.SQLITE_BUSY);
    assert.equal(e.sqlite_errorname, 'SQLITE_BUSY');
    // As in Python: the implicit BEGIN did not get the lock, so no transaction is open.
    assert.equal(second.in_transaction, false);
    await second.rollback();
    // Reading is still allowed while the first holds only a RESERVED lock.
    assert.equal(await count(second), 0);
    await first.commit();
    await second.execute('INSERT INTO t VALUES (2)');
    await second.commit();
    assert.equal(await count(first), 2);
  });

  test('timeout 0 fails at once; the timeout attribute can be changed', async () => {
    const path = await fileWithTable();
    await using first = await sqlite3.connect(path);
    // Autocommit writes need the commit slot that BEGIN IMMEDIATE holds.
    await using second = await sqlite3.connect(path, { timeout: 0, autocommit: true });
    await first.execute('BEGIN IMMEDIATE');
    const t0 = performance.now();
    await raises(() => second.execute('INSERT INTO t VALUES (1)'), sqlite3.OperationalError, 'database is locked');
    assert.ok(performance.now() - t0 < 150);
    await second.rollback();
    second.timeout = 5;
    assert.equal(second.timeout, 5);
    const p = second.execute('INSERT INTO t VALUES (1)');
    await sleep(50);
    await first.commit();
    await p;
    await second.commit();
    assert.equal(await count(first), 1);
  });

  test('EXCLUSIVE does not keep readers out: they read the last committed snapshot (MVCC)', async () => {
    const path = await fileWithTable();
    await using writer = await sqlite3.connect(path, { isolation_level: 'EXCLUSIVE' });
    await using reader = await sqlite3.connect(path, { timeout: 0.1 });
    await writer.execute('INSERT INTO t VALUES (1)');
    assert.equal(await count(reader), 0);
    await writer.commit();
    assert.equal(await count(reader), 1);
  });

  test("a writer's COMMIT does not wait for another connection's open read cursor (MVCC)", async () => {
    const path = await fileWithTable();
    {
      await using setup = await sqlite3.connect(path);
      await setup.executemany('INSERT INTO t VALUES (?)', Array.from({ length: 1000 }, (_, i) => [i]));
      await setup.commit();
    }
    await using writer = await sqlite3.connect(path);
    await using reader = await sqlite3.connect(path);
    const cur = await reader.execute('SELECT x FROM t ORDER BY x');
    assert.deepEqual(await cur.fetchone(), [0]); // a statement in progress: its snapshot is pinned
    await writer.execute('INSERT INTO t VALUES (-1)');
    await writer.commit();
    const rest = (await cur.fetchall()) as [number][];
    assert.equal(rest.length, 999, 'the reader sees the snapshot it started with');
    assert.equal(rest[0][0], 1);
    assert.equal(await count(reader), 1001);
  });
});
