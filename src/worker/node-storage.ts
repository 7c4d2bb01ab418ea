/**
 * The storage of the in-process runtime on Node and Deno: files through
 * `node:fs`, under MVCC, plus recovery of files native SQLite left with a hot
 * journal or a WAL. Kept apart from engine.ts so browser bundles never see
 * `node:` imports.
 */
import { MvccBackend } from '../mvcc/mvcc-backend.js';
import { NodeBackend } from '../vfs/node-backend.js';
import type { Engine } from './engine.js';

/** Log size that triggers a checkpoint; HELIOSDB_CHECKPOINT_BYTES overrides it (tests use small values). */
function checkpointBytesSetting(): number | undefined {
  const v = Number(process.env.HELIOSDB_CHECKPOINT_BYTES);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

export function addNodeStorage(engine: Engine): void {
  engine.addStorage('node', new MvccBackend(new NodeBackend(), { checkpointBytes: checkpointBytesSetting() }));
  engine.enableNativeRecovery(new NodeBackend());
}
