/**
 * Requests from official-tabs.html to its tab's worker (official-worker.ts),
 * which runs the official sqlite-wasm on its `opfs` VFS; answered through
 * worker-client.ts.
 */
import type { TabRun, TabSettings, TabsVerify } from './page-api.js';

export type OfficialRequest =
  | { readonly t: 'open'; readonly id: number; readonly create: boolean; readonly busyTimeoutMs: number }
  | { readonly t: 'run'; readonly id: number; readonly tab: number; readonly rows: number; readonly startAt: number }
  | { readonly t: 'verify'; readonly id: number }
  | { readonly t: 'close'; readonly id: number };

export interface OfficialResults {
  open: TabSettings;
  run: TabRun;
  verify: TabsVerify;
  close: null;
}
