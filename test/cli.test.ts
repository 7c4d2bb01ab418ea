/**
 * The `heliosdb` shell in batch use, driven through pipes as scripts and users drive it: the
 * built binary (bin/heliosdb.js → dist/cli) against Debian's sqlite3 shell (/usr/bin/sqlite3),
 * given the same database file, arguments and input. Outputs are compared byte for byte, and
 * so are error messages and exit statuses, except where docs/cli.md lists a difference (the
 * caret lines sqlite3 prints under a parse error).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/heliosdb.js');
const SQLITE3 = '/usr/bin/sqlite3';

let dir = '';

interface Run {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

interface RunOptions {
  readonly input?: string | Buffer;
  /** Standard input from this file (for a program that may exit without reading it). */
  readonly stdinFile?: string;
  readonly cwd?: string;
}

function run(command: string, args: readonly string[], o: RunOptions = {}): Run {
  const stdin = o.stdinFile !== undefined ? openSync(o.stdinFile, 'r') : 'pipe';
  const r = spawnSync(command, args, {
    input: o.stdinFile !== undefined ? undefined : (o.input ?? ''),
    stdio: [stdin, 'pipe', 'pipe'],
    cwd: o.cwd ?? dir,
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  if (typeof stdin === 'number') closeSync(stdin);
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

function heliosdb(args: readonly string[], o: RunOptions = {}): Run {
  return run(process.execPath, [BIN, ...args], o);
}

function sqlite3(args: readonly string[], o: RunOptions = {}): Run {
  return run(SQLITE3, args, o);
}

/**
 * sqlite3's stderr without what the shell cannot reproduce: the two lines it prints under a
 * parse error to point at the error's offset (`  SELEC 3;` / `  ^--- error here`), which needs
 * `sqlite3_error_offset()`.
 */
function comparableStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/^ {2}/.test(l))
    .join('\n');
}

/** Creates a database file with the sqlite3 shell. */
function makeDb(name: string, sql: string): string {
  const path = join(dir, name);
  rmSync(path, { force: true });
  const r = sqlite3([path], { input: sql });
  assert.equal(r.status, 0, r.stderr);
  return path;
}

/** Removes a database and whatever files an engine left beside it. */
function removeDb(path: string): void {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const parent = path.slice(0, path.lastIndexOf('/'));
  for (const f of readdirSync(parent)) if (f === base || f.startsWith(`${base}-`)) rmSync(join(parent, f), { force: true });
}

/**
 * Runs both shells on fresh copies of `fixture` at the same path (so paths they print agree),
 * with the same arguments (`DB` stands for the database) and input, and returns both runs.
 */
function both(fixture: string | null, args: readonly string[], o: RunOptions = {}): { ours: Run; theirs: Run } {
  const db = join(o.cwd ?? dir, 'work.db');
  const argv = args.map((a) => (a === 'DB' ? db : a));
  const fresh = (): void => {
    removeDb(db);
    if (fixture !== null) copyFileSync(fixture, db);
  };
  fresh();
  const theirs = sqlite3(argv, o);
  fresh();
  const ours = heliosdb(argv, o);
  return { ours, theirs };
}

/** The first line where two outputs differ, with the line before it, for the failure message. */
function firstDifference(ours: Buffer, theirs: Buffer): string {
  const a = ours.toString('latin1').split('\n');
  const b = theirs.toString('latin1').split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const show = (lines: string[]): string => JSON.stringify(lines.slice(Math.max(0, i - 1), i + 2).join('\n'));
  return `line ${i + 1}:\n ours:    ${show(a)}\n sqlite3: ${show(b)}`;
}

/** Both shells printed the same bytes and the same errors, and exited alike. */
function assertSameRun(r: { ours: Run; theirs: Run }, what: string): void {
  if (!r.ours.stdout.equals(r.theirs.stdout)) {
    assert.fail(`${what}: stdout differs at ${firstDifference(r.ours.stdout, r.theirs.stdout)}`);
  }
  assert.equal(r.ours.stderr, comparableStderr(r.theirs.stderr), `${what}: stderr`);
  assert.equal(r.ours.status, r.theirs.status, `${what}: exit status (stderr: ${r.ours.stderr})`);
}

/** Values of every kind the output modes must render alike (integral REALs among them). */
const VALUES_SQL = `
CREATE TABLE v(id INTEGER PRIMARY KEY, a, b);
INSERT INTO v(a, b) VALUES
 (NULL, 'plain'), (0, ''), (-1, 'it''s'), (9223372036854775807, 'comma, "quoted"'),
 (-9223372036854775808, 'line1' || char(10) || 'line2'), (2.5, 'cr' || char(13) || 'lf' || char(13,10) || 'end'),
 (0.1, 'tab' || char(9) || 'x'), (1e-7, 'ünïcødé 日本 😀'), (1e20, 'back\\slash/'),
 (1e300, char(1,2,27) || 'ctl'), (-2.5e-300, '   spaces  '), (3.141592653589793, '<html>&amp;</html>'),
 (0.1 + 0.2, x'00ff41'), (123456789.123, x'414243'), (1e15 + 0.5, x''), (1e999, 'a|b'),
 (-1e999, 'a' || char(127) || 'b'), (-0.0, 'x' || char(10)), (2.0/3.0, 'ends with cr' || char(13)),
 (1e16, char(10) || 'starts nl'), (12345678901234567890.0, 'a\\nb'), (-1e-310, 'l"q'), (42, '{"json": [1, 2]}'),
 (1.0, -7.0), (CAST(4 AS REAL), 2.0 * 3);
`;

const SCHEMA_SQL = `
CREATE TABLE users(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, score REAL);
CREATE INDEX users_name ON users(name);
CREATE TABLE "odd name"(x);
CREATE TABLE [order](x);
CREATE TABLE "é"(x);
CREATE TABLE gen(x INT, y GENERATED ALWAYS AS (x + 1));
CREATE TABLE s(x UNIQUE, y PRIMARY KEY);
CREATE VIEW v AS SELECT * FROM users;
CREATE VIEW v2(p, q) AS SELECT 1, 2;
CREATE TRIGGER tr AFTER INSERT ON users BEGIN SELECT 1; END;
CREATE UNIQUE INDEX odd_x ON "odd name"(x);
INSERT INTO users(name, score) VALUES ('ada', 1.0), ('bob', 2.5), ('it''s', NULL), ('x', 0.1), ('neg zero', -0.0),
  ('big', 1e300), ('line' || char(10) || 'two', 3.0), ('inf', 1e999), ('cr' || char(13), -7.0);
INSERT INTO "odd name" VALUES (x'0102'), (1e300), (-5), (9223372036854775807);
INSERT INTO [order] VALUES (2);
INSERT INTO "é" VALUES (1);
INSERT INTO gen(x) VALUES (5);
INSERT INTO s VALUES (1, 'a'), (2, 'b');
ANALYZE;
`;

let values = '';
let schema = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heliosdb-cli-'));
  assert.ok(existsSync(SQLITE3), 'the sqlite3 shell (Debian package sqlite3) is needed as the oracle');
  assert.ok(existsSync(join(ROOT, 'dist/cli/main.js')), 'build first: npm run build');
  values = makeDb('values.db', VALUES_SQL);
  schema = makeDb('schema.db', SCHEMA_SQL);
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const MODES = ['list', 'csv', 'column', 'box', 'table', 'markdown', 'json', 'line', 'insert', 'quote', 'tabs', 'html', 'ascii', 'tcl', 'qbox'];

test('every output mode prints the same bytes as the sqlite3 shell (headers on and off, NULL text, several statements)', () => {
  const script: string[] = [];
  for (const mode of MODES) {
    script.push(
      `.print ---- .mode ${mode} ----`,
      `.mode ${mode}`,
      '.headers on',
      'SELECT * FROM v;',
      '.headers off',
      `SELECT * FROM v; SELECT 1 AS x, 'y' AS "col""q", NULL AS "é";`,
      '.nullvalue NULL',
      'SELECT a, b, NULL AS n FROM v WHERE id < 6;',
      '.nullvalue ""',
      '.headers on',
      'SELECT 1 AS nothing WHERE 0;',
      "SELECT 'after an empty result' AS z;",
      `.mode ${mode} t2`,
      'SELECT id, b FROM v WHERE id < 3;',
      '.headers off',
    );
  }
  assertSameRun(both(values, ['DB'], { input: script.join('\n') }), 'output modes');
});

test('mode flags on the command line match (-csv keeps LF rows, -column no header, -box no wrap…)', async (t) => {
  const flagSets = [
    ['-csv', '-header'],
    ['-json'],
    ['-box'],
    ['-column'],
    ['-line'],
    ['-quote', '-header'],
    ['-table', '-nullvalue', 'NIL'],
    ['-separator', ';', '-newline', 'XX', '-header'],
  ];
  for (const flags of flagSets) {
    await t.test(flags.join(' '), () => {
      assertSameRun(both(values, [...flags, 'DB', 'SELECT * FROM v', 'SELECT 2 AS two']), flags.join(' '));
    });
  }
});

test('columnar modes: wrapping (--wrap, --wordwrap), .width (right-aligned when negative), --quote', () => {
  const prose =
    "SELECT 'The quick brown fox jumps over the lazy dog, twice; then naps.' AS a, 'hello world foo bar' AS b, " +
    "'abc-defghijk.lmnopq rstuvwxyz' AS c, 'ünïcødé wörds ärë fün tö wräp' AS d, 'tab' || char(9) || 'bed text here' AS e;";
  const script: string[] = [];
  for (const m of [
    '.mode box --wrap 10',
    '.mode table --wrap 5',
    '.mode column --wrap 8',
    '.mode markdown --wrap 3',
    '.mode box --quote',
    '.mode column --wrap 4 --quote',
    '.mode box --wordwrap on --wrap 7',
    '.mode table --ww --wrap 13',
    '.mode box --unknown-option',
  ]) {
    script.push(m, '.mode', 'SELECT * FROM v;', prose, '.width 5 -7 3', 'SELECT * FROM v;', '.width 0 2', 'SELECT * FROM v;', '.width', '.headers off', 'SELECT * FROM v;', '.headers on');
  }
  assertSameRun(both(values, ['DB'], { input: script.join('\n') }), 'columnar options');
});

test('EXPLAIN QUERY PLAN is drawn as the shell draws it, in every mode', () => {
  const script = ['CREATE TABLE t(a INTEGER PRIMARY KEY, b);', 'CREATE INDEX tb ON t(b);'];
  for (const m of ['list', 'csv', 'box', 'json']) {
    script.push(`.mode ${m}`, 'EXPLAIN QUERY PLAN SELECT * FROM t;', 'EXPLAIN QUERY PLAN SELECT b FROM t WHERE b > 1 ORDER BY a;');
  }
  assertSameRun(both(null, ['DB'], { input: script.join('\n') }), 'query plans');
});

test('integral REAL values (1.0, -7.0) print as the sqlite3 shell prints them, in every mode', () => {
  for (const mode of ['list', 'json', 'insert', 'quote', 'box', 'line']) {
    const r = both(null, ['DB'], { input: `.mode ${mode}\nSELECT 1.0, -7.0, 2.0 * 3, CAST(4 AS REAL), 5, 1e15;\n` });
    assertSameRun(r, `integral REALs in ${mode}`);
  }
});

test('.dump, .schema, .tables, .indexes and .databases match the sqlite3 shell', async (t) => {
  await t.test('on a database with odd names, views, triggers, generated columns, statistics', () => {
    const commands = ['.dump', '.dump users', '.dump --data-only', '.dump --newlines', '.dump "odd%"', '.schema', '.schema users', '.schema --nosys'];
    commands.push('.schema v%', '.tables', '.tables u%', '.indexes', '.indexes users', '.databases');
    assertSameRun(both(schema, ['DB', ...commands]), commands.join(' '));
  });
  await t.test('with temp and attached databases', () => {
    const cmds = ['CREATE TEMP TABLE tt(x)', "ATTACH ':memory:' AS aux", 'CREATE TABLE aux.at1(x)', 'CREATE INDEX aux.ai ON at1(x)'];
    cmds.push('.tables', '.indexes', '.schema at%', '.schema tt', '.databases');
    assertSameRun(both(schema, ['DB', ...cmds]), cmds.join(' '));
  });
  await t.test('.tables in columns across the line', () => {
    const many = Array.from({ length: 30 }, (_, i) => `CREATE TABLE table_number_${i + 1}(x);`).join('\n');
    assertSameRun(both(null, ['DB'], { input: `${many}\n.tables\n.tables %1%\n` }), '.tables layout');
  });
  await t.test('a dump replayed by the sqlite3 shell rebuilds the same database', () => {
    const dumped = heliosdb([schema, '.dump']);
    assert.equal(dumped.status, 0, dumped.stderr);
    const rebuilt = join(dir, 'rebuilt.db');
    removeDb(rebuilt);
    const load = sqlite3([rebuilt], { input: dumped.stdout });
    assert.equal(load.status, 0, load.stderr);
    assert.deepEqual(sqlite3([rebuilt, '.dump']).stdout.toString(), sqlite3([schema, '.dump']).stdout.toString());
  });
});

test('errors in a script: stderr names the line, the script goes on, the exit status is 1; -bail stops', () => {
  const script = [
    'SELECT 1;',
    'SELECT * FROM nope;',
    'SELECT 2; SELECT * FROM nope2; SELECT 3;',
    'SELECT',
    '  3',
    'FROM nope3;',
    'CREATE TABLE u(x UNIQUE);',
    'INSERT INTO u VALUES(1);',
    'INSERT INTO u VALUES(1);',
    'SELEC 4;',
    "SELECT json('{bad');",
    '.changes on',
    'INSERT INTO u VALUES(2);',
    "SELECT 'after';",
    '.changes off',
    '.foo',
    '.mode nope',
    '.headers on',
    'SELECT 4 AS four',
    '-- comment',
    ';',
    '/* block',
    'comment */',
    'SELECT 5 AS five; -- trailing',
    `SELECT 'semi;colon' AS s; SELECT "x;y" FROM (SELECT 1 AS "x;y");`,
    'CREATE TRIGGER tr AFTER INSERT ON u BEGIN SELECT 1; SELECT 2; END;',
    'INSERT INTO u VALUES(3);',
    '.print hello world',
    '.headers maybe',
    '.separator',
    '.timer',
    '.nullvalue a b',
    '.read',
    '.schema a b c',
    '.indexes a b',
    '.show x',
    'SELECT 6',
    '/',
    'SELECT 7',
    'go',
    'SELECT 8',
  ].join('\n');
  assertSameRun(both(null, ['DB'], { input: script }), 'script with errors');
  assertSameRun(both(null, ['-bail', 'DB'], { input: 'SELECT 1;\nSELECT x FROM nope; SELECT 2;\nSELECT 3;\n' }), '-bail');
  assertSameRun(both(null, ['DB'], { input: "SELECT 'x\r\ny' AS v;\r\n.mode line\r\nSELECT 1 AS a; SELECT 2 AS b;\r\nSELECT 3" }), 'CRLF, no newline at the end');
});

test('SQL and dot-commands as arguments: run in order, stop at the first failure, exit with its result code', async (t) => {
  const cases: string[][] = [
    ['DB', 'SELECT 1', '.mode csv', "SELECT 'a,b', 2"],
    ['DB', 'SELECT 1; SELECT * FROM nope', 'SELECT 3'],
    ['DB', 'CREATE TABLE t(x UNIQUE); INSERT INTO t VALUES (1)', 'INSERT INTO t VALUES (1)', 'SELECT 9'],
    ['DB', '.nullvalue', 'SELECT 1'],
    ['DB', '.quit', 'SELECT 1'],
    ['DB', '.exit 7', 'SELECT 1'],
    ['-cmd', 'SELECT * FROM nope', 'DB', 'SELECT 1'],
    ['-bail', '-cmd', 'SELECT * FROM nope', 'DB', 'SELECT 1'],
    ['-cmd', '.mode csv', '-header', 'DB', 'SELECT 1 AS a'],
    ['-header', 'DB', 'SELECT 1 AS a', '-csv', 'SELECT 2 AS b'],
    ['DB', '.mode', '.mode box', '.mode', '.mode insert t', '.mode', '.mode qbox', '.mode', '.separator ;', '.mode', 'SELECT 1, 2'],
    [':memory:', '.databases'],
  ];
  for (const c of cases) {
    await t.test(c.join(' '), () => assertSameRun(both(null, c), c.join(' ')));
  }
  await t.test('stdin is not read when SQL is given as arguments', () => {
    const script = join(dir, 'ignored.sql');
    writeFileSync(script, 'SELECT 2;\n');
    assertSameRun(both(null, ['DB', 'SELECT 1'], { stdinFile: script }), 'stdin ignored');
  });
});

test('-readonly: reads work, writes fail with SQLite readonly error (exit status 8)', () => {
  assertSameRun(both(values, ['-readonly', 'DB', 'SELECT count(*) FROM v', '.databases']), '-readonly read');
  assertSameRun(both(values, ['-readonly', 'DB', 'INSERT INTO v(a) VALUES (1)']), '-readonly write');
});

test('a database that cannot be opened is reported on stderr with a non-zero exit status', () => {
  const r = heliosdb([join(dir, 'no/such/dir/x.db'), 'SELECT 1']);
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout.length, 0);
  assert.match(r.stderr, /^Error: unable to open database ".*no\/such\/dir\/x\.db": unable to open database file/);
});

