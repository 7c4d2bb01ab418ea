/**
 * The main job: a tour of heliosdb-nano on an embedded default database
 * (`heliosdb-demo.db` in the current directory, or the path given as argument).
 * Run with `npm start`.
 */
import * as sqlite3 from 'heliosdb-nano';

const path = process.argv[2] ?? 'heliosdb-demo.db';

function show(title: string, value: unknown): void {
  console.log(`\n== ${title}`);
  console.log(value);
}

async function main(): Promise<void> {
  console.log(`heliosdb-nano ${sqlite3.version} (SQLite ${sqlite3.sqlite_version}) — database: ${path}`);
  await using conn = await sqlite3.connect(path);
  conn.row_factory = sqlite3.Row;

  await conn.executescript(`
    CREATE TABLE IF NOT EXISTS users(
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      email TEXT,
      joined TEXT DEFAULT (datetime('now'))
    );
    CREATE TABLE IF NOT EXISTS visits(user_id INTEGER REFERENCES users(id), at TEXT, pages INTEGER);
  `);

  // Implicit transaction (as in Python's sqlite3), committed explicitly.
  const names = ['ada', 'grace', 'linus', 'margaret', 'ken'];
  await conn.executemany('INSERT OR IGNORE INTO users(name, email) VALUES (?, ?)', names.map((n) => [n, `${n}@example.org`]));
  await conn.commit();

  // One transaction, one prepared statement, with progress.
  const cur = conn.cursor();
  const rows = Array.from({ length: 5000 }, (_, i) => [1 + (i % names.length), `2026-11-${String(1 + (i % 28)).padStart(2, '0')}`, i % 17]);
  const inserted = await cur.batch_insert('visits', ['user_id', 'at', 'pages'], rows, {
    progress: (done, total) => {
      if (done === total) console.log(`batch_insert: ${done}/${total} rows`);
    },
  });
  show('rows inserted by batch_insert', inserted);

  const top = await conn.execute(
    `SELECT u.name, count(*) AS visits, sum(v.pages) AS pages
       FROM users u JOIN visits v ON v.user_id = u.id
      GROUP BY u.id ORDER BY pages DESC LIMIT 3`,
  );
  show('top users (sqlite3.Row rows)', (await top.fetchall()).map((r) => (r as sqlite3.Row).toObject()));

  // A user-defined function and aggregate.
  await conn.create_function('initials', 1, (s) => String(s).slice(0, 2).toUpperCase(), { deterministic: true });
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
  const fn = await conn.execute('SELECT group_concat(initials(name), \',\') AS initials, longest(name) AS longest FROM users');
  show('user-defined function and aggregate', (await fn.fetchone() as sqlite3.Row).toObject());

  // Errors are the DB-API classes.
  try {
    await conn.execute('INSERT INTO users(name) VALUES (?)', ['ada']);
  } catch (e) {
    if (e instanceof sqlite3.IntegrityError) show('IntegrityError', `${e.message} (${e.sqlite_errorname})`);
    else throw e;
  }
  await conn.rollback();

  // transaction(): commit on success, roll back on throw.
  await conn.transaction(async (c) => {
    await c.execute('UPDATE users SET email = lower(email)');
  });

  show('query plan', await conn.query_plan('SELECT * FROM visits WHERE user_id = ?', [1]));

  const dump: string[] = [];
  for await (const line of conn.iterdump()) dump.push(line);
  show('iterdump (first lines)', dump.slice(0, 4).join('\n'));

  const count = await (await conn.execute('SELECT count(*) AS n FROM visits')).fetchone() as sqlite3.Row;
  show('visits stored in the file', count.get('n'));
  console.log(`\nDone. Open ${path} with any SQLite tool (sqlite3 CLI, Python) — it is a plain SQLite file.`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
