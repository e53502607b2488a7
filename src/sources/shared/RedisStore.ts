import type { CacheEntry, CacheStore } from '../memory/CacheStore.js';
import type { RedisConnection } from './RedisConnection.js';

/** Counters of one {@link RedisStore} since it was created. */
export interface RedisStoreStats {
  /** `get`s answered with an entry. */
  hits: number;
  /** `get`s that found nothing (including corrupt values, also counted in `corrupt`). */
  misses: number;
  /** Commands that failed: Redis down, a timeout, an error reply, a value that would not serialize. Every `get` counts exactly one of hits, misses, errors. */
  errors: number;
  /** Values that were no JSON entry `{ value, at }`: answered as a miss and deleted. */
  corrupt: number;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Between the connection's `keyPrefix` and the memory layer's key. Default `cache:`. */
  namespace?: string;
  /** Clock of {@link RedisStore.size}'s bookkeeping, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** An entry read from Redis, with what remains of its lifetime there. */
export interface RedisRead<T> {
  entry: CacheEntry<T>;
  /** Remaining PX of the key in ms; `undefined` when Redis reports none (no expiry, or gone meanwhile). */
  ttlMs: number | undefined;
}

/**
 * The memory layer's {@link CacheStore} in Redis, shared by every replica using the same
 * `keyPrefix`. Keys are `keyPrefix + namespace + key`; values are the JSON of the entry
 * `{ value, at }`, written with `SET ... PX keepMs`, so Redis drops them at the stale horizon
 * (the memory layer still decides freshness from `at`).
 *
 * It never throws: Redis down, a command past its timeout, an error reply → `get` answers a miss,
 * `set`/`delete` do nothing; each counts in {@link stats}`.errors`. A stored value that is not a
 * JSON entry is a miss and is deleted (plain DEL: a valid value written by another replica in
 * the same instant may go with it, which costs one miss). No local copy is kept (no L1): wrap it
 * in a {@link TieredStore} for that.
 */
export class RedisStore implements CacheStore {
  private readonly namespace: string;
  private readonly now: () => number;
  private readonly counters: RedisStoreStats = { hits: 0, misses: 0, errors: 0, corrupt: 0 };
  /** Keys this process wrote, with when their PX ends by our clock (see {@link size}). */
  private readonly written = new Map<string, number>();

  constructor(
    readonly connection: RedisConnection,
    options: RedisStoreOptions = {},
  ) {
    this.namespace = options.namespace ?? 'cache:';
    this.now = options.now ?? Date.now;
  }

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    return (await this.read<T>(key, false))?.entry;
  }

  /** Like {@link get}, also reading the key's remaining PX in the same round trip (PTTL, auto-pipelined). */
  async getWithTtl<T>(key: string): Promise<RedisRead<T> | undefined> {
    return this.read<T>(key, true);
  }

  /** `SET key json PX keepMs` (at least 1 ms). An entry whose `value` is `undefined` (no JSON) is not written. */
  async set<T>(key: string, entry: CacheEntry<T>, keepMs: number): Promise<void> {
    if (entry.value === undefined || !this.available()) return;
    try {
      const text = JSON.stringify({ value: entry.value, at: entry.at });
      const px = Math.max(1, Math.ceil(keepMs));
      await this.connection.client.set(this.namespace + key, text, 'PX', px);
      this.written.set(key, this.now() + px);
    } catch {
      this.counters.errors++;
    }
  }

  async delete(key: string): Promise<void> {
    if (!this.available()) return;
    try {
      await this.connection.client.del(this.namespace + key);
      this.written.delete(key);
    } catch {
      this.counters.errors++;
    }
  }

  /**
   * Entries THIS process wrote that Redis should still hold: keys of successful `set`s, minus
   * `delete`s and keys a `get` found missing, minus those whose PX has passed by our clock. Not
   * what Redis holds under the prefix: other replicas' writes are not counted and evictions by
   * Redis' `maxmemory` are noticed only when a `get` misses (DBSIZE counts every prefix and a
   * SCAN is no metric). Costs one map entry per live key written.
   */
  size(): number {
    const now = this.now();
    for (const [key, until] of this.written) if (until <= now) this.written.delete(key);
    return this.written.size;
  }

  stats(): RedisStoreStats {
    return { ...this.counters };
  }

  private available(): boolean {
    if (this.connection.state() === 'up') return true;
    this.counters.errors++;
    return false;
  }

