/**
 * Child process for the crash harness: several connections commit explicit
 * transactions concurrently, each inserting a pair of rows ("ack <n>" once a
 * commit is acknowledged, i.e. durable), while two more connections write
 * single rows in autocommit mode, which go through group commit ("single <n>").
 * The parent SIGKILLs it.
 */
import * as sqlite3 from 'heliosdb-nano';

const [path, writersArg] = process.argv.slice(2);
const writers = Number(writersArg ?? 4);

async function main(): Promise<void> {
  const setup = await sqlite3.connect(path);
  await setup.execute('CREATE TABLE IF NOT EXISTS pairs(k INTEGER, part TEXT, pad BLOB)');
  await setup.execute('CREATE TABLE IF NOT EXISTS singles(k INTEGER, pad BLOB)');
  await setup.commit();
  const row = (await (await setup.execute('SELECT coalesce(max(k), 0) FROM pairs')).fetchone()) as [number];
  const srow = (await (await setup.execute('SELECT coalesce(max(k), 0) FROM singles')).fetchone()) as [number];
  await setup.close();
  let next = row[0] + 1;
  let nextSingle = srow[0] + 1;
  const autocommit = await Promise.all([1, 2].map(() => sqlite3.connect(path, { isolation_level: null })));
  const conns = await Promise.all(Array.from({ length: writers }, () => sqlite3.connect(path)));
  const pad = new Uint8Array(3000).fill(7);
  const singles = autocommit.map(async (c) => {
    for (;;) {
      const k = nextSingle++;
      await c.execute('INSERT INTO singles VALUES (?, ?)', [k, pad]);
      process.stdout.write(`single ${k}\n`);
    }
  });
  await Promise.all([
    ...singles,
    ...conns.map(async (c) => {
      for (;;) {
        const k = next++;
        await c.execute('INSERT INTO pairs VALUES (?, ?, ?)', [k, 'a', pad]);
        await c.execute('INSERT INTO pairs VALUES (?, ?, ?)', [k, 'b', pad]);
        await c.commit();
        process.stdout.write(`ack ${k}\n`);
      }
    }),
  ]);
}

main().catch((e: unknown) => {
  process.stderr.write(`crash-writer: ${String(e)}\n`);
  process.exit(1);
});
