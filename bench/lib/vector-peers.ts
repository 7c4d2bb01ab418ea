/**
 * The vector benchmark's peers, installed at bench time into the git-ignored
 * folder bench/.peers/ (`npm install --prefix bench/.peers name@version`) and
 * never listed in package.json:
 * - sqlite-vec-wasm: SQLite + sqlite-vec (vec0, exact KNN). Its license field
 *   is "UNLICENSED": a comparison point only, never a dependency.
 * - hnswlib-wasm: hnswlib compiled with emscripten (wasm embedded in the JS).
 * - usearch: the native N-API addon (linux-x64 prebuild), the physical reference.
 *
 * The two emscripten builds are compiled for browsers only (ENVIRONMENT=web):
 * they refuse to start in Node. Their environment checks run synchronously
 * when the module factory is called, so for that call only we present a
 * browser-like global (`window`) and, for sqlite-vec-wasm, hide `process`
 * (its check throws when `process.versions.node` exists); the wasm bytes are
 * passed in (`wasmBinary`) instead of fetched. Nothing in the engines changes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const PEER_VERSIONS = {
  'sqlite-vec-wasm': '0.1.0',
  'hnswlib-wasm': '0.8.2',
  usearch: '2.26.2',
} as const;
export type PeerName = keyof typeof PEER_VERSIONS;

function peerDir(root: string, name: PeerName): string {
  return join(root, 'bench', '.peers', 'node_modules', name);
}

function installedVersion(root: string, name: PeerName): string | null {
  const pkg = join(peerDir(root, name), 'package.json');
  if (!existsSync(pkg)) return null;
  return String((JSON.parse(readFileSync(pkg, 'utf8')) as { version?: unknown }).version);
}

/**
 * Installs the missing peers (pinned versions) into bench/.peers. Returns, per
 * peer, null when it is there, or why it is not.
 */
