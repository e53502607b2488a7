import type { Logger } from 'pino';
import type { ServerConfig } from '../config/loadConfig.js';
import type { Source, SourceHealth } from '../upstream/Source.js';
import { createSource } from './sourceKinds.js';
import { trackHealth } from './trackHealth.js';

export interface CreateSourcesOptions {
  logger: Logger;
  /** Clock in epoch ms for clients and health timestamps. Default `Date.now`. */
  now?: () => number;
  /** Sleep between retries (tests record instead of waiting). Default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** The configured servers as sources, with their health. */
export interface SourceSet {
  /** In configuration order. */
  readonly list: Source[];
  /** A fresh snapshot on every call: the last call's outcome combined with the circuit breaker's state. */
  health(name: string): SourceHealth;
  /** Closes every source (EM logoff, VB365 token logout); never throws. */
  close(): Promise<void>;
}

/**
 * The composition of the upstream side (docs/architecture.md): config -> one adapter per
 * configured server (through the kind table, each with its HTTP client built once, design.md
 * section 9.2) -> health tracked from each adapter's outcome events.
 */
export function createSources(servers: readonly ServerConfig[], options: CreateSourcesOptions): SourceSet {
  const now = options.now ?? Date.now;
  const list = servers.map((server) =>
    createSource(server, {
      publicUrl: safeUrl(server.url),
      logger: options.logger,
      now,
      ...(options.sleep !== undefined && { sleep: options.sleep }),
      tls: { ...(server.tls.ca !== undefined && { ca: server.tls.ca }), insecure: server.tls.insecure },
      timeouts: server.timeouts,
      retry: server.retry,
      concurrency: server.concurrency,
      circuitBreaker: server.circuitBreaker,
    }),
  );
  const health = new Map(list.map((s) => [s.name, trackHealth(s, now)]));
  return {
    list,
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
