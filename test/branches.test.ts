/**
 * Branches: create (from the present, a version or a timestamp), list,
 * connect/checkout, isolation, each branch's own history, delete, diff and
 * merge with every conflict policy, schema changes refused with the
 * difference listed, a property test against per-branch models, and kills
 * during branch creation, merge and checkpoint.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng } from './helpers/vfs-oracle.js';
import { fileURLToPath } from 'node:url';

process.env.HELIOSDB_CHECKPOINT_BYTES = String(64 * 1024);
const sqlite3 = await import('heliosdb-nano');
type Connection = import('heliosdb-nano').Connection;

const dir = mkdtempSync(join(tmpdir(), 'heliosdb-br-'));
let n = 0;
const fresh = (): string => join(dir, `db${++n}.db`);
const BR = { enable_branching: true, enable_time_travel: true, isolation_level: null } as const;

async function rows(c: Connection, sql: string, params?: unknown[]): Promise<unknown[][]> {
  return (await (await c.execute(sql, params)).fetchall()) as unknown[][];
}

function python(path: string, code: string): string {
  return execFileSync('python3', ['-c', `import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n${code}`, path]).toString().trim();
}

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, pattern: RegExp): Promise<Error> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
  return caught as Error;
}


async function seeded(path: string): Promise<Connection> {
  const c = await sqlite3.connect(path, BR);
  await c.execute('CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)');
  await c.executemany('INSERT INTO item VALUES (?, ?, ?)', [[1, 'apple', 3], [2, 'pear', 5], [3, 'fig', 7]]);
  return c;
}

describe('branches', () => {
  test('create, list, connect and checkout; writes are isolated per branch', async () => {
    const path = fresh();
    const main = await seeded(path);
    const made = await main.create_branch('exp');
    assert.equal(made.name, 'exp');
    assert.equal(made.parent, 'main');
    const listed = await main.list_branches();
    assert.deepEqual(listed.map((b) => [b.name, b.current]), [['main', true], ['exp', false]]);
    const exp = await sqlite3.connect(path, { ...BR, branch: 'exp' });
    assert.equal(exp.branch, 'exp');
    await exp.execute("UPDATE item SET qty = 0 WHERE name = 'apple'");
    await exp.execute("INSERT INTO item VALUES (4, 'kiwi', 1)");
    await main.execute("INSERT INTO item VALUES (5, 'plum', 2)");
    assert.deepEqual(await rows(main, 'SELECT id, qty FROM item ORDER BY id'), [[1, 3], [2, 5], [3, 7], [5, 2]]);
    assert.deepEqual(await rows(exp, 'SELECT id, qty FROM item ORDER BY id'), [[1, 0], [2, 5], [3, 7], [4, 1]]);
    // The same connection moves between branches.
    await main.checkout_branch('exp');
    assert.equal(main.branch, 'exp');
    assert.deepEqual(await rows(main, 'SELECT id FROM item ORDER BY id'), [[1], [2], [3], [4]]);
    await main.checkout_branch('main');
    assert.deepEqual(await rows(main, 'SELECT id FROM item ORDER BY id'), [[1], [2], [3], [5]]);
    await rejects(sqlite3.connect(path, { ...BR, branch: 'nope' }), sqlite3.OperationalError, /no such branch: nope/);
    await rejects(main.checkout_branch('nope'), sqlite3.OperationalError, /no such branch: nope/);
    await rejects(main.create_branch('exp'), sqlite3.OperationalError, /already exists/);
    await rejects(main.create_branch('bad name!'), sqlite3.OperationalError, /invalid branch name/);
    await exp.close();
    await main.close();
    // The main file is an ordinary SQLite file with main's state.
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0], c.execute('SELECT group_concat(id) FROM item').fetchone()[0])"), 'ok 1,2,3,5');
    // Branches survive reopen; the list gives each one's newest version, open or not.
    const lister = await sqlite3.connect(path, BR);
    const heads = Object.fromEntries((await lister.list_branches()).map((b) => [b.name, [b.base, b.head]]));
    assert.equal(heads.exp[1], (heads.exp[0] as number) + 2);
    await lister.close();
    const again = await sqlite3.connect(path, { ...BR, branch: 'exp' });
    assert.deepEqual(await rows(again, 'SELECT id, qty FROM item ORDER BY id'), [[1, 0], [2, 5], [3, 7], [4, 1]]);
    await again.close();
  });

  test('checkout reloads the schema even when both branches changed it the same number of times', async () => {
    const path = fresh();
    const c = await seeded(path);
    await c.create_branch('b');
    await c.execute('CREATE TABLE only_main(x)');
    await c.checkout_branch('b');
    await c.execute('CREATE TABLE only_b(y)');
    await c.execute('INSERT INTO only_b VALUES (1)');
    await c.checkout_branch('main');
    await rejects(c.execute('SELECT * FROM only_b'), sqlite3.OperationalError, /no such table: only_b/);
    assert.deepEqual(await rows(c, 'SELECT count(*) FROM only_main'), [[0]]);
    await c.checkout_branch('b');
    assert.deepEqual(await rows(c, 'SELECT * FROM only_b'), [[1]]);
    await rejects(c.execute('SELECT * FROM only_main'), sqlite3.OperationalError, /no such table: only_main/);
    await c.execute('BEGIN');
    await c.execute('INSERT INTO only_b VALUES (2)');
    await rejects(c.checkout_branch('main'), sqlite3.ProgrammingError, /inside a transaction/);
    await c.execute('COMMIT');
    await c.close();
  });

  test('from a version or a timestamp; each branch has its own history; branches of branches', async () => {
    const path = fresh();
    const c = await seeded(path);
    const v0 = (await c.versions()).at(-1)?.version as number;
    await new Promise((r) => setTimeout(r, 20));
    const t0 = (await c.versions()).at(-1)?.timestamp as string;
    await c.execute('DELETE FROM item');
    await c.create_branch('old', { from: v0 });
    await c.create_branch('old_ts', { from: t0 });
    const old = await sqlite3.connect(path, { ...BR, branch: 'old' });
    assert.deepEqual(await rows(old, 'SELECT count(*) FROM item'), [[3]]);
    await old.execute('DELETE FROM item WHERE id = 1');
    const v1 = (await old.versions()).at(-1)?.version as number;
    await old.execute('DELETE FROM item WHERE id = 2');
    assert.deepEqual(await rows(old, `SELECT count(*) FROM item AS OF VERSION ${v1}`), [[2]]);
    assert.deepEqual(await rows(old, 'SELECT count(*) FROM item'), [[1]]);
    // A branch of a branch sees its parent's base state plus its own writes.
    await old.create_branch('older', { from: v1 });
    const older = await sqlite3.connect(path, { ...BR, branch: 'older' });
    assert.deepEqual(await rows(older, 'SELECT id FROM item ORDER BY id'), [[2], [3]]);
    await older.execute("INSERT INTO item VALUES (9, 'x', 0)");
    assert.deepEqual(await rows(old, 'SELECT id FROM item ORDER BY id'), [[3]]);
    const ts = await sqlite3.connect(path, { ...BR, branch: 'old_ts' });
    assert.deepEqual(await rows(ts, 'SELECT count(*) FROM item'), [[3]]);
    assert.deepEqual(await rows(c, 'SELECT count(*) FROM item'), [[0]]);
    await rejects(c.delete_branch('old'), sqlite3.OperationalError, /has branches made from it \(older\)/);
    await rejects(c.delete_branch('older'), sqlite3.OperationalError, /is open: close the connections/);
    await older.close();
    await c.delete_branch('older');
    await ts.close();
    await old.close();
    await c.close();
  });

  test('creation is constant time and space: a branch of a large database writes almost nothing', async () => {
    const path = fresh();
    const c = await sqlite3.connect(path, BR);
    await c.execute('CREATE TABLE big(x BLOB)');
    await c.execute('BEGIN');
    for (let i = 0; i < 400; i++) await c.execute('INSERT INTO big VALUES (randomblob(8000))');
    await c.execute('COMMIT');
    const made = await c.create_branch('cheap');
    const list = await c.list_branches();
    assert.ok(list.some((b) => b.name === 'cheap'));
    const logs = [1, 2, 3].map((id) => `${path}-hbr${id}`).filter((p) => existsSync(p));
    assert.equal(logs.length, 1);
    assert.ok(statSync(logs[0]).size <= 64, `branch log is ${statSync(logs[0]).size} bytes`);
    assert.equal(made.base, (await c.versions()).at(-1)?.version);
    await c.delete_branch('cheap');
    assert.equal(existsSync(logs[0]), false);
    await c.close();
  });

  test('many connections write one branch at once (group commit per branch); memory:// storage has branches too', async () => {
    for (const path of [fresh(), `memory://branches-${n}.db`]) {
      const main = await seeded(path);
      await main.create_branch('busy');
      const writers = await Promise.all([0, 1, 2].map(() => sqlite3.connect(path, { ...BR, branch: 'busy' })));
      await Promise.all(writers.map((w, i) => Promise.all(Array.from({ length: 50 }, (_, j) => w.execute('INSERT INTO item VALUES (?, ?, 0)', [100 + i * 50 + j, `w${i}`])))));
      assert.deepEqual(await rows(writers[0], 'SELECT count(*) FROM item'), [[153]]);
      assert.deepEqual(await rows(main, 'SELECT count(*) FROM item'), [[3]]);
      for (const w of writers) await w.close();
      const r = await main.merge_branch('busy');
      assert.equal(r.merged, 150);
      assert.deepEqual(await rows(main, 'SELECT count(*) FROM item'), [[153]]);
      await main.close();
    }
  });

  test('diff_branch counts rows added, changed and removed per table and lists schema changes', async () => {
    const path = fresh();
    const c = await seeded(path);
    await c.execute('CREATE TABLE note(body TEXT)');
    await c.execute("INSERT INTO note VALUES ('a'), ('b')");
    await c.create_branch('work');
    await c.checkout_branch('work');
    await c.execute("INSERT INTO item VALUES (10, 'new', 1), (11, 'new2', 1)");
    await c.execute('UPDATE item SET qty = qty + 1 WHERE id = 2');
    await c.execute('DELETE FROM item WHERE id = 3');
    await c.execute("DELETE FROM note WHERE body = 'a'");
    await c.execute('CREATE TABLE extra(z)');
    const d = await c.diff_branch('work');
    const byTable = Object.fromEntries(d.tables.map((t) => [t.table, [t.added, t.changed, t.removed]]));
    assert.deepEqual(byTable, { item: [2, 1, 1], note: [0, 0, 1] });
    assert.deepEqual(d.schema_changes, [{ object: 'extra', type: 'table', change: 'added' }]);
    await c.close();
  });
});

describe('merge_branch', () => {
  async function setup(): Promise<{ path: string; main: Connection; br: Connection }> {
    const path = fresh();
    const main = await seeded(path);
    await main.create_branch('feature');
    const br = await sqlite3.connect(path, { ...BR, branch: 'feature' });
    return { path, main, br };
  }

  test('non-conflicting changes of both sides merge; the report counts them', async () => {
    const { path, main, br } = await setup();
    await br.execute("INSERT INTO item VALUES (20, 'melon', 1)");
    await br.execute('UPDATE item SET qty = 50 WHERE id = 2');
    await main.execute('UPDATE item SET qty = 30 WHERE id = 3');
    const report = await main.merge_branch('feature');
    assert.equal(report.into, 'main');
    assert.equal(report.conflicts, 0);
    assert.equal(report.merged, 2);
    assert.deepEqual(await rows(main, 'SELECT id, qty FROM item ORDER BY id'), [[1, 3], [2, 50], [3, 30], [20, 1]]);
    // The merge is one version of main.
    assert.equal((await main.versions()).at(-1)?.version, report.version);
    await br.close();
    await main.close();
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])"), 'ok');
  });

  test("a row changed on both sides: 'abort' raises ConflictError and merges nothing, 'ours' and 'theirs' settle it", async () => {
    for (const policy of ['abort', 'ours', 'theirs'] as const) {
      const { main, br } = await setup();
      await br.execute('UPDATE item SET qty = 100 WHERE id = 1');
      await br.execute("INSERT INTO item VALUES (30, 'date', 4)");
      // The same change on both sides is no conflict.
      await br.execute('UPDATE item SET qty = 9 WHERE id = 2');
      await main.execute('UPDATE item SET qty = 9 WHERE id = 2');
      await main.execute('UPDATE item SET qty = 200 WHERE id = 1');
      const before = await rows(main, 'SELECT * FROM item ORDER BY id');
      if (policy === 'abort') {
        const e = await rejects(main.merge_branch('feature'), sqlite3.ConflictError, /changed on both branches/);
        assert.ok(e instanceof sqlite3.OperationalError);
        assert.deepEqual(await rows(main, 'SELECT * FROM item ORDER BY id'), before);
      } else {
        const r = await main.merge_branch('feature', { on_conflict: policy });
        assert.equal(r.conflicts, 1);
        assert.equal(r.merged, policy === 'ours' ? 2 : 3);
        assert.deepEqual(await rows(main, 'SELECT id, qty FROM item ORDER BY id'), [[1, policy === 'ours' ? 200 : 100], [2, 9], [3, 7], [30, 4]]);
        // Merging again brings only what the branch did since.
        await br.execute('UPDATE item SET qty = 31 WHERE id = 30');
        const again = await main.merge_branch('feature', { on_conflict: 'abort' });
        assert.deepEqual([again.merged, again.conflicts], [1, 0]);
        assert.deepEqual(await rows(main, 'SELECT qty FROM item WHERE id = 30'), [[31]]);
      }
      await rejects(main.merge_branch('feature', { on_conflict: 'both' as 'ours' }), sqlite3.ProgrammingError, /on_conflict/);
      await br.close();
      await main.close();
    }
  });

  test('schema changes are refused with the difference listed; merge into another branch', async () => {
    const { path, main, br } = await setup();
    await br.execute('ALTER TABLE item ADD COLUMN color TEXT');
    await rejects(main.merge_branch('feature'), sqlite3.OperationalError, /table item changed on 'feature'/);
    await main.execute('CREATE TABLE side(x)');
    await main.create_branch('target');
    await main.create_branch('source');
    await main.checkout_branch('source');
    await main.execute("INSERT INTO item VALUES (40, 'lime', 1)");
    await main.checkout_branch('main');
    await rejects(main.merge_branch('source', { into: 'feature' }), sqlite3.OperationalError, /their schemas differ/);
    const r = await main.merge_branch('source', { into: 'target' });
    assert.equal(r.merged, 1);
    assert.equal(r.into, 'target');
    const t = await sqlite3.connect(path, { ...BR, branch: 'target' });
    assert.deepEqual(await rows(t, 'SELECT count(*) FROM item WHERE id = 40'), [[1]]);
    assert.deepEqual(await rows(main, 'SELECT count(*) FROM item WHERE id = 40'), [[0]]);
    await t.close();
    await br.close();
    await main.close();
  });
});

describe('property: each branch matches its own model', () => {
  test('random writes on random branches, branch creation and merges', async () => {
    const path = fresh();
    const rand = prng(4242);
    const c = await sqlite3.connect(path, BR);
    await c.execute('CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT)');
    const models = new Map<string, Map<number, string>>([['main', new Map()]]);
    const conns = new Map<string, Connection>([['main', c]]);
    const conn = async (b: string): Promise<Connection> => {
      let x = conns.get(b);
      if (x === undefined) conns.set(b, (x = await sqlite3.connect(path, { ...BR, branch: b })));
      return x;
    };
    let made = 0;
    for (let step = 0; step < 160; step++) {
      const names = [...models.keys()];
      const b = names[Math.floor(rand() * names.length)];
      const m = models.get(b) as Map<number, string>;
      const x = await conn(b);
      const k = Math.floor(rand() * 25);
      const r = rand();
      if (r < 0.5) {
        await x.execute('INSERT OR REPLACE INTO kv VALUES (?, ?)', [k, `${b}${step}`]);
        m.set(k, `${b}${step}`);
      } else if (r < 0.7) {
        await x.execute('DELETE FROM kv WHERE k = ?', [k]);
        m.delete(k);
      } else if (r < 0.8 && made < 6) {
        const name = `b${++made}`;
        await x.create_branch(name);
        models.set(name, new Map(m));
      } else {
        // Compare a random branch with its model.
        const check = names[Math.floor(rand() * names.length)];
        const got = await rows(await conn(check), 'SELECT k, v FROM kv ORDER BY k');
        const want = [...(models.get(check) as Map<number, string>)].sort((p, q) => p[0] - q[0]);
        assert.deepEqual(got, want, `branch ${check} at step ${step}`);
      }
    }
    for (const [b, m] of models) {
      const got = await rows(await conn(b), 'SELECT k, v FROM kv ORDER BY k');
      assert.deepEqual(got, [...m].sort((p, q) => p[0] - q[0]), `branch ${b}`);
    }
    for (const x of conns.values()) await x.close();
    // After reopening, every branch still holds its model.
    for (const [b, m] of models) {
      const x = await sqlite3.connect(path, { ...BR, branch: b });
      assert.deepEqual(await rows(x, 'SELECT k, v FROM kv ORDER BY k'), [...m].sort((p, q) => p[0] - q[0]), `branch ${b} after reopen`);
      assert.deepEqual(await rows(x, 'PRAGMA integrity_check'), [['ok']]);
      await x.close();
    }
  });
});

describe('kills during branch creation, merge and checkpoint', () => {
  const writer = fileURLToPath(new URL('./helpers/branch-crash-writer.js', import.meta.url));
  const iterations = Number(process.env.CRASH_ITERATIONS ?? 12);

  test(`SIGKILL ${iterations} times: no branch or version is half there`, async () => {
    const path = fresh();
    const setup = await sqlite3.connect(path, BR);
    await setup.execute('CREATE TABLE pairs(tag TEXT, pad BLOB)');
    await setup.close();
    let acks = 0;
    let merges = 0;
    for (let i = 0; i < iterations; i++) {
      const child = spawn(process.execPath, [writer, path, String(i)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((r) => setTimeout(r, 250 + ((i * 131) % 900)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // Every branch the catalog lists opens, is intact, and holds only whole merges (marker rows come in pairs).
      const c = await sqlite3.connect(path, BR);
      const branches = await c.list_branches();
      for (const b of branches) {
        const x = b.name === 'main' ? c : await sqlite3.connect(path, { ...BR, branch: b.name });
        assert.deepEqual(await rows(x, 'PRAGMA integrity_check'), [['ok']], `branch ${b.name}`);
        const [[odd]] = await rows(x, 'SELECT count(*) FROM pairs GROUP BY tag HAVING count(*) % 2 = 1 UNION ALL SELECT 0 LIMIT 1');
        assert.equal(odd, 0, `branch ${b.name} has half a transaction`);
        if (x !== c) await x.close();
      }
      // Every version kept reads back intact.
      for (const v of await c.versions()) {
        // The oldest version kept may predate the table.
        if (v.pages <= 1) continue;
        const [[cnt]] = await rows(c, `SELECT count(*) % 2 FROM pairs AS OF VERSION ${v.version}`);
        assert.equal(cnt, 0, `version ${v.version}`);
      }
      const acked = out.split('\n').filter((l) => l.startsWith('acked ')).map((l) => l.slice(6));
      acks += acked.length;
      merges += acked.filter((t) => t.endsWith('-pair')).length;
      for (const tag of acked) {
        const [[found]] = await rows(c, 'SELECT count(*) FROM pairs WHERE tag = ?', [tag]);
        assert.equal(found, 2, `acknowledged ${tag} missing`);
      }
      await c.close();
    }
    assert.ok(acks > iterations, `only ${acks} acknowledged writes`);
    assert.ok(merges > 0, 'no merge was acknowledged before a kill');
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])"), 'ok');
  });
});