test('a database owned by another process: the second shell says who owns it and exits non-zero', async () => {
  const db = join(dir, 'owned.db');
  removeDb(db);
  const owner = spawn(process.execPath, [BIN, db], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  owner.stdout.on('data', (d: Buffer) => (out += d.toString()));
  owner.stdin.write("SELECT 'open';\n");
  while (!out.includes('open')) await new Promise((r) => setTimeout(r, 20));
  try {
    const second = heliosdb([db, 'SELECT 1']);
    assert.notEqual(second.status, 0);
    assert.equal(second.stdout.length, 0);
    assert.match(second.stderr, new RegExp(`^Error: unable to open database ".*owned\\.db": .*in use by another heliosdb process \\(pid ${owner.pid}`));
  } finally {
    owner.stdin.end();
    await new Promise((r) => owner.on('exit', r));
  }
  // Once the owner has left, the database opens.
  const after = heliosdb([db, 'SELECT 2']);
  assert.equal(after.status, 0, after.stderr);
});

test('.import of CSV: quoting, CRLF, short and long rows, bad quotes, failed rows, --skip, created tables — as the sqlite3 shell', () => {
  writeFileSync(
    join(dir, 'imp.csv'),
    'a,b,c\n1,"x,y",3\n4,"he said ""hi""",6\r\n7,8\n9,10,11,12\n\n"multi\nline",2,3\n"multi2\nline",2\nü,"日本",é\n13,"bad"quote,14\n15,,\n',
  );
  writeFileSync(join(dir, 'imp2.csv'), 'x,y\n1,a\n2,b\n1,c\n3,"d\n');
  writeFileSync(join(dir, 'imp.txt'), 'p|q\n1|2\n3|4|5\n');
  writeFileSync(join(dir, 'empty.csv'), '');
  const script = [
    '.import --csv imp.csv t',
    '.import --csv --skip 1 imp.csv t',
    'CREATE TABLE u(x UNIQUE, y);',
    '.import --csv imp2.csv u',
    '.import imp.txt v',
    '.mode csv',
    '.import imp.csv w',
    '.import nofile.csv z',
    '.import --csv empty.csv e',
    '.mode list',
    '.dump',
    'SELECT count(*) FROM t;',
  ].join('\n');
  assertSameRun(both(null, ['DB'], { input: script }), '.import');
});

test('.import of a large CSV matches the sqlite3 shell, without a progress bar when not on a terminal', () => {
  const lines = ['id,name,score'];
  for (let i = 0; i < 60_000; i++) lines.push(`${i},"name, ${i}",${i * 0.25}`);
  writeFileSync(join(dir, 'big.csv'), `${lines.join('\n')}\n`);
  const r = both(null, ['DB', '.import --csv big.csv big', 'SELECT count(*), sum(id), max(name) FROM big', '.dump big']);
  assertSameRun(r, 'big import');
  assert.ok(!r.ours.stderr.includes('\r'), 'no progress bar on a pipe');
});

test('.output, .once, .read (nested, with its own line numbers), .echo, .backup/.save, .open, .restore, .exit', () => {
  const work = (name: string): string => {
    const d = join(dir, name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    writeFileSync(join(d, 'sub.sql'), 'SELECT 7;\n.read sub2.sql\nSELECT 8;\n');
    writeFileSync(join(d, 'sub2.sql'), 'SELECT 9;\nSELECT * FROM nope;\n');
    copyFileSync(values, join(d, 'work.db'));
    return d;
  };
  const script = [
    '.output out.txt',
    'SELECT 1;',
    'SELECT 2;',
    '.output',
    'SELECT 3;',
    '.once once.txt',
    'SELECT 4;',
    'SELECT 5;',
    '.read sub.sql',
    '.read missing.sql',
    '.echo on',
    'SELECT 6;',
    '.echo off',
    '.backup bk.db',
    '.save bk2.db',
    '.open bk.db',
    'SELECT count(*) FROM v;',
    '.open',
    'SELECT count(*) FROM sqlite_schema;',
    '.restore bk2.db',
    'SELECT count(*) FROM v;',
    '.exit 3',
    "SELECT 'not reached';",
  ].join('\n');
  const theirsDir = work('theirs');
  const theirs = sqlite3(['work.db'], { input: script, cwd: theirsDir });
  const oursDir = work('ours');
  const ours = heliosdb(['work.db'], { input: script, cwd: oursDir });
  assertSameRun({ ours, theirs }, 'files');
  for (const f of ['out.txt', 'once.txt']) {
    assert.deepEqual(readFileSync(join(oursDir, f)), readFileSync(join(theirsDir, f)), f);
  }
  // The backup is a database the sqlite3 shell reads, with the same content.
  const check = sqlite3([join(oursDir, 'bk.db'), 'PRAGMA integrity_check', '.dump']);
  assert.equal(check.status, 0, check.stderr);
  assert.deepEqual(check.stdout.toString(), `ok\n${sqlite3([values, '.dump']).stdout.toString()}`);
});

test('.timer prints Run Time lines; .changes counts rows', () => {
  const r = heliosdb([':memory:'], { input: '.timer on\nCREATE TABLE t(x);\nINSERT INTO t VALUES (1), (2);\nSELECT count(*) FROM t;\n' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.toString().split('\n');
  assert.equal(lines.filter((l) => /^Run Time: real \d+\.\d{3} user \d+\.\d{6} sys \d+\.\d{6}$/.test(l)).length, 3, r.stdout.toString());
  assert.ok(lines.includes('2'));
});

test('.help lists every command with its usage, .vectors among them; unknown commands fail like sqlite3', () => {
  const r = heliosdb([':memory:', '.help']);
  assert.equal(r.status, 0, r.stderr);
  const help = r.stdout.toString();
  for (const c of ['backup', 'databases', 'dump', 'headers', 'import', 'indexes', 'mode', 'nullvalue', 'once', 'open', 'output', 'quit', 'exit', 'read', 'restore', 'schema', 'tables', 'timer', 'changes', 'vectors']) {
    assert.match(help, new RegExp(`^\\.${c}\\b`, 'm'), `.help lists .${c}`);
  }
  assertSameRun(both(null, ['DB', '.nosuchcommand']), 'unknown command');
});

test('.vectors lists the vector indexes of the database', () => {
  const db = join(dir, 'vectors.db');
  removeDb(db);
  const setup = heliosdb([
    db,
    'CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT, emb BLOB)',
    "INSERT INTO docs(body, emb) VALUES ('a', vector('[1,0,0]')), ('b', vector('[0,1,0]'))",
    `SELECT vector_index_create('docs_emb', 'docs', 'emb', '{"metric":"cosine"}')`,
  ]);
  assert.equal(setup.status, 0, setup.stderr);
  const r = heliosdb(['-csv', db, '.vectors']);
  assert.equal(r.status, 0, r.stderr);
  // -csv (the flag, unlike .mode csv) keeps LF line ends, as in the sqlite3 shell.
  const [head, row] = r.stdout.toString().split('\n');
  assert.equal(head, 'name,table,column,metric,dimensions,quantization,connectivity,expansion_add,expansion_search');
  assert.match(row, /^docs_emb,docs,emb,cosine,3,f32,/);
  const none = heliosdb(['-csv', db, '.vectors nomatch%']);
  assert.equal(none.stdout.length, 0);
});

test('.versions, .branches and .branch: time travel and branches from the shell (-timetravel, -branching, -branch)', () => {
  const db = join(dir, 'history.db');
  removeDb(db);
  const off = heliosdb([db, 'CREATE TABLE t(x)', '.versions']);
  assert.equal(off.status, 1);
  assert.match(off.stderr, /start heliosdb with -timetravel/);
  const on = heliosdb(['-timetravel', '-branching', '-csv', db, 'INSERT INTO t VALUES (1)', 'INSERT INTO t VALUES (2)', '.versions']);
  assert.equal(on.status, 0, on.stderr);
  const versions = on.stdout.toString().trim().split('\n');
  assert.equal(versions[0], 'version,timestamp,txn_id,pages');
  const last = Number(versions.at(-1)?.split(',')[0]);
  // Once on, the database keeps it: no flag needed.
  const past = heliosdb([db, `SELECT count(*) FROM t AS OF VERSION ${last - 1}`, '.branch create exp', '.branch checkout exp', 'INSERT INTO t VALUES (3)']);
  assert.equal(past.stdout.toString(), '1\n', past.stderr);
  assert.equal(past.status, 0, past.stderr);
  const br = heliosdb(['-csv', db, '.branches', '.branch diff exp', '.branch merge exp', 'SELECT group_concat(x) FROM t']);
  assert.equal(br.status, 0, br.stderr);
  const out = br.stdout.toString();
  assert.match(out, /^name,parent,base,created,current\nmain,,,,1\nexp,main,\d+,[^,]+,0\n/);
  assert.match(out, /table,added,changed,removed\nt,1,0,0\n/);
  assert.match(out, /merged 1 row changes into main, 0 conflicts \(abort\)\n/);
  assert.match(out, /"1,2,3"\n$/);
  const onBranch = heliosdb(['-branch', 'exp', db, 'SELECT count(*) FROM t']);
  assert.equal(onBranch.stdout.toString(), '3\n', onBranch.stderr);
  const restore = heliosdb([db, `.versions restore ${last}`, 'SELECT count(*) FROM t', '.databases']);
  assert.equal(restore.status, 0, restore.stderr);
  // The past-version schemas AS OF attaches are the engine's own: .databases leaves them out.
  assert.match(restore.stdout.toString(), /^restored as version \d+\n2\nmain: \S+history\.db r\/w\n$/);
});

test('a closed pipe ends the output quietly (heliosdb … | head -1)', async () => {
  const child = spawn(process.execPath, [BIN, ':memory:', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000000) SELECT x FROM c'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  assert.equal(err, '');
  assert.equal(status, 0);
});

test('SIGINT stops a running statement in batch mode: "interrupted" on stderr, the rest of the script skipped', async () => {
  const child = spawn(process.execPath, [BIN, ':memory:'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.write("SELECT 'started';\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\nSELECT 'not reached';\n");
  child.stdin.end();
  while (!out.includes('started')) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
  const sent = Date.now();
  child.kill('SIGINT');
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  assert.ok(Date.now() - sent < 5000, 'stops promptly');
  assert.equal(err, 'Runtime error near line 2: interrupted (9)\n');
  assert.equal(out, 'started\n');
  assert.equal(status, 1);
});
