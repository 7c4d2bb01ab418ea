/**
 * The conformance page: the core API, driven from the main thread of a real
 * browser through the package's plain import (exactly as an app would), on
 * each storage backend. Every check returns what it observed; the assertions
 * live in e2e/conformance.e2e.ts.
 */
import * as sqlite3 from 'heliosdb-nano';
import type { Backend, E2EApi, JsonCell, Outcome, Report, SourceKind } from '../protocol.js';
import { CHECKS, all, outcome, type Connection } from './checks.js';

const DATABASE: Readonly<Record<Backend, string>> = {
  opfs: 'opfs://conformance.db',
  idb: 'idb://conformance.db',
  memory: ':memory:',
};

async function conformance(backend: Backend): Promise<Report> {
  const report: Report = {};
  const connected = await outcome(() => sqlite3.connect(DATABASE[backend]));
  report.connect = connected.ok ? { ok: true, value: 'connected' } : connected;
  if (!connected.ok) return report;
  const conn = connected.value as Connection;
  try {
    for (const [name, check] of CHECKS) report[name] = await outcome(() => check(conn));
  } finally {
    await conn.close();
  }
  return report;
}

async function writeRows(database: string, token: string): Promise<JsonCell[][]> {
  const conn = await sqlite3.connect(database);
  try {
    await conn.executescript(`
      DROP TABLE IF EXISTS kv;
      CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT NOT NULL, b BLOB, n INTEGER);
    `);
    await conn.executemany(
      'INSERT INTO kv(k, v, b, n) VALUES (?, ?, ?, ?)',
      Array.from({ length: 100 }, (_, i) => [i + 1, `${token}-${i + 1}`, new Uint8Array([i, 255 - i]), 2n ** 62n + BigInt(i)]),
    );
    await conn.commit();
    // Left uncommitted: close() rolls it back, so it must not come back after the reload.
    await conn.execute('INSERT INTO kv(k, v) VALUES (?, ?)', [1000, 'uncommitted']);
    return await all(conn, 'SELECT k, v, b, n FROM kv WHERE k < 1000 ORDER BY k');
  } finally {
    await conn.close();
  }
}

async function readRows(database: string): Promise<JsonCell[][]> {
  const conn = await sqlite3.connect(database);
  try {
    return await all(conn, 'SELECT k, v, b, n FROM kv ORDER BY k');
  } finally {
    await conn.close();
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function exportDatabase(database: string): Promise<string> {
  const conn = await sqlite3.connect(database);
  try {
    const bytes = await conn.serialize();
    if (!(bytes instanceof Uint8Array)) throw new globalThis.Error(`serialize() gave ${Object.prototype.toString.call(bytes)}`);
    return toBase64(bytes);
  } finally {
    await conn.close();
  }
}

function source(bytes: Uint8Array<ArrayBuffer>, kind: SourceKind): Uint8Array | ArrayBuffer | Blob | File | Response {
  switch (kind) {
    case 'uint8array':
      return bytes;
    case 'arraybuffer':
      return bytes.buffer;
    case 'blob':
      return new Blob([bytes]);
    case 'file':
      return new File([bytes], 'imported.db', { type: 'application/vnd.sqlite3' });
    case 'response':
      return new Response(bytes);
  }
}

async function importDatabase(database: string, base64: string, kind: SourceKind, table: string): Promise<Outcome> {
  return outcome(async () => {
    await sqlite3.import_database(database, source(fromBase64(base64), kind));
    const conn = await sqlite3.connect(database);
    try {
      return { storage: conn.storage, rows: await all(conn, `SELECT * FROM "${table}" ORDER BY 1`) };
    } finally {
      await conn.close();
    }
  });
}

async function storageOf(database: string): Promise<string> {
  const conn = await sqlite3.connect(database);
  try {
    return conn.storage;
  } finally {
    await conn.close();
  }
}

const api: E2EApi = {
  ready: true,
  conformance,
  storageOf,
  storageInfo: () => sqlite3.storage_info(),
  writeRows,
  readRows,
  exportDatabase,
  importDatabase,
};
window.heliosE2E = api;
document.title = 'heliosdb-nano conformance: ready';
