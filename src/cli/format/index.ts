/** The row writer for each output mode. */
import type { Mode, Settings } from '../settings.js';
import { columnarWriter } from './columnar.js';
import { csvWriter, htmlWriter, listWriter, tclWriter } from './delimited.js';
import { lineWriter } from './line.js';
import { insertWriter, jsonWriter, quoteWriter } from './literal.js';
import type { RowWriter, RowWriterFactory, Sink } from './row-writer.js';

const WRITERS: Record<Mode, RowWriterFactory> = {
  list: listWriter,
  ascii: listWriter,
  csv: csvWriter,
  html: htmlWriter,
  tcl: tclWriter,
  line: lineWriter,
  insert: insertWriter,
  quote: quoteWriter,
  json: jsonWriter,
  column: columnarWriter,
  box: columnarWriter,
  table: columnarWriter,
  markdown: columnarWriter,
};

export function rowWriter(sink: Sink, columns: readonly string[], settings: Readonly<Settings>): RowWriter {
  return WRITERS[settings.mode](sink, columns, settings);
}

export type { RowWriter, Sink } from './row-writer.js';
