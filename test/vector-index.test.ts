/**
 * The ANN vector index: correctness against exact search, following inserts,
 * updates, deletes and rollbacks, snapshots, persistence across reopen,
 * filtered search, the ORDER BY … LIMIT rewrite, and errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';

const dir = mkdtempSync(join(tmpdir(), 'heliosdb-vindex-'));
let n = 0;
const fresh = (): string => join(dir, `db${++n}.db`);
const DIMS = 24;

/** Clustered vectors from a fixed seed: `count` rows around 20 centres. */
function dataset(count: number, seed = 11): Float32Array[] {
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const centres = Array.from({ length: 20 }, () => Float32Array.from({ length: DIMS }, rnd));
  return Array.from({ length: count }, (_, i) => Float32Array.from(centres[i % 20], (x) => x + rnd() * 0.15));
}

function exactTop(data: Float32Array[], query: Float32Array, k: number, keep: (i: number) => boolean = () => true): number[] {
  const cos = (a: Float32Array, b: Float32Array): number => {
    let d = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      d += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return 1 - d / Math.sqrt(na * nb);
  };
  return data
    .map((v, i) => ({ id: i + 1, d: cos(v, query) }))
    .filter((x) => keep(x.id))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((x) => x.id);
}

async function ids(c: sqlite3.Connection, sql: string, params: unknown[]): Promise<number[]> {
  return ((await (await c.execute(sql, params)).fetchall()) as unknown[][]).map((r) => Number(r[0]));
}

async function withIndex(count = 2000): Promise<{ path: string; c: sqlite3.Connection; data: Float32Array[] }> {
  const path = fresh();
  const c = await sqlite3.connect(path, { enable_vector_search: true });
  await c.execute('CREATE TABLE docs(id INTEGER PRIMARY KEY, category INTEGER, embedding BLOB)');
  const data = dataset(count);
  await c.executemany('INSERT INTO docs(category, embedding) VALUES (?, ?)', data.map((v, i) => [i % 7, v]));
  await c.commit();
  await c.create_vector_index('docs_embedding', 'docs', 'embedding', { metric: 'cosine', expansion_search: 128 });
  return { path, c, data };
}

const SEARCH = "SELECT s.rowid FROM vector_search('docs_embedding', ?, ?) AS s";

