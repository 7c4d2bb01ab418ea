/**
 * A tiny static file server for the browser tests and the web demo: loopback
 * only, a random port unless one is asked for, the MIME types a browser
 * insists on (`application/wasm` for streaming compilation, `text/javascript`
 * for module workers), optional COOP/COEP headers, and a bounded lifetime so
 * a forgotten server never keeps a test process alive.
 *
 * @example
 * ```ts
 * const server = await startStaticServer({ root: 'build/e2e-web', crossOriginIsolated: true });
 * await page.goto(`${server.url}/conformance.html`);
 * await server.close();
 * ```
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.db': 'application/vnd.sqlite3',
};

/** The MIME type served for a file name (`application/octet-stream` when unknown). */
export function mimeType(file: string): string {
  return MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export interface StaticServerOptions {
  /** Folder served as `/`. */
  readonly root: string;
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number;
  /** Send COOP `same-origin` and COEP `require-corp` on every response (SharedArrayBuffer, Atomics.wait). */
  readonly crossOriginIsolated?: boolean;
  /** Close by itself after this many milliseconds (default 10 minutes; `Infinity` for a demo server). */
  readonly lifetimeMs?: number;
  /** Called for every request served, e.g. to log or count them. */
  readonly onRequest?: (method: string, path: string, status: number) => void;
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections; safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_LIFETIME_MS = 10 * 60_000;

/** Starts serving `options.root` on 127.0.0.1. */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(options.root);
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    serve(root, options, req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${String(e)}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((ok) => {
      clearTimeout(lifetime);
      server.close(() => ok());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  const lifetimeMs = options.lifetimeMs ?? DEFAULT_LIFETIME_MS;
  const lifetime = Number.isFinite(lifetimeMs) ? setTimeout(() => void close(), lifetimeMs) : undefined;
  lifetime?.unref();

  return { url: `http://127.0.0.1:${port}`, port, close };
}

async function serve(root: string, options: StaticServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  const done = (status: number): void => options.onRequest?.(method, path, status);
  const headers: Record<string, string> = { 'cache-control': 'no-cache' };
  if (options.crossOriginIsolated) {
    headers['cross-origin-opener-policy'] = 'same-origin';
    headers['cross-origin-embedder-policy'] = 'require-corp';
    headers['cross-origin-resource-policy'] = 'same-origin';
  }

  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
    done(405);
    return;
  }
  let file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403, headers).end();
    done(403);
    return;
  }
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    file = join(file, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) {
    res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('not found');
    done(404);
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': mimeType(file), 'content-length': String(info.size) });
  done(200);
  if (method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((ok, fail) => {
    const stream = createReadStream(file);
    stream.on('error', fail);
    res.on('close', () => ok());
    stream.pipe(res);
  });
}
