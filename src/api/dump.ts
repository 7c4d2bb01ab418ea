/**
 * SQL text dump of a database, line for line the same as CPython 3.11's
 * `sqlite3.Connection.iterdump()`.
 *
 * The algorithm follows Python's `Lib/sqlite3/dump.py`: the same catalogue queries in the same
 * order, the same special cases (`sqlite_sequence`, `sqlite_stat1`, other `sqlite_*` tables,
 * virtual tables through `PRAGMA writable_schema`), and every value rendered the way SQLite's
 * `quote()` renders it.
 *
 * One thing cannot come from the bundled engine: the text of REAL values. Python's module is
 * linked against the system SQLite (3.40.1 here), whose `quote()` prints a double with
 * `%!.15g`, checks that the text reads back to the same double and otherwise falls back to
 * `%!.20e`, all computed in x87 80-bit `long double` arithmetic. Newer SQLite releases (such as
 * the 3.54 WebAssembly build this project bundles) print doubles with a different algorithm
 * (`0.30000000000000004` instead of `3.00000000000000044408e-01`, `10000000000000000.0` instead
 * of `1.0e+16`, `9.0e+999` instead of `Inf`). So REAL values are fetched as numbers and formatted
 * here by {@link sqliteQuoteReal}, an exact emulation of that older code path.
 *
 * @module
 */

/**
 * Runs one SQL statement (no parameters) and returns all rows as arrays of values
 * (`null | number | bigint | string | Uint8Array`).
 */
export type DumpQuery = (sql: string) => Promise<unknown[][]>;

/** The tables, by name (BINARY collation), as Python's dump lists them. */
const TABLES_SQL =
  `SELECT "name", "type", "sql" FROM "sqlite_master" WHERE "sql" NOT NULL AND "type" = 'table' ORDER BY "name"`;

/** Indexes, triggers and views with SQL text, in catalogue storage order (no ORDER BY, as in Python). */
const OTHERS_SQL =
  `SELECT "name", "type", "sql" FROM "sqlite_master" WHERE "sql" NOT NULL AND "type" IN ('index', 'trigger', 'view')`;

/**
 * Python runs `SELECT * FROM "sqlite_sequence"` and formats both columns with `str()`; the extra
 * columns tell that formatting which Python type each value would have had.
 */
const SEQUENCE_SQL =
  'SELECT "name", typeof("name"), quote("name"), "seq", typeof("seq"), quote("seq") FROM "sqlite_sequence";';

/**
 * Yields the same SQL text lines as Python's `sqlite3.Connection.iterdump()` for the same database.
 *
 * The lines are: `BEGIN TRANSACTION;`, then for every table of `sqlite_master` in name order its
 * `CREATE` statement (a virtual table becomes `PRAGMA writable_schema=ON;` plus an
 * `INSERT INTO sqlite_master(...)`, `sqlite_stat1` becomes `ANALYZE "sqlite_master";`, other
 * internal tables are skipped) followed by one `INSERT INTO "name" VALUES(...);` per row, then the
 * indexes, triggers and views, `PRAGMA writable_schema=OFF;` if it was turned on, the
 * `sqlite_sequence` statements, and `COMMIT;`.
 *
 * As in Python, a table whose name contains a single quote makes the row query invalid SQL, so the
 * dump rejects with the engine's error at that table (Python raises `OperationalError` there).
 *
 * @param query - runs one statement and resolves to all of its rows as arrays of values.
 * @returns an async generator of dump lines, without line terminators.
 */
