import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { configDigest } from '../config/configDigest.js';
import { ConfigError, type GatewayConfig } from '../config/loadConfig.js';
import { packageVersion } from '../cli/version.js';
import { startConfiguredTracing, type GatewayTracing } from '../observability/startTracing.js';
import type { GatewayLiveFeed } from '../sources/live/createLiveFeed.js';
import { realScheduler, type Scheduler } from '../sources/Scheduler.js';
import type { Source } from '../upstream/Source.js';
import { unsafeListenProblem } from './auth/unsafeListenProblem.js';
import { buildUpstream, closeUpstream, type UpstreamChange } from './buildUpstream.js';
import { createGeneration, GRAPHQL_PATH, type Generation, type GenerationDeps } from './createGeneration.js';
import { createLogger } from './createLogger.js';
import type { GraphFactory } from './GatewayGraph.js';
import { GatewayMetrics } from './GatewayMetrics.js';
import { GRAPHIQL_PATH } from './graphiql/createGraphiqlRouter.js';
import { exampleQueries, type ExampleQuery } from './graphiql/exampleQueries.js';
import type { Readiness, ReadinessOptions } from './Readiness.js';
import { readListenerTls } from './readListenerTls.js';
import { TokenBucketLimiter } from './TokenBucket.js';

export { GRAPHQL_PATH, GRAPHQL_STREAM_PATH } from './createGeneration.js';
export type { GatewayGraph, GraphFactory } from './GatewayGraph.js';

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

