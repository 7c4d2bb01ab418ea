#!/usr/bin/env node
/**
 * `heliosdb [OPTIONS] FILENAME [SQL...]`: the HeliosDB Nano shell, modelled
 * on the sqlite3 command-line shell.
 *
 * - `heliosdb app.db` on a terminal: interactive (history, completion, Ctrl-C).
 * - `heliosdb app.db < script.sql`: runs the script; errors name their line.
 * - `heliosdb app.db "SELECT 1" .tables`: runs the arguments, stops at the first error.
 *
 * The exit status is 1 when anything failed.
 */
import { sqlite_version, version } from '../exports.js';
import { parseCliArgs, USAGE, type CliArgs } from './cli-args.js';
import type { CommandResult } from './commands/types.js';
import { DbClient } from './db/client.js';
import { Output } from './output.js';
import { defaultSettings, setModeFromFlag, type Settings } from './settings.js';
import { linesOf, Shell } from './shell.js';
import { runInteractive } from './terminal.js';

function writeErr(text: string): void {
  process.stderr.write(text);
}

function applyFlags(s: Settings, a: CliArgs): void {
  for (const f of a.settings) {
    switch (f.kind) {
      case 'mode':
        setModeFromFlag(s, f.mode);
        break;
      case 'headers':
        s.headers = f.on;
        s.headersSet = true;
        break;
      case 'nullvalue':
        s.nullValue = f.text;
        break;
      case 'separator':
        s.colSeparator = f.text;
        break;
      case 'newline':
        s.rowSeparator = f.text;
        break;
    }
  }
  s.bail = a.bail;
  s.echo = a.echo;
}

/** Runs the commands given after the database: stops at the first failure. */
async function runArguments(shell: Shell, commands: readonly string[]): Promise<CommandResult> {
  shell.inputKind = 'argument';
  for (const c of commands) {
    const r = await shell.runItem({ kind: c.startsWith('.') ? 'dot' : 'sql', text: c, line: 0 });
    if (r.kind !== 'ok') return r;
  }
  return { kind: 'ok' };
}

/** Runs the `-cmd` commands: a failure is reported but does not count, unless -bail stops the shell. */
async function runPreCommands(shell: Shell, commands: readonly string[]): Promise<CommandResult> {
  shell.inputKind = 'argument';
  for (const c of commands) {
    const before = shell.failures;
    const r = await shell.runItem({ kind: c.startsWith('.') ? 'dot' : 'sql', text: c, line: 0 });
    if (r.kind === 'quit') return r;
    if (r.kind === 'error') {
      if (shell.settings.bail) return r;
      shell.failures = before;
    }
  }
  return { kind: 'ok' };
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    writeErr(`heliosdb: Error: ${(e as Error).message}\nUse -help for a list of options.\n`);
    return 1;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`heliosdb-nano ${version} (SQLite ${sqlite_version})\n`);
    return 0;
  }
  const settings = defaultSettings();
  applyFlags(settings, args);
  const db = new DbClient();
  const out = new Output();
  const shell = new Shell({ settings, db, out, stderr: writeErr, stderrIsTerminal: process.stderr.isTTY === true });
  const name = args.database ?? ':memory:';
  try {
    await shell.openDatabase(name, {
      readonly: args.readonly,
      features: { timeTravel: args.timeTravel, branching: args.branching, branch: args.branch },
    });
  } catch (e) {
    writeErr(`Error: unable to open database "${name}": ${(e as Error).message}\n`);
    await db.shutdown().catch(() => undefined);
    return 1;
  }

  // Ctrl-C while a script or argument runs: stop the running statement; a third one stops the shell.
  // (At the terminal, runInteractive handles Ctrl-C itself.)
  let sigints = 0;
  const onSigint = (): void => {
    if (shell.inputKind === 'interactive') return;
    db.interrupt();
    if (++sigints > 2) process.exit(130);
  };
  process.on('SIGINT', onSigint);

  try {
    const r = await runAll(shell, args);
    if (r.kind === 'quit' && r.status !== null) return r.status;
    // A failed command-line argument (or -cmd with -bail) exits with SQLite's result code, as in the sqlite3 shell.
    if (r.kind === 'error' && shell.inputKind === 'argument') return shell.lastErrorCode;
    if (r.kind === 'error' && settings.bail) return 1;
    return shell.failures > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await out.close();
    await db.shutdown().catch(() => undefined);
  }
}

/** The work of one invocation: -init, -cmd, then the arguments, the terminal or the script on stdin. */
async function runAll(shell: Shell, args: CliArgs): Promise<CommandResult> {
  if (args.init !== null) {
    shell.inputKind = 'script';
    const r = await shell.runFile(args.init);
    if (r.kind === 'quit') return r;
  }
  const pre = await runPreCommands(shell, args.preCommands);
  if (pre.kind !== 'ok') return pre;
  if (args.commands.length > 0) return runArguments(shell, args.commands);
  if (args.interactive ?? process.stdin.isTTY === true) {
    const banner = `HeliosDB Nano ${version} (SQLite ${sqlite_version})\nEnter ".help" for usage hints.\n`;
    return runInteractive(shell, banner);
  }
  shell.inputKind = 'script';
  return shell.runLines(linesOf(process.stdin));
}

main(process.argv.slice(2)).then(
  (status) => {
    // Let stdout drain before leaving (it may be a pipe).
    process.stdout.write('', () => process.exit(status));
  },
  (e: unknown) => {
    writeErr(`heliosdb: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
