/**
 * A worker that only answers `ping()` through Comlink, the transport our
 * browser runtime uses between the page and its database worker: the floor
 * of one Comlink call, for the round-trip measurement of core.html.
 */
import * as Comlink from 'comlink';

export interface PingApi {
  ping(): null;
}

const api: PingApi = {
  ping: () => null,
};
Comlink.expose(api);
