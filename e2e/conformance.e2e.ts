/**
 * The core API in real Chromium, on each storage backend of the browser
 * build, from the page's main thread (e2e/pages/conformance.ts), asserted
 * here one check at a time; plus, for the durable backends, a reload-and-read-
 * back persistence check, export (`serialize()`) read by Python's sqlite3,
 * and import of a file Python made (`import_database`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { firstPage, launchChromium, type LaunchedChromium } from './chromium.js';
import { E2E_WEB, TEST_TIMEOUT_MS, openTestPage, python, requireBuilt, watchdog, withLog } from './harness.js';
import type { Backend, ErrorInfo, JsonCell, Outcome, Report, SourceKind } from './protocol.js';
import { startStaticServer, type StaticServer } from './static-server.js';

let server: StaticServer | undefined;
let browser: LaunchedChromium | undefined;
let page: Page;
let tmp: string;
watchdog(8 * 60_000, () => browser);

before(async () => {
  requireBuilt(E2E_WEB);
  tmp = await mkdtemp(join(tmpdir(), 'heliosdb-e2e-'));
  server = await startStaticServer({ root: E2E_WEB });
  browser = await launchChromium();
  page = await firstPage(browser);
  await openTestPage(page, `${server.url}/conformance.html`, browser);
}, { timeout: TEST_TIMEOUT_MS });

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The value a check observed; a check that threw fails with the page's error and stack. */
function value(report: Report, name: string): unknown {
  const o: Outcome | undefined = report[name];
  assert.ok(o, `check ${name} did not run; report has ${Object.keys(report).join(', ')}`);
  if (!o.ok) assert.fail(withLog(browser, `check ${name} threw ${o.error.name}: ${o.error.message}\n${o.error.stack}`));
  return o.value;
}

type ErrorShape = Omit<ErrorInfo, 'stack'>;

/** Drops stacks (they differ between runs) from error infos nested anywhere in `v`. */
function withoutStacks(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutStacks);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'stack').map(([k, x]) => [k, withoutStacks(x)]));
  }
  return v;
}

function dbError(name: string, message: string, sqlite_errorname: string | null, sqlite_errorcode: number | null): ErrorShape {
  return {
    name,
    message,
    sqlite_errorname,
    sqlite_errorcode,
    is: {
      Error: true,
      DatabaseError: true,
      IntegrityError: name === 'IntegrityError',
      OperationalError: name === 'OperationalError',
      ProgrammingError: name === 'ProgrammingError',
      DataError: name === 'DataError',
    },
  };
}

const NULLS6 = [null, null, null, null, null, null];
const hexRange = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join('');

