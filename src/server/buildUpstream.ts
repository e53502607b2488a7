import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { GatewayConfig, ServerConfig } from '../config/loadConfig.js';
import { createSources, type SourceSet } from '../sources/createSources.js';
import type { Scheduler } from '../sources/Scheduler.js';
import { createSharedState, type SharedState } from '../sources/shared/createSharedState.js';
import type { GatewayMetrics } from './GatewayMetrics.js';

/** The upstream side of one config: the state shared with other replicas (Redis) and a source per server. */
export interface Upstream {
  readonly set: SourceSet;
  readonly shared: SharedState | undefined;
  /** What it was built from, compared on a reload (it holds resolved secrets: never log it). */
  readonly built: Pick<GatewayConfig, 'cache' | 'store'> & { servers: ReadonlyMap<string, ServerConfig> };
}

/** What a reload did to the servers, by name. */
export interface UpstreamChange {
  added: string[];
  removed: string[];
  /** Same name, another config: a new source replaces the old one (new logon). */
  changed: string[];
  /** Unchanged: the running source is kept, with its session, circuit, memory and health. */
  kept: string[];
}

export interface UpstreamDeps {
  logger: Logger;
  scheduler: Scheduler;
  metrics: GatewayMetrics;
}

/**
 * Builds the upstream side of `config`. Given the `previous` one (a reload), every server whose
 * config is unchanged keeps its running source, and the shared store and memory stay, unless the
 * `cache` or `store` settings changed: then every source is new. `retire` closes what the new
 * upstream does not use (EM logoff, VB365 token logout of removed and changed servers); call it
 * once the requests that use the previous one are done. `discard` instead closes what this call
 * built (the reload did not go through) and leaves the previous upstream as it was.
 */
export function buildUpstream(
  config: GatewayConfig,
  deps: UpstreamDeps,
  previous?: Upstream,
): { upstream: Upstream; change: UpstreamChange; retire(): Promise<void>; discard(): Promise<void> } {
  const { logger, scheduler, metrics } = deps;
  const reusable = previous !== undefined && isDeepStrictEqual(previous.built.cache, config.cache) && isDeepStrictEqual(previous.built.store, config.store);
  if (previous !== undefined && !reusable) logger.warn('cache or store settings changed: every server gets a new source (new logon, empty memory)');
  // Replicas share the cache, list reads and the live pollers through Redis (config `store.redis`).
  const shared = reusable
    ? previous.shared
    : config.store?.redis === undefined
      ? undefined
      : createSharedState(config.store.redis, { logger, maxEntries: config.cache.maxEntries, scheduler, onEvict: () => metrics.recordEviction() });
  const store = reusable ? previous.set.store : shared?.store;
  const set = createSources(config.servers, {
    logger,
    now: scheduler.now,
    memory: {
      settings: config.cache,
      scheduler,
      onEvict: () => metrics.recordEviction(),
      ...(store !== undefined && { store }),
      ...(shared !== undefined && { lock: shared.lock }),
    },
    ...(reusable && {
      reuse: (server: ServerConfig) => {
        if (!isDeepStrictEqual(previous.built.servers.get(server.name), server)) return undefined;
        const source = previous.set.list.find((s) => s.name === server.name)!;
        return { source, health: () => previous.set.health(server.name) };
      },
    }),
  });
  const before = new Set(previous?.set.list ?? []);
  for (const source of set.list) if (!before.has(source)) source.subscribe((event) => metrics.recordSourceEvent(event));

  const names = new Set(config.servers.map((s) => s.name));
  const previousNames = [...(previous?.built.servers.keys() ?? [])];
  const change: UpstreamChange = {
    added: config.servers.map((s) => s.name).filter((n) => !previous?.built.servers.has(n)),
    removed: previousNames.filter((n) => !names.has(n)),
    changed: [],
    kept: [],
  };
  for (const source of set.list) if (previous?.built.servers.has(source.name)) (before.has(source) ? change.kept : change.changed).push(source.name);

  const upstream: Upstream = {
    set,
    shared,
    built: { cache: config.cache, store: config.store, servers: new Map(config.servers.map((s) => [s.name, s])) },
  };
  const retire = async (): Promise<void> => {
    if (previous === undefined) return;
    const used = new Set(set.list);
    const dropped = previous.set.list.filter((s) => !used.has(s));
    const results = await Promise.allSettled(dropped.map((s) => s.close()));
    results.forEach((r, i) => {
      const source = dropped[i]!.name;
      if (r.status === 'rejected') logger.warn({ source, err: { message: (r.reason as Error).message } }, 'closing a retired source failed');
      else logger.info({ source }, names.has(source) ? 'server config changed: the old session is closed' : 'server removed: its session is closed');
    });
    if (previous.shared !== undefined && previous.shared !== shared) await closeShared(previous.shared, logger);
  };
  const discard = async (): Promise<void> => {
    await Promise.allSettled(set.list.filter((s) => !before.has(s)).map((s) => s.close()));
    if (shared !== undefined && shared !== previous?.shared) await closeShared(shared, logger);
  };
  return { upstream, change, retire, discard };
}

/** Closes every source (EM logoff, VB365 token logout) and the shared state; never throws. */
export async function closeUpstream(upstream: Upstream, logger: Logger): Promise<void> {
  const results = await Promise.allSettled(upstream.set.list.map((s) => s.close()));
  results.forEach((r, i) => {
    if (r.status === 'rejected') logger.warn({ source: upstream.set.list[i]!.name, err: r.reason as unknown }, 'closing source failed');
  });
  if (upstream.shared !== undefined) await closeShared(upstream.shared, logger);
}

async function closeShared(shared: SharedState, logger: Logger): Promise<void> {
  await shared.close().catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'closing the shared store failed'));
}
