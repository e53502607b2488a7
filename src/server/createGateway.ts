import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerOptions, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { DocumentNode, GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { ConfigError, type GatewayConfig } from '../config/loadConfig.js';
import { createAuthenticator } from './auth/createAuthenticator.js';
import { createAuthMiddleware, identify, principalOf, type OnAuthFailure } from './auth/createAuthMiddleware.js';
import { hasScope, principalIn, withPrincipal } from './auth/Principal.js';
import { unsafeListenProblem } from './auth/unsafeListenProblem.js';
import { readListenerTls } from './readListenerTls.js';
import { redactReadiness } from './redactReadiness.js';
import { createAliasLimitRule } from './createAliasLimitRule.js';
import { createDirectiveLimitRule } from './createDirectiveLimitRule.js';
import { createRateLimitMiddleware, rejectRateLimited } from './createRateLimitMiddleware.js';
import { TokenBucketLimiter } from './TokenBucket.js';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createLiveFeed, type GatewayLiveFeed } from '../sources/live/createLiveFeed.js';
import { createSharedState } from '../sources/shared/createSharedState.js';
import { shareCircuits } from '../sources/shared/shareCircuits.js';
import { packageVersion } from '../cli/version.js';
import { redactSourceErrors } from '../graph/errors/createRedactUpstreamPlugin.js';
import { SubscriptionGate } from './live/subscriptionGate.js';
import { createWsTransport } from './live/createWsTransport.js';
import { createSseHandler } from './live/createSseHandler.js';
import type { FormattedResult } from './live/redactResult.js';
import { subscriptionsOverHttpRule } from './subscriptionsOverHttpRule.js';
import { allowlistAsApqCache, createAllowlistPlugin } from './operations/createAllowlistPlugin.js';
import { createGraph } from '../graph/createGraph.js';
import { createFormatError } from '../graph/errors/createFormatError.js';
import { buildGraphSubgraphSchema } from '../graph/federation/buildGraphSubgraphSchema.js';
import { createSources } from '../sources/createSources.js';
import type { LiveFeed, ReadPolicy, Source, SourceHealth } from '../upstream/Source.js';
import { realScheduler, type Scheduler } from '../sources/Scheduler.js';
import { readPolicyOf } from './readPolicyOf.js';
import { createCorsMiddleware } from './createCorsMiddleware.js';
import { probeOpenCircuits } from '../sources/probeOpenCircuits.js';
import { createCostLimitPlugin } from './createCostLimitPlugin.js';
import { createDepthLimitRule } from './createDepthLimitRule.js';
import { createLogger } from './createLogger.js';
import { createOperationPlugin } from './createOperationPlugin.js';
import { GatewayMetrics } from './GatewayMetrics.js';
import { createGraphiqlRouter, GRAPHIQL_PATH } from './graphiql/createGraphiqlRouter.js';
import { exampleQueries, type ExampleQuery } from './graphiql/exampleQueries.js';
import { Readiness, type ReadinessOptions } from './Readiness.js';
import { knownOperationTypesRule } from './knownOperationTypesRule.js';
import { MAX_REQUEST_BODY_BYTES } from './requestBodyLimit.js';
import { requestId } from './requestId.js';
import { createOperationTracingMiddleware, createOperationTracingPlugin } from '../observability/operationTracing.js';
import { startConfiguredTracing, type GatewayTracing } from '../observability/startTracing.js';

export const GRAPHQL_PATH = '/graphql';