describe('vector index', () => {
  test('top-10 agrees with exact search (recall@10 ≥ 0.95) and joins with the table', async () => {
    const { c, data } = await withIndex();
    try {
      let hits = 0;
      const queries = dataset(30, 99);
      for (const qv of queries) {
        const got = await ids(c, SEARCH, [qv, 10]);
        const want = exactTop(data, qv, 10);
        hits += got.filter((id) => want.includes(id)).length;
      }
      assert.ok(hits / (queries.length * 10) >= 0.95, `recall@10 ${hits / (queries.length * 10)}`);
      const joined = (await (
        await c.execute(
          "SELECT d.id, d.category, s.distance FROM vector_search('docs_embedding', ?, 5) s JOIN docs d ON d.rowid = s.rowid ORDER BY s.distance",
          [data[41]],
        )
      ).fetchall()) as unknown[][];
      assert.equal(joined[0][0], 42);
      assert.equal(joined[0][1], 41 % 7);
      assert.ok((joined[0][2] as number) < 1e-6);
      for (let i = 1; i < joined.length; i++) assert.ok((joined[i][2] as number) >= (joined[i - 1][2] as number));
    } finally {
      await c.close();
    }
  });

  test('the index follows inserts, updates and deletes, and never returns a rolled-back insert', async () => {
    const { c, data } = await withIndex(500);
    try {
      const probe = Float32Array.from({ length: DIMS }, (_, i) => (i % 2 ? 5 : -5));
      await c.execute('INSERT INTO docs(category, embedding) VALUES (0, ?)', [probe]);
      await c.commit();
      const [newId] = await ids(c, SEARCH, [probe, 1]);
      assert.equal(newId, 501);
      // Move row 7 onto the probe: it now ties with 501.
      await c.execute('UPDATE docs SET embedding = ? WHERE id = 7', [probe]);
      await c.commit();
      assert.deepEqual((await ids(c, SEARCH, [probe, 2])).sort((a, b) => a - b), [7, 501]);
      await c.execute('DELETE FROM docs WHERE id = 501');
      await c.commit();
      assert.deepEqual(await ids(c, SEARCH, [probe, 1]), [7]);
      // Inside the transaction its own insert is found (exact search there); after ROLLBACK it is gone.
      const other = Float32Array.from({ length: DIMS }, (_, i) => (i % 3 ? -7 : 7));
      await c.execute('INSERT INTO docs(category, embedding) VALUES (1, ?)', [other]);
      assert.equal(c.in_transaction, true);
      const inTxn = await ids(c, SEARCH, [other, 1]);
      assert.equal(inTxn.length, 1);
      assert.ok(inTxn[0] > 500);
      await c.rollback();
      const after = await ids(c, SEARCH, [other, 1]);
      assert.notEqual(after[0], inTxn[0]);
      assert.ok(after[0] <= data.length, 'a rolled-back row is never returned');
    } finally {
      await c.close();
    }
  });

  test('other connections: a commit is seen at once; an older snapshot gets consistent (exact) answers', async () => {
    const { path, c } = await withIndex(300);
    const r = await sqlite3.connect(path, { enable_vector_search: true, isolation_level: null });
    try {
      const probe = Float32Array.from({ length: DIMS }, () => 3);
      await r.execute('BEGIN');
      const before = await ids(r, SEARCH, [probe, 1]);
      await c.execute('INSERT INTO docs(category, embedding) VALUES (0, ?)', [probe]);
      await c.commit();
      assert.deepEqual(await ids(c, SEARCH, [probe, 1]), [301]);
      // r still reads its snapshot: the new row is not there for it.
      assert.deepEqual(await ids(r, SEARCH, [probe, 1]), before);
      await r.execute('COMMIT');
      assert.deepEqual(await ids(r, SEARCH, [probe, 1]), [301]);
    } finally {
      await r.close();
      await c.close();
    }
  });

  test('stored in the database: survives reopen, is in the file Python reads, is saved and dropped', async () => {
    const { path, c, data } = await withIndex(400);
    await c.execute('INSERT INTO docs(category, embedding) VALUES (3, ?)', [data[0]]);
    await c.commit();
    await c.close();
    const py = execFileSync('python3', [
      '-c',
      'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nprint(c.execute("PRAGMA integrity_check").fetchone()[0], c.execute("SELECT name, length(data) > 0 FROM heliosdb_vector_index").fetchall(), c.execute("SELECT count(*) FROM docs").fetchone()[0])',
      path,
    ])
      .toString()
      .trim();
    assert.equal(py, "ok [('docs_embedding', 1)] 401");
    const c2 = await sqlite3.connect(path, { enable_vector_search: true });
    try {
      assert.deepEqual((await c2.vector_indexes()).map((i) => [i.name, i.table, i.column, i.metric, i.dimensions]), [
        ['docs_embedding', 'docs', 'embedding', 'cosine', DIMS],
      ]);
      assert.deepEqual((await ids(c2, SEARCH, [data[0], 2])).sort((a, b) => a - b), [1, 401]);
      await c2.save_vector_index('docs_embedding');
      assert.deepEqual(await ids(c2, 'SELECT count(*) FROM heliosdb_vector_log_docs_embedding', []), [0]);
      await c2.drop_vector_index('docs_embedding');
      assert.deepEqual(await ids(c2, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'heliosdb_vector%'", []), [0]);
      await assert.rejects(c2.execute(SEARCH, [data[0], 1]), /no such vector index: docs_embedding/);
    } finally {
      await c2.close();
    }
  });

  test('backup() and serialize() carry the index: the copy answers from it', async () => {
    const { c, data } = await withIndex(300);
    try {
      const copyPath = fresh();
      const copy = await sqlite3.connect(copyPath, { enable_vector_search: true });
      await c.backup(copy);
      assert.deepEqual(await ids(copy, SEARCH, [data[10], 1]), [11]);
      await copy.close();
      const image = await c.serialize();
      const mem = await sqlite3.connect(':memory:', { enable_vector_search: true });
      await mem.deserialize(image);
      assert.deepEqual(await ids(mem, SEARCH, [data[20], 1]), [21]);
      await mem.close();
    } finally {
      await c.close();
    }
  });

  test('filtered search: the top k among the rows a WHERE admits', async () => {
    const { c, data } = await withIndex(2000);
    try {
      const qv = dataset(1, 5)[0];
      for (const k of [5, 20]) {
        const got = await ids(c, "SELECT rowid FROM vector_search('docs_embedding', ?, ?, 'category = 3')", [qv, k]);
        const want = exactTop(data, qv, k, (id) => (id - 1) % 7 === 3);
        assert.equal(got.length, k);
        for (const id of got) assert.equal((id - 1) % 7, 3);
        assert.ok(got.filter((id) => want.includes(id)).length >= k * 0.9);
      }
    } finally {
      await c.close();
    }
  });

  test('ORDER BY vector_distance(col, ?, metric) LIMIT k uses the index and agrees with it', async () => {
    const { c, data } = await withIndex(1000);
    try {
      const sql = "SELECT id FROM docs ORDER BY vector_distance(embedding, ?, 'cosine') LIMIT 10";
      const plan = (await c.query_plan(sql, [data[3]])).map((r) => r.detail).join(' | ');
      assert.match(plan, /VIRTUAL TABLE INDEX .*vector_search|SCAN heliosdb_v VIRTUAL TABLE/);
      assert.deepEqual(await ids(c, sql, [data[3]]), await ids(c, SEARCH, [data[3], 10]));
      // With a WHERE: the filtered index search.
      const filtered = await ids(c, "SELECT id FROM docs WHERE category = 2 ORDER BY vector_distance(embedding, ?, 'cosine') LIMIT 5", [data[3]]);
      assert.equal(filtered.length, 5);
      for (const id of filtered) assert.equal((id - 1) % 7, 2);
      // Another metric than the index's: exact search, as written.
      const l2 = await ids(c, "SELECT id FROM docs ORDER BY vector_distance(embedding, ?, 'l2') LIMIT 3", [data[3]]);
      assert.equal(l2[0], 4);
    } finally {
      await c.close();
    }
  });

  test('SQL management functions and errors', async () => {
    const path = fresh();
    await using c = await sqlite3.connect(path, { enable_vector_search: true });
    await c.execute('CREATE TABLE t(v BLOB)');
    await c.executemany('INSERT INTO t VALUES (vector(?))', [['[1,0,0]'], ['[0,1,0]'], ['[0,0,1]']]);
    await c.commit();
    await c.execute(`SELECT vector_index_create('t_v', 't', 'v', '{"metric":"l2"}')`);
    assert.deepEqual(await ids(c, "SELECT rowid FROM vector_search('t_v', '[0.9,0.1,0]', 1)", []), [1]);
    await assert.rejects(c.execute(`SELECT vector_index_create('t_v', 't', 'v')`), /vector index t_v already exists/);
    await assert.rejects(c.execute("SELECT rowid FROM vector_search('t_v', '[1,0]', 1)"), /dimension mismatch: the query has 2, index t_v has 3/);
    await assert.rejects(c.execute("SELECT rowid FROM vector_search('nope', '[1,0,0]', 1)"), /no such vector index: nope/);
    await assert.rejects(c.create_vector_index('bad name', 't', 'v'), sqlite3.ProgrammingError);
    await assert.rejects(c.create_vector_index('x', 'missing', 'v'), /no such table: missing/);
    await c.execute("SELECT vector_index_drop('t_v')");
    assert.deepEqual(await c.vector_indexes(), []);
    // Without enable_vector_search the index operations refuse clearly; the functions still work.
    await using plain = await sqlite3.connect(path);
    await assert.rejects(plain.create_vector_index('t_v', 't', 'v'), (e: unknown) => {
      assert.ok(e instanceof sqlite3.ProgrammingError);
      assert.match((e as Error).message, /enable_vector_search/);
      return true;
    });
    assert.deepEqual(await ids(plain, "SELECT vector_dims(v) FROM t LIMIT 1", []), [3]);
  });
});
