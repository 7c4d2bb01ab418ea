/**
 * Storage selection and file import in the in-process runtime: database names
 * with a storage scheme, `conn.storage`, `import_database`, `storage_info`.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';

const dir = mkdtempSync(join(tmpdir(), 'heliosdb-storage-'));
let n = 0;
const fresh = (): string => join(dir, `db${++n}.db`);

function pythonDb(path: string, sql: string): void {
  execFileSync('python3', ['-c', 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.close()', path, sql]);
}

describe('storage', () => {
  test('conn.storage names where the database lives', async () => {
    await using file = await sqlite3.connect(fresh());
    assert.equal(file.storage, 'node');
    await using mem = await sqlite3.connect(':memory:');
    assert.equal(mem.storage, 'memory');
  });

  test('memory://name is one in-memory database shared by the connections that name it', async () => {
    await using a = await sqlite3.connect('memory://shared-test');
    await using b = await sqlite3.connect('memory://shared-test');
    assert.equal(a.storage, 'memory');
    await a.execute('CREATE TABLE t(x)');
    await a.execute('INSERT INTO t VALUES (1)');
    await a.commit();
    assert.deepEqual(await (await b.execute('SELECT x FROM t')).fetchall(), [[1]]);
  });

  test('a storage this runtime lacks is refused with NotSupportedError naming the ones it has', async () => {
    await assert.rejects(sqlite3.connect('opfs://app.db'), (e: unknown) => {
      assert.ok(e instanceof sqlite3.NotSupportedError);
      assert.match((e as Error).message, /opfs:\/\/ storage is not available here \(available: node/);
      return true;
    });
  });

  test('import_database stores a .db file made elsewhere; it opens with its rows', async () => {
    const made = fresh();
    pythonDb(made, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ('from python'), ('two');");
    const target = fresh();
    await sqlite3.import_database(target, readFileSync(made));
    await using c = await sqlite3.connect(target);
    assert.deepEqual(await (await c.execute('SELECT v FROM t ORDER BY id')).fetchall(), [['from python'], ['two']]);
    // From a Blob and from a Response too.
    const viaBlob = fresh();
    await sqlite3.import_database(viaBlob, new Blob([readFileSync(made)]));
    const viaResponse = fresh();
    await sqlite3.import_database(viaResponse, new Response(readFileSync(made)));
    for (const p of [viaBlob, viaResponse]) {
      await using d = await sqlite3.connect(p);
      assert.equal(((await (await d.execute('SELECT count(*) FROM t')).fetchone()) as unknown[])[0], 2);
    }
  });

  test('import_database replaces older contents and their commit log; a WAL-mode file comes in as rollback mode', async () => {
    const made = fresh();
    pythonDb(made, "PRAGMA journal_mode=WAL; CREATE TABLE t(v); INSERT INTO t VALUES ('new');");
    const target = fresh();
    pythonDb(target, "CREATE TABLE old(v); INSERT INTO old VALUES ('old');");
    // A stale commit log beside the target must not be replayed onto the imported file.
    writeFileSync(`${target}-hlog`, new Uint8Array(4096).fill(9));
    await sqlite3.import_database(target, readFileSync(made));
    assert.equal(existsSync(`${target}-hlog`), false);
    await using c = await sqlite3.connect(target);
    assert.deepEqual(await (await c.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")).fetchall(), [['t']]);
    assert.deepEqual(await (await c.execute('PRAGMA journal_mode')).fetchall(), [['memory']]);
    assert.deepEqual(await (await c.execute('SELECT v FROM t')).fetchall(), [['new']]);
  });

  test('import_database refuses bytes that are not a database, and a database that is open', async () => {
    const target = fresh();
    await assert.rejects(sqlite3.import_database(target, new TextEncoder().encode('not a database, just text')), sqlite3.DatabaseError);
    assert.equal(existsSync(target), false, 'nothing was written');
    await using c = await sqlite3.connect(target);
    await c.execute('CREATE TABLE t(x)');
    await c.commit();
    const made = fresh();
    pythonDb(made, 'CREATE TABLE other(y);');
    await assert.rejects(sqlite3.import_database(target, readFileSync(made)), (e: unknown) => {
      assert.ok(e instanceof sqlite3.OperationalError);
      assert.match((e as Error).message, /is open; close its connections first/);
      return true;
    });
    await assert.rejects(sqlite3.import_database(target, 42 as unknown as Uint8Array), sqlite3.ProgrammingError);
  });

  test('storage_info reports usage and quota', async () => {
    const info = await sqlite3.storage_info();
    assert.ok(info.quota > 0 && info.usage >= 0 && info.usage <= info.quota);
    assert.equal(info.persisted, true);
  });
});
