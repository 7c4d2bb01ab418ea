/**
 * Vector search benchmark: our ANN index (USearch HNSW in WASM, stored in the
 * database, queried through SQL) against our own exact SQL search and peers,
 * in one run, on one dataset:
 *
 *   100,000 clustered float32 vectors of 384 dimensions (fixed seed), cosine,
 *   top-10, 1,000 queries from the same distribution (not dataset members);
 *   ground truth by exact brute force in JS, computed once.
 *
 * Systems (each through its public API, one thread, queries one after another):
 * - heliosdb-nano ANN: `create_vector_index` then
 *   `SELECT rowid, distance FROM vector_search('docs_embedding', ?, 10)` with
 *   `await (await conn.execute(sql, [q])).fetchall()`, at several expansion_search
 *   values; also the `ORDER BY vector_distance(...) LIMIT 10` form the index rewrites;
 * - heliosdb-nano exact: `ORDER BY vector_distance(embedding, ?, 'cosine') LIMIT 10`
 *   on an unindexed copy (its own database file);
 * - sqlite-vec-wasm (vec0, exact KNN), hnswlib-wasm and the native `usearch`
 *   addon, installed at bench time into the git-ignored bench/.peers/
 *   (never dependencies; see bench/lib/vector-peers.ts);
 * - diagnostics: our USearch WASM binding called directly (no SQL) on the
 *   index the database stores, to split our per-query cost into engine vs SQL/API.
 *
 * Two phases: every system is built (timed) one after another; then the searches run
 * in ROUNDS rounds, each round going through every system and setting in a rotating
 * order, so that load from elsewhere on the machine falls on all of them alike. QPS is
 * the median of the rounds; recall comes from the first (the searches are deterministic).
 *
 * Usage (after `npm run build && npm run build:test`, or `npm run bench:vector`):
 *
 *   node build/bench/vector-bench.js [--quick] [--only a,b] [--rounds N] [--dir PATH] [--no-write] [--diagnose-build]
 *
 * `--quick`: 10,000 vectors (writes bench/results/vector-quick-latest.json only).
 * `--only`: a subset of ours,exact,sqlite-vec,hnswlib,usearch (writes vector-partial-latest.json).
 * `--rounds`: search rounds (default 3).
 * `--diagnose-build`: also builds an index with the WASM binding directly from the
 *   Float32Arrays (no SQL), to split our build time (adds about as long as our build).
 * A complete run writes bench/results/vector-<timestamp>.json, vector-latest.json and
 * the generated table in docs/benchmarks.md.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sqlite3 from 'heliosdb-nano';
import type * as UsearchApi from '../dist/vector/usearch.js';
import { getGc, parseCommonArgs } from './lib/cli.js';
import { machineInfo, writeResults } from './lib/results.js';
import { groundTruth, makeDataset, recallOf, row, type Dataset, type DatasetSpec } from './lib/vector-data.js';
import {
  ensurePeers,
  hnswlibSerializedEstimate,
  loadHnswlib,
  loadNativeUsearch,
  openSqliteVec,
  peerVersion,
  type NativeIndex,
  type NativeUsearch,
  type PeerName,
  type VecDb,
} from './lib/vector-peers.js';
import { checkTargets, consoleTable, point, r, writeVectorDoc, type Point, type SystemEntry, type VectorBenchResults } from './lib/vector-report.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const BASE: Omit<DatasetSpec, 'count'> = {
  queries: 1000,
  dims: 384,
  topics: 50,
  clusters: 300,
  clusterSpread: 0.7,
  pointSpread: [0.45, 0.8],
  seed: 42,
  k: 10,
};
const FULL: DatasetSpec = { ...BASE, count: 100_000 };
const QUICK: DatasetSpec = { ...BASE, count: 10_000 };
const DISTRIBUTION =
  '50 Gaussian topics, 300 clusters around them (spread 0.7 per dimension), points around their cluster (spread 0.45–0.8), log-normal cluster sizes';
/** Queries for the exact (brute-force) systems: each takes a large fraction of a second. */
const EXACT_QUERIES = 20;
/** Pause after a setting change, before its warm-up (milliseconds). */
const SETTLE_MS = 300;
/** Untimed queries before each measured setting (1 for the exact systems). */
const WARMUP = 20;
/** HNSW parameters shared by every HNSW system. */
const M = 16;
const EF_ADD = 128;
/** expansion_search the index is created with (our default). */
const EF_BUILD = 64;
/** expansion_search / ef settings measured for every HNSW system. */
const EFS = [16, 32, 64, 128] as const;
const INDEX = 'docs_embedding';
const SEARCH_SQL = `SELECT rowid, distance FROM vector_search('${INDEX}', ?, 10)`;
const NEAREST_SQL = "SELECT id FROM docs ORDER BY vector_distance(embedding, ?, 'cosine') LIMIT 10";

