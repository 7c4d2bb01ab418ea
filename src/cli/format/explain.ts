/**
 * How the sqlite3 shell shows EXPLAIN output whatever the mode: the query plan
 * (`EXPLAIN QUERY PLAN`) as a tree under `QUERY PLAN`, and bytecode (`EXPLAIN`)
 * in fixed-width columns with the bodies of loops indented.
 */
import type { Cell } from '../db/protocol.js';
import type { RowWriter, Sink } from './row-writer.js';
import { cellText, textBytes, type Text } from './values.js';

/** 2 for `EXPLAIN QUERY PLAN …`, 1 for `EXPLAIN …`, 0 otherwise. */
export function explainKind(sql: string): 0 | 1 | 2 {
  const s = sql.replace(/^(\s|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)+/, '');
  if (/^EXPLAIN\s+QUERY\s+PLAN\b/i.test(s)) return 2;
  if (/^EXPLAIN\b/i.test(s)) return 1;
  return 0;
}

/** `EXPLAIN QUERY PLAN`: rows (id, parent, notused, detail) drawn as a tree. */
export function queryPlanWriter(sink: Sink): RowWriter {
  const rows: Array<{ id: number; parent: number; detail: string }> = [];
  return {
    row(cells) {
      rows.push({ id: Number(cells[0]), parent: Number(cells[1]), detail: String(cells[3] ?? '') });
    },
    end() {
      sink.write('QUERY PLAN\n');
      const draw = (parent: number, prefix: string): void => {
        const kids = rows.filter((r) => r.parent === parent);
        kids.forEach((r, k) => {
          const last = k === kids.length - 1;
          sink.write(`${prefix}${last ? '`--' : '|--'}${r.detail}\n`);
          draw(r.id, prefix + (last ? '   ' : '|  '));
        });
      };
      draw(0, '');
    },
  };
}

const WIDTHS = [4, 13, 4, 4, 4, 13, 2, 13];
const LOOP_ENDS = ['Next', 'Prev', 'VPrev', 'VNext', 'SorterNext'];
const LOOP_STARTS = ['Yield', 'SeekLT', 'SeekGT', 'RowSetRead', 'Rewind'];

function charCount(t: Text): number {
  let n = 0;
  for (const b of textBytes(t)) if ((b & 0xc0) !== 0x80) n++;
  return n;
}

function pad(t: Text, width: number): Text[] {
  const n = charCount(t);
  return n >= width ? [t] : [t, ' '.repeat(width - n)];
}

/** `EXPLAIN`: bytecode in the shell's explain layout. */
export function bytecodeWriter(sink: Sink, columns: readonly string[], nullValue: string): RowWriter {
  const rows: Cell[][] = [];
  return {
    row(cells) {
      rows.push([...cells]);
    },
    end() {
      const indent = new Array<number>(rows.length).fill(0);
      const starts = rows.map((r) => LOOP_STARTS.includes(String(r[1])));
      rows.forEach((r, i) => {
        const op = String(r[1]);
        const target = Number(r[3]) + (i - Number(r[0]));
        if (LOOP_ENDS.includes(op) && target > 0) for (let j = target; j < i; j++) indent[j] += 2;
        if (op === 'Goto' && target >= 0 && target < i && (starts[target] || Number(r[2]) !== 0)) {
          for (let j = target; j < i; j++) indent[j] += 2;
        }
      });
      const n = columns.length;
      const line = (cells: readonly Text[], widthOf: (i: number, t: Text) => number, lead: (i: number) => string): void => {
        cells.forEach((t, i) => {
          sink.write(lead(i));
          for (const p of pad(t, widthOf(i, t))) sink.write(p);
          sink.write(i === n - 1 ? '\n' : '  ');
        });
      };
      line(columns, (i) => WIDTHS[i] ?? 0, () => '');
      line(columns.map((_, i) => '-'.repeat(WIDTHS[i] ?? 0)), (i) => WIDTHS[i] ?? 0, () => '');
      rows.forEach((r, k) => {
        line(
          r.map((c) => cellText(c, nullValue)),
          (i) => (i === n - 1 ? 0 : (WIDTHS[i] ?? 0)),
          (i) => (i === 1 ? ' '.repeat(indent[k]) : ''),
        );
      });
    },
  };
}
