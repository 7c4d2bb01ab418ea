/**
 * Child process for the branch kill test: writes pairs of rows (one tag,
 * two rows, one transaction) on main and prints "acked <tag>" once each is
 * durable; now and then creates a branch, writes a pair there and merges it
 * into main, deletes branches, and pads the database so checkpoints happen.
 * The parent kills it with SIGKILL at a random moment.
 */
import * as sqlite3 from 'heliosdb-nano';

const [path, run] = process.argv.slice(2);
const opts = { enable_branching: true, enable_time_travel: { retention_versions: 40 }, isolation_level: null } as const;
const c = await sqlite3.connect(path, opts);
await c.execute('CREATE TABLE IF NOT EXISTS pairs(tag TEXT, pad BLOB)');
for (let i = 0; ; i++) {
  const tag = `r${run}-${i}`;
  await c.execute('BEGIN');
  await c.execute('INSERT INTO pairs VALUES (?, randomblob(1500))', [tag]);
  await c.execute('INSERT INTO pairs VALUES (?, randomblob(1500))', [tag]);
  await c.execute('COMMIT');
  process.stdout.write(`acked ${tag}\n`);
  if (i % 5 === 2) {
    const name = `b${run}_${i}`;
    await c.create_branch(name);
    const b = await sqlite3.connect(path, { ...opts, branch: name });
    await b.execute('BEGIN');
    await b.execute('INSERT INTO pairs VALUES (?, NULL)', [`${name}-pair`]);
    await b.execute('INSERT INTO pairs VALUES (?, NULL)', [`${name}-pair`]);
    await b.execute('COMMIT');
    await b.close();
    await c.merge_branch(name);
    process.stdout.write(`acked ${name}-pair\n`);
    if (i % 10 === 2) await c.delete_branch(name);
  }
}
