import { LRUCache } from 'lru-cache';

/** One cached value and when it was read from its server. */
export interface CacheEntry<T = unknown> {
  value: T;
  /** Epoch ms of the read. */
  at: number;
}

/**
 * Where the memory layer keeps what it read. In-process memory by default; a shared store (Redis)
 * implements the same interface, so nothing above it changes. Values are plain data (records,
 * arrays, objects of them): a store may serialize them.
 */
export interface CacheStore {
  get<T>(key: string): Promise<CacheEntry<T> | undefined>;
  /** @param keepMs how long the store keeps the entry at most (the stale horizon), ms */
  set<T>(key: string, entry: CacheEntry<T>, keepMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Entries held now. */
  size(): number;
}

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  maxEntries: number;
  /** Clock of the entries' lifetime, epoch ms. */
  now: () => number;
  /** Called for every entry evicted to stay within `maxEntries` (metrics). */
  onEvict?: (key: string) => void;
}

/** The default store: an LRU in this process, bounded by entry count. */
export class MemoryStore implements CacheStore {
  private readonly lru: LRUCache<string, CacheEntry>;

  constructor(options: MemoryStoreOptions) {
    this.lru = new LRUCache<string, CacheEntry>({
      max: options.maxEntries,
      ttlAutopurge: false,
      perf: { now: options.now },
      ...(options.onEvict !== undefined && {
        dispose: (_value, key, reason) => {
          if (reason === 'evict') options.onEvict!(key);
        },
      }),
    });
  }

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    return this.lru.get(key) as CacheEntry<T> | undefined;
  }

  async set<T>(key: string, entry: CacheEntry<T>, keepMs: number): Promise<void> {
    this.lru.set(key, entry, { ttl: Math.max(1, keepMs) });
  }

  async delete(key: string): Promise<void> {
    this.lru.delete(key);
  }

  size(): number {
    return this.lru.size;
  }
}
