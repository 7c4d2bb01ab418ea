/**
 * iterdump() against CPython's own sqlite3 iterdump(), line for line.
 *
 * Each case's SQL script builds a database once, in the bundled SQLite WebAssembly engine. Our
 * dump of it is compared with the dump the machine's `python3` makes of the very same database
 * (the engine's image is written to a file that Python opens), so differences between the two
 * SQLite versions' storage (FTS5 segments, literal parsing, ANALYZE output) cannot blur the
 * comparison. Where the content does not depend on the engine, the script is also run in Python
 * itself and that dump must match too. Finally our dump is replayed in Python and the rebuilt
 * database must dump to the same lines. One Python process does all of this for every case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import init from '@sqlite.org/sqlite-wasm';
import type * as DumpApi from '../dist/api/dump.js';

// Types come from the source-relative path; at run time build/test/dump.test.js loads the built dist.
const { iterdump, sqliteQuoteReal } = (await import(
  new URL('../../dist/api/dump.js', import.meta.url).href
)) as typeof DumpApi;
type DumpQuery = DumpApi.DumpQuery;

interface DumpCase {
  name: string;
  sql: string;
  /** The dump is valid SQL whose replay rebuilds the database (false: Inf literals, None, ...). */
  replay: boolean;
  /** The script yields the same stored content in Python's SQLite, so its own dump must match. */
  crossEngine: boolean;
}

