/**
 * Oracles for the VFS tests: Python's `sqlite3` module (native SQLite) run as a
 * child process, and a canonical dump of a database that both Python and our
 * WASM SQLite produce the same way, so their views of one file can be compared.
 */
import { spawnSync } from 'node:child_process';
import type { Database } from '@sqlite.org/sqlite-wasm';

/** One cell: its SQLite storage class and a lossless text form of its value. */
export type Cell = null | { readonly t: 'integer' | 'real' | 'text' | 'blob'; readonly v: string };

/** Everything a database holds, in a form that compares with deepEqual. */
export interface Dump {
  /** [type, name, tbl_name, sql] for every schema object, sorted. */
  readonly schema: (string | null)[][];
  /** Each table's rows in key order. */
  readonly tables: Record<string, Cell[][]>;
}

/** Python's own findings about a file: its dump plus `PRAGMA integrity_check`. */
export interface PythonDump extends Dump {
  readonly integrity: string;
}

const SCHEMA_SQL =
  "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name";
const TABLES_SQL = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

/**
 * The Python half of every oracle. Reals travel as IEEE-754 bit patterns and
 * integers as decimal text so that nothing is lost in JSON; blobs as hex.
 * (It sits in a template literal: no backslashes in it, and `${…}` only for the
 * two SQL strings shared with the JavaScript side.)
 */
const PYTHON = `
import sqlite3, json, struct, sys, hashlib, os, random, signal

SCHEMA_SQL = ${JSON.stringify(SCHEMA_SQL)}
TABLES_SQL = ${JSON.stringify(TABLES_SQL)}

def q(name):
    return '"' + name.replace('"', '""') + '"'

def cell(t, v):
    if t == 'null':
        return None
    if t == 'real':
        return {'t': 'real', 'v': struct.pack('>d', v).hex()}
    return {'t': t, 'v': v}

def select_sql(con, table):
    info = con.execute('PRAGMA table_info(' + q(table) + ')').fetchall()
    parts = []
    for col in info:
        c = q(col[1])
        parts.append("typeof(%s), CASE typeof(%s) WHEN 'integer' THEN CAST(%s AS TEXT) WHEN 'blob' THEN hex(%s) ELSE %s END" % (c, c, c, c, c))
    pk = sorted([col for col in info if col[5] > 0], key=lambda col: col[5])
    order = ', '.join(q(col[1]) for col in pk) if pk else 'rowid'
    return 'SELECT ' + ', '.join(parts) + ' FROM ' + q(table) + ' ORDER BY ' + order

def dump(path):
    con = sqlite3.connect(path)
    schema = [list(r) for r in con.execute(SCHEMA_SQL)]
    tables = {}
    for (name,) in con.execute(TABLES_SQL).fetchall():
        rows = []
        for r in con.execute(select_sql(con, name)):
            rows.append([cell(r[i], r[i + 1]) for i in range(0, len(r), 2)])
        tables[name] = rows
    integrity = con.execute('PRAGMA integrity_check').fetchone()[0]
    con.close()
    return {'schema': schema, 'tables': tables, 'integrity': integrity}

def sample(path, mode, n):
    rnd = random.Random(7)
    con = sqlite3.connect(path, isolation_level=None)
    if mode == 'wal':
        con.execute('PRAGMA journal_mode=WAL')
    con.execute('CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, score REAL, avatar BLOB, note TEXT)')
    con.execute('CREATE UNIQUE INDEX people_name ON people(name)')
    con.execute('CREATE INDEX people_age ON people(age, score)')
    con.execute('CREATE TABLE tags(tag TEXT PRIMARY KEY, weight REAL, big INTEGER) WITHOUT ROWID')
    con.execute('CREATE VIEW adults AS SELECT id, name FROM people WHERE age >= 18')
    con.execute('BEGIN')
    for i in range(n):
        size = 20000 if i % 97 == 0 else rnd.randrange(0, 300)
        con.execute('INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)', (
            i + 1, 'py-' + str(i) + '-hélios-✓', rnd.choice([None, rnd.randrange(0, 100)]),
            rnd.uniform(-1e6, 1e6), rnd.randbytes(size), rnd.choice([None, 'note ' * rnd.randrange(0, 50)])))
    for i in range(n // 10):
        con.execute('INSERT INTO tags VALUES (?, ?, ?)', ('tag-' + str(i), rnd.random(), 2 ** 62 + i * 7919 - 3))
    con.execute('COMMIT')
    con.close()

def wal_crash(path, txns, rows):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute('PRAGMA journal_mode=WAL')
    con.execute('PRAGMA wal_autocheckpoint=0')
    con.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, txn INTEGER, v TEXT, b BLOB)')
    for t in range(txns):
        con.execute('BEGIN')
        for r in range(rows):
            con.execute('INSERT INTO t(txn, v, b) VALUES (?, ?, ?)', (t, 'committed ' + str(t) + '/' + str(r), bytes([t % 256]) * 500))
        con.execute('COMMIT')
    con.execute('BEGIN')
    con.execute("INSERT INTO t(txn, v) VALUES (-1, 'never committed')")
    print(json.dumps({'wal': os.path.getsize(path + '-wal')}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

def blob_hash(con):
    h = hashlib.sha256()
    for (d,) in con.execute('SELECT data FROM b ORDER BY id'):
        h.update(d)
    return h.hexdigest()

def big_write(path, count, size):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute('CREATE TABLE b(id INTEGER PRIMARY KEY, data BLOB)')
    con.execute('BEGIN')
    for i in range(count):
        con.execute('INSERT INTO b VALUES (?, ?)', (i + 1, os.urandom(size)))
    con.execute('COMMIT')
    print(json.dumps({'sha256': blob_hash(con)}))
    con.close()

def big_hash(path):
    con = sqlite3.connect(path)
    print(json.dumps({'sha256': blob_hash(con), 'integrity': con.execute('PRAGMA quick_check').fetchone()[0]}))
    con.close()

cmd = sys.argv[1]
args = sys.argv[2:]
if cmd == 'dump':
    print(json.dumps(dump(args[0])))
elif cmd == 'sample':
    sample(args[0], args[1], int(args[2]))
elif cmd == 'wal-crash':
    wal_crash(args[0], int(args[1]), int(args[2]))
elif cmd == 'big-write':
    big_write(args[0], int(args[1]), int(args[2]))
elif cmd == 'big-hash':
    big_hash(args[0])
else:
    raise SystemExit('unknown command ' + cmd)
`;

