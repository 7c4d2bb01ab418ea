/**
 * core.html: the one-tab browser benchmark, driven by bench/browser-bench.ts.
 *
 * The core workload (bench/lib/workload.ts) from this page's main thread,
 * on three systems in one page:
 * - heliosdb-nano through its API (`connect('opfs://…')`; its engine runs in
 *   the package's own dedicated worker);
 * - raw @sqlite.org/sqlite-wasm (oo1, `opfs-sahpool`) in a dedicated worker
 *   (raw-worker.ts), one postMessage per operation, as seen from here;
 * - the same worker running each whole row by itself (timed in the worker).
 *
 * Plus the main-thread round trip of a one-row SELECT through our API.
 */
import * as Comlink from 'comlink';
import * as sqlite3 from 'heliosdb-nano';
import type { PingApi } from './comlink-worker.js';
import { SCHEMA, SCHEMA_MANY, SQL, buildData, type ItemRow, type RowId, type Sizes, type WorkloadData } from '../lib/workload.js';
import {
  isFirst,
  isLast,
  share,
  timerResolutionMs,
  WHOLE,
  type CoreBenchApi,
  type CoreSystem,
  type DbSettings,
  type PageInfo,
  type Part,
  type RoundTripSet,
  type Timed,
} from './page-api.js';
import type { RawRequest, RawResults } from './raw-protocol.js';
import { WorkerClient } from './worker-client.js';

/** The PRAGMAs of the Node core benchmark, applied on every system. */
const PRAGMAS = ['PRAGMA journal_mode=DELETE', 'PRAGMA synchronous=FULL'];
/** Pool slots of the raw VFS: a few databases with their journals at once. */
const RAW_CAPACITY = 16;

// ---------------------------------------------------------------------------
// The raw worker, seen from the main thread

type RawClient = WorkerClient<RawRequest, RawResults>;

function startRawWorker(): RawClient {
  return new WorkerClient(new Worker(new URL('./raw-worker.ts', import.meta.url), { type: 'module', name: 'raw-sqlite-wasm' }));
}

// ---------------------------------------------------------------------------
// The systems

interface PageSystem {
  open(round: number): Promise<DbSettings>;
  run(row: RowId, d: WorkloadData, rep: number, part: Part): Promise<Timed>;
  between(row: RowId): Promise<void>;
  summary(): Promise<[number, number]>;
  close(): Promise<void>;
  openDurable(): Promise<DbSettings>;
  durableChunk(rows: readonly ItemRow[], from: number, to: number): Promise<number>;
  closeDurable(): Promise<number>;
}

type Conn = sqlite3.Connection;

async function one(conn: Conn, sql: string): Promise<unknown> {
  return ((await (await conn.execute(sql)).fetchone()) as unknown[])[0];
}

async function heliosSettings(conn: Conn): Promise<DbSettings> {
  return {
    sqliteVersion: String(await one(conn, 'SELECT sqlite_version()')),
    pageSize: Number(await one(conn, 'PRAGMA page_size')),
    journalMode: String(await one(conn, 'PRAGMA journal_mode')),
    synchronous: Number(await one(conn, 'PRAGMA synchronous')),
    storage: conn.storage,
  };
}

function timedSince(t0: number, checksum: number): Timed {
  return { ms: performance.now() - t0, checksum };
}

/** Ours, used as its users would: the same calls as the Node benchmark's driver. */
class HeliosSystem implements PageSystem {
  private conn: Conn | null = null;
  private durable: Conn | null = null;

  private get c(): Conn {
    if (this.conn === null) throw new Error('heliosdb: not open');
    return this.conn;
  }

  async open(round: number): Promise<DbSettings> {
    const conn = await sqlite3.connect(`opfs://bench-${round}.db`);
    this.conn = conn;
    for (const p of PRAGMAS) await conn.execute(p);
    await conn.execute(SCHEMA);
    await conn.execute(SCHEMA_MANY);
    await conn.commit();
    return heliosSettings(conn);
  }

