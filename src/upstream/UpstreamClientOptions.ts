import type { Logger } from 'pino';
import type { HttpRequestEvent, HttpRetryOptions, HttpTlsOptions } from './http/createHttpClient.js';
import type { HttpSettings } from './http/httpDefaults.js';
import type { CircuitTransition } from './http/CircuitBreaker.js';

/**
 * What every upstream client is built from: one configured server, its credentials and HTTP policy.
 * The policy fields have the config file's names and shapes (`servers[]` after defaults, see
 * `HttpSettings`), so a configured server passes them through as they are; any field left out
 * takes its value from `HTTP_DEFAULTS`.
 */
export interface UpstreamClientOptions {
  /** Configured server name (`em-hq`, `m365-eu`); appears in errors, logs and metrics. */
  name: string;
  /** Where the API lives; each client documents its own form. */
  url: string;
  username: string;
  password: string;
  /** TLS: a PEM CA, or `insecure: true` (explicit, logged). Default: verify against the system store. */
  tls?: HttpTlsOptions;
  /** Per-phase timeouts in ms, per HTTP call. Defaults: connectMs 5000, responseMs 15000, totalMs 30000. */
  timeouts?: Partial<HttpSettings['timeouts']>;
  /**
   * GET retry policy. Defaults: limit 2, baseDelayMs 200 (full jitter, doubling, up to maxDelayMs
   * 4000), maxRetryAfterMs 10000, budgetRatio 0.2 (budgetCapacity 10). POSTs are never retried.
   * `random` (jitter source, default `Math.random`) is for tests.
   */
  retry?: HttpRetryOptions;
  /** Keep-alive sockets to this server. Default maxSockets 8. */
  concurrency?: Partial<HttpSettings['concurrency']>;
  /** Circuit breaker. Defaults: failureThreshold 5 consecutive outage failures, cooldownMs 2000 doubling up to maxCooldownMs 60000. */
  circuitBreaker?: Partial<HttpSettings['circuitBreaker']>;
  /** Parent logger; a redacting child bound to `server` is derived. Default silent. */
  logger?: Logger;
  /** Called after every HTTP attempt (metrics, health, tests). */
  onRequest?: (event: HttpRequestEvent) => void;
  /** Called on every change of the server's circuit breaker (replicas share them). */
  onCircuit?: (transition: CircuitTransition) => void;
  /** Clock in epoch ms: auth expiry and caches, `Retry-After` dates, latencies. Default `Date.now`. */
  now?: () => number;
  /** Sleep between retries, in ms. Default a timer; tests inject a recorder. */
  sleep?: (ms: number) => Promise<void>;
}
