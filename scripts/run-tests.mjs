#!/usr/bin/env node
// Runs every test suite and ends with one line "N passed, N failed" summing them all.
// Each suite is a set of compiled node:test files; the spec reporter goes to the console,
// a TAP copy goes to a file that is parsed for the totals.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'test-output');
mkdirSync(outDir, { recursive: true });

/** Suites: a name and the folder of compiled *.test.js files it runs. */
const suites = [{ name: 'node', dir: join(root, 'build/test') }];
const only = process.argv.slice(2);

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

let passed = 0;
let failed = 0;
for (const suite of suites) {
  let files = testFiles(suite.dir);
  if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
  if (files.length === 0) continue;
  const tap = join(outDir, `${suite.name}-${process.pid}.tap`);
  const r = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-concurrency=2',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { stdio: 'inherit', cwd: root },
  );
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const pass = Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
  const fail = Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 0);
  // A runner that crashed before reporting counts as one failure, never as silence.
  const crashed = r.status !== 0 && fail === 0 ? 1 : 0;
  passed += pass;
  failed += fail + crashed;
  console.log(`suite ${suite.name}: ${pass} passed, ${fail + crashed} failed`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
