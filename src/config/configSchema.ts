import { z } from 'zod';

/** A secret: `{ env: NAME }`, `{ file: PATH }` (relative to the config file), or a plain string (warned). */
export const secretSchema = z.union([
  z.string().min(1, 'must not be empty'),
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') }),
  z.strictObject({ file: z.string().min(1, 'expected a file path') }),
]);

/** A rejected URL as it may be echoed in an error: any userinfo (`user:password@`) masked, quoted, at most 200 characters. */
export function urlForMessage(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  const masked = value.replace(/^([^:/?#@]+:\/\/)?[^/?#]*@/, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
  return JSON.stringify(masked.length > 200 ? `${masked.slice(0, 200)}...` : masked);
}

const httpUrl = z.string().refine(
  (v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password;
    } catch {
      return false;
    }
  },
  { error: (issue) => `expected https or http URL without credentials, got ${urlForMessage(issue.input)}` },
);

const ms = (label: string) => z.number().int(`${label}: expected whole milliseconds`).positive(`${label}: expected a positive number of milliseconds`);

/*
 * The HTTP keys below (timeouts, retry, concurrency, circuitBreaker) are the HTTP layer's own names
 * (`HttpSettings`); their defaults live once, in `HTTP_DEFAULTS` (src/upstream/http/httpDefaults.ts).
 */

/** Per-phase timeouts in ms. Defaults: connectMs 5000, responseMs (first byte) 15000, totalMs 30000. */
export const timeoutsSchema = z.strictObject({
  connectMs: ms('connectMs').optional(),
  responseMs: ms('responseMs').optional(),
  totalMs: ms('totalMs').optional(),
});

/** Retries of idempotent GETs. Defaults: limit 2, baseDelayMs 200, maxRetryAfterMs 10000, budgetRatio 0.2. */
export const retrySchema = z.strictObject({
  limit: z.number().int().min(0).max(10).optional(),
  baseDelayMs: z.number().int().min(0).optional(),
  maxRetryAfterMs: z.number().int().min(0).optional(),
  budgetRatio: z.number().min(0).max(1).optional(),
});

/**
 * Circuit breaker per server. Defaults: failureThreshold 5 (consecutive calls with no answer, a
 * timeout or 502/503/504 after retries), cooldownMs 2000, maxCooldownMs 60000 (the cooldown
 * doubles after each failed probe up to this; the gateway probes when each cooldown ends).
 */
export const circuitBreakerSchema = z.strictObject({
  failureThreshold: z.number().int().min(1).max(1000).optional(),
  cooldownMs: ms('cooldownMs').optional(),
  maxCooldownMs: ms('maxCooldownMs').optional(),
});

/** Sockets per server. Default maxSockets 8. */
export const concurrencySchema = z.strictObject({ maxSockets: z.number().int().min(1).max(256).optional() });

const tlsSchema = z.union([z.strictObject({ ca: z.string().min(1, 'expected a PEM file path') }), z.strictObject({ insecure: z.literal(true) })]);

const common = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'expected letters, digits, ".", "_" or "-" (max 63)'),
  url: httpUrl,
  username: z.string().min(1, 'must not be empty'),
  password: secretSchema,
  tls: tlsSchema.optional(),
  timeouts: timeoutsSchema.optional(),
  retry: retrySchema.optional(),
  concurrency: concurrencySchema.optional(),
  circuitBreaker: circuitBreakerSchema.optional(),
};

export const emServerSchema = z.strictObject({
  ...common,
  kind: z.literal('enterprise-manager'),
  /** EM speaks XML everywhere; JSON only for servers known to do it right (docs/veeam-wire.md Part 1 section 4). */
  format: z.enum(['xml', 'json']).optional(),
  /**
   * Longest query-service URL for batched lookups, in characters (default 8000,
   * `DEFAULT_MAX_URL_LENGTH`). EM's own limit is undocumented; lower it behind a front end with a
   * smaller one (IIS `maxQueryString` 2048).
   */
  maxUrlLength: z.number().int().min(500).max(65536).optional(),
});

export const vboServerSchema = z.strictObject({
  ...common,
  kind: z.literal('microsoft365'),
  apiVersion: z.enum(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']).optional(),
});

export const serverSchema = z.discriminatedUnion('kind', [emServerSchema, vboServerSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'expected "enterprise-manager" or "microsoft365"' : undefined),
});