export async function* iterdump(query: DumpQuery): AsyncGenerator<string, void, undefined> {
  let writableSchema = false;
  let sequenceLines: string[] = [];
  yield 'BEGIN TRANSACTION;';

  const tables = await query(TABLES_SQL);
  for (const table of tables) {
    const tableName = textOf(table[0]);
    const sql = textOf(table[2]);
    if (tableName === 'sqlite_sequence') {
      const rows = await query(SEQUENCE_SQL);
      sequenceLines = ['DELETE FROM "sqlite_sequence"'];
      for (const row of rows) {
        const name = pythonStr(row[0], row[1], row[2]);
        const seq = pythonStr(row[3], row[4], row[5]);
        sequenceLines.push(`INSERT INTO "sqlite_sequence" VALUES('${name}',${seq})`);
      }
      continue;
    } else if (tableName === 'sqlite_stat1') {
      yield 'ANALYZE "sqlite_master";';
    } else if (tableName.startsWith('sqlite_')) {
      continue;
    } else if (sql.startsWith('CREATE VIRTUAL TABLE')) {
      if (!writableSchema) {
        writableSchema = true;
        yield 'PRAGMA writable_schema=ON;';
      }
      const quotedName = tableName.replaceAll("'", "''");
      yield 'INSERT INTO sqlite_master(type,name,tbl_name,rootpage,sql)' +
        `VALUES('table','${quotedName}','${quotedName}',0,'${sql.replaceAll("'", "''")}');`;
    } else {
      yield `${sql};`;
    }

    // One INSERT per row. Python builds the whole line in SQL with quote(); here each value is its
    // own result column so that REAL values come back as numbers and get the old quote() text.
    const ident = tableName.replaceAll('"', '""');
    const info = await query(`PRAGMA table_info("${ident}")`);
    let columns = '';
    for (const column of info) {
      const col = `"${textOf(column[1]).replaceAll('"', '""')}"`;
      columns += `,CASE WHEN typeof(${col})='real' THEN ${col} ELSE quote(${col}) END`;
    }
    const rows = await query(`SELECT 'INSERT INTO "${ident}" VALUES('${columns} FROM "${ident}";`);
    for (const row of rows) {
      let line = textOf(row[0]);
      for (let i = 1; i < row.length; i++) {
        if (i > 1) line += ',';
        line += sqlLiteral(row[i]);
      }
      yield `${line});`;
    }
  }

  const others = await query(OTHERS_SQL);
  for (const row of others) {
    yield `${textOf(row[2])};`;
  }

  if (writableSchema) {
    yield 'PRAGMA writable_schema=OFF;';
  }
  for (const line of sequenceLines) {
    yield `${line};`;
  }
  yield 'COMMIT;';
}

/* ------------------------------------------------------------------------------------------ */
/* Value rendering                                                                             */
/* ------------------------------------------------------------------------------------------ */

const HEX = '0123456789ABCDEF';

/** A value that SQL returned as text (names, SQL, quote() results) as a JS string. */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return String(v);
}

/**
 * One value of a row query as an SQL literal: quote() text passes through, REAL numbers get the
 * SQLite 3.40 quote() text, and anything else a driver may hand back is rendered as quote() would.
 */
function sqlLiteral(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return sqliteQuoteReal(v);
  if (typeof v === 'bigint') return v.toString();
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Uint8Array) {
    let out = "X'";
    for (const b of v) out += HEX[b >> 4] + HEX[b & 15];
    return `${out}'`;
  }
  return String(v);
}

/**
 * Python's `str()` of a value read from SQLite, given the value, its SQLite `typeof()` and its
 * `quote()` text (used for integers so that 64-bit values stay exact).
 */
