/**
 * MVCC: snapshot readers, queued writers, conflicts, recovery and crash safety,
 * against real files and real processes (SIGKILL), checked with Python's sqlite3.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';

const dir = mkdtempSync(join(tmpdir(), 'heliosdb-mvcc-'));
let n = 0;
const fresh = (): string => join(dir, `db${++n}.db`);

async function scalar(c: sqlite3.Connection, sql: string, params?: unknown[]): Promise<unknown> {
  const row = (await (await c.execute(sql, params)).fetchone()) as unknown[] | null;
  return row?.[0];
}

function python(path: string, code: string): string {
  return execFileSync('python3', ['-c', `import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n${code}`, path]).toString().trim();
}

describe('snapshots', () => {
  test('a reader in a transaction keeps its snapshot while others commit', async () => {
    const path = fresh();
    await using w = await sqlite3.connect(path);
    await using r = await sqlite3.connect(path, { isolation_level: null });
    await w.execute('CREATE TABLE t(x)');
    await w.execute('INSERT INTO t VALUES (1)');
    await w.commit();
    await r.execute('BEGIN');
    assert.equal(await scalar(r, 'SELECT count(*) FROM t'), 1);
    for (let i = 0; i < 5; i++) {
      await w.execute('INSERT INTO t VALUES (?)', [i]);
      await w.commit();
    }
    assert.equal(await scalar(r, 'SELECT count(*) FROM t'), 1, 'same snapshot inside the transaction');
    await r.execute('COMMIT');
    assert.equal(await scalar(r, 'SELECT count(*) FROM t'), 6);
  });

  test('readers never wait for a writer holding an open write transaction', async () => {
    const path = fresh();
    await using w = await sqlite3.connect(path, { isolation_level: 'EXCLUSIVE' });
    await using r = await sqlite3.connect(path, { timeout: 0 });
    await w.execute('CREATE TABLE t(x)');
    await w.commit();
    await w.execute('INSERT INTO t VALUES (1)'); // BEGIN EXCLUSIVE, uncommitted
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) assert.equal(await scalar(r, 'SELECT count(*) FROM t'), 0);
    assert.ok(performance.now() - t0 < 2000);
    await w.commit();
    assert.equal(await scalar(r, 'SELECT count(*) FROM t'), 1);
  });

  test('a commit is all or nothing for readers (never half a transaction)', async () => {
    const path = fresh();
    await using w = await sqlite3.connect(path);
    await using r = await sqlite3.connect(path);
    await w.execute('CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER)');
    await w.executemany('INSERT INTO acct VALUES (?, 100)', Array.from({ length: 50 }, (_, i) => [i]));
    await w.commit();
    let stop = false;
    const reader = (async () => {
      let reads = 0;
      while (!stop) {
        assert.equal(await scalar(r, 'SELECT sum(bal) FROM acct'), 5000);
        reads++;
      }
      return reads;
    })();
    for (let i = 0; i < 200; i++) {
      await w.execute('UPDATE acct SET bal = bal - 7 WHERE id = ?', [i % 50]);
      await w.execute('UPDATE acct SET bal = bal + 7 WHERE id = ?', [(i * 7 + 3) % 50]);
      await w.commit();
    }
    stop = true;
    assert.ok((await reader) > 0);
  });
});

describe('writers', () => {
  test('10 concurrent autocommit writers: every row, no busy errors', async () => {
    const path = fresh();
    {
      await using c = await sqlite3.connect(path);
      await c.execute('CREATE TABLE t(w INTEGER, i INTEGER)');
      await c.commit();
    }
    const conns = await Promise.all(Array.from({ length: 10 }, () => sqlite3.connect(path, { isolation_level: null })));
    await Promise.all(
      conns.map(async (c, w) => {
        for (let i = 0; i < 200; i++) await c.execute('INSERT INTO t VALUES (?, ?)', [w, i]);
      }),
    );
    for (const c of conns) await c.close();
    assert.equal(python(path, "print(c.execute('SELECT count(*), count(DISTINCT w) FROM t').fetchone())"), '(2000, 10)');
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])"), 'ok');
    assert.equal(existsSync(`${path}-hlog`), false, 'the commit log is gone after close');
  });

  test('a write on a stale snapshot fails at commit with ConflictError; transaction(fn) retries it (no lost update)', async () => {
    const path = fresh();
    await using a = await sqlite3.connect(path);
    await using b = await sqlite3.connect(path);
    await a.execute('CREATE TABLE counter(id INTEGER PRIMARY KEY, v INTEGER)');
    await a.execute('INSERT INTO counter VALUES (1, 0)');
    await a.commit();
    // a reads at an old snapshot, b commits a change to the same row: a's
    // write runs on its snapshot, and its commit is refused.
    await a.execute('BEGIN');
    assert.equal(await scalar(a, 'SELECT v FROM counter'), 0);
    await b.execute('UPDATE counter SET v = v + 1');
    await b.commit();
    await a.execute('UPDATE counter SET v = 100');
    const e = await a.commit().then(
      () => assert.fail('expected a conflict'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof sqlite3.ConflictError);
    assert.ok(e instanceof sqlite3.OperationalError);
    assert.equal((e as sqlite3.ConflictError).retryable, true);
    assert.equal(a.in_transaction, false, 'the conflicting transaction is rolled back');
    assert.equal(await scalar(a, 'SELECT v FROM counter'), 1);
    // Lost-update test: read-modify-write increments from 5 connections.
    const conns = await Promise.all(Array.from({ length: 5 }, () => sqlite3.connect(path)));
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < 40; i++) {
          await c.transaction(async (t) => {
            const v = (await scalar(t, 'SELECT v FROM counter WHERE id = 1')) as number;
            await new Promise((r) => setImmediate(r));
            await t.execute('UPDATE counter SET v = ? WHERE id = 1', [v + 1]);
          });
        }
      }),
    );
    for (const c of conns) await c.close();
    assert.equal(await scalar(a, 'SELECT v FROM counter'), 1 + 200);
  });

  test('bank transfers between concurrent transactions keep the total', async () => {
    const path = fresh();
    await using setup = await sqlite3.connect(path);
    await setup.execute('CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)');
    await setup.executemany('INSERT INTO acct VALUES (?, 1000)', Array.from({ length: 20 }, (_, i) => [i]));
    await setup.commit();
    const conns = await Promise.all(Array.from({ length: 6 }, () => sqlite3.connect(path)));
    let seed = 42;
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % k;
    };
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < 60; i++) {
          const from = rand(20);
          const to = (from + 1 + rand(19)) % 20;
          const amount = 1 + rand(50);
          await c.transaction(async (t) => {
            const bal = (await scalar(t, 'SELECT bal FROM acct WHERE id = ?', [from])) as number;
            await new Promise((r) => setImmediate(r));
            if (bal < amount) return;
            await t.execute('UPDATE acct SET bal = bal - ? WHERE id = ?', [amount, from]);
            await t.execute('UPDATE acct SET bal = bal + ? WHERE id = ?', [amount, to]);
          });
        }
      }),
    );
    for (const c of conns) await c.close();
    assert.equal(await scalar(setup, 'SELECT sum(bal) FROM acct'), 20000);
    assert.equal(await scalar(setup, 'SELECT min(bal) >= 0 FROM acct'), 1);
  });
});

describe('group commit', () => {
  test('grouped autocommit statements keep per-connection rowcount, lastrowid, total_changes and errors', async () => {
    const path = fresh();
    {
      await using c = await sqlite3.connect(path);
      await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
      await c.commit();
    }
    const conns = await Promise.all(Array.from({ length: 5 }, () => sqlite3.connect(path, { isolation_level: null })));
    // All five insert in the same turn of the event loop: one group, one flush.
    const curs = await Promise.all(conns.map((c, i) => c.execute('INSERT INTO t(v) VALUES (?)', [`v${i}`])));
    const ids = curs.map((c) => c.lastrowid as number);
    assert.equal(new Set(ids).size, 5, 'each connection gets its own rowid');
    for (let i = 0; i < 5; i++) {
      assert.equal(curs[i].rowcount, 1);
      assert.equal(conns[i].total_changes, 1);
      // Read-your-writes, and lastrowid survives a following SELECT on the same connection.
      assert.equal(await scalar(conns[i], 'SELECT v FROM t WHERE id = ?', [ids[i]]), `v${i}`);
      const again = await conns[i].execute('SELECT count(*) FROM t');
      assert.equal(again.lastrowid, ids[i]);
    }
    // A failing statement fails alone; the others in its group commit.
    const results = await Promise.allSettled([
      conns[0].execute('INSERT INTO t(v) VALUES (?)', ['v1']), // duplicate
      conns[1].execute('INSERT INTO t(v) VALUES (?)', ['w1']),
      conns[2].execute('UPDATE t SET v = v || ? WHERE id = ?', ['!', ids[2]]),
    ]);
    assert.equal(results[0].status, 'rejected');
    assert.ok((results[0] as PromiseRejectedResult).reason instanceof sqlite3.IntegrityError);
    assert.equal(results[1].status, 'fulfilled');
    assert.equal(results[2].status, 'fulfilled');
    assert.equal(await scalar(conns[3], 'SELECT count(*) FROM t'), 6);
    assert.equal(await scalar(conns[3], 'SELECT v FROM t WHERE id = ?', [ids[2]]), 'v2!');
    for (const c of conns) await c.close();
    assert.equal(python(path, "print(c.execute('SELECT count(*) FROM t').fetchone()[0])"), '6');
  });

  test('a grouped statement that rolls back its transaction fails alone; the others commit', async () => {
    const path = fresh();
    {
      await using c = await sqlite3.connect(path);
      await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE ON CONFLICT ROLLBACK)');
      await c.execute("INSERT INTO t(v) VALUES ('taken')");
      await c.commit();
    }
    const conns = await Promise.all(Array.from({ length: 4 }, () => sqlite3.connect(path, { isolation_level: null })));
    const results = await Promise.allSettled([
      conns[0].execute('INSERT INTO t(v) VALUES (?)', ['a']),
      conns[1].execute('INSERT INTO t(v) VALUES (?)', ['taken']), // rolls back the group's transaction
      conns[2].execute('INSERT INTO t(v) VALUES (?)', ['b']),
      conns[3].execute('INSERT INTO t(v) VALUES (?)', ['c']),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof sqlite3.IntegrityError);
    assert.equal(await scalar(conns[0], "SELECT group_concat(v, ',') FROM (SELECT v FROM t ORDER BY v)"), 'a,b,c,taken');
    for (const c of conns) await c.close();
  });

  test("grouped statements fail alone and keep SQLite's ABORT and FAIL semantics (as Python in autocommit)", async () => {
    const path = fresh();
    {
      await using c = await sqlite3.connect(path);
      await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
      await c.execute("INSERT INTO t(v) VALUES ('taken')");
      await c.commit();
    }
    const conns = await Promise.all(Array.from({ length: 4 }, () => sqlite3.connect(path, { isolation_level: null })));
    const results = await Promise.allSettled([
      conns[0].execute("INSERT INTO t(v) VALUES ('a')"),
      conns[1].execute("INSERT OR FAIL INTO t(v) VALUES ('f1'), ('taken'), ('f3')"), // keeps f1
      conns[2].execute("INSERT INTO t(v) VALUES ('x1'), ('taken')"), // ABORT: keeps nothing
      conns[3].execute("INSERT INTO t(v) VALUES ('b')"),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    for (const r of results.slice(1, 3)) assert.ok((r as PromiseRejectedResult).reason instanceof sqlite3.IntegrityError);
    for (const c of conns) await c.close();
    const ours = python(path, "print(','.join(r[0] for r in c.execute('SELECT v FROM t ORDER BY v')))");
    // The same statements one by one through Python's sqlite3 in autocommit mode.
    const oracle = execFileSync('python3', [
      '-c',
      `import sqlite3
c = sqlite3.connect(':memory:', isolation_level=None)
c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)')
for s in ["INSERT INTO t(v) VALUES ('taken')", "INSERT INTO t(v) VALUES ('a')", "INSERT OR FAIL INTO t(v) VALUES ('f1'), ('taken'), ('f3')", "INSERT INTO t(v) VALUES ('x1'), ('taken')", "INSERT INTO t(v) VALUES ('b')"]:
    try: c.execute(s)
    except sqlite3.IntegrityError: pass
print(','.join(r[0] for r in c.execute('SELECT v FROM t ORDER BY v')))`,
    ]).toString().trim();
    assert.equal(ours, oracle);
    assert.equal(ours, 'a,b,f1,taken');
  });

  test('a connection with its own functions or PRAGMAs is not grouped and behaves as usual', async () => {
    const path = fresh();
    await using c = await sqlite3.connect(path, { isolation_level: null });
    await c.execute('CREATE TABLE t(x)');
    await c.create_function('twice', 1, (x) => (x as number) * 2);
    await c.execute('INSERT INTO t VALUES (twice(21))');
    assert.equal(await scalar(c, 'SELECT x FROM t'), 42);
    await using d = await sqlite3.connect(path, { isolation_level: null });
    await d.execute('PRAGMA foreign_keys = ON');
    await d.execute('CREATE TABLE p(id INTEGER PRIMARY KEY)');
    await d.execute('CREATE TABLE ch(pid REFERENCES p(id))');
    await assert.rejects(d.execute('INSERT INTO ch VALUES (7)'), sqlite3.IntegrityError);
  });
});

describe('recovery and crashes', () => {
  const script = new URL('./helpers/crash-writer.js', import.meta.url).pathname;

  async function runAndKill(path: string, afterMs: number): Promise<Acked> {
    const child = spawn(process.execPath, [script, path, '4'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HELIOSDB_CHECKPOINT_BYTES: '65536' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    // Wait until it is writing, then kill it at an arbitrary instant.
    const start = Date.now();
    while (!out.includes('ack') && Date.now() - start < 10_000 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, afterMs));
    child.kill('SIGKILL');
    await exited;
    assert.ok(out.includes('ack'), `the writer never acknowledged a commit: ${err}`);
    const lines = out.split('\n');
    return {
      pairs: lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4))),
      singles: lines.filter((l) => l.startsWith('single ')).map((l) => Number(l.slice(7))),
    };
  }

  interface Acked {
    /** Explicit two-row transactions acknowledged. */
    readonly pairs: number[];
    /** Grouped autocommit inserts acknowledged. */
    readonly singles: number[];
  }

  async function checkAfterCrash(path: string, ackedAll: Acked): Promise<void> {
    const acked = ackedAll.pairs;
    await using c = await sqlite3.connect(path);
    assert.equal(await scalar(c, 'PRAGMA integrity_check'), 'ok');
    const partial = await scalar(c, 'SELECT count(*) FROM (SELECT k FROM pairs GROUP BY k HAVING count(*) <> 2)');
    assert.equal(partial, 0, 'no partial transaction is visible');
    const present = new Set(((await (await c.execute('SELECT DISTINCT k FROM pairs')).fetchall()) as [number][]).map((r) => r[0]));
    const missing = acked.filter((k) => !present.has(k));
    assert.deepEqual(missing, [], 'every acknowledged commit is present');
    const singles = new Set(((await (await c.execute('SELECT k FROM singles')).fetchall()) as [number][]).map((r) => r[0]));
    const missingSingles = ackedAll.singles.filter((k) => !singles.has(k));
    assert.deepEqual(missingSingles, [], 'every acknowledged grouped autocommit insert is present');
  }

  const iterations = Number(process.env.CRASH_ITERATIONS ?? 12);
  test(`SIGKILL at ${iterations} random instants: acknowledged commits survive, nothing partial`, { timeout: 240_000 }, async () => {
    const path = fresh();
    let total = 0;
    let singles = 0;
    for (let i = 0; i < iterations; i++) {
      const acked = await runAndKill(path, Math.floor(Math.random() * 300));
      total += acked.pairs.length;
      singles += acked.singles.length;
      await checkAfterCrash(path, acked);
      // Closed cleanly by the check: the file alone is a sound SQLite database.
      assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])"), 'ok');
    }
    assert.ok(total > 0 && singles > 0, `acknowledged: ${total} pairs, ${singles} grouped inserts`);
  });

  test('a torn or garbage log tail is dropped; complete commits are kept', async () => {
    const path = fresh();
    const acked = await runAndKill(path, 150);
    assert.ok(existsSync(`${path}-hlog`), 'the killed process left its commit log');
    appendFileSync(`${path}-hlog`, new Uint8Array(5000).fill(0xab));
    await checkAfterCrash(path, acked);
  });

  test('after close the file alone holds the state: Python reads it, no side files', async () => {
    const path = fresh();
    {
      await using c = await sqlite3.connect(path);
      await c.execute('CREATE TABLE t(x)');
      await c.executemany('INSERT INTO t VALUES (?)', Array.from({ length: 3000 }, (_, i) => [i]));
      await c.commit();
      assert.ok(existsSync(`${path}-hlog`));
    }
    assert.equal(existsSync(`${path}-hlog`), false);
    assert.equal(python(path, "print(c.execute('SELECT count(*), sum(x) FROM t').fetchone())"), '(3000, 4498500)');
    assert.equal(readFileSync(path).subarray(0, 15).toString(), 'SQLite format 3');
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
