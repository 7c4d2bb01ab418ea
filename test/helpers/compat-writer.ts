/**
 * Child process for the compatibility tests: writes a database through the
 * public API in several commits, leaves one transaction uncommitted, prints
 * "ok <dump of the committed state as JSON>" and waits to be SIGKILLed
 * without ever closing, so that the committed data is only in the -hlog.
 */
import * as sqlite3 from 'heliosdb-nano';
import { dumpConnection } from './compat-oracle.js';

const [path] = process.argv.slice(2);

async function main(): Promise<void> {
  const c = await sqlite3.connect(path);
  await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL, r REAL, b BLOB)');
  await c.execute('CREATE INDEX t_v ON t(v)');
  await c.commit();
  for (let k = 0; k < 5; k++) {
    await c.executemany(
      'INSERT INTO t(v, r, b) VALUES (?, ?, ?)',
      Array.from({ length: 200 }, (_, i) => [`commit ${k} row ${i} ✓`, k + i / 7, new Uint8Array(300 + i).fill(k * 31 + i)]),
    );
    await c.commit();
  }
  await c.execute('UPDATE t SET v = v || \' (updated)\' WHERE id % 10 = 0');
  await c.execute('DELETE FROM t WHERE id % 17 = 0');
  await c.commit();
  const committed = await dumpConnection(c);
  // A second connection with a transaction that never commits.
  const u = await sqlite3.connect(path);
  await u.execute("INSERT INTO t(v) VALUES ('never committed')");
  await u.execute('CREATE TABLE never(x)');
  process.stdout.write(`ok ${JSON.stringify(committed)}\n`);
  // Keep both connections (and the process) alive until the parent kills it.
  setInterval(() => undefined, 1000);
}

main().catch((e: unknown) => {
  process.stderr.write(`compat-writer: ${String(e)}\n`);
  process.exit(1);
});
