/**
 * Extra row factories for JS code (the module's own `Row` lives in row.ts).
 */
import type { Cursor } from './cursor.js';

/** Rows as plain objects keyed by column name: `conn.row_factory = object_factory`. */
export function object_factory(cursor: Cursor, row: unknown[]): Record<string, unknown> {
  const d = cursor.description ?? [];
  const o: Record<string, unknown> = {};
  for (let i = 0; i < row.length; i++) o[d[i]?.[0] ?? String(i)] = row[i];
  return o;
}
