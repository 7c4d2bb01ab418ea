/**
 * The vector SQL functions, registered on every connection (they cost a few
 * function registrations and nothing per statement, and a statement run by the
 * shared group-commit writer must find them too):
 *   vector(x)              float32 BLOB from JSON text or any vector BLOB
 *   vector_f16(x)          half-precision form
 *   vector_int8(x)         8-bit quantised form (one scale per vector)
 *   vector_to_json(v)      '[0.1,2,-3]'
 *   vector_dims(v)         number of dimensions
 *   vector_distance(a, b, metric)   'cosine' | 'l2' | 'l2sq' | 'dot'
 * A malformed vector, a dimension mismatch or an unknown metric fails the
 * statement with OperationalError and a message that says which.
 */
import { decodeVector, encodeVector, vectorToJson } from '../vector/codec.js';
import { checkMetric, distance } from '../vector/distance.js';
import type { CallbackRegistry } from './callbacks.js';
import type { Session } from './session.js';
import type { VectorIndexes, VectorIndexOptions } from './vector-index.js';

export function registerVectorFunctions(callbacks: CallbackRegistry): void {
  const nullable =
    (fn: (...args: unknown[]) => unknown) =>
    (...args: unknown[]): unknown =>
      args.some((a) => a === null) ? null : fn(...args);
  callbacks.createBuiltin('vector', 1, nullable((x) => encodeVector(decodeVector(x, 'vector'), 'f32')));
  callbacks.createBuiltin('vector_f32', 1, nullable((x) => encodeVector(decodeVector(x, 'vector_f32'), 'f32')));
  callbacks.createBuiltin('vector_f16', 1, nullable((x) => encodeVector(decodeVector(x, 'vector_f16'), 'f16')));
  callbacks.createBuiltin('vector_int8', 1, nullable((x) => encodeVector(decodeVector(x, 'vector_int8'), 'int8')));
  callbacks.createBuiltin('vector_to_json', 1, nullable((x) => vectorToJson(decodeVector(x, 'vector_to_json'))));
  callbacks.createBuiltin('vector_dims', 1, nullable((x) => decodeVector(x, 'vector_dims').length));
  callbacks.createBuiltin(
    'vector_distance',
    3,
    nullable((a, b, m) => distance(decodeVector(a, 'vector_distance'), decodeVector(b, 'vector_distance'), checkMetric(m, 'vector_distance'))),
  );
}

/**
 * The SQL forms of index management:
 *   SELECT vector_index_create('name', 'table', 'column' [, '{"metric":"cosine",…}'])
 *   SELECT vector_index_drop('name'), vector_index_save('name')
 * They change the schema, which cannot happen while their own statement runs:
 * the work runs as soon as the statement is done, and its error, if any, is the
 * statement's.
 */
export function registerVectorIndexFunctions(session: Session, vectors: VectorIndexes): void {
  const cb = session.callbacks;
  const text = (v: unknown, what: string): string => {
    if (typeof v !== 'string') throw new Error(`${what} must be text`);
    return v;
  };
  const create = (...a: unknown[]): string => {
    session.checkVectorSearch();
    const name = text(a[0], 'vector_index_create: the index name');
    let options: VectorIndexOptions = {};
    if (a[3] !== undefined && a[3] !== null) {
      try {
        options = JSON.parse(text(a[3], 'vector_index_create: the options')) as VectorIndexOptions;
      } catch (e) {
        throw new Error(`vector_index_create: options must be a JSON object: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    const table = text(a[1], 'vector_index_create: the table');
    const column = text(a[2], 'vector_index_create: the column');
    session.defer(() => vectors.create(session, name, table, column, options));
    return name;
  };
  cb.createBuiltin('vector_index_create', 3, create, false);
  cb.createBuiltin('vector_index_create', 4, create, false);
  cb.createBuiltin('vector_index_drop', 1, (name) => {
    session.checkVectorSearch();
    const n = text(name, 'vector_index_drop: the index name');
    session.defer(() => vectors.drop(session, n));
    return n;
  }, false);
  cb.createBuiltin('vector_index_save', 1, (name) => {
    session.checkVectorSearch();
    const n = text(name, 'vector_index_save: the index name');
    session.defer(() => vectors.save(session, n));
    return n;
  }, false);
}
