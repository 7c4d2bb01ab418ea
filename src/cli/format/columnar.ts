/**
 * The columnar modes: `column`, `table`, `markdown` and `box`. All rows are
 * read first, then laid out with the sqlite3 shell's rules: widths in
 * characters, TABs expanded to 8-column stops, any other control character
 * starting a new line within the cell, values longer than the wrap width (or
 * than a `.width`) continued on the next line, headers centred (except in
 * `column` mode), and a rule between rows once any row spans several lines.
 */
import type { Cell } from '../db/protocol.js';
import type { Settings } from '../settings.js';
import type { RowWriter, Sink } from './row-writer.js';
import { blobLiteral, cellText, quoteString, type Text } from './values.js';

const decoder = new TextDecoder();

function asString(t: Text): string {
  return typeof t === 'string' ? t : decoder.decode(t);
}

/** C's isalnum in the C locale. */
function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z0-9]$/.test(c);
}

function utf8Length(c: string): number {
  const p = c.codePointAt(0) ?? 0;
  return p < 0x80 ? 1 : p < 0x800 ? 2 : p < 0x10000 ? 3 : 4;
}

/**
 * Splits a value into the lines it occupies: a line ends at a control
 * character (CR LF counts as one) or after `wrap` characters (0: no limit).
 * With `wordWrap`, a full line is cut after its last space in its second half
 * (else at a change between letters/digits and other characters), and the
 * spaces at the cut are dropped.
 */
export function displayLines(value: string, wrap: number, wordWrap = false): string[] {
  const chars = Array.from(value);
  const max = wrap > 0 ? wrap : Infinity;
  const lines: string[] = [];
  let i = 0;
  do {
    const start = i;
    let line = '';
    let n = 0;
    // Where each input character's text starts in `line`, and its byte offset from the line's start.
    const outAt: number[] = [];
    const byteAt: number[] = [];
    let bytes = 0;
    const mark = (): void => {
      outAt.push(line.length);
      byteAt.push(bytes);
    };
    while (i < chars.length && n < max) {
      const c = chars[i];
      if (c === '\t') {
        mark();
        do {
          line += ' ';
          n++;
        } while (n % 8 !== 0 && n < max);
        bytes += 1;
        i++;
        continue;
      }
      if (c < ' ') break;
      mark();
      line += c;
      bytes += utf8Length(c);
      n++;
      i++;
    }
    mark();
    if (n >= max && wordWrap) {
      // Back up to a better break: after a space, else at a word boundary, in the line's second half.
      const end = i - start;
      const half = byteAt[end] / 2;
      let k = end;
      while (k > 0 && byteAt[k] > half && !/[ \t\n\v\f\r]/.test(chars[start + k - 1])) k--;
      if (!(k > 0 && byteAt[k] > half)) {
        k = end;
        while (k > 0 && byteAt[k] > half && isAlnum(chars[start + k - 1]) === isAlnum(chars[start + k])) k--;
      }
      if (k > 0 && byteAt[k] > half) {
        line = line.slice(0, outAt[k]);
        i = start + k;
        while (chars[i] === ' ') i++;
      }
    }
    lines.push(line);
    if (i >= chars.length) break;
    const c = chars[i];
    // Wrapped before an ordinary character: the next line starts with it.
    if (n >= max && c >= ' ') continue;
    // Otherwise a control character (a TAB too, after a wrap) ends the line and is dropped (CR LF together).
    if (c === '\r' && chars[i + 1] === '\n') i += 2;
    else i += 1;
  } while (i < chars.length);
  return lines;
}

function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Left-aligns (or, for a negative width, right-aligns) `s` in |width| characters, cutting it if longer. */
function fit(s: string, width: number): string {
  const w = Math.abs(width);
  const chars = Array.from(s);
  const cut = chars.length > w ? chars.slice(0, w).join('') : s;
  const pad = ' '.repeat(Math.max(0, w - Math.min(chars.length, w)));
  return width < 0 ? pad + cut : cut + pad;
}

function centre(s: string, width: number): string {
  const n = charCount(s);
  const left = Math.max(0, Math.floor((width - n) / 2));
  const right = Math.max(0, Math.floor((width - n + 1) / 2));
  return ' '.repeat(left) + s + ' '.repeat(right);
}

