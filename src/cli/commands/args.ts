/**
 * Splitting a dot-command line into arguments as the sqlite3 shell does:
 * whitespace separates; '…' quotes literally; "…" quotes with backslash
 * escapes; unquoted words have their backslash escapes resolved too.
 */

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

/** Resolves C-style escapes: \t \n \r …, \\, and up to three octal digits. */
export function resolveBackslashes(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const next = s[++i];
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
    } else if (next >= '0' && next <= '7') {
      let v = next.charCodeAt(0) - 48;
      for (let k = 0; k < 2 && s[i + 1] >= '0' && s[i + 1] <= '7'; k++) v = v * 8 + (s.charCodeAt(++i) - 48);
      out += String.fromCharCode(v);
    } else {
      out += next;
    }
  }
  return out;
}

export function parseDotArgs(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
  while (i < n) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) break;
    const q = line[i];
    if (q === "'" || q === '"') {
      i++;
      let arg = '';
      while (i < n && line[i] !== q) {
        if (line[i] === '\\' && q === '"' && i + 1 < n) arg += line[i++];
        arg += line[i++];
      }
      if (i < n) i++;
      args.push(q === '"' ? resolveBackslashes(arg) : arg);
    } else {
      let arg = '';
      while (i < n && !isSpace(line[i])) arg += line[i++];
      args.push(resolveBackslashes(arg));
    }
  }
  return args;
}
