/**
 * Time travel and branches benchmark (issue 6), each measure beside its peer
 * in the same run:
 * - branch creation on 10 MB, 100 MB and 1 GB databases (median of several),
 *   beside copying the database file, which is how one "branches" a SQLite
 *   database without us. Target: flat, under 10 ms.
 * - the same queries AS OF an old version (held in the history file) and on
 *   the present: point lookups, short range aggregates, full scans.
 *   Target: AS OF ≤ 1.5× the present.
 * - bytes the history takes for a run of updates, beside the bytes of pages
 *   those commits changed: the WAL native SQLite (better-sqlite3, same page
 *   size, no checkpoints) writes for the same commits. Target: ≤ 1.2×.
 *
 *     npm run build && npm run build:test && node build/bench/time-travel-bench.js [--quick] [--rounds N] [--dir PATH] [--no-write]
 *
 * --quick skips the 1 GB database. A full run writes
 * bench/results/time-travel-<timestamp>.json and the table in docs/benchmarks.md.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';
import { parseCommonArgs } from './lib/cli.js';
import { machineInfo, replaceMarkedBlock, writeResults } from './lib/results.js';

const root = new URL('../../', import.meta.url).pathname;
const args = parseCommonArgs(process.argv.slice(2), () => false);
const work = mkdtempSync(join(args.dir, 'heliosdb-ttbench-'));
const require = createRequire(import.meta.url);

interface BetterDatabase {
  prepare(sql: string): { run(...p: unknown[]): unknown; pluck(): { get(): unknown } };
  pragma(sql: string, options?: { simple: true }): unknown;
  exec(sql: string): unknown;
  transaction<T extends (...a: never[]) => unknown>(fn: T): T;
  close(): unknown;
}
type BetterCtor = new (path: string) => BetterDatabase;
const Database = require('better-sqlite3') as BetterCtor;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

// ---------------------------------------------------------------------------
// 1. branch creation

interface BranchRow {
  sizeMiB: number;
  createMs: number;
  createRunsMs: number[];
  copyFileMs: number;
  branchLogBytes: number;
}

async function branchCreation(sizeMiB: number): Promise<BranchRow> {
  const path = join(work, `branch-${sizeMiB}.db`);
  const db = new Database(path);
  db.pragma('page_size = 8192');
  db.exec('CREATE TABLE big(id INTEGER PRIMARY KEY, x BLOB)');
  const ins = db.prepare('INSERT INTO big(x) VALUES (randomblob(65536))');
  const fill = db.transaction((n: number) => {
    for (let i = 0; i < n; i++) ins.run();
  });
  const rows = sizeMiB * 16;
  for (let done = 0; done < rows; done += 1024) fill(Math.min(1024, rows - done));
  db.close();
  const t0 = performance.now();
  copyFileSync(path, `${path}.copy`);
  const copyFileMs = performance.now() - t0;
  rmSync(`${path}.copy`);
  const c = await sqlite3.connect(path, { enable_branching: true });
  const runs: number[] = [];
  let logBytes = 0;
  for (let i = 0; i < 1 + Math.max(5, args.rounds * 2); i++) {
    const s = performance.now();
    await c.create_branch(`b${i}`);
    const ms = performance.now() - s;
    if (i > 0) runs.push(ms);
    logBytes = Math.max(logBytes, ...readdirSync(work).filter((f) => f.startsWith(`branch-${sizeMiB}.db-hbr`)).map((f) => statSync(join(work, f)).size));
    await c.delete_branch(`b${i}`);
  }
  await c.close();
  const sz = statSync(path).size / 2 ** 20;
  rmSync(path);
  for (const f of readdirSync(work)) if (f.startsWith(`branch-${sizeMiB}.db`)) rmSync(join(work, f));
  return { sizeMiB: round(sz, 1), createMs: round(median(runs)), createRunsMs: runs.map((x) => round(x)), copyFileMs: round(copyFileMs, 1), branchLogBytes: logBytes };
}

// ---------------------------------------------------------------------------
// 2. AS OF vs present

interface QueryRow {
  id: string;
  label: string;
  ops: number;
  presentMs: number;
  asOfMs: number;
  ratio: number;
}

async function asOfQueries(): Promise<{ rows: QueryRow[]; version: number; latest: number }> {
  const path = join(work, 'asof.db');
  const ROWS = 20_000;
  let c = await sqlite3.connect(path, { enable_time_travel: true, isolation_level: null });
  await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)');
  await c.execute('BEGIN');
  for (let i = 1; i <= ROWS; i++) await c.execute('INSERT INTO t VALUES (?, ?, ?)', [i, i, 'x'.repeat(40)]);
  await c.execute('COMMIT');
  const version = (await c.versions()).at(-1)?.version as number;
  let seed = 7;
  const rand = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  for (let k = 0; k < 200; k++) {
    await c.execute('BEGIN');
    for (let j = 0; j < 50; j++) await c.execute('UPDATE t SET v = v + 1 WHERE id = ?', [1 + Math.floor(rand() * ROWS)]);
    await c.execute('COMMIT');
  }
  // Closing folds the log into the file and the history: the old version is read from the history file.
  await c.close();
  c = await sqlite3.connect(path, { enable_time_travel: true, isolation_level: null });
  const latest = (await c.versions()).at(-1)?.version as number;
  const ids = Array.from({ length: 2000 }, () => 1 + Math.floor(rand() * ROWS));
  const cases: Array<{ id: string; label: string; ops: number; run: (asOf: string) => Promise<void> }> = [
    {
      id: 'point',
      label: 'point select by key',
      ops: ids.length,
      run: async (asOf) => {
        for (const id of ids) await (await c.execute(`SELECT v FROM t${asOf} WHERE id = ?`, [id])).fetchone();
      },
    },
    {
      id: 'range',
      label: 'sum over 500 keys',
      ops: 200,
      run: async (asOf) => {
        for (let i = 0; i < 200; i++) await (await c.execute(`SELECT sum(v) FROM t${asOf} WHERE id BETWEEN ? AND ?`, [ids[i], ids[i] + 500])).fetchone();
      },
    },
    {
      id: 'scan',
      label: `full scan (${ROWS} rows)`,
      ops: 20,
      run: async (asOf) => {
        for (let i = 0; i < 20; i++) await (await c.execute(`SELECT sum(v), count(*) FROM t${asOf}`)).fetchone();
      },
    },
  ];
  const out: QueryRow[] = [];
  for (const q of cases) {
    const present: number[] = [];
    const past: number[] = [];
    for (let r = 0; r < args.rounds + 1; r++) {
      // Alternate, so that drift on a busy machine hits both sides alike.
      let s = performance.now();
      await q.run('');
      if (r > 0) present.push(performance.now() - s);
      s = performance.now();
      await q.run(` AS OF VERSION ${version}`);
      if (r > 0) past.push(performance.now() - s);
    }
    const p = median(present);
    const a = median(past);
    out.push({ id: q.id, label: q.label, ops: q.ops, presentMs: round(p, 2), asOfMs: round(a, 2), ratio: round(a / p) });
  }
  // The answers agree with what the old version held: every v equals its id.
  const [[bad]] = (await (await c.execute(`SELECT count(*) FROM t AS OF VERSION ${version} WHERE v != id`)).fetchall()) as number[][];
  if (bad !== 0) throw new Error(`AS OF returned ${bad} rows of a later version`);
  await c.close();
  return { rows: out, version, latest };
}

// ---------------------------------------------------------------------------
// 3. history bytes vs bytes of pages changed

interface SpaceResult {
  commits: number;
  historyBytes: number;
  /** What native SQLite's WAL holds for the same commits (page images of every page each commit changed). */
  nativeWalBytes: number;
  ratio: number;
}

