/**
 * Oracles for the file-compatibility tests: the same canonical dump of a
 * database taken three ways — through heliosdb-nano's public API, through
 * Python's `sqlite3` module (see vfs-oracle.ts) and through the `sqlite3` CLI —
 * so that their views of one file compare with deepEqual. Reals are compared
 * as IEEE-754 bit patterns, integers as decimal text, blobs as hex.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type * as Api from 'heliosdb-nano';
import type { Cell, Dump, PythonDump } from './vfs-oracle.js';

/** Same statements as the Python oracle's (vfs-oracle.ts). */
export const SCHEMA_SQL =
  "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name";
export const TABLES_SQL = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

export function quoteId(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteText(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A double's IEEE-754 bit pattern, big-endian hex (as Python's struct.pack('>d').hex()). */
export function realBits(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return hex(new Uint8Array(view.buffer));
}

/** A double from its bit pattern. */
export function realFromBits(hi: number, lo: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, hi >>> 0);
  view.setUint32(4, lo >>> 0);
  return view.getFloat64(0);
}

interface Column {
  readonly name: string;
  readonly pk: number;
}

/**
 * SELECT of every cell of `table` as (typeof, lossless text) pairs in key
 * order; `realExpr` turns a real column into its bit pattern where SQL can
 * (the CLI), else the real is returned as is; `wrap` wraps the select list.
 */
function selectSql(table: string, columns: readonly Column[], realExpr?: (c: string) => string, wrap = (l: string): string => l): string {
  const parts = columns.map((col) => {
    const c = quoteId(col.name);
    const real = realExpr ? ` WHEN 'real' THEN ${realExpr(c)}` : '';
    return `typeof(${c}), CASE typeof(${c}) WHEN 'integer' THEN CAST(${c} AS TEXT) WHEN 'blob' THEN hex(${c})${real} ELSE ${c} END`;
  });
  const pk = columns.filter((col) => col.pk > 0).sort((a, b) => a.pk - b.pk);
  const order = pk.length > 0 ? pk.map((col) => quoteId(col.name)).join(', ') : 'rowid';
  return `SELECT ${wrap(parts.join(', '))} FROM ${quoteId(table)} ORDER BY ${order}`;
}

function toCells(r: readonly unknown[], realAsBits: boolean): Cell[] {
  const cells: Cell[] = [];
  for (let i = 0; i < r.length; i += 2) {
    const t = String(r[i]);
    const v = r[i + 1];
    if (t === 'null') cells.push(null);
    else if (t === 'real') cells.push({ t: 'real', v: realAsBits ? String(v).toLowerCase() : realBits(Number(v)) });
    else if (t === 'integer' || t === 'text' || t === 'blob') cells.push({ t, v: String(v) });
    else throw new Error(`unexpected storage class ${t}`);
  }
  return cells;
}

async function allRows(conn: Api.Connection, sql: string): Promise<unknown[][]> {
  return (await (await conn.execute(sql)).fetchall()) as unknown[][];
}

/** The canonical dump, through heliosdb-nano's public API. */
export async function dumpConnection(conn: Api.Connection): Promise<Dump> {
  const schema = (await allRows(conn, SCHEMA_SQL)).map((row) => row.map((v) => (v === null ? null : String(v))));
  const tables: Record<string, Cell[][]> = {};
  for (const [name] of (await allRows(conn, TABLES_SQL)) as [string][]) {
    const info = await allRows(conn, `PRAGMA table_info(${quoteId(name)})`);
    const columns = info.map((col) => ({ name: String(col[1]), pk: Number(col[5]) }));
    tables[name] = (await allRows(conn, selectSql(name, columns))).map((r) => toCells(r, false));
  }
  return { schema, tables };
}

/** Whether the Debian `sqlite3` CLI is installed. */
export function cliAvailable(): boolean {
  if (!existsSync('/usr/bin/sqlite3')) return false;
  const r = spawnSync('/usr/bin/sqlite3', ['-version'], { encoding: 'utf8' });
  return r.status === 0;
}

/** Runs SQL in the CLI; each result row is one line (list mode, no headers). */
export function cli(path: string, sql: string): string[] {
  const r = spawnSync('/usr/bin/sqlite3', ['-batch', '-bail', '-noheader', '-list', path, sql], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`sqlite3 CLI failed (${r.status ?? r.signal}) on ${sql.slice(0, 200)}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/**
 * The canonical dump, through the CLI: every row travels as one json_array
 * line; reals as their bit pattern via the shell's ieee754_to_blob().
 */
export function cliDump(path: string): PythonDump {
  const json = (line: string): unknown[] => JSON.parse(line) as unknown[];
  const schema = cli(path, `SELECT json_array(type, name, tbl_name, sql) FROM (${SCHEMA_SQL})`).map(
    (l) => json(l) as (string | null)[],
  );
  const tables: Record<string, Cell[][]> = {};
  for (const name of cli(path, TABLES_SQL.replace('SELECT name', 'SELECT json_quote(name)')).map((l) => JSON.parse(l) as string)) {
    const columns = cli(path, `SELECT json_array(name, pk) FROM pragma_table_info(${quoteText(name)})`).map((l) => {
      const [n, pk] = json(l);
      return { name: String(n), pk: Number(pk) };
    });
    const select = selectSql(name, columns, (c) => `lower(hex(ieee754_to_blob(${c})))`, (l) => `json_array(${l})`);
    tables[name] = cli(path, select).map((l) => toCells(json(l), true));
  }
  const integrity = cli(path, 'PRAGMA integrity_check').join('\n');
  return { schema, tables, integrity };
}
