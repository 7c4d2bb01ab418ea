/**
 * One engine owns each database (ARCHITECTURE.md §2), between real processes:
 * the owner lock beside a database file (`<db>-hlock`), races to open it,
 * takeover of locks left by SIGKILLed, reused, zombie or garbage owners, and a
 * native program (Python's sqlite3) writing the file while we hold it.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as sqlite3 from 'heliosdb-nano';

const dir = mkdtempSync(join(tmpdir(), 'heliosdb-own-'));
let n = 0;
const fresh = (): string => join(dir, `db${++n}.db`);
const childScript = new URL('./helpers/owner-child.js', import.meta.url).pathname;
const crashWriter = new URL('./helpers/crash-writer.js', import.meta.url).pathname;

function python(path: string, code: string): string {
  return execFileSync('python3', ['-c', `import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n${code}`, path]).toString().trim();
}

function integrity(path: string): string {
  return python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0])");
}

/** Files beside `path` that belong to it (`-hlock`, `-hlog`, temporary lock files…). */
function sideFiles(path: string): string[] {
  const name = basename(path);
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${name}-`))
    .map((f) => f.slice(name.length))
    .sort();
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function scalar(c: sqlite3.Connection, sql: string): Promise<unknown> {
  const row = (await (await c.execute(sql)).fetchone()) as unknown[] | null;
  return row?.[0];
}

/** This machine's boot id and a process's start time, as the lock records them. */
function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  } catch {
    return null;
  }
}

function startTicks(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}

/** Writes a lock file as an owner with these details would have. */
function plantLock(path: string, owner: { pid: number; host?: string; startTicks?: number | null; boot?: string | null }): string {
  const token = createHash('sha256').update(`${path}:${owner.pid}:${Math.random()}`).digest('hex').slice(0, 24);
  const info = {
    engine: 'heliosdb-nano 0.1.0',
    pid: owner.pid,
    host: owner.host ?? hostname(),
    boot: owner.boot === undefined ? bootId() : owner.boot,
    startTicks: owner.startTicks === undefined ? startTicks(owner.pid) : owner.startTicks,
    started: '2026-01-01T00:00:00.000Z',
    since: '2026-01-01T00:00:01.000Z',
    database: path,
    reach: null,
    token,
  };
  writeFileSync(`${path}-hlock`, JSON.stringify(info));
  return token;
}

/** A pid that no process has now (a process that ran and was reaped). */
function deadPid(): number {
  const r = spawnSync('true');
  assert.ok(r.pid !== undefined && r.pid > 0);
  return r.pid;
}

type Reply = Record<string, unknown>;

/** A test/helpers/owner-child.ts process: one command per line, one JSON reply per line. */
class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  private buffered: Reply[] = [];
  private waiting: Array<(r: Reply) => void> = [];
  private err = '';
  readonly exited: Promise<NodeJS.Signals | number | null>;
  pid = 0;

  private constructor(env?: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, [childScript], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let out = '';
    this.proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      let i;
      while ((i = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, i);
        out = out.slice(i + 1);
        const r = JSON.parse(line) as Reply;
        const w = this.waiting.shift();
        if (w) w(r);
        else this.buffered.push(r);
      }
    });
    this.proc.stderr.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve(signal ?? code)));
  }

  static async start(): Promise<Child> {
    const c = new Child();
    const ready = await c.next();
    c.pid = Number(ready.ready);
    return c;
  }

  next(): Promise<Reply> {
    const r = this.buffered.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply from child ${this.pid}: ${this.err}`)), 30_000);
      this.waiting.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }

  ask(line: string): Promise<Reply> {
    this.send(line);
    return this.next();
  }

  async exit(): Promise<void> {
    this.send('exit');
    await this.exited;
  }
}

/** The refusal a process gets for a database that `ownerPid` owns. */
function assertRefused(r: Reply, ownerPid: number, path: string): void {
  assert.equal(r.won, false, 'the second process must be refused');
  assert.equal(r.kind, 'OperationalError', String(r.message));
  const message = String(r.message);
  assert.match(message, /is in use by another heliosdb process/);
  assert.ok(message.includes(`pid ${ownerPid} on host ${hostname()}`), message);
  assert.ok(message.includes(path), message);
  assert.match(message, /connect through that process \(server and hybrid modes are not available in this version\) or close it first/);
}