/** What each check must observe, on every backend (`storage` is added per backend). */
const EXPECTED: Record<string, unknown> = {
  connect: 'connected',
  ddl: [
    ['table', 'people'],
    ['index', 'people_score'],
  ],
  'execute.qmark': [[1, 'ada', 1.5]],
  'execute.named': { colon: [['grace', 2.5]], dollar: [['ada'], ['grace']], at: [['ada']] },
  executemany: { rowcount: 3, count: [5] },
  fetch: {
    first: ['ada'],
    many: [['grace'], ['linus']],
    rest: [['margaret'], ['ken']],
    end: null,
    after: [],
    defaultMany: [['ada']],
    sizedMany: [['grace'], ['linus'], ['margaret']],
  },
  row_factory: {
    isRow: true,
    keys: ['id', 'Name', 'score'],
    byIndex: 'grace',
    byName: 'grace',
    caseInsensitive: 'grace',
    length: 3,
    spread: [2, 'grace', 2.5],
  },
  // in_transaction after commit, after an INSERT, after rollback; count of the rolled-back row;
  // in_transaction after commit and the committed row; transaction(fn) that throws rolls back.
  transactions: [false, true, false, 0, false, 1, 'abort', 0, false],
  'lastrowid-rowcount': { lastrowid: 7, id: 7, insertRowcount: 1, updateRowcount: 4, deleteRowcount: 1, selectRowcount: -1 },
  description: { select: [['id', ...NULLS6], ['who', ...NULLS6], ['double_score', ...NULLS6]], dml: null },
  'column-slots': { checked: 600, wrong: [], before: ['x'], after: ['x', 'y'] },
  'integrity-error': {
    err: dbError('IntegrityError', 'UNIQUE constraint failed: people.name', 'SQLITE_CONSTRAINT_UNIQUE', 2067),
    notNull: dbError('IntegrityError', 'NOT NULL constraint failed: people.name', 'SQLITE_CONSTRAINT_NOTNULL', 1299),
    usable: [6],
  },
  'operational-error': {
    noTable: dbError('OperationalError', 'no such table: no_such_table', 'SQLITE_ERROR', 1),
    syntax: dbError('OperationalError', 'near "SELEKT": syntax error', 'SQLITE_ERROR', 1),
  },
  'programming-error': {
    bindings: dbError(
      'ProgrammingError',
      'Incorrect number of bindings supplied. The current statement uses 2, and there are 1 supplied.',
      null,
      null,
    ),
    twoStatements: dbError('ProgrammingError', 'You can only execute one statement at a time.', null, null),
  },
  create_function: {
    value: [42, 3],
    raised: dbError('OperationalError', 'user-defined function raised exception', 'SQLITE_ERROR', 1),
    after: [8],
  },
  create_aggregate: ['committed', 6],
  bigint: {
    back: [
      { js: 'bigint', value: '4611686018427387911', sqlType: 'integer', sqlText: '4611686018427387911' },
      { js: 'bigint', value: '-9223372036854775808', sqlType: 'integer', sqlText: '-9223372036854775808' },
      { js: 'bigint', value: '9223372036854775807', sqlType: 'integer', sqlText: '9223372036854775807' },
      { js: 'bigint', value: '9007199254740993', sqlType: 'integer', sqlText: '9007199254740993' },
      { js: 'number', value: '9007199254740991', sqlType: 'integer', sqlText: '9007199254740991' },
      { js: 'number', value: '42', sqlType: 'integer', sqlText: '42' },
    ],
    tooBig: dbError('DataError', 'Error binding parameter 1: 18446744073709551616 is too large for a SQLite INTEGER (64-bit)', null, null),
    arithmetic: [{ bigint: '4611686018427387904' }],
  },
  blob: {
    rows: [
      { isUint8Array: true, value: { blob: hexRange }, sqlType: 'blob', length: 256, sqlHex: hexRange.toUpperCase() },
      { isUint8Array: true, value: { blob: '' }, sqlType: 'blob', length: 0, sqlHex: '' },
      { isUint8Array: true, value: { blob: '010203' }, sqlType: 'blob', length: 3, sqlHex: '010203' },
      { isUint8Array: true, value: { blob: '02010403' }, sqlType: 'blob', length: 4, sqlHex: '02010403' },
    ],
    bigSame: true,
  },
  close: { afterClose: dbError('ProgrammingError', 'Cannot operate on a closed database.', null, null) },
};

/** Python's own iterdump of the table the `iterdump` check makes: the oracle for our lines. */
function pythonDump(): { first: string; last: string; dumpme: string[] } {
  return python(`
import json, sqlite3
c = sqlite3.connect(':memory:')
c.executescript("""
  CREATE TABLE dumpme(a INTEGER PRIMARY KEY, b TEXT, c REAL, d BLOB);
  INSERT INTO dumpme VALUES (1, 'x', 0.5, NULL), (2, 'it''s', NULL, x'00ff');
""")
lines = list(c.iterdump())
print(json.dumps({"first": lines[0], "last": lines[-1], "dumpme": [l for l in lines if "dumpme" in l]}))
`);
}

const BACKENDS: readonly Backend[] = ['opfs', 'idb', 'memory'];
const DURABLE: readonly Backend[] = ['opfs', 'idb'];

