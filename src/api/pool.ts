/**
 * A connection pool: a fixed number of connections to one database, handed
 * out one caller at a time. Callers beyond `pool_size` wait in FIFO order.
 */
import { connect, type ConnectOptions } from './connect.js';
import type { Connection } from './connection.js';
import { OperationalError, ProgrammingError } from './errors.js';

export interface PoolOptions extends ConnectOptions {
  /** Number of connections (default 5). */
  pool_size?: number;
  /** Seconds `acquire()` waits for a free connection (default: no limit). */
  acquire_timeout?: number;
}

export class ConnectionPool implements AsyncDisposable {
  private readonly idle: Connection[] = [];
  private readonly waiters: Array<(c: Connection) => void> = [];
  private readonly all: Connection[];
  private closed = false;

  private constructor(
    readonly database: string,
    connections: Connection[],
    private readonly acquireTimeoutMs: number | undefined,
  ) {
    this.all = connections;
    this.idle.push(...connections);
  }

  /** Opens `pool_size` connections to `database`. */
  static async create(database: string, options: PoolOptions = {}): Promise<ConnectionPool> {
    const size = options.pool_size ?? 5;
    if (!Number.isInteger(size) || size < 1) throw new ProgrammingError('pool_size must be a positive integer');
    const { pool_size: _size, acquire_timeout, ...connectOptions } = options;
    const conns: Connection[] = [];
    try {
      for (let i = 0; i < size; i++) conns.push(await connect(database, connectOptions));
    } catch (e) {
      await Promise.all(conns.map((c) => c.close()));
      throw e;
    }
    return new ConnectionPool(database, conns, acquire_timeout === undefined ? undefined : acquire_timeout * 1000);
  }

  get size(): number {
    return this.all.length;
  }

  /** Connections not handed out right now. */
  get available(): number {
    return this.idle.length;
  }

  /** Takes a connection, waiting for one if all are in use. Give it back with `release`. */
  acquire(): Promise<Connection> {
    if (this.closed) return Promise.reject(new ProgrammingError('Cannot operate on a closed pool.'));
    const c = this.idle.pop();
    if (c) return Promise.resolve(c);
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter = (conn: Connection): void => {
        if (timer) clearTimeout(timer);
        resolve(conn);
      };
      this.waiters.push(waiter);
      if (this.acquireTimeoutMs !== undefined) {
        timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new OperationalError('timed out waiting for a pooled connection'));
        }, this.acquireTimeoutMs);
      }
    });
  }

  /** Returns a connection; an open transaction on it is rolled back first. */
  async release(conn: Connection): Promise<void> {
    if (!this.all.includes(conn)) throw new ProgrammingError('connection does not belong to this pool');
    if (this.idle.includes(conn)) throw new ProgrammingError('connection was already released');
    if (!this.closed && !conn.closed && conn.in_transaction) await conn.rollback();
    const next = this.waiters.shift();
    if (next) next(conn);
    else this.idle.push(conn);
  }

  /** Runs `fn` with a pooled connection and always gives it back. */
  async use<T>(fn: (conn: Connection) => Promise<T> | T): Promise<T> {
    const conn = await this.acquire();
    try {
      return await fn(conn);
    } finally {
      await this.release(conn);
    }
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.all.map((c) => c.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** `connection_pool.create(path, { pool_size })`, as in the product docs. */
export const connection_pool = {
  create: (database: string, options: PoolOptions = {}): Promise<ConnectionPool> => ConnectionPool.create(database, options),
};
