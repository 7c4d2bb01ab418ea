/**
 * How the `sqlite3` shell (3.40, Debian's) turns a value into text: the text of
 * `sqlite3_column_text()` for the display modes, SQL literals for `insert` and
 * `quote`, and identifiers quoted only when they must be.
 *
 * A cell whose bytes are not UTF-8 text (a BLOB shown as text) is kept as raw
 * bytes, so it reaches the output unchanged, as it does from the C shell.
 */
import { sqlitePrintfReal } from '../../api/dump.js';
import type { Cell, RealCell } from '../db/protocol.js';
import { isKeyword } from '../keywords.js';

/** Text to write: a string (written as UTF-8) or raw bytes. */
export type Text = string | Uint8Array;

const TWO_53 = 2 ** 53;

/**
 * Whether a number came from a REAL value. The engine returns INTEGER values
 * within ±2^53 as numbers and larger ones as bigints, so a number is REAL when
 * it is fractional, non-finite, negative zero or beyond ±2^53. An integral REAL
 * such as 1.0 reads as an integer here (see docs/cli.md, "Differences").
 */
export function isRealNumber(v: number): boolean {
  return !Number.isInteger(v) || Object.is(v, -0) || Math.abs(v) >= TWO_53;
}

/** SQLite 3.40's text of a REAL (`%!.15g`): `1.0`, `0.1`, `1.0e+20`, `Inf`. */
export function realText(v: number): string {
  return sqlitePrintfReal(v, 15, true);
}

/** The `insert`/`quote`/JSON text of a REAL (`%!.20g`), `1e999` for infinities in SQL. */
export function realLiteral(v: number, infinity: 'sql' | 'text'): string {
  if (v === Infinity) return infinity === 'sql' ? '1e999' : 'Inf';
  if (v === -Infinity) return infinity === 'sql' ? '-1e999' : '-Inf';
  return sqlitePrintfReal(v, 20, true);
}

/** Bytes of a BLOB as the C shell prints them with `%s`: up to the first NUL. */
export function blobAsText(b: Uint8Array): Uint8Array {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

/** Whether a cell is a REAL marked as such. */
export function isRealCell(v: Cell): v is RealCell {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array);
}

/** The text `sqlite3_column_text()` gives for a cell; `nullText` for NULL. */
export function cellText(v: Cell, nullText: string): Text {
  if (v === null) return nullText;
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return isRealNumber(v) ? realText(v) : String(v);
  if (isRealCell(v)) return realText(v.real);
  return blobAsText(v);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A BLOB as an SQL literal: X'00ff'. */
export function blobLiteral(b: Uint8Array): string {
  let s = "X'";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return `${s}'`;
}

/** A string as an SQL literal: single quotes, inner quotes doubled. */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * A TEXT value as the `insert` mode writes it: newlines and carriage returns
 * become `char(10)` / `char(13)` through `replace()`, so each row stays on one line.
 */
export function textLiteralOneLine(s: string): string {
  const hasNl = s.includes('\n');
  const hasCr = s.includes('\r');
  if (!hasNl && !hasCr) return quoteString(s);
  // The stand-in for each character must not occur in the text itself.
  const nl = unusedToken(s, '\\n', '\\012');
  const cr = unusedToken(s, '\\r', '\\015');
  let body = quoteString(s.replace(/\n/g, nl).replace(/\r/g, cr));
  if (hasCr) body = `replace(${body},'${cr}',char(13))`;
  if (hasNl) body = `replace(${body},'${nl}',char(10))`;
  return body;
}

function unusedToken(s: string, first: string, second: string): string {
  if (!s.includes(first)) return first;
  if (!s.includes(second)) return second;
  for (let i = 0; ; i++) {
    const t = `(${first}${i})`;
    if (!s.includes(t)) return t;
  }
}

/** A cell as an SQL literal (`insert` and `quote` modes, `.dump`). */
export function cellLiteral(v: Cell, options: { oneLine: boolean; infinity: 'sql' | 'text' }): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return options.oneLine ? textLiteralOneLine(v) : quoteString(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return isRealNumber(v) ? realLiteral(v, options.infinity) : String(v);
  if (isRealCell(v)) return realLiteral(v.real, options.infinity);
  return blobLiteral(v);
}

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An identifier, double-quoted only when it is not a plain name or is a keyword. */
export function quoteIdentifier(name: string): string {
  if (PLAIN_IDENTIFIER.test(name) && !isKeyword(name)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/** An identifier always double-quoted. */
export function doubleQuote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of a text. */
export function textBytes(t: Text): Uint8Array {
  return typeof t === 'string' ? encoder.encode(t) : t;
}