  async run(row: RowId, d: WorkloadData, rep: number, part: Part): Promise<Timed> {
    const conn = this.c;
    const t0 = performance.now();
    switch (row) {
      case 'bulk_insert_execute': {
        // The first execute opens the transaction (implicit BEGIN); the last part commits it.
        const cur = conn.cursor();
        for (const r of share(d.bulkRows, part)) await cur.execute(SQL.insert, r);
        if (isLast(part)) await conn.commit();
        return timedSince(t0, 0);
      }
      case 'bulk_insert_executemany': {
        const cur = conn.cursor();
        await cur.executemany(SQL.insertMany, share(d.bulkRows, part));
        if (isLast(part)) await conn.commit();
        return timedSince(t0, 0);
      }
      case 'autocommit_insert':
        throw new Error('autocommit_insert runs through durableChunk');
      case 'point_select': {
        let sum = 0;
        for (const k of share(d.pointKeys, part)) {
          const r = (await (await conn.execute(SQL.point, [k])).fetchone()) as unknown[];
          sum += r[0] as number;
        }
        return timedSince(t0, sum);
      }
      case 'point_select_cursor': {
        let sum = 0;
        const cur = conn.cursor();
        for (const k of share(d.pointKeys, part)) {
          await cur.execute(SQL.point, [k]);
          const r = (await cur.fetchone()) as unknown[];
          sum += r[0] as number;
        }
        return timedSince(t0, sum);
      }
      case 'range_scan': {
        let sum = 0;
        for (const [a, b] of share(d.ranges, part)) {
          const rows = (await (await conn.execute(SQL.range, [a, b])).fetchall()) as unknown[][];
          for (const r of rows) sum += r[0] as number;
        }
        return timedSince(t0, sum);
      }
      case 'update': {
        const cur = conn.cursor();
        for (const u of share(d.updates[rep], part)) await cur.execute(SQL.update, u);
        if (isLast(part)) await conn.commit();
        return timedSince(t0, 0);
      }
      case 'delete': {
        const cur = conn.cursor();
        for (const k of share(d.deleteKeys[rep], part)) await cur.execute(SQL.delete, [k]);
        if (isLast(part)) await conn.commit();
        return timedSince(t0, 0);
      }
    }
  }

  async between(row: RowId): Promise<void> {
    if (row === 'bulk_insert_executemany') {
      await this.c.execute('DROP TABLE items_many');
      await this.c.commit();
    }
  }

  async summary(): Promise<[number, number]> {
    const r = (await (await this.c.execute('SELECT count(*), total(score) FROM items')).fetchone()) as unknown[];
    return [Number(r[0]), Number(r[1])];
  }

  async close(): Promise<void> {
    await this.conn?.close();
    this.conn = null;
  }

  async openDurable(): Promise<DbSettings> {
    // isolation_level=None: SQLite's own autocommit, every insert commits.
    const conn = await sqlite3.connect('opfs://durable.db', { isolation_level: null });
    for (const p of PRAGMAS) await conn.execute(p);
    await conn.execute(SCHEMA);
    this.durable = conn;
    return heliosSettings(conn);
  }

  async durableChunk(rows: readonly ItemRow[]): Promise<number> {
    const conn = this.durable;
    if (conn === null) throw new Error('heliosdb: durable database not open');
    const cur = conn.cursor();
    const t0 = performance.now();
    for (const r of rows) await cur.execute(SQL.insert, r);
    return performance.now() - t0;
  }

  async closeDurable(): Promise<number> {
    const conn = this.durable;
    if (conn === null) return 0;
    const n = Number(await one(conn, 'SELECT count(*) FROM items'));
    await conn.close();
    this.durable = null;
    return n;
  }
}

/** Raw sqlite-wasm in its worker, one message per operation, from the main thread. */
class RawMessageSystem implements PageSystem {
  private db = '';

  constructor(private readonly raw: RawClient) {}

  private exec(sql: string, params: readonly (number | string)[] | null): Promise<unknown[][]> {
    return this.raw.call<'exec'>({ t: 'exec', db: this.db, sql, params });
  }

  /** `body` inside the row's transaction: BEGIN in its first part, COMMIT in its last. */
  private async inTxn(part: Part, body: () => Promise<void>): Promise<void> {
    if (isFirst(part)) await this.exec('BEGIN', null);
    await body();
    if (isLast(part)) await this.exec('COMMIT', null);
  }

