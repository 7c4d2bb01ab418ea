/**
 * Many tabs, one database: the workers of an origin's tabs elect one leader
 * per database with a Web Lock; the leader's engine owns the storage (OPFS
 * handles are exclusive) and serves every tab's sessions; the others forward
 * their calls to it over a BroadcastChannel.
 *
 * - Election: every worker that opens the database queues for the lock
 *   `heliosdb:db:<key>`; the holder leads until its worker ends (tab closed or
 *   crashed), then the browser hands the lock to the next in line, which
 *   recovers the database from storage and announces itself.
 * - Liveness: every worker holds `heliosdb:tab:<token>` for its lifetime. The
 *   leader queues for the lock of each tab it serves; being granted it means
 *   that tab is gone, and its sessions are closed (open transactions roll back).
 * - Failover: a call in flight when the leader changes fails here with
 *   `LeaderChanged`; the caller (browser-worker.ts) reopens its session on the
 *   new leader and re-sends. Calls that may commit carry a tag recorded with
 *   the commit, so a re-sent commit that had committed answers "committed"
 *   instead of running twice.
 */
import type { Host } from './host.js';
import type { Opened, OpenRequest, Reply, SessionMethod } from './protocol.js';

export type Message =
  | { readonly t: 'hello'; readonly from: string }
  | { readonly t: 'leader'; readonly token: string }
  | { readonly t: 'req'; readonly to: string; readonly from: string; readonly n: number; readonly call: Call }
  | { readonly t: 'res'; readonly to: string; readonly n: number; readonly reply: Reply<unknown> };

export type Call =
  | { readonly op: 'open'; readonly database: string; readonly request: OpenRequest }
  | { readonly op: 'invoke'; readonly id: number; readonly method: SessionMethod; readonly args: unknown[]; readonly tag?: string }
  | { readonly op: 'import'; readonly database: string; readonly bytes: Uint8Array };

/** The leader changed while a call was in flight: it may or may not have run. */
export class LeaderChanged extends Error {
  constructor() {
    super('the tab serving this database went away');
    this.name = 'LeaderChanged';
  }
}

interface Locks {
  request(name: string, callback: (lock: unknown) => Promise<unknown> | unknown): Promise<unknown>;
}

function locks(): Locks {
  return (navigator as unknown as { locks: Locks }).locks;
}

const forever = (): Promise<never> => new Promise<never>(() => undefined);

/** Where a session's calls go: this worker's host, or the leader of a shared database. */
export interface Route {
  run(call: Call): Promise<Reply<unknown>>;
  /** Called after the leader changed (never for a private route). */
  onLeaderChange(fn: () => void): void;
  /** Whether calls may outlive the engine that runs them (a shared database: they carry commit tags). */
  readonly failsOver: boolean;
}

/** A database private to this worker (`:memory:`, `memory://`): its calls run on the local host. */
export class LocalRoute implements Route {
  readonly failsOver = false;

  constructor(
    private readonly host: Host,
    private readonly token: string,
  ) {}

  run(call: Call): Promise<Reply<unknown>> {
    return serve(this.host, call, this.token);
  }

  onLeaderChange(): void {}
}

function serve(host: Host, call: Call, owner: string): Promise<Reply<unknown>> {
  switch (call.op) {
    case 'open':
      return host.open(call.database, call.request, owner) as Promise<Reply<Opened> | Reply<never>>;
    case 'invoke':
      return host.invoke(call.id, call.method, call.args, call.tag);
    case 'import':
      return host.importDatabase(call.database, call.bytes);
  }
}

/** One database shared by the tabs of an origin, seen from one worker. */
export class SharedDatabase implements Route {
  readonly failsOver = true;
  private leader: string | null = null;
  private readonly known: Promise<void>;
  private markKnown!: () => void;
  private readonly pending = new Map<number, { resolve: (r: Reply<unknown>) => void; reject: (e: unknown) => void }>();
  private n = 0;
  private readonly channel: BroadcastChannel;
  private readonly watched = new Set<string>();
  private readonly listeners: Array<() => void> = [];

  constructor(
    readonly key: string,
    private readonly host: Host,
    private readonly token: string,
  ) {
    this.known = new Promise((resolve) => (this.markKnown = resolve));
    this.channel = new BroadcastChannel(`heliosdb:${key}`);
    this.channel.onmessage = (ev: MessageEvent<Message>) => this.receive(ev.data);
    // The lock's holder leads; the others wait in line to take over.
    void locks().request(`heliosdb:db:${key}`, async () => {
      this.setLeader(this.token);
      this.channel.postMessage({ t: 'leader', token: this.token } satisfies Message);
      return forever();
    });
    this.channel.postMessage({ t: 'hello', from: token } satisfies Message);
  }

  get isLeader(): boolean {
    return this.leader === this.token;
  }

  onLeaderChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private setLeader(token: string): void {
    if (this.leader === token) return;
    const changed = this.leader !== null;
    this.leader = token;
    // Calls sent to the old leader may never be answered: their senders decide what to re-send.
    const lost = [...this.pending.values()];
    this.pending.clear();
    for (const p of lost) p.reject(new LeaderChanged());
    this.markKnown();
    if (changed) for (const fn of this.listeners) fn();
  }

  async run(call: Call): Promise<Reply<unknown>> {
    if (this.leader === null) await this.known;
    const leader = this.leader as string;
    if (leader === this.token) return serve(this.host, call, this.token);
    return new Promise((resolve, reject) => {
      const n = ++this.n;
      this.pending.set(n, { resolve, reject });
      this.channel.postMessage({ t: 'req', to: leader, from: this.token, n, call } satisfies Message);
    });
  }

  private receive(m: Message): void {
    switch (m.t) {
      case 'hello':
        if (this.isLeader) this.channel.postMessage({ t: 'leader', token: this.token } satisfies Message);
        return;
      case 'leader':
        this.setLeader(m.token);
        return;
      case 'req':
        if (m.to !== this.token || !this.isLeader) return;
        this.watch(m.from);
        void serve(this.host, m.call, m.from).then((reply) =>
          this.channel.postMessage({ t: 'res', to: m.from, n: m.n, reply } satisfies Message),
        );
        return;
      case 'res': {
        if (m.to !== this.token) return;
        const p = this.pending.get(m.n);
        if (p === undefined) return;
        this.pending.delete(m.n);
        p.resolve(m.reply);
        return;
      }
    }
  }

  /** Ends the sessions of a tab once it is gone (its liveness lock is released). */
  private watch(tab: string): void {
    if (this.watched.has(tab)) return;
    this.watched.add(tab);
    void locks().request(`heliosdb:tab:${tab}`, () => {
      this.watched.delete(tab);
      this.host.closeOwnedBy(tab);
    });
  }
}

/** Holds this worker's liveness lock for its lifetime (see the module comment). */
export function holdTabLock(token: string): void {
  void locks().request(`heliosdb:tab:${token}`, forever);
}
