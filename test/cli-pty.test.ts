/**
 * The `heliosdb` shell on a terminal: the built binary runs under a real pseudo-terminal
 * (Python's `pty` module relays bytes between the pty and this test), and the test types at
 * it as a user does — multi-line statements, history across sessions, Tab completion, Ctrl-C
 * during a long statement and at the prompt, Ctrl-D — and reads what the terminal shows.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/heliosdb.js');

/** Runs argv[1:] on a new pty (120x40) and relays: our stdin → pty, pty → our stdout; exits with the child's status. */
const RELAY = `
import os, pty, sys, select, fcntl, termios, struct
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
src, dst = sys.stdin.fileno(), sys.stdout.fileno()
reading = True
while True:
    r, _, _ = select.select([fd] + ([src] if reading else []), [], [])
    if fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(dst, data)
    if reading and src in r:
        data = os.read(src, 65536)
        if data:
            os.write(fd, data)
        else:
            reading = False
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

const ESC = String.fromCharCode(27);
/** Terminal control sequences (cursor moves, erases, bracketed-paste switches). */
const ESCAPES = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');
/** A carriage return followed by erase-to-end-of-line: the progress bar's erasure. */
const ERASED_LINE = new RegExp(`\r${ESC}\\[K`, 'g');
const TIMEOUT_MS = 20_000;

let dir = '';
/** Sessions still running: a failed test must not leave one behind (it would keep this file alive). */
const running = new Set<Terminal>();

/** A shell session on a pseudo-terminal. */
class Terminal {
  private readonly child: ChildProcessWithoutNullStreams;
  /** Everything the terminal received, as sent (escape sequences and CRs included). */
  raw = '';
  /** How much of the cleaned output earlier `expect`s consumed. */
  private seen = 0;
  private readonly exited: Promise<number | null>;

  constructor(args: readonly string[], home: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TERM: 'xterm' };
    delete env.HELIOSDB_HISTORY;
    this.child = spawn('python3', ['-c', RELAY, process.execPath, BIN, ...args], { cwd: dir, env });
    this.child.stdout.on('data', (d: Buffer) => (this.raw += d.toString('utf8')));
    this.child.stderr.on('data', (d: Buffer) => (this.raw += d.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  /** Ends the session at once (closing the pty hangs the shell up). */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** The output as a reader sees it: without escape sequences and carriage returns (an erased line ends a line). */
  get text(): string {
    return this.raw.replace(ERASED_LINE, '\n').replace(ESCAPES, '').replace(/\r/g, '');
  }

  write(s: string): void {
    this.child.stdin.write(s);
  }

  /** Types `s`, then waits a moment, so that a following Tab is not taken for part of a paste. */
  async type(s: string): Promise<void> {
    this.write(s);
    await sleep(150);
  }

  /** Waits until the output after the previous match contains `pattern`; returns that output. */
  async expect(pattern: RegExp | string, timeoutMs = TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.text.slice(this.seen);
      const m = typeof pattern === 'string' ? (rest.includes(pattern) ? { index: rest.indexOf(pattern), 0: pattern } : null) : pattern.exec(rest);
      if (m) {
        this.seen += m.index + m[0].length;
        return rest.slice(0, m.index + m[0].length);
      }
      if (Date.now() > deadline) {
        this.kill();
        assert.fail(`timed out waiting for ${String(pattern)}; the terminal shows:\n${rest}`);
      }
      await sleep(20);
    }
  }

  /** Ends input with Ctrl-D and returns the exit status. */
  async quit(): Promise<number | null> {
    this.write('\x04');
    return this.exitStatus();
  }

  async exitStatus(): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), TIMEOUT_MS);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const PROMPT = 'heliosdb> ';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heliosdb-pty-'));
  assert.equal(spawnSync('python3', ['-c', 'import pty']).status, 0, 'python3 with the pty module is needed');
});

afterEach(() => {
  for (const t of running) t.kill();
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function home(name: string): string {
  const h = join(dir, name);
  mkdirSync(h, { recursive: true });
  return h;
}

test('a statement typed over several lines gets the continuation prompt and runs at its semicolon; Ctrl-D leaves with status 0', async () => {
  const t = new Terminal(['app.db'], home('h1'));
  await t.expect('Enter ".help" for usage hints.');
  await t.expect(PROMPT);
  t.write('CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\r');
  await t.expect(PROMPT);
  t.write("INSERT INTO users(name) VALUES ('ada'),\r");
  await t.expect('     ...> ');
  t.write("('grace');\r");
  await t.expect(PROMPT);
  t.write('SELECT count(*)\r');
  await t.expect('     ...> ');
  t.write('  FROM users\r');
  await t.expect('     ...> ');
  t.write(';\r');
  assert.match(await t.expect(PROMPT), /^2$/m);
  t.write('.mode box\r');
  await t.expect(PROMPT);
  t.write('SELECT name FROM users ORDER BY id;\r');
  const box = await t.expect(PROMPT);
  assert.ok(box.includes('│ name  │\n├───────┤\n│ ada   │\n│ grace │\n└───────┘'), box);
  assert.equal(await t.quit(), 0);
});

test('history: entered lines are kept in ~/.heliosdb_history and come back with the Up arrow in the next session', async () => {
  const h = home('h2');
  const first = new Terminal([':memory:'], h);
  await first.expect(PROMPT);
  first.write("SELECT 'one';\r");
  await first.expect(/^one$/m);
  first.write("SELECT 'two';\r");
  await first.expect(/^two$/m);
  assert.equal(await first.quit(), 0);
  assert.deepEqual(readFileSync(join(h, '.heliosdb_history'), 'utf8').split('\n'), ["SELECT 'one';", "SELECT 'two';", '']);

  const second = new Terminal([':memory:'], h);
  await second.expect(PROMPT);
  await second.type('\x1b[A');
  await second.type('\x1b[A');
  await second.expect("SELECT 'one';");
  second.write('\r');
  await second.expect(/^one$/m);
  await second.expect(PROMPT);
  await second.type('\x1b[A');
  await second.expect("SELECT 'one';");
  second.write('\r');
  await second.expect(/^one$/m);
  assert.equal(await second.quit(), 0);
  const lines = readFileSync(join(h, '.heliosdb_history'), 'utf8').trim().split('\n');
  assert.deepEqual(lines, ["SELECT 'one';", "SELECT 'two';", "SELECT 'one';", "SELECT 'one';"]);
});

test('Tab completes dot-commands, keywords, table names, column names and table.column', async () => {
  const db = join(dir, 'complete.db');
  const setup = spawnSync(process.execPath, [BIN, db, "CREATE TABLE customers(email_address TEXT, created_at TEXT); INSERT INTO customers VALUES ('a@b.c', '2026-01-01')"]);
  assert.equal(setup.status, 0, setup.stderr.toString());
  const t = new Terminal([db], home('h3'));
  await t.expect(PROMPT);
  await t.type('.tab');
  await t.type('\t');
  await t.expect('.tables');
  t.write('\r');
  await t.expect(/^customers\s*$/m);
  await t.expect(PROMPT);
  await t.type('sel');
  await t.type('\t');
  await t.expect('select');
  await t.type(' email_a');
  await t.type('\t');
  await t.expect('email_address');
  await t.type(', customers.cr');
  await t.type('\t');
  await t.expect('customers.created_at');
  await t.type(' FROM cust');
  await t.type('\t');
  await t.expect('FROM customers');
  t.write(';\r');
  assert.match(await t.expect(PROMPT), /^a@b\.c\|2026-01-01$/m);
  assert.equal(await t.quit(), 0);
});

test('Ctrl-C stops a running statement and the shell carries on; at the prompt it discards what was typed', async () => {
  const t = new Terminal([':memory:'], home('h4'));
  await t.expect(PROMPT);
  t.write("SELECT 'before';\r");
  await t.expect(/^before$/m);
  t.write('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\r');
  await sleep(700);
  const sent = Date.now();
  t.write('\x03');
  await t.expect('Runtime error: interrupted (9)');
  assert.ok(Date.now() - sent < 10_000);
  await t.expect(PROMPT);
  t.write("SELECT 'still here';\r");
  await t.expect(/^still here$/m);
  await t.expect(PROMPT);
  await t.type("SELECT 'half");
  t.write('\x03');
  await t.expect('^C');
  await t.expect(PROMPT);
  t.write("SELECT 'whole';\r");
  const shown = await t.expect(/^whole$/m);
  assert.ok(!shown.includes('half\n'), shown);
  // As with the sqlite3 shell, a session in which a statement failed ends with status 1.
  assert.equal(await t.quit(), 1);
});

test('long operations draw a progress bar on the terminal: .import, .backup, .dump to a file', async () => {
  const lines = ['id,name,score'];
  for (let i = 0; i < 150_000; i++) lines.push(`${i},name ${i},${i / 4}`);
  writeFileSync(join(dir, 'big.csv'), `${lines.join('\n')}\n`);
  const t = new Terminal(['big.db'], home('h5'));
  await t.expect(PROMPT);
  t.write('.import --csv big.csv big\r');
  await t.expect(PROMPT);
  assert.match(t.raw, /\r\.import \[[#.]{30}\] +\d+% \d+\/\d+ bytes/);
  t.write('SELECT count(*) FROM big;\r');
  await t.expect(/^150000$/m);
  await t.expect(PROMPT);
  t.write('.backup big-copy.db\r');
  await t.expect('.backup big-copy.db');
  await t.expect(PROMPT);
  assert.match(t.raw, /\r\.backup \[[#.]{30}\] +\d+% \d+\/\d+ pages/);
  // Typed ahead: the shell runs them one after the other.
  t.write(".output big.sql\r.dump\r.output\rSELECT 'dumped';\r");
  await t.expect(/^dumped$/m);
  assert.match(t.raw, /\r\.dump \[[#.]{30}\] +\d+% \d+\/150000 rows/);
  assert.equal(await t.quit(), 0);
  assert.match(readFileSync(join(dir, 'big.sql'), 'utf8'), /INSERT INTO big VALUES\('149999','name 149999','37499\.75'\);\nCOMMIT;\n$/);
});
