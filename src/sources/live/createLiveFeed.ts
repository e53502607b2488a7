import type { Logger } from 'pino';
import { isUpstreamError, upstreamErrorFromJson, type UpstreamErrorJson } from '../../upstream/errors.js';
import type { LiveEvent, LiveFeed, Source } from '../../upstream/Source.js';
import type { Scheduler } from '../Scheduler.js';
import type { CacheStore } from '../memory/CacheStore.js';
import type { SharedState } from '../shared/createSharedState.js';
import type { LeaderLease } from '../shared/LeaderLease.js';
import type { LiveSettings } from './liveDefaults.js';
import { checkpointMaxAgeMs, SessionPoller, type PollerCheckpoint } from './SessionPoller.js';

/** The live feed of a gateway, with what operations and tests look at. */
export interface GatewayLiveFeed extends LiveFeed {
  /** Per server: whether this replica polls it, its listeners here, running sessions, polls so far, and its role across replicas. */
  stats(): {
    source: string;
    active: boolean;
    listeners: number;
    running: number;
    polls: number;
    role: 'leader' | 'follower' | 'standalone';
    /** With a shared store: whether this replica hears the leader's events (its channel subscription is confirmed). */
    channelReady: boolean;
  }[];
  /** Resolves once no poll is in flight on any server. */
  settled(): Promise<void>;
  /** Stops every poller. */
  close(): void;
}

type Listener = (event: LiveEvent) => void;

/** A LiveEvent as it crosses replicas: plain JSON, the error of SOURCE_DOWN in its safe form. */
type WireEvent =
  | Exclude<LiveEvent, { type: 'SOURCE_DOWN' }>
  | (Omit<Extract<LiveEvent, { type: 'SOURCE_DOWN' }>, 'error'> & { error: UpstreamErrorJson | { message: string } });

function encode(event: LiveEvent): WireEvent {
  if (event.type !== 'SOURCE_DOWN') return event;
  return { ...event, error: isUpstreamError(event.error) ? event.error.toJSON() : { message: event.error.message } };
}

function decode(wire: WireEvent): LiveEvent {
  if (wire.type !== 'SOURCE_DOWN') return wire;
  const e = wire.error;
  return { ...wire, error: 'code' in e ? upstreamErrorFromJson(e) : new Error(e.message) };
}

/**
 * One server's feed on this replica: its local listeners, its poller, and with a shared store
 * the lease and channel that make one replica poll for all.
 */
class SourceFeed {
  readonly listeners = new Set<Listener>();
  readonly poller: SessionPoller;
  private lease: LeaderLease | undefined;
  private unsubscribe: (() => void) | undefined;
  private offStatus: (() => void) | undefined;
  private readonly channel: string;
  channelReady = false;

  constructor(
    readonly source: Source,
    private readonly options: { scheduler: Scheduler; settings: LiveSettings; logger: Logger; shared: SharedState | undefined; store: CacheStore | undefined },
  ) {
    this.channel = `live:${source.name}`;
    const store = options.store;
    // Per server name and URL, as the memory's keys: a name moved to another server starts afresh.
    const key = `live-checkpoint\u0000${source.name}\u0000${source.url}`;
    this.poller = new SessionPoller(source, {
      scheduler: options.scheduler,
      settings: options.settings,
      logger: options.logger,
      emit: (e) => this.deliver(e),
      ...(store !== undefined && {
        checkpoints: {
          load: async () => (await store.get<PollerCheckpoint>(key))?.value,
          save: (checkpoint) => store.set(key, { value: checkpoint, at: checkpoint.at }, checkpointMaxAgeMs(options.settings)),
        },
      }),
    });
  }

  get role(): 'leader' | 'follower' | 'standalone' {
    return this.lease?.role ?? 'standalone';
  }

  /** The first listener came: poll, or (shared) listen to the leader and compete for the lease. */
  open(): void {
    const shared = this.options.shared;
    if (shared === undefined) {
      this.poller.start();
      return;
    }
    const sub = shared.pubsub.subscribe<WireEvent>(this.channel, (message) => this.dispatch(decode(message)));
    void sub.ready.then((ok) => (this.channelReady = ok && this.unsubscribe !== undefined));
    this.unsubscribe = () => void sub.unsubscribe();
    this.lease = shared.lease(`live-poller:${this.source.name}`, {
      ttlMs: this.options.settings.leaseMs,
      onAcquired: () => {
        this.options.logger.info({ source: this.source.name }, 'live poller lease acquired: this replica polls');
        this.reconcile();
      },
      onLost: (reason) => {
        this.options.logger.info({ source: this.source.name, reason }, 'live poller lease lost');
        this.reconcile();
      },
    });
    this.offStatus = shared.onStatusChange(() => this.reconcile());
    this.lease.start();
    this.reconcile();
  }

