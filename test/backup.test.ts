/**
 * Online backup, serialize/deserialize and iterdump round trips, organised like
 * CPython's Lib/test/test_sqlite3/test_backup.py. Files written here are checked by
 * the machine's Python `sqlite3` module (native SQLite) as an independent reader.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';
import type { Connection } from 'heliosdb-nano';
import { rejectsWith } from './helpers/assert-errors.js';

let dir = '';
let fileCounter = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heliosdb-backup-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function tempPath(name: string): string {
  return join(dir, `${++fileCounter}-${name}.db`);
}

/** What Python's sqlite3 sees in a database file: integrity_check and every table's rows as typed text. */
interface PythonView {
  integrity: string;
  tables: Record<string, Array<Array<[string, string | null]>>>;
  schema: Array<[string, string]>;
}

const PYTHON_VIEW = `
import sqlite3, sys, json
con = sqlite3.connect(sys.argv[1])
out = {'integrity': con.execute('PRAGMA integrity_check').fetchone()[0], 'tables': {}, 'schema': []}
out['schema'] = [list(r) for r in con.execute("SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")]
for (name,) in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall():
    cols = [r[1] for r in con.execute('PRAGMA table_info("%s")' % name)]
    parts = ', '.join("typeof(\\"%s\\"), CASE typeof(\\"%s\\") WHEN 'blob' THEN hex(\\"%s\\") ELSE CAST(\\"%s\\" AS TEXT) END" % (c, c, c, c) for c in cols)
    rows = []
    for r in con.execute('SELECT %s FROM "%s" ORDER BY rowid' % (parts, name)):
        rows.append([[r[i], r[i + 1]] for i in range(0, len(r), 2)])
    out['tables'][name] = rows
con.close()
print(json.dumps(out))
`;

