import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { ApolloServer, type ApolloServerOptions, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { makeExecutableSchema } from '@graphql-tools/schema';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/loadConfig.js';
import { createGraph } from '../graph/createGraph.js';
import { redactSourceErrors } from '../graph/errors/createRedactUpstreamPlugin.js';
import { createFormatError } from '../graph/errors/createFormatError.js';
import { buildGraphSubgraphSchema } from '../graph/federation/buildGraphSubgraphSchema.js';
import { createOperationTracingMiddleware, createOperationTracingPlugin } from '../observability/operationTracing.js';
import { createLiveFeed, type GatewayLiveFeed } from '../sources/live/createLiveFeed.js';
import { probeOpenCircuits } from '../sources/probeOpenCircuits.js';
import type { Scheduler } from '../sources/Scheduler.js';
import { shareCircuits } from '../sources/shared/shareCircuits.js';
import type { Source } from '../upstream/Source.js';
import { createAuthenticator } from './auth/createAuthenticator.js';
import { createAuthMiddleware, identify, principalOf, type OnAuthFailure } from './auth/createAuthMiddleware.js';
import { hasScope, principalIn, withPrincipal } from './auth/Principal.js';
import type { Upstream } from './buildUpstream.js';
import { createAliasLimitRule } from './createAliasLimitRule.js';
import { createCorsMiddleware } from './createCorsMiddleware.js';
import { createCostLimitPlugin } from './createCostLimitPlugin.js';
import { createDepthLimitRule } from './createDepthLimitRule.js';
import { createDirectiveLimitRule } from './createDirectiveLimitRule.js';
import { createOperationPlugin } from './createOperationPlugin.js';
import { createRateLimitMiddleware, rejectRateLimited } from './createRateLimitMiddleware.js';
import type { GatewayMetrics } from './GatewayMetrics.js';
import { createGraphiqlRouter, GRAPHIQL_PATH } from './graphiql/createGraphiqlRouter.js';
import type { ExampleQuery } from './graphiql/exampleQueries.js';
import { knownOperationTypesRule } from './knownOperationTypesRule.js';
import { createSseHandler } from './live/createSseHandler.js';
import { createWsTransport } from './live/createWsTransport.js';
import type { FormattedResult } from './live/redactResult.js';
import { SubscriptionGate } from './live/subscriptionGate.js';
import { allowlistAsApqCache, createAllowlistPlugin } from './operations/createAllowlistPlugin.js';
import { Readiness, type ReadinessOptions } from './Readiness.js';
import { readPolicyOf } from './readPolicyOf.js';
import { redactReadiness } from './redactReadiness.js';
import { MAX_REQUEST_BODY_BYTES } from './requestBodyLimit.js';
import { requestId } from './requestId.js';
import { subscriptionsOverHttpRule } from './subscriptionsOverHttpRule.js';
import type { TokenBucketLimiter } from './TokenBucket.js';
import type { GraphFactory } from './GatewayGraph.js';

export const GRAPHQL_PATH = '/graphql';

/** Where GraphQL over SSE is served (`graphql-sse`); WebSockets use {@link GRAPHQL_PATH} itself. */
export const GRAPHQL_STREAM_PATH = `${GRAPHQL_PATH}/stream`;

/** What lives as long as the process, not one config: a generation borrows it. */
export interface GenerationDeps {
  logger: Logger;
  metrics: GatewayMetrics;
  scheduler: Scheduler;
  /** Failed credentials per client address (kept across reloads: a reload is no amnesty). */
  failedAuth: TokenBucketLimiter;
  /** Whether OpenTelemetry tracing runs (the operation spans). */
  tracing: boolean;
  createGraph?: GraphFactory | undefined;
  examples: ExampleQuery[];
  readiness?: Pick<ReadinessOptions, 'staleAfterMs' | 'probeTimeoutMs'> | undefined;
  /** The per-principal token bucket of the previous generation, kept when `rateLimit` did not change. */
  rateLimit?: TokenBucketLimiter | undefined;
  newRateLimit(settings: NonNullable<GatewayConfig['rateLimit']>): TokenBucketLimiter;
}

/**
 * What one config serves: the graph over its upstream, Apollo, the routes and the subscription
 * transports. The HTTP listener outlives it: a config reload builds the next generation, sends new
 * requests there, and lets this one finish its in-flight requests before it closes.
 */
export interface Generation {
  readonly config: GatewayConfig;
  readonly upstream: Upstream;
  readonly sources: readonly Source[];
  readonly readiness: Readiness;
  readonly live: GatewayLiveFeed;
  readonly rateLimit: TokenBucketLimiter | undefined;
  /** Subscriptions held now, both transports. */
  subscriptions(): number;
  /** Subscription connections (WebSocket) open now. */
  connections(): number;
  /** Serves one HTTP request. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** Serves one `upgrade` request (WebSocket). */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** HTTP requests of this generation not finished yet. */
  inFlight(): number;
  /** Resolves once no HTTP request of this generation is in flight. */
  idle(): Promise<void>;
  /** Ends every subscription (WebSocket close `code`, SSE streams end) and stops the pollers. */
  endSubscriptions(code: number, reason: string): Promise<void>;
  /** Stops Apollo and the background probes; the sources belong to the upstream and stay open. Idempotent. */
  close(): Promise<void>;
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
 * Builds the generation of a validated config over its upstream (express 5):
 * - `POST`/`GET /graphql`: Apollo Server 5, CSRF prevention on, Apollo's CDN landing page off,
 *   introspection per config, max depth (validation) and max cost (per operation) limits;
 *   WebSocket subscriptions on the same path, SSE ones at `/graphql/stream`;
 * - `GET /graphiql` (and `GET /graphql` from a browser): GraphiQL served entirely by the gateway;
 * - `GET /healthz`, `GET /readyz`, `GET /metrics`.
 *
 * With `config.federation` the schema is served as an Apollo Federation v2 subgraph
 * (`buildGraphSubgraphSchema`: `@key`s, `_service`, `_entities`), for a router to compose.
 */
export async function createGeneration(config: GatewayConfig, upstream: Upstream, deps: GenerationDeps): Promise<Generation> {
  const { logger, metrics, scheduler, failedAuth } = deps;
  const set = upstream.set;
  const sources = set.list;
  const shared = upstream.shared;
  // An open circuit is probed in the background when its cooldown ends, not by a user's query.
  const prober = probeOpenCircuits(sources, { scheduler, logger });
  // A server one replica found down is skipped by all (their breakers follow each other's).
  const unshareCircuits = shared === undefined ? undefined : shareCircuits(sources, shared, { now: scheduler.now, logger });
  const authenticator = createAuthenticator(config.auth, { logger, now: scheduler.now });
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
  const rateLimit = config.rateLimit && (deps.rateLimit ?? deps.newRateLimit(config.rateLimit));
  const readiness = new Readiness(sources, set.health, {
    logger,
    now: scheduler.now,
    ...deps.readiness,
    ...(shared !== undefined && { store: () => ({ kind: 'redis', status: shared.status() }) }),
  });
  // Checkpoints in the memory's store: a reload's next generation resumes its pollers where these stop.
  const live = createLiveFeed(sources, { scheduler, settings: config.live, logger, shared, store: set.store });
  let apollo: ApolloServer<BaseContext> | undefined;
  const stopBackground = (): void => {
    live.close();
    prober.stop();
    unshareCircuits?.();
  };
  try {
    const graph = (deps.createGraph ?? createGraph)({
      sources,
      health: set.health,
      now: scheduler.now,
      limits: { defaultPageSize: config.limits.defaultPageSize, maxPageSize: config.limits.maxPageSize },
      ...(config.cursorSecret !== undefined ? { cursorSecret: config.cursorSecret } : {}),
      logger,
      onLoaderBatch: (loader, size) => metrics.recordLoaderBatch(loader, size),
      live,
    });
    // One executable schema for Apollo (queries) and the subscription transports. Federation: the
    // same graph as an Apollo Federation v2 subgraph; everything else below is the same in both modes.
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
    const formatError = graph.formatError ?? createFormatError(logger);
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
      formatError,
      logger: apolloLogger(logger),
      plugins: [
        // The default landing page loads Apollo Sandbox from a CDN; backup networks are air-gapped.
        // No drain plugin: the listener outlives this server, the gateway drains it (createGateway).
        ApolloServerPluginLandingPageDisabled(),
        // No @cacheControl hints in the schema: Apollo's default cache-control plugin would only wrap
        // every field's resolver (willResolveField) to compute a policy nobody sets.
        ApolloServerPluginCacheControlDisabled(),
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
        ...(deps.tracing ? [createOperationTracingPlugin()] : []),
      ],
    });
    await apollo.start();

    const app = express();
    app.disable('x-powered-by');
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
    app.use(createGraphiqlRouter({ endpoint: GRAPHQL_PATH, examples: deps.examples }));

    // Subscriptions: the same door (credential, scope, rate limit, allowlist, validation rules) per operation.
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
      ...(graph.eventErrors !== undefined && { eventErrors: graph.eventErrors }),
      ...(ops && {
        allowlisted: (query, principal) => ops.mode === 'log' || hasScope(principal, 'admin') || ops.allowlist.match(query) !== undefined,
      }),
      onExecution: (shared) => metrics.recordSubscriptionExecution(shared),
      onDenied: (reason) => metrics.recordAccessDenied(reason),
    });
    const corsOrigins = new Set(config.cors?.origins ?? []);
    const ws = createWsTransport({
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
    const sse = createSseHandler({ gate, formatResult, logger: logger.child({ component: 'sse' }) });
    app.use(GRAPHQL_STREAM_PATH, createAuthMiddleware(authenticator, 'read', onAuthFailure), express.json({ limit: MAX_REQUEST_BODY_BYTES }), sse.handle);
    app.use(
      GRAPHQL_PATH,
      // Before the body is parsed: a caller without credentials costs no JSON parsing.
      createAuthMiddleware(authenticator, 'read', onAuthFailure),
      ...(rateLimit ? [createRateLimitMiddleware(rateLimit, () => metrics.recordAccessDenied('rate_limited'))] : []),
      express.json({ limit: MAX_REQUEST_BODY_BYTES }),
      // After the body parser: from here on the operation's span is the active one.
      ...(deps.tracing ? [createOperationTracingMiddleware()] : []),
      expressMiddleware(apollo, {
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

    let inFlight = 0;
    let onIdle: (() => void)[] = [];
    const started = apollo;
    let closed: Promise<void> | undefined;
    return {
      config,
      upstream,
      sources,
      readiness,
      live,
      rateLimit,
      subscriptions: () => gate.operations,
      connections: () => ws.connections(),
      handle(req, res) {
        inFlight++;
        res.once('close', () => {
          inFlight--;
          if (inFlight === 0) for (const resolve of onIdle.splice(0)) resolve();
        });
        app(req, res);
      },
      upgrade: (req, socket, head) => ws.handleUpgrade(req, socket, head),
      inFlight: () => inFlight,
      idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => onIdle.push(resolve))),
      async endSubscriptions(code, reason) {
        live.close();
        sse.close(reason);
        await ws.close(code, reason);
      },
      close() {
        closed ??= (async () => {
          stopBackground();
          onIdle = [];
          await started.stop();
        })();
        return closed;
      },
    };
  } catch (err) {
    stopBackground();
    await apollo?.stop().catch(() => undefined);
    throw err;
  }
}
