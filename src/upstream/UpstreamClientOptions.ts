import type { Logger } from 'pino';
import type { CircuitBreakerOptions } from './http/CircuitBreaker.js';
import type { HttpRequestEvent, HttpRetryOptions, HttpTimeouts, HttpTlsOptions } from './http/createHttpClient.js';

/** What every upstream client is built from: one configured server, its credentials and HTTP policy. */
export interface UpstreamClientOptions {
  /** Configured server name (`em-hq`, `m365-eu`); appears in errors, logs and metrics. */
  name: string;
  /** Where the API lives; each client documents its own form. */
  url: string;
  username: string;
  password: string;
  /** TLS: a PEM CA, or `insecure: true` (explicit, logged). Default: verify against the system store. */
  tls?: HttpTlsOptions;
  /** Per-phase timeouts in ms, per HTTP call. Defaults: connect 5000, response 15000, total 30000. */
  timeouts?: HttpTimeouts;
  /** GET retry policy (defaults: 2 retries, 250 ms base backoff, Retry-After capped at 10 s). POSTs are never retried. */
  retry?: HttpRetryOptions;
  /** Keep-alive sockets to this server. Default 8. */
  maxSockets?: number;
  /** Circuit breaker (defaults: 5 consecutive outage failures, 30 s cooldown doubling up to 5 min). */
  circuitBreaker?: CircuitBreakerOptions;
  /** Parent logger; a redacting child bound to `server` is derived. Default silent. */
  logger?: Logger;
  /** Called after every HTTP attempt (metrics, health, tests). */
  onRequest?: (event: HttpRequestEvent) => void;
  /** Clock in epoch ms: auth expiry and caches, `Retry-After` dates, latencies. Default `Date.now`. */
  now?: () => number;
  /** Sleep between retries, in ms. Default a timer; tests inject a recorder. */
  sleep?: (ms: number) => Promise<void>;
}
