/**
 * Turning input lines into work, as the sqlite3 shell does: a line starting
 * with `.` (outside a statement) is a dot-command; other lines accumulate until
 * one ends with a `;` that completes the SQL (not inside a string, comment or
 * trigger body); a line holding only `/` or `go` ends the statement too.
 * A complete buffer is then split into its statements.
 */
import { complete_statement } from '../api/complete-statement.js';

/** What the input assembler hands to the shell. */
export type InputItem =
  | { readonly kind: 'sql'; readonly text: string; readonly line: number }
  | { readonly kind: 'dot'; readonly text: string; readonly line: number };

/**
 * A scanner that follows strings, quoted identifiers and comments across
 * lines, and remembers whether the text so far holds anything but whitespace
 * and comments, and whether its last such token is a semicolon.
 */
export class SqlScanner {
  private close: string | null = null;
  private blockComment = false;
  /** Something besides whitespace and comments was seen. */
  dark = false;
  /** The last thing seen outside strings and comments was `;`. */
  semicolonLast = false;

  get inPlainText(): boolean {
    return this.close === null && !this.blockComment;
  }

  reset(): void {
    this.close = null;
    this.blockComment = false;
    this.dark = false;
    this.semicolonLast = false;
  }

  /** Scans `text`; calls `onSemicolon(index)` for each semicolon outside strings and comments. */
  scan(text: string, onSemicolon?: (index: number) => void): void {
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (this.blockComment) {
        const end = text.indexOf('*/', i);
        if (end < 0) return;
        this.blockComment = false;
        i = end + 2;
        continue;
      }
      if (this.close !== null) {
        const end = text.indexOf(this.close, i);
        if (end < 0) return;
        this.close = null;
        i = end + 1;
        continue;
      }
      const c = text[i];
      if (c === '-' && text[i + 1] === '-') {
        const nl = text.indexOf('\n', i);
        if (nl < 0) return;
        i = nl + 1;
        continue;
      }
      if (c === '/' && text[i + 1] === '*') {
        this.blockComment = true;
        i += 2;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
        i++;
        continue;
      }
      this.dark = true;
      this.semicolonLast = c === ';';
      if (c === "'" || c === '"' || c === '`') this.close = c;
      else if (c === '[') this.close = ']';
      else if (c === ';') onSemicolon?.(i);
      i++;
    }
  }
}

/** `/` or `go` alone on a line ends a statement (Oracle and SQL Server habits). */
function isTerminatorLine(line: string): boolean {
  return /^\s*(\/|[gG][oO])\s*$/.test(line);
}

/** Accumulates lines into dot-commands and complete SQL buffers. */
export class InputAssembler {
  private buffer = '';
  private startLine = 0;
  private readonly scanner = new SqlScanner();

  /** True while a statement is incomplete (the shell shows its continuation prompt). */
  get pending(): boolean {
    return this.buffer.length > 0;
  }

  /** Feeds one line (without its line terminator); returns the work it completes, if any. */
  push(line: string, lineNo: number): InputItem | null {
    if (this.buffer.length === 0) {
      if (line.startsWith('.')) return { kind: 'dot', text: line, line: lineNo };
      if (line.startsWith('#')) return null;
    }
    if (this.scanner.inPlainText && this.buffer.length > 0 && isTerminatorLine(line) && complete_statement(`${this.buffer};`)) {
      line = ';';
    }
    this.scanner.scan(line);
    if (this.buffer.length === 0) {
      if (!this.scanner.dark && this.scanner.inPlainText) {
        this.scanner.reset();
        return null;
      }
      this.buffer = line.replace(/^\s+/, '');
      this.startLine = lineNo;
    } else {
      this.buffer += `\n${line}`;
    }
    this.scanner.scan('\n');
    if (this.scanner.inPlainText && this.scanner.semicolonLast && complete_statement(this.buffer)) return this.take();
    if (this.scanner.inPlainText && !this.scanner.dark) {
      // Only comments and whitespace: nothing to run.
      this.buffer = '';
      this.scanner.reset();
    }
    return null;
  }

  /** At the end of input: whatever SQL is left is run as it is (SQLite reports it if incomplete). */
  finish(): InputItem | null {
    if (this.buffer.length === 0 || !this.scanner.dark) {
      this.buffer = '';
      this.scanner.reset();
      return null;
    }
    return this.take();
  }

  /** Drops a half-typed statement (Ctrl-C at the prompt). */
  clear(): void {
    this.buffer = '';
    this.scanner.reset();
  }

  private take(): InputItem {
    const item: InputItem = { kind: 'sql', text: this.buffer, line: this.startLine };
    this.buffer = '';
    this.scanner.reset();
    return item;
  }
}

/**
 * Splits SQL text into statements at the semicolons that end one (a
 * semicolon inside a trigger body does not). Pieces holding only whitespace
 * and comments are dropped; a last piece without a semicolon is kept.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  const scanner = new SqlScanner();
  scanner.scan(sql, (i) => {
    const piece = sql.slice(start, i + 1);
    if (complete_statement(piece)) {
      out.push(piece);
      start = i + 1;
    }
  });
  const rest = sql.slice(start);
  const tail = new SqlScanner();
  tail.scan(rest);
  if (tail.dark) out.push(rest);
  const kept: string[] = [];
  for (const piece of out) {
    const sc = new SqlScanner();
    sc.scan(piece);
    // A piece that is only ";" (or comments and ";") is an empty statement: SQLite skips it.
    if (sc.dark && piece.replace(/\/\*[\s\S]*?\*\/|--[^\n]*|\s|;/g, '').length > 0) kept.push(piece.replace(/^\s+/, ''));
  }
  return kept;
}
