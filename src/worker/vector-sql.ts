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
