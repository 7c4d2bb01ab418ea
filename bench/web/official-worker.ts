/**
 * One tab's worker on the official side of the concurrent-tabs benchmark:
 * `@sqlite.org/sqlite-wasm` with its `opfs` VFS (`sqlite3.oo1.OpfsDb`; the
 * VFS needs SharedArrayBuffer and Atomics.wait, so the page must be
 * cross-origin isolated), one connection per tab on the same `/tabs.db`,
 * inserting with a prepared statement, each insert its own autocommit
 * transaction.
 */
import init, { type Database, type PreparedStatement, type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { CONCURRENT_INSERT, CONCURRENT_SCHEMA } from '../lib/concurrent-workload.js';
import type { TabSettings, TabsVerify } from './page-api.js';
import type { OfficialRequest, OfficialResults } from './official-protocol.js';
import { insertRows } from './tab-run.js';
import { serveRequests } from './worker-client.js';

const FILE = '/tabs.db';

let sqlite3: Sqlite3Static | null = null;
let db: Database | null = null;

function open(): Database {
  if (db === null) throw new Error('open first');
  return db;
}

async function openDb(create: boolean, busyTimeoutMs: number): Promise<TabSettings> {
  const s = (sqlite3 ??= await init());
  const OpfsDb = s.oo1.OpfsDb as typeof s.oo1.OpfsDb | undefined;
  if (OpfsDb === undefined) {
    throw new Error(`the official opfs VFS is not available here (crossOriginIsolated=${String(globalThis.crossOriginIsolated)})`);
  }
  const d = (db = new OpfsDb(FILE, 'c'));
  d.exec(`PRAGMA busy_timeout=${busyTimeoutMs}`);
  if (create) {
    d.exec('PRAGMA journal_mode=DELETE');
    d.exec('PRAGMA synchronous=FULL');
    d.exec(CONCURRENT_SCHEMA);
  }
  return {
    journalMode: String(d.selectValue('PRAGMA journal_mode')),
    synchronous: Number(d.selectValue('PRAGMA synchronous')),
    busyTimeoutMs: Number(d.selectValue('PRAGMA busy_timeout')),
    storage: 'opfs',
  };
}

async function run(tab: number, rows: number, startAt: number): Promise<OfficialResults['run']> {
  const d = open();
  let st: PreparedStatement = d.prepare(CONCURRENT_INSERT);
  try {
    return await insertRows(tab, rows, startAt, (row) => {
      try {
        st.bind(row).stepReset();
      } catch (e) {
        // A failed step leaves the statement mid-way: start over with a fresh one.
        st.finalize();
        st = d.prepare(CONCURRENT_INSERT);
        throw e;
      }
    });
  } finally {
    st.finalize();
  }
}

function verify(): TabsVerify {
  const d = open();
  const pairs = d.selectArrays('SELECT writer, seq FROM events') as [number, number][];
  return { rowsPresent: pairs.length, pairs, integrity: String(d.selectValue('PRAGMA integrity_check')) };
}

serveRequests<OfficialRequest>((req) => {
  switch (req.t) {
    case 'open':
      return openDb(req.create, req.busyTimeoutMs);
    case 'run':
      return run(req.tab, req.rows, req.startAt);
    case 'verify':
      return verify();
    case 'close':
      db?.close();
      db = null;
      return null;
  }
});
