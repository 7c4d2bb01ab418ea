/**
 * Small pieces shared by the browser backends (`opfs-backend.ts`,
 * `idb-backend.ts`): path normalisation, reading a DOMException's name, and a
 * per-key queue that keeps `prepare` and `release` of one database in order.
 *
 * No Node and no DOM-only imports: safe in any worker.
 */

/**
 * Normalises a path relative to the storage root: no leading '/', no empty
 * segments ('//'), '.' dropped and '..' resolved. A '..' above the root stays
 * at the root, as '/..' does on POSIX. The result is the file's identity: the
 * same file must always get the same name, or it would be loaded twice.
 */
export function canonicalPath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return out.join('/');
}

/**
 * The `name` of a DOMException-like error ('QuotaExceededError',
 * 'NotFoundError', …), or undefined. Compared by name rather than with
 * `instanceof`: newer browsers make QuotaExceededError its own class, and
 * errors from another realm fail `instanceof` anyway.
 */
export function errorName(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const name = (e as { readonly name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

export function isQuotaError(e: unknown): boolean {
  return errorName(e) === 'QuotaExceededError';
}

/** The message of any thrown value, for error texts. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null) {
    const message = (e as { readonly message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return String(e);
}

/**
 * Runs asynchronous tasks one after the other per key. `prepare` and
 * `release` of the same database may be called without awaiting each other
 * (a tab closes a database and opens it again at once); queued, the second
 * never sees the first half done.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    // The task runs whatever became of the previous one: that one's caller
    // got its error; this task starts from whatever state it left.
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