const SYSTEM_KEYS = ['ours', 'exact', 'sqlite-vec', 'hnswlib', 'usearch'] as const;
type SystemKey = (typeof SYSTEM_KEYS)[number];

interface Args {
  quick: boolean;
  dir: string;
  write: boolean;
  rounds: number;
  only: SystemKey[];
  filtered: boolean;
  diagnoseBuild: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let only: SystemKey[] = [...SYSTEM_KEYS];
  let filtered = false;
  let diagnoseBuild = false;
  let rounds = 3;
  const common = parseCommonArgs(argv, (a, value) => {
    if (a === '--only') {
      const list = value().split(',');
      for (const s of list) if (!SYSTEM_KEYS.includes(s as SystemKey)) throw new Error(`unknown system ${s} (systems: ${SYSTEM_KEYS.join(', ')})`);
      only = list as SystemKey[];
      filtered = true;
      return true;
    }
    if (a === '--diagnose-build') {
      diagnoseBuild = true;
      return true;
    }
    return false;
  });
  if (argv.includes('--rounds')) rounds = common.rounds;
  return { quick: common.quick, dir: common.dir, write: common.write, rounds, only, filtered, diagnoseBuild };
}

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
/** Process CPU seconds (user + system, all threads) since `c0`. */
const cpuSince = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

/** One measured setting of a system. */
interface Setting {
  readonly setting: string;
  readonly ef: number | null;
  /** Queries per round (the first `queries` of the query set). */
  readonly queries: number;
  /** Run in every round (ANN) or only the first (exact: seconds per query). */
  readonly everyRound: boolean;
  readonly prepare?: () => Promise<void>;
  readonly search: (q: Float32Array) => Promise<ArrayLike<number>> | ArrayLike<number>;
}

/** A built system: what it measured so far, its settings, and how to release it. */
interface Prepared {
  readonly entry: Omit<SystemEntry, 'points'>;
  readonly settings: readonly Setting[];
  close(): Promise<void>;
}

interface Samples {
  readonly rounds: Float64Array[];
  readonly cpu: number[];
  recall: number;
}

async function runSetting(s: Setting, ds: Dataset, gt: Int32Array[], into: Samples, first: boolean, gc: () => void): Promise<void> {
  const { dims, k } = ds.spec;
  if (s.prepare) {
    await s.prepare();
    // Let work a setting change leaves behind (ours: the commit's log checkpoint, which runs
    // on a later macrotask) finish before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }
  gc();
  const warm = s.everyRound ? WARMUP : 1;
  for (let i = 0; i < warm; i++) {
    const out = s.search(row(ds.queries, dims, ds.spec.queries - 1 - i));
    if (out instanceof Promise) await out;
  }
  const lat = new Float64Array(s.queries);
  let recall = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < s.queries; i++) {
    const q = row(ds.queries, dims, i);
    const t0 = performance.now();
    const out = s.search(q);
    const found = out instanceof Promise ? await out : out;
    lat[i] = performance.now() - t0;
    recall += recallOf(found, gt[i], k);
  }
  const cpu = process.cpuUsage(cpu0);
  into.rounds.push(lat);
  into.cpu.push((cpu.user + cpu.system) / 1e6);
  if (first) into.recall = recall;
  let total = 0;
  for (const x of lat) total += x;
  log(`  ${s.setting.padEnd(62)} recall@${k} ${(recall / s.queries).toFixed(4)}  ${((s.queries * 1000) / total).toFixed(0).padStart(7)} QPS`);
}

function skipped(id: SystemEntry['id'], label: string, version: string, how: string, why: string): SystemEntry {
  log(`  skipped: ${why}`);
  return { id, label, version, how, skipped: why, buildSeconds: null, buildCpuSeconds: null, buildNote: '', sizes: {}, sizeNote: '', points: [], extra: {} };
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
}

/** Bytes of `file` and of the other files beside it whose names start with its name (journal, logs). */
function fileSizes(path: string): { main: number; withSidecars: number; files: string } {
  const dir = join(path, '..');
  const base = path.slice(dir.length + 1);
  const names = readdirSync(dir).filter((f) => f.startsWith(base));
  let total = 0;
  for (const f of names) total += statSync(join(dir, f)).size;
  return { main: statSync(path).size, withSidecars: total, files: names.join(', ') };
}

