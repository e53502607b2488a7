import { randomUUID } from 'node:crypto';
import { realScheduler, type Scheduler } from '../Scheduler.js';
import type { RedisConnection } from './RedisConnection.js';

/** Deletes KEYS[1] only while it holds ARGV[1] (this holder's token): 1 deleted, 0 not ours (expired, or taken since). */
export const COMPARE_AND_DELETE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A lock obtained by {@link SharedLock.tryAcquire}. */
export interface Lock {
  readonly key: string;
  /** This holder's random token, the value of the key. */
  readonly token: string;
  /**
   * `true`: the key was set in Redis, other replicas see it. `false`: Redis was down or did not
   * answer, so no replica can coordinate: the caller proceeds alone ("no lock needed").
   */
  readonly shared: boolean;
  /**
   * Deletes the key if it still holds this token (never another holder's lock, e.g. after this
   * one expired and someone else took it). Resolves `true` when it deleted it; `false` when it
   * was no longer ours, or Redis is down (the key then expires by its PX). Never rejects.
   */
  release(): Promise<boolean>;
}

/** How {@link SharedLock.waitFor} ended. */
export type LockWait = 'released' | 'timeout' | 'unavailable';

/** Options of {@link SharedLock}. */
export interface SharedLockOptions {
  /** Between the connection's `keyPrefix` and the lock's key. Default `lock:`. */
  namespace?: string;
  /** Timers of {@link SharedLock.waitFor}'s polling and deadline. Default real time. */
  scheduler?: Scheduler;
}

/**
 * Short per-key locks across replicas, for coalescing: the replica that gets the lock reads the
 * server, the others wait a bounded time and then read the shared store themselves. An
 * efficiency lock, not a correctness one: it expires by PX (a holder that dies frees it after
 * `ttlMs`), and while Redis is down every replica proceeds alone, so callers must tolerate two
 * replicas doing the same read.
 *
 * - `tryAcquire`: `SET key token NX PX ttl`. Held by another → `undefined`. Redis down, a
 *   timeout or an error → a local lock (`shared: false`): proceed alone.
 * - `release` deletes the key only while it holds the holder's token (Lua compare-and-delete).
 * - `waitFor` polls `EXISTS` until the key is gone (`released`), the timeout passes (`timeout`),
 *   or Redis fails (`unavailable`, at once: nobody can release a lock we cannot see).
 */
export class SharedLock {
  private readonly namespace: string;
  private readonly scheduler: Scheduler;
  private readonly compareAndDelete: (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

  constructor(
    private readonly connection: RedisConnection,
    options: SharedLockOptions = {},
  ) {
    this.namespace = options.namespace ?? 'lock:';
    this.scheduler = options.scheduler ?? realScheduler;
    this.compareAndDelete = connection.script(COMPARE_AND_DELETE_LUA, 1);
  }

  /**
   * @param key the lock's name (the cache key being read, typically)
   * @param ttlMs how long the lock lives at most: longer than the work it guards should take
   *   (a read within the request budget), short enough that a crashed holder costs little
   * @returns the lock, or `undefined` when another holder has it
   */
  async tryAcquire(key: string, ttlMs: number): Promise<Lock | undefined> {
    const redisKey = this.namespace + key;
    const token = randomUUID();
    if (this.connection.state() !== 'up') return this.lock(key, redisKey, token, false);
    try {
      const answer = await this.connection.client.set(redisKey, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
      return answer === 'OK' ? this.lock(key, redisKey, token, true) : undefined;
    } catch {
      // No answer: it may have been set (its release still tries), but nobody can count on it.
      return this.lock(key, redisKey, token, false);
    }
  }

  /**
   * Waits, bounded, until nobody holds `key`.
   *
   * @param options.timeoutMs the longest wait
   * @param options.pollMs time between two `EXISTS`; default 25 ms
   */
  async waitFor(key: string, options: { timeoutMs: number; pollMs?: number }): Promise<LockWait> {
    const redisKey = this.namespace + key;
    const pollMs = Math.max(1, options.pollMs ?? 25);
    const deadline = this.scheduler.now() + options.timeoutMs;
    for (;;) {
      if (this.connection.state() !== 'up') return 'unavailable';
      try {
        if ((await this.connection.client.exists(redisKey)) === 0) return 'released';
      } catch {
        return 'unavailable';
      }
      const left = deadline - this.scheduler.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => this.scheduler.setTimer(Math.min(pollMs, left), resolve));
    }
  }

  private lock(key: string, redisKey: string, token: string, shared: boolean): Lock {
    let released = false;
    return {
      key,
      token,
      shared,
      release: async () => {
        if (released || this.connection.state() !== 'up') return false;
        released = true;
        try {
          return (await this.compareAndDelete([redisKey], [token])) === 1;
        } catch {
          return false;
        }
      },
    };
  }
}
