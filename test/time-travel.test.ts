/**
 * Time travel: AS OF VERSION / AS OF TIMESTAMP after table references,
 * versions(), retention, restore_to(), history across close and reopen, and
 * that nothing of it exists when it is off. Checkpoints are made frequent
 * (small log) so that history moves from the log to the history file often.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng } from './helpers/vfs-oracle.js';

// Read when the engine starts (the first connect of this process).
process.env.HELIOSDB_CHECKPOINT_BYTES = String(48 * 1024);
const sqlite3 = await import('heliosdb-nano');
type Connection = import('heliosdb-nano').Connection;

const dir = mkdtempSync(join(tmpdir(), 'heliosdb-tt-'));
let n = 0;
const fresh = (): string => join(dir, `db${++n}.db`);
const TT = { enable_time_travel: true, isolation_level: null } as const;

async function rows(c: Connection, sql: string, params?: unknown[]): Promise<unknown[][]> {
  return (await (await c.execute(sql, params)).fetchall()) as unknown[][];
}

async function scalar(c: Connection, sql: string, params?: unknown[]): Promise<unknown> {
  return (await rows(c, sql, params))[0]?.[0];
}

function python(path: string, code: string): string {
  return execFileSync('python3', ['-c', `import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n${code}`, path]).toString().trim();
}

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}


describe('AS OF', () => {
  test('AS OF VERSION reads each version; joins, subqueries, CTEs and present tables mix', async () => {
    const c = await sqlite3.connect(fresh(), TT);
    await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)');
    const after: number[] = [];
    for (let i = 1; i <= 4; i++) {
      await c.execute('INSERT INTO t(v) VALUES (?)', [`v${i}`]);
      after.push((await c.versions()).at(-1)?.version as number);
    }
    for (let i = 0; i < after.length; i++) {
      assert.equal(await scalar(c, `SELECT count(*) FROM t AS OF VERSION ${after[i]}`), i + 1);
    }
    const [, v2] = after;
    // Aliases before and after the clause, qualified columns.
    assert.deepEqual(await rows(c, `SELECT t.v FROM t AS OF VERSION ${v2} ORDER BY t.id`), [['v1'], ['v2']]);
    assert.deepEqual(await rows(c, `SELECT x.v FROM t x AS OF VERSION ${v2} ORDER BY x.id`), [['v1'], ['v2']]);
    assert.deepEqual(await rows(c, `SELECT x.v FROM main.t AS OF VERSION ${v2} AS x ORDER BY x.id`), [['v1'], ['v2']]);
    // Past joined with present.
    assert.deepEqual(
      await rows(c, `SELECT now.id, old.v FROM t now LEFT JOIN t AS OF VERSION ${v2} old ON old.id = now.id ORDER BY now.id`),
      [[1, 'v1'], [2, 'v2'], [3, null], [4, null]],
    );
    // Subquery and CTE; two past versions in one statement.
    assert.equal(await scalar(c, `SELECT (SELECT count(*) FROM t AS OF VERSION ${after[0]}) + (SELECT count(*) FROM t AS OF VERSION ${after[2]})`), 4);
    assert.deepEqual(await rows(c, `WITH old AS (SELECT * FROM t AS OF VERSION ${v2}) SELECT group_concat(v) FROM old`), [['v1,v2']]);
    // "AS of" as an ordinary alias, and the words inside strings and comments, are left alone.
    assert.deepEqual(await rows(c, `SELECT 'as of version 1' AS of /* as of version 2 */ FROM t WHERE id = 1`), [['as of version 1']]);
    await c.close();
  });

  test('AS OF TIMESTAMP maps to the newest version committed by then; out of range is a clear error', async () => {
    const c = await sqlite3.connect(fresh(), TT);
    await c.execute('CREATE TABLE t(x)');
    await c.execute('INSERT INTO t VALUES (1)');
    await new Promise((r) => setTimeout(r, 30));
    const between = (await c.versions()).at(-1)?.timestamp as string;
    await new Promise((r) => setTimeout(r, 30));
    await c.execute('INSERT INTO t VALUES (2)');
    assert.equal(await scalar(c, `SELECT count(*) FROM t AS OF TIMESTAMP '${between}'`), 1);
    assert.equal(await scalar(c, `SELECT count(*) FROM t AS OF TIMESTAMP '${between.replace(' ', 'T')}Z'`), 1);
    await rejects(c.execute(`SELECT * FROM t AS OF TIMESTAMP '2999-01-01 00:00:00'`), sqlite3.OperationalError, /in the future/);
    await rejects(c.execute(`SELECT * FROM t AS OF TIMESTAMP '2001-01-01 00:00:00'`), sqlite3.OperationalError, /before the retention window/);
    await rejects(c.execute(`SELECT * FROM t AS OF TIMESTAMP 'yesterday'`), sqlite3.ProgrammingError, /invalid timestamp/);
    await rejects(c.execute('SELECT * FROM t AS OF VERSION 999'), sqlite3.OperationalError, /does not exist yet/);
    // A table that did not exist yet is named with the version, not the internal schema.
    await rejects(c.execute('SELECT * FROM t AS OF VERSION 0'), sqlite3.OperationalError, /^no such table: t \(as of version 0\)$/);
    await c.close();
  });

  test('AS OF is refused with the way to turn it on until the database has time travel on', async () => {
    const path = fresh();
    const c = await sqlite3.connect(path);
    await c.execute('CREATE TABLE t(x)');
    await rejects(c.execute('SELECT * FROM t AS OF VERSION 1'), sqlite3.NotSupportedError, /enable_time_travel/);
    await rejects(c.versions(), sqlite3.NotSupportedError, /enable_time_travel/);
    await c.close();
    // Once a connection turned it on for the database, it stays on there, for every connection.
    const on = await sqlite3.connect(path, TT);
    await on.execute('INSERT INTO t VALUES (1)');
    await on.close();
    const plain = await sqlite3.connect(path);
    const v = (await plain.versions()).at(-1)?.version as number;
    assert.deepEqual(await rows(plain, `SELECT count(*) FROM t AS OF VERSION ${v}`), [[1]]);
    await plain.close();
  });

  test('past versions stay readable inside transactions and across checkpoints', async () => {
    const c = await sqlite3.connect(fresh(), TT);
    await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)');
    await c.execute('INSERT INTO t(pad) VALUES (zeroblob(100))');
    const v1 = (await c.versions()).at(-1)?.version as number;
    // Past the checkpoint threshold many times over: the log moves into the history file.
    for (let i = 0; i < 40; i++) await c.execute('INSERT INTO t(pad) VALUES (randomblob(3000))');
    // One past version per transaction is always possible (a slot is attached at connect) …
    await c.execute('BEGIN');
    assert.equal(await scalar(c, `SELECT count(*) FROM t AS OF VERSION ${v1}`), 1);
    await c.execute('INSERT INTO t(pad) VALUES (NULL)');
    assert.equal(await scalar(c, `SELECT count(*) FROM t AS OF VERSION ${v1}`), 1);
    await rejects(c.execute(`SELECT count(*) FROM t AS OF VERSION ${v1 + 5}`), sqlite3.OperationalError, /attached before the transaction began/);
    await c.execute('COMMIT');
    // … and more once a statement outside a transaction has read two at once.
    assert.equal(await scalar(c, `SELECT (SELECT count(*) FROM t AS OF VERSION ${v1}) + (SELECT count(*) FROM t AS OF VERSION ${v1 + 5})`), 7);
    await c.execute('BEGIN');
    assert.equal(await scalar(c, `SELECT count(*) FROM t AS OF VERSION ${v1 + 5}`), 6);
    assert.equal(await scalar(c, `SELECT count(*) FROM t AS OF VERSION ${v1 + 1}`), 2);
    await c.execute('COMMIT');
    assert.equal(await scalar(c, 'SELECT count(*) FROM t'), 42);
    await c.close();
  });
});

describe('snapshots and checkpoints with history', () => {
  test('a long read transaction keeps its snapshot while checkpoints move its pages into the history', async () => {
    const path = fresh();
    const writer = await sqlite3.connect(path, TT);
    const reader = await sqlite3.connect(path, TT);
    await writer.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)');
    await writer.execute('INSERT INTO t(pad) VALUES (randomblob(3000))');
    await reader.execute('BEGIN');
    const before = await rows(reader, 'SELECT id, hex(pad) FROM t');
    for (let i = 0; i < 60; i++) await writer.execute('UPDATE t SET pad = randomblob(3000)');
    for (let i = 0; i < 30; i++) await writer.execute('INSERT INTO t(pad) VALUES (randomblob(3000))');
    assert.ok(existsSync(`${path}-hhist`), 'checkpoints ran while the reader held its snapshot');
    assert.deepEqual(await rows(reader, 'SELECT id, hex(pad) FROM t'), before);
    await reader.execute('COMMIT');
    assert.equal(await scalar(reader, 'SELECT count(*) FROM t'), 31);
    await reader.close();
    await writer.close();
  });
});

describe('versions, retention and restore', () => {
  test('history survives close and reopen; the database file stays an ordinary SQLite file', async () => {
    const path = fresh();
    let c = await sqlite3.connect(path, TT);
    await c.execute('CREATE TABLE t(x)');
    for (let i = 0; i < 5; i++) await c.execute('INSERT INTO t VALUES (?)', [i]);
    const before = await c.versions();
    await c.close();
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0], c.execute('SELECT count(*) FROM t').fetchone()[0])"), 'ok 5');
    c = await sqlite3.connect(path, TT);
    const after = await c.versions();
    assert.deepEqual(after.map((v) => [v.version, v.txn_id, v.time]), before.map((v) => [v.version, v.txn_id, v.time]));
    for (const v of after.slice(1)) assert.equal(await scalar(c, `SELECT count(*) FROM t AS OF VERSION ${v.version}`), v.version - 1);
    await c.execute('INSERT INTO t VALUES (99)');
    assert.equal((await c.versions()).at(-1)?.version, (before.at(-1)?.version as number) + 1);
    await c.close();
  });

  test('import_database replaces the history and branches along with the database', async () => {
    const path = fresh();
    const c = await sqlite3.connect(path, { ...TT, enable_branching: true });
    await c.execute('CREATE TABLE t(x)');
    for (let i = 0; i < 5; i++) await c.execute('INSERT INTO t VALUES (?)', [i]);
    await c.create_branch('gone');
    await c.close();
    const other = fresh();
    execFileSync('python3', ['-c', "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE u(y)'); c.commit()", other]);
    await sqlite3.import_database(path, readFileSync(other));
    assert.equal(existsSync(`${path}-hhist`) || existsSync(`${path}-hmeta`) || existsSync(`${path}-hbr1`), false);
    const again = await sqlite3.connect(path, TT);
    assert.equal((await again.versions()).length, 1);
    assert.deepEqual(await rows(again, "SELECT name FROM sqlite_schema"), [['u']]);
    await again.close();
  });

  test('off: no side files, no extra writes', async () => {
    const path = fresh();
    const c = await sqlite3.connect(path);
    await c.execute('CREATE TABLE t(x)');
    for (let i = 0; i < 50; i++) await c.execute('INSERT INTO t VALUES (randomblob(2000))');
    await c.commit();
    const base = path.split('/').pop() as string;
    // (The ownership lock, -hlock, is not time travel's.)
    const during = readdirSync(dir).filter((f) => f.startsWith(base) && !f.endsWith('-hlock'));
    assert.deepEqual(during.sort(), [base, `${base}-hlog`].sort());
    await c.close();
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(base)), [base]);
  });

  test('retention by number of versions frees history space', async () => {
    const path = fresh();
    const c = await sqlite3.connect(path, { enable_time_travel: { retention_versions: 5 }, isolation_level: null });
    await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)');
    for (let i = 0; i < 60; i++) await c.execute('INSERT OR REPLACE INTO t VALUES (?, randomblob(3000))', [i % 4]);
    const list = await c.versions();
    const latest = list.at(-1)?.version as number;
    assert.ok(list[0].version >= latest - 5 - 20, `oldest ${list[0].version} should be near ${latest - 5}`);
    assert.ok(list[0].version > 10, 'old versions were dropped');
    await assert.rejects(c.execute('SELECT * FROM t AS OF VERSION 3'), /before the retention window/);
    for (const v of list) assert.ok((await scalar(c, `SELECT count(*) FROM t AS OF VERSION ${v.version}`)) as number <= 4);
    await c.close();
    const hist = readdirSync(dir).filter((f) => f.startsWith(path.split('/').pop() as string) && f.includes('-hhist'));
    assert.equal(hist.length, 1);
    // 60 versions of ~3 KiB rows would be > 60 pages; what is kept is bounded by the window.
    assert.ok(statSync(join(dir, hist[0])).size < 40 * 8192, `history is ${statSync(join(dir, hist[0])).size} bytes`);
  });

  test('set_retention keeps everything with no limits and validates its input', async () => {
    const c = await sqlite3.connect(fresh(), TT);
    await c.set_retention({ seconds: null, versions: null });
    await rejects(c.set_retention({ versions: -1 }), sqlite3.ProgrammingError, /non-negative/);
    await c.execute('CREATE TABLE t(x)');
    for (let i = 0; i < 30; i++) await c.execute('INSERT INTO t VALUES (randomblob(4000))');
    assert.equal((await c.versions())[0].version, 0);
    await c.close();
  });

  test('restore_to makes an old state the newest version, and can itself be undone', async () => {
    const path = fresh();
    const c = await sqlite3.connect(path, TT);
    const other = await sqlite3.connect(path, TT);
    await c.execute('CREATE TABLE t(x)');
    await c.execute('INSERT INTO t VALUES (1)');
    const good = (await c.versions()).at(-1)?.version as number;
    await c.execute('INSERT INTO t VALUES (2)');
    await c.execute('CREATE TABLE u(y)');
    await c.execute('DELETE FROM t WHERE x = 1');
    const bad = (await c.versions()).at(-1)?.version as number;
    assert.deepEqual(await rows(other, 'SELECT x FROM t'), [[2]]);
    const restored = await c.restore_to(good);
    assert.equal(restored, bad + 1);
    assert.deepEqual(await rows(c, 'SELECT x FROM t'), [[1]]);
    // Another connection that had the newer schema and pages cached sees the restored state.
    assert.deepEqual(await rows(other, 'SELECT x FROM t'), [[1]]);
    await rejects(other.execute('SELECT * FROM u'), sqlite3.OperationalError, /no such table: u/);
    // Undo the restore.
    await c.restore_to(bad);
    assert.deepEqual(await rows(other, 'SELECT x FROM t'), [[2]]);
    assert.deepEqual(await rows(other, 'SELECT count(*) FROM u'), [[0]]);
    await c.execute('BEGIN');
    await rejects(c.restore_to(good), sqlite3.ProgrammingError, /inside a transaction/);
    await c.execute('ROLLBACK');
    await other.close();
    await c.close();
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])"), 'ok');
  });
});

describe('property: every AS OF VERSION equals the recorded state', () => {
  test('random writes, checkpoints and reopens', async () => {
    const path = fresh();
    const rand = prng(20261125);
    const states = new Map<number, string>();
    let c = await sqlite3.connect(path, TT);
    await c.execute('CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT, pad BLOB)');
    const snapshot = async (conn: Connection, table = 'kv'): Promise<string> =>
      JSON.stringify(await rows(conn, `SELECT k, v, length(pad) FROM ${table} ORDER BY k`));
    const record = async (): Promise<void> => {
      const v = (await c.versions()).at(-1)?.version as number;
      states.set(v, await snapshot(c));
    };
    await record();
    for (let step = 0; step < 150; step++) {
      const r = rand();
      const k = Math.floor(rand() * 30);
      if (r < 0.45) await c.execute('INSERT OR REPLACE INTO kv VALUES (?, ?, randomblob(?))', [k, `s${step}`, Math.floor(rand() * 3000)]);
      else if (r < 0.65) await c.execute('UPDATE kv SET v = ? WHERE k = ?', [`u${step}`, k]);
      else if (r < 0.8) await c.execute('DELETE FROM kv WHERE k >= ? AND k < ?', [k, k + 3]);
      else if (r < 0.9) {
        await c.execute('BEGIN');
        for (let j = 0; j < 5; j++) await c.execute('INSERT OR REPLACE INTO kv VALUES (?, ?, randomblob(500))', [Math.floor(rand() * 30), `t${step}`]);
        await c.execute(rand() < 0.3 ? 'ROLLBACK' : 'COMMIT');
      } else {
        await c.close();
        c = await sqlite3.connect(path, TT);
      }
      await record();
    }
    const kept = new Set((await c.versions()).map((v) => v.version));
    let checked = 0;
    for (const [v, expected] of states) {
      if (!kept.has(v)) continue;
      const got = JSON.stringify(await rows(c, `SELECT k, v, length(pad) FROM kv AS OF VERSION ${v} ORDER BY k`));
      assert.equal(got, expected, `version ${v}`);
      checked++;
    }
    assert.ok(checked >= 100, `checked ${checked} versions`);
    await c.close();
    assert.ok(existsSync(`${path}-hhist`) || existsSync(`${path}-hhist1`));
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])"), 'ok');
  });
});