describe('two processes, one database file', () => {
  test('two processes race to open one file 100 times: exactly one wins each time, the other is refused, integrity ok', { timeout: 120_000 }, async () => {
    const [a, b] = await Promise.all([Child.start(), Child.start()]);
    const shared = fresh();
    const perRound: string[] = [];
    const wins = new Map<number, number>();
    const started = Date.now();
    for (let round = 0; round < 100; round++) {
      // Even rounds: the same database again and again; odd ones: a file that does not exist yet.
      const path = round % 2 === 0 ? shared : fresh();
      perRound.push(path);
      a.send(`open ${path}`);
      b.send(`open ${path}`);
      const [ra, rb] = await Promise.all([a.next(), b.next()]);
      assert.equal(Number(ra.won === true) + Number(rb.won === true), 1, `round ${round}: exactly one winner (${JSON.stringify([ra, rb])})`);
      const [winner, loser, lost] = ra.won === true ? [a, b, rb] : [b, a, ra];
      assertRefused(lost, winner.pid, path);
      wins.set(winner.pid, (wins.get(winner.pid) ?? 0) + 1);
      assert.deepEqual(await winner.ask(`insert ${round}`), { ack: round });
      // The loser keeps nothing open: the lock names the winner.
      assert.equal(JSON.parse(readFileSync(`${path}-hlock`, 'utf8')).pid, winner.pid);
      assert.deepEqual(await winner.ask('close'), { closed: true });
      assert.deepEqual(sideFiles(path), [], `round ${round}: no lock, log or temporary file is left`);
      void loser;
    }
    const ms = Date.now() - started;
    await Promise.all([a.exit(), b.exit()]);
    assert.equal(integrity(shared), 'ok');
    assert.equal(python(shared, "print(c.execute('SELECT count(*), min(k), max(k) FROM t').fetchone())"), '(50, 0, 98)');
    for (const path of perRound.filter((p) => p !== shared)) {
      assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0], c.execute('SELECT count(*) FROM t').fetchone()[0])"), 'ok 1');
    }
    console.log(`# 100 races in ${ms} ms; wins: ${JSON.stringify(Object.fromEntries(wins))}`);
  });

  test('the refused process writes nothing: database, commit log and lock are untouched, no file is added', async () => {
    const owner = await Child.start();
    const path = fresh();
    assert.deepEqual(await owner.ask(`open ${path}`), { won: true });
    for (let k = 0; k < 20; k++) await owner.ask(`insert ${k}`);
    // The commits are in the log only: a second opener that recovered it would write.
    const before = Object.fromEntries(readdirSync(dir).filter((f) => f.startsWith(basename(path))).map((f) => [f, sha(join(dir, f))]));
    assert.ok(`${basename(path)}-hlog` in before && `${basename(path)}-hlock` in before, JSON.stringify(before));
    const other = await Child.start();
    assertRefused(await other.ask(`open ${path}`), owner.pid, path);
    assertRefused(await other.ask(`open ${path} ro`), owner.pid, path);
    // In this process too.
    await assert.rejects(sqlite3.connect(path), (e: unknown) => {
      assert.ok(e instanceof sqlite3.OperationalError, String(e));
      assert.equal((e as sqlite3.OperationalError).sqlite_errorname, 'SQLITE_BUSY');
      assert.ok((e as Error).message.includes(`pid ${owner.pid}`));
      return true;
    });
    // ATTACH too.
    const m = await sqlite3.connect(':memory:');
    await assert.rejects(m.execute(`ATTACH '${path}' AS other`), (e: unknown) => {
      assert.ok(e instanceof sqlite3.OperationalError, String(e));
      assert.match((e as Error).message, /^unable to open database: .*is in use by another heliosdb process \(pid \d+/);
      return true;
    });
    await m.close();
    const after = Object.fromEntries(readdirSync(dir).filter((f) => f.startsWith(basename(path))).map((f) => [f, sha(join(dir, f))]));
    assert.deepEqual(after, before);
    assert.deepEqual(await owner.ask('count'), { count: 20 });
    await owner.ask('close');
    await Promise.all([owner.exit(), other.exit()]);
    assert.deepEqual(sideFiles(path), []);
    assert.equal(python(path, "print(c.execute('SELECT count(*) FROM t').fetchone()[0])"), '20');
  });

  test('mode=ro follows the same rule, both ways', async () => {
    const path = fresh();
    {
      await using c = await sqlite3.connect(path);
      await c.execute('CREATE TABLE t(k INTEGER PRIMARY KEY, pid INTEGER)');
      await c.execute('INSERT INTO t VALUES (1, 0)');
      await c.commit();
    }
    const owner = await Child.start();
    // A read-write owner refuses read-only openers…
    assert.deepEqual(await owner.ask(`open ${path}`), { won: true });
    await assert.rejects(sqlite3.connect(`file:${path}?mode=ro`, { uri: true }), (e: unknown) => {
      assert.ok(e instanceof sqlite3.OperationalError, String(e));
      assert.ok((e as Error).message.includes(`pid ${owner.pid}`), (e as Error).message);
      return true;
    });
    await owner.ask('close');
    // …and a read-only owner refuses read-write ones (its cached pages would go stale under them).
    assert.deepEqual(await owner.ask(`open ${path} ro`), { won: true });
    await assert.rejects(sqlite3.connect(path), /is in use by another heliosdb process/);
    await owner.ask('close');
    await owner.exit();
    // Free again: a read-only open here takes the lock while open and leaves nothing behind.
    const ro = await sqlite3.connect(`file:${path}?mode=ro`, { uri: true });
    assert.equal(await scalar(ro, 'SELECT count(*) FROM t'), 1);
    assert.deepEqual(sideFiles(path), ['-hlock']);
    await ro.close();
    assert.deepEqual(sideFiles(path), []);
  });

  test('connections of one process share the lock; the last close removes it, and so does process exit', async () => {
    const path = fresh();
    const a = await sqlite3.connect(path);
    const b = await sqlite3.connect(path, { isolation_level: null });
    const ro = await sqlite3.connect(`file:${path}?mode=ro`, { uri: true });
    await a.execute('CREATE TABLE t(x)');
    await a.commit();
    await b.execute('INSERT INTO t VALUES (1)');
    assert.equal(await scalar(ro, 'SELECT count(*) FROM t'), 1);
    const lock = JSON.parse(readFileSync(`${path}-hlock`, 'utf8')) as Record<string, unknown>;
    assert.equal(lock.pid, process.pid);
    assert.equal(lock.host, hostname());
    assert.equal(lock.database, path);
    assert.equal(lock.reach, null);
    assert.match(String(lock.engine), /^heliosdb-nano /);
    await a.close();
    await b.close();
    assert.ok(existsSync(`${path}-hlock`), 'still open (read-only connection)');
    await ro.close();
    assert.deepEqual(sideFiles(path), []);
    // A process that exits with the database open removes its lock; its log is recovered by the next owner.
    const other = fresh();
    const child = await Child.start();
    await child.ask(`open ${other}`);
    await child.ask('insert 7');
    assert.ok(existsSync(`${other}-hlock`));
    await child.exit();
    assert.deepEqual(sideFiles(other), ['-hlog']);
    await using c = await sqlite3.connect(other);
    assert.equal(await scalar(c, 'SELECT count(*) FROM t WHERE k = 7'), 1);
  });
});

