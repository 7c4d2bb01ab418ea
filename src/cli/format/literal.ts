/**
 * The modes that write values as literals: `insert` (SQL INSERT statements),
 * `quote` (SQL literals) and `json` (an array of objects per statement).
 */
import type { Cell } from '../db/protocol.js';
import type { Settings } from '../settings.js';
import type { RowWriter, Sink } from './row-writer.js';
import { cellLiteral, isRealCell, isRealNumber, quoteIdentifier, quoteString, realLiteral, textBytes } from './values.js';

/** `insert`: `INSERT INTO <table>[(columns)] VALUES(...);` per row. */
export function insertWriter(sink: Sink, columns: readonly string[], s: Readonly<Settings>): RowWriter {
  const head = `INSERT INTO ${quoteIdentifier(s.insertTable)}${s.headers ? `(${columns.map(quoteIdentifier).join(',')})` : ''} VALUES(`;
  return {
    row(cells) {
      sink.write(head + cells.map((c) => cellLiteral(c, { oneLine: true, infinity: 'sql' })).join(',') + ');\n');
    },
    end() {},
  };
}

/** `quote`: each value as an SQL literal; the header names as string literals. */
export function quoteWriter(sink: Sink, columns: readonly string[], s: Readonly<Settings>): RowWriter {
  let first = true;
  return {
    row(cells) {
      if (first && s.headers) sink.write(columns.map(quoteString).join(s.colSeparator) + s.rowSeparator);
      first = false;
      sink.write(cells.map((c) => cellLiteral(c, { oneLine: false, infinity: 'text' })).join(s.colSeparator) + s.rowSeparator);
    },
    end() {},
  };
}

const JSON_ESCAPES: Record<number, string> = { 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x22: '\\"', 0x5c: '\\\\' };

/** A JSON string of the bytes: `"` and `\` escaped, control bytes as escapes, other bytes as they are. */
export function jsonString(bytes: Uint8Array): Uint8Array {
  const out: number[] = [0x22];
  for (const b of bytes) {
    const esc = JSON_ESCAPES[b];
    if (esc !== undefined) for (let i = 0; i < esc.length; i++) out.push(esc.charCodeAt(i));
    else if (b < 0x20) for (const ch of `\\u${b.toString(16).padStart(4, '0')}`) out.push(ch.charCodeAt(0));
    else out.push(b);
  }
  out.push(0x22);
  return Uint8Array.from(out);
}

/** Whether a text holds a character a JSON string must escape (controls, `"`, `\`). */
function needsJsonEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return true;
  }
  return false;
}

/** A text as a JSON string (the common case, nothing to escape, without a detour through bytes). */
function jsonText(s: string): string | Uint8Array {
  return needsJsonEscape(s) ? jsonString(textBytes(s)) : `"${s}"`;
}

function jsonValue(c: Cell): string | Uint8Array {
  if (c === null) return 'null';
  if (typeof c === 'bigint') return c.toString();
  if (typeof c === 'number') return isRealNumber(c) ? realLiteral(c, 'sql') : String(c);
  if (typeof c === 'string') return jsonText(c);
  if (isRealCell(c)) return realLiteral(c.real, 'sql');
  return jsonString(c);
}

/** `json`: `[{"col":value,...},` one object per line, `]` after the last row. */
export function jsonWriter(sink: Sink, columns: readonly string[]): RowWriter {
  const keys = columns.map(jsonText);
  let count = 0;
  return {
    row(cells) {
      sink.write(count++ === 0 ? '[{' : ',\n{');
      for (let i = 0; i < cells.length; i++) {
        sink.write(keys[i]);
        sink.write(':');
        sink.write(jsonValue(cells[i]));
        if (i < cells.length - 1) sink.write(',');
      }
      sink.write('}');
    },
    end() {
      if (count > 0) sink.write(']\n');
    },
  };
}
