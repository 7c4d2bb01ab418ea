/**
 * The contract between the shell and the output modes: one RowWriter per
 * statement that returns columns, fed its rows in order.
 */
import type { Cell } from '../db/protocol.js';
import type { Settings } from '../settings.js';
import type { Text } from './values.js';

/** Where formatted text goes (stdout, a file from `.output`/`.once`). */
export interface Sink {
  write(text: Text): void;
}

export interface RowWriter {
  /** One row of the statement, in order. */
  row(cells: readonly Cell[]): void;
  /** After the last row (also when there were none). */
  end(): void;
}

/** Builds the writer of one statement for a mode. */
export type RowWriterFactory = (sink: Sink, columns: readonly string[], settings: Readonly<Settings>) => RowWriter;
