/**
 * The shell: runs dot-commands and SQL against the database thread and
 * writes results in the current mode. Input arrives as lines (a script, a
 * pipe, `.read`, the terminal) or as whole command-line arguments; the shell
 * counts failures for the exit status and stops early with `-bail`.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { findCommand, parseDotArgs } from './commands/index.js';
import { FAILED, OK, type CommandHost, type CommandResult, type DatabaseInfo } from './commands/types.js';
import { DbCallError, type DbClient } from './db/client.js';
import type { Cell, Features, RowBatch } from './db/protocol.js';
import { statementError, type FailurePhase, type InputKind } from './errors.js';
import { bytecodeWriter, explainKind, queryPlanWriter } from './format/explain.js';
import { rowWriter } from './format/index.js';
import { InputAssembler, splitStatements, type InputItem } from './input.js';
import type { Output } from './output.js';
import { progressBar, silentProgress, type Progress } from './progress.js';
import type { Settings } from './settings.js';

/** Rows fetched from the database thread per round trip. */
const BATCH = 512;
const SQLITE_INTERRUPT = 9;

/** A statement that failed, and when. */
class StatementFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly phase: FailurePhase,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

function interruptedError(): DbCallError {
  return new DbCallError({ kind: 'OperationalError', message: 'interrupted', code: SQLITE_INTERRUPT });
}

/** Splits text into lines as the sqlite3 shell reads them: at LF, a CR before it dropped. */
export async function* linesOf(chunks: AsyncIterable<string | Buffer> | Iterable<string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of chunks) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

export interface ShellParts {
  readonly settings: Settings;
  readonly db: DbClient;
  readonly out: Output;
  /** Writes to the terminal's error stream. */
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars are drawn there). */
  readonly stderrIsTerminal: boolean;
}

export class Shell implements CommandHost {
  readonly settings: Settings;
  readonly db: DbClient;
  readonly out: Output;
  private readonly stderr: (text: string) => void;
  private readonly stderrIsTerminal: boolean;
  /** Failed commands and statements so far (the exit status is 1 when any failed). */
  failures = 0;
  /** SQLite's primary result code of the last failure (1 when it was not SQLite's). */
  lastErrorCode = 0;
  database: DatabaseInfo = { name: ':memory:', file: '', readonly: false };
  inputKind: InputKind = 'script';
  /** Set when the schema may have changed (completion re-reads names). */
  schemaTouched = true;

  constructor(parts: ShellParts) {
    this.settings = parts.settings;
    this.db = parts.db;
    this.out = parts.out;
    this.stderr = parts.stderr;
    this.stderrIsTerminal = parts.stderrIsTerminal;
  }

  async error(line: string): Promise<void> {
    await this.out.flush();
    this.stderr(`${line}\n`);
  }

  warn(line: string): void {
    this.stderr(`${line}\n`);
  }

  async openDatabase(name: string, options: { readonly: boolean; features?: Features }): Promise<void> {
    const r = await this.db.call('open', { path: name, readonly: options.readonly, features: options.features });
    this.database = { name, file: r.file, readonly: r.readonly };
    this.schemaTouched = true;
  }

  async query(sql: string, params?: Cell[]): Promise<Cell[][]> {
    return (await this.db.call('query', { sql, params })).rows;
  }

  progress(label: string, unit: string, writesResults: boolean): Progress {
    // On a terminal only, and not over results being printed to the same terminal.
    if (!this.stderrIsTerminal || (writesResults && this.out.isTerminal)) return silentProgress();
    return progressBar(label, unit, this.stderr);
  }