  async open(round: number): Promise<DbSettings> {
    this.db = `msg-${round}`;
    return this.raw.call<'open'>({ t: 'open', db: this.db, file: `/bench-msg-${round}.db`, schema: [...PRAGMAS, SCHEMA, SCHEMA_MANY] });
  }

  async run(row: RowId, d: WorkloadData, rep: number, part: Part): Promise<Timed> {
    const t0 = performance.now();
    switch (row) {
      case 'bulk_insert_execute':
        await this.inTxn(part, async () => {
          for (const r of share(d.bulkRows, part)) await this.exec(SQL.insert, r);
        });
        return timedSince(t0, 0);
      case 'bulk_insert_executemany':
        await this.inTxn(part, async () => {
          await this.raw.call<'many'>({ t: 'many', db: this.db, sql: SQL.insertMany, rows: share(d.bulkRows, part) });
        });
        return timedSince(t0, 0);
      case 'autocommit_insert':
        throw new Error('autocommit_insert runs through durableChunk');
      case 'point_select':
      case 'point_select_cursor': {
        let sum = 0;
        for (const k of share(d.pointKeys, part)) {
          const rows = await this.exec(SQL.point, [k]);
          sum += rows[0][0] as number;
        }
        return timedSince(t0, sum);
      }
      case 'range_scan': {
        let sum = 0;
        for (const [a, b] of share(d.ranges, part)) {
          const rows = await this.exec(SQL.range, [a, b]);
          for (const r of rows) sum += r[0] as number;
        }
        return timedSince(t0, sum);
      }
      case 'update':
        await this.inTxn(part, async () => {
          for (const u of share(d.updates[rep], part)) await this.exec(SQL.update, u);
        });
        return timedSince(t0, 0);
      case 'delete':
        await this.inTxn(part, async () => {
          for (const k of share(d.deleteKeys[rep], part)) await this.exec(SQL.delete, [k]);
        });
        return timedSince(t0, 0);
    }
  }

  async between(row: RowId): Promise<void> {
    if (row === 'bulk_insert_executemany') await this.exec('DROP TABLE items_many', null);
  }

  async summary(): Promise<[number, number]> {
    const r = (await this.exec('SELECT count(*), total(score) FROM items', null))[0];
    return [Number(r[0]), Number(r[1])];
  }

  async close(): Promise<void> {
    await this.raw.call<'close'>({ t: 'close', db: this.db, unlink: true });
  }

  async openDurable(): Promise<DbSettings> {
    return this.raw.call<'open'>({ t: 'open', db: 'durable-msg', file: '/durable-msg.db', schema: [...PRAGMAS, SCHEMA] });
  }

  async durableChunk(rows: readonly ItemRow[]): Promise<number> {
    const t0 = performance.now();
    for (const r of rows) await this.raw.call<'exec'>({ t: 'exec', db: 'durable-msg', sql: SQL.insert, params: r });
    return performance.now() - t0;
  }

  async closeDurable(): Promise<number> {
    const n = Number((await this.raw.call<'exec'>({ t: 'exec', db: 'durable-msg', sql: 'SELECT count(*) FROM items', params: null }))[0][0]);
    await this.raw.call<'close'>({ t: 'close', db: 'durable-msg', unlink: true });
    return n;
  }
}

/** Raw sqlite-wasm running each whole row inside its worker: what the engine costs with no messaging. */
class RawWorkerSystem implements PageSystem {
  private db = '';

  constructor(private readonly raw: RawClient) {}

  async open(round: number): Promise<DbSettings> {
    this.db = `loop-${round}`;
    return this.raw.call<'open'>({ t: 'open', db: this.db, file: `/bench-loop-${round}.db`, schema: [...PRAGMAS, SCHEMA, SCHEMA_MANY] });
  }

  /** The whole row, in one part only (no messaging to interleave: the driver gives it WHOLE). */
  run(row: RowId, _d: WorkloadData, rep: number, part: Part): Promise<Timed> {
    if (part.count !== 1) throw new Error('the in-worker loop runs whole rows only');
    return this.raw.call<'loop'>({ t: 'loop', db: this.db, row, rep });
  }

  async between(row: RowId): Promise<void> {
    if (row === 'bulk_insert_executemany') await this.raw.call<'exec'>({ t: 'exec', db: this.db, sql: 'DROP TABLE items_many', params: null });
  }