  /** The last listener left: stop polling, give the lease to a replica that still has listeners. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.channelReady = false;
    this.offStatus?.();
    void this.lease?.stop();
    this.lease = undefined;
    this.poller.stop();
  }

  /** Polls unless another replica is the leader (Redis down: every replica polls for itself). */
  private reconcile(): void {
    if (this.listeners.size === 0) return;
    const poll = this.lease === undefined || this.lease.role !== 'follower';
    if (poll && !this.poller.isActive) this.poller.start();
    if (!poll && this.poller.isActive) this.poller.stop();
  }

  /** A poller's event: to every replica through the channel when leading, else to the local listeners. */
  private deliver(event: LiveEvent): void {
    if (this.lease?.isLeader && this.options.shared !== undefined) {
      void this.options.shared.pubsub.publish(this.channel, encode(event)).then((received) => {
        // Not published (Redis just went away): the local listeners at least hear of it.
        if (received === undefined) this.dispatch(event);
      });
      return;
    }
    this.dispatch(event);
  }

  dispatch(event: LiveEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.options.logger.error({ err, source: event.source }, 'live listener failed');
      }
    }
  }
}

/**
 * One {@link SessionPoller} per configured server, started by the first listener of that server and
 * stopped after its last: a thousand subscribers of one server cost the polls of one. Each event
 * goes to the listeners of its server, each in its own `try` (one listener's bug is logged and
 * reaches no other).
 *
 * With a shared store (`shared`), one poller per server runs across all replicas: the replicas
 * with listeners compete for a lease per server (renewed; taken over when its holder dies), the
 * leader publishes its events on a Redis channel, and every replica hands them to its own
 * listeners. While Redis is down every replica polls for itself; a new leader learns the server
 * afresh (its first poll reports nothing).
 */
export function createLiveFeed(
  sources: readonly Source[],
  options: {
    scheduler: Scheduler;
    settings: LiveSettings;
    logger: Logger;
    shared?: SharedState | undefined;
    /**
     * Where the pollers keep their checkpoints (the memory layer's store; with replicas the shared
     * one): a poller that starts within {@link checkpointMaxAgeMs} of another's last poll resumes
     * from it, the next lease holder's or, after a config reload, the next generation's. Default:
     * the shared store, else none (every poller learns its server afresh).
     */
    store?: CacheStore | undefined;
  },
): GatewayLiveFeed {
  const log = options.logger.child({ component: 'live' });
  const feeds = new Map(
    sources.map((s) => [
      s.name,
      new SourceFeed(s, {
        scheduler: options.scheduler,
        settings: options.settings,
        logger: log,
        shared: options.shared,
        store: options.store ?? options.shared?.store,
      }),
    ]),
  );
  return {
    listen(names, listener) {
      const mine = [...new Set(names)].map((n) => feeds.get(n)).filter((f): f is SourceFeed => f !== undefined);
      for (const feed of mine) {
        feed.listeners.add(listener);
        if (feed.listeners.size === 1) {
          log.debug({ source: feed.source.name }, 'live feed opened');
          feed.open();
        }
      }
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        for (const feed of mine) {
          if (!feed.listeners.delete(listener)) continue;
          if (feed.listeners.size === 0) {
            log.debug({ source: feed.source.name }, 'live feed closed: no listener left');
            feed.close();
          }
        }
      };
    },
    stats: () =>
      [...feeds.values()].map((f) => ({
        source: f.source.name,
        active: f.poller.isActive,
        listeners: f.listeners.size,
        running: f.poller.runningCount,
        polls: f.poller.polls,
        role: f.role,
        channelReady: f.channelReady,
      })),
    async settled() {
      await Promise.all([...feeds.values()].map((f) => f.poller.settled()));
    },
    close() {
      for (const f of feeds.values()) {
        f.listeners.clear();
        f.close();
      }
    },
  };
}
