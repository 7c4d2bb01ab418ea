/**
 * ANN indexes over a table's vector column (USearch HNSW, compiled to WASM),
 * kept in step with the data through SQL and stored inside the database.
 *
 * Why not a virtual table that owns the vectors: the rows stay in the user's
 * own table (any SQLite reads them; exact search keeps working), and the
 * index is a derived structure, like a B-tree index:
 * - `heliosdb_vector_index` (catalog): one row per index with its options,
 *   and the serialized index as of log position `saved_seq`.
 * - `heliosdb_vector_log_<name>(seq, rid)`: triggers on the base table append
 *   the rowid of every inserted, updated or deleted row, in the writing
 *   transaction itself, so a rolled-back write leaves no trace and every
 *   snapshot sees exactly the changes it should.
 * - In memory (one per engine and database): the index and the log position
 *   it reflects. A search first applies the log entries its snapshot sees
 *   beyond that position. A reader whose snapshot is older than the index, or
 *   a transaction with uncommitted writes, gets exact search instead, so a
 *   result never reflects a version the reader cannot see.
 * `vector_search(index, query, k [, filter])` is an eponymous table-valued
 * function: rowid and distance of the top k, joinable with the base table.
 */
import { decodeVector, VectorError } from '../vector/codec.js';
import { checkMetric, distance, type DistanceMetric } from '../vector/distance.js';
import { UsearchIndex, type Metric, type Scalar, type Usearch } from '../vector/usearch.js';
import { EngineError } from './engine-error.js';
import type { Session } from './session.js';
import type { SqlValue } from './values.js';

export interface VectorIndexOptions {
  readonly metric?: string;
  readonly dimensions?: number;
  readonly quantization?: 'f32' | 'f16' | 'int8';
  readonly connectivity?: number;
  readonly expansion_add?: number;
  readonly expansion_search?: number;
}

interface Spec {
  readonly name: string;
  readonly table: string;
  readonly column: string;
  readonly metric: DistanceMetric;
  readonly dims: number;
  readonly quantization: 'f32' | 'f16' | 'int8';
  readonly connectivity: number;
  readonly expansionAdd: number;
  readonly expansionSearch: number;
  readonly generation: string;
  readonly savedSeq: number;
}

interface Live {
  readonly generation: string;
  readonly index: UsearchIndex;
  applied: number;
  /** Rows whose vector is missing or malformed: not in the index. */
  skipped: Set<bigint>;
}

export interface Hit {
  readonly rowid: bigint;
  readonly distance: number;
}

const CATALOG = 'heliosdb_vector_index';
const ID = '(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)';
const NEAREST = new RegExp(
  `^\\s*(?<explain>EXPLAIN\\s+(?:QUERY\\s+PLAN\\s+)?)?SELECT\\s+(?<cols>.+?)\\s+FROM\\s+(?<table>${ID})(?:\\s+(?:AS\\s+)?(?<alias>${ID}))?` +
    `(?:\\s+WHERE\\s+(?<where>.+?))?\\s+ORDER\\s+BY\\s+vector_distance\\s*\\(\\s*(?<col>(?:${ID}\\.)?${ID})\\s*,\\s*` +
    `(?<arg>\\?\\d*|:[A-Za-z_]\\w*|@[A-Za-z_]\\w*|'[^']*')\\s*,\\s*'(?<metric>\\w+)'\\s*\\)(?:\\s+ASC)?\\s+LIMIT\\s+(?<k>\\d+)\\s*;?\\s*$`,
  'is',
);

function catalogExists(session: Session): boolean {
  return session.queryRows(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '${CATALOG}'`).length > 0;
}

function unquoteIdent(id: string): string {
  return id.startsWith('"') ? id.slice(1, -1).replace(/""/g, '"') : id;
}
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const SQLITE_TXN_WRITE = 2;

function q(id: string): string {
  return `"${id.replace(/"/g, '""')}"`;
}

