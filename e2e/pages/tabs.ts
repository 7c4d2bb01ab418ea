/**
 * The many-tabs page: each tab writes rows into one shared database and
 * reports every insert whose promise resolved ("ack <tab> <i>" on the console,
 * as it happens, so the test still knows the acks of a tab it closes).
 */
import * as sqlite3 from 'heliosdb-nano';

interface Run {
  acked: number;
  errors: string[];
  done: boolean;
}

let conn: sqlite3.Connection | null = null;
let stopping = false;

async function connection(database: string): Promise<sqlite3.Connection> {
  conn ??= await sqlite3.connect(database, { isolation_level: null });
  return conn;
}

async function setup(database: string): Promise<string> {
  const c = await connection(database);
  await c.execute('CREATE TABLE IF NOT EXISTS w(tab TEXT NOT NULL, i INTEGER NOT NULL)');
  return c.storage;
}

/** Inserts rows i = from, from+1, … (awaiting each), until `count` are done or stop() is called. */
function write(database: string, tab: string, from: number, count: number): Run {
  const run: Run = { acked: 0, errors: [], done: false };
  void (async () => {
    const c = await connection(database);
    for (let i = from; i < from + count && !stopping; i++) {
      try {
        await c.execute('INSERT INTO w(tab, i) VALUES (?, ?)', [tab, i]);
        run.acked++;
        console.log(`ack ${tab} ${i}`);
      } catch (e) {
        run.errors.push(`${(e as Error).name}: ${(e as Error).message}`);
        console.log(`error ${tab} ${i} ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    run.done = true;
  })();
  return run;
}

const runs: Run[] = [];

/** Runs one statement on the page's connection; reports the error's class and message instead of throwing. */
async function exec(database: string, sql: string): Promise<unknown> {
  const c = await connection(database);
  try {
    const cur = await c.execute(sql);
    return { rows: await cur.fetchall(), description: cur.description?.map((d) => d[0]) ?? null, inTransaction: c.in_transaction };
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message, inTransaction: c.in_transaction };
  }
}

const api = {
  ready: true as const,
  setup,
  start(database: string, tab: string, from: number, count: number): number {
    runs.push(write(database, tab, from, count));
    return runs.length - 1;
  },
  status(run: number): Run {
    return runs[run];
  },
  exec,
  stop(): void {
    stopping = true;
  },
  async rows(database: string): Promise<unknown[][]> {
    const c = await connection(database);
    return (await (await c.execute('SELECT tab, i FROM w ORDER BY tab, i')).fetchall()) as unknown[][];
  },
};

(window as unknown as { heliosTabs: typeof api }).heliosTabs = api;
