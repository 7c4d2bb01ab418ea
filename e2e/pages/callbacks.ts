/**
 * The callbacks page: functions, aggregates, window functions, collations,
 * authorizer, progress and trace callbacks registered on the main thread,
 * both self-contained ones (shipped to the worker as source) and closures
 * over the page's variables (which need a cross-origin isolated page).
 * Returns what it observed; e2e/callbacks.e2e.ts asserts.
 */
import * as sqlite3 from 'heliosdb-nano';

type Observed = Record<string, unknown>;

async function attempt(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message };
  }
}

async function selfContained(): Promise<Observed> {
  const conn = await sqlite3.connect(':memory:');
  const out: Observed = {};
  await conn.create_function('twice', 1, (x) => (x as number) * 2, { deterministic: true });
  out.twice = await (await conn.execute('SELECT twice(21)')).fetchone();
  await conn.create_aggregate(
    'mysum',
    1,
    class {
      total = 0;
      step(v: unknown): void {
        this.total += v as number;
      }
      finalize(): number {
        return this.total;
      }
    },
  );
  await conn.execute('CREATE TABLE t(x)');
  await conn.executemany('INSERT INTO t VALUES (?)', [[1], [2], [3], [4]]);
  out.mysum = await (await conn.execute('SELECT mysum(x) FROM t')).fetchone();
  await conn.create_collation('reverse', (a, b) => (a < b ? 1 : a > b ? -1 : 0));
  out.collation = await (await conn.execute("SELECT v FROM (SELECT 'a' v UNION SELECT 'c' UNION SELECT 'b') ORDER BY v COLLATE reverse")).fetchall();
  const traced: string[] = [];
  await conn.set_trace_callback((s) => traced.push(s));
  await conn.execute('SELECT 42');
  await conn.set_trace_callback(null);
  out.trace = traced;
  await conn.set_authorizer((action, a1) => (action === sqlite3.SQLITE_READ && a1 === 't' ? sqlite3.SQLITE_DENY : sqlite3.SQLITE_OK));
  out.denied = await attempt(() => conn.execute('SELECT x FROM t'));
  await conn.set_authorizer(null);
  const counter = { calls: 0 };
  // A closure: it needs the page's `counter`.
  await conn.create_function('bump', 0, () => ++counter.calls);
  out.closure = await attempt(async () => (await conn.execute('SELECT bump()')).fetchone());
  out.closureCalls = counter.calls;
  await conn.close();
  return out;
}

async function closures(): Promise<Observed> {
  const conn = await sqlite3.connect(':memory:');
  const out: Observed = {};
  const seen: unknown[] = [];
  const scale = 10;
  await conn.create_function('remember', 1, (x) => {
    seen.push(x);
    return (x as number) * scale;
  });
  await conn.execute('CREATE TABLE t(x)');
  await conn.executemany('INSERT INTO t VALUES (?)', [[1], [2], [3]]);
  out.remember = await (await conn.execute('SELECT remember(x) FROM t ORDER BY x')).fetchall();
  out.seen = seen;
  const groups: string[] = [];
  await conn.create_aggregate(
    'collect',
    1,
    class {
      items: unknown[] = [];
      step(v: unknown): void {
        this.items.push(v);
      }
      finalize(): string {
        groups.push(this.items.join('+'));
        return this.items.join(',');
      }
    },
  );
  out.collect = await (await conn.execute('SELECT collect(x) FROM t')).fetchone();
  out.groups = groups;
  const order: string[] = [];
  await conn.create_collation('logged', (a, b) => {
    order.push(`${a}|${b}`);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  out.sorted = await (await conn.execute("SELECT v FROM (SELECT 'b' v UNION ALL SELECT 'a') ORDER BY v COLLATE logged")).fetchall();
  out.collationCalls = order.length;
  let progressCalls = 0;
  await conn.set_progress_handler(() => {
    progressCalls++;
    return progressCalls > 3 ? 1 : 0;
  }, 1);
  out.interrupted = await attempt(() => conn.execute('WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 100000) SELECT count(*) FROM c'));
  await conn.set_progress_handler(null, 0);
  out.progressCalls = progressCalls;
  const big = 2n ** 62n;
  await conn.create_function('big', 0, () => big);
  out.big = await (await conn.execute('SELECT big()')).fetchone();
  await conn.create_function('fails', 0, () => {
    throw new Error('boom');
  });
  out.fails = await attempt(() => conn.execute('SELECT fails()'));
  await conn.close();
  return out;
}

const api = {
  ready: true as const,
  isolated: (): boolean => globalThis.crossOriginIsolated === true,
  selfContained,
  closures,
};

(window as unknown as { heliosCallbacks: typeof api }).heliosCallbacks = api;
