/**
 * heliosdb-nano for browsers: the same API as in Node, with the engine in a
 * dedicated worker (started on the first `connect()`), storage on OPFS or
 * IndexedDB, and results streamed back in batches.
 *
 * @example
 * ```ts
 * import * as sqlite3 from 'heliosdb-nano';
 * const conn = await sqlite3.connect('opfs://app.db');
 * await conn.execute('CREATE TABLE IF NOT EXISTS notes(body TEXT)');
 * console.log(conn.storage); // 'opfs'
 * ```
 */
import './client/browser-runtime.js';

export * from './exports.js';
