/**
 * Shared assertions for the test suites: an async call must fail with a given
 * DB-API exception class (and message).
 */
import assert from 'node:assert/strict';

export type ErrorClass = abstract new (...args: never[]) => Error;

/** `fn` must throw (or reject with) exactly `cls` (not a subclass), optionally with `message`. */
export async function raises(fn: () => unknown, cls: ErrorClass, message?: string | RegExp): Promise<Error> {
  let thrown: unknown;
  let threw = false;
  try {
    await fn();
  } catch (e) {
    thrown = e;
    threw = true;
  }
  assert.ok(threw, `expected ${cls.name}, but nothing was thrown`);
  assert.ok(thrown instanceof Error, `expected ${cls.name}, got ${String(thrown)}`);
  assert.equal(Object.getPrototypeOf(thrown), cls.prototype, `expected ${cls.name}, got ${thrown.name}: ${thrown.message}`);
  if (typeof message === 'string') assert.equal(thrown.message, message);
  else if (message instanceof RegExp) assert.match(thrown.message, message);
  return thrown;
}

/** The promise must reject with an instance of `cls` (subclasses count), optionally with `message`. */
export async function rejectsWith(
  p: Promise<unknown>,
  cls: abstract new (...args: never[]) => Error,
  message: string | RegExp,
): Promise<Error> {
  let caught: unknown = undefined;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  return caught;
}
