/**
 * The storage layer: the SQLite VFS adapter and its storage backends.
 *
 * `NodeBackend` imports `node:fs`; browser bundles should import
 * `sqlite-vfs.js` and the backends they need directly rather than this barrel.
 */
export { StorageError } from './backend.js';
export type { FileKind, OpenOptions, StorageBackend, StorageErrorCode, StorageFile } from './backend.js';
export { MemoryBackend } from './memory-backend.js';
export { NodeBackend } from './node-backend.js';
export { registerVfs } from './sqlite-vfs.js';
export type { RegisteredVfs } from './sqlite-vfs.js';
