/**
 * The vector engine outside Node, in the real runtimes (both come from the dev dependencies):
 *  - Deno (npm `deno`): the USearch binding (dist/vector/usearch.js, wasm loaded from its file URL)
 *    and the whole database (dist/index.js: connect(':memory:', { enable_vector_search: true }),
 *    create_vector_index, vector_search), run as `deno run -A test/fixtures/deno-vectors.mjs`.
 *  - workerd (npm `miniflare`): a module Worker (test/fixtures/usearch-worker.mjs) that imports
 *    usearch.wasm as a compiled module and answers a fetch with the same USearch checks; a second
 *    route shows that compiling the same bytes at run time is refused by the embedder, so a
 *    regression to byte compilation would fail here.
 * The checks themselves live in test/fixtures/runtime-check.mjs (plain JS, loaded as is by every
 * runtime); the exact answers are recomputed here, in Node, by brute force over the same data.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as DistanceApi from '../dist/vector/distance.js';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Miniflare } from 'miniflare';

/** The repository (this file runs from build/test/). */
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string): string => join(root, 'test/fixtures', name);

// ---------------------------------------------------------------------------------------------
// The data and the exact answers.

interface Params {
  n: number;
  dims: number;
  queries: number;
  k: number;
}
interface RuntimeCheck {
  PARAMS: Params;
  dataset(): { data: Float32Array[]; queries: Float32Array[] };
}
/** What usearchCheck() reports (keys are the data positions). */
interface UsearchReport {
  version: string;
  size: number;
  self: number[];
  topk: Hits[];
  even: Hits[];
  reloaded: Hits[];
}
interface Hits {
  keys: number[];
  distances: number[];
}
/** What databaseCheck() reports: `[rowid, distance]` rows (rowid = position + 1). */
interface DatabaseReport {
  count: number;
  topk: Array<Array<[number, number]>>;
  even: Array<Array<[number, number]>>;
}

const { PARAMS, dataset } = (await import(pathToFileURL(fixture('runtime-check.mjs')).href)) as RuntimeCheck;
const { data, queries } = dataset();

/** The exact reference: the engine's own distance definitions (the same as USearch's). */
const { distance } = (await import(new URL('../../dist/vector/distance.js', import.meta.url).href)) as typeof DistanceApi;
const cosineDistance = (a: Float32Array, b: Float32Array): number => distance(a, b, 'cosine');

/** Brute-force top-k positions and distances among the positions `keep` admits. */
function exact(q: Float32Array, k: number, keep: (position: number) => boolean = () => true): Hits {
  const scored = data.flatMap((v, i) => (keep(i) ? [{ i, d: cosineDistance(v, q) }] : []));
  scored.sort((x, y) => x.d - y.d);
  const top = scored.slice(0, k);
  return { keys: top.map((s) => s.i), distances: top.map((s) => s.d) };
}

/** `got` is the exact top-k, in order, with the exact distances (f32 arithmetic: 1e-5). */
function assertExact(got: Hits, want: Hits, what: string): void {
  assert.deepEqual(got.keys, want.keys, `${what}: keys`);
  got.distances.forEach((d, i) => {
    assert.ok(Math.abs(d - want.distances[i]) < 1e-5, `${what}: distance ${i} is ${d}, exact ${want.distances[i]}`);
  });
}

/** The USearch checks, the same whichever runtime ran them. */
function assertUsearchReport(r: UsearchReport, where: string): void {
  assert.equal(r.version, '2.26.2');
  assert.equal(r.size, PARAMS.n);
  assert.deepEqual(r.self, data.map((_, i) => i), `${where}: every member's top-1 is itself`);
  assert.equal(r.topk.length, PARAMS.queries);
  queries.forEach((q, i) => {
    const want = exact(q, PARAMS.k);
    assertExact(r.topk[i], want, `${where} query ${i}`);
    assertExact(r.reloaded[i], want, `${where} query ${i}, serialized and loaded`);
    assertExact(r.even[i], exact(q, PARAMS.k, (p) => p % 2 === 0), `${where} query ${i}, even keys`);
  });
}

// ---------------------------------------------------------------------------------------------
// Deno.

const require = createRequire(import.meta.url);
/** The deno binary the npm package provides (its own resolver: the postinstall copy, else the platform package's). */
const denoBinary = (require('deno/install_api.cjs') as { runInstall(): string }).runInstall();
const denoVersion = (require('deno/package.json') as { version: string }).version;

interface DenoOutput<R> {
  runtime: { deno: string; v8: string };
  check: string;
  result: R;
}

/** Runs test/fixtures/deno-vectors.mjs `check` under Deno (killed after 30 s) and parses its JSON line. */
async function runDeno<R>(check: 'usearch' | 'database', denoDir: string): Promise<{ out: DenoOutput<R>; ms: number }> {
  const started = performance.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      denoBinary,
      ['run', '-A', '--node-modules-dir=manual', fixture('deno-vectors.mjs'), check],
      {
        cwd: root,
        timeout: 30_000,
        killSignal: 'SIGKILL',
        maxBuffer: 16 << 20,
        env: { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      },
      (error, out, err) => {
        if (error) reject(new Error(`deno ${check} failed (${error.signal ?? `exit ${String(error.code)}`}):\n${err}\n${out}`, { cause: error }));
        else resolve(out);
      },
    );
  });
  const ms = performance.now() - started;
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return { out: JSON.parse(line) as DenoOutput<R>, ms };
}

