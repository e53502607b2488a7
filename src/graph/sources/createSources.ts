import type { Logger } from 'pino';
import type { EmServerConfig, ServerConfig, ServerHttpSettings, VboServerConfig } from '../../config/loadConfig.js';
import { EmClient } from '../../upstream/em/EmClient.js';
import { isUpstreamError } from '../../upstream/errors.js';
import type { CircuitBreakerOptions, CircuitState, CircuitStateName } from '../../upstream/http/CircuitBreaker.js';
import type { HttpRequestEvent, HttpRetryOptions, HttpTimeouts, HttpTlsOptions } from '../../upstream/http/createHttpClient.js';
import { VboClient } from '../../upstream/vbo/VboClient.js';

/** Health of one configured server as seen by the gateway's last call to it (never probed on its own). */
export interface SourceHealth {
  status: 'UNKNOWN' | 'UP' | 'DOWN';
  /** Duration of the last HTTP attempt, ms (failed ones included). */
  lastLatencyMs?: number;
  /** The last failure; cleared by the next success. `code` is an `UpstreamErrorCode`. */
  lastError?: { code: string; message: string; at: string; httpStatus?: number; retryable?: boolean };
  /** When the last call finished, ISO 8601. */
  lastCheckedAt?: string;
  /** The server's circuit breaker; while not `closed`, `status` is DOWN and `lastError.code` UPSTREAM_CIRCUIT_OPEN. */
  circuit: { state: CircuitStateName; openedAt?: string; until?: string };
}

interface GraphSourceBase {
  /** Configured name, unique in the gateway. */
  readonly name: string;
  /** Base URL as configured, without credentials. */
  readonly url: string;
  /** A fresh snapshot on every read: the last call's outcome combined with the circuit breaker's state. */
  readonly health: SourceHealth;
  /** Record a failure the HTTP layer could not see (a 200 whose body did not decode, a failed logon). */
  recordFailure(error: unknown): void;
  close(): Promise<void>;
}

export interface EmGraphSource extends GraphSourceBase {
  readonly kind: 'enterprise-manager';
  /** The version of the logon session (`v1_7`) when known; see `EmClient.apiVersion`. */
  readonly apiVersion?: string;
  /** Reads the version from EM when not known yet (one unauthenticated `GET /api/`); undefined when EM cannot tell. */
  resolveApiVersion(): Promise<string | undefined>;
  readonly client: EmClient;
}

export interface VboGraphSource extends GraphSourceBase {
  readonly kind: 'microsoft365';
  readonly apiVersion: string;
  readonly client: VboClient;
}

/** A configured server with its client and health; discriminated by `kind`. */
export type GraphSource = EmGraphSource | VboGraphSource;

