import { LRUCache } from 'lru-cache';

/** Options of {@link TokenBucketLimiter}. */
export interface TokenBucketOptions {
  /** Tokens a bucket holds at most: the burst a principal may send at once. A new bucket starts full. */
  capacity: number;
  /** Tokens added back per second, continuously: the sustained rate. */
  refillPerSecond: number;
  /** Clock in epoch ms (`Date.now` in production, a fake in tests). */
  now: () => number;
  /** Buckets kept at most, least recently used evicted first. Default 10000. */
  maxPrincipals?: number;
}

/**
 * What {@link TokenBucketLimiter.take} decided: allowed, with the whole tokens left after this
 * take (`remaining`, for a `RateLimit-Remaining` header), or refused, with the whole seconds, at
 * least 1, until the bucket holds `cost` tokens again (`retryAfterS`, for HTTP `Retry-After`).
 */
export type TokenBucketDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterS: number };

/** One principal's bucket: tokens as of `at` (epoch ms); the refill since is computed on use. */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Tolerance of floating point, in tokens and in seconds: refills summed over many takes can end a
 * hair below a whole token (2.9999999999999996), which must still pay for 3, and `3 / 0.1` is
 * 30.000000000000004, which must say 30 seconds, not 31.
 */
const EPSILON = 1e-9;

/**
 * Per-principal token bucket rate limiter. Each principal (a client id, a token subject, an IP)
 * has a bucket of `capacity` tokens that refills at `refillPerSecond`; a request takes `cost`
 * tokens or is refused with the seconds to wait. The refill is computed lazily from the injected
 * clock when a bucket is used, so there are no timers and tests need no fake timers. Written here
 * rather than taken from a library: the maintained ones (rate-limiter-flexible) count fixed or
 * sliding windows on `Date.now`.
 *
 * Buckets live in an LRU bounded by `maxPrincipals`, so a flood of distinct principals (spoofed
 * ids, many IPs) cannot grow memory; an evicted bucket starts full again when its principal
 * returns, which gives at most one extra burst to a principal that `maxPrincipals` others were
 * seen after. Size `maxPrincipals` above the clients expected at once.
 */
export class TokenBucketLimiter {
  private readonly capacity: number;
  private readonly refillPerSecond: number;
  private readonly now: () => number;
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(options: TokenBucketOptions) {
    const { capacity, refillPerSecond, now, maxPrincipals = 10_000 } = options;
    if (!(Number.isFinite(capacity) && capacity > 0)) throw new RangeError(`TokenBucketLimiter: capacity must be a positive number, got ${capacity}`);
    // A rate of 0 would make every refusal permanent: no Retry-After could be right.
    if (!(Number.isFinite(refillPerSecond) && refillPerSecond > 0)) {
      throw new RangeError(`TokenBucketLimiter: refillPerSecond must be a positive number, got ${refillPerSecond}`);
    }
    if (!(Number.isInteger(maxPrincipals) && maxPrincipals > 0)) {
      throw new RangeError(`TokenBucketLimiter: maxPrincipals must be a positive integer, got ${maxPrincipals}`);
    }
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.now = now;
    this.buckets = new LRUCache<string, Bucket>({ max: maxPrincipals });
  }

  /**
   * Takes `cost` tokens from `principal`'s bucket if it holds them. A refusal takes nothing, so a
   * client that keeps retrying early is not pushed further back.
   *
   * @param principal who is charged (any string; the caller picks what identifies a client)
   * @param cost tokens this request takes, more than 0 and at most `capacity` (default 1)
   * @throws RangeError if `cost` is not in (0, capacity]: such a request could never pass
   */
  take(principal: string, cost = 1): TokenBucketDecision {
    if (!(Number.isFinite(cost) && cost > 0 && cost <= this.capacity)) {
      throw new RangeError(`TokenBucketLimiter: cost must be more than 0 and at most the capacity ${this.capacity}, got ${cost}`);
    }
    const t = this.now();
    const bucket = this.buckets.get(principal);
    let tokens: number;
    if (bucket === undefined) {
      tokens = this.capacity;
    } else {
      // A clock that went back (an NTP step) counts as no time passed, and the refill is measured
      // from the new reading on: neither a free refill nor a bucket frozen until the clock catches up.
      const elapsedMs = Math.max(0, t - bucket.at);
      tokens = Math.min(this.capacity, bucket.tokens + (elapsedMs * this.refillPerSecond) / 1000);
    }
    if (tokens + EPSILON >= cost) {
      tokens = Math.max(0, tokens - cost);
      this.store(principal, bucket, tokens, t);
      return { allowed: true, remaining: Math.floor(tokens) };
    }
    this.store(principal, bucket, tokens, t);
    const waitS = (cost - tokens) / this.refillPerSecond;
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil(waitS - EPSILON)) };
  }

  /** Buckets held now (at most `maxPrincipals`), for a metrics gauge. */
  get size(): number {
    return this.buckets.size;
  }

  private store(principal: string, bucket: Bucket | undefined, tokens: number, at: number): void {
    if (bucket === undefined) {
      this.buckets.set(principal, { tokens, at });
    } else {
      bucket.tokens = tokens;
      bucket.at = at;
    }
  }
}
