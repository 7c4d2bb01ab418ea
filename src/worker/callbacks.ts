/**
 * User callbacks on one connection: scalar, aggregate and window functions,
 * collations, the authorizer, the progress handler and the trace callback.
 *
 * Each callback is installed into the WASM function table and registered with
 * the raw C API, so argument and result conversion is ours (exact integers,
 * the `sqlite3` module's error messages). A callback that throws never throws
 * across the WASM boundary: the statement fails with the module's message and
 * the connection stays usable.
 */
import { EngineError, RC } from './engine-error.js';
import type { Ptr, RawExports, Sqlite3Static } from './sqlite-module.js';
import { readValue, setError, setResult, type SqlValue } from './values.js';
import type { WasmMemory } from './wasm-memory.js';

export type ScalarFunction = (...args: SqlValue[]) => unknown;

/** An aggregate: a new instance per group gets `step` per row and `finalize` once. */
export interface AggregateInstance {
  step(...args: SqlValue[]): void;
  finalize(): unknown;
}
export type AggregateClass = new () => AggregateInstance;

/** A window function also supports `value` (current result) and `inverse` (row leaves the frame). */
export interface WindowInstance extends AggregateInstance {
  value(): unknown;
  inverse(...args: SqlValue[]): void;
}
export type WindowClass = new () => WindowInstance;

export type Collation = (a: string, b: string) => number;
export type Authorizer = (
  action: number,
  arg1: string | null,
  arg2: string | null,
  dbName: string | null,
  source: string | null,
) => number;
export type ProgressHandler = () => unknown;
export type TraceCallback = (statement: string) => void;

/** Called with every exception a callback raised (for enable_callback_tracebacks). */
export type CallbackErrorReporter = (error: unknown) => void;

interface CallbackExports extends RawExports {
  sqlite3_create_function_v2(
    db: Ptr, zName: Ptr, nArg: number, eTextRep: number, pApp: Ptr,
    xFunc: Ptr, xStep: Ptr, xFinal: Ptr, xDestroy: Ptr,
  ): number;
  sqlite3_create_window_function(
    db: Ptr, zName: Ptr, nArg: number, eTextRep: number, pApp: Ptr,
    xStep: Ptr, xFinal: Ptr, xValue: Ptr, xInverse: Ptr, xDestroy: Ptr,
  ): number;
  sqlite3_create_collation_v2(db: Ptr, zName: Ptr, eTextRep: number, pArg: Ptr, xCompare: Ptr, xDestroy: Ptr): number;
  sqlite3_set_authorizer(db: Ptr, xAuth: Ptr, pArg: Ptr): number;
  sqlite3_progress_handler(db: Ptr, nOps: number, xProgress: Ptr, pArg: Ptr): void;
  sqlite3_trace_v2(db: Ptr, mask: number, xCallback: Ptr, pCtx: Ptr): number;
  sqlite3_aggregate_context(ctx: Ptr, nBytes: number): Ptr;
}

const SQLITE_UTF8 = 1;
const SQLITE_DETERMINISTIC = 0x800;
const SQLITE_DENY = 1;
const SQLITE_TRACE_STMT = 0x01;

interface Installer {
  installFunction(signature: string, func: (...args: number[]) => number | void): Ptr;
  uninstallFunction(ptr: Ptr): unknown;
}

export class CallbackRegistry {
  private readonly raw: CallbackExports;
  private readonly installer: Installer;
  /** Installed function-table entries, by registration key, freed when replaced or on close. */
  private readonly installed = new Map<string, Ptr[]>();
  /** Live aggregate instances, by aggregate-context pointer. */
  private readonly aggregates = new Map<Ptr, AggregateInstance>();

  constructor(
    sqlite3: Sqlite3Static,
    raw: RawExports,
    private readonly mem: WasmMemory,
    private readonly db: Ptr,
    private readonly report: CallbackErrorReporter,
  ) {
    this.raw = raw as CallbackExports;
    this.installer = sqlite3.wasm as unknown as Installer;
  }

  private install(key: string, ...fns: Array<[string, (...args: number[]) => number | void]>): Ptr[] {
    const ptrs = fns.map(([sig, fn]) => this.installer.installFunction(sig, fn));
    this.replace(key, ptrs);
    return ptrs;
  }

  private replace(key: string, ptrs: Ptr[]): void {
    const old = this.installed.get(key);
    if (old) for (const p of old) this.installer.uninstallFunction(p);
    if (ptrs.length) this.installed.set(key, ptrs);
    else this.installed.delete(key);
  }

