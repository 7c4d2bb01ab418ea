/**
 * Core benchmark: one connection, one workload, three systems in one run.
 *
 *   heliosdb-nano (our async API) vs raw @sqlite.org/sqlite-wasm (oo1, on the
 *   same VFS) vs better-sqlite3 (native).
 *
 * Usage (after `npm run build && npm run build:test`, or just `npm run bench`):
 *
 *   node build/bench/core-bench.js [--quick] [--rounds N] [--systems a,b] [--rows x,y] [--dir PATH] [--no-write]
 *
 * A complete run writes bench/results/core-<timestamp>.json, core-latest.json and
 * the table in docs/benchmarks.md. `--quick` (10× smaller, one round, for CI
 * smoke runs) and filtered runs only write bench/results/core-quick-latest.json
 * or core-partial-latest.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRow, consoleTable, writeDocTable, type BenchResults, type Measured, type RowResult } from './lib/report.js';
import { createDriver, nativeVersion, wasmPackageVersion, type DbSettings, type Driver } from './lib/systems.js';
import { DURABLE_CHUNKS, FULL, QUICK, ROWS, SYSTEMS, TARGET_RATIO, buildData, type RowId, type SystemId } from './lib/workload.js';
import { machineInfo, writeResults } from './lib/results.js';
import { getGc, parseCommonArgs } from './lib/cli.js';

interface Args {
  quick: boolean;
  rounds: number;
  systems: SystemId[];
  rows: RowId[];
  dir: string;
  write: boolean;
  filtered: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let systems: SystemId[] = [...SYSTEMS];
  let rows: RowId[] = ROWS.map((r) => r.id);
  let filtered = false;
  const common = parseCommonArgs(argv, (a, value) => {
    if (a === '--systems') {
      const list = value().split(',');
      for (const s of list) if (!SYSTEMS.includes(s as SystemId)) throw new Error(`unknown system ${s}`);
      systems = list as SystemId[];
    } else if (a === '--rows') {
      const ids = ROWS.map((r) => r.id as string);
      const list = value().split(',');
      for (const r of list) if (!ids.includes(r)) throw new Error(`unknown row ${r} (rows: ${ids.join(', ')})`);
      rows = list as RowId[];
    } else return false;
    filtered = true;
    return true;
  });
  return { ...common, systems, rows, filtered };
}


const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? QUICK : FULL;
  const data = buildData(sizes);
  const gc = getGc();
  const started = performance.now();
  const runs = new Map<RowId, Partial<Record<SystemId, Measured>>>();
  const settings: Partial<Record<SystemId, DbSettings>> = {};
  const checks: Partial<Record<SystemId, Record<string, number | string>>> = {};
  const rows = ROWS.filter((r) => args.rows.includes(r.id));

  for (let round = 0; round < args.rounds; round++) {
    // Rotate the order of systems each round so none always runs on a cold (or hot) heap.
    const order = args.systems.map((_, i) => args.systems[(i + round) % args.systems.length]);
    for (const sys of order) {
      const dir = mkdtempSync(join(args.dir, `heliosdb-bench-${sys}-`));
      const driver = createDriver(sys);
      try {
        settings[sys] = await driver.open(join(dir, 'bench.db'));
        const sysChecks = (checks[sys] ??= {});
        for (const spec of rows) {
          if (spec.durable) continue;
          for (let rep = 0; rep < (spec.repeats ?? 1); rep++) {
            gc();
            const cpu0 = process.cpuUsage();
            const t0 = performance.now();
            const checksum = await driver.run(spec.id, data, rep);
            const seconds = (performance.now() - t0) / 1000;
            const cpu = process.cpuUsage(cpu0);
            await driver.between(spec.id);
            const perRow = runs.get(spec.id) ?? {};
            const m = (perRow[sys] ??= { wall: [], cpu: [] });
            m.wall.push(seconds);
            m.cpu.push((cpu.user + cpu.system) / 1e6);
            runs.set(spec.id, perRow);
            if (round === 0 && checksum !== 0) sysChecks[spec.id] = checksum;
            const ops = spec.ops(sizes);
            log(
              `round ${round + 1}/${args.rounds}  ${sys.padEnd(14)} ${spec.id.padEnd(24)} ` +
                `${(ops / seconds).toFixed(0).padStart(9)} ops/s  (${seconds.toFixed(3)} s)`,
            );
          }
        }
        if (round === 0) {
          const [count, total] = await driver.summary();
          sysChecks.items = `${count} rows, total(score) ${total}`;
        }
      } finally {
        await driver.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  // The durable (fsync-bound) row: every system on its own fresh database, in
  // chunks interleaved across systems with a rotating order, summed per system.
  const durableSpec = rows.find((r) => r.durable);
  if (durableSpec) {
    const dirs = new Map<SystemId, string>();
    const drivers = new Map<SystemId, Driver>();
    const total: Partial<Record<SystemId, Measured>> = {};
    try {
      for (const sys of args.systems) {
        const dir = mkdtempSync(join(args.dir, `heliosdb-bench-durable-${sys}-`));
        dirs.set(sys, dir);
        const driver = createDriver(sys);
        drivers.set(sys, driver);
        await driver.openDurable(join(dir, 'durable.db'));
        total[sys] = { wall: [0], cpu: [0] };
      }
      const chunk = Math.ceil(data.autocommitRows.length / DURABLE_CHUNKS);
      for (let c = 0; c * chunk < data.autocommitRows.length; c++) {
        const part = data.autocommitRows.slice(c * chunk, (c + 1) * chunk);
        const order = args.systems.map((_, i) => args.systems[(i + c) % args.systems.length]);
        for (const sys of order) {
          const driver = drivers.get(sys) as Driver;
          gc();
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          await driver.durableChunk(part);
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          const t = total[sys] as Measured;
          t.wall[0] += seconds;
          t.cpu[0] += (cpu.user + cpu.system) / 1e6;
          log(
            `durable chunk ${c + 1}/${DURABLE_CHUNKS}  ${sys.padEnd(14)} ${(part.length / seconds).toFixed(0).padStart(7)} inserts/s` +
              `  cpu ${((cpu.user + cpu.system) / part.length).toFixed(0)} µs/insert (${(cpu.system / part.length).toFixed(0)} sys)`,
          );
        }
      }
      for (const sys of args.systems) {
        (checks[sys] ??= {}).durable_items = await (drivers.get(sys) as Driver).closeDurable();
        drivers.delete(sys);
      }
    } finally {
      for (const driver of drivers.values()) await driver.closeDurable();
      for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
    }
    runs.set(durableSpec.id, total);
  }

  const resultRows: RowResult[] = rows.map((spec) => buildRow(spec.id, sizes, runs.get(spec.id) ?? {}));
  const checkValues = Object.values(checks).map((c) => JSON.stringify(c));
  const checksAgree = checkValues.every((v) => v === checkValues[0]);
  const now = new Date();
  const res: BenchResults = {
    benchmark: 'core',
    timestamp: now.toISOString(),
    quick: args.quick,
    rounds: args.rounds,
    sizes,
    targetRatio: TARGET_RATIO,
    machine: {
      ...machineInfo(),
      dataDir: args.dir,
    },
    versions: {
      'heliosdb-nano': (await import('heliosdb-nano')).version,
      '@sqlite.org/sqlite-wasm': wasmPackageVersion(),
      'better-sqlite3': nativeVersion(),
    },
    settings,
    checks,
    checksAgree,
    rows: resultRows,
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
  };

  console.log(consoleTable(res));
  if (!checksAgree) {
    console.log('WARNING: checksums differ between systems:');
    console.log(JSON.stringify(checks, null, 2));
  }
  console.log(`total ${res.totalSeconds} s`);

  if (args.write) {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    writeResults(root, 'core', res, { quick: args.quick, partial: args.filtered, now }, (doc) => writeDocTable(doc, res));
  }
  if (!checksAgree) process.exitCode = 1;
}

await main();