  async summary(): Promise<[number, number]> {
    const r = (await this.raw.call<'exec'>({ t: 'exec', db: this.db, sql: 'SELECT count(*), total(score) FROM items', params: null }))[0];
    return [Number(r[0]), Number(r[1])];
  }

  async close(): Promise<void> {
    await this.raw.call<'close'>({ t: 'close', db: this.db, unlink: true });
  }

  async openDurable(): Promise<DbSettings> {
    return this.raw.call<'open'>({ t: 'open', db: 'durable-loop', file: '/durable-loop.db', schema: [...PRAGMAS, SCHEMA] });
  }

  durableChunk(_rows: readonly ItemRow[], from: number, to: number): Promise<number> {
    return this.raw.call<'durableLoop'>({ t: 'durableLoop', db: 'durable-loop', from, to });
  }

  async closeDurable(): Promise<number> {
    const n = Number((await this.raw.call<'exec'>({ t: 'exec', db: 'durable-loop', sql: 'SELECT count(*) FROM items', params: null }))[0][0]);
    await this.raw.call<'close'>({ t: 'close', db: 'durable-loop', unlink: true });
    return n;
  }
}

// ---------------------------------------------------------------------------
// Round trips

interface RoundTripKind {
  readonly id: RoundTripSet['id'];
  readonly label: string;
  readonly how: string;
  readonly call: (i: number) => Promise<void>;
}

/** Calls per block: the kinds take turns in blocks, so that drift over the phase touches all of them alike. */
const BLOCK = 100;

async function sampleKinds(kinds: readonly RoundTripKind[], calls: number, warmup: number): Promise<RoundTripSet[]> {
  for (const k of kinds) for (let i = 0; i < warmup; i++) await k.call(i);
  const samples = kinds.map(() => [] as number[]);
  for (let done = 0; done < calls; done += BLOCK) {
    const n = Math.min(BLOCK, calls - done);
    for (let j = 0; j < kinds.length; j++) {
      const call = kinds[j].call;
      const out = samples[j];
      for (let i = done; i < done + n; i++) {
        const t0 = performance.now();
        await call(i);
        out.push(performance.now() - t0);
      }
    }
  }
  return kinds.map((k, j) => ({ id: k.id, label: k.label, how: k.how, samplesMs: samples[j] }));
}

