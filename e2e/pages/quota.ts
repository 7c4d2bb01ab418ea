/**
 * The quota page: fills a database past the origin's (lowered) storage quota
 * and reports what the API raised and what the database holds afterwards.
 */
import * as sqlite3 from 'heliosdb-nano';

function noise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

async function state(conn: sqlite3.Connection): Promise<{ rows: number; integrity: unknown }> {
  const rows = ((await (await conn.execute('SELECT count(*) FROM t')).fetchone()) as number[])[0];
  const integrity = ((await (await conn.execute('PRAGMA integrity_check')).fetchone()) as unknown[])[0];
  return { rows, integrity };
}

const api = {
  ready: true as const,
  /** Commits 5 small rows, then tries to commit `bytes` of incompressible data. */
  async overfill(database: string, bytes: number): Promise<unknown> {
    const conn = await sqlite3.connect(database);
    await conn.execute('CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, b BLOB)');
    await conn.executemany('INSERT INTO t(b) VALUES (?)', [[noise(100)], [noise(100)], [noise(100)], [noise(100)], [noise(100)]]);
    await conn.commit();
    const info = await sqlite3.storage_info();
    let error: unknown = null;
    try {
      await conn.execute('INSERT INTO t(b) VALUES (?)', [noise(bytes)]);
      await conn.commit();
    } catch (e) {
      error = { name: (e as Error).name, message: (e as Error).message, errorname: (e as sqlite3.DatabaseError).sqlite_errorname ?? null };
    }
    let after: unknown;
    try {
      after = await state(conn);
    } catch (e) {
      after = { error: `${(e as Error).name}: ${(e as Error).message}` };
    }
    await conn.close().catch(() => undefined);
    return { error, after, quota: info.quota, usage: info.usage };
  },
  async read(database: string): Promise<unknown> {
    const conn = await sqlite3.connect(database);
    try {
      return await state(conn);
    } finally {
      await conn.close();
    }
  },
};

(window as unknown as { heliosQuota: typeof api }).heliosQuota = api;
