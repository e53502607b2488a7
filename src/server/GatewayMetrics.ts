import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HttpRequestEvent } from '../upstream/http/createHttpClient.js';
import type { SourceEvent } from '../upstream/Source.js';
import { routeTemplate } from '../observability/upstreamSpan.js';

/** Outcome label of a GraphQL operation. */
export type OperationOutcome = 'success' | 'partial' | 'error' | 'rejected';

/** Health of one source as `/metrics` reads it (see {@link GatewayMetrics.watchSources}). */
export interface SourceHealthView {
  name: string;
  kind: string;
  status: 'UNKNOWN' | 'UP' | 'DOWN';
  /** The server's circuit breaker. */
  circuit: 'closed' | 'open' | 'half-open';
}

/** VB365 `/token` counters of one source (see `VboClient.tokenStats()`). */
export interface TokenStatsView {
  source: string;
  passwordGrants: number;
  refreshGrants: number;
  refreshFallbacks: number;
  throttled: number;
}

/** Every metric name the gateway exports besides prom-client's default process metrics. */
export const METRIC_NAMES = {
  operations: 'veeam_graph_graphql_operations_total',
  operationDuration: 'veeam_graph_graphql_operation_duration_seconds',
  upstreamRequests: 'veeam_graph_upstream_requests_total',
  upstreamDuration: 'veeam_graph_upstream_request_duration_seconds',
  upstreamErrors: 'veeam_graph_upstream_errors_total',
  upstreamRetries: 'veeam_graph_upstream_retries_total',
  upstreamLogons: 'veeam_graph_upstream_logons_total',
  tokenGrants: 'veeam_graph_vbo_token_grants_total',
  loaderBatchSize: 'veeam_graph_loader_batch_size',
  sourceUp: 'veeam_graph_source_up',
  cacheReads: 'veeam_graph_cache_reads_total',
  cacheEvictions: 'veeam_graph_cache_evictions_total',
  cacheEntries: 'veeam_graph_cache_entries',
  accessDenied: 'veeam_graph_access_denied_total',
  subscriptions: 'veeam_graph_subscriptions',
  subscriptionConnections: 'veeam_graph_subscription_connections',
  livePollers: 'veeam_graph_live_pollers',
  buildInfo: 'veeam_graph_build_info',
  circuitState: 'veeam_graph_circuit_state',
  subscriptionExecutions: 'veeam_graph_subscription_event_executions_total',
  configReloads: 'veeam_graph_config_reloads_total',
  configLastReloadSuccessful: 'veeam_graph_config_last_reload_successful',
  configInfo: 'veeam_graph_config_info',
} as const;

/** How a config reload ended (the `result` label of `veeam_graph_config_reloads_total`). */
export type ConfigReloadResult = 'applied' | 'unchanged' | 'invalid' | 'refused' | 'failed';

/** Why the gateway's door refused a request (the `reason` label of `veeam_graph_access_denied_total`). */
export type AccessDeniedReason =
  | 'missing_credentials'
  | 'invalid_credentials'
  | 'auth_unavailable'
  | 'forbidden'
  | 'rate_limited'
  | 'failed_auth_limited'
  | 'not_in_allowlist'
  | 'not_in_allowlist_logged';

/**
 * Operation names come from clients; past this many distinct names the rest are counted as
 * `other`, so a client generating names cannot blow up the series count of the registry.
 */
const MAX_OPERATION_NAMES = 200;

/**
 * Route templates carry no ids (`routeTemplate`), so a source has a few dozen; should a server
 * ever put names in its paths, past this many per source the rest are counted as `other`.
 */
const MAX_ROUTES_PER_SOURCE = 100;

