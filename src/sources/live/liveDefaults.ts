/**
 * Live updates (subscriptions), with the config file's own names (config key `live`): how the one
 * poller per server paces itself, and what one client may hold.
 */
export interface LiveSettings {
  /** Poll interval while the server has running sessions, ms. */
  fastPollMs: number;
  /** Poll interval when nothing runs, ms: new sessions are still found within this. */
  slowPollMs: number;
  /** Longest wait between polls of a failing server (the interval doubles from `fastPollMs`), ms. */
  maxBackoffMs: number;
  /** Subscriptions one WebSocket or SSE connection may hold. */
  maxSubscriptionsPerConnection: number;
  /** Subscriptions the whole gateway holds at most. */
  maxSubscriptions: number;
  /** Events queued for one subscription that its client has not taken yet; more closes the connection (slow consumer). */
  queueSize: number;
  /** WebSocket ping and SSE comment interval, ms: keeps proxies from closing idle connections and finds dead peers. */
  heartbeatMs: number;
  /** With a shared store: the lease of a server's one poller across replicas, ms (renewed every third of it; a dead leader's passes on within it). */
  leaseMs: number;
}

export const LIVE_DEFAULTS: Readonly<LiveSettings> = Object.freeze({
  fastPollMs: 2_000,
  slowPollMs: 10_000,
  maxBackoffMs: 60_000,
  maxSubscriptionsPerConnection: 50,
  maxSubscriptions: 5_000,
  queueSize: 256,
  heartbeatMs: 15_000,
  leaseMs: 10_000,
});