const scopeSchema = z.enum(['read', 'admin', 'operate', 'metrics']);
const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** An API key: the key itself as a secret, or only its SHA-256 digest, so the config need not hold the key. */
const apiKeySchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/, 'expected letters, digits, ".", "_", "@" or "-" (max 63)'),
    key: secretSchema.optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'expected the 64 hex digits of a SHA-256 digest')
      .optional(),
    scopes: z.array(scopeSchema).min(1, 'expected at least one scope'),
  })
  .refine((k) => (k.key === undefined) !== (k.sha256 === undefined), { error: 'expected exactly one of key or sha256' });

/** Client authentication (src/server/auth/authSettings.ts says what each mode means). */
export const authSchema = z.strictObject({
  mode: z.enum(['none', 'required']).optional(),
  apiKeys: z.array(apiKeySchema).optional(),
  jwt: z
    .strictObject({
      issuer: oneOrMany,
      audience: oneOrMany,
      jwksFile: z.string().min(1).optional(),
      jwksUrl: httpUrl.optional(),
      algorithms: z
        .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']))
        .min(1)
        .optional(),
      scopesClaim: z.string().min(1).optional(),
      clockToleranceS: z.number().int().min(0).max(300, 'at most 300 seconds').optional(),
      jwksCooldownS: z.number().int().min(0).max(3600).optional(),
      jwksMaxStaleS: z.number().int().min(0).max(604_800, 'at most 604800 seconds (7 days)').optional(),
      ca: z.string().min(1, 'expected a PEM file path').optional(),
    })
    .refine((j) => (j.jwksFile === undefined) !== (j.jwksUrl === undefined), { error: 'expected exactly one of jwksFile or jwksUrl' })
    .refine((j) => j.ca === undefined || j.jwksUrl?.startsWith('https:') === true, { error: 'ca: only with an https jwksUrl' })
    .optional(),
  metricsPublic: z.boolean().optional(),
  anonymousScopes: z.array(scopeSchema).optional(),
});

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      /** HTTPS on the listener: PEM files relative to the config; `ca` makes client certificates signed by it required (mutual TLS). */
      tls: z
        .strictObject({
          cert: z.string().min(1, 'expected a PEM file path'),
          key: z.string().min(1, 'expected a PEM file path'),
          ca: z.string().min(1, 'expected a PEM file path').optional(),
        })
        .optional(),
    })
    .optional(),
  auth: authSchema.optional(),
  /** Per-principal token bucket on `/graphql`: `requestsPerSecond` refill, `burst` capacity. Default: off. */
  rateLimit: z
    .strictObject({
      requestsPerSecond: z.number().positive().max(100_000),
      burst: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
  /** Trusted documents: only the operations of `allowlist` run (`enforce`), or unknown ones are logged (`log`). */
  operations: z
    .strictObject({
      allowlist: z.string().min(1, 'expected a file path'),
      mode: z.enum(['enforce', 'log']).optional(),
    })
    .optional(),
  servers: z.array(serverSchema).min(1, 'expected at least one server'),
  defaults: z
    .strictObject({
      timeouts: timeoutsSchema.optional(),
      retry: retrySchema.optional(),
      concurrency: concurrencySchema.optional(),
      circuitBreaker: circuitBreakerSchema.optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      defaultPageSize: z.number().int().min(1).max(1000).optional(),
      maxPageSize: z.number().int().min(1).max(10000).optional(),
      maxDepth: z.number().int().min(1).max(100).optional(),
      maxCost: z.number().int().min(1).optional(),
      maxAliases: z.number().int().min(1).max(10_000).optional(),
      maxDirectives: z.number().int().min(1).max(10_000).optional(),
      maxTokens: z.number().int().min(100).max(1_000_000).optional(),
    })
    .optional(),
  /**
   * The memory layer (src/sources/memory/memoryDefaults.ts holds the defaults): enabled true,
   * maxEntries 50000, ttlMs { backupServer 300000, organization 300000, restorePoint 60000,
   * restoreSession 5000 }, listTtlMs 2000, revalidateMs 10000, maxStaleMs 3600000, budgetMs 2500.
   */
  cache: z
    .strictObject({
      enabled: z.boolean().optional(),
      maxEntries: z.number().int().min(100).max(10_000_000).optional(),
      ttlMs: z
        .strictObject({
          backupServer: z.number().int().min(0).optional(),
          organization: z.number().int().min(0).optional(),
          restorePoint: z.number().int().min(0).optional(),
          restoreSession: z.number().int().min(0).optional(),
        })
        .optional(),
      listTtlMs: z.number().int().min(0).optional(),
      revalidateMs: z.number().int().min(0).optional(),
      maxStaleMs: z.number().int().min(0).optional(),
      budgetMs: ms('budgetMs').optional(),
    })
    .optional(),
  /**
   * Cross-origin browser access to `/graphql`. Default: none (same origin only: no CORS headers
   * at all). `origins` are exact origins (`https://ops.corp:8443`); `credentials` lets browsers send
   * cookies or auth headers; `maxAgeS` (default 600) is how long a preflight answer is cached.
   */
  cors: z
    .strictObject({
      origins: z
        .array(z.string().regex(/^https?:\/\/[^/\s?#]+$/, 'expected an origin like https://ops.corp:8443 (scheme, host, optional port; no path)'))
        .min(1),
      credentials: z.boolean().optional(),
      maxAgeS: z.number().int().min(0).max(86_400).optional(),
    })
    .optional(),
  /**
   * Live updates (src/sources/live/liveDefaults.ts holds the defaults): fastPollMs 2000,
   * slowPollMs 10000, maxBackoffMs 60000, maxSubscriptionsPerConnection 50, maxSubscriptions 5000,
   * queueSize 256, heartbeatMs 15000, leaseMs 10000 (with store.redis).
   */
  live: z
    .strictObject({
      fastPollMs: z.number().int().min(250).max(600_000).optional(),
      slowPollMs: z.number().int().min(250).max(3_600_000).optional(),
      maxBackoffMs: z.number().int().min(250).max(3_600_000).optional(),
      maxSubscriptionsPerConnection: z.number().int().min(1).max(10_000).optional(),
      maxSubscriptions: z.number().int().min(1).max(1_000_000).optional(),
      queueSize: z.number().int().min(1).max(100_000).optional(),
      heartbeatMs: z.number().int().min(1000).max(600_000).optional(),
      leaseMs: z.number().int().min(300).max(600_000).optional(),
    })
    .optional(),
  /**
   * State shared by replicas: the cache, cross-replica coalescing, one live poller per server, in
   * Redis. Without it everything stays in this process's memory.
   */
  store: z
    .strictObject({
      redis: z.strictObject({
        url: z.string().refine(
          (v) => {
            try {
              const u = new URL(v);
              return (u.protocol === 'redis:' || u.protocol === 'rediss:') && !u.username && !u.password;
            } catch {
              return false;
            }
          },
          {
            error: (issue) => `expected redis:// or rediss:// URL without credentials (give them as username and password), got ${urlForMessage(issue.input)}`,
          },
        ),
        keyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'expected 1-64 of letters, digits, ":", ".", "_" or "-"')
          .optional(),
        tls: z.union([z.strictObject({ ca: z.string().min(1, 'expected a PEM file path') }), z.literal(true)]).optional(),
        username: z.string().min(1).optional(),
        password: secretSchema.optional(),
      }),
    })
    .optional(),
  /** Signs pagination cursors; give every instance behind one endpoint the same one so cursors survive restarts. */
  cursorSecret: secretSchema.optional(),
  introspection: z.boolean().optional(),
  /**
   * Serve as an Apollo Federation v2 subgraph: `true`, or `{ rootFieldPrefix }` to rename the
   * generic root fields for a supergraph (`veeam`: node → veeamNode, nodes → veeamNodes, sources → veeamSources).
   */
  federation: z
    .union([
      z.boolean(),
      z.strictObject({
        rootFieldPrefix: z
          .string()
          .regex(/^[a-z][A-Za-z0-9]{0,30}$/, 'expected a lowercase GraphQL name start, e.g. veeam')
          .optional(),
      }),
    ])
    .optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /**
   * OpenTelemetry traces over OTLP/HTTP (JSON). The standard `OTEL_*` variables win key by key
   * (src/observability/tracingSettings.ts); without this key and without
   * `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` tracing is off. `endpoint`: the collector's OTLP/HTTP
   * base (`http://collector:4318`) or its full traces URL (`.../v1/traces`); `sampleRatio` (default
   * 1) samples new traces, a caller's sampled `traceparent` is always followed; `headers` for the
   * collector (an auth token: a secret).
   */
  tracing: z
    .strictObject({
      enabled: z.boolean().optional(),
      endpoint: httpUrl.optional(),
      serviceName: z.string().min(1).max(255).optional(),
      sampleRatio: z.number().min(0).max(1).optional(),
      headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'expected an HTTP header name'), secretSchema).optional(),
    })
    .optional(),
});

export type RawConfig = z.infer<typeof configSchema>;
export type Secret = z.infer<typeof secretSchema>;