async function historySpace(): Promise<SpaceResult> {
  const ROWS = 5_000;
  const COMMITS = 400;
  const workload = (exec: (sql: string, p?: unknown[]) => void | Promise<unknown>): Array<() => void | Promise<unknown>> => {
    const steps: Array<() => void | Promise<unknown>> = [];
    let seed = 11;
    const rand = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    for (let k = 0; k < COMMITS; k++) {
      const picks = Array.from({ length: 5 }, () => 1 + Math.floor(rand() * ROWS));
      steps.push(() => exec('BEGIN'));
      for (const id of picks) steps.push(() => exec('UPDATE t SET v = v + 1, pad = ? WHERE id = ?', [`p${k}`.padEnd(60, 'y'), id]));
      steps.push(() => exec('COMMIT'));
    }
    return steps;
  };
  const seedRows = Array.from({ length: ROWS }, (_, i) => [i + 1, i, 'z'.repeat(60)]);
  // Ours: the seed rows in one commit, then the workload; history measured after close (all of it in the history file).
  const path = join(work, 'space.db');
  const c = await sqlite3.connect(path, { enable_time_travel: { retention_seconds: null, retention_versions: null }, isolation_level: null });
  await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)');
  await c.execute('BEGIN');
  await c.executemany('INSERT INTO t VALUES (?, ?, ?)', seedRows);
  await c.execute('COMMIT');
  await c.close();
  const hist = (): number => readdirSync(work).filter((f) => f.startsWith('space.db-hhist')).reduce((n, f) => n + statSync(join(work, f)).size, 0);
  const before = hist();
  const c2 = await sqlite3.connect(path, { enable_time_travel: true, isolation_level: null });
  for (const step of workload((sql, p) => c2.execute(sql, p))) await step();
  await c2.close();
  const historyBytes = hist() - before;
  // Native: same page size, WAL without checkpoints, same seed and workload; the WAL's growth is the changed pages.
  const npath = join(work, 'space-native.db');
  const db = new Database(npath);
  db.pragma('page_size = 8192');
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const r of seedRows) ins.run(...r);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const walStart = statSync(`${npath}-wal`).size;
  for (const step of workload((sql, p) => {
    if (p) db.prepare(sql).run(...p);
    else db.exec(sql);
  })) await step();
  const nativeWalBytes = statSync(`${npath}-wal`).size - walStart;
  db.close();
  return { commits: COMMITS, historyBytes, nativeWalBytes, ratio: round(historyBytes / nativeWalBytes) };
}

