/**
 * `.dump`: the database as SQL text, in the sqlite3 shell's layout (not
 * Python's `iterdump`): `PRAGMA foreign_keys=OFF;`, one transaction, each
 * table's CREATE and its rows as INSERTs, `sqlite_sequence` restored, then
 * indexes, triggers and views.
 */
import type { Cell, RowBatch } from '../db/protocol.js';
import { cellLiteral, doubleQuote, quoteIdentifier } from '../format/values.js';
import { schemaText } from './schema-commands.js';
import { FAILED, OK, type CommandHost, type DotCommand } from './types.js';

const BATCH = 1000;

interface DumpOptions {
  readonly dataOnly: boolean;
  readonly newlines: boolean;
  readonly nosys: boolean;
  readonly patterns: readonly string[];
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Streams a query's rows through `each`, a batch at a time. */
async function forEachRow(host: CommandHost, sql: string, each: (row: Cell[]) => void): Promise<void> {
  let batch: RowBatch = await host.db.call('execute', { sql, batch: BATCH });
  for (;;) {
    for (const r of batch.rows) each(r);
    if (host.out.full) await host.out.flush();
    if (batch.done) return;
    if (host.db.interrupted) {
      await host.db.call('discard', {});
      throw new Error('interrupted');
    }
    batch = await host.db.call('fetch', { batch: BATCH });
  }
}

/** Writes the INSERT statements of one table's rows. */
async function dumpRows(host: CommandHost, table: string, o: DumpOptions, onRow: () => void): Promise<void> {
  const cols = await host.query(`PRAGMA table_xinfo(${doubleQuote(table)})`);
  // Generated and hidden columns are not inserted (their values are computed).
  const names = cols.filter((c) => Number(c[6] ?? 0) === 0).map((c) => String(c[1]));
  if (names.length === 0) return;
  // typeof() tells an integral REAL (1.0) from an INTEGER, which read as the same number.
  const select = `SELECT ${names.map((n) => `${doubleQuote(n)}, typeof(${doubleQuote(n)})`).join(', ')} FROM ${doubleQuote(table)}`;
  const head = `INSERT INTO ${quoteIdentifier(table)} VALUES(`;
  const options = { oneLine: !o.newlines, infinity: 'sql' } as const;
  await forEachRow(host, select, (row) => {
    const values: string[] = [];
    for (let i = 0; i < row.length; i += 2) {
      const v = row[i];
      values.push(cellLiteral(row[i + 1] === 'real' && typeof v === 'number' ? { real: v } : v, options));
    }
    host.out.write(`${head}${values.join(',')});\n`);
    onRow();
  });
}

function parseOptions(args: readonly string[]): DumpOptions | string {
  let dataOnly = false;
  let newlines = false;
  let nosys = false;
  const patterns: string[] = [];
  for (const a of args) {
    if (a === '--data-only') dataOnly = true;
    else if (a === '--newlines') newlines = true;
    else if (a === '--nosys') nosys = true;
    else if (a.startsWith('-')) return `Unknown option "${a}" on ".dump"`;
    else patterns.push(a);
  }
  return { dataOnly, newlines, nosys, patterns };
}

export const dumpCommand: DotCommand = {
  name: 'dump',
  usage: '.dump ?OBJECTS?',
  help: 'The database (or tables matching OBJECTS) as SQL text; --data-only, --newlines, --nosys',
  async run(host, args) {
    const o = parseOptions(args);
    if (typeof o === 'string') {
      await host.error(o);
      return FAILED;
    }
    const like = o.patterns.length === 0 ? 'true' : o.patterns.map((p) => `name LIKE ${quoteLiteral(p)} ESCAPE '\\'`).join(' OR ');
    const out = host.out;
    const tables = await host.query(
      `SELECT name, type, sql FROM sqlite_schema AS o WHERE (${like}) AND type == 'table' AND sql NOT NULL ORDER BY tbl_name = 'sqlite_sequence', rowid`,
    );
    const progress = host.progress('.dump', 'rows', true);
    let total = 0;
    let done = 0;
    if (progress.visible) {
      for (const [name] of tables) {
        if (String(name).startsWith('sqlite_')) continue;
        const r = await host.query(`SELECT count(*) FROM ${doubleQuote(String(name))}`);
        total += Number(r[0][0]);
      }
    }
    let writableSchema = false;
    if (!o.dataOnly) out.write('PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n');
    try {
      for (const [nameCell, , sqlCell] of tables) {
        const name = String(nameCell);
        const sql = String(sqlCell);
        if (name === 'sqlite_sequence') {
          if (!o.dataOnly) out.write('DELETE FROM sqlite_sequence;\n');
        } else if (name === 'sqlite_stat1') {
          if (!o.dataOnly) out.write('ANALYZE sqlite_schema;\n');
        } else if (name.startsWith('sqlite_')) {
          continue;
        } else if (/^CREATE VIRTUAL TABLE/i.test(sql)) {
          if (!o.dataOnly) {
            if (!writableSchema) out.write('PRAGMA writable_schema=ON;\n');
            writableSchema = true;
            out.write(
              `INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table',${quoteLiteral(name)},${quoteLiteral(name)},0,${quoteLiteral(sql)});\n`,
            );
          }
          continue;
        } else if (!o.dataOnly) {
          out.write(`${schemaText(sql, 'main', null)};\n`);
        }
        await dumpRows(host, name, o, () => progress.update(++done, total));
      }
      if (!o.dataOnly) {
        const others = await host.query(
          `SELECT sql FROM sqlite_schema AS o WHERE (${like}) AND sql NOT NULL AND type IN ('index','trigger','view')${o.nosys ? " AND name NOT LIKE 'sqlite_%'" : ''}`,
        );
        for (const [sql] of others) out.write(`${String(sql)};\n`);
      }
    } finally {
      progress.finish();
    }
    if (writableSchema) out.write('PRAGMA writable_schema=OFF;\n');
    if (!o.dataOnly) out.write('COMMIT;\n');
    return OK;
  },
};
