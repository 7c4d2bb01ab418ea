/**
 * `vector_search(index, query, k [, filter])`: an eponymous, read-only
 * table-valued function answering the top-k rows of a vector index, as
 * `(rowid, distance)` in increasing distance, e.g.
 *   SELECT d.title, s.distance
 *   FROM vector_search('docs_embedding', ?, 10) AS s JOIN docs d ON d.rowid = s.rowid;
 * `filter` is a WHERE expression on the indexed table: the top k among the
 * rows it admits.
 */
import type { Sqlite3Static } from './sqlite-module.js';
import type { Session } from './session.js';
import type { Ptr } from './sqlite-module.js';
import type { Hit, VectorIndexes } from './vector-index.js';
import type { SqlValue } from './values.js';

const COL_DISTANCE = 0;
const COL_INDEX = 1;
const COL_QUERY = 2;
const COL_K = 3;
const COL_FILTER = 4;
const SQLITE_INDEX_CONSTRAINT_EQ = 2;
const SQLITE_CONSTRAINT = 19;
const SQLITE_ERROR = 1;

/** The minimal shapes of the sqlite-wasm vtab helpers used here. */
interface Struct {
  dispose(): void;
}
interface VtabStruct extends Struct {
  $zErrMsg: Ptr;
  db?: Ptr;
}
interface CursorStruct extends Struct {
  hits?: Hit[];
  at?: number;
  pVtab?: Ptr;
}
interface IndexInfo extends Struct {
  $nConstraint: number;
  $nOrderBy: number;
  $idxNum: number;
  $estimatedCost: number;
  $estimatedRows: bigint;
  $orderByConsumed: number;
  nthConstraint(n: number): { $iColumn: number; $op: number; $usable: number } & Struct;
  nthConstraintUsage(n: number): { $argvIndex: number; $omit: number } & Struct;
  nthOrderBy(n: number): { $iColumn: number; $desc: number } & Struct;
}
interface VtabHelpers {
  xVtab: { create(pp: Ptr): VtabStruct; get(p: Ptr): VtabStruct; dispose(p: Ptr): void };
  xCursor: { create(pp: Ptr): CursorStruct; get(p: Ptr): CursorStruct; dispose(p: Ptr): void };
  xIndexInfo(p: Ptr): IndexInfo;
  xRowid(pp: Ptr, v: bigint): unknown;
  setupModule(opt: { methods: Record<string, unknown>; catchExceptions?: boolean }): { pointer: Ptr };
}
interface Capi {
  sqlite3_declare_vtab(db: Ptr, sql: string): number;
  sqlite3_create_module(db: Ptr, name: string, module: Ptr, aux: Ptr): number;
  sqlite3_values_to_js(argc: number, argv: Ptr): SqlValue[];
  sqlite3_result_double(ctx: Ptr, v: number): void;
  sqlite3_result_null(ctx: Ptr): void;
}

/** Creates the module once per engine; `install` registers it on a connection. */
export class VectorSearchModule {
  private readonly module: Ptr;