/**
 * The Prometheus metrics of one gateway instance, in a registry of its own (never prom-client's
 * global default): two gateways in one process (tests, a blue/green swap) must not share or
 * double-register series.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly operations: Counter<'operation' | 'outcome'>;
  private readonly operationDuration: Histogram<'operation' | 'outcome'>;
  private readonly upstreamRequests: Counter<'source' | 'method' | 'status'>;
  private readonly upstreamDuration: Histogram<'source' | 'route' | 'status'>;
  private readonly configReloads: Counter<'result'>;
  private readonly subscriptionExecutions: Counter<'execution'>;
  private readonly lastReloadSuccessful: Gauge;
  private readonly configInfo: Gauge<'digest'>;
  private readonly routes = new Map<string, Set<string>>();
  private readonly upstreamErrors: Counter<'source' | 'code'>;
  private readonly upstreamRetries: Counter<'source'>;
  private readonly upstreamLogons: Counter<'source' | 'kind' | 'outcome'>;
  private readonly loaderBatchSize: Histogram<'loader'>;
  private readonly cacheReads: Counter<'source' | 'what' | 'outcome'>;
  private readonly cacheEvictions: Counter;
  private readonly accessDenied: Counter<'reason'>;
  private cacheSize: () => number = () => 0;
  private liveStats: () => { subscriptions: number; connections: number; pollers: number } = () => ({ subscriptions: 0, connections: 0, pollers: 0 });
  private readonly operationNames = new Set<string>();
  private sources: () => readonly SourceHealthView[] = () => [];
  private tokenStats: () => readonly TokenStatsView[] = () => [];

  /**
   * @param options `defaultMetrics: false` skips the process metrics (they start timers per
   *   registry); `version` labels `veeam_graph_build_info`
   */
  constructor(options: { defaultMetrics?: boolean; version?: string } = {}) {
    const registers = [this.registry];
    new Gauge({
      name: METRIC_NAMES.buildInfo,
      help: 'Always 1; the labels say which veeam-graph runs on which Node.js.',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version: options.version ?? 'unknown', node_version: process.version }, 1);
    this.operations = new Counter({
      name: METRIC_NAMES.operations,
      help: 'GraphQL operations by operation name and outcome (success, partial, error, rejected).',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.operationDuration = new Histogram({
      name: METRIC_NAMES.operationDuration,
      help: 'GraphQL operation duration in seconds, from request received to response sent.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.upstreamRequests = new Counter({
      name: METRIC_NAMES.upstreamRequests,
      help: 'HTTP attempts to Veeam servers by source, method and status (HTTP status, or the error code when no response arrived).',
      labelNames: ['source', 'method', 'status'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: METRIC_NAMES.upstreamDuration,
      help: 'Duration of HTTP attempts to Veeam servers in seconds, by source, route template (ids replaced by {id}, e.g. /api/query?type=RestoreSession, /v8/RestoreSessions/{id}/Events) and status.',
      labelNames: ['source', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: METRIC_NAMES.upstreamErrors,
      help: 'Failed HTTP attempts to Veeam servers: no response (code = upstream error code) or an HTTP status >= 400 (code = HTTP_<status>).',
      labelNames: ['source', 'code'],
      registers,
    });
    this.upstreamRetries = new Counter({
      name: METRIC_NAMES.upstreamRetries,
      help: 'HTTP attempts to Veeam servers that were followed by a retry.',
      labelNames: ['source'],
      registers,
    });
    this.upstreamLogons = new Counter({
      name: METRIC_NAMES.upstreamLogons,
      help: 'Logons: EM logon sessions (em_logon) and VB365 token requests including refreshes (vbo_token), by outcome.',
      labelNames: ['source', 'kind', 'outcome'],
      registers,
    });
    this.loaderBatchSize = new Histogram({
      name: METRIC_NAMES.loaderBatchSize,
      help: 'Keys per DataLoader batch, by loader.',
      labelNames: ['loader'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });
    this.cacheReads = new Counter({
      name: METRIC_NAMES.cacheReads,
      help: 'Reads of the memory layer by source, what was read (entity or list kind) and outcome: hit (fresh from memory), miss (read from the server), coalesced (joined a read in progress), stale (served past its TTL because the server failed or was too slow).',
      labelNames: ['source', 'what', 'outcome'],
      registers,
    });
    this.cacheEvictions = new Counter({
      name: METRIC_NAMES.cacheEvictions,
      help: 'Entries the memory layer evicted to stay within cache.maxEntries.',
      registers,
    });
    this.accessDenied = new Counter({
      name: METRIC_NAMES.accessDenied,
      help: 'Requests the gateway refused (or, for not_in_allowlist_logged, only logged) at its door, by reason: missing_credentials, invalid_credentials, auth_unavailable, forbidden, rate_limited, failed_auth_limited, not_in_allowlist.',
      labelNames: ['reason'],
      registers,
    });
    this.subscriptionExecutions = new Counter({
      name: METRIC_NAMES.subscriptionExecutions,
      help: 'Subscription events resolved for a subscriber: executed (the graph resolved the event) or shared (the result of another subscription of the same document, variables and visibility was reused).',
      labelNames: ['execution'],
      registers,
    });
    this.configReloads = new Counter({
      name: METRIC_NAMES.configReloads,
      help: 'Config reloads (SIGHUP, --watch-config) by result: applied, unchanged (the running config already; nothing swapped), invalid (the file did not validate), refused (it would open the gateway off loopback without auth), failed (it could not be built).',
      labelNames: ['result'],
      registers,
    });
    this.lastReloadSuccessful = new Gauge({
      name: METRIC_NAMES.configLastReloadSuccessful,
      help: 'Whether the last config reload was applied (1, also before any reload) or not (0: the running config is older than the file).',
      registers,
    });
    this.lastReloadSuccessful.set(1);
    this.configInfo = new Gauge({
      name: METRIC_NAMES.configInfo,
      help: 'Always 1; `digest` is a short SHA-256 of the config serving now, secrets left out: replicas that differ run different configs.',
      labelNames: ['digest'],
      registers,
    });
    const liveStats = (): { subscriptions: number; connections: number; pollers: number } => this.liveStats();
    new Gauge({
      name: METRIC_NAMES.subscriptions,
      help: 'Subscriptions held now (WebSocket and SSE).',
      registers,
      collect() {
        this.set(liveStats().subscriptions);
      },
    });
    new Gauge({
      name: METRIC_NAMES.subscriptionConnections,
      help: 'WebSocket connections open now.',
      registers,
      collect() {
        this.set(liveStats().connections);
      },
    });
    new Gauge({
      name: METRIC_NAMES.livePollers,
      help: 'Session pollers running now: one per server with subscribers, however many.',
      registers,
      collect() {
        this.set(liveStats().pollers);
      },
    });
    const size = (): number => this.cacheSize();
    new Gauge({
      name: METRIC_NAMES.cacheEntries,
      help: 'Entries held by the memory layer now.',
      registers,
      collect() {
        this.set(size());
      },
    });
    // prom-client calls collect() with the metric as `this`; these arrows reach the gateway's state.
    const health = (): readonly SourceHealthView[] => this.sources();
    const tokens = (): readonly TokenStatsView[] => this.tokenStats();
    new Gauge({
      name: METRIC_NAMES.sourceUp,
      help: 'Health of each configured server: 1 up, 0 down, -1 not checked yet.',
      labelNames: ['source', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const s of health()) this.set({ source: s.name, kind: s.kind }, s.status === 'UP' ? 1 : s.status === 'DOWN' ? 0 : -1);
      },
    });
    new Gauge({
      name: METRIC_NAMES.circuitState,
      help: 'Circuit breaker of each configured server: 1 for its current state (closed, open, half-open), 0 for the others.',
      labelNames: ['source', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of health())
          for (const state of ['closed', 'open', 'half-open'] as const) this.set({ source: s.name, state }, s.circuit === state ? 1 : 0);
      },
    });
    new Counter({
      name: METRIC_NAMES.tokenGrants,
      help: 'VB365 /token requests by grant (password, refresh_token), refreshes that fell back to a password grant (refresh_fallback) and throttled answers waited out (throttled).',
      labelNames: ['source', 'grant'],
      registers,
      collect() {
        // The token manager owns these counters; mirror its totals rather than double-count.
        this.reset();
        for (const t of tokens()) {
          this.inc({ source: t.source, grant: 'password' }, t.passwordGrants);
          this.inc({ source: t.source, grant: 'refresh_token' }, t.refreshGrants);
          this.inc({ source: t.source, grant: 'refresh_fallback' }, t.refreshFallbacks);
          this.inc({ source: t.source, grant: 'throttled' }, t.throttled);
        }
      },
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Makes `veeam_graph_source_up` and the token counters read the sources at scrape time. */
  watchSources(health: () => readonly SourceHealthView[], tokenStats: () => readonly TokenStatsView[] = () => []): void {
    this.sources = health;
    this.tokenStats = tokenStats;
  }

  /** One finished GraphQL operation. */
  recordOperation(operationName: string | undefined, outcome: OperationOutcome, seconds: number): void {
    const operation = this.operationLabel(operationName);
    this.operations.inc({ operation, outcome });
    this.operationDuration.observe({ operation, outcome }, seconds);
  }

  /** Every source's outcome events (`Source.subscribe`): HTTP attempts and logons. */
  recordSourceEvent(event: SourceEvent): void {
    if (event.type === 'http') this.recordUpstream(event.request);
    else if (event.type === 'logon') this.upstreamLogons.inc({ source: event.source, kind: event.logon, outcome: event.outcome });
    else if (event.type === 'cache') this.cacheReads.inc({ source: event.source, what: event.what, outcome: event.outcome });
  }

  /** One request refused at the door (auth, scope, rate limit, allowlist). */
  recordAccessDenied(reason: AccessDeniedReason): void {
    this.accessDenied.inc({ reason });
  }

  /** One entry evicted by the memory layer's store. */
  recordEviction(): void {
    this.cacheEvictions.inc();
  }

  /** Makes the live gauges read the gateway at scrape time. */
  watchLive(stats: () => { subscriptions: number; connections: number; pollers: number }): void {
    this.liveStats = stats;
  }

  /** Makes `veeam_graph_cache_entries` read the store at scrape time. */
  watchCache(size: () => number): void {
    this.cacheSize = size;
  }

  /** One subscription event resolved for one subscriber: executed, or shared with another subscription. */
  recordSubscriptionExecution(shared: boolean): void {
    this.subscriptionExecutions.inc({ execution: shared ? 'shared' : 'executed' });
  }

  /** The config that serves now (at start and after every applied reload). */
  setConfigDigest(digest: string): void {
    this.configInfo.reset();
    this.configInfo.set({ digest }, 1);
  }

  /** One config reload. */
  recordConfigReload(result: ConfigReloadResult): void {
    this.configReloads.inc({ result });
    this.lastReloadSuccessful.set(result === 'applied' || result === 'unchanged' ? 1 : 0);
  }

  /** One HTTP attempt to a Veeam server. */
  recordUpstream(event: HttpRequestEvent): void {
    const status = event.status !== undefined ? String(event.status) : (event.errorCode ?? 'error');
    this.upstreamRequests.inc({ source: event.server, method: event.method, status });
    this.upstreamDuration.observe({ source: event.server, route: this.routeLabel(event.server, event.path), status }, event.ms / 1000);
    if (event.status === undefined) this.upstreamErrors.inc({ source: event.server, code: event.errorCode ?? 'UPSTREAM_UNREACHABLE' });
    else if (event.status >= 400) this.upstreamErrors.inc({ source: event.server, code: `HTTP_${event.status}` });
    if (event.willRetry) this.upstreamRetries.inc({ source: event.server });
  }

  /** The `onLoaderBatch` hook of the graph. */
  recordLoaderBatch(loader: string, size: number): void {
    this.loaderBatchSize.observe({ loader }, size);
  }

  /** Text exposition for `GET /metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private routeLabel(source: string, path: string): string {
    let route: string;
    try {
      route = routeTemplate(new URL(path, 'http://upstream.invalid'));
    } catch {
      return 'other';
    }
    let seen = this.routes.get(source);
    if (seen === undefined) this.routes.set(source, (seen = new Set()));
    if (seen.has(route)) return route;
    if (seen.size >= MAX_ROUTES_PER_SOURCE) return 'other';
    seen.add(route);
    return route;
  }

  private operationLabel(name: string | undefined): string {
    if (!name) return 'anonymous';
    // GraphQL names are [_A-Za-z][_0-9A-Za-z]*; cap the length so a label stays readable.
    const label = name.slice(0, 64);
    if (this.operationNames.has(label)) return label;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(label);
    return label;
  }
}