export interface CreateSourcesOptions {
  logger: Logger;
  /** Every HTTP attempt of every client (metrics). */
  onRequest?: (event: HttpRequestEvent) => void;
  /** Clock in epoch ms for clients and health timestamps. Default `Date.now`. */
  now?: () => number;
  /** Sleep between retries (tests record instead of waiting). Default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * One client per configured server, built once at start (design.md section 9.2), with a health
 * record that every HTTP attempt updates: a response below 500 means the server is UP (a 404 for a
 * deleted entity or a 401 before re-logon is the API working); no response or a 5xx means DOWN.
 * Failures invisible to the HTTP layer (bad bodies, refused logons) are reported by the graph
 * through `recordFailure`.
 */
export function createSources(servers: ServerConfig[], options: CreateSourcesOptions): GraphSource[] {
  const now = options.now ?? Date.now;
  return servers.map((server) => {
    const health: Omit<SourceHealth, 'circuit'> = { status: 'UNKNOWN' };
    const onRequest = (event: HttpRequestEvent): void => {
      health.lastLatencyMs = event.ms;
      health.lastCheckedAt = new Date(now()).toISOString();
      if (event.status !== undefined && event.status < 500) {
        if (event.status === 403 || (event.status === 401 && event.method === 'POST')) {
          health.status = 'DOWN';
          health.lastError = {
            code: 'UPSTREAM_AUTH_FAILED',
            message: `${server.name}: ${event.method} ${event.path} -> HTTP ${event.status}`,
            at: health.lastCheckedAt,
            httpStatus: event.status,
            retryable: false,
          };
        } else if (event.status < 400 || event.status === 404 || event.status === 401) {
          health.status = 'UP';
          delete health.lastError;
        }
      } else {
        health.status = 'DOWN';
        const code = event.errorCode ?? 'UPSTREAM_HTTP_ERROR';
        const what = event.status !== undefined ? `HTTP ${event.status}` : code.toLowerCase().replace(/_/g, ' ');
        health.lastError = {
          code,
          message: `${server.name}: ${event.method} ${event.path} -> ${what}`,
          at: health.lastCheckedAt,
          ...(event.status !== undefined && { httpStatus: event.status }),
          retryable: event.status === undefined || event.status >= 500,
        };
      }
      options.onRequest?.(event);
    };
    const recordFailure = (error: unknown): void => {
      // A fast failure of an open circuit is no call to the server: the record keeps the real one.
      if (!isUpstreamError(error) || error.source !== server.name || error.code === 'UPSTREAM_CIRCUIT_OPEN') return;
      health.status = 'DOWN';
      health.lastCheckedAt = new Date(now()).toISOString();
      health.lastError = {
        code: error.code,
        message: error.message,
        at: health.lastCheckedAt,
        ...(error.status !== undefined && { httpStatus: error.status }),
        retryable: error.retryable,
      };
    };
    const common = {
      name: server.name,
      username: server.username,
      password: server.password,
      logger: options.logger,
      onRequest,
      now,
      ...(options.sleep !== undefined && { sleep: options.sleep }),
      ...httpOptions(server),
    };
    if (server.kind === 'enterprise-manager') {
      const em = server as EmServerConfig;
      const client = new EmClient({ ...common, url: em.url, format: em.format, ...(em.maxUrlLength !== undefined && { urlBudget: em.maxUrlLength }) });
      const source: EmGraphSource = {
        kind: 'enterprise-manager',
        name: server.name,
        url: safeUrl(server.url),
        client,
        get apiVersion() {
          return client.apiVersion;
        },
        resolveApiVersion: () => client.resolveApiVersion(),
        get health() {
          return withCircuit(server.name, health, client.circuit());
        },
        recordFailure,
        close: () => client.close(),
      };
      return source;
    }
    const vbo = server as VboServerConfig;
    const client = new VboClient({ ...common, url: vbo.url, apiVersion: vbo.apiVersion });
    const source: VboGraphSource = {
      kind: 'microsoft365',
      name: server.name,
      url: safeUrl(server.url),
      apiVersion: vbo.apiVersion,
      client,
      get health() {
        return withCircuit(server.name, health, client.circuit());
      },
      recordFailure,
      close: () => client.close(),
    };
    return source;
  });
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/**
 * The health record seen through the circuit breaker. While the circuit is not closed no request
 * reaches the server, so the record would keep showing the failure that opened it; the breaker's
 * state is the truer answer: DOWN, UPSTREAM_CIRCUIT_OPEN, since when and until when.
 */
function withCircuit(name: string, record: Omit<SourceHealth, 'circuit'>, state: CircuitState): SourceHealth {
  const openedAt = iso(state.openedAt);
  const until = iso(state.until);
  const circuit = { state: state.circuit, ...(openedAt !== undefined && { openedAt }), ...(until !== undefined && { until }) };
  if (state.circuit === 'closed' || openedAt === undefined || until === undefined) return { ...record, circuit };
  const last = state.lastFailureCode === undefined ? '' : ` (last failure: ${state.lastFailureCode})`;
  const message =
    state.circuit === 'open'
      ? `${name}: circuit open since ${openedAt} until ${until}${last}; calls fail fast`
      : `${name}: circuit half-open since ${until} (open since ${openedAt})${last}; the next call probes the server`;
  return { ...record, status: 'DOWN', lastError: { code: 'UPSTREAM_CIRCUIT_OPEN', message, at: openedAt, retryable: true }, circuit };
}

/** The configured URL with any userinfo removed: `Source.url` is public. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href.replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url;
  }
}

/** Maps the config's HTTP settings (names of the config file) to the client options (names of the HTTP layer). */
function httpOptions(server: ServerHttpSettings & { tls: { ca?: string; insecure: boolean } }): {
  tls: HttpTlsOptions;
  timeouts: HttpTimeouts;
  retry: HttpRetryOptions;
  maxSockets: number;
  circuitBreaker: CircuitBreakerOptions;
} {
  return {
    tls: { ...(server.tls.ca !== undefined && { ca: server.tls.ca }), insecure: server.tls.insecure },
    timeouts: { connect: server.timeouts.connectMs, response: server.timeouts.responseMs, total: server.timeouts.totalMs },
    retry: {
      limit: server.retry.limit,
      backoffBaseMs: server.retry.baseDelayMs,
      retryAfterCapMs: server.retry.maxRetryAfterMs,
      budget: { ratio: server.retry.budgetRatio },
    },
    maxSockets: server.concurrency.maxSockets,
    circuitBreaker: { ...server.circuitBreaker },
  };
}
