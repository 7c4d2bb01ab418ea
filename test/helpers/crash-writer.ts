/**
 * Child process for the crash harness: several connections commit
 * transactions concurrently, each inserting a pair of rows, and print
 * "ack <n>" once a commit is acknowledged (durable). The parent SIGKILLs it.
 */
import * as sqlite3 from 'heliosdb-nano';

const [path, writersArg] = process.argv.slice(2);
const writers = Number(writersArg ?? 4);

async function main(): Promise<void> {
  const setup = await sqlite3.connect(path);
  await setup.execute('CREATE TABLE IF NOT EXISTS pairs(k INTEGER, part TEXT, pad BLOB)');
  await setup.commit();
  const row = (await (await setup.execute('SELECT coalesce(max(k), 0) FROM pairs')).fetchone()) as [number];
  await setup.close();
  let next = row[0] + 1;
  const conns = await Promise.all(Array.from({ length: writers }, () => sqlite3.connect(path)));
  const pad = new Uint8Array(3000).fill(7);
  await Promise.all(
    conns.map(async (c) => {
      for (;;) {
        const k = next++;
        await c.execute('INSERT INTO pairs VALUES (?, ?, ?)', [k, 'a', pad]);
        await c.execute('INSERT INTO pairs VALUES (?, ?, ?)', [k, 'b', pad]);
        await c.commit();
        process.stdout.write(`ack ${k}\n`);
      }
    }),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`crash-writer: ${String(e)}\n`);
  process.exit(1);
});
