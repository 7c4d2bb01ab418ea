/**
 * The `line` mode: one `name = value` line per column, records separated by
 * an empty line. Names are right-aligned to the longest (at least 5 bytes).
 */
import type { Settings } from '../settings.js';
import type { RowWriter, Sink } from './row-writer.js';
import { cellText, textBytes } from './values.js';

export function lineWriter(sink: Sink, columns: readonly string[], s: Readonly<Settings>): RowWriter {
  // Widths are counted in bytes, as printf's %*s counts them.
  const width = Math.max(5, ...columns.map((c) => textBytes(c).length));
  const names = columns.map((c) => ' '.repeat(width - textBytes(c).length) + c + ' = ');
  let count = 0;
  return {
    row(cells) {
      if (count++ > 0) sink.write(s.rowSeparator);
      for (let i = 0; i < cells.length; i++) {
        sink.write(names[i]);
        sink.write(cellText(cells[i], s.nullValue));
        sink.write(s.rowSeparator);
      }
    },
    end() {},
  };
}
