/**
 * Dot-commands for what HeliosDB has beyond SQLite. Vector indexes today;
 * branches and versions add their rows here when those features land.
 */
import type { Cell } from '../db/protocol.js';
import { rowWriter } from '../format/index.js';
import { OK, type DotCommand } from './types.js';

const VECTOR_COLUMNS = ['name', 'table', 'column', 'metric', 'dimensions', 'quantization', 'connectivity', 'expansion_add', 'expansion_search'];

function likeMatch(pattern: string, text: string): boolean {
  const re = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${re}$`, 'is').test(text);
}

export const productCommands: readonly DotCommand[] = [
  {
    name: 'vectors',
    usage: '.vectors ?PATTERN?',
    help: 'Vector indexes with their table, column, metric and dimensions (matching PATTERN)',
    async run(host, args) {
      const all = await host.db.call('vectorIndexes', {});
      const rows = all.filter((v) => args.length === 0 || likeMatch(args[0], String(v.name)));
      if (rows.length === 0) return OK;
      const writer = rowWriter(host.out, VECTOR_COLUMNS, { ...host.settings, headers: true });
      for (const v of rows) writer.row(VECTOR_COLUMNS.map((c) => (v[c] ?? null) as Cell));
      writer.end();
      return OK;
    },
  },
];
