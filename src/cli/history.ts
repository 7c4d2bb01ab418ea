/**
 * Command history kept across sessions in `~/.heliosdb_history` (or the
 * file named by HELIOSDB_HISTORY): one entered line per line of the file,
 * appended as it is entered, trimmed to the newest entries at start-up.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Entries kept. */
export const HISTORY_SIZE = 1000;

export function historyPath(): string | null {
  const env = process.env.HELIOSDB_HISTORY;
  if (env !== undefined) return env === '' ? null : env;
  const home = homedir();
  return home ? join(home, '.heliosdb_history') : null;
}

export class History {
  constructor(private path: string | null) {}

  /** The saved entries, newest first (as readline wants them). */
  load(): string[] {
    if (this.path === null) return [];
    let lines: string[];
    try {
      lines = readFileSync(this.path, 'utf8').split('\n').filter((l) => l.length > 0);
    } catch {
      return [];
    }
    if (lines.length > HISTORY_SIZE) {
      lines = lines.slice(-HISTORY_SIZE);
      this.rewrite(lines);
    }
    return lines.reverse();
  }

  /** Records an entered line. */
  add(line: string): void {
    if (this.path === null || line.trim().length === 0) return;
    try {
      appendFileSync(this.path, `${line.replace(/\n/g, ' ')}\n`, { mode: 0o600 });
    } catch {
      // An unwritable history file must not stop the shell; the session keeps its history in memory.
      this.disable();
    }
  }

  private rewrite(lines: readonly string[]): void {
    try {
      writeFileSync(this.path as string, `${lines.join('\n')}\n`, { mode: 0o600 });
    } catch {
      this.disable();
    }
  }

  private disable(): void {
    this.path = null;
  }
}