const CASES: DumpCase[] = [
  { name: 'empty database', sql: '', replay: true, crossEngine: true },
  {
    name: 'all value types, quoting and REAL formatting',
    replay: true,
    crossEngine: true,
    sql: `
      CREATE TABLE vals(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC, any_col);
      INSERT INTO vals VALUES(1, 0, 0.0, '', X'', 0, NULL);
      INSERT INTO vals VALUES(2, 9223372036854775807, 0.1, 'it''s "quoted"', X'00FF7F80', 1.5, 'x');
      INSERT INTO vals VALUES(3, -9223372036854775808, 1e300,
        'line1' || char(10) || 'line2' || char(13) || char(9) || 'end', X'DEADBEEF', '12', 3);
      INSERT INTO vals VALUES(4, 9007199254740993, -0.0, 'héllo wörld ✓ 日本語 😀', zeroblob(3), '1e3', 2.5);
      INSERT INTO vals VALUES(5, -1, 1.0 / 3, 'nul' || char(0) || 'tail', CAST('text as blob' AS BLOB), 'abc', X'01');
      INSERT INTO vals VALUES(6, NULL, 0.1 + 0.2, NULL, NULL, NULL, 1e16);
      INSERT INTO vals VALUES(7, 42, 1e-5, 'back\\slash and '' single', X'27', 100.0, -7.25);
      INSERT INTO vals VALUES(8, 1, 1.0 / 7, char(1, 2, 31, 127), X'22', 9223372036854775808, -1e22);
      INSERT INTO vals VALUES(9, 2, 123456789.125, '  spaces  ', X'5C', -0.000123, 1e-300 * 1e-10);
      INSERT INTO vals VALUES(10, 3, 2.0 / 3 * 1e-310, 'end', X'00', 99999999999999.99, 0.1 * 3);
      INSERT INTO vals VALUES(11, 4, 1e15 + 0.3, hex(zeroblob(5000)), zeroblob(2000), 1e-4, 12345678901234567890);
      INSERT INTO vals VALUES(12, 5, 1.7976931348623157e308, '-- not a comment; ''); DROP TABLE x; --', X'3B', 'NULL', 'NULL');
    `,
  },
  {
    name: 'AUTOINCREMENT tables and sqlite_sequence',
    replay: true,
    crossEngine: true,
    sql: `
      CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, msg TEXT);
      INSERT INTO log(msg) VALUES('a'), ('b'), ('c');
      DELETE FROM log WHERE id = 3;
      CREATE TABLE "Audit Trail"(id INTEGER PRIMARY KEY AUTOINCREMENT, what);
      INSERT INTO "Audit Trail"(id, what) VALUES(1000, 'jump');
      CREATE TABLE empty_auto(id INTEGER PRIMARY KEY AUTOINCREMENT);
      CREATE TABLE big_auto(id INTEGER PRIMARY KEY AUTOINCREMENT, v REAL);
      INSERT INTO big_auto VALUES(9223372036854775000, 0.5);
    `,
  },
  {
    name: 'indexes, views and triggers after the tables, in catalogue order',
    replay: true,
    crossEngine: true,
    sql: `
      CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT NOT NULL UNIQUE, total REAL DEFAULT 0.0,
        created TEXT DEFAULT CURRENT_TIMESTAMP);
      CREATE INDEX orders_customer ON orders(customer);
      CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
      CREATE TABLE audit(order_id INTEGER, note TEXT);
      CREATE TRIGGER orders_ai AFTER INSERT ON orders BEGIN
        INSERT INTO audit VALUES(new.id, 'created ' || new.customer);
      END;
      CREATE UNIQUE INDEX audit_u ON audit(order_id, note);
      CREATE INDEX orders_partial ON orders(total) WHERE total > 1000;
      CREATE INDEX orders_expr ON orders(lower(customer), total DESC);
      CREATE VIEW v2(a, b) AS SELECT customer, count(*) FROM orders GROUP BY customer;
      INSERT INTO orders(customer, total, created) VALUES('alice', 150.5, '2024-01-01'),
        ('bob', 20, '2024-01-02'), ('carol', 1e4, '2024-01-03');
      CREATE TABLE aaa_first(x);
      INSERT INTO aaa_first VALUES(1);
      create   table  lower_case_sql ( x  int ,  y ) ; -- comment after
      CREATE TABLE IF NOT EXISTS copied AS SELECT customer AS who, total * 2 AS twice FROM orders;
    `,
  },
  {
    name: 'table and column names that need quoting',
    replay: true,
    crossEngine: true,
    sql: `
      CREATE TABLE "my table"("first col" TEXT, "sec""ond" INTEGER, "select" REAL);
      INSERT INTO "my table" VALUES('a', 1, 1.5), ('b', 2, NULL);
      CREATE TABLE "we""ird"("x""y" PRIMARY KEY, "order");
      INSERT INTO "we""ird" VALUES('k', 'v');
      CREATE TABLE "select"("from", "where");
      INSERT INTO "select" VALUES(1, 2);
      CREATE TABLE [bracketed name]([col one]);
      INSERT INTO [bracketed name] VALUES('bracket');
      CREATE TABLE \`back tick\`(\`c\`);
      INSERT INTO \`back tick\` VALUES(0);
      CREATE TABLE Zebra(a);
      CREATE TABLE apple(a);
      CREATE TABLE "Ünïcode táble"(ü);
      INSERT INTO "Ünïcode táble" VALUES('ü');
      CREATE TABLE "sqlite""ish"(x);
      CREATE INDEX "idx ""odd"" name" ON "my table"("first col");
      CREATE VIEW "view with space" AS SELECT "first col" FROM "my table";
    `,
  },
  {
    name: 'WITHOUT ROWID, STRICT and generated columns',
    replay: true,
    crossEngine: true,
    sql: `
      CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
      INSERT INTO kv VALUES('b', X'02'), ('a', X'01'), ('c', NULL);
      CREATE TABLE typed(id INTEGER PRIMARY KEY, n INT NOT NULL, r REAL, t TEXT, b BLOB, a ANY) STRICT;
      INSERT INTO typed VALUES(1, 5, 5, 'five', X'05', 5.5), (2, -3, -0.5, 't', NULL, 'any');
      CREATE TABLE gen(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
        c TEXT GENERATED ALWAYS AS ('v' || a) STORED, d);
      INSERT INTO gen(a, d) VALUES(1, 'x'), (2, 'y');
      CREATE TABLE composite(a, b, c, PRIMARY KEY(a, b)) WITHOUT ROWID;
      INSERT INTO composite VALUES(2, 1, 'z'), (1, 2, 'y'), (1, 1, 'x');
      CREATE TABLE child(id INTEGER PRIMARY KEY, parent_k TEXT REFERENCES kv(k) ON DELETE CASCADE);
      INSERT INTO child VALUES(1, 'a');
    `,
  },
  {
    // Python 3.11's dump of a virtual table is not replayable (its rows are inserted into the
    // virtual table before the schema knows it: 'no such table'), so only the comparisons apply.
    name: 'FTS5 virtual table with its shadow tables',
    replay: false,
    crossEngine: true,
    sql: `
      CREATE VIRTUAL TABLE docs USING fts5(title, body);
      INSERT INTO docs VALUES('Hello', 'the quick brown fox'), ('It''s', 'jumps over the lazy dog');
      CREATE TABLE notes(id INTEGER PRIMARY KEY, txt);
      INSERT INTO notes VALUES(1, 'plain');
    `,
  },
  {
    // The engines round coordinates to 32-bit floats differently (3.40 rounds bounds outwards),
    // so only the same-file comparison applies; not replayable, as for any virtual table.
    name: 'R*Tree virtual table (32-bit float coordinates)',
    replay: false,
    crossEngine: false,
    sql: `
      CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx, miny, maxy);
      INSERT INTO boxes VALUES(1, 0.1, 0.2, -1.1, 1.1), (2, 100, 200.5, 1e-3, 3.3);
    `,
  },
  {
    name: 'ANALYZE statistics (sqlite_stat1)',
    replay: true,
    crossEngine: true,
    sql: `
      CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT, city TEXT, age INTEGER);
      CREATE INDEX people_city ON people(city);
      CREATE INDEX people_city_age ON people(city, age);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
        INSERT INTO people SELECT i, 'person ' || i, 'city ' || (i % 7), i % 50 FROM n;
      CREATE TABLE lonely(x);
      INSERT INTO lonely VALUES(1), (2);
      ANALYZE;
    `,
  },
  {
    name: 'a thousand computed rows',
    replay: true,
    crossEngine: true,
    sql: `
      CREATE TABLE series(i INTEGER PRIMARY KEY, cube INTEGER, frac REAL, label TEXT, bits BLOB, mixed);
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
        INSERT INTO series SELECT i, i * i * i * 1000003, i / 7.0 - 50 + i * 0.1,
          printf('row-%04d ''%d''', i, i), CAST(printf('%x', i * 2654435761 % 4294967296) AS BLOB),
          CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN i * 1e-3 WHEN 2 THEN 'text ' || i
            WHEN 3 THEN CAST(i AS BLOB) ELSE i * 1e250 * i END
        FROM n;
    `,
  },
  {
    name: 'non-finite REALs and odd sqlite_sequence values (as Python prints them)',
    replay: false,
    crossEngine: true,
    sql: `
      CREATE TABLE inf(r REAL);
      INSERT INTO inf VALUES(9e999), (-9e999), (1.5);
      CREATE TABLE s1(id INTEGER PRIMARY KEY AUTOINCREMENT);
      CREATE TABLE s2(id INTEGER PRIMARY KEY AUTOINCREMENT);
      CREATE TABLE s3(id INTEGER PRIMARY KEY AUTOINCREMENT);
      INSERT INTO s1 DEFAULT VALUES;
      INSERT INTO s2 DEFAULT VALUES;
      INSERT INTO s3 DEFAULT VALUES;
      UPDATE sqlite_sequence SET seq = 2.5 WHERE name = 's1';
      UPDATE sqlite_sequence SET seq = NULL WHERE name = 's2';
      UPDATE sqlite_sequence SET seq = X'00410a275c' WHERE name = 's3';
      INSERT INTO sqlite_sequence VALUES('big', 9223372036854775807), ('tiny', 1e-7), ('huge', 1e22),
        ('neg', -0.0), ('fixed', 1234567890123456.0), ('it''s', 1), (X'ff22', 'text'),
        ('pi', 3.141592653589793), ('small', 0.0001), ('smaller', 0.00001234), ('e16', 1e16),
        ('almost', 999999999999999.9), ('negbig', -1.5e300), ('third', 1.0 / 3), (3, 4);
    `,
  },
];

