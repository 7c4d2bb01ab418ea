/**
 * The demo's service worker: precaches every file of the build (the list is
 * written into this script at build time by vite.config.ts, so a new build
 * is a new worker and a new cache), then answers same-origin GETs from the
 * cache first, navigations with the cached app shell. The database worker
 * script, `sqlite3.wasm`, the worker's `usearch.wasm` (vector search) and the
 * semantic-search data set are in the list, so the app runs offline.
 *
 * Built as a classic script with no imports; only the few members of the
 * service-worker scope it uses are described (the DOM lib does not have them).
 */

interface Precache {
  /** Hash of the build's files: names the cache. */
  readonly version: string;
  /** Paths relative to the worker's scope. */
  readonly urls: readonly string[];
}

/** Replaced by the build with the list of files (see vite.config.ts). */
declare const __PRECACHE_MANIFEST__: Precache;

interface SwExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface SwFetchEvent extends SwExtendableEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface SwScope {
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', fn: (e: SwExtendableEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: SwFetchEvent) => void): void;
}

const sw = self as unknown as SwScope;
const manifest = __PRECACHE_MANIFEST__;
const CACHE = `heliosdb-demo-${manifest.version}`;
const scope = new URL(sw.registration.scope);
const precached = new Set(manifest.urls.map((u) => new URL(u, scope).href));
const shell = new URL('index.html', scope).href;

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll([...precached].map((url) => new Request(url, { cache: 'reload' })));
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('heliosdb-demo-') && name !== CACHE) await caches.delete(name);
      }
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin) return;
  url.search = '';
  url.hash = '';
  const key = request.mode === 'navigate' && !precached.has(url.href) ? shell : url.href;
  if (!precached.has(key)) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const hit = await cache.match(key);
      return hit ?? fetch(request);
    })(),
  );
});