// ---------------------------------------------------------------------------

const TT_START = '<!-- time-travel-bench:results:start (generated by bench/time-travel-bench.ts; edits inside are overwritten) -->';
const TT_END = '<!-- time-travel-bench:results:end -->';

interface Results {
  kind: 'time-travel';
  date: string;
  quick: boolean;
  machine: ReturnType<typeof machineInfo>;
  branches: BranchRow[];
  asOf: { rows: QueryRow[]; version: number; latest: number };
  space: SpaceResult;
}

function markdown(res: Results): string {
  const lines: string[] = [];
  lines.push(`Run ${res.date} on ${res.machine.cpus} × ${res.machine.cpuModel}, Node ${res.machine.node}.`, '');
  lines.push('| Database | create_branch (median) | copying the file | branch log after creation |', '|--:|--:|--:|--:|');
  for (const b of res.branches) lines.push(`| ${b.sizeMiB} MiB | ${b.createMs} ms | ${b.copyFileMs} ms | ${b.branchLogBytes} bytes |`);
  lines.push('', `AS OF VERSION ${res.asOf.version} (read from the history file) vs the present (version ${res.asOf.latest}):`, '');
  lines.push('| Query | ops | present | AS OF | ratio |', '|---|--:|--:|--:|--:|');
  for (const q of res.asOf.rows) lines.push(`| ${q.label} | ${q.ops} | ${q.presentMs} ms | ${q.asOfMs} ms | ${q.ratio}× |`);
  const s = res.space;
  lines.push('', `History space for ${s.commits} commits: ${s.historyBytes} bytes vs ${s.nativeWalBytes} bytes of changed pages in native SQLite's WAL: **${s.ratio}×** (target ≤ 1.2×).`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const sizes = args.quick ? [10, 100] : [10, 100, 1024];
  const branches: BranchRow[] = [];
  for (const s of sizes) {
    const r = await branchCreation(s);
    console.log(`branch on ${r.sizeMiB} MiB: create ${r.createMs} ms (runs ${r.createRunsMs.join(', ')}), file copy ${r.copyFileMs} ms, branch log ${r.branchLogBytes} bytes`);
    branches.push(r);
  }
  const asOf = await asOfQueries();
  for (const q of asOf.rows) console.log(`${q.label}: present ${q.presentMs} ms, AS OF ${q.asOfMs} ms, ${q.ratio}×`);
  const space = await historySpace();
  console.log(`history ${space.historyBytes} bytes vs native WAL ${space.nativeWalBytes} bytes: ${space.ratio}×`);
  rmSync(work, { recursive: true, force: true });
  const res: Results = { kind: 'time-travel', date: new Date().toISOString(), quick: args.quick, machine: machineInfo(), branches, asOf, space };
  if (!args.write) return;
  writeResults(root, 'time-travel', res, { quick: args.quick, partial: false, now: new Date() }, (doc) =>
    replaceMarkedBlock(doc, TT_START, TT_END, markdown(res), '## Time travel and branches benchmark (`bench/time-travel-bench.ts`)'),
  );
}

await main();