/** What the Python side reports for one case. */
interface PythonCaseResult {
  dump?: string[];
  dumpError?: string;
  own?: string[];
  ownError?: string;
  replay?: string[];
  replayError?: string;
}

interface PythonResult {
  cases: PythonCaseResult[];
  reals: string[];
}

const PYTHON = String.raw`
import json, sqlite3, struct, sys

def fail(e):
    return type(e).__name__ + ': ' + str(e)

req = json.load(sys.stdin)
out = {'cases': [], 'reals': []}
for case in req['cases']:
    res = {}
    try:
        src = sqlite3.connect(case['path'])
        res['dump'] = list(src.iterdump())
        src.close()
    except Exception as e:
        res['dumpError'] = fail(e)
    if case['script'] is not None:
        try:
            own = sqlite3.connect(':memory:')
            own.executescript(case['script'])
            res['own'] = list(own.iterdump())
        except Exception as e:
            res['ownError'] = fail(e)
    if case['replay'] is not None:
        try:
            dst = sqlite3.connect(':memory:')
            dst.executescript('\n'.join(case['replay']))
            res['replay'] = list(dst.iterdump())
        except Exception as e:
            res['replayError'] = fail(e)
    out['cases'].append(res)
con = sqlite3.connect(':memory:')
for h in req['reals']:
    x = struct.unpack('>d', bytes.fromhex(h))[0]
    out['reals'].append(con.execute('SELECT quote(?)', (x,)).fetchone()[0])
print(json.dumps(out))
`;