async function roundTrips(raw: RawClient, d: WorkloadData, calls: number, warmup: number): Promise<RoundTripSet[]> {
  const pingWorker = new Worker(new URL('./comlink-worker.ts', import.meta.url), { type: 'module', name: 'comlink-ping' });
  const comlink = Comlink.wrap<PingApi>(pingWorker);
  const table = d.bulkRows.slice(0, Math.min(d.bulkRows.length, 10_000));
  const keys = d.pointKeys.map((k) => 1 + ((k - 1) % table.length));
  const conn = await sqlite3.connect('opfs://roundtrip.db');
  const memory = await sqlite3.connect(':memory:');
  await raw.call<'open'>({ t: 'open', db: 'roundtrip', file: '/roundtrip.db', schema: [...PRAGMAS, SCHEMA] });
  try {
    await raw.call<'exec'>({ t: 'exec', db: 'roundtrip', sql: 'BEGIN', params: null });
    await raw.call<'many'>({ t: 'many', db: 'roundtrip', sql: SQL.insert, rows: table });
    await raw.call<'exec'>({ t: 'exec', db: 'roundtrip', sql: 'COMMIT', params: null });
    await conn.execute('DROP TABLE IF EXISTS items');
    await conn.execute(SCHEMA);
    await conn.executemany(SQL.insert, table);
    await conn.commit();
    let sum = 0;
    const sets = await sampleKinds(
      [
        {
          id: 'ours_select1',
          label: 'ours: SELECT 1',
          how: "`await (await conn.execute('SELECT 1')).fetchone()` on an `opfs://` connection",
          call: async () => {
            sum += ((await (await conn.execute('SELECT 1')).fetchone()) as unknown[])[0] as number;
          },
        },
        {
          id: 'ours_select1_memory',
          label: 'ours: SELECT 1, `:memory:` connection',
          how: "the same on a `:memory:` connection (private to the page's worker: no tab sharing, no storage)",
          call: async () => {
            sum += ((await (await memory.execute('SELECT 1')).fetchone()) as unknown[])[0] as number;
          },
        },
        {
          id: 'ours_point',
          label: 'ours: point select by key',
          how: `\`await (await conn.execute(sql, [k])).fetchone()\` on an \`opfs://\` table of ${table.length.toLocaleString('en-US')} rows`,
          call: async (i) => {
            sum += ((await (await conn.execute(SQL.point, [keys[i % keys.length]])).fetchone()) as unknown[])[0] as number;
          },
        },
        {
          id: 'raw_msg_select1',
          label: 'raw sqlite-wasm worker: SELECT 1',
          how: 'one postMessage to the raw worker and its reply (prepared statement reused)',
          call: async () => {
            await raw.call<'exec'>({ t: 'exec', db: 'roundtrip', sql: 'SELECT 1', params: null });
          },
        },
        {
          id: 'raw_msg_point',
          label: 'raw sqlite-wasm worker: point select by key',
          how: 'one postMessage to the raw worker and its reply, the same keys on the same table',
          call: async (i) => {
            sum += (await raw.call<'exec'>({ t: 'exec', db: 'roundtrip', sql: SQL.point, params: [keys[i % keys.length]] }))[0][0] as number;
          },
        },
        {
          id: 'raw_msg_ping',
          label: 'postMessage ping to a worker',
          how: 'one empty request to the raw worker and its reply: the floor of any worker round trip',
          call: async () => {
            await raw.call<'ping'>({ t: 'ping' });
          },
        },
        {
          id: 'comlink_ping',
          label: 'Comlink ping to a worker',
          how: '`await remote.ping()` through Comlink (our setup calls use it; session calls have a flat-array protocol of their own), a worker doing nothing else',
          call: async () => {
            await comlink.ping();
          },
        },
      ],
      calls,
      warmup,
    );
    if (sum <= 0) throw new Error('round trips read nothing');
    return sets;
  } finally {
    await conn.close();
    await memory.close();
    await raw.call<'close'>({ t: 'close', db: 'roundtrip', unlink: true });
    comlink[Comlink.releaseProxy]();
    pingWorker.terminate();
  }
}

// ---------------------------------------------------------------------------
// The page's API

let raw: RawClient | null = null;
let data: WorkloadData | null = null;
const systems = new Map<CoreSystem, PageSystem>();

function sys(id: CoreSystem): PageSystem {
  const s = systems.get(id);
  if (s === undefined) throw new Error(`setup() first (no system ${id})`);
  return s;
}

function workload(): WorkloadData {
  if (data === null) throw new Error('setup() first');
  return data;
}

const api: CoreBenchApi = {
  ready: true,
  async setup(sizes: Sizes): Promise<PageInfo> {
    data = buildData(sizes);
    const client = (raw ??= startRawWorker());
    await client.call<'init'>({ t: 'init', sizes, capacity: RAW_CAPACITY });
    systems.set('heliosdb', new HeliosSystem());
    systems.set('sqlite-wasm-msg', new RawMessageSystem(client));
    systems.set('sqlite-wasm-worker', new RawWorkerSystem(client));
    return {
      userAgent: navigator.userAgent,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      timerResolutionMs: timerResolutionMs(),
      hardwareConcurrency: navigator.hardwareConcurrency,
    };
  },
  open: (id, round) => sys(id).open(round),
  run: (id, row, rep, part = WHOLE) => sys(id).run(row, workload(), rep, part),
  between: (id, row) => sys(id).between(row),
  summary: (id) => sys(id).summary(),
  close: (id) => sys(id).close(),
  openDurable: (id) => sys(id).openDurable(),
  durableChunk: (id, from, to) => sys(id).durableChunk(workload().autocommitRows.slice(from, to), from, to),
  closeDurable: (id) => sys(id).closeDurable(),
  roundTrips(calls, warmup) {
    if (raw === null) throw new Error('setup() first');
    return roundTrips(raw, workload(), calls, warmup);
  },
};
window.heliosBench = api;
document.title = 'heliosdb-nano browser benchmark: ready';
