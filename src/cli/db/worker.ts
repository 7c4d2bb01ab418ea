/**
 * The database thread: holds the shell's connection and answers the calls of
 * `protocol.ts`. It talks to the engine only through the package's public API.
 * A progress handler polls the shared interrupt flag, so a statement stops
 * (OperationalError 'interrupted') as soon as the shell sets it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Connection, Cursor, Error as DbError, connect } from '../../index.js';
import {
  INTERRUPT_FLAG,
  type Calls,
  type CallName,
  type Cell,
  type ErrorInfo,
  type Features,
  type HistoryMethod,
  type Reply,
  type Request,
  type RowBatch,
} from './protocol.js';

/** VM instructions between two looks at the interrupt flag (about 0.1 ms of work). */
const PROGRESS_STEPS = 10_000;
const SQLITE_INTERRUPT = 9;

interface WorkerInput {
  readonly interrupt: SharedArrayBuffer;
}

const port = parentPort;
if (port === null) throw new Error('db/worker.js must run in a worker thread');
const flag = new Int32Array((workerData as WorkerInput).interrupt);

let conn: Connection | null = null;
let cursor: Cursor | null = null;
/** Ids of the calls that report progress (backup). */
let progressCall = 0;

function connection(): Connection {
  if (conn === null) throw new DbError('no database is open');
  return conn;
}

function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof DbError) {
    return { kind: e.name, message: e.message, code: e.sqlite_errorcode ?? null };
  }
  return { kind: 'Error', message: e instanceof Error ? e.message : String(e), code: null };
}

function isInterrupt(e: unknown): boolean {
  return e instanceof DbError && ((e.sqlite_errorcode ?? 0) & 0xff) === SQLITE_INTERRUPT;
}

async function openConnection(path: string, readonly: boolean, features?: Features): Promise<Connection> {
  const target = readonly && path !== ':memory:' ? `file:${encodeURI(path).replace(/[?#]/g, encodeURIComponent)}?mode=ro` : path;
  const c = await connect(target, {
    autocommit: true,
    enable_vector_search: true,
    enable_time_travel: features?.timeTravel === true,
    enable_branching: features?.branching === true,
    ...(features?.branch ? { branch: features.branch } : {}),
  });
  await c.set_progress_handler(() => Atomics.load(flag, INTERRUPT_FLAG), PROGRESS_STEPS);
  // In-process, the connection's port is the engine session: ask it to mark REAL values, so 1.0 prints as 1.0.
  const port = (c as unknown as { _port: { markReals?: boolean } })._port;
  if (port.markReals !== undefined) port.markReals = true;
  return c;
}

async function dropCursor(): Promise<void> {
  const c = cursor;
  cursor = null;
  if (c !== null) await c.close();
}

/**
 * The next rows of the current statement. (An integral REAL arrives as the same number as an
 * INTEGER: the public API does not say which a value was; see docs/cli.md, "Differences".)
 */
async function nextRows(batch: number): Promise<RowBatch> {
  const c = cursor;
  if (c === null) return { rows: [], done: true };
  const rows = (await c.fetchmany(batch)) as Cell[][];
  const done = rows.length < batch;
  if (done) await dropCursor();
  return { rows, done };
}

type Handlers = { [K in CallName]: (args: Calls[K]['args'], id: number) => Promise<Calls[K]['result']> };

const handlers: Handlers = {
  async open({ path, readonly, features }) {
    await dropCursor();
    const next = await openConnection(path, readonly, features);
    if (conn !== null) await conn.close();
    conn = next;
    const cur = await next.execute('PRAGMA database_list');
    const rows = (await cur.fetchall()) as Cell[][];
    const main = rows.find((r) => r[1] === 'main');
    return { file: typeof main?.[2] === 'string' ? main[2] : '', readonly };
  },
  async close() {
    await dropCursor();
    if (conn !== null) await conn.close();
    conn = null;
    return null;
  },
  async execute({ sql, batch }) {
    await dropCursor();
    const c = connection().cursor();
    c.arraysize = batch;
    try {
      await c.execute(sql);
    } catch (e) {
      await c.close();
      throw e;
    }
    const columns = c.description ? c.description.map((d) => d[0]) : null;
    if (columns === null) {
      await c.close();
      return { columns, rows: [], done: true };
    }
    cursor = c;
    return { columns, ...(await nextRows(batch)) };
  },
  async fetch({ batch }) {
    try {
      return await nextRows(batch);
    } catch (e) {
      await dropCursor();
      throw e;
    }
  },
  async discard() {
    await dropCursor();
    return null;
  },
  async query({ sql, params }) {
    const c = await connection().execute(sql, params);
    const rows = (await c.fetchall()) as Cell[][];
    const columns = c.description ? c.description.map((d) => d[0]) : [];
    await c.close();
    return { columns, rows };
  },
  async insertMany({ sql, rows }) {
    const db = connection();
    await db.execute('SAVEPOINT heliosdb_cli_rows');
    try {
      await db.executemany(sql, rows);
      await db.execute('RELEASE heliosdb_cli_rows');
      return { inserted: rows.length, failures: [] };
    } catch (e) {
      await db.execute('ROLLBACK TO heliosdb_cli_rows');
      await db.execute('RELEASE heliosdb_cli_rows');
      if (isInterrupt(e)) throw e;
    }
    // Some row failed: insert them one by one, keeping the good ones (as the sqlite3 shell does).
    const failures: Array<{ index: number; error: ErrorInfo }> = [];
    let inserted = 0;
    for (let i = 0; i < rows.length; i++) {
      try {
        await db.execute(sql, rows[i]);
        inserted++;
      } catch (e) {
        if (isInterrupt(e)) throw e;
        failures.push({ index: i, error: errorInfo(e) });
      }
    }
    return { inserted, failures };
  },
  async counts() {
    const db = connection();
    const c = await db.execute('SELECT changes()');
    const row = (await c.fetchone()) as Cell[];
    return { changes: Number(row[0]), totalChanges: db.total_changes, inTransaction: db.in_transaction };
  },
  async backup({ file, schema, direction }, id) {
    const db = connection();
    const other = await connect(file, { autocommit: true });
    progressCall = id;
    try {
      const progress = (_status: number, remaining: number, total: number): void => {
        post({ type: 'progress', id: progressCall, done: total - remaining, total });
      };
      if (direction === 'save') await db.backup(other, { pages: 100, progress, name: schema });
      else await other.backup(db, { pages: 100, progress });
    } finally {
      progressCall = 0;
      await other.close();
    }
    return null;
  },
  async vectorIndexes() {
    return connection().vector_indexes();
  },
  async history({ method, args }) {
    const c = connection() as unknown as Record<HistoryMethod, (...a: unknown[]) => Promise<unknown>>;
    return c[method](...args);
  },
};

function post(reply: Reply): void {
  port?.postMessage(reply);
}

async function handle<K extends CallName>(req: Request<K>): Promise<void> {
  try {
    const handler = handlers[req.call] as (args: Calls[K]['args'], id: number) => Promise<Calls[K]['result']>;
    const result = await handler(req.args, req.id);
    post({ type: 'result', id: req.id, result });
  } catch (e) {
    post({ type: 'error', id: req.id, error: errorInfo(e) });
  }
}

// Calls are answered one at a time, in order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: Request) => {
  queue = queue.then(() => handle(req));
});
