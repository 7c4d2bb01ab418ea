/**
 * The delimited modes: `list` (and `tabs`, `ascii`), `csv`, `html` and `tcl`.
 * Each row is written as it arrives; the header row comes before the first row.
 */
import type { Cell } from '../db/protocol.js';
import type { Settings } from '../settings.js';
import type { RowWriter, Sink } from './row-writer.js';
import { cellText, textBytes, type Text } from './values.js';

/** `list` and `ascii`: values joined by the column separator. */
export function listWriter(sink: Sink, columns: readonly string[], s: Readonly<Settings>): RowWriter {
  let first = true;
  const line = (cells: readonly Text[]): void => {
    for (let i = 0; i < cells.length; i++) {
      sink.write(cells[i]);
      sink.write(i < cells.length - 1 ? s.colSeparator : s.rowSeparator);
    }
  };
  return {
    row(cells) {
      if (first && s.headers) line(columns);
      first = false;
      line(cells.map((c) => cellText(c, s.nullValue)));
    },
    end() {},
  };
}

/** Bytes that make a CSV field quoted: controls, space, `"`, `'`, DEL and every non-ASCII byte. */
function csvNeedsQuote(bytes: Uint8Array, separator: string): boolean {
  if (bytes.length === 0) return true;
  for (const b of bytes) {
    if (b <= 0x20 || b === 0x22 || b === 0x27 || b >= 0x7f) return true;
  }
  return separator.length > 0 && Buffer.from(bytes).includes(separator);
}

/** Whether a text holds a character that makes a CSV field quoted (the characters of csvNeedsQuote's bytes). */
function hasCsvSpecial(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x22 || c === 0x27 || c >= 0x7f) return true;
  }
  return false;
}

function csvField(t: Text, separator: string): Text {
  if (typeof t === 'string' && t.length > 0 && !hasCsvSpecial(t) && (separator.length === 0 || !t.includes(separator))) return t;
  const bytes = textBytes(t);
  if (!csvNeedsQuote(bytes, separator)) return t;
  const parts: number[] = [0x22];
  for (const b of bytes) {
    parts.push(b);
    if (b === 0x22) parts.push(0x22);
  }
  parts.push(0x22);
  return Uint8Array.from(parts);
}

/** `csv`: RFC 4180 quoting; NULL is the null text, unquoted. */
export function csvWriter(sink: Sink, columns: readonly string[], s: Readonly<Settings>): RowWriter {
  let first = true;
  const line = (cells: readonly (Cell | string)[], isHeader: boolean): void => {
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      sink.write(c === null && !isHeader ? s.nullValue : csvField(cellText(c, ''), s.colSeparator));
      if (i < cells.length - 1) sink.write(s.colSeparator);
    }
    sink.write(s.rowSeparator);
  };
  return {
    row(cells) {
      if (first && s.headers) line(columns, true);
      first = false;
      line(cells, false);
    },
    end() {},
  };
}

const HTML_ESCAPES: Record<string, string> = { '<': '&lt;', '&': '&amp;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function htmlText(t: Text): Text {
  if (typeof t === 'string') return t.replace(/[<&>"']/g, (c) => HTML_ESCAPES[c]);
  const out: number[] = [];
  for (const b of t) {
    const esc = HTML_ESCAPES[String.fromCharCode(b)];
    if (esc === undefined) out.push(b);
    else for (let i = 0; i < esc.length; i++) out.push(esc.charCodeAt(i));
  }
  return Uint8Array.from(out);
}

/** `html`: one `<TR>` per row, `<TH>` cells for the header. */
export function htmlWriter(sink: Sink, columns: readonly string[], s: Readonly<Settings>): RowWriter {
  let first = true;
  const line = (cells: readonly Text[], tag: 'TH' | 'TD'): void => {
    sink.write('<TR>');
    for (const c of cells) {
      sink.write(`<${tag}>`);
      sink.write(htmlText(c));
      sink.write(`</${tag}>\n`);
    }
    sink.write('</TR>\n');
  };
  return {
    row(cells) {
      if (first && s.headers) line(columns, 'TH');
      first = false;
      line(cells.map((c) => cellText(c, s.nullValue)), 'TD');
    },
    end() {},
  };
}

/** A C string literal, as `tcl` mode writes values: escapes and octal for other non-printing bytes. */
function cString(t: Text): Uint8Array {
  const out: number[] = [0x22];
  for (const b of textBytes(t)) {
    if (b === 0x5c) out.push(0x5c, 0x5c);
    else if (b === 0x22) out.push(0x5c, 0x22);
    else if (b === 0x09) out.push(0x5c, 0x74);
    else if (b === 0x0a) out.push(0x5c, 0x6e);
    else if (b === 0x0d) out.push(0x5c, 0x72);
    else if (b < 0x20 || b >= 0x7f) out.push(0x5c, ...Buffer.from(b.toString(8).padStart(3, '0')));
    else out.push(b);
  }
  out.push(0x22);
  return Uint8Array.from(out);
}

/** `tcl`: every value a quoted C string. */
export function tclWriter(sink: Sink, columns: readonly string[], s: Readonly<Settings>): RowWriter {
  let first = true;
  const line = (cells: readonly Text[]): void => {
    for (let i = 0; i < cells.length; i++) {
      sink.write(cString(cells[i]));
      if (i < cells.length - 1) sink.write(s.colSeparator);
    }
    sink.write(s.rowSeparator);
  };
  return {
    row(cells) {
      if (first && s.headers) line(columns);
      first = false;
      line(cells.map((c) => cellText(c, s.nullValue)));
    },
    end() {},
  };
}