function logTable(name: string): string {
  return q(`heliosdb_vector_log_${name}`);
}

function fail(message: string, kind: 'OperationalError' | 'ProgrammingError' | 'DataError' = 'OperationalError'): EngineError {
  return new EngineError({ kind, message });
}

function usearchMetric(m: DistanceMetric): Metric {
  return m === 'cosine' ? 'cos' : m === 'dot' ? 'ip' : 'l2sq';
}

function usearchScalar(s: Spec['quantization']): Scalar {
  return s === 'int8' ? 'i8' : s;
}

/** USearch keys are unsigned 64-bit: rowids are shifted by 2⁶³ (order-preserving). */
const KEY_OFFSET = 1n << 63n;
/** USearch reserves the largest key: the largest rowid cannot be indexed. */
const RESERVED_KEY = (1n << 64n) - 1n;

function asKey(rowid: SqlValue): bigint {
  return BigInt(rowid as number | bigint) + KEY_OFFSET;
}

function fromKey(key: bigint): bigint {
  return key - KEY_OFFSET;
}

function newGeneration(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The engine's vector indexes (one registry per engine). */
export class VectorIndexes {
  private readonly live = new Map<string, Live>();
  private lib: Usearch | null = null;
  private loading: Promise<Usearch> | null = null;

  constructor(private readonly load: () => Promise<Usearch>) {}

  /** Loads USearch (once): connections opened with `enable_vector_search` wait for it. */
  async ready(): Promise<void> {
    this.loading ??= this.load().then((lib) => (this.lib = lib));
    await this.loading;
  }

  private usearch(): Usearch {
    if (this.lib === null) {
      throw fail('vector search is not enabled on this connection: connect with { enable_vector_search: true }', 'ProgrammingError');
    }
    return this.lib;
  }

  private key(session: Session, name: string): string {
    return `${session.databaseKey}\u0000${name}`;
  }

  private spec(session: Session, name: string): Spec {
    const rows = catalogExists(session)
      ? session.queryRows(
          `SELECT tbl, col, metric, dims, quantization, connectivity, expansion_add, expansion_search, generation, saved_seq FROM ${CATALOG} WHERE name = ?`,
          [name],
        )
      : [];
    if (rows.length === 0) throw fail(`no such vector index: ${name}`);
    const r = rows[0];
    return {
      name,
      table: String(r[0]),
      column: String(r[1]),
      metric: checkMetric(r[2], 'vector index'),
      dims: Number(r[3]),
      quantization: r[4] as Spec['quantization'],
      connectivity: Number(r[5]),
      expansionAdd: Number(r[6]),
      expansionSearch: Number(r[7]),
      generation: String(r[8]),
      savedSeq: Number(r[9]),
    };
  }

  /** Names and options of the database's vector indexes. */
  list(session: Session): Array<Record<string, SqlValue>> {
    if (!catalogExists(session)) return [];
    return session
      .queryRows(`SELECT name, tbl, col, metric, dims, quantization, connectivity, expansion_add, expansion_search FROM ${CATALOG} ORDER BY name`)
      .map((r) => ({
        name: r[0],
        table: r[1],
        column: r[2],
        metric: r[3],
        dimensions: r[4],
        quantization: r[5],
        connectivity: r[6],
        expansion_add: r[7],
        expansion_search: r[8],
      }));
  }

  /**
   * Creates an index on `table(column)`: catalog row, log table and triggers,
   * then builds it from the rows and stores it, all in one transaction (a
   * savepoint inside the caller's transaction, if one is open).
   */
  create(session: Session, name: string, table: string, column: string, options: VectorIndexOptions = {}): void {
    const lib = this.usearch();
    if (!NAME.test(name)) throw fail(`vector index name must be an identifier (letters, digits, _): ${JSON.stringify(name)}`, 'ProgrammingError');
    const info = session.queryRows(`SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?`, [table]);
    if (info.length === 0) throw fail(`no such table: ${table}`);
    if (Number(info[0][0]) === 1) throw fail(`${table} is a WITHOUT ROWID table; vector indexes need rowids`);
    const cols = session.queryRows(`SELECT name FROM pragma_table_xinfo(?)`, [table]).map((r) => String(r[0]));
    if (!cols.includes(column)) throw fail(`table ${table} has no column named ${column}`);
    const metric = checkMetric(options.metric ?? 'cosine', 'create_vector_index');
    const quantization = options.quantization ?? 'f32';
    if (!['f32', 'f16', 'int8'].includes(quantization)) throw fail(`quantization must be f32, f16 or int8, not ${String(quantization)}`, 'ProgrammingError');
    // USearch normalises vectors when it quantises to int8: only cosine distances stay right.
    if (quantization === 'int8' && metric !== 'cosine') throw fail(`quantization int8 needs the cosine metric (not ${metric})`, 'ProgrammingError');
    const positive = (v: number | undefined, fallback: number, what: string): number => {
      const n = v ?? fallback;
      if (!Number.isInteger(n) || n <= 0) throw fail(`${what} must be a positive integer, not ${String(v)}`, 'ProgrammingError');
      return n;
    };
    const connectivity = positive(options.connectivity, 16, 'connectivity');
    const expansionAdd = positive(options.expansion_add, 128, 'expansion_add');
    const expansionSearch = positive(options.expansion_search, 64, 'expansion_search');
    let dims = options.dimensions;
    if (dims === undefined) {
      const first = session.queryRows(`SELECT ${q(column)} FROM ${q(table)} WHERE ${q(column)} IS NOT NULL LIMIT 1`);
      if (first.length === 0) throw fail(`create_vector_index: the table has no vectors yet; give { dimensions }`, 'ProgrammingError');
      dims = decodeVector(first[0][0], 'create_vector_index').length;
    }
    positive(dims, 0, 'dimensions');
    const generation = newGeneration();
    session.queryRows('SAVEPOINT heliosdb_vector_index');
    try {
      session.queryRows(
        `CREATE TABLE IF NOT EXISTS ${CATALOG}(name TEXT PRIMARY KEY, tbl TEXT NOT NULL, col TEXT NOT NULL, metric TEXT NOT NULL, ` +
          'dims INTEGER NOT NULL, quantization TEXT NOT NULL, connectivity INTEGER NOT NULL, expansion_add INTEGER NOT NULL, ' +
          'expansion_search INTEGER NOT NULL, generation TEXT NOT NULL, saved_seq INTEGER NOT NULL, data BLOB)',
      );
      if (session.queryRows(`SELECT 1 FROM ${CATALOG} WHERE name = ?`, [name]).length > 0) throw fail(`vector index ${name} already exists`);
      session.queryRows(
        `INSERT INTO ${CATALOG}(name, tbl, col, metric, dims, quantization, connectivity, expansion_add, expansion_search, generation, saved_seq) ` +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)',
        [name, table, column, metric, dims, quantization, connectivity, expansionAdd, expansionSearch, generation],
      );
      const log = logTable(name);
      session.queryRows(`CREATE TABLE ${log}(seq INTEGER PRIMARY KEY AUTOINCREMENT, rid INTEGER NOT NULL)`);
      const t = q(table);
      const c = q(column);
      session.queryRows(`CREATE TRIGGER ${q(`heliosdb_vector_ins_${name}`)} AFTER INSERT ON ${t} BEGIN INSERT INTO ${log}(rid) VALUES (new.rowid); END`);
      session.queryRows(
        `CREATE TRIGGER ${q(`heliosdb_vector_upd_${name}`)} AFTER UPDATE ON ${t} WHEN old.${c} IS NOT new.${c} OR old.rowid <> new.rowid ` +
          `BEGIN INSERT INTO ${log}(rid) SELECT old.rowid WHERE old.rowid <> new.rowid; INSERT INTO ${log}(rid) VALUES (new.rowid); END`,
      );
      session.queryRows(`CREATE TRIGGER ${q(`heliosdb_vector_del_${name}`)} AFTER DELETE ON ${t} BEGIN INSERT INTO ${log}(rid) VALUES (old.rowid); END`);
      const spec = this.spec(session, name);
      const live = this.build(lib, session, spec);
      this.store(session, spec, live);
      this.live.set(this.key(session, name), live);
      session.queryRows('RELEASE heliosdb_vector_index');
    } catch (e) {
      session.queryRows('ROLLBACK TO heliosdb_vector_index');
      session.queryRows('RELEASE heliosdb_vector_index');
      throw e;
    }
  }

  /** Drops an index: catalog row, log table, triggers and the in-memory index. */
  drop(session: Session, name: string): void {
    this.spec(session, name);
    session.queryRows('SAVEPOINT heliosdb_vector_index');
    try {
      for (const kind of ['ins', 'upd', 'del']) session.queryRows(`DROP TRIGGER IF EXISTS ${q(`heliosdb_vector_${kind}_${name}`)}`);
      session.queryRows(`DROP TABLE IF EXISTS ${logTable(name)}`);
      session.queryRows(`DELETE FROM ${CATALOG} WHERE name = ?`, [name]);
      if (session.queryRows(`SELECT 1 FROM ${CATALOG} LIMIT 1`).length === 0) session.queryRows(`DROP TABLE ${CATALOG}`);
      session.queryRows('RELEASE heliosdb_vector_index');
    } catch (e) {
      session.queryRows('ROLLBACK TO heliosdb_vector_index');
      session.queryRows('RELEASE heliosdb_vector_index');
      throw e;
    }
    const live = this.live.get(this.key(session, name));
    this.live.delete(this.key(session, name));
    live?.index.free();
  }

  /** Stores the in-memory index in the database and empties the log it covers. */
  save(session: Session, name: string): void {
    const lib = this.usearch();
    if (session.txnState() === SQLITE_TXN_WRITE) throw fail(`vector index ${name} cannot be saved inside a write transaction; commit first`);
    session.queryRows('SAVEPOINT heliosdb_vector_index');
    try {
      const spec = this.spec(session, name);
      const live = this.current(lib, session, spec);
      if (live === null) throw fail(`vector index ${name} cannot be saved from a snapshot older than the index; retry`);
      this.store(session, spec, live);
      session.queryRows('RELEASE heliosdb_vector_index');
    } catch (e) {
      session.queryRows('ROLLBACK TO heliosdb_vector_index');
      session.queryRows('RELEASE heliosdb_vector_index');
      throw e;
    }
  }

  private store(session: Session, spec: Spec, live: Live): void {
    session.queryRows(`UPDATE ${CATALOG} SET data = ?, saved_seq = ? WHERE name = ?`, [live.index.serialize(), live.applied, spec.name]);
    session.queryRows(`DELETE FROM ${logTable(spec.name)} WHERE seq <= ?`, [live.applied]);
  }

  /** Builds the index from every row this session sees. */
  private build(lib: Usearch, session: Session, spec: Spec): Live {
    const index = UsearchIndex.create(lib, {
      dimensions: spec.dims,
      metric: usearchMetric(spec.metric),
      quantization: usearchScalar(spec.quantization),
      connectivity: spec.connectivity,
      expansionAdd: spec.expansionAdd,
      expansionSearch: spec.expansionSearch,
    });
    const live: Live = { generation: spec.generation, index, applied: this.logEnd(session, spec), skipped: new Set() };
    const count = Number(session.queryRows(`SELECT count(*) FROM ${q(spec.table)}`)[0][0]);
    index.reserve(Math.max(16, count));
    for (const [rid, v] of session.queryRows(`SELECT rowid, ${q(spec.column)} FROM ${q(spec.table)}`)) this.put(live, spec, rid, v);
    return live;
  }

  private put(live: Live, spec: Spec, rid: SqlValue, value: SqlValue): void {
    const key = asKey(rid);
    if (live.index.contains(key)) live.index.remove(key);
    live.skipped.delete(key);
    if (value === null) return;
    let v: Float32Array;
    try {
      v = decodeVector(value, 'vector index');
    } catch (e) {
      if (!(e instanceof VectorError)) throw e;
      live.skipped.add(key);
      return;
    }
    if (v.length !== spec.dims || key === RESERVED_KEY) {
      live.skipped.add(key);
      return;
    }
    live.index.add(key, v);
  }

  /** The log position this session's snapshot reaches (a save empties the log up to `saved_seq`). */
  private logEnd(session: Session, spec: Spec): number {
    return Math.max(spec.savedSeq, Number(session.queryRows(`SELECT coalesce(max(seq), 0) FROM ${logTable(spec.name)}`)[0][0]));
  }

  /**
   * The in-memory index brought up to this session's snapshot, or null when
   * it cannot stand for that snapshot (the session is behind it, or has
   * uncommitted changes to the table): the caller then searches exactly.
   */
  private current(lib: Usearch, session: Session, spec: Spec): Live | null {
    // A transaction with uncommitted writes may have log entries of its own: they must never
    // reach the index every connection shares (a rollback could not take them back).
    if (session.txnState() === SQLITE_TXN_WRITE) return null;
    const key = this.key(session, spec.name);
    let live = this.live.get(key);
    const end = this.logEnd(session, spec);
    if (live === undefined || live.generation !== spec.generation) {
      live?.index.free();
      const data = session.queryRows(`SELECT data FROM ${CATALOG} WHERE name = ?`, [spec.name])[0]?.[0];
      if (data instanceof Uint8Array) {
        // The expansions are not part of USearch's serialized form.
        const index = UsearchIndex.load(lib, data, { expansionAdd: spec.expansionAdd, expansionSearch: spec.expansionSearch });
        live = { generation: spec.generation, index, applied: spec.savedSeq, skipped: new Set() };
      } else {
        live = this.build(lib, session, spec);
      }
      this.live.set(key, live);
    }
    if (live.applied > end) return null;
    if (live.applied < end) {
      const rids = session.queryRows(`SELECT DISTINCT rid FROM ${logTable(spec.name)} WHERE seq > ? AND seq <= ?`, [live.applied, end]);
      for (const [rid] of rids) {
        const row = session.queryRows(`SELECT ${q(spec.column)} FROM ${q(spec.table)} WHERE rowid = ?`, [rid]);
        this.put(live, spec, rid, row.length ? row[0][0] : null);
      }
      live.applied = end;
    }
    return live;
  }

  /** The k nearest rows to `query` (optionally among the rows matching `filter`, a WHERE expression). */
  search(session: Session, name: string, query: SqlValue, k: number, filter: string | null): Hit[] {
    session.checkVectorSearch();
    const lib = this.usearch();
    const spec = this.spec(session, name);
    const v = decodeVector(query, 'vector_search');
    if (v.length !== spec.dims) throw fail(`vector_search: dimension mismatch: the query has ${v.length}, index ${name} has ${spec.dims}`);
    if (!Number.isInteger(k) || k <= 0) throw fail(`vector_search: k must be a positive integer, not ${String(k)}`);
    let accept: Set<bigint> | null = null;
    if (filter !== null) {
      accept = new Set(session.queryRows(`SELECT rowid FROM ${q(spec.table)} WHERE ${filter}`).map((r) => asKey(r[0])));
      // A selective filter: exact search over the few rows it admits is both cheaper and exact.
      if (accept.size <= k * 32) return this.exact(session, spec, v, k, accept);
    }
    const live = this.current(lib, session, spec);
    if (live === null) return this.exact(session, spec, v, k, accept);
    const set = accept;
    const found =
      set === null ? live.index.search(v, k, Math.max(spec.expansionSearch, k)) : live.index.filteredSearch(v, k, (key: bigint) => set.has(BigInt.asUintN(64, key)));
    const hits: Hit[] = [];
    for (let i = 0; i < found.count; i++) {
      const d = found.distances[i];
      hits.push({ rowid: fromKey(found.keys[i]), distance: spec.metric === 'l2' ? Math.sqrt(Math.max(0, d)) : d });
    }
    return hits;
  }

  /** Exact top-k over the rows this session sees. */
  private exact(session: Session, spec: Spec, v: Float32Array, k: number, accept: Set<bigint> | null): Hit[] {
    const hits: Hit[] = [];
    for (const [rid, value] of session.queryRows(`SELECT rowid, ${q(spec.column)} FROM ${q(spec.table)} WHERE ${q(spec.column)} IS NOT NULL`)) {
      if (accept !== null && !accept.has(asKey(rid))) continue;
      let w: Float32Array;
      try {
        w = decodeVector(value, 'vector index');
      } catch {
        continue;
      }
      if (w.length !== spec.dims) continue;
      hits.push({ rowid: BigInt(rid as number | bigint), distance: distance(v, w, spec.metric) });
    }
    hits.sort((a, b) => a.distance - b.distance);
    return hits.slice(0, k);
  }

  /**
   * The plain form of a nearest-neighbour query on an indexed column,
   *   SELECT … FROM t [AS a] [WHERE …] ORDER BY vector_distance(col, ?, 'metric') LIMIT k
   * rewritten to read the index:
   *   SELECT … FROM vector_search('index', ?, k [, 'where']) AS heliosdb_v JOIN t [AS a]
   *     ON t.rowid = heliosdb_v.rowid ORDER BY heliosdb_v.distance LIMIT k
   * Only when the query has that shape exactly (one table, a literal LIMIT, a
   * WHERE without parameters) and an index on that column with that metric
   * exists; otherwise null (SQLite runs the query as written: exact search).
   */
  rewrite(session: Session, sql: string): string | null {
    const m = NEAREST.exec(sql);
    if (m === null || !session.vectorSearch || this.lib === null) return null;
    const g = m.groups as Record<string, string | undefined>;
    const table = unquoteIdent(g.table as string);
    const alias = g.alias !== undefined && !/^(WHERE|ORDER)$/i.test(g.alias) ? unquoteIdent(g.alias) : undefined;
    const where = g.where;
    if (where !== undefined && (/[?:@$]/.test(where) || alias !== undefined)) return null;
    const column = unquoteIdent((g.col as string).split('.').pop() as string);
    let metric: DistanceMetric;
    try {
      metric = checkMetric(g.metric, 'vector_distance');
    } catch {
      return null;
    }
    const index = this.list(session).find((i) => String(i.table).toLowerCase() === table.toLowerCase() && i.column === column && i.metric === metric);
    if (index === undefined) return null;
    const ref = alias ?? table;
    const cols = (g.cols as string).trim() === '*' ? `${q(ref)}.*` : (g.cols as string);
    const filter = where !== undefined ? `, '${where.replace(/'/g, "''")}'` : '';
    return (
      `${g.explain ?? ''}SELECT ${cols} FROM vector_search('${String(index.name)}', ${g.arg as string}, ${g.k as string}${filter}) AS heliosdb_v ` +
      `JOIN ${q(table)}${alias !== undefined ? ` AS ${q(alias)}` : ''} ON ${q(ref)}.rowid = heliosdb_v.rowid ` +
      `ORDER BY heliosdb_v.distance LIMIT ${g.k as string}`
    );
  }

  /** Forgets the in-memory indexes of a database that closed (the next open loads them from the file). */
  forget(databaseKey: string): void {
    for (const [key, live] of this.live) {
      if (key.startsWith(`${databaseKey}\u0000`)) {
        live.index.free();
        this.live.delete(key);
      }
    }
  }
}

