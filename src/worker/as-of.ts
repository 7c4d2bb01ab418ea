/**
 * `AS OF TIMESTAMP '…'` / `AS OF VERSION n` after table references: finds
 * them in SQL text and rewrites each reference to a schema that shows the
 * table as of that version (see time-travel.ts), e.g.
 *
 *     SELECT * FROM users AS OF VERSION 3 u JOIN orders o ON …
 *  →  SELECT * FROM "heliosdb_asof_1"."users" AS "u" JOIN orders o ON …
 *
 * A small tokenizer that knows strings, quoted identifiers and comments keeps
 * `AS OF` inside them untouched. Forms accepted: `t AS OF …`, `s.t AS OF …`,
 * `t [AS] a AS OF …` and `t AS OF … [AS] a`; a reference without an alias
 * gets its table's name as alias, so `t.col` keeps working.
 */

export type AsOfTarget = { readonly kind: 'version'; readonly version: number } | { readonly kind: 'timestamp'; readonly time: number; readonly text: string };

export interface AsOfRef {
  readonly target: AsOfTarget;
  /** The table's name as written (unquoted). */
  readonly table: string;
  /** Text range replaced, and the alias the replacement declares ('' when the SQL gives one after the clause). */
  readonly start: number;
  readonly end: number;
  readonly alias: string;
}

interface Token {
  readonly kind: 'word' | 'quoted' | 'string' | 'number' | 'punct';
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Identifier value (unquoted) for words and quoted identifiers. */
  readonly value: string;
}

/** Cheap test before tokenizing: could `sql` contain an AS OF clause at all? */
export function mayHaveAsOf(sql: string): boolean {
  return sql.length > 8 && /\bas\s+of\b/i.test(sql);
}

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const e = sql.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= n) break;
        if (sql[j] === close) {
          if (close !== ']' && sql[j + 1] === close) {
            value += close;
            j += 2;
            continue;
          }
          break;
        }
        value += sql[j++];
      }
      const end = Math.min(n, j + 1);
      out.push({ kind: c === "'" ? 'string' : 'quoted', text: sql.slice(i, end), start: i, end, value });
      i = end;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      let j = i;
      while (j < n && /[0-9A-Za-z_.]/.test(sql[j])) j++;
      out.push({ kind: 'number', text: sql.slice(i, j), start: i, end: j, value: sql.slice(i, j) });
      i = j;
    } else if (/[A-Za-z_\u0080-\uffff$]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_\u0080-\uffff$]/.test(sql[j])) j++;
      out.push({ kind: 'word', text: sql.slice(i, j), start: i, end: j, value: sql.slice(i, j) });
      i = j;
    } else {
      out.push({ kind: 'punct', text: c, start: i, end: i + 1, value: c });
      i++;
    }
  }
  return out;
}

/** Words after a table reference that are not an alias. */
const NOT_ALIAS = new Set(
  [
    'where', 'join', 'inner', 'left', 'right', 'full', 'outer', 'cross', 'natural', 'on', 'using', 'group', 'order',
    'limit', 'union', 'except', 'intersect', 'having', 'window', 'returning', 'indexed', 'not', 'as', 'offset', 'from',
    'select', 'values', 'set', 'when', 'then', 'else', 'end',
  ],
);

/** Words before a table name (so the name is not an alias). */
const BEFORE_TABLE = new Set(['from', 'join', 'update', 'into']);

function isIdent(t: Token | undefined): t is Token {
  return t !== undefined && (t.kind === 'word' || t.kind === 'quoted');
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export class AsOfError extends Error {}

/**
 * Parses a timestamp: 'YYYY-MM-DD[ T]HH:MM[:SS[.fff]]' (UTC, as SQLite's
 * date functions) with an optional 'Z' or ±HH:MM offset, or a date alone.
 */
export function parseTimestamp(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  if (m === null) throw new AsOfError(`invalid timestamp '${text}': use 'YYYY-MM-DD HH:MM:SS' (UTC) or ISO 8601 with an offset`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.round(Number(`0.${frac}`) * 1000));
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  if (!Number.isFinite(t)) throw new AsOfError(`invalid timestamp '${text}'`);
  return t;
}

/** Finds every AS OF clause in `sql`. */
export function findAsOf(sql: string): AsOfRef[] {
  const toks = tokenize(sql);
  const refs: AsOfRef[] = [];
  const lower = (t: Token | undefined): string => (t !== undefined && t.kind === 'word' ? t.value.toLowerCase() : '');
  for (let i = 1; i + 3 <= toks.length; i++) {
    if (lower(toks[i]) !== 'as' || lower(toks[i + 1]) !== 'of') continue;
    const kindWord = lower(toks[i + 2]);
    // `x AS of` may just be an alias named "of".
    if (kindWord !== 'version' && kindWord !== 'timestamp') continue;
    const lit = toks[i + 3];
    let target: AsOfTarget;
    if (kindWord === 'version') {
      if (lit === undefined || lit.kind !== 'number' || !/^\d+$/.test(lit.text)) throw new AsOfError('AS OF VERSION needs a version number (a non-negative integer)');
      target = { kind: 'version', version: Number(lit.text) };
    } else if (kindWord === 'timestamp') {
      if (lit === undefined || lit.kind !== 'string') throw new AsOfError("AS OF TIMESTAMP needs a string literal, e.g. '2026-01-01 10:00:00'");
      target = { kind: 'timestamp', time: parseTimestamp(lit.value), text: lit.value };
    } else {
      continue;
    }
    // Walk back over the table reference: `t`, `s.t`, `t a` or `t AS a`.
    let j = i - 1;
    let alias = '';
    const last = toks[j];
    if (!isIdent(last)) throw new AsOfError('AS OF must follow a table name');
    let tableTok: Token = last;
    let start = last.start;
    const before = toks[j - 1];
    if (before !== undefined && before.kind === 'punct' && before.text === '.' && isIdent(toks[j - 2])) {
      // schema.table: the schema is replaced by the past version's
      start = (toks[j - 2] as Token).start;
    } else if (lower(before) === 'as' && isIdent(toks[j - 2])) {
      alias = last.value;
      j -= 2;
      tableTok = toks[j];
      start = tableTok.start;
      if (toks[j - 1]?.text === '.' && isIdent(toks[j - 2])) start = (toks[j - 2] as Token).start;
    } else if (isIdent(before) && !BEFORE_TABLE.has(lower(before))) {
      alias = last.value;
      j -= 1;
      tableTok = before;
      start = tableTok.start;
      if (toks[j - 1]?.text === '.' && isIdent(toks[j - 2])) start = (toks[j - 2] as Token).start;
    }
    const after = toks[i + 4];
    const aliasFollows = after !== undefined && (lower(after) === 'as' || (isIdent(after) && !NOT_ALIAS.has(lower(after))));
    if (alias !== '' && aliasFollows) throw new AsOfError(`table ${tableTok.value} has two aliases around AS OF`);
    if (alias === '' && !aliasFollows) alias = tableTok.value;
    refs.push({ target, table: tableTok.value, start, end: lit.end, alias });
    i += 3;
  }
  return refs;
}

/** Rewrites `sql` with each reference's table read from `schemas[k]` (the k-th reference's schema). */
export function rewriteAsOf(sql: string, refs: readonly AsOfRef[], schemas: readonly string[]): string {
  let out = '';
  let at = 0;
  refs.forEach((r, k) => {
    out += sql.slice(at, r.start);
    out += `${quote(schemas[k])}.${quote(r.table)}`;
    if (r.alias !== '') out += ` AS ${quote(r.alias)}`;
    at = r.end;
  });
  return out + sql.slice(at);
}