function pythonStr(value: unknown, type: unknown, quoted: unknown): string {
  switch (type) {
    case 'null':
      return 'None';
    case 'integer':
      return textOf(quoted);
    case 'real':
      return pythonFloatRepr(Number(value));
    case 'blob':
      return value instanceof Uint8Array ? pythonBytesRepr(value) : textOf(value);
    default:
      return textOf(value);
  }
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp10 = Number(expText);
  const decpt = exp10 + 1;
  if (decpt > 16 || decpt < -3) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = Math.abs(exp10);
    return `${sign}${digits[0]}${frac}e${exp10 < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** Python's `repr(bytes)`, e.g. `b'a\x00\n'`. */
function pythonBytesRepr(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  const q = quote.charCodeAt(0);
  let out = `b${quote}`;
  for (const c of b) {
    if (c === q || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(c);
  }
  return out + quote;
}

/* ------------------------------------------------------------------------------------------ */
/* SQLite 3.40 quote() of a REAL, with x87 extended-precision arithmetic emulated exactly       */
/* ------------------------------------------------------------------------------------------ */

/**
 * A non-negative x87 extended-precision value `m * 2^e`: `m` is 0n (zero) or a normalized 64-bit
 * significand in [2^63, 2^64). Every operation rounds its exact result to 64 bits, ties to even,
 * as the FPU does under Linux's default precision control. The 15-bit exponent range is never
 * approached by the values involved, so it is not modelled.
 */
interface Ext {
  readonly m: bigint;
  readonly e: number;
}

const B63 = 1n << 63n;
const B64 = 1n << 64n;
const B66 = 1n << 66n;
const B127 = 1n << 127n;
const ZERO: Ext = { m: 0n, e: 0 };
const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** Number of significant bits of a positive bigint. */
function bitLength(m: bigint): number {
  let n = 0;
  while (m >= B64) {
    m >>= 64n;
    n += 64;
  }
  const hi = Number(m >> 32n);
  return hi !== 0 ? n + 64 - Math.clz32(hi) : n + 32 - Math.clz32(Number(m));
}

/** The exact value `m * 2^e` (m > 0 with `bits` significant bits) rounded to an {@link Ext}. */
function round64(m: bigint, e: number, bits: number): Ext {
  if (bits <= 64) return { m: m << BigInt(64 - bits), e: e - (64 - bits) };
  const extra = bits - 64;
  const shift = BigInt(extra);
  let q = m >> shift;
  const rem = BigInt.asUintN(extra, m);
  const half = 1n << (shift - 1n);
  if (rem > half || (rem === half && (q & 1n) === 1n)) {
    q += 1n;
    if (q === B64) return { m: B63, e: e + extra + 1 };
  }
  return { m: q, e: e + extra };
}

/** The exact extended value of a finite non-negative double. */
function extOf(x: number): Ext {
  if (x === 0) return ZERO;
  F64[0] = x;
  const bits = U64[0];
  const biased = Number(bits >> 52n) & 0x7ff;
  const frac = bits & 0xfffffffffffffn;
  if (biased === 0) return round64(frac, -1074, bitLength(frac));
  return { m: (frac | (1n << 52n)) << 11n, e: biased - 1075 - 11 };
}

function extMul(a: Ext, b: Ext): Ext {
  if (a.m === 0n || b.m === 0n) return ZERO;
  const p = a.m * b.m;
  return round64(p, a.e + b.e, p >= B127 ? 128 : 127);
}

/** a / b for b > 0. */
function extDiv(a: Ext, b: Ext): Ext {
  if (a.m === 0n) return ZERO;
  // a.m / b.m lies in (1/2, 2), so q has 66 or 67 bits; a sticky bit stands for the remainder.
  const num = a.m << 66n;
  const q = num / b.m;
  const sticky = num === q * b.m ? 0n : 1n;
  return round64((q << 1n) | sticky, a.e - b.e - 67, q >= B66 ? 68 : 67);
}

function extAdd(a: Ext, b: Ext): Ext {
  if (b.m === 0n) return a;
  if (a.m === 0n) return b;
  if (a.e < b.e) [a, b] = [b, a];
  const diff = a.e - b.e;
  // b is then below an eighth of an ulp of a and cannot change the rounded sum.
  if (diff > 66) return a;
  const sum = (a.m << BigInt(diff)) + b.m;
  return round64(sum, b.e, sum >= 1n << BigInt(64 + diff) ? 65 + diff : 64 + diff);
}

/** Exact comparison: negative, zero or positive as a <, =, > b. */
function extCmp(a: Ext, b: Ext): number {
  if (a.m === 0n || b.m === 0n) return a.m === b.m ? 0 : a.m === 0n ? -1 : 1;
  if (a.e !== b.e) return a.e - b.e;
  return a.m === b.m ? 0 : a.m < b.m ? -1 : 1;
}

/** Conversion to double, rounding to nearest even (with subnormals and overflow). */
function extToDouble(a: Ext): number {
  if (a.m === 0n) return 0;
  const top = a.e + 64; // a lies in [2^(top-1), 2^top)
  if (top > 1024) return Infinity;
  const bits = top - 1 >= -1022 ? 53 : top + 1074;
  if (bits <= 0) return bits === 0 && a.m !== B63 ? 5e-324 : 0;
  const extra = 64 - bits;
  let q = a.m >> BigInt(extra);
  const rem = BigInt.asUintN(extra, a.m);
  const half = 1n << BigInt(extra - 1);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  const e = a.e + extra;
  if (e + bitLength(q) > 1024) return Infinity;
  return scaleByPowerOfTwo(Number(q), e);
}

/** x * 2^n, exact when the result is a representable double. */
function scaleByPowerOfTwo(x: number, n: number): number {
  while (n > 600) {
    x *= 2 ** 600;
    n -= 600;
  }
  while (n < -600) {
    x *= 2 ** -600;
    n += 600;
  }
  return x * 2 ** n;
}

const X_ONE = extOf(1);
const X_TEN = extOf(10);
const X_E100 = extOf(1e100);
const X_E10 = extOf(1e10);
const X_EM8 = extOf(1e-8);
const X_E8 = extOf(1e8);
const X_TENTH = extOf(0.1);
const X_EM10 = extOf(1e-10);
const AR_ROUND = [5.0e-1, 5.0e-2, 5.0e-3, 5.0e-4, 5.0e-5, 5.0e-6, 5.0e-7, 5.0e-8, 5.0e-9, 5.0e-10];
const TWO32 = 2 ** 32;

/** The three factors of printf's normalization loops: 1e100, 1e10 and 10. */
const SCALE_FACTORS = [X_E100, X_E10, X_TEN];

/**
 * A memoized state of printf's normalization: `scale` is a product of factors, as computed step by
 * step in `long double`; `limit(i)` is `factor_i * scale` (the loop condition's right side) and
 * `next(i)` the state after `scale *= factor_i`. The same few states recur for every value.
 */
class ScaleNode {
  private readonly limits: (Ext | undefined)[] = [undefined, undefined, undefined];
  private readonly nexts: (ScaleNode | undefined)[] = [undefined, undefined, undefined];

  constructor(readonly scale: Ext) {}

  limit(i: number): Ext {
    return (this.limits[i] ??= extMul(SCALE_FACTORS[i], this.scale));
  }

  next(i: number): ScaleNode {
    return (this.nexts[i] ??= new ScaleNode(extMul(this.scale, SCALE_FACTORS[i])));
  }
}

const SCALE_ROOT = new ScaleNode(X_ONE);

/** printf's rounding term for a precision: arRound[p % 10] times 1e-10 for each ten. */
function rounderFor(precision: number): Ext {
  let idx = precision & 0xfff;
  let rounder = extOf(AR_ROUND[idx % 10]);
  while (idx >= 10) {
    rounder = extMul(rounder, X_EM10);
    idx -= 10;
  }
  return rounder;
}

/** The two rounders quote() needs: `%!.15g` works with precision 14, `%!.20e` with 20. */
const ROUNDER_14 = rounderFor(14);
const ROUNDER_20 = rounderFor(20);

/** Powers of two 2^0 .. 2^64 as numbers. */
const POW2: number[] = Array.from({ length: 65 }, (_, k) => 2 ** k);

/**
 * The `long double` being peeled into digits: `(hi * 2^32 + lo) * 2^e` with a normalized 64-bit
 * significand (hi in [2^31, 2^32)) or hi = lo = 0; `left` counts the significant digits printf
 * still takes from it (after that it prints zeros).
 */
interface DigitState {
  hi: number;
  lo: number;
  e: number;
  left: number;
}

const digitState: DigitState = { hi: 0, lo: 0, e: 0, left: 0 };

/**
 * printf's `et_getdigit()`: returns the digit `(int)v` and replaces v by `(v - d) * 10.0`, rounded
 * to 64 bits, ties to even. v < 10, so its exponent is at most -60 and the integer part sits in
 * the high half. All intermediate values stay below 2^53, so number arithmetic is exact.
 */
function nextDigit(st: DigitState): string {
  if (st.left <= 0) return '0';
  st.left--;
  let hi = st.hi;
  if (hi === 0) return '0';
  let e = st.e;
  let d = 0;
  if (e > -64) {
    const unit = POW2[-e - 32];
    d = Math.floor(hi / unit);
    hi -= d * unit;
  }
  // (hi:lo) * 10 exactly: h < 2^36 above the low 32 bits l.
  let l = st.lo * 10;
  const carry = Math.floor(l / TWO32);
  l -= carry * TWO32;
  let h = hi * 10 + carry;
  if (h === 0) {
    if (l === 0) {
      st.hi = 0;
      st.lo = 0;
      return String.fromCharCode(48 + d);
    }
    h = l;
    l = 0;
    e -= 32;
  }
  if (h < TWO32) {
    // Exact left shift into a normalized significand.
    const s = Math.clz32(h);
    if (s > 0) {
      const split = POW2[32 - s];
      const top = Math.floor(l / split);
      h = h * POW2[s] + top;
      l = (l - top * split) * POW2[s];
      e -= s;
    }
  } else {
    // 33..36 bits in h: drop 1..4 low bits, round to nearest even.
    const x = 32 - Math.clz32(Math.floor(h / TWO32));
    const p = POW2[x];
    const lHigh = Math.floor(l / p);
    const dropped = l - lHigh * p;
    const hHigh = Math.floor(h / p);
    l = lHigh + (h - hHigh * p) * POW2[32 - x];
    h = hHigh;
    e += x;
    const half = p / 2;
    if (dropped > half || (dropped === half && (l & 1) === 1)) {
      l += 1;
      if (l === TWO32) {
        l = 0;
        h += 1;
        if (h === TWO32) {
          h = POW2[31];
          e += 1;
        }
      }
    }
  }
  st.hi = h;
  st.lo = l;
  st.e = e;
  return String.fromCharCode(48 + d);
}

/**
 * SQLite 3.40's printf for `%!.<precision>g` (generic) or `%!.<precision>e`, i.e. with the `!`
 * flag: up to 26 significant digits peeled off a `long double`, trailing zeros removed but one
 * digit kept after the point, `Inf`/`NaN` for non-finite values.
 */
export function sqlitePrintfReal(value: number, precision: number, generic: boolean): string {
  if (Number.isNaN(value)) return 'NaN';
  const prefix = value < 0 ? '-' : '';
  if (!Number.isFinite(value)) return `${prefix}Inf`;
  let real = extOf(Math.abs(value));
  if (generic && precision > 0) precision--;
  const rounder = precision === 14 ? ROUNDER_14 : precision === 20 ? ROUNDER_20 : rounderFor(precision);
  // Normalize to 1 <= real < 10.
  let exp = 0;
  if (real.m !== 0n) {
    let node = SCALE_ROOT;
    while (extCmp(real, node.limit(0)) >= 0 && exp <= 350) {
      node = node.next(0);
      exp += 100;
    }
    while (extCmp(real, node.limit(1)) >= 0 && exp <= 350) {
      node = node.next(1);
      exp += 10;
    }
    while (extCmp(real, node.limit(2)) >= 0 && exp <= 350) {
      node = node.next(2);
      exp++;
    }
    const scale = node.scale;
    real = extDiv(real, scale);
    while (extCmp(real, X_EM8) < 0) {
      real = extMul(real, X_E8);
      exp -= 8;
    }
    while (extCmp(real, X_ONE) < 0) {
      real = extMul(real, X_TEN);
      exp--;
    }
  }
  real = extAdd(real, rounder);
  if (extCmp(real, X_TEN) >= 0) {
    real = extMul(real, X_TENTH);
    exp++;
  }
  let expForm = !generic;
  if (generic) {
    if (exp < -4 || exp > precision) expForm = true;
    else precision -= exp;
  }

  // Digits: d = (int)real; real = (real - d) * 10.0, in long double. This loop runs up to 26
  // times per value, so it works on plain numbers: the significand as two 32-bit halves.
  digitState.hi = Number(real.m >> 32n);
  digitState.lo = Number(real.m & 0xffffffffn);
  digitState.e = real.e;
  digitState.left = 26;

  let e2 = expForm ? 0 : exp;
  let out = prefix;
  if (e2 < 0) out += '0';
  else for (; e2 >= 0; e2--) out += nextDigit(digitState);
  out += '.';
  for (e2++; e2 < 0; precision--, e2++) out += '0';
  while (precision-- > 0) out += nextDigit(digitState);
  let end = out.length;
  while (out.charCodeAt(end - 1) === 48) end--;
  out = out.slice(0, end);
  if (out.endsWith('.')) out += '0';
  if (expForm) {
    out += exp < 0 ? 'e-' : 'e+';
    let a = Math.abs(exp);
    if (a >= 100) {
      out += String(Math.floor(a / 100));
      a %= 100;
    }
    out += String(Math.floor(a / 10)) + String(a % 10);
  }
  return out;
}

/** SQLite 3.40's `sqlite3Pow10(n)`: 10^n by binary powering in `long double`; memoized. */
const pow10Memo: Ext[] = [];
function sqlitePow10(n: number): Ext {
  const memo = pow10Memo[n];
  if (memo !== undefined) return memo;
  let x = X_TEN;
  let r = X_ONE;
  for (let k = n; ; ) {
    if (k & 1) r = extMul(r, x);
    k >>= 1;
    if (k === 0) break;
    x = extMul(x, x);
  }
  pow10Memo[n] = r;
  return r;
}

const LARGEST_INT64 = (1n << 63n) - 1n;
const SIGNIFICAND_LIMIT = (LARGEST_INT64 - 9n) / 10n;

function isDigitAt(z: string, i: number): boolean {
  const c = z.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** SQLite 3.40's `sqlite3AtoF()`: the double it reads from a numeric text. */
function sqliteAtoF(z: string): number {
  const end = z.length;
  let i = 0;
  let negative = false;
  let s = 0n;
  let d = 0;
  let esign = 1;
  let e = 0;
  while (i < end && ' \t\n\f\v\r'.includes(z[i])) i++;
  if (i >= end) return 0;
  if (z[i] === '-') {
    negative = true;
    i++;
  } else if (z[i] === '+') {
    i++;
  }
  while (i < end && isDigitAt(z, i)) {
    s = s * 10n + BigInt(z.charCodeAt(i) - 48);
    i++;
    if (s >= SIGNIFICAND_LIMIT) {
      while (i < end && isDigitAt(z, i)) {
        i++;
        d++;
      }
    }
  }
  if (i < end && z[i] === '.') {
    i++;
    while (i < end && isDigitAt(z, i)) {
      if (s < SIGNIFICAND_LIMIT) {
        s = s * 10n + BigInt(z.charCodeAt(i) - 48);
        d--;
      }
      i++;
    }
  }
  if (i < end && (z[i] === 'e' || z[i] === 'E')) {
    i++;
    if (i < end) {
      if (z[i] === '-') {
        esign = -1;
        i++;
      } else if (z[i] === '+') {
        i++;
      }
      while (i < end && isDigitAt(z, i)) {
        e = e < 10000 ? e * 10 + (z.charCodeAt(i) - 48) : 10000;
        i++;
      }
    }
  }
  e = e * esign + d;
  if (e < 0) {
    esign = -1;
    e = -e;
  } else {
    esign = 1;
  }
  let result: number;
  if (s === 0n) {
    result = 0;
  } else {
    while (e > 0) {
      if (esign > 0) {
        if (s >= LARGEST_INT64 / 10n) break;
        s *= 10n;
      } else {
        if (s % 10n !== 0n) break;
        s /= 10n;
      }
      e--;
    }
    if (e === 0) {
      result = Number(s);
    } else if (e > 307) {
      if (e < 342) {
        const scale = sqlitePow10(e - 308);
        const sx = round64(s, 0, bitLength(s));
        if (esign < 0) result = extToDouble(extDiv(sx, scale)) / 1.0e308;
        else result = extToDouble(extMul(sx, scale)) * 1.0e308;
      } else {
        result = esign < 0 ? 0 : Infinity;
      }
    } else {
      const scale = sqlitePow10(e);
      const sx = round64(s, 0, bitLength(s));
      result = extToDouble(esign < 0 ? extDiv(sx, scale) : extMul(sx, scale));
    }
  }
  return negative ? -result : result;
}

/** Memo of recent REAL renderings: dumps often repeat values. */
const quoteCache = new Map<number, string>();
const QUOTE_CACHE_LIMIT = 4096;

/**
 * The text SQLite 3.40's `quote()` gives for a REAL value, which is what Python's `iterdump()`
 * shows when its `sqlite3` module runs on a system SQLite of that generation: `%!.15g`, or
 * `%!.20e` when the short form does not read back as the same double; `Inf` / `-Inf` for
 * infinities; negative zero prints as `0.0`.
 *
 * @param value - the double stored in the database.
 * @returns the SQL literal text, e.g. `0.1`, `1.0e+300`, `3.00000000000000044408e-01`.
 */
export function sqliteQuoteReal(value: number): string {
  const cached = quoteCache.get(value);
  if (cached !== undefined) return cached;
  const short = sqlitePrintfReal(value, 15, true);
  const text = sqliteAtoF(short) === value ? short : sqlitePrintfReal(value, 20, false);
  if (quoteCache.size >= QUOTE_CACHE_LIMIT) quoteCache.clear();
  quoteCache.set(value, text);
  return text;
}
