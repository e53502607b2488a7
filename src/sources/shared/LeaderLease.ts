import { randomUUID } from 'node:crypto';
import { realScheduler, type Scheduler } from '../Scheduler.js';
import type { RedisConnection } from './RedisConnection.js';
import { COMPARE_AND_DELETE_LUA } from './SharedLock.js';

/**
 * Takes the lease: `SET key token NX PX ttl`, or, when the key already holds OUR token (a
 * renewal that failed on a timeout, a reconnect), extends it. Atomic. 1 held, 0 someone else's.
 */
export const ACQUIRE_LEASE_LUA = `local v = redis.call('get', KEYS[1])
if not v then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** Compare-and-extend: PEXPIRE only while the key holds ARGV[1]. 1 renewed, 0 not ours any more. */
export const RENEW_LEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** Why a holder stopped being leader. */
export type LeaseLoss =
  /** The key holds another holder's token (ours expired and was taken). */
  | 'taken'
  /** A renewal got an error or no answer in time: we cannot know we still hold it. */
  | 'renewal-failed'
  /** The connection went down (or was closed): no renewal is possible. */
  | 'unavailable'
  /** {@link LeaderLease.stop}. */
  | 'stopped';

/**
 * What a replica should do now:
 * - `leader`: it holds the lease: do the singleton work (e.g. poll the Veeam servers);
 * - `follower`: another replica holds it: do not;
 * - `standalone`: Redis is down (or not yet connected), nobody can hold a lease: act alone, as a
 *   gateway without Redis would (each replica polls itself) until Redis is back.
 */
export type LeaseRole = 'leader' | 'follower' | 'standalone';

/** Options of {@link LeaderLease}. */
export interface LeaderLeaseOptions {
  /** Lifetime of the key (PX). The holder renews every `ttlMs / 3`. */
  ttlMs: number;
  /** How often a non-holder tries to take the lease. Default `ttlMs / 3`. */
  retryMs?: number;
  /** Timers and the clock of `isLeader`'s local validity. Default real time. */
  scheduler?: Scheduler;
  /** Between the connection's `keyPrefix` and the name. Default `lease:`. */
  namespace?: string;
  /** This instance became leader. */
  onAcquired?: () => void;
  /** This instance stopped being leader. */
  onLost?: (reason: LeaseLoss) => void;
}

/**
 * A renewable lease per name: at most one holder at a time among the replicas that share the
 * connection's Redis and prefix (leader election for singleton background work).
 *
 * - `start()` tries at once, then a non-holder tries every `retryMs` (takeover happens within
 *   `ttlMs + retryMs` of a holder that died without releasing).
 * - The holder renews every `ttlMs / 3` with a compare-and-extend script; it loses the lease
 *   (`onLost`) when a renewal finds another token, fails or times out, or when the connection goes
 *   down. After a failed renewal the next attempt may take it back if the key still holds our token.
 * - `isLeader` is also false once `ttlMs` has passed since the last successful renewal was sent
 *   (a stalled event loop), so a holder never believes in a lease Redis may already have dropped.
 * - `stop()` releases the lease if held (compare-and-delete) so another replica takes over at its
 *   next attempt; `stop({ release: false })` leaves the key to expire (as a crash would).
 *
 * With Redis down nobody is leader via Redis: {@link role} is `standalone` and callers should act
 * alone (`lease.role !== 'follower'` → do the work). Leadership is best-effort: Redis PX runs on
 * Redis' clock and pauses are possible, so the singleton work must tolerate a brief overlap.
 */
export class LeaderLease {
  readonly name: string;
  /** This instance's token: the key's value while it holds the lease. */
  readonly token = randomUUID();
  private readonly key: string;
  private readonly scheduler: Scheduler;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private readonly acquire: (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;
  private readonly renew: (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;
  private readonly release: (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;
  private running = false;
  private releaseOnStop = true;
  private held = false;
  private validUntil = 0;
  private cancelTimer: (() => void) | undefined;
  private offState: (() => void) | undefined;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly connection: RedisConnection,
    name: string,
    private readonly options: LeaderLeaseOptions,
  ) {
    if (!(options.ttlMs > 0)) throw new Error('LeaderLease: ttlMs must be positive');
    this.name = name;
    this.key = (options.namespace ?? 'lease:') + name;
    this.scheduler = options.scheduler ?? realScheduler;
    this.ttlMs = Math.ceil(options.ttlMs);
    this.renewMs = Math.max(1, Math.floor(this.ttlMs / 3));
    this.retryMs = Math.max(1, options.retryMs ?? this.renewMs);
    this.acquire = connection.script(ACQUIRE_LEASE_LUA, 1);
    this.renew = connection.script(RENEW_LEASE_LUA, 1);
    this.release = connection.script(COMPARE_AND_DELETE_LUA, 1);
  }

  /** Holds the lease now (and its last renewal was sent less than `ttlMs` ago). */
  get isLeader(): boolean {
    return this.held && this.scheduler.now() < this.validUntil;
  }

  /** What this replica should do now; see {@link LeaseRole}. */
  get role(): LeaseRole {
    if (this.isLeader) return 'leader';
    return this.connection.state() === 'up' ? 'follower' : 'standalone';
  }

  /** Starts trying (first attempt now). Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.offState = this.connection.onStateChange((state) => {
      if (!this.running) return;
      if (state === 'down') {
        this.lose('unavailable');
      } else {
        // Back: try at once rather than at the next timer (takes our own lease back if it is still ours).
        this.schedule(0);
      }
    });
    this.attempt();
  }

  /** Stops renewing and trying; releases the lease if held unless `release: false`. Resolves once done (never rejects). */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.releaseOnStop = options.release !== false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.offState?.();
    this.offState = undefined;
    await this.inflight;
    if (!this.held) return;
    if (this.releaseOnStop && this.connection.state() === 'up') {
      await this.release([this.key], [this.token]).catch(() => undefined);
    }
    this.lose('stopped');
  }

  /** Resolves when the attempt or renewal in progress, if any, has finished (tests). */
  settled(): Promise<void> {
    return this.inflight;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.cancelTimer?.();
    this.cancelTimer = this.scheduler.setTimer(ms, () => {
      this.cancelTimer = undefined;
      this.attempt();
    });
  }

  private attempt(): void {
    // One attempt at a time: a timer that fires while one runs waits for it.
    this.inflight = this.inflight.then(() => this.once()).catch(() => undefined);
  }

  /** Lease commands Redis answered (acquire attempts and renewals), for tests and diagnostics. */
  get attempts(): number {
    return this.answered;
  }

  /** Renewals of a held lease that succeeded. */
  get renewals(): number {
    return this.renewed;
  }

  private answered = 0;
  private renewed = 0;

  private async once(): Promise<void> {
    if (!this.running) return;
    if (this.connection.state() !== 'up') {
      this.lose('unavailable');
      this.schedule(this.retryMs);
      return;
    }
    const sentAt = this.scheduler.now();
    const wasHeld = this.held;
    let answer: unknown;
    try {
      answer = await (wasHeld ? this.renew : this.acquire)([this.key], [this.token, this.ttlMs]);
    } catch {
      if (wasHeld) this.lose('renewal-failed');
      this.schedule(this.retryMs);
      return;
    }
    this.answered++;
    if (!this.running) {
      // stop() came while the command ran. A lease taken just now was never announced: give it back
      // (unless stop asked not to release); a renewed one is released and announced lost by stop().
      if (answer === 1 && !wasHeld && this.releaseOnStop) await this.release([this.key], [this.token]).catch(() => undefined);
      return;
    }
    if (answer !== 1) {
      if (wasHeld) this.lose('taken');
      this.schedule(this.retryMs);
      return;
    }
    this.validUntil = sentAt + this.ttlMs;
    if (wasHeld) this.renewed++;
    if (!wasHeld) {
      this.held = true;
      this.call(() => this.options.onAcquired?.());
    }
    this.schedule(this.renewMs);
  }

  private lose(reason: LeaseLoss): void {
    if (!this.held) return;
    this.held = false;
    this.validUntil = 0;
    this.call(() => this.options.onLost?.(reason));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch {
      // A callback's failure is the caller's; the lease keeps running.
    }
  }
}