describe('Deno (npm deno)', () => {
  let denoDir = '';
  before(async () => {
    denoDir = await mkdtemp(join(tmpdir(), 'heliosdb-deno-'));
  });
  after(async () => {
    await rm(denoDir, { recursive: true, force: true });
  });

  test('USearch from dist/vector/usearch.js, wasm from its file URL, equals exact search', { timeout: 40_000 }, async (t) => {
    const { out, ms } = await runDeno<UsearchReport>('usearch', denoDir);
    t.diagnostic(`deno usearch check: ${ms.toFixed(0)} ms (process start to exit)`);
    assert.equal(out.runtime.deno, denoVersion, 'ran under the npm package’s Deno');
    assert.equal(out.check, 'usearch');
    assertUsearchReport(out.result, 'deno');
  });

  test('the database: connect(:memory:, enable_vector_search), create_vector_index, vector_search', { timeout: 40_000 }, async (t) => {
    const { out, ms } = await runDeno<DatabaseReport>('database', denoDir);
    t.diagnostic(`deno database check: ${ms.toFixed(0)} ms (process start to exit)`);
    assert.equal(out.runtime.deno, denoVersion);
    const r = out.result;
    assert.equal(r.count, PARAMS.n);
    const asHits = (rows: Array<[number, number]>): Hits => ({ keys: rows.map(([rowid]) => rowid - 1), distances: rows.map(([, d]) => d) });
    queries.forEach((q, i) => {
      assertExact(asHits(r.topk[i]), exact(q, PARAMS.k), `deno vector_search query ${i}`);
      // rowid = position + 1: 'id % 2 = 0' admits the odd positions.
      assertExact(asHits(r.even[i]), exact(q, PARAMS.k, (p) => (p + 1) % 2 === 0), `deno vector_search query ${i}, filtered`);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// workerd through miniflare.

describe('Cloudflare Workers (workerd through miniflare)', () => {
  let mf: Miniflare | null = null;
  let startMs = 0;

  before(async () => {
    const started = performance.now();
    // The Worker's modules, listed rather than discovered: miniflare's import walker refuses the
    // `import('node:fs/promises')` in dist/vector/usearch.js (a path the Worker never takes) unless
    // nodejs_compat is on, and the Worker is meant to run without it. No bundler: workerd loads
    // dist's ES module as it is, and usearch.wasm as a CompiledWasm module (a WebAssembly.Module).
    mf = new Miniflare({
      modulesRoot: root,
      modules: [
        { type: 'ESModule', path: fixture('usearch-worker.mjs') },
        { type: 'ESModule', path: fixture('runtime-check.mjs') },
        { type: 'ESModule', path: join(root, 'dist/vector/usearch.js') },
        { type: 'CompiledWasm', path: join(root, 'wasm/usearch.wasm') },
      ],
      compatibilityDate: '2026-07-01',
    });
    await mf.ready;
    startMs = performance.now() - started;
  });

  after(async () => {
    // dispose() stops the workerd process; bounded so a stuck shutdown cannot hang the run.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      mf?.dispose(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 10_000);
      }),
    ]);
    clearTimeout(timer);
  });

  test('a module Worker loads USearch from the imported wasm module and equals exact search', { timeout: 30_000 }, async (t) => {
    assert.ok(mf);
    const started = performance.now();
    const res = await mf.dispatchFetch('http://localhost/usearch');
    const body = await res.text();
    const ms = performance.now() - started;
    t.diagnostic(`miniflare start (workerd up, Worker loaded): ${startMs.toFixed(0)} ms; /usearch fetch: ${ms.toFixed(0)} ms`);
    assert.equal(res.status, 200, body);
    const { moduleIsCompiled, result } = JSON.parse(body) as { moduleIsCompiled: boolean; result: UsearchReport };
    assert.equal(moduleIsCompiled, true, 'the .wasm import is a WebAssembly.Module');
    assertUsearchReport(result, 'workerd');
  });

  test('compiling the same wasm bytes at run time is refused by the embedder', { timeout: 30_000 }, async () => {
    assert.ok(mf);
    const bytes = await readFile(join(root, 'wasm/usearch.wasm'));
    // The bytes are fine: Node compiles them. The refusal below is workerd's policy.
    assert.ok(WebAssembly.validate(bytes));
    await WebAssembly.compile(bytes);
    const res = await mf.dispatchFetch('http://localhost/compile-bytes', { method: 'POST', body: new Uint8Array(bytes) });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    interface Attempt {
      ok: boolean;
      name?: string;
      message?: string;
    }
    const r = JSON.parse(body) as { length: number; instantiate: Attempt; loadUsearch: Attempt };
    assert.equal(r.length, bytes.length);
    for (const [what, a] of [['WebAssembly.instantiate(bytes)', r.instantiate], ['loadUsearch(bytes)', r.loadUsearch]] as const) {
      assert.equal(a.ok, false, `${what} must be refused in workerd`);
      assert.equal(a.name, 'CompileError', `${what}: ${a.name}: ${a.message}`);
      assert.match(a.message ?? '', /Wasm code generation disallowed by embedder/, what);
    }
  });
});