describe('stale locks', () => {
  async function runAndKill(path: string, afterMs: number, reap: boolean): Promise<{ pairs: number[]; singles: number[]; pid: number }> {
    const child = spawn(process.execPath, [crashWriter, path, '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const start = Date.now();
    while (!out.includes('ack') && Date.now() - start < 20_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, afterMs));
    child.kill('SIGKILL');
    if (reap) await exited;
    assert.ok(out.includes('ack'), `the writer never acknowledged a commit: ${err}`);
    const lines = out.split('\n');
    return {
      pairs: lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4))),
      singles: lines.filter((l) => l.startsWith('single ')).map((l) => Number(l.slice(7))),
      pid: child.pid ?? 0,
    };
  }

  test('the owner is SIGKILLed: a new process takes the lock over and sees every acknowledged commit', { timeout: 120_000 }, async () => {
    const path = fresh();
    for (let i = 0; i < 4; i++) {
      // Every other time the new process starts before the killed one is reaped (a zombie owner).
      const acked = await runAndKill(path, 50 + Math.floor(Math.random() * 250), i % 2 === 0);
      const lock = JSON.parse(readFileSync(`${path}-hlock`, 'utf8')) as { pid: number };
      assert.equal(lock.pid, acked.pid, 'the killed process left its lock');
      const taker = await Child.start();
      assert.deepEqual(await taker.ask(`open ${path}`), { won: true });
      assert.equal(JSON.parse(readFileSync(`${path}-hlock`, 'utf8')).pid, taker.pid, 'the lock names the new owner');
      const seen = (await taker.ask(`sql ${JSON.stringify({ q: 'SELECT DISTINCT k FROM pairs' })}`)).rows as number[][];
      const have = new Set(seen.map((r) => r[0]));
      assert.deepEqual(acked.pairs.filter((k) => !have.has(k)), [], 'every acknowledged transaction is seen by the new owner');
      const singles = new Set(((await taker.ask(`sql ${JSON.stringify({ q: 'SELECT k FROM singles' })}`)).rows as number[][]).map((r) => r[0]));
      assert.deepEqual(acked.singles.filter((k) => !singles.has(k)), [], 'every acknowledged grouped insert is seen');
      const partial = (await taker.ask(`sql ${JSON.stringify({ q: 'SELECT count(*) FROM (SELECT k FROM pairs GROUP BY k HAVING count(*) <> 2)' })}`)).rows;
      assert.deepEqual(partial, [[0]], 'no partial transaction');
      await taker.ask('close');
      await taker.exit();
      assert.deepEqual(sideFiles(path), []);
      assert.equal(integrity(path), 'ok');
      const counts = python(path, "print(c.execute('SELECT count(DISTINCT k) FROM pairs').fetchone()[0] >= " + String(new Set(acked.pairs).size) + ')');
      assert.equal(counts, 'True');
    }
  });

  test('processes that find the same stale lock at once: exactly one takes it over', { timeout: 120_000 }, async () => {
    const children = await Promise.all([Child.start(), Child.start(), Child.start()]);
    for (let round = 0; round < 12; round++) {
      const path = fresh();
      const token = plantLock(path, { pid: deadPid() });
      if (round % 3 === 2) {
        // A competitor that died holding the first takeover mutex: the next level is used.
        const st = statSync(`${path}-hlock`);
        const id = createHash('sha256').update(`${st.dev}:${st.ino}:${token}`).digest('hex').slice(0, 16);
        writeFileSync(`${path}-hlock.takeover-${id}-1`, JSON.stringify({ pid: deadPid(), host: hostname(), token: 'x', boot: bootId(), startTicks: null }));
      }
      for (const c of children) c.send(`open ${path}`);
      const replies = await Promise.all(children.map((c) => c.next()));
      const winners = children.filter((_, i) => replies[i].won === true);
      assert.equal(winners.length, 1, `round ${round}: exactly one winner: ${JSON.stringify(replies)}`);
      for (let i = 0; i < children.length; i++) if (replies[i].won !== true) assertRefused(replies[i], winners[0].pid, path);
      await winners[0].ask(`insert ${round}`);
      await winners[0].ask('close');
      assert.deepEqual(sideFiles(path), [], 'no lock, mutex or temporary file is left');
      assert.equal(python(path, "print(c.execute('SELECT count(*) FROM t').fetchone()[0])"), '1');
    }
    await Promise.all(children.map((c) => c.exit()));
  });

  test('a lock naming a live process that reused the pid (other start time) is stale; the live owner itself is not', async () => {
    const sleeper = spawn('sleep', ['60']);
    try {
      const pid = sleeper.pid ?? 0;
      const ticks = startTicks(pid);
      if (ticks === null) return; // no /proc: start times cannot be compared here
      const path = fresh();
      plantLock(path, { pid, startTicks: ticks });
      await assert.rejects(sqlite3.connect(path), (e: unknown) => {
        assert.ok(e instanceof sqlite3.OperationalError);
        assert.ok((e as Error).message.includes(`pid ${pid} on host ${hostname()}`), (e as Error).message);
        return true;
      });
      assert.deepEqual(sideFiles(path), ['-hlock'], 'the refused open left nothing');
      assert.equal(existsSync(path), false, 'the refused open did not create the database');
      plantLock(path, { pid, startTicks: ticks + 1 });
      await using c = await sqlite3.connect(path);
      assert.equal(await scalar(c, 'SELECT 1'), 1, 'the new owner works');
      assert.equal(JSON.parse(readFileSync(`${path}-hlock`, 'utf8')).pid, process.pid);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  test('a zombie owner (killed, not yet reaped) is stale', async () => {
    // Python forks a child that exits at once and is never waited for: a zombie with a real pid.
    const py = spawn('python3', ['-c', 'import os, sys, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(60)']);
    try {
      const pid = await new Promise<number>((resolve) => py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      for (let i = 0; i < 100 && !readFileSync(`/proc/${pid}/stat`, 'latin1').includes(') Z '); i++) await new Promise((r) => setTimeout(r, 10));
      const path = fresh();
      plantLock(path, { pid });
      await using c = await sqlite3.connect(path);
      assert.equal(await scalar(c, 'SELECT 1'), 1, 'the new owner works');
      assert.equal(JSON.parse(readFileSync(`${path}-hlock`, 'utf8')).pid, process.pid);
    } finally {
      py.kill('SIGKILL');
    }
  });

  test('garbage, other-boot, other-host and same-process locks', async () => {
    // Garbage that has been there a while: stale.
    const g = fresh();
    writeFileSync(`${g}-hlock`, 'not a lock {');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${g}-hlock`, old, old);
    {
      await using c = await sqlite3.connect(g);
      assert.equal(await scalar(c, 'SELECT 1'), 1, 'the new owner works');
      assert.equal(JSON.parse(readFileSync(`${g}-hlock`, 'utf8')).pid, process.pid);
    }
    // An empty lock just created (a writer without hard links, mid-write): waited for, then stale.
    const e = fresh();
    writeFileSync(`${e}-hlock`, '');
    const t0 = Date.now();
    {
      await using c = await sqlite3.connect(e);
      assert.equal(await scalar(c, 'SELECT 1'), 1, 'the new owner works');
      assert.ok(Date.now() - t0 >= 1000, 'a fresh unreadable lock is given time to be written');
    }
    // Written before the last reboot: stale even if its pid runs now.
    const b = fresh();
    plantLock(b, { pid: 1, boot: '00000000-0000-0000-0000-000000000000' });
    {
      await using c = await sqlite3.connect(b);
      assert.equal(await scalar(c, 'SELECT 1'), 1, 'the new owner works');
    }
    // Another host: its liveness cannot be checked, so it is refused, with what to do.
    const h = fresh();
    plantLock(h, { pid: 4242, host: 'elsewhere.example' });
    await assert.rejects(sqlite3.connect(h), (err: unknown) => {
      assert.ok(err instanceof sqlite3.OperationalError);
      const m = (err as Error).message;
      assert.ok(m.includes('pid 4242 on host elsewhere.example'), m);
      assert.ok(m.includes(`delete ${h}-hlock`), m);
      return true;
    });
    // This very process, under another token: another engine (a second copy of the package, a worker thread).
    const s = fresh();
    plantLock(s, { pid: process.pid });
    await assert.rejects(sqlite3.connect(s), /already open in another heliosdb engine of this process/);
    for (const p of [g, e, b]) assert.deepEqual(sideFiles(p), []);
  });
});

describe('a native program writes the file while we hold it', () => {
  test('Python writes into a database whose commits are still in our log: we refuse, and never overwrite its file', async () => {
    const path = fresh();
    const c = await sqlite3.connect(path);
    await c.execute('CREATE TABLE ours(x)');
    await c.executemany('INSERT INTO ours VALUES (?)', Array.from({ length: 100 }, (_, i) => [i]));
    await c.commit();
    assert.equal(statSync(path).size, 0, 'nothing checkpointed yet: our commits are only in the log');
    python(path, "c.execute('CREATE TABLE native(y)')\nc.executemany('INSERT INTO native VALUES (?)', [(i,) for i in range(500)])\nc.commit()");
    const written = sha(path);
    await new Promise((r) => setTimeout(r, 60));
    await assert.rejects(c.execute('SELECT count(*) FROM ours'), (e: unknown) => {
      assert.ok(e instanceof sqlite3.OperationalError, String(e));
      const m = (e as Error).message;
      assert.match(m, /was changed by another program while heliosdb had it open \(its size went from 0 to \d+ bytes\)/);
      assert.ok(m.includes(path), m);
      return true;
    });
    // It stays refused, for every statement of every connection.
    await assert.rejects(c.execute('INSERT INTO ours VALUES (1)'), /changed by another program/);
    await c.close();
    assert.equal(sha(path), written, 'the file is as Python left it');
    assert.deepEqual(sideFiles(path), ['-hlog'], 'our commits are kept in the log; the lock is gone');
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0], c.execute('SELECT count(*) FROM native').fetchone()[0])"), 'ok 500');
    // The next open refuses the log rather than replay it over Python's file (the existing recovery check).
    await assert.rejects(sqlite3.connect(path), /changed by another program after heliosdb last had it open/);
    assert.equal(sha(path), written);
  });

  test('Python changes a checkpointed database under an idle connection: refused at the next transaction', async () => {
    const path = fresh();
    {
      await using c = await sqlite3.connect(path);
      await c.execute('CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)');
      await c.executemany('INSERT INTO t VALUES (?, ?)', Array.from({ length: 200 }, (_, i) => [i, 'ours']));
      await c.commit();
    }
    const c = await sqlite3.connect(path);
    assert.equal(await scalar(c, 'SELECT count(*) FROM t'), 200);
    const size = statSync(path).size;
    python(path, "c.execute(\"UPDATE t SET v = 'python' WHERE k < 10\")\nc.commit()");
    assert.equal(statSync(path).size, size, 'same size: only the change counter tells');
    const written = sha(path);
    await new Promise((r) => setTimeout(r, 60));
    await assert.rejects(c.execute("UPDATE t SET v = 'lost' WHERE k < 100"), (e: unknown) => {
      assert.ok(e instanceof sqlite3.OperationalError, String(e));
      assert.match((e as Error).message, /its header changed \(file change counter \d+ → \d+\)/);
      return true;
    });
    await c.close();
    assert.equal(sha(path), written);
    assert.deepEqual(sideFiles(path), []);
    // Nothing of ours was pending: the file simply is Python's version, and opens here again.
    await using d = await sqlite3.connect(path);
    assert.equal(await scalar(d, "SELECT count(*) FROM t WHERE v = 'python'"), 10);
  });

  test('Python writes just before our last close: the final checkpoint is refused, the file is intact', async () => {
    const path = fresh();
    const c = await sqlite3.connect(path);
    await c.execute('CREATE TABLE t(x)');
    await c.commit();
    await c.close();
    const d = await sqlite3.connect(path);
    await d.execute('INSERT INTO t VALUES (1)');
    await d.commit();
    python(path, "c.execute('INSERT INTO t VALUES (2)')\nc.commit()");
    const written = sha(path);
    // No statement in between: the close's checkpoint is what notices.
    await d.close();
    assert.equal(sha(path), written);
    assert.deepEqual(sideFiles(path), ['-hlog']);
    assert.equal(python(path, "print(c.execute('PRAGMA integrity_check').fetchone()[0], c.execute('SELECT x FROM t').fetchall())"), 'ok [(2,)]');
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
