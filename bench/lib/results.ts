/**
 * Writing benchmark results: JSON files under bench/results/ and a generated
 * block between markers in docs/benchmarks.md. Shared by every benchmark.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';

/** The machine a benchmark ran on, as every result file records it. */
export function machineInfo(): { node: string; v8: string; platform: string; arch: string; cpus: number; cpuModel: string; totalMemGiB: number } {
  const cpuList = cpus();
  return {
    node: process.versions.node,
    v8: process.versions.v8,
    platform: platform(),
    arch: arch(),
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

/**
 * Writes `res` as JSON. A full run writes `<name>-<timestamp>.json` and
 * `<name>-latest.json` and calls `writeDoc`; a quick or partial run writes only
 * `<name>-quick-latest.json` / `<name>-partial-latest.json`.
 */
export function writeResults(
  root: string,
  name: string,
  res: unknown,
  run: { quick: boolean; partial: boolean; now: Date },
  writeDoc: (docPath: string) => void,
): void {
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(res, null, 2)}\n`;
  if (run.quick || run.partial) {
    const file = `${name}-${run.quick ? 'quick' : 'partial'}-latest.json`;
    writeFileSync(join(resultsDir, file), json);
    console.log(`wrote bench/results/${file}`);
    return;
  }
  const stamp = run.now.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  writeFileSync(join(resultsDir, `${name}-${stamp}.json`), json);
  writeFileSync(join(resultsDir, `${name}-latest.json`), json);
  writeDoc(join(root, 'docs', 'benchmarks.md'));
  console.log(`wrote bench/results/${name}-${stamp}.json, bench/results/${name}-latest.json, docs/benchmarks.md`);
}

/**
 * Replaces the text between `start` and `end` markers in `docPath` with
 * `content`; when the markers are missing, appends `heading` and a new block.
 */
export function replaceMarkedBlock(docPath: string, start: string, end: string, content: string, heading: string): void {
  const block = `${start}\n${content}\n${end}`;
  const text = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Benchmarks\n';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const out = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${heading}\n\n${block}\n`;
  writeFileSync(docPath, out);
}
