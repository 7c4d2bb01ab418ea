/**
 * heliosdb-nano: SQLite in WebAssembly with the `sqlite3` module's API, async.
 *
 * @example
 * ```ts
 * import * as sqlite3 from 'heliosdb-nano';
 * const conn = await sqlite3.connect(':memory:');
 * const cur = await conn.execute('SELECT ? + 1', [41]);
 * console.log(await cur.fetchone()); // [42]
 * await conn.close();
 * ```
 */
import './api/node-opener.js';

export * from './exports.js';
