/**
 * `Row`: the `sqlite3` module's optimized row, usable as a row_factory.
 * Indexable by position (`row[0]`, `row[-1]`) and by column name,
 * case-insensitively (`row['Name']`, `row.name`); `keys()` lists the columns;
 * iterable; two rows are `equals` when their columns and values match.
 */
import { ProgrammingError } from './errors.js';

/** What Row needs from a cursor: its description. */
export interface RowSource {
  readonly description: ReadonlyArray<readonly [string, ...unknown[]]> | null;
}

const handler: ProxyHandler<Row> = {
  get(target, key, receiver) {
    if (typeof key === 'symbol' || key in target) return Reflect.get(target, key, receiver);
    const values = target.values();
    if (/^-?\d+$/.test(key)) {
      const i = Number(key);
      return values[i < 0 ? values.length + i : i];
    }
    const i = target.indexOfKey(key);
    return i >= 0 ? values[i] : undefined;
  },
  has(target, key) {
    if (typeof key === 'symbol' || key in target) return true;
    if (/^\d+$/.test(key)) return Number(key) < target.length;
    return target.indexOfKey(key) >= 0;
  },
  ownKeys(target) {
    return [...Reflect.ownKeys(target).filter((k) => k !== '_values' && k !== '_keys'), ...target.keys()];
  },
  getOwnPropertyDescriptor(target, key) {
    if (typeof key === 'string' && !(key in target)) {
      const i = target.indexOfKey(key);
      if (i >= 0) return { value: target.values()[i], enumerable: true, configurable: true, writable: false };
    }
    return Reflect.getOwnPropertyDescriptor(target, key);
  },
  set() {
    return false;
  },
};

export class Row implements Iterable<unknown> {
  [key: string]: unknown;
  [index: number]: unknown;
  private readonly _values: readonly unknown[];
  private readonly _keys: readonly string[];

  constructor(cursor: RowSource, data: readonly unknown[]) {
    if (cursor === null || typeof cursor !== 'object' || !('description' in cursor)) {
      throw new ProgrammingError('Row() argument 1 must be a Cursor');
    }
    if (!Array.isArray(data)) throw new ProgrammingError('Row() argument 2 must be an array');
    this._values = data;
    this._keys = (cursor.description ?? []).map((d) => d[0]);
    return new Proxy(this, handler);
  }

  get length(): number {
    return this._values.length;
  }

  /** The column names, in order. */
  keys(): string[] {
    return [...this._keys];
  }

  /** The values, in order. */
  values(): readonly unknown[] {
    return this._values;
  }

  /** Position of a column name (case-insensitive), or -1. */
  indexOfKey(key: string): number {
    const exact = this._keys.indexOf(key);
    if (exact >= 0) return exact;
    const lower = key.toLowerCase();
    return this._keys.findIndex((k) => k.toLowerCase() === lower);
  }

  /** A value by position or column name; throws for a missing column as the module does. */
  get(key: number | string): unknown {
    if (typeof key === 'number') {
      const i = key < 0 ? this._values.length + key : key;
      if (i < 0 || i >= this._values.length) throw new RangeError('Row index out of range');
      return this._values[i];
    }
    const i = this.indexOfKey(key);
    if (i < 0) throw new RangeError('No item with that key');
    return this._values[i];
  }

  equals(other: unknown): boolean {
    if (!(other instanceof Row)) return false;
    const a = this._keys;
    const b = other.keys();
    if (a.length !== b.length || a.some((k, i) => k !== b[i])) return false;
    const va = this._values;
    const vb = other.values();
    return va.length === vb.length && va.every((v, i) => sameValue(v, vb[i]));
  }

  /** The row as a plain object keyed by column name. */
  toObject(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    this._keys.forEach((k, i) => (o[k] = this._values[i]));
    return o;
  }

  toJSON(): Record<string, unknown> {
    return this.toObject();
  }

  [Symbol.iterator](): Iterator<unknown> {
    return this._values[Symbol.iterator]();
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}
