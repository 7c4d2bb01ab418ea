/**
 * The time-travel page: from the main-thread API, on the storage the
 * database name picks, writes versions (enough to make the engine checkpoint
 * into its history file), reads them back with AS OF, restores one, makes a
 * branch, writes on it, diffs and merges it; after a reload, reads the same
 * versions and branches back. Everything returned is plain JSON.
 */
import * as sqlite3 from 'heliosdb-nano';
import type { ErrorInfo } from '../protocol.js';
import { thrown } from './checks.js';

type Connection = Awaited<ReturnType<typeof sqlite3.connect>>;
const OPTIONS = { enable_time_travel: true, enable_branching: true, isolation_level: null } as const;

async function rows(c: Connection, sql: string, params?: unknown[]): Promise<unknown[][]> {
  return (await (await c.execute(sql, params)).fetchall()) as unknown[][];
}

async function count(c: Connection, sql: string): Promise<number> {
  return Number((await rows(c, sql))[0][0]);
}

export interface WriteReport {
  storage: string;
  versions: number[];
  /** Row count AS OF each version, in order. */
  counts: number[];
  byTimestamp: number;
  future: ErrorInfo | 'did not throw';
  restoredVersion: number;
  afterRestore: number;
  branch: { rows: number; mainRows: number; diff: unknown; merged: number; mainAfterMerge: number; branches: string[] };
  /** On OPFS: bytes of the history file (-1 when absent or not on OPFS). */
  historyBytes: number;
}

/** Size of an OPFS file at the root, -1 when missing. */
async function opfsSize(name: string): Promise<number> {
  try {
    const root = await navigator.storage.getDirectory();
    const f = await (await root.getFileHandle(name)).getFile();
    return f.size;
  } catch {
    return -1;
  }
}

export interface ReadReport {
  versions: number[];
  counts: number[];
  branches: string[];
  branchRows: number;
}

async function asOfCounts(c: Connection, versions: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const v of versions) out.push(await count(c, `SELECT count(*) FROM t AS OF VERSION ${v}`));
  return out;
}

const api = {
  ready: true as const,

  async write(database: string): Promise<WriteReport> {
    const c = await sqlite3.connect(database, OPTIONS);
    try {
      await c.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)');
      const versions: number[] = [];
      for (let i = 0; i < 4; i++) {
        await c.execute('INSERT INTO t(pad) VALUES (zeroblob(10))');
        versions.push((await c.versions()).at(-1)?.version as number);
      }
      const stamp = (await c.versions()).at(-1)?.timestamp as string;
      await new Promise((r) => setTimeout(r, 20));
      // More than the 8 MiB log threshold: the engine checkpoints, moving these versions into the history file.
      await c.execute('BEGIN');
      for (let i = 0; i < 150; i++) await c.execute('INSERT INTO t(pad) VALUES (randomblob(65536))');
      await c.execute('COMMIT');
      await c.execute('DELETE FROM t WHERE id > 4');
      versions.push((await c.versions()).at(-1)?.version as number);
      const counts = await asOfCounts(c, versions);
      const byTimestamp = await count(c, `SELECT count(*) FROM t AS OF TIMESTAMP '${stamp}'`);
      const future = await thrown(() => c.execute("SELECT * FROM t AS OF TIMESTAMP '2999-01-01'"));
      const restoredVersion = await c.restore_to(versions[1]);
      const afterRestore = await count(c, 'SELECT count(*) FROM t');
      await c.restore_to(restoredVersion - 1);
      await c.create_branch('feature');
      const b = await sqlite3.connect(database, { ...OPTIONS, branch: 'feature' });
      await b.execute('INSERT INTO t(pad) VALUES (NULL)');
      await b.execute('DELETE FROM t WHERE id = 1');
      const branchRows = await count(b, 'SELECT count(*) FROM t');
      await b.close();
      const mainRows = await count(c, 'SELECT count(*) FROM t');
      const diff = await c.diff_branch('feature');
      const merged = (await c.merge_branch('feature')).merged;
      const mainAfterMerge = await count(c, 'SELECT count(*) FROM t');
      const historyBytes = c.storage === 'opfs' ? await opfsSize(`${database.slice('opfs://'.length)}-hhist`) : -1;
      const branches = (await c.list_branches()).map((x) => x.name);
      return {
        storage: c.storage,
        versions,
        counts,
        byTimestamp,
        future,
        restoredVersion,
        afterRestore,
        branch: { rows: branchRows, mainRows, diff, merged, mainAfterMerge, branches },
        historyBytes,
      };
    } finally {
      await c.close();
    }
  },

  async read(database: string, versions: number[]): Promise<ReadReport> {
    const c = await sqlite3.connect(database, OPTIONS);
    try {
      const kept = (await c.versions()).map((v) => v.version);
      const counts = await asOfCounts(c, versions);
      const branches = (await c.list_branches()).map((x) => x.name);
      await c.checkout_branch('feature');
      const branchRows = await count(c, 'SELECT count(*) FROM t');
      return { versions: kept, counts, branches, branchRows };
    } finally {
      await c.close();
    }
  },
};

(window as unknown as { heliosVersions: typeof api }).heliosVersions = api;
