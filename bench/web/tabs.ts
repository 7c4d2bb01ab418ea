/**
 * tabs.html: one tab of the concurrent-tabs benchmark on our side. Every tab
 * opens the same `opfs://tabs.db` (one browser profile: the tabs elect one
 * leader, which serves the others) with `isolation_level: null`, so each
 * insert is its own durable autocommit transaction, awaited from the main
 * thread before the next.
 */
import * as sqlite3 from 'heliosdb-nano';
import { CONCURRENT_INSERT, CONCURRENT_SCHEMA } from '../lib/concurrent-workload.js';
import type { TabSettings, TabsApi, TabsVerify } from './page-api.js';
import { insertRows } from './tab-run.js';

const DATABASE = 'opfs://tabs.db';

let conn: sqlite3.Connection | null = null;

function c(): sqlite3.Connection {
  if (conn === null) throw new Error('open() first');
  return conn;
}

async function one(sql: string): Promise<unknown> {
  return ((await (await c().execute(sql)).fetchone()) as unknown[])[0];
}

const api: TabsApi = {
  ready: true,
  system: 'heliosdb',
  async open(create: boolean): Promise<TabSettings> {
    conn = await sqlite3.connect(DATABASE, { isolation_level: null });
    if (create) await conn.execute(CONCURRENT_SCHEMA);
    return {
      journalMode: String(await one('PRAGMA journal_mode')),
      synchronous: Number(await one('PRAGMA synchronous')),
      busyTimeoutMs: Math.round(c().timeout * 1000),
      storage: c().storage,
    };
  },
  async run(tab, rows, startAt) {
    const cur = c().cursor();
    return insertRows(tab, rows, startAt, (row) => cur.execute(CONCURRENT_INSERT, row));
  },
  async verify(): Promise<TabsVerify> {
    const pairs = (await (await c().execute('SELECT writer, seq FROM events')).fetchall()) as [number, number][];
    return { rowsPresent: pairs.length, pairs, integrity: String(await one('PRAGMA integrity_check')) };
  },
  async close() {
    await conn?.close();
    conn = null;
  },
};
window.heliosBenchTabs = api;
document.title = 'heliosdb-nano tabs benchmark: ready';