  private args(argc: number, argv: Ptr): SqlValue[] {
    const heap32 = new Int32Array(this.mem.heap().buffer, argv, argc);
    const out = new Array<SqlValue>(argc);
    for (let i = 0; i < argc; i++) out[i] = readValue(this.raw, this.mem, heap32[i]);
    return out;
  }

  private fail(ctx: Ptr, message: string, error: unknown): void {
    this.report(error);
    setError(this.raw, this.mem, ctx, message);
  }

  /**
   * Sets the callback's result. A value SQLite cannot store fails the call with
   * `message`, the one the module uses when the callback raises; an integer beyond
   * 64 bits is SQLITE_TOOBIG, as the module maps its OverflowError.
   */
  private result(ctx: Ptr, value: unknown, message: string): void {
    if (setResult(this.raw, this.mem, ctx, value)) return;
    if (typeof value === 'bigint') {
      this.report(new RangeError(`${value} is too large for a SQLite INTEGER (64-bit)`));
      this.raw.sqlite3_result_error_toobig(ctx);
      return;
    }
    this.fail(ctx, message, new TypeError(`unsupported result type ${typeof value}`));
  }

  private withName<T>(name: string, fn: (zName: Ptr) => T): T {
    const z = this.mem.allocCString(name);
    try {
      return fn(z);
    } finally {
      this.raw.sqlite3_free(z);
    }
  }

  private checkRc(rc: number, what: string): void {
    if (rc !== RC.OK) throw new EngineError({ kind: 'OperationalError', message: `Error creating ${what}`, sqliteCode: rc });
  }

  createFunction(name: string, nArg: number, fn: ScalarFunction | null, deterministic: boolean): void {
    const key = `f:${name.toLowerCase()}/${nArg}`;
    const flags = SQLITE_UTF8 | (deterministic ? SQLITE_DETERMINISTIC : 0);
    if (fn === null) {
      const rc = this.withName(name, (z) => this.raw.sqlite3_create_function_v2(this.db, z, nArg, flags, 0, 0, 0, 0, 0));
      this.checkRc(rc, 'function');
      this.replace(key, []);
      return;
    }
    const xFunc = (ctx: number, argc: number, argv: number): void => {
      let value: unknown;
      try {
        value = fn(...this.args(argc, argv));
      } catch (e) {
        this.fail(ctx, 'user-defined function raised exception', e);
        return;
      }
      this.result(ctx, value, 'user-defined function raised exception');
    };
    const staged = [this.installer.installFunction('v(pip)', xFunc)];
    const rc = this.withName(name, (z) =>
      this.raw.sqlite3_create_function_v2(this.db, z, nArg, flags, 0, staged[0], 0, 0, 0),
    );
    if (rc !== RC.OK) {
      this.installer.uninstallFunction(staged[0]);
      this.checkRc(rc, 'function');
    }
    this.replace(key, staged);
  }

  /**
   * Registers one of the engine's own SQL functions (vectors, …): unlike a
   * user function, an exception it throws becomes the statement's error
   * message as it is (`vector_distance: dimension mismatch: 3 vs 4`).
   */
  createBuiltin(name: string, nArg: number, fn: ScalarFunction, deterministic = true): void {
    const flags = SQLITE_UTF8 | (deterministic ? SQLITE_DETERMINISTIC : 0);
    const xFunc = (ctx: number, argc: number, argv: number): void => {
      let value: unknown;
      try {
        value = fn(...this.args(argc, argv));
      } catch (e) {
        setError(this.raw, this.mem, ctx, e instanceof Error ? e.message : String(e));
        return;
      }
      this.result(ctx, value, `${name}: unsupported result`);
    };
    const staged = [this.installer.installFunction('v(pip)', xFunc)];
    const rc = this.withName(name, (z) => this.raw.sqlite3_create_function_v2(this.db, z, nArg, flags, 0, staged[0], 0, 0, 0));
    if (rc !== RC.OK) {
      this.installer.uninstallFunction(staged[0]);
      this.checkRc(rc, 'function');
    }
    this.replace(`builtin:${name.toLowerCase()}/${nArg}`, staged);
  }

  /** The group's instance, created on the first row; null if construction failed. */
  private instance(ctx: Ptr, cls: AggregateClass, create: boolean): AggregateInstance | null | undefined {
    const p = this.raw.sqlite3_aggregate_context(ctx, create ? 8 : 0);
    if (!p) return undefined;
    let inst = this.aggregates.get(p);
    if (inst === undefined && create) {
      try {
        inst = new cls();
      } catch (e) {
        this.fail(ctx, "user-defined aggregate's '__init__' method raised error", e);
        return null;
      }
      this.aggregates.set(p, inst);
    }
    return inst ?? null;
  }

