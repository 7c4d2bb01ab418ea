/**
 * A worker that only answers `ping()` through Comlink (which our browser
 * runtime uses for setup calls; session calls have a flat-array protocol of
 * their own): the floor of one Comlink call, for the round-trip measurement
 * of core.html.
 */
import * as Comlink from 'comlink';

export interface PingApi {
  ping(): null;
}

const api: PingApi = {
  ping: () => null,
};
Comlink.expose(api);