async function fetchRows(c: sqlite3.Connection, sql: string, params: sqlite3.BindParams = []): Promise<unknown[][]> {
  return (await (await c.execute(sql, params)).fetchall()) as unknown[][];
}

async function loadRows(c: sqlite3.Connection, ds: Dataset): Promise<number> {
  const { dims, count } = ds.spec;
  await c.execute('CREATE TABLE docs(id INTEGER PRIMARY KEY, embedding BLOB NOT NULL)');
  const rows: Array<[number, Float32Array]> = [];
  for (let i = 0; i < count; i++) rows.push([i + 1, row(ds.data, dims, i)]);
  const t0 = performance.now();
  await c.executemany('INSERT INTO docs(id, embedding) VALUES (?, ?)', rows);
  await c.commit();
  return seconds(t0);
}

const firstColumn = (rows: unknown[][]): number[] => rows.map((x) => Number(x[0]));

// ---------------------------------------------------------------------------------------------
// Ours: the ANN index through SQL, and (diagnostics) the same index through the binding.

async function prepareOurs(ds: Dataset, gt: Int32Array[], dir: string, diag: Record<string, number | string>, diagnoseBuild: boolean): Promise<Prepared[]> {
  const { dims, count, k } = ds.spec;
  const path = join(dir, 'ann.db');
  let c = await sqlite3.connect(path, { enable_vector_search: true });
  const extra: Record<string, number | string> = {};
  const sizes: Record<string, number> = {};
  let buildSeconds: number;
  let buildCpu: number;
  let blob: Uint8Array;
  try {
    extra.insertSeconds = r(await loadRows(c, ds), 3);
    log(`  inserted ${count} rows in ${extra.insertSeconds} s (executemany, one transaction)`);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await c.create_vector_index(INDEX, 'docs', 'embedding', { metric: 'cosine', connectivity: M, expansion_add: EF_ADD, expansion_search: EF_BUILD });
    const createSeconds = seconds(t0);
    const t1 = performance.now();
    await c.commit();
    const commitSeconds = seconds(t1);
    buildSeconds = createSeconds + commitSeconds;
    buildCpu = cpuSince(c0);
    extra.createVectorIndexSeconds = r(createSeconds, 3);
    extra.commitSeconds = r(commitSeconds, 3);
    extra.buildVectorsPerSecond = Math.round(count / buildSeconds);
    log(`  create_vector_index ${createSeconds.toFixed(1)} s + commit ${commitSeconds.toFixed(2)} s (${extra.buildVectorsPerSecond} vectors/s)`);

    const [[blobBytes]] = await fetchRows(c, 'SELECT length(data) FROM heliosdb_vector_index WHERE name = ?', [INDEX]);
    sizes.indexBlob = Number(blobBytes);
    const [[pages]] = await fetchRows(c, 'PRAGMA page_count');
    const [[pageSize]] = await fetchRows(c, 'PRAGMA page_size');
    sizes.database = Number(pages) * Number(pageSize);
    // The engine writes commits to a log beside the file (`-hlog`) and checkpoints later: count both.
    const files = fileSizes(path);
    sizes.onDisk = files.withSidecars;
    extra.filesOnDisk = files.files;
    extra.mainFileBytes = files.main;
    extra.rawVectorBytes = count * dims * 4;
    extra.orderByPlan = (await c.query_plan(NEAREST_SQL, [row(ds.queries, dims, 0)])).map((p) => p.detail).join(' | ');

    // Diagnostics: what reading every vector back through the public API costs.
    const t2 = performance.now();
    const all = await fetchRows(c, 'SELECT rowid, embedding FROM docs');
    diag.readAllVectorsThroughApiSeconds = r(seconds(t2), 3);
    all.length = 0;
    const [[data]] = await fetchRows(c, 'SELECT data FROM heliosdb_vector_index WHERE name = ?', [INDEX]);
    blob = data as Uint8Array;

    // Close (the engine checkpoints its log into the file) and reopen: the first search loads
    // the stored index (no rebuild); the searches below run on this reopened connection.
    const t3 = performance.now();
    await c.close();
    extra.closeSeconds = r(seconds(t3), 3);
    const closed = fileSizes(path);
    sizes.fileAfterClose = closed.withSidecars;
    extra.filesAfterClose = closed.files;
    const t4 = performance.now();
    c = await sqlite3.connect(path, { enable_vector_search: true });
    extra.reopenSeconds = r(seconds(t4), 3);
    const t5 = performance.now();
    const first = firstColumn(await fetchRows(c, SEARCH_SQL, [row(ds.queries, dims, 0)]));
    extra.reopenFirstSearchSeconds = r(seconds(t5), 3);
    extra.reopenFirstSearchRecall = recallOf(first, gt[0], k);
    log(`  closed in ${extra.closeSeconds} s, reopened in ${extra.reopenSeconds} s; first search (loads the stored index) ${extra.reopenFirstSearchSeconds} s`);
  } catch (e) {
    await c.close();
    throw e;
  }
  const conn = c;

  // The index's search-time expansion is an option stored in its catalog row and read by every
  // search, so changing it there gives the same index as re-creating it with that
  // expansion_search (the graph does not depend on it), without a rebuild per setting.
  const setEf = (ef: number) => async (): Promise<void> => {
    await conn.execute('UPDATE heliosdb_vector_index SET expansion_search = ? WHERE name = ?', [ef, INDEX]);
    await conn.commit();
  };
  const settings: Setting[] = EFS.map((ef) => ({
    setting: `vector_search, expansion_search ${ef}`,
    ef,
    queries: ds.spec.queries,
    everyRound: true,
    prepare: setEf(ef),
    search: async (q: Float32Array) => firstColumn(await fetchRows(conn, SEARCH_SQL, [q])),
  }));
  settings.push({
    setting: `ORDER BY vector_distance LIMIT ${k} (rewritten to the index), expansion_search ${EF_BUILD}`,
    ef: EF_BUILD,
    queries: ds.spec.queries,
    everyRound: true,
    prepare: setEf(EF_BUILD),
    search: async (q: Float32Array) => firstColumn(await fetchRows(conn, NEAREST_SQL, [q])),
  });
  const ours: Prepared = {
    entry: {
      id: 'heliosdb-ann',
      label: 'heliosdb-nano, ANN index',
      version: sqlite3.version,
      how: `create_vector_index(metric cosine, connectivity ${M}, expansion_add ${EF_ADD}); ${SEARCH_SQL} via await (await conn.execute(sql, [Float32Array])).fetchall()`,
      skipped: null,
      buildSeconds: r(buildSeconds, 3),
      buildCpuSeconds: r(buildCpu, 3),
      buildNote: 'create_vector_index (reads the rows, builds the HNSW graph in WASM, serializes it into the database) + commit; rows inserted beforehand',
      sizes,
      sizeNote: 'indexBlob: length(heliosdb_vector_index.data); database: page_count × page_size (table + index); onDisk: the database file and its commit log (-hlog) after the build',
      extra,
    },
    settings,
    close: () => conn.close(),
  };

  // The same index through the binding, no SQL: the engine's own speed.
  const usearch = (await import(new URL('../../dist/vector/usearch.js', import.meta.url).href)) as typeof UsearchApi;
  const lib = await usearch.loadUsearchNode();
  const bindingExtra: Record<string, number | string> = {};
  let bindingBuild: number | null = null;
  let bindingBuildCpu: number | null = null;
  if (diagnoseBuild) {
    const fresh = usearch.UsearchIndex.create(lib, { dimensions: dims, metric: 'cos', connectivity: M, expansionAdd: EF_ADD, expansionSearch: EF_BUILD });
    try {
      fresh.reserve(count);
      const t6 = performance.now();
      const c6 = process.cpuUsage();
      for (let i = 0; i < count; i++) fresh.add(BigInt(i + 1), row(ds.data, dims, i));
      bindingBuild = seconds(t6);
      bindingBuildCpu = cpuSince(c6);
      log(`  binding build (no SQL): ${bindingBuild.toFixed(1)} s (${Math.round(count / bindingBuild)} vectors/s)`);
      const t7 = performance.now();
      bindingExtra.serializeSeconds = r((fresh.serialize(), seconds(t7)), 3);
    } finally {
      fresh.free();
    }
  }
  const t5 = performance.now();
  const index = usearch.UsearchIndex.load(lib, blob);
  bindingExtra.loadSeconds = r(seconds(t5), 3);
  // How the engine maps rowids to USearch keys is its own business (a shift, for instance):
  // learn it from a vector that is in the table (rowid 1 is its own nearest neighbour).
  const keyOffset = index.search(row(ds.data, dims, 0), 1, EF_BUILD).keys[0] - 1n;
  bindingExtra.keyOffset = keyOffset.toString();
  const binding: Prepared = {
    entry: {
      id: 'heliosdb-binding',
      label: 'diagnostic: our USearch WASM binding, no SQL',
      version: `usearch ${lib.version} (WASM)`,
      how: 'UsearchIndex.load(the stored index blob); index.search(q, 10, expansion) directly (src/vector/usearch.ts)',
      skipped: null,
      buildSeconds: bindingBuild === null ? null : r(bindingBuild, 3),
      buildCpuSeconds: bindingBuildCpu === null ? null : r(bindingBuildCpu, 3),
      buildNote: bindingBuild === null ? 'not built here (--diagnose-build does)' : 'UsearchIndex.add per vector from Float32Arrays, no SQL',
      sizes: { serialized: blob.length },
      sizeNote: 'the same bytes as the stored index blob',
      extra: bindingExtra,
    },
    settings: EFS.map((ef) => ({
      setting: `UsearchIndex.search, expansion ${ef}`,
      ef,
      queries: ds.spec.queries,
      everyRound: true,
      search: (q: Float32Array) => {
        const res = index.search(q, k, ef);
        return Array.from(res.keys.subarray(0, res.count), (key) => Number(BigInt.asIntN(64, key - keyOffset)));
      },
    })),
    async close() {
      index.free();
    },
  };
  return [ours, binding];
}

