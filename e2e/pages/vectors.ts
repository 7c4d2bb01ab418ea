/**
 * The vector-search page: from the main-thread API, builds a table of
 * clustered vectors with a cosine index, compares the index's answers with an
 * exact search computed here (over the vectors read back from the table),
 * changes rows and reports what searches see, and reports the errors
 * malformed vectors raise. Everything it returns is plain JSON; the data is
 * generated from fixed seeds, so a reloaded page asks the same questions.
 */
import * as sqlite3 from 'heliosdb-nano';
import type { ErrorInfo } from '../protocol.js';
import { thrown } from './checks.js';

type Connection = Awaited<ReturnType<typeof sqlite3.connect>>;

export interface Shape {
  /** Rows in the table. */
  readonly count: number;
  readonly dims: number;
  readonly clusters: number;
  /** Half-width of the uniform noise around a cluster's centre (whose coordinates are in [-1, 1)). */
  readonly spread: number;
}

/** The top k of one query: rowids and distances, closest first. */
export interface Hits {
  readonly ids: number[];
  readonly distances: number[];
}

const INDEX = 'docs_embedding';
const SEARCH = `SELECT rowid, distance FROM vector_search('${INDEX}', ?, ?) ORDER BY distance`;

/** A seeded generator of numbers in [-1, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

function centres(shape: Shape): Float32Array[] {
  const rnd = random(7);
  return Array.from({ length: shape.clusters }, () => Float32Array.from({ length: shape.dims }, rnd));
}

/** Row i (1-based id i + 1) is a point of cluster i % clusters. */
function dataset(shape: Shape): Float32Array[] {
  const cs = centres(shape);
  const rnd = random(11);
  return Array.from({ length: shape.count }, (_, i) => Float32Array.from(cs[i % shape.clusters], (x) => x + rnd() * shape.spread));
}

/** Queries near the cluster centres, not in the table. */
function queries(shape: Shape, n: number): Float32Array[] {
  const cs = centres(shape);
  const rnd = random(99);
  return Array.from({ length: n }, (_, i) => Float32Array.from(cs[(i * 7) % shape.clusters], (x) => x + rnd() * shape.spread));
}

/** A vector far from every cluster (a pattern the clusters do not have). */
function probe(shape: Shape, variant: number): Float32Array {
  return Float32Array.from({ length: shape.dims }, (_, i) => ((i + variant) % 3 === 0 ? 6 : -4 + variant));
}

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - d / Math.sqrt(na * nb);
}

function asFloat32(blob: Uint8Array): Float32Array {
  return new Float32Array(blob.slice().buffer);
}

async function open(database: string): Promise<Connection> {
  return sqlite3.connect(database, { enable_vector_search: true });
}

async function rows(conn: Connection, sql: string, params: sqlite3.BindParams = []): Promise<unknown[][]> {
  return (await (await conn.execute(sql, params)).fetchall()) as unknown[][];
}

async function search(conn: Connection, q: Float32Array, k: number): Promise<Hits> {
  const r = await rows(conn, SEARCH, [q, k]);
  return { ids: r.map((x) => Number(x[0])), distances: r.map((x) => Number(x[1])) };
}

/** Exact top k, computed here over every vector the table holds now (read back from it). */
async function exactTop(conn: Connection, qs: Float32Array[], k: number): Promise<number[][]> {
  const table = (await rows(conn, 'SELECT rowid, embedding FROM docs')).map((r) => [Number(r[0]), asFloat32(r[1] as Uint8Array)] as const);
  return qs.map((q) =>
    table
      .map(([id, v]) => ({ id, d: cosineDistance(q, v) }))
      .sort((a, b) => a.d - b.d || a.id - b.id)
      .slice(0, k)
      .map((x) => x.id),
  );
}