/** Deterministic doubles for the quote() comparison: random bit patterns, decimals, specials. */
function sampleReals(count: number): number[] {
  let seed = 0x2545f491;
  const next = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const out = [
    0, -0, 0.1, 0.2, 0.30000000000000004, 1 / 3, 2 / 3, 0.5, 1, 10, 100, 1e15, 1e16, 1e17, 1e21, 1e22,
    1e300, 1e-300, 5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
    Infinity, -Infinity, 9007199254740992, 2 ** 53 + 2, 123456789012345680, 1e-4, 1e-5, 0.001,
    Number('99999999999999.99'), 999999999999999.9, 9999999999999998, 3.14159, Math.PI, Math.E, -7.25, 2 ** 63,
    2 ** 64, 2 ** -1022, 2 ** -1074, 4.35, 0.15, 1.005, 1e23, 5e-5, 12345.678,
  ];
  const view = new DataView(new ArrayBuffer(8));
  while (out.length < count) {
    const kind = out.length % 3;
    if (kind === 0) {
      view.setUint32(0, next());
      view.setUint32(4, next());
      const x = view.getFloat64(0);
      if (Number.isFinite(x)) out.push(x);
    } else if (kind === 1) {
      out.push(((next() % 2000000) / 1000) * (next() % 2 ? 1 : -1));
    } else {
      out.push(Number(((next() / 2 ** 32) * 10 ** ((next() % 40) - 20)).toPrecision(1 + (next() % 17))));
    }
  }
  return out;
}

function realHex(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

const sqlite3 = await init();

type Db = InstanceType<typeof sqlite3.oo1.DB>;

function queryOf(db: Db): DumpQuery {
  return async (sql: string) => db.exec({ sql, returnValue: 'resultRows', rowMode: 'array' });
}

async function dumpAll(query: DumpQuery): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of iterdump(query)) lines.push(line);
  return lines;
}

interface Prepared {
  ours: string[][];
  python: PythonResult;
  reals: number[];
  quoteNameError: { ours: string; python: string };
}

const REAL_SAMPLES = 6000;

