/**
 * Adapters (JS value → SQLite value, applied to parameters) and converters
 * (bytes of a column value → JS value, chosen by declared type or column name
 * with PARSE_DECLTYPES / PARSE_COLNAMES), as in the `sqlite3` module.
 */
import { ProgrammingError } from './errors.js';

/** A class whose instances an adapter converts. */
export type AdaptableType = abstract new (...args: never[]) => unknown;
export type Adapter = (value: never) => unknown;
export type Converter = (value: Uint8Array) => unknown;

/** Registered adapters, by the class they adapt. */
export const adapters = new Map<AdaptableType, Adapter>();
/** Registered converters, by upper-cased type name. */
export const converters = new Map<string, Converter>();

/** Registers `adapter` to turn instances of `type` into a value SQLite can store. */
export function register_adapter<T extends AdaptableType>(type: T, adapter: (value: InstanceType<T>) => unknown): void {
  if (typeof adapter !== 'function') throw new ProgrammingError('adapter must be callable');
  adapters.set(type, adapter as Adapter);
}

/** Registers `converter` for columns of type `typename` (case-insensitive). */
export function register_converter(typename: string, converter: Converter): void {
  if (typeof converter !== 'function') throw new ProgrammingError('converter must be callable');
  converters.set(typename.toUpperCase(), converter);
}

/** Applies a registered adapter to one parameter value, if one matches its class. */
export function adapt(value: unknown): unknown {
  if (adapters.size === 0 || value === null || typeof value !== 'object') return value;
  let proto: object | null = Object.getPrototypeOf(value) as object | null;
  while (proto !== null) {
    const ctor = (proto as { constructor?: AdaptableType }).constructor;
    const a = ctor !== undefined ? adapters.get(ctor) : undefined;
    if (a) return (a as (v: unknown) => unknown)(value);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return value;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Default adapter for Date: ISO 8601 text in UTC, as SQLite's date functions read it. */
export function adaptDate(d: Date): string {
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
  );
}

const decoder = new TextDecoder();

/** Default converters "date" and "timestamp": text in UTC → Date. */
export function convertTimestamp(b: Uint8Array): Date {
  const s = decoder.decode(b).trim();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : `${s.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? '' : 'Z'}`;
  return new Date(iso);
}

adapters.set(Date, adaptDate as Adapter);
converters.set('DATE', convertTimestamp);
converters.set('TIMESTAMP', convertTimestamp);
