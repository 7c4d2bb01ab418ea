/**
 * official-tabs.html: one tab of the concurrent-tabs benchmark on the
 * official side. The page starts its worker (official-worker.ts), which opens
 * the shared `/tabs.db` on the official `opfs` VFS and runs the inserts; this
 * page only relays the driver's calls. Served with COOP/COEP headers.
 */
import type { TabsApi } from './page-api.js';
import type { OfficialRequest, OfficialResults } from './official-protocol.js';
import { WorkerClient } from './worker-client.js';

/** Matches our connections' default `timeout` (5.0 s). */
const BUSY_TIMEOUT_MS = 5000;

const worker = new WorkerClient<OfficialRequest, OfficialResults>(
  new Worker(new URL('./official-worker.ts', import.meta.url), { type: 'module', name: 'official-sqlite-wasm' }),
);

const api: TabsApi = {
  ready: true,
  system: 'sqlite-wasm-opfs',
  open: (create) => worker.call<'open'>({ t: 'open', create, busyTimeoutMs: BUSY_TIMEOUT_MS }),
  run: (tab, rows, startAt) => worker.call<'run'>({ t: 'run', tab, rows, startAt }),
  verify: () => worker.call<'verify'>({ t: 'verify' }),
  close: async () => {
    await worker.call<'close'>({ t: 'close' });
  },
};
window.heliosBenchTabs = api;
document.title = 'official sqlite-wasm tabs benchmark: ready';
