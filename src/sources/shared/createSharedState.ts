import type { Logger } from 'pino';
import { MemoryStore, type CacheStore } from '../memory/CacheStore.js';
import { realScheduler, type Scheduler } from '../Scheduler.js';
import { LeaderLease, type LeaderLeaseOptions } from './LeaderLease.js';
import { RedisConnection, type RedisSettings } from './RedisConnection.js';
import { RedisPubSub } from './RedisPubSub.js';
import { RedisStore, TieredStore } from './RedisStore.js';
import { SharedLock } from './SharedLock.js';

/** What replicas share through Redis (config `store.redis`). */
export interface SharedState {
  /** The memory layer's store: Redis and this process's memory, memory alone while Redis is down. */
  store: CacheStore;
  /** Short per-key locks: one replica reads a list, the others wait for its answer. */
  lock: SharedLock;
  /** Events between replicas (the live pollers' changes). */
  pubsub: RedisPubSub;
  /** A renewed lease: one leader across replicas (a live poller per server). */
  lease(name: string, options: Omit<LeaderLeaseOptions, 'scheduler'>): LeaderLease;
  /** `up`, or `degraded` while Redis does not answer (every replica then serves from its own memory). */
  status(): 'up' | 'degraded';
  /** Called on every change of `status`. Returns the stop function. */
  onStatusChange(listener: (status: 'up' | 'degraded') => void): () => void;
  close(): Promise<void>;
}

/**
 * The shared state of a replica. Redis is never a single point of failure: commands time out far
 * below the request budget and fail fast while it is down (RedisConnection), the store falls back
 * to memory, locks are taken locally and leases make every replica its own leader; when Redis is
 * back, sharing resumes by itself.
 */
export function createSharedState(
  settings: RedisSettings,
  options: { logger: Logger; maxEntries: number; scheduler: Scheduler; onEvict?: (key: string) => void },
): SharedState {
  const connection = new RedisConnection(settings, { logger: options.logger.child({ component: 'redis' }), name: 'veeam-graph' });
  const memory = new MemoryStore({
    maxEntries: options.maxEntries,
    now: options.scheduler.now,
    ...(options.onEvict !== undefined && { onEvict: options.onEvict }),
  });
  const store = new TieredStore(new RedisStore(connection, { now: options.scheduler.now }), memory);
  // Redis expires keys on its own clock: the locks' and leases' timers run on real time.
  const lock = new SharedLock(connection, { scheduler: realScheduler });
  const pubsub = new RedisPubSub(connection);
  return {
    store,
    lock,
    pubsub,
    lease: (name, leaseOptions) => new LeaderLease(connection, name, { ...leaseOptions, scheduler: realScheduler }),
    status: () => (connection.state() === 'up' ? 'up' : 'degraded'),
    onStatusChange: (listener) => connection.onStateChange((state) => listener(state === 'up' ? 'up' : 'degraded')),
    async close() {
      await pubsub.close();
      await connection.close();
    },
  };
}
