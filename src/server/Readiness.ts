import type { Logger } from 'pino';
import { sourceStatusOf } from '../graph/sourceStatus.js';
import type { Source, SourceHealth } from '../upstream/Source.js';

/** One source as `/readyz` reports it. */
export interface SourceReadiness {
  name: string;
  kind: Source['kind'];
  /** The schema's `SourceStatus` names: `UNKNOWN`, `UP`, `DOWN`, `CIRCUIT_OPEN` (see `sourceStatusOf`). */
  status: ReturnType<typeof sourceStatusOf>;
  lastLatencyMs: number | null;
  lastError: { code: string; message: string } | null;
  lastCheckedAt: string | null;
}

/** The `/readyz` body. */
export interface ReadinessReport {
  ready: boolean;
  /** Why not ready, when not. */
  reason?: string;
  sources: SourceReadiness[];
  /**
   * The shared store (config `store.redis`): `degraded` while Redis does not answer. The gateway
   * stays ready then: every replica serves from its own memory and live reads.
   */
  store?: { kind: 'redis'; status: 'up' | 'degraded' };
}

/** Options of {@link Readiness}. */
export interface ReadinessOptions {
  logger: Logger;
  /** Clock in epoch ms (the same one the sources stamp `lastCheckedAt` with). Default `Date.now`. */
  now?: () => number;
  /** A source whose last call is older than this is probed before answering, ms. Default 10000. */
  staleAfterMs?: number;
  /** Longest a `/readyz` waits for probes, ms; a slower probe finishes in the background. Default 2000. */
  probeTimeoutMs?: number;
  /** The shared store's state, when there is one: reported, never a reason to be unready. */
  store?: () => { kind: 'redis'; status: 'up' | 'degraded' };
}

/**
 * Readiness of the gateway (`/readyz`), defined as: **ready while at least one configured server
 * is UP**, where a server's status is that of the last HTTP exchange with it (any query, or a probe),
 * named as `Source.status` names it (a server whose circuit is open is `CIRCUIT_OPEN`, not UP).
 *
 * The sources' health is only updated by traffic, so a gateway nobody queries (a fresh pod that a
 * load balancer will not route to until it is ready) would never become ready. Hence: before
 * answering, every source whose health is UNKNOWN or older than `staleAfterMs` is probed (EM: the
 * unauthenticated `GET /api/`; VB365: a token plus one cheap GET), one probe per source at a
 * time, waiting at most `probeTimeoutMs`. A probe still running is not waited for again; its
 * result lands in the health record when it ends. While the gateway shuts down it is not ready.
 */
export class Readiness {
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private readonly probeTimeoutMs: number;
  private readonly probes = new Map<string, Promise<void>>();
  private closing = false;

  constructor(
    private readonly sources: readonly Source[],
    private readonly health: (name: string) => SourceHealth,
    private readonly options: ReadinessOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? 10_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 2_000;
  }

  /** From now on `/readyz` answers 503 (the load balancer should stop sending traffic). */
  markClosing(): void {
    this.closing = true;
  }

  /** Probes stale sources (bounded), then reports. */
  async check(): Promise<ReadinessReport> {
    if (!this.closing) {
      const stale = this.sources.filter((s) => this.isStale(s));
      if (stale.length) await this.withTimeout(Promise.all(stale.map((s) => this.probe(s))));
    }
    return this.report();
  }

  /** The current state, without probing. */
  report(): ReadinessReport {
    const sources = this.sources.map((s): SourceReadiness => {
      const health = this.health(s.name);
      return {
        name: s.name,
        kind: s.kind,
        status: sourceStatusOf(health),
        lastLatencyMs: health.lastLatencyMs ?? null,
        lastError: health.lastError ? { code: health.lastError.code, message: health.lastError.message } : null,
        lastCheckedAt: health.lastCheckedAt ?? null,
      };
    });
    const store = this.options.store?.();
    const extra = store === undefined ? {} : { store };
    if (this.closing) return { ready: false, reason: 'shutting down', sources, ...extra };
    const up = sources.filter((s) => s.status === 'UP').length;
    if (up > 0) return { ready: true, sources, ...extra };
    return { ready: false, reason: `none of the ${sources.length} configured servers is reachable`, sources, ...extra };
  }

  private isStale(source: Source): boolean {
    if (this.probes.has(source.name)) return false;
    const health = this.health(source.name);
    const at = health.lastCheckedAt === undefined ? NaN : Date.parse(health.lastCheckedAt);
    return health.status === 'UNKNOWN' || Number.isNaN(at) || this.now() - at >= this.staleAfterMs;
  }

  private probe(source: Source): Promise<void> {
    const running = this.probes.get(source.name);
    if (running) return running;
    // A failed probe reaches the health record through the source's own failure event.
    const done = source.ping().catch((err: unknown) => {
      this.options.logger.debug({ source: source.name, err }, 'readiness probe failed');
    });
    const tracked = done.finally(() => this.probes.delete(source.name));
    this.probes.set(source.name, tracked);
    return tracked;
  }

  private async withTimeout(work: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.probeTimeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([work, bound]);
    } finally {
      clearTimeout(timer);
    }
  }
}
