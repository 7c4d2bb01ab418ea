/**
 * `complete_statement(sql)`: whether `sql` holds one or more complete SQL
 * statements, by the same rules as `sqlite3_complete()` — it ends with a
 * semicolon that is not inside a string, identifier, comment, or the body of
 * a CREATE TRIGGER. Pure TypeScript, so it answers without loading WASM.
 */

const enum Tok {
  Semi,
  Ws,
  Other,
  Explain,
  Create,
  Temp,
  Trigger,
  End,
}

/**
 * State transitions, indexed [state][token]. States: 0 nothing yet, 1 after a
 * complete statement, 2 inside a statement, 3 after EXPLAIN, 4 after CREATE,
 * 5 inside a trigger body, 6 after a semicolon in a trigger body, 7 after END.
 */
const NEXT: readonly (readonly number[])[] = [
  [1, 0, 2, 3, 4, 2, 2, 2],
  [1, 1, 2, 3, 4, 2, 2, 2],
  [1, 2, 2, 2, 2, 2, 2, 2],
  [1, 3, 3, 2, 4, 2, 2, 2],
  [1, 4, 2, 2, 2, 4, 5, 2],
  [6, 5, 5, 5, 5, 5, 5, 5],
  [6, 6, 5, 5, 5, 5, 5, 7],
  [1, 7, 5, 5, 5, 5, 5, 5],
];

function isIdChar(c: string): boolean {
  return /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;
}

function keyword(word: string): Tok {
  switch (word.toUpperCase()) {
    case 'CREATE':
      return Tok.Create;
    case 'TEMP':
    case 'TEMPORARY':
      return Tok.Temp;
    case 'TRIGGER':
      return Tok.Trigger;
    case 'END':
      return Tok.End;
    case 'EXPLAIN':
      return Tok.Explain;
    default:
      return Tok.Other;
  }
}

export function complete_statement(statement: string): boolean {
  if (typeof statement !== 'string') throw new TypeError('complete_statement() argument must be str');
  const s = statement;
  let state = 0;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    let tok: Tok;
    if (c === ';') {
      tok = Tok.Semi;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      tok = Tok.Ws;
      i++;
    } else if (c === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) return false;
      tok = Tok.Ws;
      i = end + 2;
    } else if (c === '-' && s[i + 1] === '-') {
      const nl = s.indexOf('\n', i + 2);
      if (nl < 0) return state === 1;
      tok = Tok.Ws;
      i = nl + 1;
    } else if (c === '[') {
      const end = s.indexOf(']', i + 1);
      if (end < 0) return false;
      tok = Tok.Other;
      i = end + 1;
    } else if (c === '`' || c === '"' || c === "'") {
      const end = s.indexOf(c, i + 1);
      if (end < 0) return false;
      tok = Tok.Other;
      i = end + 1;
    } else if (isIdChar(c)) {
      let j = i + 1;
      while (j < s.length && isIdChar(s[j])) j++;
      tok = keyword(s.slice(i, j));
      i = j;
    } else {
      tok = Tok.Other;
      i++;
    }
    state = NEXT[state][tok];
  }
  return state === 1;
}
