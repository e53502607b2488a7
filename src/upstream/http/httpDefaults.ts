/**
 * The HTTP policy of one upstream server, in the names of the config file (`servers[].timeouts`,
 * `retry`, `concurrency`, `circuitBreaker`, and the same keys under `defaults`). The config layer,
 * the upstream clients and the HTTP client all speak these names; {@link HTTP_DEFAULTS} holds the
 * only defaults.
 */
export interface HttpSettings {
  /** Per-phase timeouts, in milliseconds. */
  timeouts: {
    /** TCP connect plus TLS handshake. Default 5000. */
    connectMs: number;
    /** From request sent to the first response byte (headers). Default 15000. */
    responseMs: number;
    /** Whole logical call including retries and backoff. Default 30000. */
    totalMs: number;
  };
  /** Retry policy; only idempotent GET/HEAD requests are ever retried. */
  retry: {
    /** Retries after the first attempt. Default 2. */
    limit: number;
    /** Backoff base in ms (full jitter, doubling per retry). Default 200. */
    baseDelayMs: number;
    /** Backoff ceiling in ms. Default 4000. Not a config key. */
    maxDelayMs: number;
    /** Longest `Retry-After` honoured, in ms; a longer one ends retrying. Default 10000. */
    maxRetryAfterMs: number;
    /** Retry-budget tokens earned per first attempt: retries may be at most this share of requests. Default 0.2. */
    budgetRatio: number;
    /** Retry-budget bucket size and initial content: the burst of retries allowed before the ratio applies. Default 10. Not a config key. */
    budgetCapacity: number;
  };
  /** Connection pool. */
  concurrency: {
    /** Concurrent sockets to this server (keep-alive pool size). Default 8. */
    maxSockets: number;
  };
  /** Circuit breaker of this server. */
  circuitBreaker: {
    /** Consecutive outage failures (no answer, a timeout, 502/503/504 after retries) that open the circuit. Default 5. */
    failureThreshold: number;
    /** How long the first opening lasts, in ms. Default 2000. */
    cooldownMs: number;
    /** Ceiling of the cooldown, which doubles after every failed probe, in ms. Default 60000. */
    maxCooldownMs: number;
  };
}

/** The defaults of every {@link HttpSettings} field; deeply frozen. */
export const HTTP_DEFAULTS: { readonly [K in keyof HttpSettings]: Readonly<HttpSettings[K]> } = Object.freeze({
  timeouts: Object.freeze({ connectMs: 5_000, responseMs: 15_000, totalMs: 30_000 }),
  retry: Object.freeze({ limit: 2, baseDelayMs: 200, maxDelayMs: 4_000, maxRetryAfterMs: 10_000, budgetRatio: 0.2, budgetCapacity: 10 }),
  concurrency: Object.freeze({ maxSockets: 8 }),
  circuitBreaker: Object.freeze({ failureThreshold: 5, cooldownMs: 2_000, maxCooldownMs: 60_000 }),
});

/**
 * Default longest query-service URL of EM batched lookups, in characters (config
 * `servers[].maxUrlLength`, `EmClientOptions.maxUrlLength`). A limit of the HTTP path between the
 * gateway and EM: EM's own is undocumented, HTTP.sys allows 16 kB request lines, common reverse
 * proxies 8 kB; see `chunkByUrlLength` in `em/emFilter.ts`.
 */
export const DEFAULT_MAX_URL_LENGTH = 8000;
