/**
 * Concurrent write transactions: explicit transactions of different
 * connections write at the same time on their snapshots; at commit, one that
 * overlaps a newer commit is replayed row by row on the latest version, and a
 * real write-write conflict raises ConflictError (retried by transaction()).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';

const dir = mkdtempSync(join(tmpdir(), 'heliosdb-ctxn-'));
let n = 0;
const fresh = (): string => join(dir, `db${++n}.db`);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function scalar(c: sqlite3.Connection, sql: string, params?: unknown[]): Promise<unknown> {
  const row = (await (await c.execute(sql, params)).fetchone()) as unknown[] | null;
  return row?.[0];
}

async function rows(c: sqlite3.Connection, sql: string, params?: unknown[]): Promise<unknown[][]> {
  return (await (await c.execute(sql, params)).fetchall()) as unknown[][];
}

function python(path: string, code: string): string {
  return execFileSync('python3', ['-c', `import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n${code}`, path]).toString().trim();
}

async function expectConflict(p: Promise<unknown>): Promise<sqlite3.ConflictError> {
  const e = await p.then(
    () => assert.fail('expected a ConflictError'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof sqlite3.ConflictError, `expected ConflictError, got ${String(e)}`);
  return e as sqlite3.ConflictError;
}

async function setup(path: string, sql: string): Promise<void> {
  await using c = await sqlite3.connect(path);
  await c.executescript(sql);
}

describe('concurrent write transactions', () => {
  test('explicit transactions insert into one table at once; all commit with distinct rowids', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE t(id INTEGER PRIMARY KEY, conn INTEGER, i INTEGER)');
    const conns = await Promise.all(Array.from({ length: 8 }, () => sqlite3.connect(path)));
    let conflicts = 0;
    await Promise.all(
      conns.map(async (c, w) => {
        for (let round = 0; round < 5; round++) {
          for (let i = 0; i < 25; i++) {
            await c.execute('INSERT INTO t(conn, i) VALUES (?, ?)', [w, round * 25 + i]);
            await turn();
          }
          try {
            await c.commit();
          } catch (e) {
            conflicts++;
            throw e;
          }
          // last_insert_rowid() follows the row to the rowid it finally got.
          const last = await scalar(c, 'SELECT last_insert_rowid()');
          assert.deepEqual(await rows(c, 'SELECT conn, i FROM t WHERE id = ?', [last]), [[w, round * 25 + 24]]);
        }
      }),
    );
    for (const c of conns) await c.close();
    assert.equal(conflicts, 0);
    assert.equal(python(path, "print(c.execute('SELECT count(*), count(DISTINCT id) FROM t').fetchone())"), '(1000, 1000)');
    // Every connection's rows, in its own order.
    for (let w = 0; w < 8; w++) {
      const got = python(path, `print(','.join(str(r[0]) for r in c.execute('SELECT i FROM t WHERE conn = ${w} ORDER BY id')))`);
      assert.equal(got, Array.from({ length: 125 }, (_, i) => i).join(','));
    }
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])"), 'ok');
  });

  test('tables without a declared key and AUTOINCREMENT tables merge concurrent inserts too', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE plain(v); CREATE TABLE auto(id INTEGER PRIMARY KEY AUTOINCREMENT, v)');
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    for (const c of [a, b]) {
      await c.execute("INSERT INTO plain VALUES ('x')");
      await c.execute("INSERT INTO auto(v) VALUES ('x')");
    }
    await a.commit();
    await b.commit();
    assert.deepEqual(await rows(a, 'SELECT rowid FROM plain ORDER BY rowid'), [[1], [2]]);
    assert.deepEqual(await rows(a, 'SELECT id FROM auto ORDER BY id'), [[1], [2]]);
    assert.equal(await scalar(a, "SELECT seq FROM sqlite_sequence WHERE name = 'auto'"), 2);
  });

  test('two transactions writing different rows of one table both commit', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER); INSERT INTO acct VALUES (1, 100), (2, 100)');
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute('UPDATE acct SET bal = bal - 10 WHERE id = 1');
    await b.execute('UPDATE acct SET bal = bal + 10 WHERE id = 2');
    await b.commit();
    await a.commit();
    assert.deepEqual(await rows(a, 'SELECT bal FROM acct ORDER BY id'), [[90], [110]]);
  });

  test('a write-write conflict on one row: the later commit raises ConflictError and changes nothing', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER); INSERT INTO acct VALUES (1, 100), (2, 100)');
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute('UPDATE acct SET bal = bal - 10 WHERE id = 1');
    await b.execute('UPDATE acct SET bal = bal - 20 WHERE id = 1');
    await b.execute('UPDATE acct SET bal = bal + 20 WHERE id = 2');
    await a.commit();
    const e = await expectConflict(b.commit());
    assert.ok(e instanceof sqlite3.OperationalError);
    assert.equal(e.retryable, true);
    assert.match(e.message, /acct/);
    assert.equal(b.in_transaction, false);
    // None of b's changes landed, not even the one to the other row.
    assert.deepEqual(await rows(b, 'SELECT bal FROM acct ORDER BY id'), [[90], [100]]);
    // A delete racing an update is a conflict too, both ways round.
    await a.execute('DELETE FROM acct WHERE id = 2');
    await b.execute('UPDATE acct SET bal = 0 WHERE id = 2');
    await b.commit();
    await expectConflict(a.commit());
    assert.deepEqual(await rows(a, 'SELECT id, bal FROM acct ORDER BY id'), [[1, 90], [2, 0]]);
  });

  test('the same explicit key inserted twice: ConflictError, and the retry meets the IntegrityError', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE t(id INTEGER PRIMARY KEY, v)');
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute("INSERT INTO t VALUES (5, 'a')");
    await b.execute("INSERT INTO t VALUES (5, 'b')");
    await a.commit();
    await expectConflict(b.commit());
    await assert.rejects(
      b.transaction(async (t) => {
        await t.execute("INSERT INTO t VALUES (5, 'b')");
      }),
      sqlite3.IntegrityError,
    );
    assert.deepEqual(await rows(a, 'SELECT * FROM t'), [[5, 'a']]);
  });

  test('triggers run once: their changes are replayed, not run again', async () => {
    const path = fresh();
    await setup(
      path,
      `CREATE TABLE t(id INTEGER PRIMARY KEY, v);
       CREATE TABLE audit(id INTEGER PRIMARY KEY, what);
       CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO audit(what) VALUES ('ins ' || new.v); END;`,
    );
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute("INSERT INTO t(v) VALUES ('a')");
    await b.execute("INSERT INTO t(v) VALUES ('b')");
    await a.commit();
    await b.commit();
    assert.deepEqual(await rows(a, 'SELECT what FROM audit ORDER BY id'), [['ins a'], ['ins b']]);
    // Triggers still work afterwards on the connection that replayed.
    await b.execute("INSERT INTO t(v) VALUES ('c')");
    await b.commit();
    assert.equal(await scalar(a, 'SELECT count(*) FROM audit'), 3);
  });

  test('a renumbered row that foreign keys point at is a conflict, not a broken reference', async () => {
    const path = fresh();
    await setup(
      path,
      `CREATE TABLE parent(id INTEGER PRIMARY KEY, name);
       CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), v);`,
    );
    const insertFamily = async (c: sqlite3.Connection, name: string): Promise<void> => {
      const cur = await c.execute('INSERT INTO parent(name) VALUES (?)', [name]);
      await c.execute('INSERT INTO child(parent_id, v) VALUES (?, ?)', [cur.lastrowid, name]);
    };
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await insertFamily(a, 'a');
    await insertFamily(b, 'b');
    await a.commit();
    await expectConflict(b.commit());
    // transaction() re-runs it on the new snapshot.
    await b.transaction((t) => insertFamily(t, 'b'));
    assert.deepEqual(await rows(a, 'SELECT p.name, c.v FROM child c JOIN parent p ON p.id = c.parent_id ORDER BY p.id'), [
      ['a', 'a'],
      ['b', 'b'],
    ]);
  });

  test('schema changes: a concurrent DDL makes the other transaction conflict', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE t(id INTEGER PRIMARY KEY, v)');
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await b.execute("INSERT INTO t(v) VALUES ('b')");
    await a.execute('ALTER TABLE t ADD COLUMN w');
    await a.commit();
    await expectConflict(b.commit());
    await b.execute("INSERT INTO t(v, w) VALUES ('b', 1)");
    await b.commit();
    assert.deepEqual(await rows(a, 'SELECT v, w FROM t'), [['b', 1]]);
  });

  test('a transaction begun with SAVEPOINT commits with RELEASE beside another writer', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE t(id INTEGER PRIMARY KEY, v)');
    await using a = await sqlite3.connect(path, { isolation_level: null });
    await using b = await sqlite3.connect(path, { isolation_level: null });
    await a.execute('SAVEPOINT outer_sp');
    await a.execute("INSERT INTO t(v) VALUES ('a1')");
    await a.execute('SAVEPOINT inner_sp');
    await a.execute("INSERT INTO t(v) VALUES ('a2')");
    await a.execute('ROLLBACK TO inner_sp');
    await b.execute('BEGIN');
    await b.execute("INSERT INTO t(v) VALUES ('b1')");
    await b.execute('COMMIT');
    await a.execute('RELEASE outer_sp');
    assert.equal(a.in_transaction, false);
    assert.deepEqual(await rows(a, 'SELECT v FROM t ORDER BY id'), [['b1'], ['a1']]);
  });

  test('a transaction begun while its connection was alone holds the write lock; a later connection waits at commit', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE t(id INTEGER PRIMARY KEY, v)');
    await using a = await sqlite3.connect(path);
    await a.execute("INSERT INTO t(v) VALUES ('a')");
    await using b = await sqlite3.connect(path, { timeout: 5 });
    // b writes beside a on its own snapshot…
    await b.execute("INSERT INTO t(v) VALUES ('b')");
    let committed = false;
    const bCommit = b.commit().then(() => (committed = true));
    await new Promise((r) => setTimeout(r, 100));
    // …but its commit waits for a's, as a second writer does in SQLite.
    assert.equal(committed, false);
    await a.commit();
    await bCommit;
    assert.deepEqual(await rows(a, 'SELECT v FROM t ORDER BY id'), [['a'], ['b']]);
  });

  test('BEGIN IMMEDIATE still serialises: the second waits and never conflicts', async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE c(id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO c VALUES (1, 0)');
    const conns = await Promise.all(Array.from({ length: 4 }, () => sqlite3.connect(path, { isolation_level: 'IMMEDIATE' })));
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < 25; i++) {
          const v = (await scalar(c, 'SELECT v FROM c WHERE id = 1')) as number;
          // The SELECT ran outside a transaction; the UPDATE's BEGIN IMMEDIATE takes the lock first.
          await c.execute('UPDATE c SET v = v + 1 WHERE id = 1');
          await turn();
          assert.ok(((await scalar(c, 'SELECT v FROM c WHERE id = 1')) as number) > v);
          await c.commit();
        }
      }),
    );
    for (const c of conns) await c.close();
    assert.equal(python(path, "print(c.execute('SELECT v FROM c').fetchone()[0])"), '100');
  });
});

describe('isolation, proved over thousands of transactions', () => {
  test('lost-update test: 2,000 read-modify-write increments from 8 connections', { timeout: 120_000 }, async () => {
    const path = fresh();
    await setup(path, 'CREATE TABLE counter(id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO counter VALUES (1, 0)');
    const conns = await Promise.all(Array.from({ length: 8 }, () => sqlite3.connect(path, { isolation_level: null })));
    let conflicts = 0;
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < 250; i++) {
          for (;;) {
            try {
              // The read belongs to the transaction: its snapshot is the one the write is checked against.
              await c.execute('BEGIN');
              const v = (await scalar(c, 'SELECT v FROM counter WHERE id = 1')) as number;
              await c.execute('UPDATE counter SET v = ? WHERE id = 1', [v + 1]);
              await c.execute('COMMIT');
              break;
            } catch (e) {
              if (!(e instanceof sqlite3.ConflictError)) throw e;
              conflicts++;
            }
          }
        }
      }),
    );
    for (const c of conns) await c.close();
    assert.equal(python(path, "print(c.execute('SELECT v FROM counter').fetchone()[0])"), '2000');
    // The writers really overlapped: without conflict detection increments would have been lost.
    assert.ok(conflicts > 0, 'no transaction ever overlapped another');
  });

  test('bank-transfer test: 2,000 concurrent transfers keep the total and every balance', { timeout: 120_000 }, async () => {
    const path = fresh();
    const accounts = 30;
    await setup(path, 'CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER NOT NULL CHECK (bal >= 0))');
    {
      await using c = await sqlite3.connect(path);
      await c.executemany('INSERT INTO acct VALUES (?, 1000)', Array.from({ length: accounts }, (_, i) => [i]));
      await c.commit();
    }
    const conns = await Promise.all(Array.from({ length: 8 }, () => sqlite3.connect(path)));
    let seed = 7;
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % k;
    };
    // The ledger is the model: every transfer that committed, in commit order per account.
    const moved = new Array<number>(accounts).fill(0);
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < 250; i++) {
          const from = rand(accounts);
          const to = (from + 1 + rand(accounts - 1)) % accounts;
          const amount = 1 + rand(100);
          const done = await c.transaction(async (t) => {
            const bal = (await scalar(t, 'SELECT bal FROM acct WHERE id = ?', [from])) as number;
            await turn();
            if (bal < amount) return false;
            await t.execute('UPDATE acct SET bal = ? WHERE id = ?', [bal - amount, from]);
            await t.execute('UPDATE acct SET bal = bal + ? WHERE id = ?', [amount, to]);
            return true;
          });
          if (done) {
            moved[from] -= amount;
            moved[to] += amount;
          }
        }
      }),
    );
    for (const c of conns) await c.close();
    assert.equal(python(path, "print(c.execute('SELECT sum(bal), min(bal) >= 0 FROM acct').fetchone())"), `(${accounts * 1000}, 1)`);
    const balances = python(path, "print(','.join(str(r[0]) for r in c.execute('SELECT bal FROM acct ORDER BY id')))");
    assert.equal(balances, moved.map((m) => 1000 + m).join(','));
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])"), 'ok');
  });
});