async function prepareExact(ds: Dataset, dir: string): Promise<Prepared> {
  const path = join(dir, 'exact.db');
  const c = await sqlite3.connect(path);
  try {
    const insertSeconds = await loadRows(c, ds);
    const plan = (await c.query_plan(NEAREST_SQL, [row(ds.queries, ds.spec.dims, 0)])).map((p) => p.detail).join(' | ');
    const [[pages]] = await fetchRows(c, 'PRAGMA page_count');
    const [[pageSize]] = await fetchRows(c, 'PRAGMA page_size');
    return {
      entry: {
        id: 'heliosdb-exact',
        label: 'heliosdb-nano, exact SQL',
        version: sqlite3.version,
        how: `${NEAREST_SQL} on a table without a vector index (its own database)`,
        skipped: null,
        buildSeconds: null,
        buildCpuSeconds: null,
        buildNote: 'no index',
        sizes: { database: Number(pages) * Number(pageSize) },
        sizeNote: 'the table alone (no index)',
        extra: { insertSeconds: r(insertSeconds, 3), plan },
      },
      settings: [
        {
          setting: `ORDER BY vector_distance LIMIT ${ds.spec.k} (no index)`,
          ef: null,
          queries: EXACT_QUERIES,
          everyRound: false,
          search: async (q: Float32Array) => firstColumn(await fetchRows(c, NEAREST_SQL, [q])),
        },
      ],
      close: () => c.close(),
    };
  } catch (e) {
    await c.close();
    throw e;
  }
}