  constructor(
    sqlite3: Sqlite3Static,
    private readonly sessionOf: (db: Ptr) => Session | undefined,
    private readonly indexes: VectorIndexes,
  ) {
    const s = sqlite3 as unknown as { vtab: VtabHelpers; capi: Capi; wasm: { allocCString(s: string): Ptr } };
    const { vtab, capi, wasm } = s;
    const setError = (pVtab: Ptr, message: string): void => {
      const t = vtab.xVtab.get(pVtab);
      t.$zErrMsg = wasm.allocCString(message);
    };
    this.module = vtab.setupModule({
      catchExceptions: true,
      methods: {
        xConnect: (pDb: Ptr, _aux: Ptr, _argc: number, _argv: Ptr, ppVtab: Ptr): number => {
          const rc = capi.sqlite3_declare_vtab(pDb, 'CREATE TABLE x(distance REAL, index_name HIDDEN, query HIDDEN, k HIDDEN, filter HIDDEN)');
          if (rc === 0) vtab.xVtab.create(ppVtab).db = pDb;
          return rc;
        },
        xDisconnect: (pVtab: Ptr): number => {
          vtab.xVtab.dispose(pVtab);
          return 0;
        },
        xBestIndex: (_pVtab: Ptr, pInfo: Ptr): number => {
          const info = vtab.xIndexInfo(pInfo);
          try {
            const at = new Map<number, number>();
            for (let i = 0; i < info.$nConstraint; i++) {
              const c = info.nthConstraint(i);
              if (c.$usable && c.$op === SQLITE_INDEX_CONSTRAINT_EQ && c.$iColumn >= COL_INDEX && c.$iColumn <= COL_FILTER) at.set(c.$iColumn, i);
              c.dispose();
            }
            // The index name and the query are required: without them this plan cannot run.
            if (!at.has(COL_INDEX) || !at.has(COL_QUERY)) return SQLITE_CONSTRAINT;
            let argv = 1;
            let mask = 0;
            for (const col of [COL_INDEX, COL_QUERY, COL_K, COL_FILTER]) {
              const i = at.get(col);
              if (i === undefined) continue;
              const u = info.nthConstraintUsage(i);
              u.$argvIndex = argv++;
              u.$omit = 1;
              u.dispose();
              mask |= 1 << col;
            }
            info.$idxNum = mask;
            info.$estimatedCost = 10;
            info.$estimatedRows = 10n;
            // Rows come out by increasing distance.
            if (info.$nOrderBy === 1) {
              const o = info.nthOrderBy(0);
              if (o.$iColumn === COL_DISTANCE && !o.$desc) info.$orderByConsumed = 1;
              o.dispose();
            }
            return 0;
          } finally {
            info.dispose();
          }
        },
        xOpen: (pVtab: Ptr, ppCursor: Ptr): number => {
          const c = vtab.xCursor.create(ppCursor);
          c.pVtab = pVtab;
          c.hits = [];
          c.at = 0;
          return 0;
        },
        xClose: (pCursor: Ptr): number => {
          vtab.xCursor.dispose(pCursor);
          return 0;
        },
        xFilter: (pCursor: Ptr, idxNum: number, _idxStr: Ptr, argc: number, argv: Ptr): number => {
          const c = vtab.xCursor.get(pCursor);
          const pVtab = c.pVtab as Ptr;
          const t = vtab.xVtab.get(pVtab);
          const args = capi.sqlite3_values_to_js(argc, argv);
          let i = 0;
          const take = (col: number): SqlValue | undefined => (idxNum & (1 << col) ? args[i++] : undefined);
          const name = take(COL_INDEX);
          const query = take(COL_QUERY);
          const k = take(COL_K) ?? 10;
          const filter = take(COL_FILTER) ?? null;
          try {
            const session = this.sessionOf(t.db as Ptr);
            if (session === undefined) throw new Error('vector_search: no session for this connection');
            if (typeof name !== 'string') throw new Error('vector_search: the first argument is the index name');
            if (filter !== null && typeof filter !== 'string') throw new Error('vector_search: the filter is a WHERE expression (text)');
            c.hits = this.indexes.search(session, name, query ?? null, Number(k), filter);
            c.at = 0;
            return 0;
          } catch (e) {
            setError(pVtab, e instanceof Error ? e.message : String(e));
            return SQLITE_ERROR;
          }
        },
        xNext: (pCursor: Ptr): number => {
          const c = vtab.xCursor.get(pCursor);
          c.at = (c.at ?? 0) + 1;
          return 0;
        },
        xEof: (pCursor: Ptr): number => {
          const c = vtab.xCursor.get(pCursor);
          return (c.at ?? 0) >= (c.hits?.length ?? 0) ? 1 : 0;
        },
        xColumn: (pCursor: Ptr, ctx: Ptr, col: number): number => {
          const c = vtab.xCursor.get(pCursor);
          const hit = (c.hits as Hit[])[c.at as number];
          if (col === COL_DISTANCE) capi.sqlite3_result_double(ctx, hit.distance);
          else capi.sqlite3_result_null(ctx);
          return 0;
        },
        xRowid: (pCursor: Ptr, ppRowid: Ptr): number => {
          const c = vtab.xCursor.get(pCursor);
          vtab.xRowid(ppRowid, (c.hits as Hit[])[c.at as number].rowid);
          return 0;
        },
      },
    }).pointer;
    this.capi = capi;
  }

  private readonly capi: Capi;

  install(db: Ptr): void {
    const rc = this.capi.sqlite3_create_module(db, 'vector_search', this.module, 0);
    if (rc !== 0) throw new Error(`registering vector_search failed (${rc})`);
  }
}
