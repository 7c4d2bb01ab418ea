/** Reading SQLite session changesets: what each change is (shared by txn-rebase.ts and branch-merge.ts). */
import type { Ptr, RawExports } from './sqlite-module.js';
import type { WasmMemory } from './wasm-memory.js';

/** The table, column count and operation (SQLITE_INSERT / UPDATE / DELETE) of one change. */
export interface ChangeHeader {
  readonly table: string;
  readonly nCol: number;
  readonly op: number;
}

interface OpExport {
  sqlite3changeset_op(it: Ptr, pzTab: Ptr, pnCol: Ptr, pOp: Ptr, pbIndirect: Ptr): number;
}

/** The header of the change the changeset iterator `it` points at. */
export function changeHeader(raw: RawExports, mem: WasmMemory, it: Ptr): ChangeHeader {
  const r = raw as RawExports & OpExport;
  const out = r.sqlite3_malloc(16);
  try {
    r.sqlite3changeset_op(it, out, out + 4, out + 8, out + 12);
    const h = new Int32Array(mem.heap().buffer, out, 3);
    return { table: mem.cstr(h[0]) ?? '', nCol: h[1], op: h[2] };
  } finally {
    r.sqlite3_free(out);
  }
}