for (const backend of BACKENDS) {
  describe(`conformance on ${backend}`, () => {
    let report: Report = {};
    before(async () => {
      report = await page.evaluate((b) => window.heliosE2E!.conformance(b), backend);
    }, { timeout: TEST_TIMEOUT_MS });

    test('connect and conn.storage', { timeout: TEST_TIMEOUT_MS }, () => {
      assert.equal(value(report, 'connect'), 'connected');
      assert.equal(value(report, 'storage'), backend);
    });
    for (const [name, expected] of Object.entries(EXPECTED)) {
      if (name === 'connect') continue;
      test(name, { timeout: TEST_TIMEOUT_MS }, () => {
        assert.deepEqual(withoutStacks(value(report, name)), expected);
      });
    }
    test('iterdump lines equal Python sqlite3 iterdump', { timeout: TEST_TIMEOUT_MS }, () => {
      assert.deepEqual(value(report, 'iterdump'), pythonDump());
    });
    test('large result: 50k rows in, streamed out in batches of 1000', { timeout: TEST_TIMEOUT_MS }, (t) => {
      const v = value(report, 'large-result') as Record<string, unknown>;
      t.diagnostic(`${backend}: executemany 50k rows ${String(v.insertMs)} ms, fetchmany 50k rows ${String(v.fetchMs)} ms`);
      const { insertMs: _i, fetchMs: _f, ...counts } = v;
      assert.deepEqual(counts, { inserted: 50_000, rows: 50_000, batches: 50, largestBatch: 1000, inOrder: true, iterated: 5000 });
    });
    test('every check ran', { timeout: TEST_TIMEOUT_MS }, () => {
      const expected = ['connect', 'storage', 'iterdump', 'large-result', ...Object.keys(EXPECTED)];
      assert.deepEqual(Object.keys(report).sort(), [...new Set(expected)].sort());
    });
  });
}

describe('storage selection', () => {
  test('a plain name uses the best backend (opfs in Chromium)', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.equal(await page.evaluate(() => window.heliosE2E!.storageOf('plain-name.db')), 'opfs');
    assert.equal(await page.evaluate(() => window.heliosE2E!.storageOf('idb://named.db')), 'idb');
    assert.equal(await page.evaluate(() => window.heliosE2E!.storageOf(':memory:')), 'memory');
  });
  test('storage_info() gives usage, quota and persisted', { timeout: TEST_TIMEOUT_MS }, async () => {
    const info = (await page.evaluate(() => window.heliosE2E!.storageInfo())) as Record<string, unknown>;
    assert.deepEqual(Object.keys(info).sort(), ['persisted', 'quota', 'usage']);
    assert.equal(typeof info.usage, 'number');
    assert.equal(typeof info.persisted, 'boolean');
    assert.ok(typeof info.quota === 'number' && info.quota > 0, `quota ${String(info.quota)}`);
    assert.ok((info.usage as number) > 0, 'the conformance databases use some storage');
  });
});

/** The rows writeRows() commits, as protocol cells. */
function expectedRows(token: string): JsonCell[][] {
  return Array.from({ length: 100 }, (_, i) => [
    i + 1,
    `${token}-${i + 1}`,
    { blob: [i, 255 - i].map((b) => b.toString(16).padStart(2, '0')).join('') },
    { bigint: String(2n ** 62n + BigInt(i)) },
  ]);
}

