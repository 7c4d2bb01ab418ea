/**
 * `.import FILE TABLE`: loads CSV (or separated) text into a table, as the
 * sqlite3 shell does. A missing table is created from the first record's
 * names (TEXT columns); short records are filled with NULL and long ones cut,
 * with a warning naming the line; a row that fails to insert is reported and
 * skipped. All in one transaction, with a progress bar on a terminal.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { readRecords, type ImportRecord } from '../csv-reader.js';
import type { Cell } from '../db/protocol.js';
import { DbCallError } from '../db/client.js';
import { doubleQuote } from '../format/values.js';
import { FAILED, OK, type CommandHost, type DotCommand } from './types.js';

/** Rows sent to the database thread per round trip. */
const ROWS_PER_BATCH = 2000;

interface ImportArgs {
  readonly file: string;
  readonly table: string;
  readonly schema: string;
  readonly skip: number;
  readonly format: 'csv' | 'ascii' | 'mode';
}

const USAGE = 'Usage: .import ?--csv|--ascii? ?--skip N? ?--schema S? FILE TABLE';

function parseArgs(args: readonly string[]): ImportArgs | string {
  let format: ImportArgs['format'] = 'mode';
  let skip = 0;
  let schema = 'main';
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--csv') format = 'csv';
    else if (a === '--ascii') format = 'ascii';
    else if (a === '--skip' && i + 1 < args.length) skip = Math.max(0, parseInt(args[++i], 10) || 0);
    else if (a === '--schema' && i + 1 < args.length) schema = args[++i];
    else if (a === '-v') continue;
    else if (a.startsWith('-') && a.length > 1) return `ERROR: unknown option: "${a}".  ${USAGE}`;
    else names.push(a);
  }
  if (names.length === 0) return `ERROR: missing FILE argument. ${USAGE}`;
  if (names.length === 1) return `ERROR: missing TABLE argument. ${USAGE}`;
  if (names.length > 2) return `ERROR: extra argument: "${names[2]}". ${USAGE}`;
  return { file: names[0], table: names[1], schema, skip, format };
}

/** The separators to read with: CSV's, ASCII's, or the current mode's (single characters only). */
function separators(host: CommandHost, a: ImportArgs): { col: string; row: string; csv: boolean } | string {
  const s = host.settings;
  if (a.format === 'csv' || (a.format === 'mode' && s.mode === 'csv')) return { col: a.format === 'csv' ? ',' : s.colSeparator, row: '\n', csv: true };
  if (a.format === 'ascii' || (a.format === 'mode' && s.mode === 'ascii')) return { col: '\x1f', row: '\x1e', csv: false };
  const row = s.rowSeparator === '\r\n' ? '\n' : s.rowSeparator;
  if (s.colSeparator.length === 0) return 'Error: non-null column separator required for import';
  if (row.length === 0) return 'Error: non-null row separator required for import';
  if (Buffer.byteLength(s.colSeparator) !== 1 || Buffer.byteLength(row) !== 1) {
    return 'Error: multi-character column and row separators are not allowed for import';
  }
  return { col: s.colSeparator, row, csv: false };
}

async function tableColumns(host: CommandHost, schema: string, table: string): Promise<number> {
  const rows = await host.query(`PRAGMA ${doubleQuote(schema)}.table_info(${doubleQuote(table)})`);
  return rows.length;
}

export const importCommand: DotCommand = {
  name: 'import',
  usage: '.import FILE TABLE',
  help: 'Load CSV or separated text into TABLE (created if missing); --csv, --ascii, --skip N, --schema S',
  async run(host, args) {
    const a = parseArgs(args);
    if (typeof a === 'string') {
      await host.error(a);
      return FAILED;
    }
    const sep = separators(host, a);
    if (typeof sep === 'string') {
      await host.error(sep);
      return FAILED;
    }
    let size: number;
    try {
      size = (await stat(a.file)).size;
    } catch {
      await host.error(`Error: cannot open "${a.file}"`);
      return FAILED;
    }
    const progress = host.progress('.import', 'bytes', false);
    // Warnings wait for the rows before them to be inserted, so they come out in line order.
    let notes: Array<{ record: number; text: string }> = [];
    let seen = 0;
    const note = (record: number, line: number, message: string): void => {
      notes.push({ record, text: `${a.file}:${line}: ${message}` });
    };
    const records = readRecords(
      createReadStream(a.file, { highWaterMark: 1 << 20 }),
      {
        colSep: Buffer.from(sep.col)[0],
        rowSep: Buffer.from(sep.row)[0],
        csv: sep.csv,
        warn: (line, message, record) => note(record, line, message),
      },
      (n) => progress.update(n, size),
    );
    const target = `${doubleQuote(a.schema)}.${doubleQuote(a.table)}`;
    let nCol = await tableColumns(host, a.schema, a.table);
    let skip = a.skip;
    let failures = 0;
    let began = false;
    let rows: Cell[][] = [];
    let rowRecords: ImportRecord[] = [];
    let rowIndexes: number[] = [];
    let insertSql = '';

    const flush = async (): Promise<void> => {
      if (rows.length > 0) {
        const result = await host.db.call('insertMany', { sql: insertSql, rows });
        for (const f of result.failures) {
          failures++;
          note(rowIndexes[f.index], rowRecords[f.index].line, `INSERT failed: ${f.error.message}`);
        }
      }
      const ordered = notes.map((n, i) => ({ ...n, i })).sort((x, y) => x.record - y.record || x.i - y.i);
      for (const n of ordered) host.warn(n.text);
      notes = [];
      rows = [];
      rowRecords = [];
      rowIndexes = [];
    };

    try {
      let first = true;
      for await (const record of records) {
        const index = seen++;
        if (first) {
          first = false;
          if (nCol === 0) {
            // No such table: the first record names the columns.
            const names = record.fields.map((f) => f ?? '');
            const schemaPrefix = a.schema === 'main' ? '' : `${doubleQuote(a.schema)}.`;
            await host.query(`CREATE TABLE ${schemaPrefix}${doubleQuote(a.table)}(\n${names.map((n) => `${doubleQuote(n)} TEXT`).join(', ')})`);
            nCol = names.length;
            continue;
          }
        }
        if (skip > 0) {
          skip--;
          continue;
        }
        if (insertSql === '') {
          insertSql = `INSERT INTO ${target} VALUES(${new Array<string>(nCol).fill('?').join(',')})`;
          const counts = await host.db.call('counts', {});
          if (!counts.inTransaction) {
            await host.query('BEGIN');
            began = true;
          }
        }
        const n = record.fields.length;
        const values: Cell[] = record.fields.slice(0, nCol);
        if (n < nCol) {
          note(index, record.line, `expected ${nCol} columns but found ${n} - filling the rest with NULL`);
          while (values.length < nCol) values.push(null);
        } else if (n > nCol) {
          note(index, record.line, `expected ${nCol} columns but found ${n} - extras ignored`);
        }
        rows.push(values);
        rowRecords.push(record);
        rowIndexes.push(index);
        if (rows.length >= ROWS_PER_BATCH) {
          await flush();
          if (host.db.interrupted) throw new DbCallError({ kind: 'OperationalError', message: 'interrupted', code: 9 });
        }
      }
      await flush();
      if (first) {
        await host.error(`${a.file}: empty file`);
        return FAILED;
      }
      if (began) await host.query('COMMIT');
    } catch (e) {
      if (began) await host.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      progress.finish();
    }
    return failures > 0 ? FAILED : OK;
  },
};