/** What a config reload did. */
export interface ReloadOutcome extends UpstreamChange {
  /** Whether the new config serves new requests now. */
  applied: boolean;
  /** The config was the running one already: nothing was swapped, no subscription closed. */
  unchanged?: boolean;
  /** Changed keys that only a restart applies (`listen.host`, `listen.port`, `listen.tls` on or off, `tracing`): their running value stays. */
  restartNeeded: string[];
  /** Why the config was not applied (invalid, unsafe, or it could not be built); never a secret. */
  error?: string;
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
  /** The sources of the config that serves now. */
  readonly sources: readonly Source[];
  metrics: GatewayMetrics;
  readonly readiness: Readiness;
  /** The live feed: one session poller per server, run while subscribers listen. */
  readonly live: GatewayLiveFeed;
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
   * Applies another config without a restart (SIGHUP, `--watch-config`). `next` is the config or
   * its loader; a loader that throws (an invalid file) is logged and the running config stays.
   * New requests go to the new config at once; in-flight ones finish on the old one, whose
   * removed servers are logged off after them (bounded by `shutdownGraceMs`). Unchanged servers
   * keep their session, circuit and memory. Subscriptions are closed with 1012 (service restart)
   * and clients reconnect to the new config. Reloads run one at a time. Never throws.
   */
  reload(next: GatewayConfig | (() => Promise<GatewayConfig>)): Promise<ReloadOutcome>;
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

/** Resolves after `ms` (a real timer that keeps no process alive), or with `promise`, whichever is first. */
function within(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Warnings a config carries, and the one of an open door; logged at start and at each reload. */
function announce(config: GatewayConfig, logger: Logger): void {
  for (const warning of config.warnings) logger.warn(warning);
  if (config.auth.mode === 'none') {
    logger.warn(
      { anonymousScopes: config.auth.anonymousScopes },
      `auth.mode is none: anyone who reaches ${config.listen.host}:${config.listen.port} can query the gateway without credentials`,
    );
  }
}

/** Whether two loaded configs say the same (their functions aside: `redacted` is a closure of each). */
function sameConfig(a: GatewayConfig, b: GatewayConfig): boolean {
  return isDeepStrictEqual({ ...a, redacted: undefined }, { ...b, redacted: undefined });
}

/** Keys of `next` that differ from the running config and only a restart applies. */
function restartKeys(running: GatewayConfig, next: GatewayConfig): string[] {
  const keys: string[] = [];
  if (running.listen.host !== next.listen.host) keys.push('listen.host');
  if (running.listen.port !== next.listen.port) keys.push('listen.port');
  if ((running.listen.tls === undefined) !== (next.listen.tls === undefined)) keys.push('listen.tls');
  if (!isDeepStrictEqual(running.tracing, next.tracing)) keys.push('tracing');
  return keys;
}

/**
 * Starts the gateway for a validated config: one client per configured server, the graph over
 * them (see {@link createGeneration} for the routes), and an HTTP or HTTPS listener on
 * `config.listen` (port 0 picks a free one; `url` tells which). The listener, the metrics and the
 * tracing live as long as the gateway; everything else belongs to the config that serves now and
 * is swapped by {@link Gateway.reload}.
 *
 * @throws when the port cannot be bound (the sources are closed again first)
 */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const unsafe = unsafeListenProblem(config.listen.host, config.auth);
  if (unsafe !== undefined) throw new ConfigError([`${unsafe}${config.file ? ` (${config.file})` : ''}`], { file: config.file });
  announce(config, logger);
  // The TLS files were checked when the config loaded; read again here, they may have changed since.
  let listenTls = config.listen.tls;
  const tls = listenTls === undefined ? undefined : await readListenerTls(listenTls);
  const graceMs = options.shutdownGraceMs ?? 10_000;

  const metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics ?? true, version: packageVersion() });
  const scheduler: Scheduler = options.scheduler ?? (options.now ? { now: options.now, setTimer: realScheduler.setTimer } : realScheduler);
  const upstreamDeps = { logger, scheduler, metrics };
  // Failed credentials per client address: 20 at once, then one every 2 s (a brute force gets nowhere; a typo is no lockout).
  const failedAuth = new TokenBucketLimiter({ capacity: 20, refillPerSecond: 0.5, now: scheduler.now });
  const newRateLimit = (settings: NonNullable<GatewayConfig['rateLimit']>): TokenBucketLimiter =>
    new TokenBucketLimiter({ capacity: settings.burst, refillPerSecond: settings.requestsPerSecond, now: scheduler.now });
  let ownTracing: GatewayTracing | undefined;
  const generationDeps = (previous?: Generation, next?: GatewayConfig): GenerationDeps => ({
    logger,
    metrics,
    scheduler,
    failedAuth,
    tracing: (options.tracing ?? ownTracing) !== undefined,
    createGraph: options.createGraph,
    examples: options.examples ?? exampleQueries(),
    readiness: options.readiness,
    // An unchanged rate limit keeps its buckets: a reload is no way around it.
    rateLimit: previous !== undefined && isDeepStrictEqual(previous.config.rateLimit, next?.rateLimit) ? previous.rateLimit : undefined,
    newRateLimit,
  });
  const watch = (generation: Generation): void => {
    const { sources, upstream } = generation;
    metrics.watchSources(
      () =>
        sources.map((s) => {
          const health = upstream.set.health(s.name);
          return { name: s.name, kind: s.kind, status: health.status, circuit: health.circuit.state };
        }),
      () =>
        sources.flatMap((s) => {
          const stats = s.grantStats();
          return stats === undefined ? [] : [{ source: s.name, ...stats }];
        }),
    );
    const store = upstream.set.store;
    if (store !== undefined) metrics.watchCache(() => store.size());
    metrics.watchLive(() => ({
      subscriptions: generation.subscriptions(),
      connections: generation.connections(),
      pollers: generation.live.stats().filter((p) => p.active).length,
    }));
  };

  const first = buildUpstream(config, upstreamDeps);
  let current: Generation;
  try {
    // Off (no SDK loaded, the API's no-op tracer) unless `tracing`/`OTEL_*` configured it (src/observability).
    ownTracing = options.tracing === undefined ? await startConfiguredTracing(config.tracing, logger) : undefined;
    current = await createGeneration(config, first.upstream, generationDeps());
  } catch (err) {
    await closeUpstream(first.upstream, logger);
    await ownTracing?.shutdown().catch(() => undefined);
    throw err;
  }
  watch(current);
  metrics.setConfigDigest(configDigest(config));

  // Every request and upgrade goes to the generation that serves now; in-flight ones stay where they began.
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => current.handle(req, res);
  const server: http.Server = tls
    ? https.createServer({ ...tls, ...(tls.ca !== undefined && { requestCert: true, rejectUnauthorized: true }) }, onRequest)
    : http.createServer(onRequest);
  server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => current.upgrade(req, socket, head));
  // Every socket (WebSockets too): what is still open when the shutdown grace ends is cut.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await current.close();
    await closeUpstream(current.upstream, logger);
    await ownTracing?.shutdown().catch(() => undefined);
    throw err;
  }
  const url = originOf(server.address() as AddressInfo, tls !== undefined);
  logger.info({ url, servers: current.sources.map((s) => s.name), ...(config.federation && { federation: true }) }, 'gateway listening');

  /** Generations replaced by a reload, until their in-flight requests are done and they are closed. */
  const retiring = new Set<Promise<void>>();
  let closing: Promise<void> | undefined;
  let reloads: Promise<unknown> = Promise.resolve();

  const applyTls = async (files: NonNullable<GatewayConfig['listen']['tls']>): Promise<boolean> => {
    try {
      const next = await readListenerTls(files);
      (server as https.Server).setSecureContext({ ...next });
      listenTls = files;
      logger.info({ cert: files.certFile }, 'TLS certificate reloaded');
      return true;
    } catch (err) {
      logger.error({ err: { message: (err as Error).message } }, 'TLS certificate not reloaded; the previous one stays in use');
      return false;
    }
  };
  const reloadTls = async (): Promise<boolean> => {
    if (listenTls === undefined || tls === undefined) {
      logger.info('no listen.tls: no certificate to reload');
      return false;
    }
    return applyTls(listenTls);
  };

  const applyReload = async (input: GatewayConfig | (() => Promise<GatewayConfig>)): Promise<ReloadOutcome> => {
    const refused = (error: string, result: 'invalid' | 'refused' | 'failed'): ReloadOutcome => {
      metrics.recordConfigReload(result);
      return { applied: false, added: [], removed: [], changed: [], kept: [], restartNeeded: [], error };
    };
    if (closing !== undefined) return refused('the gateway is shutting down', 'refused');
    let next: GatewayConfig;
    try {
      next = typeof input === 'function' ? await input() : input;
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      logger.error({ problems }, 'config not reloaded: it is invalid; the running config keeps serving');
      return refused(problems.join('; '), 'invalid');
    }
    const running = current;
    // The same config again (a SIGHUP from a config tool, a file saved unchanged): nothing to swap,
    // and no subscriber is disconnected. The certificate files may still have been renewed.
    if (sameConfig(running.config, next)) {
      if (listenTls !== undefined && tls !== undefined) await applyTls(listenTls);
      logger.info({ ...(next.file !== undefined && { file: next.file }) }, 'config unchanged: nothing to reload');
      metrics.recordConfigReload('unchanged');
      return { applied: true, unchanged: true, added: [], removed: [], changed: [], kept: running.sources.map((s) => s.name), restartNeeded: [] };
    }
    const restartNeeded = restartKeys(running.config, next);
    // The door is judged for where the listener really is, not where the new file would put it.
    const unsafeNext = unsafeListenProblem(config.listen.host, next.auth);
    if (unsafeNext !== undefined) {
      logger.error({ problem: unsafeNext }, 'config not reloaded: it would open the gateway; the running config keeps serving');
      return refused(unsafeNext, 'refused');
    }
    const built = buildUpstream(next, upstreamDeps, running.upstream);
    let generation: Generation;
    try {
      generation = await createGeneration(next, built.upstream, generationDeps(running, next));
    } catch (err) {
      await built.discard();
      logger.error({ err: { message: (err as Error).message } }, 'config not reloaded: it could not be built; the running config keeps serving');
      return refused((err as Error).message, 'failed');
    }
    current = generation;
    watch(generation);
    metrics.setConfigDigest(configDigest(next));
    logger.level = next.logLevel;
    announce(next, logger);
    if (listenTls !== undefined && next.listen.tls !== undefined && tls !== undefined) await applyTls(next.listen.tls);
    if (restartNeeded.length > 0) logger.warn({ keys: restartNeeded }, 'these changes need a restart; their running values stay');
    logger.info({ ...built.change, ...(next.file !== undefined && { file: next.file }) }, 'config reloaded');
    metrics.recordConfigReload('applied');
    // Subscriptions move to the new config: 1012 (service restart) tells clients to reconnect.
    void running.endSubscriptions(1012, 'config reloaded').catch(() => undefined);
    const retired: Promise<void> = (async () => {
      await within(running.idle(), graceMs);
      await running.close().catch(() => undefined);
      await built.retire();
    })().finally(() => retiring.delete(retired));
    retiring.add(retired);
    return { applied: true, ...built.change, restartNeeded };
  };
  const reload = (input: GatewayConfig | (() => Promise<GatewayConfig>)): Promise<ReloadOutcome> => {
    const run = reloads.then(() => applyReload(input));
    reloads = run.catch(() => undefined);
    return run;
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info('gateway shutting down');
      current.readiness.markClosing();
      // A reload under way finishes first (its generation is then the one to close).
      await reloads;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await current.endSubscriptions(1001, 'server shutting down').catch(() => undefined);
      // Drains HTTP: in-flight requests finish (bounded), then whatever is still open is cut.
      await within(Promise.all([current.idle(), ...retiring]), graceMs);
      for (const socket of sockets) socket.destroy();
      await closed;
      try {
        await current.close();
        await Promise.all(retiring);
      } finally {
        await closeUpstream(current.upstream, logger);
        await ownTracing?.shutdown();
      }
      logger.info('gateway stopped');
    })();
    return closing;
  };

  return {
    url,
    graphqlUrl: `${url}${GRAPHQL_PATH}`,
    graphiqlUrl: `${url}${GRAPHIQL_PATH}`,
    server,
    get sources() {
      return current.sources;
    },
    metrics,
    get readiness() {
      return current.readiness;
    },
    get live() {
      return current.live;
    },
    subscriptions: () => current.subscriptions(),
    logger,
    reloadTls,
    reload,
    close,
  };
}
