/**
 * The vector SQL functions: constructors, JSON, quantised forms, distances
 * against a plain-JS reference, and the errors for bad vectors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as sqlite3 from 'heliosdb-nano';

async function one(c: sqlite3.Connection, sql: string, params?: unknown[]): Promise<unknown[]> {
  return (await (await c.execute(sql, params)).fetchone()) as unknown[];
}

async function fails(c: sqlite3.Connection, sql: string, message: RegExp, params?: unknown[]): Promise<void> {
  await assert.rejects(c.execute(sql, params), (e: unknown) => {
    assert.ok(e instanceof sqlite3.OperationalError, `expected OperationalError, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

function reference(a: number[], b: number[], metric: string): number {
  const dot = a.reduce((s, x, i) => s + x * b[i], 0);
  const na = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
  const nb = Math.sqrt(b.reduce((s, x) => s + x * x, 0));
  const l2sq = a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0);
  return { cosine: 1 - dot / (na * nb), dot: 1 - dot, l2: Math.sqrt(l2sq), l2sq }[metric] as number;
}

describe('vector functions', () => {
  test('vector() from JSON text and from Float32Array parameters is a BLOB of little-endian float32', async () => {
    await using c = await sqlite3.connect(':memory:');
    const [blob] = await one(c, "SELECT vector('[1.5, -2, 0.25]')");
    assert.ok(blob instanceof Uint8Array);
    assert.deepEqual(Array.from(new Float32Array((blob as Uint8Array).slice().buffer)), [1.5, -2, 0.25]);
    const [back] = await one(c, 'SELECT vector_to_json(?)', [new Float32Array([0.1, 2, -3e-2])]);
    assert.equal(back, '[0.1,2,-0.03]');
    assert.deepEqual(await one(c, "SELECT vector_dims('[1,2,3,4]'), vector_dims(vector('[1]'))"), [4, 1]);
    assert.deepEqual(await one(c, 'SELECT vector(NULL), vector_distance(NULL, ?, ?)', [new Float32Array([1]), 'l2']), [null, null]);
  });

  test('vector_distance matches a reference for cosine, l2, l2sq and dot', async () => {
    await using c = await sqlite3.connect(':memory:');
    let seed = 3;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (let t = 0; t < 20; t++) {
      const a = Array.from({ length: 16 }, rnd).map((x) => Math.fround(x));
      const b = Array.from({ length: 16 }, rnd).map((x) => Math.fround(x));
      for (const metric of ['cosine', 'l2', 'l2sq', 'dot']) {
        const [d] = await one(c, 'SELECT vector_distance(?, ?, ?)', [new Float32Array(a), new Float32Array(b), metric]);
        assert.ok(Math.abs((d as number) - reference(a, b, metric)) < 1e-5, `${metric}: ${String(d)} vs ${reference(a, b, metric)}`);
      }
    }
    // JSON and BLOB mix; the seed's exact form works as written.
    await c.execute('CREATE TABLE docs(id INTEGER PRIMARY KEY, embedding BLOB)');
    await c.executemany('INSERT INTO docs(embedding) VALUES (vector(?))', [['[1,0]'], ['[0,1]'], ['[0.8,0.6]']]);
    const near = await (await c.execute("SELECT id FROM docs WHERE vector_distance(embedding, ?, 'cosine') < 0.3 ORDER BY id", ['[1,0]'])).fetchall();
    assert.deepEqual(near, [[1], [3]]);
  });

  test('f16 and int8 forms are smaller and decode close to the original', async () => {
    await using c = await sqlite3.connect(':memory:');
    const v = '[0.5, -0.25, 0.125, 1]';
    const [f16len, i8len, f32len] = await one(c, 'SELECT length(vector_f16(?)), length(vector_int8(?)), length(vector(?))', [v, v, v]);
    assert.deepEqual([f16len, i8len, f32len], [4 + 8, 8 + 4, 16]);
    const [d16, d8] = await one(c, "SELECT vector_distance(vector_f16(?), ?, 'l2'), vector_distance(vector_int8(?), ?, 'l2')", [v, v, v, v]);
    assert.ok((d16 as number) < 1e-3 && (d8 as number) < 1e-2);
  });

  test('malformed vectors, dimension mismatches and unknown metrics fail with a clear OperationalError', async () => {
    await using c = await sqlite3.connect(':memory:');
    await fails(c, "SELECT vector_distance('[1,2]', '[1,2,3]', 'cosine')", /dimension mismatch: 2 vs 3/);
    await fails(c, "SELECT vector('[1, \"a\"]')", /element 1 is "a", not a number/);
    await fails(c, "SELECT vector('not json')", /malformed vector text/);
    await fails(c, "SELECT vector('[]')", /at least one dimension/);
    await fails(c, "SELECT vector(x'010203')", /multiple of 4 bytes/);
    await fails(c, 'SELECT vector(?)', /element 0 is NaN/, [new Float32Array([NaN])]);
    await fails(c, "SELECT vector_distance('[1]', '[1]', 'manhattan')", /unknown metric "manhattan"/);
    await fails(c, 'SELECT vector(42)', /expected a vector/);
  });

  test('vector functions work in grouped autocommit writes from several connections', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const path = join(mkdtempSync(join(tmpdir(), 'heliosdb-vec-')), 'v.db');
    await using setup = await sqlite3.connect(path);
    await setup.execute('CREATE TABLE v(e BLOB)');
    await setup.commit();
    const conns = await Promise.all([1, 2, 3].map(() => sqlite3.connect(path, { isolation_level: null })));
    await Promise.all(conns.map((k, i) => k.execute('INSERT INTO v VALUES (vector(?))', [`[${i}, 1]`])));
    assert.deepEqual(await one(setup, 'SELECT count(*), sum(vector_dims(e)) FROM v'), [3, 6]);
    for (const k of conns) await k.close();
  });
});