export function ensurePeers(root: string, names: readonly PeerName[], log: (s: string) => void): Map<PeerName, string | null> {
  const missing = names.filter((n) => installedVersion(root, n) !== PEER_VERSIONS[n]);
  const status = new Map<PeerName, string | null>();
  if (missing.length > 0) {
    const specs = missing.map((n) => `${n}@${PEER_VERSIONS[n]}`);
    log(`installing ${specs.join(' ')} into bench/.peers ...`);
    try {
      execFileSync('npm', ['install', '--prefix', join(root, 'bench', '.peers'), '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      });
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n').slice(0, 3).join(' ') : String(e);
      for (const n of missing) status.set(n, `npm install ${n}@${PEER_VERSIONS[n]} --prefix bench/.peers failed: ${why}`);
    }
  }
  for (const n of names) if (!status.has(n)) status.set(n, installedVersion(root, n) === PEER_VERSIONS[n] ? null : `${n} is not installed`);
  return status;
}

async function importPeer(root: string, name: PeerName, file: string): Promise<unknown> {
  return import(pathToFileURL(join(peerDir(root, name), file)).href);
}

/** Runs `f` (synchronously) with a browser-like global; `hideProcess` hides `process` too. */
function asBrowser<T>(hideProcess: boolean, f: () => T): T {
  const g = globalThis as Record<string, unknown>;
  const processDesc = Object.getOwnPropertyDescriptor(globalThis, 'process');
  const hadWindow = 'window' in g;
  if (hideProcess) Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
  if (!hadWindow) g.window = globalThis;
  try {
    return f();
  } finally {
    if (hideProcess && processDesc) Object.defineProperty(globalThis, 'process', processDesc);
    if (!hadWindow) delete g.window;
  }
}

// ---------------------------------------------------------------------------------------------
// sqlite-vec-wasm (the official sqlite-wasm build with sqlite-vec compiled in; oo1 API)

export interface VecStmt {
  bind(values: unknown[]): VecStmt;
  step(): boolean;
  get(column: number): unknown;
  reset(): VecStmt;
  finalize(): void;
}
export interface VecDb {
  exec(sql: string): VecDb;
  prepare(sql: string): VecStmt;
  selectValue(sql: string): unknown;
  close(): void;
}
interface VecSqlite {
  oo1: { DB: new (filename: string) => VecDb };
}
type VecInit = (module: { wasmBinary: Uint8Array; print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<VecSqlite>;

/** Opens an in-memory database on sqlite-vec-wasm. */
export async function openSqliteVec(root: string): Promise<VecDb> {
  const mod = (await importPeer(root, 'sqlite-vec-wasm', 'dist/sqlite3.mjs')) as { default: VecInit };
  const wasmBinary = readFileSync(join(peerDir(root, 'sqlite-vec-wasm'), 'dist', 'sqlite3.wasm'));
  const quiet = (): void => undefined;
  // It logs that OPFS is unavailable outside a browser worker (expected: the database is in memory).
  const warn = console.warn;
  console.warn = quiet;
  try {
    const sqlite3 = await asBrowser(true, () => mod.default({ wasmBinary, print: quiet, printErr: quiet }));
    return new sqlite3.oo1.DB(':memory:');
  } finally {
    console.warn = warn;
  }
}

// ---------------------------------------------------------------------------------------------
// hnswlib-wasm

export interface HnswIndex {
  initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number): void;
  addPoint(point: Float32Array, label: number, replaceDeleted: boolean): void;
  setEfSearch(ef: number): void;
  searchKnn(query: Float32Array, k: number, filter: undefined): { distances: number[]; neighbors: number[] };
  getCurrentCount(): number;
  delete(): void;
}
interface HnswLib {
  HierarchicalNSW: new (space: 'cosine' | 'l2' | 'ip', dims: number, autoSaveFilename: string) => HnswIndex;
  HEAP8: Int8Array;
}

/**
 * Loads hnswlib-wasm's emscripten module directly (its `loadHnswlib()` also mounts IndexedDB
 * as a file system, which does not exist in Node and is not needed to build or search).
 */
export async function loadHnswlib(root: string): Promise<HnswLib> {
  const dist = join(peerDir(root, 'hnswlib-wasm'), 'dist');
  const file = readdirSync(dist).find((f) => /^hnswlib-[0-9a-f]+\.js$/.test(f));
  if (file === undefined) throw new Error('hnswlib-wasm: no dist/hnswlib-<hash>.js module found');
  const mod = (await importPeer(root, 'hnswlib-wasm', `dist/${file}`)) as { default: () => Promise<HnswLib> };
  return asBrowser(false, () => mod.default());
}

/**
 * hnswlib's serialized size (HierarchicalNSW::saveIndex, wasm32: size_t is 4 bytes): a header,
 * each element's level-0 block (links, vector, label), and per element a 4-byte length plus its
 * upper-level links. Element levels are not exposed, so the upper-level part uses their
 * expectation (N / (M − 1) levels in all): an estimate, within a fraction of a percent.
 */
export function hnswlibSerializedEstimate(count: number, dims: number, m: number): number {
  const sizeT = 4;
  const header = 6 * sizeT + 4 + 4 + 3 * sizeT + 8 + sizeT;
  const maxM0 = 2 * m;
  const perElement0 = maxM0 * 4 + 4 + dims * 4 + sizeT;
  const upperLinks = (m * 4 + 4) * (count / (m - 1));
  return Math.round(header + count * (perElement0 + 4) + upperLinks);
}

// ---------------------------------------------------------------------------------------------
// usearch (native addon)

export interface NativeIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vector: Float32Array, k: number, threads: number): { keys: BigUint64Array; distances: Float32Array };
  size(): number;
  save(path: string): void;
  load(path: string): void;
}
export interface NativeConfig {
  dimensions: number;
  metric: 'cos';
  quantization: 'f32';
  connectivity: number;
  expansion_add: number;
  expansion_search: number;
  multi: boolean;
}
export interface NativeUsearch {
  Index: new (config: NativeConfig) => NativeIndex;
  hardwareAcceleration: string;
}

export async function loadNativeUsearch(root: string): Promise<NativeUsearch> {
  const mod = (await importPeer(root, 'usearch', 'javascript/dist/esm/usearch.js')) as { default: { Index: NativeUsearch['Index'] } };
  // The addon itself, for the SIMD kernels it picked (the JS wrapper does not re-export it).
  let hardwareAcceleration: string;
  try {
    const { createRequire } = await import('node:module');
    const require = createRequire(join(peerDir(root, 'usearch'), 'package.json'));
    const build = require('node-gyp-build') as (dir: string) => { hardwareAccelerationAvailable?: () => string };
    hardwareAcceleration = build(peerDir(root, 'usearch')).hardwareAccelerationAvailable?.() ?? 'unknown';
  } catch (e) {
    hardwareAcceleration = `unknown (${e instanceof Error ? e.message : String(e)})`;
  }
  return { Index: mod.default.Index, hardwareAcceleration };
}

export function peerVersion(root: string, name: PeerName): string {
  return installedVersion(root, name) ?? 'not installed';
}