  private async read<T>(key: string, withTtl: boolean): Promise<RedisRead<T> | undefined> {
    if (!this.available()) return undefined;
    const redisKey = this.namespace + key;
    let raw: string | null;
    let pttl: number | undefined;
    try {
      const client = this.connection.client;
      if (withTtl) {
        const [value, ttl] = await Promise.all([client.get(redisKey), client.pttl(redisKey)]);
        raw = value;
        pttl = ttl;
      } else {
        raw = await client.get(redisKey);
      }
    } catch {
      this.counters.errors++;
      return undefined;
    }
    if (raw === null) {
      this.counters.misses++;
      this.written.delete(key);
      return undefined;
    }
    const entry = parseEntry<T>(raw);
    if (entry === undefined) {
      this.counters.misses++;
      this.counters.corrupt++;
      await this.delete(key);
      return undefined;
    }
    this.counters.hits++;
    return { entry, ttlMs: pttl !== undefined && pttl > 0 ? pttl : undefined };
  }
}

function parseEntry<T>(raw: string): CacheEntry<T> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { value, at } = parsed as { value?: unknown; at?: unknown };
  if (!('value' in parsed) || typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  return { value: value as T, at };
}

/** Counters of one {@link TieredStore}. */
export interface TieredStoreStats {
  /** The Redis tier's own counters. */
  redis: RedisStoreStats;
  /** `get`s answered by the memory tier alone because the connection was down. */
  memoryOnlyReads: number;
  /** `set`s kept by the memory tier alone because the connection was down. */
  memoryOnlyWrites: number;
}

/**
 * Redis in front, the in-process `MemoryStore` (or any CacheStore) behind it, so that a replica keeps serving
 * from memory while Redis is away. Exactly:
 * - connection `up`:
 *   - `get` reads Redis (GET + PTTL, one round trip) and memory together. Redis' entry is the
 *     answer unless memory holds one with a later `at` (written here during an outage, or a
 *     newer read that failed to reach Redis); with neither, a miss. A Redis miss or failure
 *     (timeout, error reply) falls back to memory's entry. A Redis entry newer than memory's is
 *     copied into memory with its remaining PX, so a later outage still has what this replica
 *     served.
 *   - `set` writes both (in parallel); `delete` deletes from both.
 * - connection `down`: `get`, `set` and `delete` use memory only; Redis is not touched (no
 *   command, no timeout). Nothing is replayed into Redis when it comes back: entries written
 *   during the outage reach Redis on their next refresh, and a `delete` made during the outage
 *   does not reach Redis (the memory layer never deletes).
 * - `size()` is the memory tier's: what this replica can serve without Redis.
 * Never throws because of Redis; memory tier errors (none for MemoryStore) propagate.
 */
export class TieredStore implements CacheStore {
  private memoryOnlyReads = 0;
  private memoryOnlyWrites = 0;

  constructor(
    readonly redis: RedisStore,
    readonly memory: CacheStore,
  ) {}

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    if (!this.up()) {
      this.memoryOnlyReads++;
      return this.memory.get<T>(key);
    }
    const [remote, local] = await Promise.all([this.redis.getWithTtl<T>(key), this.memory.get<T>(key)]);
    if (remote === undefined) return local;
    if (local !== undefined && local.at > remote.entry.at) return local;
    if (remote.ttlMs !== undefined && (local === undefined || local.at < remote.entry.at)) {
      await this.memory.set(key, remote.entry, remote.ttlMs);
    }
    return remote.entry;
  }

  async set<T>(key: string, entry: CacheEntry<T>, keepMs: number): Promise<void> {
    if (!this.up()) {
      this.memoryOnlyWrites++;
      return this.memory.set(key, entry, keepMs);
    }
    await Promise.all([this.memory.set(key, entry, keepMs), this.redis.set(key, entry, keepMs)]);
  }

  async delete(key: string): Promise<void> {
    await Promise.all([this.memory.delete(key), this.up() ? this.redis.delete(key) : undefined]);
  }

  size(): number {
    return this.memory.size();
  }

  stats(): TieredStoreStats {
    return { redis: this.redis.stats(), memoryOnlyReads: this.memoryOnlyReads, memoryOnlyWrites: this.memoryOnlyWrites };
  }

  private up(): boolean {
    return this.redis.connection.state() === 'up';
  }
}
