/**
 * The memory layer's settings, with the config file's own names (config key `cache`). One object:
 * the zod schema documents these values and `createSources` applies them.
 */
export interface MemorySettings {
  /** Off: every read goes to the server (the memory layer is not built). */
  enabled: boolean;
  /** Most entries held (records, lists); the least recently used are evicted beyond it. */
  maxEntries: number;
  /**
   * How long a record is served from memory without asking its server, ms, per entity kind.
   * Reference data changes rarely (minutes); sessions progress (seconds).
   */
  ttlMs: { backupServer: number; organization: number; restorePoint: number; restoreSession: number };
  /** How long a list answer is reused, ms: a burst of dashboards shares one list call per server. */
  listTtlMs: number;
  /**
   * Stale-while-revalidate for lists (RFC 5861's idea), ms: a list past its TTL by at most this
   * much is answered at once from memory (its `asOf` says how old) while one background read
   * refreshes it, so a slow server does not slow every refresh of a dashboard. 0 turns it off.
   */
  revalidateMs: number;
  /** How old data may be when it is served stale because its server failed or is too slow, ms. */
  maxStaleMs: number;
  /** The latency budget of a GraphQL request, ms: a server slower than this is answered from memory (stale) or reported. */
  budgetMs: number;
}

export const MEMORY_DEFAULTS: Readonly<MemorySettings> = Object.freeze({
  enabled: true,
  maxEntries: 50_000,
  ttlMs: Object.freeze({ backupServer: 300_000, organization: 300_000, restorePoint: 60_000, restoreSession: 5_000 }),
  listTtlMs: 2_000,
  revalidateMs: 10_000,
  maxStaleMs: 3_600_000,
  budgetMs: 2_500,
});
