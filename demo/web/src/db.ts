/**
 * The demo's database: one connection for the console, table browser and
 * import/export panels, opened on the best storage the browser offers
 * (OPFS, else IndexedDB) with autocommit on, so every statement typed in the
 * console is durable as soon as it returns.
 */
import * as sqlite3 from 'heliosdb-nano';

export type Connection = Awaited<ReturnType<typeof sqlite3.connect>>;

/** The database every tab of the demo shares. */
export const DATABASE = 'heliosdb-demo.db';

/** Opens a connection to the demo database (asks for persistent storage). */
export function open(): Promise<Connection> {
  return sqlite3.connect(DATABASE, { autocommit: true, persist: true, timeout: 10 });
}

/**
 * Makes the table the live-writes panel uses, and on an empty database (the
 * first visit) a small sample table to look at.
 */
export async function seed(conn: Connection): Promise<void> {
  const cur = await conn.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
  const [tables] = (await cur.fetchone()) as [number];
  if (tables === 0) {
    await conn.execute(`CREATE TABLE users(
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      email TEXT,
      joined TEXT DEFAULT (datetime('now'))
    )`);
    const names = ['ada', 'grace', 'linus', 'margaret', 'ken'];
    await conn.executemany(
      'INSERT INTO users(name, email) VALUES (?, ?)',
      names.map((n) => [n, `${n}@example.org`]),
    );
  }
  await conn.executescript(`
    CREATE TABLE IF NOT EXISTS live_writes(
      id INTEGER PRIMARY KEY,
      tab TEXT NOT NULL,
      at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
    );
    CREATE INDEX IF NOT EXISTS live_writes_tab ON live_writes(tab);
  `);
}

/** `Error: message (SQLITE_…)` for any thrown value. */
export function describeError(e: unknown): string {
  if (!(e instanceof globalThis.Error)) return String(e);
  const code = (e as { sqlite_errorname?: unknown }).sqlite_errorname;
  return `${e.name}: ${e.message}${typeof code === 'string' ? ` (${code})` : ''}`;
}

/** Quotes an SQL identifier. */
export function quoteId(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
