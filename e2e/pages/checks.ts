/**
 * The conformance checks the page (conformance.ts) runs: each takes an open
 * connection, exercises one part of the core API (nothing browser-specific
 * but `conn.storage`) and returns what it observed as plain JSON
 * (protocol.ts). They run in order on one connection; later checks build on
 * earlier rows.
 */
import * as sqlite3 from 'heliosdb-nano';
import type { ErrorInfo, JsonCell, Outcome } from '../protocol.js';

export type Connection = Awaited<ReturnType<typeof sqlite3.connect>>;

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A SQL value as JSON (see protocol.ts). */
export function cell(v: unknown): JsonCell {
  if (typeof v === 'bigint') return { bigint: v.toString() };
  if (v instanceof Uint8Array) return { blob: hex(v) };
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return `unexpected ${Object.prototype.toString.call(v)}`;
}

export function cells(row: unknown): JsonCell[] {
  if (!Array.isArray(row)) return [`not an array: ${String(row)}`];
  return row.map(cell);
}

export function errorInfo(e: unknown): ErrorInfo {
  const err = e instanceof globalThis.Error ? e : new globalThis.Error(String(e));
  const extra = err as { sqlite_errorname?: unknown; sqlite_errorcode?: unknown };
  return {
    name: err.name,
    message: err.message,
    sqlite_errorname: typeof extra.sqlite_errorname === 'string' ? extra.sqlite_errorname : null,
    sqlite_errorcode: typeof extra.sqlite_errorcode === 'number' ? extra.sqlite_errorcode : null,
    is: {
      Error: err instanceof sqlite3.Error,
      DatabaseError: err instanceof sqlite3.DatabaseError,
      IntegrityError: err instanceof sqlite3.IntegrityError,
      OperationalError: err instanceof sqlite3.OperationalError,
      ProgrammingError: err instanceof sqlite3.ProgrammingError,
      DataError: err instanceof sqlite3.DataError,
    },
    stack: err.stack ?? '',
  };
}

/** What `fn` threw, or a marker that it did not throw. */
export async function thrown(fn: () => Promise<unknown>): Promise<ErrorInfo | 'did not throw'> {
  try {
    await fn();
    return 'did not throw';
  } catch (e) {
    return errorInfo(e);
  }
}

export async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  }
}

export async function all(conn: Connection, sql: string, params?: sqlite3.BindParams): Promise<JsonCell[][]> {
  const cur = await conn.execute(sql, params);
  return (await cur.fetchall()).map(cells);
}

export async function one(conn: Connection, sql: string, params?: sqlite3.BindParams): Promise<JsonCell[]> {
  const cur = await conn.execute(sql, params);
  return cells(await cur.fetchone());
}

