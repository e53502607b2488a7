import type { Logger } from 'pino';
import type { ServerConfig } from '../config/loadConfig.js';
import type { Source, SourceHealth } from '../upstream/Source.js';
import { MemoryStore, type CacheStore } from './memory/CacheStore.js';
import type { MemorySettings } from './memory/memoryDefaults.js';
import { MemorySource, type ReplicaLock } from './memory/MemorySource.js';
import { realScheduler, type Scheduler } from './Scheduler.js';
import { createSource } from './sourceKinds.js';
import { trackHealth } from './trackHealth.js';

export interface CreateSourcesOptions {
  logger: Logger;
  /**
   * The memory layer over every source (cache, coalescing, budget, stale-if-error), or none.
   * Default none: the gateway passes the config's `cache`; tests of the layers below opt in.
   */
  memory?: { settings: MemorySettings; scheduler?: Scheduler; store?: CacheStore; lock?: ReplicaLock; onEvict?: (key: string) => void };
  /** Clock in epoch ms for clients and health timestamps. Default `Date.now`. */
  now?: () => number;
  /** Sleep between retries (tests record instead of waiting). Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * A running source to keep instead of building one (a config reload keeps the servers whose
   * config did not change, with their session, circuit, memory and health). `undefined`: build it.
   */
  reuse?: (server: ServerConfig) => { source: Source; health: () => SourceHealth } | undefined;
}

/** The configured servers as sources, with their health. */
export interface SourceSet {
  /** In configuration order. */
  readonly list: Source[];
  /** A fresh snapshot on every call: the last call's outcome combined with the circuit breaker's state. */
  health(name: string): SourceHealth;
  /** Closes every source (EM logoff, VB365 token logout); never throws. */
  close(): Promise<void>;
  /** The memory layer's store, when there is one (metrics read its size). */
  readonly store: CacheStore | undefined;
}

/**
 * The composition of the upstream side (docs/architecture.md): config -> one adapter per
 * configured server (through the kind table, each with its HTTP client built once, design.md
 * section 9.2) -> the memory layer around each (when enabled) -> health tracked from each
 * source's outcome events.
 */
export function createSources(servers: readonly ServerConfig[], options: CreateSourcesOptions): SourceSet {
  const now = options.now ?? Date.now;
  const memory = options.memory?.settings.enabled === true ? options.memory : undefined;
  const scheduler: Scheduler = memory?.scheduler ?? { now, setTimer: realScheduler.setTimer };
  const store =
    memory === undefined
      ? undefined
      : (memory.store ??
        new MemoryStore({ maxEntries: memory.settings.maxEntries, now: scheduler.now, ...(memory.onEvict !== undefined && { onEvict: memory.onEvict }) }));
  const build = (server: ServerConfig): Source => {
    const adapter = createSource(server, {
      publicUrl: safeUrl(server.url),
      logger: options.logger,
      now,
      ...(options.sleep !== undefined && { sleep: options.sleep }),
      tls: { ...(server.tls.ca !== undefined && { ca: server.tls.ca }), insecure: server.tls.insecure },
      timeouts: server.timeouts,
      retry: server.retry,
      concurrency: server.concurrency,
      circuitBreaker: server.circuitBreaker,
    });
    return store === undefined
      ? adapter
      : new MemorySource(adapter, { store, settings: memory!.settings, scheduler, ...(memory!.lock !== undefined && { lock: memory!.lock }) });
  };
  const entries = servers.map((server) => {
    const kept = options.reuse?.(server);
    if (kept !== undefined) return kept;
    const source = build(server);
    return { source, health: trackHealth(source, now) };
  });
  const list = entries.map((e) => e.source);
  const health = new Map(entries.map((e) => [e.source.name, e.health]));
  return {
    list,
    store,
    health: (name) => {
      const of = health.get(name);
      if (of === undefined) throw new Error(`createSources: no source named ${name}`);
      return of();
    },
    close: async () => {
      await Promise.allSettled(list.map((s) => s.close()));
    },
  };
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