for (const backend of DURABLE) {
  describe(`persistence, export and import on ${backend}`, () => {
    const database = `${backend}://persist.db`;
    const token = `t${Date.now().toString(36)}`;

    test('committed rows survive a reload; uncommitted ones do not', { timeout: TEST_TIMEOUT_MS }, async () => {
      const written = await page.evaluate(([db, tk]) => window.heliosE2E!.writeRows(db, tk), [database, token] as const);
      assert.deepEqual(written, expectedRows(token));
      await page.reload();
      await page.waitForFunction(() => window.heliosE2E?.ready === true);
      const read = await page.evaluate((db) => window.heliosE2E!.readRows(db), database);
      assert.deepEqual(read, expectedRows(token), withLog(browser, 'rows read back after reload'));
    });

    test('serialize() gives a .db file Python sqlite3 reads with the same rows', { timeout: TEST_TIMEOUT_MS }, async () => {
      const base64 = await page.evaluate((db) => window.heliosE2E!.exportDatabase(db), database);
      const bytes = Buffer.from(base64, 'base64');
      assert.equal(bytes.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
      const file = join(tmp, `export-${backend}.db`);
      await writeFile(file, bytes);
      // 64-bit integers travel as text: JSON.parse would round them.
      const seen = python<{ integrity: string; rows: string[][] }>(
        `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(json.dumps({
  "integrity": c.execute("PRAGMA integrity_check").fetchone()[0],
  "rows": [[str(k), v, b.hex(), str(n)] for (k, v, b, n) in c.execute("SELECT k, v, b, n FROM kv ORDER BY k")],
}))
`,
        file,
      );
      assert.equal(seen.integrity, 'ok');
      const expected = expectedRows(token).map(([k, v, b, n]) => [String(k), v, (b as { blob: string }).blob, (n as { bigint: string }).bigint]);
      assert.deepEqual(seen.rows, expected);
    });

    const kinds: readonly SourceKind[] = ['uint8array', 'arraybuffer', 'blob', 'file', 'response'];
    for (const kind of kinds) {
      test(`import_database from a ${kind} of a file Python made`, { timeout: TEST_TIMEOUT_MS }, async () => {
        const file = join(tmp, `import-${backend}-${kind}.db`);
        python<null>(
          `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
  CREATE TABLE made_by_python(id INTEGER PRIMARY KEY, name TEXT, big INTEGER, raw BLOB, r REAL);
  INSERT INTO made_by_python VALUES (1, 'héllo', 9007199254740993, x'cafe', 0.25), (2, NULL, -1, x'', 1e300);
""")
c.commit()
c.close()
print("null")
`,
          file,
        );
        const base64 = (await readFile(file)).toString('base64');
        const target = `${backend}://imported-${kind}.db`;
        const o = await page.evaluate(([db, b64, k]) => window.heliosE2E!.importDatabase(db, b64, k, 'made_by_python'), [target, base64, kind] as const);
        if (!o.ok) assert.fail(withLog(browser, `import threw ${o.error.name}: ${o.error.message}\n${o.error.stack}`));
        assert.deepEqual(o.value, {
          storage: backend,
          rows: [
            [1, 'héllo', { bigint: '9007199254740993' }, { blob: 'cafe' }, 0.25],
            [2, null, -1, { blob: '' }, 1e300],
          ],
        });
      });
    }

    test('import_database refuses bytes that are not a SQLite file with DatabaseError', { timeout: TEST_TIMEOUT_MS }, async () => {
      const garbage = Buffer.alloc(8192, 7).toString('base64');
      const o = await page.evaluate(([db, b64]) => window.heliosE2E!.importDatabase(db, b64, 'uint8array', 'x'), [`${backend}://garbage.db`, garbage] as const);
      assert.equal(o.ok, false, 'importing garbage must fail');
      if (o.ok) return;
      assert.equal(o.error.is.DatabaseError, true, `${o.error.name}: ${o.error.message}`);
      assert.equal(o.error.is.Error, true);
    });
  });
}

describe('a cross-origin isolated page (COOP/COEP headers)', () => {
  let isolated: StaticServer | undefined;
  after(async () => {
    await isolated?.close();
  });

  test('the build loads under COOP/COEP and passes the same checks on opfs', { timeout: TEST_TIMEOUT_MS }, async () => {
    isolated = await startStaticServer({ root: E2E_WEB, crossOriginIsolated: true });
    const tab = await browser!.newPage();
    try {
      await openTestPage(tab, `${isolated.url}/conformance.html`, browser!);
      assert.equal(await tab.evaluate(() => self.crossOriginIsolated), true);
      const report = await tab.evaluate(() => window.heliosE2E!.conformance('opfs'));
      assert.equal(value(report, 'storage'), 'opfs');
      for (const [name, expected] of Object.entries(EXPECTED)) {
        assert.deepEqual(withoutStacks(value(report, name)), expected, `check ${name}`);
      }
    } finally {
      await tab.close();
    }
  });
});