/** The checks, in order; later ones build on the rows of earlier ones. */
export const CHECKS: ReadonlyArray<readonly [string, (conn: Connection) => Promise<unknown>]> = [
  ['storage', async (conn) => conn.storage],
  [
    'ddl',
    async (conn) => {
      await conn.executescript(`
        DROP TABLE IF EXISTS people; DROP TABLE IF EXISTS big; DROP TABLE IF EXISTS nums;
        DROP TABLE IF EXISTS blobs; DROP TABLE IF EXISTS dumpme;
        CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, score REAL);
        CREATE INDEX people_score ON people(score);
      `);
      return all(conn, "SELECT type, name FROM sqlite_schema WHERE name LIKE 'people%' ORDER BY name");
    },
  ],
  [
    'execute.qmark',
    async (conn) => {
      await conn.execute('INSERT INTO people(name, score) VALUES (?, ?)', ['ada', 1.5]);
      return all(conn, 'SELECT id, name, score FROM people WHERE name = ?', ['ada']);
    },
  ],
  [
    'execute.named',
    async (conn) => {
      await conn.execute('INSERT INTO people(name, score) VALUES (:name, :score)', { name: 'grace', score: 2.5 });
      const colon = await all(conn, 'SELECT name, score FROM people WHERE name = :n', { n: 'grace' });
      const dollar = await all(conn, 'SELECT name FROM people WHERE score > $min ORDER BY id', { min: 1 });
      const at = await all(conn, 'SELECT name FROM people WHERE id = @id', new Map([['id', 1]]));
      return { colon, dollar, at };
    },
  ],
  [
    'executemany',
    async (conn) => {
      const cur = await conn.executemany('INSERT INTO people(name, score) VALUES (?, ?)', [
        ['linus', 3],
        ['margaret', 4],
        ['ken', 5],
      ]);
      return { rowcount: cur.rowcount, count: await one(conn, 'SELECT count(*) FROM people') };
    },
  ],
  [
    'fetch',
    async (conn) => {
      const cur = await conn.execute('SELECT name FROM people ORDER BY id');
      const first = cells(await cur.fetchone());
      const many = (await cur.fetchmany(2)).map(cells);
      const rest = (await cur.fetchall()).map(cells);
      const end = await cur.fetchone();
      const after = await cur.fetchall();
      const cur2 = await conn.execute('SELECT name FROM people ORDER BY id');
      const defaultMany = (await cur2.fetchmany()).map(cells);
      cur2.arraysize = 3;
      const sizedMany = (await cur2.fetchmany()).map(cells);
      return { first, many, rest, end, after, defaultMany, sizedMany };
    },
  ],
  [
    'row_factory',
    async (conn) => {
      conn.row_factory = sqlite3.Row;
      try {
        const cur = await conn.execute('SELECT id, name AS Name, score FROM people WHERE id = 2');
        const row = await cur.fetchone();
        if (!(row instanceof sqlite3.Row)) return { isRow: false, got: String(row) };
        return {
          isRow: true,
          keys: row.keys(),
          byIndex: cell(row[1]),
          byName: cell(row['Name']),
          caseInsensitive: cell(row['NAME']),
          length: row.length,
          spread: [...row].map(cell),
        };
      } finally {
        conn.row_factory = null;
      }
    },
  ],
  [
    'transactions',
    async (conn) => {
      await conn.commit();
      const seen: unknown[] = [conn.in_transaction];
      await conn.execute("INSERT INTO people(name, score) VALUES ('rolled-back', 0)");
      seen.push(conn.in_transaction);
      await conn.rollback();
      seen.push(conn.in_transaction, (await one(conn, "SELECT count(*) FROM people WHERE name = 'rolled-back'"))[0]);
      await conn.execute("INSERT INTO people(name, score) VALUES ('committed', 6)");
      await conn.commit();
      seen.push(conn.in_transaction, (await one(conn, "SELECT count(*) FROM people WHERE name = 'committed'"))[0]);
      let viaTransaction: unknown = 'not run';
      await conn
        .transaction(async (c) => {
          await c.execute("INSERT INTO people(name, score) VALUES ('in-fn', 7)");
          throw new globalThis.Error('abort');
        })
        .catch((e: unknown) => {
          viaTransaction = e instanceof globalThis.Error ? e.message : String(e);
        });
      seen.push(viaTransaction, (await one(conn, "SELECT count(*) FROM people WHERE name = 'in-fn'"))[0], conn.in_transaction);
      return seen;
    },
  ],
  [
    'lastrowid-rowcount',
    async (conn) => {
      const ins = await conn.execute("INSERT INTO people(name, score) VALUES ('barbara', 8)");
      const id = (await one(conn, "SELECT id FROM people WHERE name = 'barbara'"))[0];
      const upd = await conn.execute('UPDATE people SET score = score + 1 WHERE score >= 4');
      const del = await conn.execute("DELETE FROM people WHERE name = 'barbara'");
      const sel = await conn.execute('SELECT * FROM people');
      await conn.commit();
      return { lastrowid: ins.lastrowid, id, insertRowcount: ins.rowcount, updateRowcount: upd.rowcount, deleteRowcount: del.rowcount, selectRowcount: sel.rowcount };
    },
  ],
  [
    'description',
    async (conn) => {
      const cur = await conn.execute('SELECT id, name AS who, score * 2 AS double_score FROM people LIMIT 1');
      const dml = await conn.execute("UPDATE people SET score = score WHERE name = 'nobody'");
      return { select: cur.description?.map((d) => [...d]) ?? null, dml: dml.description };
    },
  ],
  [
    'column-slots',
    async (conn) => {
      // More distinct result shapes than the page's table of column lists has slots (256), all
      // kept prepared, then the same statements again: each description names its own columns.
      await conn.set_cached_statements(1000);
      const cur = conn.cursor();
      const wrong: string[] = [];
      let checked = 0;
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 300; i++) {
          await cur.execute(`SELECT ${i} AS a${i}, ? AS b${i}`, [round]);
          const names = cur.description?.map((d) => d[0]).join(',');
          if (names !== `a${i},b${i}`) wrong.push(`round ${round}, statement ${i}: ${String(names)}`);
          checked++;
        }
      }
      await conn.set_cached_statements(128);
      // A statement prepared again with other columns (after ALTER TABLE) describes the new ones.
      const names = async (): Promise<string[] | null> => (await conn.execute('SELECT * FROM slots')).description?.map((d) => d[0]) ?? null;
      await conn.execute('CREATE TABLE slots(x)');
      const before = await names();
      await conn.execute('ALTER TABLE slots ADD COLUMN y');
      const after = await names();
      await conn.execute('DROP TABLE slots');
      return { checked, wrong, before, after };
    },
  ],
  [
    'integrity-error',
    async (conn) => {
      const err = await thrown(() => conn.execute("INSERT INTO people(name) VALUES ('ada')"));
      const notNull = await thrown(() => conn.execute('INSERT INTO people(name) VALUES (NULL)'));
      const usable = await one(conn, 'SELECT count(*) FROM people');
      await conn.rollback();
      return { err, notNull, usable };
    },
  ],
  [
    'operational-error',
    async (conn) => {
      const noTable = await thrown(() => conn.execute('SELECT * FROM no_such_table'));
      const syntax = await thrown(() => conn.execute('SELEKT 1'));
      return { noTable, syntax };
    },
  ],
  [
    'programming-error',
    async (conn) => {
      const bindings = await thrown(() => conn.execute('SELECT ?, ?', [1]));
      const twoStatements = await thrown(() => conn.execute('SELECT 1; SELECT 2'));
      return { bindings, twoStatements };
    },
  ],
  [
    'create_function',
    async (conn) => {
      // In the browser the function runs in the database worker (its source is shipped there),
      // so it uses only its arguments.
      await conn.create_function('twice', 1, (x) => Number(x) * 2, { deterministic: true });
      await conn.create_function('boom', 0, () => {
        throw new globalThis.Error('boom');
      });
      const value = await one(conn, 'SELECT twice(21), twice(score) FROM people WHERE id = 1');
      const raised = await thrown(() => conn.execute('SELECT boom()'));
      const after = await one(conn, 'SELECT twice(4)');
      return { value, raised, after };
    },
  ],
  [
    'create_aggregate',
    async (conn) => {
      class Longest {
        best = '';
        step(v: unknown): void {
          if (typeof v === 'string' && v.length > this.best.length) this.best = v;
        }
        finalize(): string {
          return this.best;
        }
      }
      await conn.create_aggregate('longest', 1, Longest);
      return one(conn, 'SELECT longest(name), count(*) FROM people');
    },
  ],
  [
    'iterdump',
    async (conn) => {
      await conn.executescript(`
        CREATE TABLE dumpme(a INTEGER PRIMARY KEY, b TEXT, c REAL, d BLOB);
        INSERT INTO dumpme VALUES (1, 'x', 0.5, NULL), (2, 'it''s', NULL, x'00ff');
      `);
      await conn.commit();
      const lines: string[] = [];
      for await (const line of conn.iterdump()) lines.push(line);
      return { first: lines[0], last: lines[lines.length - 1], dumpme: lines.filter((l) => l.includes('dumpme')) };
    },
  ],
  [
    'large-result',
    async (conn) => {
      const total = 50_000;
      await conn.execute('CREATE TABLE big(i INTEGER PRIMARY KEY, v TEXT)');
      const t0 = performance.now();
      const ins = await conn.executemany(
        'INSERT INTO big(i, v) VALUES (?, ?)',
        Array.from({ length: total }, (_, k) => [k + 1, `row-${k + 1}`]),
      );
      await conn.commit();
      const t1 = performance.now();
      const cur = await conn.execute('SELECT i, v FROM big ORDER BY i');
      cur.arraysize = 1000;
      let rows = 0;
      let batches = 0;
      let largestBatch = 0;
      let inOrder = true;
      for (;;) {
        const batch = await cur.fetchmany();
        if (batch.length === 0) break;
        batches++;
        largestBatch = Math.max(largestBatch, batch.length);
        for (const r of batch) {
          rows++;
          const [i, v] = r as unknown[];
          if (i !== rows || v !== `row-${rows}`) inOrder = false;
        }
      }
      const t2 = performance.now();
      let iterated = 0;
      for await (const _row of await conn.execute('SELECT i FROM big WHERE i % 10 = 0')) iterated++;
      return {
        inserted: ins.rowcount,
        rows,
        batches,
        largestBatch,
        inOrder,
        iterated,
        insertMs: Math.round(t1 - t0),
        fetchMs: Math.round(t2 - t1),
      };
    },
  ],
  [
    'bigint',
    async (conn) => {
      const values = [2n ** 62n + 7n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, 2n ** 53n - 1n, 42n];
      await conn.execute('CREATE TABLE nums(k INTEGER PRIMARY KEY, n INTEGER)');
      await conn.executemany('INSERT INTO nums(n) VALUES (?)', values.map((v) => [v]));
      await conn.commit();
      const back = (await (await conn.execute('SELECT n, typeof(n), CAST(n AS TEXT) FROM nums ORDER BY k')).fetchall()).map((r) => {
        const [n, type, text] = r as unknown[];
        return { js: typeof n, value: String(n), sqlType: type, sqlText: text };
      });
      const tooBig = await thrown(() => conn.execute('SELECT ?', [2n ** 64n]));
      const arithmetic = cells(await (await conn.execute('SELECT ? * 2', [2n ** 61n])).fetchone());
      return { back, tooBig, arithmetic };
    },
  ],
  [
    'blob',
    async (conn) => {
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      await conn.execute('CREATE TABLE blobs(k INTEGER PRIMARY KEY, b BLOB)');
      await conn.execute('INSERT INTO blobs(b) VALUES (?)', [bytes]);
      await conn.execute('INSERT INTO blobs(b) VALUES (?)', [new Uint8Array(0)]);
      await conn.execute('INSERT INTO blobs(b) VALUES (?)', [new Uint8Array([1, 2, 3]).buffer]);
      await conn.execute('INSERT INTO blobs(b) VALUES (?)', [new Uint16Array([0x0102, 0x0304])]);
      await conn.commit();
      const rows = (await (await conn.execute('SELECT b, typeof(b), length(b), hex(b) FROM blobs ORDER BY k')).fetchall()).map((r) => {
        const [b, type, length, sqlHex] = r as unknown[];
        return { isUint8Array: b instanceof Uint8Array, value: cell(b), sqlType: type, length, sqlHex };
      });
      const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
      const bigBack = (await (await conn.execute('SELECT ?', [big])).fetchone()) as unknown[];
      const got = bigBack[0];
      const bigSame = got instanceof Uint8Array && got.length === big.length && got.every((b, i) => b === big[i]);
      return { rows, bigSame };
    },
  ],
  [
    'close',
    async (conn) => {
      await conn.close();
      const afterClose = await thrown(() => conn.execute('SELECT 1'));
      return { afterClose };
    },
  ],
];