  async runFile(path: string): Promise<CommandResult> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      await this.error(`Error: cannot open "${path}"`);
      return FAILED;
    }
    const before = this.failures;
    const saved = this.inputKind;
    this.inputKind = 'script';
    try {
      // Streamed: a .read of a large dump does not have to fit in memory.
      const end = await this.runLines(linesOf(handle.createReadStream({ autoClose: false })));
      if (end.kind === 'quit') return end;
    } finally {
      this.inputKind = saved;
      await handle.close();
    }
    return this.failures > before ? FAILED : OK;
  }

  /**
   * Runs lines of input until they end, `.quit`, or (with bail) the first
   * failure. Each failure is counted in `failures`.
   */
  async runLines(lines: AsyncIterable<string>): Promise<CommandResult> {
    const assembler = new InputAssembler();
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (this.db.interrupted && this.inputKind === 'script') break;
      const item = assembler.push(line, lineNo);
      if (item === null) continue;
      const r = await this.runItem(item);
      if (r.kind === 'quit') return r;
      if (r.kind === 'error' && this.settings.bail) return r;
    }
    const last = assembler.finish();
    if (last !== null) return this.runItem(last);
    return OK;
  }

  /** Runs one dot-command or SQL buffer; counts a failure. */
  async runItem(item: InputItem): Promise<CommandResult> {
    this.db.clearInterrupt();
    if (this.settings.echo) this.out.write(`${item.text}\n`);
    this.lastErrorCode = 1;
    const r = item.kind === 'dot' ? await this.runDot(item.text) : await this.runSql(item.text, item.line);
    if (r.kind === 'error') this.failures++;
    if (r.kind !== 'quit') await this.out.commandDone();
    return r;
  }

  async runDot(line: string): Promise<CommandResult> {
    const args = parseDotArgs(line.slice(1));
    if (args.length === 0) return OK;
    const cmd = findCommand(args[0]);
    if (cmd === null) {
      await this.error(`Error: unknown command or invalid arguments:  "${args[0]}". Enter ".help" for help`);
      return FAILED;
    }
    try {
      return await cmd.run(this, args.slice(1));
    } catch (e) {
      await this.error(`Error: ${e instanceof Error ? e.message : String(e)}`);
      return FAILED;
    } finally {
      this.schemaTouched = true;
    }
  }

  /** Runs a buffer of SQL statements; stops at the first that fails. */
  async runSql(sql: string, line: number): Promise<CommandResult> {
    const withExtras = this.inputKind !== 'argument';
    const started = withExtras && this.settings.timer ? { wall: performance.now(), cpu: process.cpuUsage() } : null;
    let result: CommandResult = OK;
    try {
      for (const statement of splitStatements(sql)) {
        if (this.db.interrupted) throw new StatementFailure(interruptedError(), 'step');
        await this.runStatement(statement);
      }
    } catch (e) {
      if (!(e instanceof StatementFailure)) throw e;
      if (e.error instanceof DbCallError && e.error.primaryCode > 0) this.lastErrorCode = e.error.primaryCode;
      await this.out.flush();
      if (started !== null) await this.printTimer(started);
      await this.error(statementError(e.error, e.phase, this.inputKind, line));
      result = FAILED;
    } finally {
      this.schemaTouched = true;
    }
    if (result.kind === 'ok') {
      if (started !== null) await this.printTimer(started);
      if (withExtras && this.settings.changes) {
        const c = await this.db.call('counts', {});
        this.out.write(`changes: ${c.changes}   total_changes: ${c.totalChanges}\n`);
      }
    }
    return result;
  }

  private async printTimer(started: { wall: number; cpu: NodeJS.CpuUsage }): Promise<void> {
    const real = (performance.now() - started.wall) / 1000;
    const cpu = process.cpuUsage(started.cpu);
    await this.out.writeStdout(`Run Time: real ${real.toFixed(3)} user ${(cpu.user / 1e6).toFixed(6)} sys ${(cpu.system / 1e6).toFixed(6)}\n`);
  }

  /** Whether a failed statement's SQL is bad (it does not even compile) or failed while running. */
  private async phaseOf(statement: string, e: unknown): Promise<FailurePhase> {
    if (e instanceof DbCallError && e.primaryCode === SQLITE_INTERRUPT) return 'step';
    if (explainKind(statement) !== 0) return 'prepare';
    try {
      await this.db.call('query', { sql: `EXPLAIN ${statement}` });
      return 'step';
    } catch {
      return 'prepare';
    }
  }

  private async runStatement(sql: string): Promise<void> {
    let first;
    try {
      first = await this.db.call('execute', { sql, batch: BATCH });
    } catch (e) {
      throw new StatementFailure(e, await this.phaseOf(sql, e));
    }
    if (first.columns === null) return;
    const kind = explainKind(sql);
    const writer =
      kind === 2 && first.columns.length === 4
        ? queryPlanWriter(this.out)
        : kind === 1
          ? bytecodeWriter(this.out, first.columns, this.settings.nullValue)
          : rowWriter(this.out, first.columns, this.settings);
    let batch: RowBatch = first;
    try {
      for (;;) {
        for (const row of batch.rows) writer.row(row);
        if (this.out.full) await this.out.flush();
        if (batch.done) break;
        if (this.db.interrupted) {
          await this.db.call('discard', {});
          throw interruptedError();
        }
        batch = await this.db.call('fetch', { batch: BATCH });
      }
    } catch (e) {
      throw new StatementFailure(e, 'step');
    }
    writer.end();
  }
}
