/**
 * Child process for the ownership tests (test/ownership.test.ts), driven by one
 * command per line on stdin and answering one JSON line per command on stdout:
 *   open <path> [ro]   → {"won":true} | {"won":false,"kind":…,"message":…}
 *   insert <k>         → {"ack":k}            (a durable commit of row k, with this pid)
 *   count              → {"count":n}
 *   sql <json>         → {"rows":[…]}        (json: {"q": sql, "p": params})
 *   close              → {"closed":true}
 *   exit               → exits
 * It prints {"ready":pid} once loaded, so the parent can start races with both
 * children already waiting.
 */
import { createInterface } from 'node:readline';
import * as sqlite3 from 'heliosdb-nano';

let conn: sqlite3.Connection | null = null;

function reply(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v)}\n`);
}

async function handle(line: string): Promise<void> {
  const [cmd, ...args] = line.trim().split(' ');
  switch (cmd) {
    case 'open': {
      const [path, mode] = args;
      try {
        conn = mode === 'ro' ? await sqlite3.connect(`file:${path}?mode=ro`, { uri: true }) : await sqlite3.connect(path);
        if (mode !== 'ro') {
          await conn.execute('CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, pid INTEGER)');
          await conn.commit();
        }
        reply({ won: true });
      } catch (e) {
        conn = null;
        reply({ won: false, kind: e instanceof Error ? e.name : typeof e, message: e instanceof Error ? e.message : String(e) });
      }
      return;
    }
    case 'insert': {
      if (conn === null) throw new Error('insert without an open connection');
      await conn.execute('INSERT INTO t VALUES (?, ?)', [Number(args[0]), process.pid]);
      await conn.commit();
      reply({ ack: Number(args[0]) });
      return;
    }
    case 'count': {
      if (conn === null) throw new Error('count without an open connection');
      const row = (await (await conn.execute('SELECT count(*) FROM t')).fetchone()) as [number];
      reply({ count: row[0] });
      return;
    }
    case 'sql': {
      if (conn === null) throw new Error('sql without an open connection');
      const { q, p } = JSON.parse(args.join(' ')) as { q: string; p?: sqlite3.BindParams };
      reply({ rows: await (await conn.execute(q, p)).fetchall() });
      return;
    }
    case 'close': {
      await conn?.close();
      conn = null;
      reply({ closed: true });
      return;
    }
    case 'exit':
      process.exit(0);
      return;
    default:
      throw new Error(`unknown command ${line}`);
  }
}

// Commands run one at a time, in order.
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(() => handle(line)).catch((e: unknown) => {
    process.stderr.write(`owner-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
});
// Load the engine first, so that racing children differ only in the open itself.
const warm = await sqlite3.connect(':memory:');
await warm.close();
reply({ ready: process.pid });