  /**
   * Calls an aggregate method; null when it is missing or throws (the call's error is then
   * set with the module's message: "... method not defined" or "... method raised error").
   */
  private callMethod(
    ctx: Ptr,
    inst: AggregateInstance,
    which: 'step' | 'inverse' | 'value' | 'finalize',
    args: () => SqlValue[],
  ): { value: unknown } | null {
    try {
      const m: unknown = (inst as Partial<WindowInstance>)[which];
      if (typeof m === 'function') return { value: (m as (...a: SqlValue[]) => unknown).apply(inst, args()) };
    } catch (e) {
      this.fail(ctx, `user-defined aggregate's '${which}' method raised error`, e);
      return null;
    }
    this.fail(ctx, `user-defined aggregate's '${which}' method not defined`, new TypeError(`aggregate has no '${which}' method`));
    return null;
  }

  private aggregateCallbacks(cls: AggregateClass): {
    step: (ctx: number, argc: number, argv: number) => void;
    final: (ctx: number) => void;
    value: (ctx: number) => void;
    inverse: (ctx: number, argc: number, argv: number) => void;
  } {
    const method = (ctx: number, argc: number, argv: number, which: 'step' | 'inverse'): void => {
      const inst = this.instance(ctx, cls, true);
      if (!inst) return;
      this.callMethod(ctx, inst, which, () => this.args(argc, argv));
    };
    return {
      step: (ctx, argc, argv) => method(ctx, argc, argv, 'step'),
      inverse: (ctx, argc, argv) => method(ctx, argc, argv, 'inverse'),
      final: (ctx) => {
        const p = this.raw.sqlite3_aggregate_context(ctx, 0);
        const inst = p ? this.aggregates.get(p) : undefined;
        if (p) this.aggregates.delete(p);
        // No rows in the group (or a failed constructor): the result is NULL.
        if (!inst) return;
        const r = this.callMethod(ctx, inst, 'finalize', () => []);
        if (r) this.result(ctx, r.value, "user-defined aggregate's 'finalize' method raised error");
      },
      value: (ctx) => {
        const inst = this.instance(ctx, cls, true);
        if (!inst) return;
        const r = this.callMethod(ctx, inst, 'value', () => []);
        if (r) this.result(ctx, r.value, "user-defined aggregate's 'value' method raised error");
      },
    };
  }

  createAggregate(name: string, nArg: number, cls: AggregateClass | null): void {
    const key = `f:${name.toLowerCase()}/${nArg}`;
    if (cls === null) {
      const rc = this.withName(name, (z) => this.raw.sqlite3_create_function_v2(this.db, z, nArg, SQLITE_UTF8, 0, 0, 0, 0, 0));
      this.checkRc(rc, 'aggregate');
      this.replace(key, []);
      return;
    }
    const cb = this.aggregateCallbacks(cls);
    const staged = [this.installer.installFunction('v(pip)', cb.step), this.installer.installFunction('v(p)', cb.final)];
    const rc = this.withName(name, (z) =>
      this.raw.sqlite3_create_function_v2(this.db, z, nArg, SQLITE_UTF8, 0, 0, staged[0], staged[1], 0),
    );
    if (rc !== RC.OK) {
      for (const p of staged) this.installer.uninstallFunction(p);
      this.checkRc(rc, 'aggregate');
    }
    this.replace(key, staged);
  }

  createWindowFunction(name: string, nArg: number, cls: WindowClass | null): void {
    const key = `f:${name.toLowerCase()}/${nArg}`;
    if (cls === null) {
      const rc = this.withName(name, (z) =>
        this.raw.sqlite3_create_window_function(this.db, z, nArg, SQLITE_UTF8, 0, 0, 0, 0, 0, 0),
      );
      this.checkRc(rc, 'window function');
      this.replace(key, []);
      return;
    }
    const cb = this.aggregateCallbacks(cls);
    const staged = [
      this.installer.installFunction('v(pip)', cb.step),
      this.installer.installFunction('v(p)', cb.final),
      this.installer.installFunction('v(p)', cb.value),
      this.installer.installFunction('v(pip)', cb.inverse),
    ];
    const rc = this.withName(name, (z) =>
      this.raw.sqlite3_create_window_function(this.db, z, nArg, SQLITE_UTF8, 0, staged[0], staged[1], staged[2], staged[3], 0),
    );
    if (rc !== RC.OK) {
      for (const p of staged) this.installer.uninstallFunction(p);
      this.checkRc(rc, 'window function');
    }
    this.replace(key, staged);
  }