/** The outcome of one Python run. */
export interface PythonRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Runs one oracle command in a fresh `python3` (native SQLite) process. */
export function runPython(...args: string[]): PythonRun {
  const r = spawnSync('python3', ['-c', PYTHON, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, signal: r.signal };
}

/** Runs an oracle command that must succeed and print one JSON document (or nothing). */
export function python<T>(...args: string[]): T {
  const r = runPython(...args);
  if (r.status !== 0) throw new Error(`python3 ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return (r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout)) as T;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function realBits(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return hex(new Uint8Array(view.buffer));
}

function quoteId(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The same dump as the Python oracle's, taken through our WASM SQLite. */
export function dumpDb(db: Database): Dump {
  const schema = db.selectArrays(SCHEMA_SQL).map((row) => row.map((v) => (v === null ? null : String(v))));
  const tables: Record<string, Cell[][]> = {};
  for (const name of db.selectValues(TABLES_SQL).map(String)) {
    const info = db.selectArrays(`PRAGMA table_info(${quoteId(name)})`);
    const parts = info.map((col) => {
      const c = quoteId(String(col[1]));
      return `typeof(${c}), CASE typeof(${c}) WHEN 'integer' THEN CAST(${c} AS TEXT) WHEN 'blob' THEN hex(${c}) ELSE ${c} END`;
    });
    const pk = info.filter((col) => Number(col[5]) > 0).sort((a, b) => Number(a[5]) - Number(b[5]));
    const order = pk.length > 0 ? pk.map((col) => quoteId(String(col[1]))).join(', ') : 'rowid';
    const rows = db.selectArrays(`SELECT ${parts.join(', ')} FROM ${quoteId(name)} ORDER BY ${order}`);
    tables[name] = rows.map((r) => {
      const cells: Cell[] = [];
      for (let i = 0; i < r.length; i += 2) {
        const t = String(r[i]);
        const v = r[i + 1];
        if (t === 'null') cells.push(null);
        else if (t === 'real') cells.push({ t: 'real', v: realBits(Number(v)) });
        else if (t === 'integer' || t === 'text' || t === 'blob') cells.push({ t, v: String(v) });
        else throw new Error(`unexpected storage class ${t}`);
      }
      return cells;
    });
  }
  return { schema, tables };
}

/** A small deterministic PRNG (mulberry32) for reproducible test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