/** What the graph layer hands the server (the contract of `src/graph/createGraph.ts`). */
export interface GatewayGraph {
  typeDefs: DocumentNode;
  resolvers: unknown;
  createContext(init?: {
    requestId?: string;
    logger?: Logger;
    policy?: ReadPolicy;
    revealUpstream?: boolean;
    stream?: { queueSize: number; onOverflow(reason: string): void };
  }): object;
  /** Apollo plugins of the graph (partial-result errors), installed before the server's own. */
  plugins?: readonly unknown[];
  /** Apollo `formatError`; default the graph's `createFormatError`. */
  formatError?: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/** Builds the graph over the sources; `createGraph` of `src/graph` in production, a stand-in in tests. */
export type GraphFactory = (options: {
  sources: readonly Source[];
  health(name: string): SourceHealth;
  now?: () => number;
  limits: { defaultPageSize: number; maxPageSize: number };
  cursorSecret?: string;
  logger: Logger;
  onLoaderBatch?: (loader: string, size: number) => void;
  live?: LiveFeed;
}) => GatewayGraph;

/** Where GraphQL over SSE is served (`graphql-sse`); WebSockets use {@link GRAPHQL_PATH} itself. */
export const GRAPHQL_STREAM_PATH = `${GRAPHQL_PATH}/stream`;

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Root logger. Default: pino at `config.logLevel`, pretty on a TTY. */
  logger?: Logger;
  /** Clock in epoch ms for the clients, health stamps and readiness staleness. Default `Date.now`. */
  now?: () => number;
  /** Clock and timers of the memory layer (budgets, TTLs); wins over `now`. Default real time. */
  scheduler?: Scheduler;
  /** The graph to serve. Default `createGraph` of `src/graph`; tests may pass a stand-in. */
  createGraph?: GraphFactory;
  /** How long `close()` lets in-flight requests finish before cutting them, ms. Default 10000. */
  shutdownGraceMs?: number;
  /** `/readyz` probing (staleness and wait bound). */
  readiness?: Pick<ReadinessOptions, 'staleAfterMs' | 'probeTimeoutMs'>;
  /** GraphiQL's example tabs. Default {@link exampleQueries}. */
  examples?: ExampleQuery[];
  /** Collect prom-client's process metrics. Default true. */
  defaultMetrics?: boolean;
  /** Tracing started by the caller (tests, benchmarks), which also stops it; default: started from `config.tracing`, stopped by `close()`. */
  tracing?: GatewayTracing;
}

/** A running gateway. */
export interface Gateway {
  /** Origin it listens on, e.g. `http://127.0.0.1:4000`. */
  url: string;
  /** GraphQL endpoint, `${url}/graphql`. */
  graphqlUrl: string;
  /** GraphiQL page, `${url}/graphiql`. */
  graphiqlUrl: string;
  server: http.Server;
  sources: readonly Source[];
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** The live feed: one session poller per server, run while subscribers listen. */
  live: GatewayLiveFeed;
  /** Subscriptions held now, both transports. */
  subscriptions(): number;
  logger: Logger;
  /**
   * Re-reads the listener's certificate and key (`listen.tls`) and uses them for new TLS
   * handshakes; open connections keep theirs. A file that cannot be used is logged and the old
   * certificate stays. Resolves false then, or when the gateway has no TLS.
   */
  reloadTls(): Promise<boolean>;
  /**
   * Graceful stop: `/readyz` turns 503, the listener closes, in-flight requests finish (bounded by
   * `shutdownGraceMs`), then every source closes (EM logoff, VB365 token logout). Idempotent.
   */
  close(): Promise<void>;
}

function originOf(address: AddressInfo, secure: boolean): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${secure ? 'https' : 'http'}://${host}:${address.port}`;
}

/** `ApolloServer`'s logger interface over pino (Apollo logs its own lifecycle and plugin problems). */
function apolloLogger(logger: Logger): NonNullable<ApolloServerOptions<BaseContext>['logger']> {
  const log = logger.child({ component: 'apollo' });
  return {
    debug: (message: unknown) => log.debug(String(message)),
    info: (message: unknown) => log.info(String(message)),
    warn: (message: unknown) => log.warn(String(message)),
    error: (message: unknown) => log.error(String(message)),
  };
}

