#!/usr/bin/env node
// Runs every test suite and ends with one line "N passed, N failed" summing them all.
// Each suite is a set of compiled node:test files; the spec reporter goes to the console,
// a TAP copy goes to a file that is parsed for the totals.
//   node scripts/run-tests.mjs [--suite=node|browser] [file-filter ...]
// Suites: `node` (build/test/*.test.js) and `browser` (build/e2e/*.e2e.js, real Chromium; it
// first builds the Vite apps the browser tests load, with scripts/build-web.mjs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'test-output');
mkdirSync(outDir, { recursive: true });

/**
 * Suites: a name, the folder of compiled test files and their suffix, how many files run at
 * once, an optional build step run first (its failure counts as one failed test), and a bound
 * on the whole suite's time (a hung browser must fail the run, not stall it).
 */
const suites = [
  { name: 'node', dir: join(root, 'build/test'), suffix: '.test.js', concurrency: 2 },
  {
    name: 'browser',
    dir: join(root, 'build/e2e'),
    suffix: '.e2e.js',
    concurrency: 1,
    prepare: [process.execPath, join(root, 'scripts/build-web.mjs')],
    timeoutMs: 15 * 60_000,
  },
];
const args = process.argv.slice(2);
const suiteArg = args.find((a) => a.startsWith('--suite='))?.slice('--suite='.length);
const only = args.filter((a) => !a.startsWith('--suite='));
if (suiteArg && !suites.some((s) => s.name === suiteArg)) {
  console.error(`unknown suite ${suiteArg}; suites: ${suites.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

function testFiles(dir, suffix) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p, suffix));
    else if (entry.name.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

let passed = 0;
let failed = 0;
for (const suite of suites) {
  if (suiteArg && suite.name !== suiteArg) continue;
  let files = testFiles(suite.dir, suite.suffix);
  if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
  if (files.length === 0 && only.length === 0) {
    // A suite with nothing compiled is broken (e.g. a failed tsc), not green.
    failed += 1;
    console.log(`suite ${suite.name}: 0 passed, 1 failed (no *${suite.suffix} files in ${suite.dir})`);
    continue;
  }
  if (files.length === 0) continue;
  if (suite.prepare) {
    const [cmd, ...rest] = suite.prepare;
    const b = spawnSync(cmd, rest, { stdio: 'inherit', cwd: root, timeout: 5 * 60_000 });
    if (b.status !== 0) {
      failed += 1;
      console.log(`suite ${suite.name}: 0 passed, 1 failed (build step failed: ${b.error?.message ?? `exit ${b.status ?? b.signal}`})`);
      continue;
    }
  }
  const tap = join(outDir, `${suite.name}-${process.pid}.tap`);
  const r = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${suite.concurrency}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { stdio: 'inherit', cwd: root, timeout: suite.timeoutMs, killSignal: 'SIGTERM' },
  );
  if (r.error) console.log(`suite ${suite.name}: runner stopped: ${r.error.message}`);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const pass = Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
  const fail = Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 0);
  // A runner that crashed (or ran out of time) before reporting counts as one failure, never as silence.
  const crashed = r.status !== 0 && fail === 0 ? 1 : 0;
  passed += pass;
  failed += fail + crashed;
  console.log(`suite ${suite.name}: ${pass} passed, ${fail + crashed} failed`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