function pythonView(path: string): PythonView {
  const r = spawnSync('python3', ['-c', PYTHON_VIEW, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, `python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PythonView;
}

/** The same view, computed through our connection. */
async function ourView(conn: Connection): Promise<PythonView> {
  const q = async (sql: string): Promise<unknown[][]> => (await (await conn.execute(sql)).fetchall()) as unknown[][];
  const out: PythonView = { integrity: String((await q('PRAGMA integrity_check'))[0][0]), tables: {}, schema: [] };
  out.schema = (await q("SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")) as Array<
    [string, string]
  >;
  for (const [name] of await q("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
    const cols = (await q(`PRAGMA table_info("${String(name)}")`)).map((r) => String(r[1]));
    const parts = cols
      .map((c) => `typeof("${c}"), CASE typeof("${c}") WHEN 'blob' THEN hex("${c}") ELSE CAST("${c}" AS TEXT) END`)
      .join(', ');
    const rows = await q(`SELECT ${parts} FROM "${String(name)}" ORDER BY rowid`);
    out.tables[String(name)] = rows.map((r) => {
      const cells: Array<[string, string | null]> = [];
      for (let i = 0; i < r.length; i += 2) cells.push([String(r[i]), r[i + 1] as string | null]);
      return cells;
    });
  }
  return out;
}

/** Fills a database with a mix of objects and value types. */
async function populate(conn: Connection, rows = 40): Promise<void> {
  await conn.executescript(`
    CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, big INTEGER, avatar BLOB);
    CREATE INDEX people_name ON people(name);
    CREATE VIEW high AS SELECT name FROM people WHERE score > 50;
    CREATE TABLE audit(msg TEXT);
    CREATE TRIGGER people_ins AFTER INSERT ON people BEGIN INSERT INTO audit VALUES ('added ' || new.name); END;
  `);
  await conn.executemany(
    'INSERT INTO people(name, score, big, avatar) VALUES (?, ?, ?, ?)',
    Array.from({ length: rows }, (_, i) => [
      `person ${i} ✓ ü`,
      i * 1.5,
      2n ** 60n + BigInt(i),
      new Uint8Array(Array.from({ length: 300 }, (_, j) => (i + j) & 0xff)),
    ]),
  );
  await conn.commit();
}

async function dump(conn: Connection): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of conn.iterdump()) lines.push(line);
  return lines;
}

async function integrity(conn: Connection): Promise<unknown> {
  const row = await (await conn.execute('PRAGMA integrity_check')).fetchone();
  return (row as unknown[])[0];
}


describe('backup', () => {
  test('file → memory copies everything', async () => {
    const path = tempPath('source');
    await using src = await sqlite3.connect(path);
    await populate(src);
    await using dst = await sqlite3.connect(':memory:');
    await dst.execute('CREATE TABLE leftover(x)');
    await dst.commit();
    await src.backup(dst);
    assert.equal(await integrity(dst), 'ok');
    assert.deepEqual(await ourView(dst), await ourView(src));
    assert.deepEqual(await dump(dst), await dump(src));
    // The target's previous content is replaced.
    await rejectsWith(dst.execute('SELECT * FROM leftover'), sqlite3.OperationalError, 'no such table: leftover');
    const copied = await ourView(dst);
    // The copy is independent and fully usable (trigger included).
    await dst.execute("INSERT INTO people(name) VALUES ('new')");
    await dst.commit();
    const row = await (await dst.execute("SELECT count(*) FROM audit WHERE msg = 'added new'")).fetchone();
    assert.deepEqual(row, [1]);
    const srcCount = await (await src.execute('SELECT count(*) FROM people')).fetchone();
    assert.deepEqual(srcCount, [40]);
    // Once closed, the source file alone holds everything: Python agrees with the copy.
    await src.close();
    const py = pythonView(path);
    assert.equal(py.integrity, 'ok');
    assert.deepEqual(py, copied);
  });

  test('memory → file, verified by Python', async () => {
    await using src = await sqlite3.connect(':memory:');
    await populate(src, 60);
    const path = tempPath('target');
    {
      await using dst = await sqlite3.connect(path);
      await dst.execute('CREATE TABLE old_stuff(x)');
      await dst.execute('INSERT INTO old_stuff VALUES (1)');
      await dst.commit();
      await src.backup(dst);
      assert.equal(await integrity(dst), 'ok');
    }
    const py = pythonView(path);
    assert.equal(py.integrity, 'ok');
    assert.deepEqual(py, await ourView(src));
    assert.equal(py.tables['people'].length, 60);
    assert.deepEqual(py.tables['people'][3][3], ['integer', String(2n ** 60n + 3n)]);
    assert.deepEqual(py.schema, [
      ['index', 'people_name'],
      ['table', 'audit'],
      ['table', 'people'],
      ['trigger', 'people_ins'],
      ['view', 'high'],
    ]);
    // Reopened by us, the file holds the same.
    await using again = await sqlite3.connect(path);
    assert.deepEqual(await dump(again), await dump(src));
  });

  test('pages: 1 calls progress with (status, remaining, total) until remaining is 0', async () => {
    await using src = await sqlite3.connect(':memory:');
    await src.execute('CREATE TABLE b(x)');
    await src.executemany('INSERT INTO b VALUES (?)', Array.from({ length: 50 }, () => [new Uint8Array(1000).fill(7)]));
    await src.commit();
    const [pageCount] = (await (await src.execute('PRAGMA page_count')).fetchone()) as number[];
    assert.ok(pageCount > 5, `page_count ${pageCount}`);
    await using dst = await sqlite3.connect(':memory:');
    const calls: Array<[number, number, number]> = [];
    await src.backup(dst, { pages: 1, progress: (status, remaining, total) => void calls.push([status, remaining, total]) });
    // One page per step: as many calls as pages (Python gives the same sequence).
    assert.equal(calls.length, pageCount);
    assert.deepEqual(calls[0], [sqlite3.SQLITE_OK, pageCount - 1, pageCount]);
    assert.deepEqual(calls.at(-1), [sqlite3.SQLITE_DONE, 0, pageCount]);
    for (let i = 0; i < calls.length; i++) {
      assert.equal(calls[i][1], pageCount - 1 - i);
      assert.equal(calls[i][0], i === calls.length - 1 ? sqlite3.SQLITE_DONE : sqlite3.SQLITE_OK);
    }
    assert.deepEqual(await (await dst.execute('SELECT count(*), sum(length(x)) FROM b')).fetchone(), [50, 50000]);
    // Several pages per step.
    const calls5: number[] = [];
    await using dst5 = await sqlite3.connect(':memory:');
    await src.backup(dst5, { pages: 5, progress: (_s, remaining) => void calls5.push(remaining) });
    assert.equal(calls5.length, Math.ceil(pageCount / 5));
    assert.equal(calls5.at(-1), 0);
    // Default (all pages at once): one call.
    const calls0: number[] = [];
    await using dst0 = await sqlite3.connect(':memory:');
    await src.backup(dst0, { progress: (status) => void calls0.push(status) });
    assert.deepEqual(calls0, [sqlite3.SQLITE_DONE]);
  });

  test('a progress callback that throws aborts the backup and leaves the target unchanged', async () => {
    await using src = await sqlite3.connect(':memory:');
    await populate(src);
    await using dst = await sqlite3.connect(':memory:');
    await dst.execute('CREATE TABLE keep(x)');
    await dst.commit();
    const stop = new Error('stop');
    await assert.rejects(
      src.backup(dst, {
        pages: 1,
        progress: () => {
          throw stop;
        },
      }),
      (e) => e === stop,
    );
    const names = await (await dst.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")).fetchall();
    assert.deepEqual(names, [['keep']]);
    await rejectsWith(
      src.backup(dst, { progress: 5 as unknown as null }),
      sqlite3.ProgrammingError,
      'progress argument must be a callable',
    );
  });

  test("name: 'temp' copies the temp database", async () => {
    await using src = await sqlite3.connect(':memory:');
    await src.execute('CREATE TEMP TABLE tt(x)');
    await src.execute("INSERT INTO tt VALUES ('temporary')");
    await src.execute('CREATE TABLE main_only(z)');
    await src.commit();
    await using fromTemp = await sqlite3.connect(':memory:');
    await src.backup(fromTemp, { name: 'temp' });
    assert.deepEqual(await (await fromTemp.execute('SELECT x FROM main.tt')).fetchall(), [['temporary']]);
    await rejectsWith(fromTemp.execute('SELECT * FROM main_only'), sqlite3.OperationalError, 'no such table: main_only');
    await rejectsWith(src.backup(fromTemp, { name: 'nope' }), sqlite3.OperationalError, 'unknown database nope');
  });

  test('name: an attached database', async () => {
    // The source is a file connection: it attaches other files on the same storage.
    await using src = await sqlite3.connect(tempPath('main'));
    await src.execute('CREATE TABLE main_only(z)');
    await src.commit();
    await src.execute('ATTACH ? AS aux', [tempPath('aux')]);
    await src.execute('CREATE TABLE aux.at(y)');
    await src.executemany('INSERT INTO aux.at VALUES (?)', [[1], [2], [3]]);
    await src.commit();
    const auxCopy = tempPath('aux-copy');
    {
      await using fromAux = await sqlite3.connect(auxCopy);
      await src.backup(fromAux, { name: 'aux' });
      assert.deepEqual(await (await fromAux.execute('SELECT y FROM at ORDER BY y')).fetchall(), [[1], [2], [3]]);
      await rejectsWith(fromAux.execute('SELECT * FROM main_only'), sqlite3.OperationalError, 'no such table: main_only');
    }
    const py = pythonView(auxCopy);
    assert.equal(py.integrity, 'ok');
    assert.deepEqual(py.tables, { at: [[['integer', '1']], [['integer', '2']], [['integer', '3']]] });
    // An attached in-memory database works the same way.
    await src.execute("ATTACH ':memory:' AS mem");
    await src.execute('CREATE TABLE mem.m(v)');
    await src.execute("INSERT INTO mem.m VALUES ('in memory')");
    await src.commit();
    await using fromMem = await sqlite3.connect(':memory:');
    await src.backup(fromMem, { name: 'mem' });
    assert.deepEqual(await (await fromMem.execute('SELECT v FROM m')).fetchall(), [['in memory']]);
  });

  test('a target in a transaction raises OperationalError', async () => {
    await using src = await sqlite3.connect(':memory:');
    await populate(src, 3);
    await using dst = await sqlite3.connect(':memory:');
    await dst.execute('CREATE TABLE q(x)');
    await dst.execute('INSERT INTO q VALUES (1)');
    assert.equal(dst.in_transaction, true);
    // Python 3.11 reports SQLite's 'destination database is in use'; older versions 'target is in transaction'.
    await rejectsWith(src.backup(dst), sqlite3.OperationalError, /^(target is in transaction|destination database is in use)$/);
    // The target's transaction is untouched, and the backup works once it ends.
    assert.equal(dst.in_transaction, true);
    await dst.rollback();
    await src.backup(dst);
    assert.deepEqual(await dump(dst), await dump(src));
  });

  test('the same connection, or a closed one, raises ProgrammingError', async () => {
    await using src = await sqlite3.connect(':memory:');
    await populate(src, 2);
    await rejectsWith(src.backup(src), sqlite3.ProgrammingError, 'target cannot be the same connection instance');
    const closed = await sqlite3.connect(':memory:');
    await closed.close();
    await rejectsWith(src.backup(closed), sqlite3.ProgrammingError, 'Cannot operate on a closed database.');
    const closedSource = await sqlite3.connect(':memory:');
    await closedSource.close();
    await using dst = await sqlite3.connect(':memory:');
    await rejectsWith(closedSource.backup(dst), sqlite3.ProgrammingError, 'Cannot operate on a closed database.');
    await rejectsWith(src.backup({} as Connection), sqlite3.ProgrammingError, 'target must be a Connection');
  });
});

describe('serialize / deserialize', () => {
  test('round trip into a fresh connection; queries and writes work', async () => {
    await using src = await sqlite3.connect(':memory:');
    await populate(src, 25);
    const image = await src.serialize();
    assert.ok(image instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(image.subarray(0, 16)), 'SQLite format 3\0');
    const [pageCount] = (await (await src.execute('PRAGMA page_count')).fetchone()) as number[];
    const [pageSize] = (await (await src.execute('PRAGMA page_size')).fetchone()) as number[];
    assert.equal(image.length, pageCount * pageSize);

    await using copy = await sqlite3.connect(':memory:');
    await copy.deserialize(image);
    assert.equal(await integrity(copy), 'ok');
    assert.deepEqual(await dump(copy), await dump(src));
    // The image is resizable: it grows with new writes.
    await copy.executemany('INSERT INTO people(name, avatar) VALUES (?, ?)', Array.from({ length: 50 }, (_, i) => [`more ${i}`, new Uint8Array(2000)]));
    await copy.commit();
    assert.deepEqual(await (await copy.execute('SELECT count(*) FROM people')).fetchone(), [75]);
    assert.ok((await copy.serialize()).length > image.length);
    // The source is unaffected, and so is the image it handed out.
    assert.deepEqual(await (await src.execute('SELECT count(*) FROM people')).fetchone(), [25]);

    // The bytes are a real SQLite file: Python reads them.
    const path = tempPath('serialized');
    writeFileSync(path, image);
    const py = pythonView(path);
    assert.equal(py.integrity, 'ok');
    assert.deepEqual(py, await ourView(src));
  });

  test('deserialize replaces the existing content and accepts an ArrayBuffer', async () => {
    await using a = await sqlite3.connect(':memory:');
    await a.execute('CREATE TABLE only_in_a(x)');
    await a.execute("INSERT INTO only_in_a VALUES ('a')");
    await a.commit();
    await using b = await sqlite3.connect(':memory:');
    await b.execute('CREATE TABLE only_in_b(y)');
    await b.commit();
    const bytes = await a.serialize();
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    await b.deserialize(copy as ArrayBuffer);
    assert.deepEqual(await (await b.execute('SELECT x FROM only_in_a')).fetchall(), [['a']]);
    await rejectsWith(b.execute('SELECT * FROM only_in_b'), sqlite3.OperationalError, 'no such table: only_in_b');
  });

  test('deserialize of garbage: the next query raises DatabaseError', async () => {
    await using conn = await sqlite3.connect(':memory:');
    const garbage = new TextEncoder().encode('garbage'.repeat(100));
    // SQLite 3.54 may refuse the image at once; older versions (Python 3.11's) on the next query.
    const err = await rejectsWith(
      (async () => {
        await conn.deserialize(garbage);
        await conn.execute('SELECT * FROM sqlite_schema');
      })(),
      sqlite3.DatabaseError,
      'file is not a database',
    );
    assert.equal(err.constructor, sqlite3.DatabaseError);
    assert.equal((err as sqlite3.DatabaseError).sqlite_errorcode, sqlite3.SQLITE_NOTADB);
    // The connection still closes cleanly, and the same engine loads a valid image into a fresh one.
    // (Python 3.11 can deserialize a valid image over the garbage; SQLite 3.54's sqlite3_deserialize
    // refuses with SQLITE_NOTADB once main holds garbage, so that is not tested here.)
    await conn.close();
    assert.equal(conn.closed, true);
    await using good = await sqlite3.connect(':memory:');
    await good.execute('CREATE TABLE t(x)');
    await good.execute('INSERT INTO t VALUES (42)');
    await good.commit();
    await using fresh = await sqlite3.connect(':memory:');
    await fresh.deserialize(await good.serialize());
    assert.deepEqual(await (await fresh.execute('SELECT x FROM t')).fetchall(), [[42]]);
  });
});

describe('iterdump', () => {
  test('the dump replays into a new connection and yields the same dump', async () => {
    await using src = await sqlite3.connect(':memory:');
    await populate(src, 10);
    await src.executescript(`
      CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, v);
      INSERT INTO seq(v) VALUES ('it''s'), (NULL), (x'00ff'), (-0.5), (9223372036854775807);
      DELETE FROM seq WHERE id = 2;
    `);
    const lines = await dump(src);
    assert.equal(lines[0], 'BEGIN TRANSACTION;');
    assert.equal(lines.at(-1), 'COMMIT;');
    assert.ok(lines.includes('CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, v);'));
    assert.ok(lines.some((l) => l.startsWith('INSERT INTO "people" VALUES(1,')));
    await using replay = await sqlite3.connect(':memory:');
    await replay.executescript(lines.join('\n'));
    assert.deepEqual(await dump(replay), lines);
    assert.deepEqual(await ourView(replay), await ourView(src));
    // AUTOINCREMENT state survives: the next id continues after the old maximum.
    await replay.execute("INSERT INTO seq(v) VALUES ('next')");
    assert.deepEqual(await (await replay.execute("SELECT id FROM seq WHERE v = 'next'")).fetchone(), [6]);
    // Triggers were dumped after the data, so replay did not fire them twice.
    assert.deepEqual(
      await (await replay.execute('SELECT count(*) FROM audit')).fetchone(),
      await (await src.execute('SELECT count(*) FROM audit')).fetchone(),
    );
  });
});
