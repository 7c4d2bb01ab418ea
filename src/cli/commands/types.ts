/**
 * The dot-command table's types. A command is a row: its name, usage line,
 * one-line help and a handler that works through the `CommandHost` (the
 * shell). Features add their commands by adding rows (see `commands/index.ts`).
 */
import type { DbClient } from '../db/client.js';
import type { Cell, Features } from '../db/protocol.js';
import type { InputKind } from '../errors.js';
import type { Output } from '../output.js';
import type { Progress } from '../progress.js';
import type { Settings } from '../settings.js';

/**
 * What a handler reports: done, failed (already reported), or leave the shell
 * (with `.exit`'s status, or null for `.quit`: then failures decide it).
 */
export type CommandResult = { readonly kind: 'ok' } | { readonly kind: 'error' } | { readonly kind: 'quit'; readonly status: number | null };

export const OK: CommandResult = { kind: 'ok' };
export const FAILED: CommandResult = { kind: 'error' };

/** The open database as the shell knows it. */
export interface DatabaseInfo {
  /** The name it was opened with (a path or ':memory:'). */
  readonly name: string;
  /** The file SQLite reports ('' in memory). */
  readonly file: string;
  readonly readonly: boolean;
}

/** What dot-commands may use of the shell. */
export interface CommandHost {
  readonly settings: Settings;
  readonly db: DbClient;
  readonly out: Output;
  readonly database: DatabaseInfo;
  /** How the current input arrived (decides the form of error messages). */
  readonly inputKind: InputKind;
  /** Prints a line on stderr (after flushing pending results). */
  error(line: string): Promise<void>;
  /** Prints a warning line on stderr at once. */
  warn(line: string): void;
  /** Runs one query of the shell's own and returns its rows. */
  query(sql: string, params?: Cell[]): Promise<Cell[][]>;
  /** Runs the statements and dot-commands in a file, as `.read` does; false if any failed. */
  runFile(path: string): Promise<CommandResult>;
  /** Closes the database and opens another. */
  openDatabase(name: string, options: { readonly: boolean; features?: Features }): Promise<void>;
  /** A progress bar for a long operation; `writesResults` when it prints to the output. */
  progress(label: string, unit: string, writesResults: boolean): Progress;
}

export interface DotCommand {
  /** The name without the dot: 'tables'. */
  readonly name: string;
  /** Other names it answers to. */
  readonly aliases?: readonly string[];
  /** The usage line for `.help`: '.tables ?PATTERN?'. */
  readonly usage: string;
  /** One line for `.help`. */
  readonly help: string;
  run(host: CommandHost, args: readonly string[]): Promise<CommandResult>;
}