  createCollation(name: string, fn: Collation | null): void {
    const key = `c:${name.toLowerCase()}`;
    if (fn === null) {
      const rc = this.withName(name, (z) => this.raw.sqlite3_create_collation_v2(this.db, z, SQLITE_UTF8, 0, 0, 0));
      this.checkRc(rc, 'collation');
      this.replace(key, []);
      return;
    }
    const compare = (_arg: number, n1: number, p1: number, n2: number, p2: number): number => {
      try {
        const heap = this.mem.heap();
        const r = fn(this.mem.text(p1, n1, heap), this.mem.text(p2, n2, heap));
        if (typeof r === 'bigint') return r < 0n ? -1 : r > 0n ? 1 : 0;
        if (typeof r !== 'number' || Number.isNaN(r)) return 0;
        return r < 0 ? -1 : r > 0 ? 1 : 0;
      } catch (e) {
        this.report(e);
        return 0;
      }
    };
    const staged = [this.installer.installFunction('i(pipip)', compare)];
    const rc = this.withName(name, (z) => this.raw.sqlite3_create_collation_v2(this.db, z, SQLITE_UTF8, 0, staged[0], 0));
    if (rc !== RC.OK) {
      this.installer.uninstallFunction(staged[0]);
      this.checkRc(rc, 'collation');
    }
    this.replace(key, staged);
  }

  setAuthorizer(fn: Authorizer | null): void {
    if (fn === null) {
      this.raw.sqlite3_set_authorizer(this.db, 0, 0);
      this.replace('authorizer', []);
      return;
    }
    const auth = (_arg: number, action: number, a1: number, a2: number, a3: number, a4: number): number => {
      try {
        const m = this.mem;
        const r = fn(action, m.cstr(a1), m.cstr(a2), m.cstr(a3), m.cstr(a4));
        return typeof r === 'number' && Number.isInteger(r) ? r : SQLITE_DENY;
      } catch (e) {
        this.report(e);
        return SQLITE_DENY;
      }
    };
    const staged = [this.installer.installFunction('i(pipppp)', auth)];
    this.raw.sqlite3_set_authorizer(this.db, staged[0], 0);
    this.replace('authorizer', staged);
  }

  setProgressHandler(fn: ProgressHandler | null, n: number): void {
    if (fn === null || n <= 0) {
      this.raw.sqlite3_progress_handler(this.db, 0, 0, 0);
      this.replace('progress', []);
      return;
    }
    const progress = (): number => {
      try {
        return fn() ? 1 : 0;
      } catch (e) {
        this.report(e);
        return 1;
      }
    };
    const staged = [this.installer.installFunction('i(p)', progress)];
    this.raw.sqlite3_progress_handler(this.db, n, staged[0], 0);
    this.replace('progress', staged);
  }

  setTraceCallback(fn: TraceCallback | null): void {
    if (fn === null) {
      this.raw.sqlite3_trace_v2(this.db, 0, 0, 0);
      this.replace('trace', []);
      return;
    }
    const trace = (type: number, _ctx: number, stmt: number, sqlPtr: number): number => {
      if (type !== SQLITE_TRACE_STMT) return 0;
      try {
        const unexpanded = this.mem.cstr(sqlPtr) ?? '';
        let text = unexpanded;
        // Statements run by triggers arrive as "-- comment" text; others are expanded.
        if (!unexpanded.startsWith('--')) {
          const p = this.raw.sqlite3_expanded_sql(stmt);
          if (p) {
            text = this.mem.cstr(p) ?? unexpanded;
            this.raw.sqlite3_free(p);
          }
        }
        fn(text);
      } catch (e) {
        this.report(e);
      }
      return 0;
    };
    const staged = [this.installer.installFunction('i(ippp)', trace)];
    this.raw.sqlite3_trace_v2(this.db, SQLITE_TRACE_STMT, staged[0], 0);
    this.replace('trace', staged);
  }

  /** Frees every installed callback (after the connection is closed). */
  dispose(): void {
    for (const ptrs of this.installed.values()) for (const p of ptrs) this.installer.uninstallFunction(p);
    this.installed.clear();
    this.aggregates.clear();
  }
}