/** Builds every database, dumps it here, and has one Python process do its part for all. */
async function prepare(): Promise<Prepared> {
  const dir = mkdtempSync(join(tmpdir(), 'dump-test-'));
  try {
    const ours: string[][] = [];
    const requests: { path: string; script: string | null; replay: string[] | null }[] = [];
    for (const [i, c] of CASES.entries()) {
      const db = new sqlite3.oo1.DB(':memory:');
      try {
        if (c.sql.trim() !== '') db.exec(c.sql);
        const lines = await dumpAll(queryOf(db));
        ours.push(lines);
        const path = join(dir, `case${i}.db`);
        writeFileSync(path, sqlite3.capi.sqlite3_js_db_export(db));
        requests.push({ path, script: c.crossEngine ? c.sql : null, replay: c.replay ? lines : null });
      } finally {
        db.close();
      }
    }
    // A table name with a single quote breaks Python's row query; ours must fail the same way.
    const quoteDb = new sqlite3.oo1.DB(':memory:');
    let ourQuoteError = '';
    try {
      quoteDb.exec(`CREATE TABLE "it's"(x); INSERT INTO "it's" VALUES(1);`);
      await assert.rejects(dumpAll(queryOf(quoteDb)), (e: unknown) => {
        ourQuoteError = String(e);
        return true;
      });
      const path = join(dir, 'quote.db');
      writeFileSync(path, sqlite3.capi.sqlite3_js_db_export(quoteDb));
      requests.push({ path, script: null, replay: null });
    } finally {
      quoteDb.close();
    }

    const reals = sampleReals(REAL_SAMPLES);
    const input = JSON.stringify({ cases: requests, reals: reals.map(realHex) });
    const stdout = execFileSync('python3', ['-c', PYTHON], { input, maxBuffer: 1 << 28, encoding: 'utf8' });
    const python = JSON.parse(stdout) as PythonResult;
    const quoteCase = python.cases.pop();
    return {
      ours,
      python,
      reals,
      quoteNameError: { ours: ourQuoteError, python: quoteCase?.dumpError ?? '(no error)' },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const prepared = prepare();

for (const [i, c] of CASES.entries()) {
  test(`iterdump matches Python: ${c.name}`, async () => {
    const { ours, python } = await prepared;
    const py = python.cases[i];
    assert.equal(py.dumpError, undefined, 'Python could not dump the database');
    assert.deepEqual(ours[i], py.dump);
    if (c.crossEngine) {
      assert.equal(py.ownError, undefined, 'Python could not run the script');
      assert.deepEqual(ours[i], py.own, 'differs from the dump of the database Python built itself');
    }
    if (c.replay) {
      assert.equal(py.replayError, undefined, 'Python could not replay our dump');
      assert.deepEqual(py.replay, ours[i], 'the replayed database dumps differently');
    }
  });
}

test('iterdump fails like Python on a table name with a single quote', async () => {
  const { quoteNameError } = await prepared;
  assert.match(quoteNameError.python, /OperationalError: .*syntax error/);
  assert.match(quoteNameError.ours, /syntax error/);
});

test('sqliteQuoteReal matches quote() of Python\'s SQLite for varied doubles', async () => {
  const { python, reals } = await prepared;
  assert.equal(python.reals.length, reals.length);
  const mismatches: string[] = [];
  for (const [i, x] of reals.entries()) {
    const mine = sqliteQuoteReal(x);
    if (mine !== python.reals[i]) mismatches.push(`${x}: ours ${mine}, Python ${python.reals[i]}`);
  }
  assert.deepEqual(mismatches.slice(0, 10), []);
});

test('iterdump renders any cell type a driver may return', async () => {
  // A fake engine: whatever the row query asks, it returns odd cell types.
  const query: DumpQuery = async (sql: string) => {
    if (sql.includes("'table'")) return [['t', 'table', 'CREATE TABLE t(a,b,c,d,e,f)']];
    if (sql.startsWith('PRAGMA table_info')) return ['a', 'b', 'c', 'd', 'e', 'f'].map((n, i) => [i, n]);
    if (sql.startsWith('SELECT \'INSERT INTO "t" VALUES(\'')) {
      return [['INSERT INTO "t" VALUES(', "'s'", 0.1 + 0.2, 12345678901234567890n, null, new Uint8Array([0, 171]), 1e16]];
    }
    return [];
  };
  assert.deepEqual(await dumpAll(query), [
    'BEGIN TRANSACTION;',
    'CREATE TABLE t(a,b,c,d,e,f);',
    `INSERT INTO "t" VALUES('s',3.00000000000000044408e-01,12345678901234567890,NULL,X'00AB',1.0e+16);`,
    'COMMIT;',
  ]);
});