/** `--quote`: strings and BLOBs as SQL literals (x'…'), NULL as NULL, numbers as they print. */
function quotedText(c: Cell): string {
  if (c === null) return 'NULL';
  if (typeof c === 'string') return quoteString(c);
  if (c instanceof Uint8Array) return blobLiteral(c).replace(/^X/, 'x');
  return asString(cellText(c, ''));
}

/** One result row laid out: lines[k][column]. */
type RowLines = string[][];

interface Frame {
  readonly top?: readonly [string, string, string];
  readonly headRule: readonly [string, string, string];
  readonly rowRule?: readonly [string, string, string];
  readonly bottom?: readonly [string, string, string];
  readonly fill: string;
  readonly left: string;
  readonly mid: string;
  readonly right: string;
}

const FRAMES: Record<'table' | 'markdown' | 'box', Frame> = {
  table: {
    top: ['+', '+', '+'],
    headRule: ['+', '+', '+'],
    rowRule: ['+', '+', '+'],
    bottom: ['+', '+', '+'],
    fill: '-',
    left: '| ',
    mid: ' | ',
    right: ' |',
  },
  markdown: { headRule: ['|', '|', '|'], fill: '-', left: '| ', mid: ' | ', right: ' |' },
  box: {
    top: ['\u250c', '\u252c', '\u2510'],
    headRule: ['\u251c', '\u253c', '\u2524'],
    rowRule: ['\u251c', '\u253c', '\u2524'],
    bottom: ['\u2514', '\u2534', '\u2518'],
    fill: '\u2500',
    left: '\u2502 ',
    mid: ' \u2502 ',
    right: ' \u2502',
  },
};

export function columnarWriter(sink: Sink, columns: readonly string[], s: Readonly<Settings>): RowWriter {
  const mode = s.mode;
  const rows: RowLines[] = [];
  const setWidth = (i: number): number => s.widths[i] ?? 0;
  const wrapOf = (i: number): number => (setWidth(i) !== 0 ? Math.abs(setWidth(i)) : s.wrap);
  const textOf = (c: Cell): string => (s.quote ? quotedText(c) : asString(cellText(c, s.nullValue)));

  return {
    row(cells) {
      const split = cells.map((c, i) => displayLines(textOf(c), wrapOf(i), s.wordWrap));
      const height = Math.max(1, ...split.map((l) => l.length));
      const lines: RowLines = [];
      for (let k = 0; k < height; k++) lines.push(split.map((l) => l[k] ?? ''));
      rows.push(lines);
    },
    end() {
      if (rows.length === 0) return;
      const headers = columns.map((c) => displayLines(c, 0)[0]);
      const widths = headers.map((h, i) => {
        if (setWidth(i) !== 0) return Math.abs(setWidth(i));
        let w = charCount(h);
        for (const r of rows) for (const l of r) w = Math.max(w, charCount(l[i]));
        return w;
      });
      const multiLine = rows.some((r) => r.length > 1);
      const signed = (i: number): number => (setWidth(i) < 0 ? -widths[i] : widths[i]);
      if (mode === 'column') {
        if (s.headers) {
          sink.write(headers.map((h, i) => fit(h, signed(i))).join('  ') + '\n');
          sink.write(widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
        }
        rows.forEach((r, k) => {
          for (const l of r) sink.write(l.map((v, i) => fit(v, signed(i))).join('  ') + '\n');
          if (multiLine && k < rows.length - 1) sink.write('\n');
        });
      } else {
        const f = FRAMES[mode === 'table' || mode === 'markdown' || mode === 'box' ? mode : 'table'];
        const rule = (ends: readonly [string, string, string]): string =>
          ends[0] + widths.map((w) => f.fill.repeat(w + 2)).join(ends[1]) + ends[2] + '\n';
        if (f.top) sink.write(rule(f.top));
        sink.write(f.left + headers.map((h, i) => centre(h, widths[i])).join(f.mid) + f.right + '\n');
        sink.write(rule(f.headRule));
        rows.forEach((r, k) => {
          for (const l of r) sink.write(f.left + l.map((v, i) => fit(v, signed(i))).join(f.mid) + f.right + '\n');
          if (multiLine && f.rowRule && k < rows.length - 1) sink.write(rule(f.rowRule));
        });
        if (f.bottom) sink.write(rule(f.bottom));
      }
    },
  };
}
