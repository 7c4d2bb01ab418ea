/** Dot-commands that describe the database: .tables .indexes .schema .databases */
import type { Cell } from '../db/protocol.js';
import { doubleQuote, quoteIdentifier } from '../format/values.js';
import { FAILED, OK, type CommandHost, type DotCommand } from './types.js';

/** The read-only schemas time travel attaches to read past versions (`AS OF`): the shell does not list them. */
export function isPastVersionSchema(name: string): boolean {
  return /^heliosdb_asof_\d+$/.test(name);
}

/** The attached databases: [name] in PRAGMA database_list order. */
export async function schemaNames(host: CommandHost): Promise<string[]> {
  const rows = await host.query('PRAGMA database_list');
  return rows.map((r) => String(r[1])).filter((n) => !isPastVersionSchema(n));
}

/** Names in columns across an 80-character line, filled top to bottom (widths in bytes, as printf counts). */
function printInColumns(host: CommandHost, names: readonly string[]): void {
  if (names.length === 0) return;
  const size = (n: string): number => Buffer.byteLength(n);
  const width = Math.max(...names.map(size));
  const perLine = Math.max(1, Math.floor(80 / (width + 2)));
  const lines = Math.ceil(names.length / perLine);
  for (let i = 0; i < lines; i++) {
    let line = '';
    for (let j = i; j < names.length; j += lines) {
      line += (j < lines ? '' : '  ') + names[j] + ' '.repeat(width - size(names[j]));
    }
    host.out.write(`${line}\n`);
  }
}

/** Object names of a kind in every database ('aux.name' outside main), sorted. */
async function objectNames(host: CommandHost, filter: string, pattern: string): Promise<string[]> {
  const parts: string[] = [];
  for (const schema of await schemaNames(host)) {
    const prefix = schema === 'main' ? "''" : `${quoteLiteral(schema)} || '.'`;
    parts.push(`SELECT ${prefix} || name FROM ${doubleQuote(schema)}.sqlite_schema WHERE ${filter}`);
  }
  const rows = await host.query(`${parts.join(' UNION ALL ')} ORDER BY 1`, [pattern]);
  return rows.map((r) => String(r[0]));
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * A CREATE statement as the sqlite3 shell shows it: a table whose name is
 * quoted gets IF NOT EXISTS, objects of other databases are qualified, and a
 * view's columns follow in a comment (`comment`: `v(a,b)`) when given.
 */
export function schemaText(sql: string, schema: string, comment: string | null): string {
  let text = sql;
  if (/^CREATE TABLE ['"]/.test(text)) text = `CREATE TABLE IF NOT EXISTS ${text.slice('CREATE TABLE '.length)}`;
  if (schema !== 'main') {
    const m = /^CREATE (TABLE|INDEX|UNIQUE INDEX|VIEW|TRIGGER|VIRTUAL TABLE) /.exec(sql);
    if (m) {
      const q = schema.toLowerCase() !== 'temp' && quoteIdentifier(schema) !== schema ? doubleQuote(schema) : schema;
      text = `${m[0]}${q}.${sql.slice(m[0].length)}`;
    }
  }
  if (comment !== null) text += `\n/* ${comment} */`;
  return text;
}

/** A view's name and columns, `v(a,b)`, for the comment after its CREATE VIEW. */
async function viewColumns(host: CommandHost, schema: string, name: string): Promise<string> {
  const cols = await host.query(`PRAGMA ${doubleQuote(schema)}.table_info(${doubleQuote(name)})`);
  return `${quoteIdentifier(name)}(${cols.map((c) => quoteIdentifier(String(c[1]))).join(',')})`;
}

export const schemaCommands: readonly DotCommand[] = [
  {
    name: 'tables',
    usage: '.tables ?TABLE?',
    help: 'Table and view names (matching the LIKE pattern TABLE)',
    async run(host, args) {
      const names = await objectNames(host, "type IN ('table','view') AND name NOT LIKE 'sqlite_%' AND name LIKE ?1", args[0] ?? '%');
      printInColumns(host, names);
      return OK;
    },
  },
  {
    name: 'indexes',
    aliases: ['indices'],
    usage: '.indexes ?TABLE?',
    help: 'Index names (of the tables matching the LIKE pattern TABLE)',
    async run(host, args) {
      if (args.length > 1) {
        await host.error('Usage: .indexes ?LIKE-PATTERN?');
        return FAILED;
      }
      printInColumns(host, await objectNames(host, "type = 'index' AND tbl_name LIKE ?1", args[0] ?? '%'));
      return OK;
    },
  },
  {
    name: 'schema',
    usage: '.schema ?PATTERN?',
    help: 'CREATE statements (of the objects matching the LIKE pattern PATTERN); --nosys',
    async run(host, args) {
      let pattern: string | null = null;
      let nosys = false;
      for (const a of args) {
        if (a === '--nosys') nosys = true;
        else if (a === '--indent') continue;
        else if (pattern === null && !a.startsWith('--')) pattern = a;
        else {
          await host.error('Usage: .schema ?--indent? ?--nosys? ?LIKE-PATTERN?');
          return FAILED;
        }
      }
      for (const schema of await schemaNames(host)) {
        const where = ['sql IS NOT NULL', "type != 'meta'"];
        if (nosys) where.push("name NOT LIKE 'sqlite_%'");
        if (pattern !== null) where.push('(name LIKE ?1 OR tbl_name LIKE ?1)');
        const rows: Cell[][] = await host.query(
          `SELECT type, name, sql FROM ${doubleQuote(schema)}.sqlite_schema WHERE ${where.join(' AND ')} ORDER BY rowid`,
          pattern !== null ? [pattern] : undefined,
        );
        for (const [type, name, sql] of rows) {
          const cols = type === 'view' || /^CREATE VIRTUAL TABLE/i.test(String(sql)) ? await viewColumns(host, schema, String(name)) : null;
          host.out.write(`${schemaText(String(sql), schema, cols)};\n`);
        }
      }
      return OK;
    },
  },
  {
    name: 'databases',
    usage: '.databases',
    help: 'The open databases (main, temp, attached) and their files',
    async run(host) {
      const rows = await host.query('PRAGMA database_list');
      for (const [, name, file] of rows) {
        if (isPastVersionSchema(String(name))) continue;
        const path = file === '' || file === null ? '""' : String(file);
        const ro = name === 'main' && host.database.readonly ? 'r/o' : 'r/w';
        host.out.write(`${String(name)}: ${path} ${ro}\n`);
      }
      return OK;
    },
  },
];
