/**
 * Error reports in the sqlite3 shell's words. Where the input came from
 * decides the form: typed at the prompt (`Parse error: …`), read from a
 * script or pipe (`Parse error near line 3: …`), or given as a command-line
 * argument (`Error: in prepare, …`).
 */
import { DbCallError } from './db/client.js';

export type InputKind = 'interactive' | 'script' | 'argument';

/** When a statement failed: while it was prepared (bad SQL) or while it ran. */
export type FailurePhase = 'prepare' | 'step';

const SQLITE_ERROR = 1;

/** SQLite's message, with the primary result code appended when it is more specific than SQLITE_ERROR. */
export function sqliteMessage(e: unknown): string {
  if (e instanceof DbCallError) {
    const code = e.primaryCode;
    return code > SQLITE_ERROR ? `${e.message} (${code})` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The line the shell prints on stderr for a failed statement. */
export function statementError(e: unknown, phase: FailurePhase, input: InputKind, line: number): string {
  const message = sqliteMessage(e);
  if (input === 'argument') return `Error: ${phase === 'prepare' ? 'in prepare' : 'stepping'}, ${message}`;
  const what = phase === 'prepare' ? 'Parse error' : 'Runtime error';
  return input === 'script' ? `${what} near line ${line}: ${message}` : `${what}: ${message}`;
}

/** An error in a dot-command or in the shell itself (not from a statement). */
export class ShellError extends Error {
  override name = 'ShellError';
}
