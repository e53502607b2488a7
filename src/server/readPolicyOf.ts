import type { IncomingHttpHeaders } from 'node:http';
import type { ReadPolicy } from '../upstream/Source.js';

/** Longest latency budget a client may ask for with `Prefer: wait=N`, ms. */
const MAX_BUDGET_MS = 60_000;

const header = (headers: IncomingHttpHeaders, name: string): string => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
};

/**
 * A GraphQL request's read policy, in HTTP's own words:
 * - `Cache-Control: no-cache` (or `no-store`) reads everything live and serves nothing stale;
 * - `Cache-Control: max-age=N` accepts data up to N seconds old instead of each type's TTL;
 * - `Prefer: wait=N` (RFC 7240) sets this request's latency budget to N seconds (at most 60),
 *   instead of the config's `cache.budgetMs`.
 * Unknown directives are ignored, as HTTP caches do.
 */
export function readPolicyOf(headers: IncomingHttpHeaders, base: { budgetMs: number; signal?: AbortSignal }): ReadPolicy {
  const cacheControl = header(headers, 'cache-control').toLowerCase();
  const directives = cacheControl.split(',').map((d) => d.trim());
  const noCache = directives.some((d) => d === 'no-cache' || d === 'no-store');
  const maxAge = directives.map((d) => /^max-age=(\d+)$/.exec(d)?.[1]).find((v) => v !== undefined);
  const wait = /(?:^|[,;\s])wait=(\d+(?:\.\d+)?)/i.exec(header(headers, 'prefer'))?.[1];
  const budgetMs = wait === undefined ? base.budgetMs : Math.min(MAX_BUDGET_MS, Math.max(1, Math.round(Number(wait) * 1000)));
  return {
    noCache,
    ...(maxAge !== undefined && { maxAgeMs: Number(maxAge) * 1000 }),
    budgetMs,
    ...(base.signal !== undefined && { signal: base.signal }),
  };
}