/**
 * Starts the gateway for a validated config: one client per configured server, the graph over
 * them, and an HTTP server (express 5) with
 * - `POST`/`GET /graphql`: Apollo Server 5, CSRF prevention on, Apollo's CDN landing page off,
 *   introspection per config, max depth (validation) and max cost (per operation) limits;
 * - `GET /graphiql` (and `GET /graphql` from a browser): GraphiQL served entirely by the gateway;
 * - `GET /healthz`, `GET /readyz`, `GET /metrics`.
 *
 * With `config.federation` the schema is served as an Apollo Federation v2 subgraph
 * (`buildGraphSubgraphSchema`: `@key`s, `_service`, `_entities`), for a router to compose.
 *
 * Listens on `config.listen` (port 0 picks a free one; `url` tells which).
 *
 * @throws when the port cannot be bound (the sources are closed again first)
 */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const unsafe = unsafeListenProblem(config.listen.host, config.auth);
  if (unsafe !== undefined) throw new ConfigError([`${unsafe}${config.file ? ` (${config.file})` : ''}`], { file: config.file });
  for (const warning of config.warnings) logger.warn(warning);
  if (config.auth.mode === 'none') {
    logger.warn(
      { anonymousScopes: config.auth.anonymousScopes },
      `auth.mode is none: anyone who reaches ${config.listen.host}:${config.listen.port} can query the gateway without credentials`,
    );
  }
  // The TLS files were checked when the config loaded; read again here, they may have changed since.
  const tls = config.listen.tls === undefined ? undefined : await readListenerTls(config.listen.tls);

  const metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics ?? true, version: packageVersion() });
  const scheduler: Scheduler = options.scheduler ?? (options.now ? { now: options.now, setTimer: realScheduler.setTimer } : realScheduler);
  // Replicas share the cache, list reads and the live pollers through Redis (config `store.redis`).
  const shared =
    config.store?.redis === undefined
      ? undefined
      : createSharedState(config.store.redis, { logger, maxEntries: config.cache.maxEntries, scheduler, onEvict: () => metrics.recordEviction() });
  const set = createSources(config.servers, {
    logger,
    now: scheduler.now,
    memory: {
      settings: config.cache,
      scheduler,
      onEvict: () => metrics.recordEviction(),
      ...(shared !== undefined && { store: shared.store, lock: shared.lock }),
    },
  });
  if (set.store !== undefined) metrics.watchCache(() => set.store!.size());
  // An open circuit is probed in the background when its cooldown ends, not by a user's query.
  const prober = probeOpenCircuits(set.list, { scheduler, logger });
  const sources = set.list;
  // A server one replica found down is skipped by all (their breakers follow each other's).
  const unshareCircuits = shared === undefined ? undefined : shareCircuits(sources, shared, { now: scheduler.now, logger });
  for (const source of sources) source.subscribe((event) => metrics.recordSourceEvent(event));
  metrics.watchSources(
    () =>
      sources.map((s) => {
        const health = set.health(s.name);
        return { name: s.name, kind: s.kind, status: health.status, circuit: health.circuit.state };
      }),
    () =>
      sources.flatMap((s) => {
        const stats = s.grantStats();
        return stats === undefined ? [] : [{ source: s.name, ...stats }];
      }),
  );
  const authenticator = createAuthenticator(config.auth, { logger, now: scheduler.now });
  // Failed credentials per client address: 20 at once, then one every 2 s (a brute force gets nowhere; a typo is no lockout).
  const failedAuth = new TokenBucketLimiter({ capacity: 20, refillPerSecond: 0.5, now: scheduler.now });
  const onAuthFailure: OnAuthFailure = (req, res, reason) => {
    // Only a caller's wrong or missing credentials count against its address; the IdP being down or a missing scope does not.
    const limited = reason === 'missing' || reason === 'invalid' ? failedAuth.take(`ip:${req.socket.remoteAddress ?? 'unknown'}`) : { allowed: true as const };
    if (!limited.allowed) {
      metrics.recordAccessDenied('failed_auth_limited');
      rejectRateLimited(res, limited);
      return true;
    }
    metrics.recordAccessDenied(
      reason === 'missing' ? 'missing_credentials' : reason === 'invalid' ? 'invalid_credentials' : reason === 'unavailable' ? 'auth_unavailable' : 'forbidden',
    );
    return false;
  };
  const rateLimit =
    config.rateLimit && new TokenBucketLimiter({ capacity: config.rateLimit.burst, refillPerSecond: config.rateLimit.requestsPerSecond, now: scheduler.now });
  const readiness = new Readiness(sources, set.health, {
    logger,
    now: scheduler.now,
    ...options.readiness,
    ...(shared !== undefined && { store: () => ({ kind: 'redis', status: shared.status() }) }),
  });
  const closeSources = async (): Promise<void> => {
    prober.stop();
    const results = await Promise.allSettled(sources.map((s) => s.close()));
    results.forEach((r, i) => {
      if (r.status === 'rejected') logger.warn({ source: sources[i]!.name, err: r.reason as unknown }, 'closing source failed');
    });
    unshareCircuits?.();
    await shared?.close().catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'closing the shared store failed'));
  };

  const live = createLiveFeed(sources, { scheduler, settings: config.live, logger, shared });
  let apollo: ApolloServer<BaseContext> | undefined;
  let ws: { close(): Promise<void>; connections(): number } | undefined;
  let ownTracing: GatewayTracing | undefined;
  try {
    // Off (no SDK loaded, the API's no-op tracer) unless `tracing`/`OTEL_*` configured it (src/observability).
    ownTracing = options.tracing === undefined ? await startConfiguredTracing(config.tracing, logger) : undefined;
    const tracing = options.tracing ?? ownTracing;
    const graph = (options.createGraph ?? createGraph)({
      sources,
      health: set.health,
      now: scheduler.now,
      limits: { defaultPageSize: config.limits.defaultPageSize, maxPageSize: config.limits.maxPageSize },
      ...(config.cursorSecret !== undefined ? { cursorSecret: config.cursorSecret } : {}),
      logger,
      onLoaderBatch: (loader, size) => metrics.recordLoaderBatch(loader, size),
      live,
    });

    const app = express();
    app.disable('x-powered-by');
    const server: http.Server = tls
      ? https.createServer({ ...tls, ...(tls.ca !== undefined && { requestCert: true, rejectUnauthorized: true }) }, app)
      : http.createServer(app);
    // Federation: the same graph as an Apollo Federation v2 subgraph (`_service`, `_entities`, `@key`s);
    // everything else below (limits, plugins, routes) is the same in both modes.
    // One executable schema for Apollo (queries) and the subscription transports.
    const schema: GraphQLSchema = config.federation
      ? buildGraphSubgraphSchema({ typeDefs: graph.typeDefs, resolvers: graph.resolvers as object, rootFieldPrefix: config.federationRootFieldPrefix })
      : makeExecutableSchema({ typeDefs: graph.typeDefs, resolvers: graph.resolvers as never });
    const validationRules = [
      knownOperationTypesRule,
      createDepthLimitRule(config.limits.maxDepth),
      createAliasLimitRule(config.limits.maxAliases),
      createDirectiveLimitRule(config.limits.maxDirectives),
    ];
    const ops = config.operations;
    apollo = new ApolloServer<BaseContext>({
      schema,
      introspection: config.introspection,
      csrfPrevention: true,
      includeStacktraceInErrorResponses: false,
      // We own SIGINT/SIGTERM (the CLI closes the gateway, then the process exits 0).
      stopOnTerminationSignals: false,
      // A document of more tokens is refused by the parser, before validation: a long enough
      // chain of fragments would otherwise overflow graphql-js's validation stack.
      parseOptions: { maxTokens: config.limits.maxTokens },
      validationRules: [...validationRules, subscriptionsOverHttpRule],
      // Trusted documents: hash-only (APQ) requests are answered from the allowlist, and in enforce
      // mode nothing else can be registered; validation errors do not describe the schema to outsiders.
      ...(ops && {
        persistedQueries: { cache: allowlistAsApqCache(ops.allowlist, { mode: ops.mode }) },
        hideSchemaDetailsFromClientErrors: ops.mode === 'enforce',
      }),
      formatError: graph.formatError ?? createFormatError(logger),
      logger: apolloLogger(logger),
      plugins: [
        // The default landing page loads Apollo Sandbox from a CDN; backup networks are air-gapped.
        ApolloServerPluginLandingPageDisabled(),
        ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: options.shutdownGraceMs ?? 10_000 }),
        ...((graph.plugins ?? []) as ApolloServerPlugin<BaseContext>[]),
        // Before the cost limit: an unlisted document is refused as such, not for its cost.
        ...(ops
          ? [
              createAllowlistPlugin({
                allowlist: ops.allowlist,
                mode: ops.mode,
                logger,
                bypass: (context) => {
                  const principal = principalIn(context);
                  return principal !== undefined && hasScope(principal, 'admin');
                },
                onRejected: (mode) => metrics.recordAccessDenied(mode === 'enforce' ? 'not_in_allowlist' : 'not_in_allowlist_logged'),
              }),
            ]
          : []),
        createCostLimitPlugin(config.limits),
        createOperationPlugin({ logger, metrics, principalOf: (context) => principalIn(context)?.id }),
        ...(tracing ? [createOperationTracingPlugin()] : []),
      ],
    });
    await apollo.start();

    app.use(requestId);
    app.get('/healthz', (_req, res) => {
      res.set('cache-control', 'no-store').json({ status: 'ok' });
    });
    // Open to probes, but upstream URLs and error texts only for an admin.
    app.get('/readyz', async (req, res) => {
      const report = await readiness.check();
      const principal = await identify(authenticator, req);
      res
        .status(report.ready ? 200 : 503)
        .set('cache-control', 'no-store')
        .json(principal !== undefined && hasScope(principal, 'admin') ? report : redactReadiness(report));
    });
    const metricsAuth = config.auth.metricsPublic ? [] : [createAuthMiddleware(authenticator, 'metrics', onAuthFailure)];
    app.get('/metrics', ...metricsAuth, async (_req, res) => {
      const { contentType, body } = await metrics.render();
      res.set('cache-control', 'no-store').type(contentType).send(body);
    });
    // Cross-origin browsers only when configured: without `cors` no Access-Control-* header is sent.
    if (config.cors !== undefined) app.use(GRAPHQL_PATH, createCorsMiddleware(config.cors));
    app.use(createGraphiqlRouter({ endpoint: GRAPHQL_PATH, examples: options.examples ?? exampleQueries() }));

    // Subscriptions: the same door (credential, scope, rate limit, allowlist, validation rules) per operation.
    const formatError = graph.formatError ?? createFormatError(logger);
    const formatResult = (result: FormattedResult, contextValue: unknown): FormattedResult => {
      if (!result.errors?.length) return result;
      const formatted = result.errors.map((e) => formatError(e instanceof GraphQLError ? e.toJSON() : e, e));
      const principal = principalIn(contextValue);
      return { ...result, errors: principal !== undefined && hasScope(principal, 'admin') ? formatted : redactSourceErrors(formatted) };
    };
    const gate = new SubscriptionGate({
      schema,
      authenticator,
      validationRules,
      maxTokens: config.limits.maxTokens,
      settings: config.live,
      rateLimit,
      logger,
      createContext: (init) => graph.createContext(init),
      ...(ops && {
        allowlisted: (query, principal) => ops.mode === 'log' || hasScope(principal, 'admin') || ops.allowlist.match(query) !== undefined,
      }),
      onDenied: (reason) => metrics.recordAccessDenied(reason),
    });
    const corsOrigins = new Set(config.cors?.origins ?? []);
    ws = createWsTransport({
      server,
      path: GRAPHQL_PATH,
      gate,
      heartbeatMs: config.live.heartbeatMs,
      // Same origin (the GraphiQL page), a configured CORS origin, or no browser at all.
      originAllowed: (origin, host) => {
        if (origin === undefined) return true;
        if (corsOrigins.has(origin.toLowerCase())) return true;
        try {
          return new URL(origin).host === host;
        } catch {
          return false;
        }
      },
      formatResult,
      logger: logger.child({ component: 'ws' }),
    });
    metrics.watchLive(() => ({ subscriptions: gate.operations, connections: ws?.connections() ?? 0, pollers: live.stats().filter((p) => p.active).length }));
    app.use(
      GRAPHQL_STREAM_PATH,
      createAuthMiddleware(authenticator, 'read', onAuthFailure),
      express.json({ limit: MAX_REQUEST_BODY_BYTES }),
      createSseHandler({ gate, formatResult, logger: logger.child({ component: 'sse' }) }),
    );
    app.use(
      GRAPHQL_PATH,
      // Before the body is parsed: a caller without credentials costs no JSON parsing.
      createAuthMiddleware(authenticator, 'read', onAuthFailure),
      ...(rateLimit ? [createRateLimitMiddleware(rateLimit, () => metrics.recordAccessDenied('rate_limited'))] : []),
      express.json({ limit: MAX_REQUEST_BODY_BYTES }),
      // After the body parser: from here on the operation's span is the active one.
      ...(tracing ? [createOperationTracingMiddleware()] : []),
      expressMiddleware(apollo as ApolloServer<BaseContext>, {
        context: async ({ req, res }) => {
          const id = String(res.locals.requestId);
          // A client that goes away cancels the upstream reads nobody else waits for.
          const abort = new AbortController();
          res.once('close', () => {
            if (!res.writableFinished) abort.abort(new Error('client closed the request'));
          });
          const policy = readPolicyOf(req.headers, { budgetMs: config.cache.budgetMs, signal: abort.signal });
          const principal = principalOf(res)!;
          const context = graph.createContext({
            requestId: id,
            logger: logger.child({ requestId: id, principal: principal.id }),
            policy,
            revealUpstream: hasScope(principal, 'admin'),
          });
          return withPrincipal(context, principal) as BaseContext;
        },
      }),
    );
    app.use((_req: Request, res: Response) => {
      res.status(404).json({ error: 'not found', routes: [GRAPHQL_PATH, GRAPHIQL_PATH, '/healthz', '/readyz', '/metrics'] });
    });
    // Body-parser failures (bad JSON, too large) carry a status; anything else is ours, and logged.
    app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
      const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
      if (status === 500) logger.error({ err, requestId: res.locals.requestId as unknown }, 'unhandled error in HTTP route');
      if (res.headersSent) return;
      const message = err.type === 'entity.too.large' ? `Request body over the maximum of ${MAX_REQUEST_BODY_BYTES} bytes.` : err.message;
      res.status(status).json({
        errors: [
          { message: status === 500 ? 'Internal server error' : message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } },
        ],
      });
    });

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const url = originOf(server.address() as AddressInfo, tls !== undefined);
    logger.info({ url, servers: sources.map((s) => s.name), ...(config.federation && { federation: true }) }, 'gateway listening');

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        logger.info('gateway shutting down');
        readiness.markClosing();
        live.close();
        await ws?.close();
        try {
          // Drains HTTP: stops accepting, lets in-flight requests finish (bounded), closes sockets.
          await apollo?.stop();
        } finally {
          await closeSources();
          await ownTracing?.shutdown();
        }
        logger.info('gateway stopped');
      })();
      return closing;
    };
    const reloadTls = async (): Promise<boolean> => {
      if (config.listen.tls === undefined) {
        logger.info('no listen.tls: no certificate to reload');
        return false;
      }
      try {
        const next = await readListenerTls(config.listen.tls);
        (server as https.Server).setSecureContext({ ...next });
        logger.info({ cert: config.listen.tls.certFile }, 'TLS certificate reloaded');
        return true;
      } catch (err) {
        logger.error({ err: { message: (err as Error).message } }, 'TLS certificate not reloaded; the previous one stays in use');
        return false;
      }
    };
    return {
      url,
      graphqlUrl: `${url}${GRAPHQL_PATH}`,
      graphiqlUrl: `${url}${GRAPHIQL_PATH}`,
      server,
      sources,
      metrics,
      readiness,
      live,
      subscriptions: () => gate.operations,
      logger,
      reloadTls,
      close,
    };
  } catch (err) {
    live.close();
    await ws?.close().catch(() => undefined);
    await apollo?.stop().catch(() => undefined);
    await closeSources();
    await ownTracing?.shutdown().catch(() => undefined);
    throw err;
  }
}
