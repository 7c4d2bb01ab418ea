/**
 * Tab completion at the prompt: dot-command names at the start of a line,
 * file names after the dot-commands that take one, `table.column`, and
 * otherwise SQL keywords, table names and column names. Keywords follow the
 * case of what was typed.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMMANDS } from './commands/index.js';
import type { Cell } from './db/protocol.js';
import { SQL_KEYWORDS } from './keywords.js';

/** Where table and column names come from (the shell's own query). */
export interface SchemaSource {
  query(sql: string): Promise<Cell[][]>;
  /** Set when the schema may have changed since the names were read. */
  schemaTouched: boolean;
}

const FILE_COMMANDS = new Set(['read', 'open', 'import', 'backup', 'save', 'restore', 'output', 'once']);

interface Names {
  readonly tables: string[];
  readonly columns: Map<string, string[]>;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // A dangling link or a file gone meanwhile: offer it as a plain name.
    return false;
  }
}

function fileCompletions(partial: string): string[] {
  const dir = partial.includes('/') ? dirname(partial) : '.';
  const base = partial.includes('/') ? partial.slice(partial.lastIndexOf('/') + 1) : partial;
  const prefix = partial.includes('/') ? partial.slice(0, partial.lastIndexOf('/') + 1) : '';
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith(base) && (base.startsWith('.') || !f.startsWith('.')))
      .map((f) => prefix + f + (isDirectory(join(dir, f)) ? '/' : ''))
      .sort();
  } catch {
    return [];
  }
}

export class Completer {
  private names: Names | null = null;

  constructor(private readonly source: SchemaSource) {}

  private async schema(): Promise<Names> {
    if (this.names !== null && !this.source.schemaTouched) return this.names;
    const tables: string[] = [];
    const columns = new Map<string, string[]>();
    try {
      const rows = await this.source.query(
        "SELECT m.name, p.name FROM sqlite_schema AS m LEFT JOIN pragma_table_info(m.name) AS p WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid",
      );
      for (const [t, c] of rows) {
        const table = String(t);
        if (!columns.has(table)) {
          tables.push(table);
          columns.set(table, []);
        }
        if (c !== null) columns.get(table)?.push(String(c));
      }
    } catch {
      // Completion without names still offers keywords; the next Tab tries again.
      return { tables: [], columns: new Map() };
    }
    this.source.schemaTouched = false;
    this.names = { tables, columns };
    return this.names;
  }

  /** Completions for `line` (the text left of the cursor): [candidates, the word they replace]. */
  async complete(line: string): Promise<[string[], string]> {
    const dot = /^\.(\S*)$/.exec(line);
    if (dot) {
      const word = dot[1].toLowerCase();
      return [COMMANDS.filter((c) => c.name.startsWith(word)).map((c) => `.${c.name}`), line];
    }
    const fileArg = /^\.(\S+)\s+(?:.*\s)?(\S*)$/.exec(line);
    if (fileArg && FILE_COMMANDS.has(fileArg[1].toLowerCase())) return [fileCompletions(fileArg[2]), fileArg[2]];

    const word = /[\w$]*(?:\.[\w$]*)?$/.exec(line)?.[0] ?? '';
    const names = await this.schema();
    const dotAt = word.indexOf('.');
    if (dotAt >= 0) {
      const table = word.slice(0, dotAt).toLowerCase();
      const prefix = word.slice(dotAt + 1).toLowerCase();
      const entry = [...names.columns.entries()].find(([t]) => t.toLowerCase() === table);
      const cols = entry ? entry[1] : [];
      return [cols.filter((c) => c.toLowerCase().startsWith(prefix)).map((c) => `${word.slice(0, dotAt + 1)}${c}`), word];
    }
    if (word.length === 0) return [[], word];
    const lower = word.toLowerCase();
    const keywordCase = word === word.toLowerCase() ? (k: string) => k.toLowerCase() : (k: string) => k;
    const seen = new Set<string>();
    const out: string[] = [];
    const add = (s: string): void => {
      if (!seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    };
    for (const t of names.tables) if (t.toLowerCase().startsWith(lower)) add(t);
    for (const cols of names.columns.values()) for (const c of cols) if (c.toLowerCase().startsWith(lower)) add(c);
    for (const k of SQL_KEYWORDS) if (k.toLowerCase().startsWith(lower)) add(keywordCase(k));
    // Readline replaces the word with the candidates' common prefix: keep them in the typed case.
    return [out.filter((c) => c.startsWith(word)).length === out.length ? out : out.map((c) => word + c.slice(word.length)), word];
  }
}