const api = {
  ready: true as const,

  /** A fresh table of `shape.count` clustered vectors and a cosine index on it. */
  async setup(database: string, shape: Shape): Promise<unknown> {
    const conn = await open(database);
    try {
      for (const i of await conn.vector_indexes()) await conn.drop_vector_index(String(i.name));
      await conn.execute('DROP TABLE IF EXISTS docs');
      await conn.execute('CREATE TABLE docs(id INTEGER PRIMARY KEY, cluster INTEGER NOT NULL, embedding BLOB)');
      const data = dataset(shape);
      const t0 = performance.now();
      await conn.executemany(
        'INSERT INTO docs(id, cluster, embedding) VALUES (?, ?, ?)',
        data.map((v, i) => [i + 1, i % shape.clusters, v]),
      );
      await conn.commit();
      const t1 = performance.now();
      await conn.create_vector_index(INDEX, 'docs', 'embedding', { metric: 'cosine' });
      const t2 = performance.now();
      const [count] = (await rows(conn, 'SELECT count(*) FROM docs'))[0] as [number];
      return { storage: conn.storage, count, indexes: await conn.vector_indexes(), insertMs: t1 - t0, indexMs: t2 - t1 };
    } finally {
      await conn.close();
    }
  },

  /** Recall@k of `vector_search` against the exact top k, over `n` queries; and the plan of the plain ORDER BY form. */
  async recall(database: string, shape: Shape, n: number, k: number): Promise<unknown> {
    const conn = await open(database);
    try {
      const qs = queries(shape, n);
      const exact = await exactTop(conn, qs, k);
      let hits = 0;
      const perQuery: number[] = [];
      const t0 = performance.now();
      const found: Hits[] = [];
      for (const q of qs) found.push(await search(conn, q, k));
      const searchMs = (performance.now() - t0) / qs.length;
      found.forEach((f, i) => {
        const h = f.ids.filter((id) => exact[i].includes(id)).length;
        perQuery.push(h / k);
        hits += h;
      });
      const sorted = found.every((f) => f.distances.every((d, i) => i === 0 || d >= f.distances[i - 1]));
      const plainSql = "SELECT id FROM docs ORDER BY vector_distance(embedding, ?, 'cosine') LIMIT 10";
      const plan = (await conn.query_plan(plainSql, [qs[0]])).map((r) => r.detail);
      const plain = (await rows(conn, plainSql, [qs[0]])).map((r) => Number(r[0]));
      // Row i + 1 belongs to cluster i % clusters: the hits of a query near a centre are of its cluster.
      const sameCluster = found[0].ids.every((id) => (id - 1) % shape.clusters === 0);
      return { recall: hits / (qs.length * k), perQuery, sorted, searchMs, plan, plainIsIndexed: JSON.stringify(plain) === JSON.stringify(found[0].ids), sameCluster };
    } finally {
      await conn.close();
    }
  },

  /** Insert, update, delete and a rolled-back insert; what searches see after each. */
  async mutations(database: string, shape: Shape): Promise<unknown> {
    const conn = await open(database);
    try {
      const out: Record<string, unknown> = {};
      // Insert: the new row is the nearest to itself at once.
      const p1 = probe(shape, 0);
      const inserted = (await conn.execute('INSERT INTO docs(cluster, embedding) VALUES (-1, ?)', [p1])).lastrowid;
      await conn.commit();
      out.insert = { id: inserted, hits: await search(conn, p1, 3) };

      // Update: an existing row moves onto another probe.
      const p2 = probe(shape, 1);
      await conn.execute('UPDATE docs SET embedding = ? WHERE id = 17', [p2]);
      await conn.commit();
      out.update = { hits: await search(conn, p2, 1) };

      // Delete: the nearest row of a query goes; the next search agrees with exact search without it.
      const q = queries(shape, 1)[0];
      const before = await search(conn, q, 10);
      const victim = before.ids[0];
      await conn.execute('DELETE FROM docs WHERE id = ?', [victim]);
      await conn.commit();
      const after = await search(conn, q, 10);
      const [exact] = await exactTop(conn, [q], 10);
      out.delete = { victim, before: before.ids, after: after.ids, exact };

      // Rollback: inside the transaction its own insert is found; after ROLLBACK it never is.
      const p3 = probe(shape, 2);
      const pending = (await conn.execute('INSERT INTO docs(cluster, embedding) VALUES (-2, ?)', [p3])).lastrowid;
      const inTransaction = conn.in_transaction;
      const during = await search(conn, p3, 1);
      await conn.rollback();
      const afterRollback = await search(conn, p3, 3);
      const [stillThere] = (await rows(conn, 'SELECT count(*) FROM docs WHERE id = ?', [pending]))[0] as [number];
      out.rollback = { pending, inTransaction, during: during.ids, after: afterRollback.ids, stillThere };

      const [count] = (await rows(conn, 'SELECT count(*) FROM docs'))[0] as [number];
      out.count = count;
      return out;
    } finally {
      await conn.close();
    }
  },

  /** The top k of the fixed queries and probes, the log rows not yet in the stored index, the index list. */
  async results(database: string, shape: Shape, k: number): Promise<unknown> {
    const conn = await open(database);
    try {
      const qs = [...queries(shape, 12), probe(shape, 0), probe(shape, 1), probe(shape, 2)];
      const hits: Hits[] = [];
      for (const q of qs) hits.push(await search(conn, q, k));
      const exact = await exactTop(conn, qs, k);
      const [log] = (await rows(conn, `SELECT count(*) FROM heliosdb_vector_log_${INDEX}`))[0] as [number];
      const [count] = (await rows(conn, 'SELECT count(*) FROM docs'))[0] as [number];
      return { hits, exact, log, count, indexes: await conn.vector_indexes(), storage: conn.storage };
    } finally {
      await conn.close();
    }
  },

  /** save_vector_index: the stored index catches up and the log empties. */
  async save(database: string): Promise<unknown> {
    const conn = await open(database);
    try {
      await conn.save_vector_index(INDEX);
      const [log] = (await rows(conn, `SELECT count(*) FROM heliosdb_vector_log_${INDEX}`))[0] as [number];
      return { log };
    } finally {
      await conn.close();
    }
  },

  /** What malformed vectors raise; the connection stays usable after each. */
  async errors(database: string, shape: Shape): Promise<Record<string, ErrorInfo | 'did not throw' | unknown>> {
    const conn = await open(database);
    try {
      const out: Record<string, ErrorInfo | 'did not throw' | unknown> = {
        notANumber: await thrown(() => conn.execute(`SELECT vector('[1, 2, "three"]')`)),
        badJson: await thrown(() => conn.execute("SELECT vector('[1, 2,')")),
        oddBlob: await thrown(() => conn.execute(SEARCH, [new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 10])),
        nan: await thrown(() => conn.execute(SEARCH, [Float32Array.from({ length: shape.dims }, (_, i) => (i === 3 ? NaN : 1)), 10])),
        wrongDims: await thrown(() => conn.execute(SEARCH, [new Float32Array([1, 0, 0]), 10])),
        badMetric: await thrown(() => conn.execute("SELECT vector_distance(vector('[1,0]'), vector('[0,1]'), 'manhattan')")),
        distanceDims: await thrown(() => conn.execute("SELECT vector_distance(vector('[1,0]'), vector('[0,1,0]'), 'cosine')")),
      };
      out.usableAfter = (await rows(conn, 'SELECT count(*) > 0 FROM docs'))[0][0];
      await using plain = await sqlite3.connect(database);
      out.withoutOption = await thrown(() => plain.create_vector_index('other', 'docs', 'embedding'));
      return out;
    } finally {
      await conn.close();
    }
  },
};

export type VectorsApi = typeof api;
(window as unknown as { heliosVectors: VectorsApi }).heliosVectors = api;