async function prepareSqliteVec(ds: Dataset): Promise<Prepared | SystemEntry> {
  const { dims, count } = ds.spec;
  const label = 'sqlite-vec-wasm (vec0, exact KNN)';
  const how = `vec0(embedding float[${dims}] distance_metric=cosine) in an in-memory database; oo1 prepared statements; SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = 10`;
  let db: VecDb;
  try {
    db = await openSqliteVec(ROOT);
  } catch (e) {
    return skipped('sqlite-vec-wasm', label, peerVersion(ROOT, 'sqlite-vec-wasm'), how, `cannot be loaded in Node: ${errorText(e)}`);
  }
  const blob = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  try {
    const version = `${peerVersion(ROOT, 'sqlite-vec-wasm')} (sqlite-vec ${String(db.selectValue('SELECT vec_version()'))}, SQLite ${String(db.selectValue('SELECT sqlite_version()'))})`;
    db.exec(`CREATE VIRTUAL TABLE v USING vec0(embedding float[${dims}] distance_metric=cosine)`);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    db.exec('BEGIN');
    const ins = db.prepare('INSERT INTO v(rowid, embedding) VALUES (?, ?)');
    for (let i = 0; i < count; i++) {
      ins.bind([i + 1, blob(row(ds.data, dims, i))]).step();
      ins.reset();
    }
    ins.finalize();
    db.exec('COMMIT');
    const build = seconds(t0);
    const buildCpu = cpuSince(c0);
    log(`  inserted ${count} vectors in ${build.toFixed(1)} s`);
    const bytes = Number(db.selectValue('PRAGMA page_count')) * Number(db.selectValue('PRAGMA page_size'));
    const q = db.prepare('SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = 10');
    const vec = db;
    return {
      entry: {
        id: 'sqlite-vec-wasm',
        label,
        version,
        how,
        skipped: null,
        buildSeconds: r(build, 3),
        buildCpuSeconds: r(buildCpu, 3),
        buildNote: 'inserts into the vec0 table in one transaction (no ANN index: nothing else to build)',
        sizes: { database: bytes },
        sizeNote: 'page_count × page_size of its in-memory database (vec0 shadow tables)',
        extra: { license: 'UNLICENSED (its package.json): a comparison point only, never a dependency' },
      },
      settings: [
        {
          setting: 'vec0 MATCH ? AND k = 10',
          ef: null,
          queries: EXACT_QUERIES,
          everyRound: false,
          search: (qv: Float32Array) => {
            q.bind([blob(qv)]);
            const ids: number[] = [];
            while (q.step()) ids.push(Number(q.get(0)));
            q.reset();
            return ids;
          },
        },
      ],
      async close() {
        q.finalize();
        vec.close();
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}

async function prepareHnswlib(ds: Dataset): Promise<Prepared | SystemEntry> {
  const { dims, count, k } = ds.spec;
  const label = 'hnswlib-wasm';
  const how = `HierarchicalNSW('cosine', ${dims}); initIndex(n, M ${M}, efConstruction ${EF_ADD}); addPoint per vector; setEfSearch(ef); searchKnn(q, 10)`;
  let lib: Awaited<ReturnType<typeof loadHnswlib>>;
  try {
    lib = await loadHnswlib(ROOT);
  } catch (e) {
    return skipped('hnswlib-wasm', label, peerVersion(ROOT, 'hnswlib-wasm'), how, `cannot be loaded in Node: ${errorText(e)}`);
  }
  const index = new lib.HierarchicalNSW('cosine', dims, '');
  try {
    index.initIndex(count, M, EF_ADD, 100);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < count; i++) index.addPoint(row(ds.data, dims, i), i + 1, false);
    const build = seconds(t0);
    const buildCpu = cpuSince(c0);
    log(`  built in ${build.toFixed(1)} s (${Math.round(count / build)} vectors/s)`);
    return {
      entry: {
        id: 'hnswlib-wasm',
        label,
        version: peerVersion(ROOT, 'hnswlib-wasm'),
        how,
        skipped: null,
        buildSeconds: r(build, 3),
        buildCpuSeconds: r(buildCpu, 3),
        buildNote: 'addPoint per vector',
        sizes: { serializedEstimate: hnswlibSerializedEstimate(count, dims, M) },
        sizeNote: "estimated from hnswlib's file format (its writeIndex writes to an emscripten file system this package does not expose in Node)",
        extra: { wasmHeapBytes: lib.HEAP8.length, packaging: 'built for browsers only (emscripten ENVIRONMENT=web, wasm embedded as base64); loaded here with a window global during module start-up' },
      },
      settings: EFS.map((ef) => ({
        setting: `searchKnn, ef ${ef}`,
        ef,
        queries: ds.spec.queries,
        everyRound: true,
        prepare: async () => index.setEfSearch(ef),
        search: (q: Float32Array) => index.searchKnn(q, k, undefined).neighbors,
      })),
      async close() {
        index.delete();
      },
    };
  } catch (e) {
    index.delete();
    throw e;
  }
}

async function prepareNative(ds: Dataset, dir: string): Promise<Prepared | SystemEntry> {
  const { dims, count, k } = ds.spec;
  const label = 'usearch (native addon)';
  const how = `new Index({ metric: 'cos', connectivity: ${M}, expansion_add: ${EF_ADD}, expansion_search: ef }); add(keys, matrix, 1 thread); search(q, 10, 1 thread)`;
  let U: NativeUsearch;
  try {
    U = await loadNativeUsearch(ROOT);
  } catch (e) {
    return skipped('usearch-native', label, peerVersion(ROOT, 'usearch'), how, `cannot be loaded in Node: ${errorText(e)}`);
  }
  const config = { dimensions: dims, metric: 'cos' as const, quantization: 'f32' as const, connectivity: M, expansion_add: EF_ADD, multi: false };
  const index = new U.Index({ ...config, expansion_search: EF_BUILD });
  const keys = BigUint64Array.from({ length: count }, (_, i) => BigInt(i + 1));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  index.add(keys, ds.data, 1);
  const build = seconds(t0);
  const buildCpu = cpuSince(c0);
  log(`  built in ${build.toFixed(1)} s (${Math.round(count / build)} vectors/s, one thread)`);
  const file = join(dir, 'native.usearch');
  const t1 = performance.now();
  index.save(file);
  const saveSeconds = seconds(t1);
  // The JS API fixes expansion_search at construction: one index per setting, loaded from the file.
  const byEf = new Map<number, NativeIndex>();
  for (const ef of EFS) {
    const j = new U.Index({ ...config, expansion_search: ef });
    j.load(file);
    byEf.set(ef, j);
  }
  return {
    entry: {
      id: 'usearch-native',
      label,
      version: `${peerVersion(ROOT, 'usearch')} (SIMD kernels available: ${U.hardwareAcceleration})`,
      how,
      skipped: null,
      buildSeconds: r(build, 3),
      buildCpuSeconds: r(buildCpu, 3),
      buildNote: 'one add() of the whole matrix, threads = 1',
      sizes: { serialized: statSync(file).size },
      sizeNote: 'index.save(file): the file size',
      extra: { saveSeconds: r(saveSeconds, 3) },
    },
    settings: EFS.map((ef) => {
      const j = byEf.get(ef) as NativeIndex;
      return {
        setting: `search, expansion_search ${ef}`,
        ef,
        queries: ds.spec.queries,
        everyRound: true,
        search: (q: Float32Array) => Array.from(j.search(q, k, 1).keys, Number),
      };
    }),
    async close() {
      byEf.clear();
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const spec = args.quick ? QUICK : FULL;
  const gc = getGc();
  const started = performance.now();
  const loadBefore = loadavg();
  const dir = mkdtempSync(join(args.dir, 'heliosdb-vector-bench-'));
  const systems: SystemEntry[] = [];
  const prepared: Prepared[] = [];
  const diagnostics: Record<string, number | string> = {};
  // sqlite-vec-wasm is a debug-ish emscripten build that reports each wasm heap growth on console.warn.
  const warn = console.warn;
  console.warn = (...a: unknown[]): void => {
    if (typeof a[0] === 'string' && a[0].startsWith('Heap resize call')) return;
    warn(...a);
  };
  try {
    const peers: Array<[SystemKey, PeerName]> = [
      ['sqlite-vec', 'sqlite-vec-wasm'],
      ['hnswlib', 'hnswlib-wasm'],
      ['usearch', 'usearch'],
    ];
    const wanted = peers.filter(([key]) => args.only.includes(key)).map(([, name]) => name);
    const peerStatus = ensurePeers(ROOT, wanted, log);

    log(`dataset: ${spec.count} × ${spec.dims}, ${spec.queries} queries, seed ${spec.seed}`);
    let t0 = performance.now();
    const ds = makeDataset(spec);
    log(`  generated in ${seconds(t0).toFixed(1)} s`);
    t0 = performance.now();
    const gt = await groundTruth(ds);
    const groundTruthSeconds = seconds(t0);
    log(`  ground truth (exact, JS, worker threads) in ${groundTruthSeconds.toFixed(1)} s`);

    // Phase 1: build, one system after another.
    const build = async (key: SystemKey, title: string, run: () => Promise<Prepared | Prepared[] | SystemEntry>): Promise<void> => {
      if (!args.only.includes(key)) return;
      gc();
      log(`build: ${title}`);
      const t = performance.now();
      const out = await run();
      if (Array.isArray(out)) prepared.push(...out);
      else if ('settings' in out) prepared.push(out);
      else systems.push(out);
      log(`  (${seconds(t).toFixed(1)} s)`);
    };
    const peer = (name: PeerName, id: SystemEntry['id'], label: string, run: () => Promise<Prepared | SystemEntry>) => async (): Promise<Prepared | SystemEntry> => {
      const why = peerStatus.get(name) ?? null;
      return why !== null ? skipped(id, label, 'not installed', '', why) : run();
    };
    await build('ours', 'heliosdb-nano ANN index', () => prepareOurs(ds, gt, dir, diagnostics, args.diagnoseBuild));
    await build('exact', 'heliosdb-nano, unindexed copy for exact SQL search', () => prepareExact(ds, dir));
    await build('sqlite-vec', 'sqlite-vec-wasm', peer('sqlite-vec-wasm', 'sqlite-vec-wasm', 'sqlite-vec-wasm (vec0, exact KNN)', () => prepareSqliteVec(ds)));
    await build('hnswlib', 'hnswlib-wasm', peer('hnswlib-wasm', 'hnswlib-wasm', 'hnswlib-wasm', () => prepareHnswlib(ds)));
    await build('usearch', 'usearch (native)', peer('usearch', 'usearch-native', 'usearch (native addon)', () => prepareNative(ds, dir)));

    // Phase 2: search rounds, every system and setting in each, rotating the order.
    const samples = new Map<Setting, Samples>();
    for (let round = 0; round < args.rounds; round++) {
      const order = prepared.map((_, i) => prepared[(i + round) % prepared.length]);
      for (const p of order) {
        const due = p.settings.filter((s) => round === 0 || s.everyRound);
        if (due.length > 0) log(`search round ${round + 1}/${args.rounds}: ${p.entry.id}`);
        for (const s of due) {
          let into = samples.get(s);
          if (into === undefined) samples.set(s, (into = { rounds: [], cpu: [], recall: 0 }));
          await runSetting(s, ds, gt, into, round === 0, gc);
        }
      }
    }
    for (const p of prepared) {
      const points: Point[] = p.settings.map((s) => {
        const got = samples.get(s) as Samples;
        return point(s.setting, s.ef, got.rounds, got.cpu, got.recall);
      });
      systems.push({ ...p.entry, points });
    }
    for (const p of prepared.splice(0)) await p.close();
    const rank: Record<SystemEntry['id'], number> = {
      'heliosdb-ann': 0,
      'heliosdb-exact': 1,
      'sqlite-vec-wasm': 2,
      'hnswlib-wasm': 3,
      'usearch-native': 4,
      'heliosdb-binding': 5,
    };
    systems.sort((a, b) => rank[a.id] - rank[b.id]);

    // Where our per-query time goes: SQL + API around the same search the binding does alone.
    const ann = systems.find((s) => s.id === 'heliosdb-ann');
    const binding = systems.find((s) => s.id === 'heliosdb-binding');
    const native = systems.find((s) => s.id === 'usearch-native');
    for (const ef of EFS) {
      const a = ann?.points.find((p) => p.ef === ef && p.setting.startsWith('vector_search'));
      const b = binding?.points.find((p) => p.ef === ef);
      const n = native?.points.find((p) => p.ef === ef);
      if (a && b) diagnostics[`ef${ef}_sqlAndApiMsPerQuery`] = r(1000 / a.qps - 1000 / b.qps, 4);
      if (a && b) diagnostics[`ef${ef}_oursOverBindingQps`] = r(a.qps / b.qps, 3);
      if (b && n) diagnostics[`ef${ef}_bindingOverNativeQps`] = r(b.qps / n.qps, 3);
    }
    const annBuild = ann?.buildSeconds ?? null;
    const nativeBuild = native?.buildSeconds ?? null;
    if (annBuild !== null && nativeBuild !== null) diagnostics.buildSecondsOursOverNative = r(annBuild / nativeBuild, 2);
    const bindingBuild = binding?.buildSeconds ?? null;
    if (annBuild !== null && bindingBuild !== null) diagnostics.buildSecondsOursOverBinding = r(annBuild / bindingBuild, 2);

    const now = new Date();
    const loadAfter = loadavg();
    const res: VectorBenchResults = {
      benchmark: 'vector',
      timestamp: now.toISOString(),
      quick: args.quick,
      dataset: { ...spec, distribution: DISTRIBUTION, exactQueries: EXACT_QUERIES },
      machine: {
        ...machineInfo(),
        dataDir: args.dir,
        loadAverage1mBefore: r(loadBefore[0], 2),
        loadAverage1mAfter: r(loadAfter[0], 2),
        searchRounds: args.rounds,
      },
      groundTruthSeconds: r(groundTruthSeconds, 2),
      systems,
      targets: checkTargets(systems),
      diagnostics,
      totalSeconds: r(seconds(started), 1),
    };
    console.log(consoleTable(res));
    console.log(JSON.stringify({ targets: res.targets, diagnostics }, null, 2));
    console.log(`total ${res.totalSeconds} s`);
    if (args.write) {
      writeResults(ROOT, 'vector', res, { quick: args.quick, partial: args.filtered, now }, (doc) => writeVectorDoc(doc, res));
    }
  } finally {
    for (const p of prepared) await p.close().catch((e: unknown) => log(`close: ${errorText(e)}`));
    console.warn = warn;
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
