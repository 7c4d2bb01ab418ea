/**
 * The storage of the in-process runtime on Node and Deno: files through
 * `node:fs`, under MVCC, each database owned by one process at a time (a lock
 * file beside it) and watched for writes by other programs, plus recovery of
 * files native SQLite left with a hot journal or a WAL. Kept apart from
 * engine.ts so browser bundles never see `node:` imports.
 */
import { MvccBackend } from '../mvcc/mvcc-backend.js';
import { NodeBackend } from '../vfs/node-backend.js';
import { OwnedBackend } from '../vfs/owned-backend.js';
import { OwnerLocks } from '../vfs/owner-lock.js';
import { PACKAGE_NAME, version } from '../version.js';
import type { Engine } from './engine.js';

/** Log size that triggers a checkpoint; HELIOSDB_CHECKPOINT_BYTES overrides it (tests use small values). */
function checkpointBytesSetting(): number | undefined {
  const v = Number(process.env.HELIOSDB_CHECKPOINT_BYTES);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

export function addNodeStorage(engine: Engine): void {
  // One engine owns each database: this one's claims, shared by everything it opens.
  const files = new OwnedBackend(new NodeBackend(), new OwnerLocks(`${PACKAGE_NAME} ${version}`));
  engine.addStorage('node', new MvccBackend(files, { checkpointBytes: checkpointBytesSetting(), watchForeignWrites: true }));
  // Native recovery writes the file too: the engine claims it first (Engine.open), through the same locks.
  engine.enableNativeRecovery(new NodeBackend());
}
