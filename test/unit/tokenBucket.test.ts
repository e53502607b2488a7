import { describe, expect, it } from '@jest/globals';
import { TokenBucketLimiter, type TokenBucketOptions } from '../../src/server/TokenBucket.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');

function setup(options: Partial<Omit<TokenBucketOptions, 'now'>> = {}) {
  let t = T0;
  const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSecond: 1, ...options, now: () => t });
  return { limiter, advance: (ms: number) => (t += ms) };
}

describe('TokenBucketLimiter', () => {
  it('allows a burst up to the capacity, then refuses with the whole seconds until a token is back', () => {
    const { limiter } = setup({ refillPerSecond: 0.5 });
    expect([1, 2, 3].map(() => limiter.take('alice'))).toEqual([
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
    ]);
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterS: 2 });
    // A refusal takes nothing: asking again at once gets the same answer, not a longer wait.
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterS: 2 });
    expect(limiter.take('alice', 3)).toEqual({ allowed: false, retryAfterS: 6 });
  });

  it('refills lazily from the clock, up to the capacity and no further', () => {
    const { limiter, advance } = setup();
    for (let i = 0; i < 3; i++) limiter.take('alice');
    advance(500);
    // Half a token: still refused, and Retry-After never says 0.
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterS: 1 });
    advance(500);
    expect(limiter.take('alice')).toEqual({ allowed: true, remaining: 0 });
    advance(1500);
    // 1.5 tokens: one taken, and the half left over is not reported as a whole one.
    expect(limiter.take('alice')).toEqual({ allowed: true, remaining: 0 });
    expect(limiter.take('alice', 2)).toEqual({ allowed: false, retryAfterS: 2 });
    advance(3_600_000);
    expect([1, 2, 3, 4].map(() => limiter.take('alice').allowed)).toEqual([true, true, true, false]);
  });

  it('rounds Retry-After up to whole seconds without floating-point overshoot', () => {
    const { limiter, advance } = setup({ capacity: 3, refillPerSecond: 0.1 });
    limiter.take('alice', 3);
    // 3 / 0.1 is 30.000000000000004 in floating point: 30 seconds, not 31.
    expect(limiter.take('alice', 3)).toEqual({ allowed: false, retryAfterS: 30 });
    advance(29_999);
    expect(limiter.take('alice', 3)).toEqual({ allowed: false, retryAfterS: 1 });
    advance(1);
    expect(limiter.take('alice', 3)).toEqual({ allowed: true, remaining: 0 });
  });

  it('keeps one bucket per principal', () => {
    const { limiter } = setup();
    limiter.take('alice', 3);
    expect(limiter.take('alice').allowed).toBe(false);
    expect(limiter.take('bob')).toEqual({ allowed: true, remaining: 2 });
    expect(limiter.take('10.0.0.7', 3)).toEqual({ allowed: true, remaining: 0 });
    expect(limiter.size).toBe(3);
  });

  it('keeps at most maxPrincipals buckets, and an evicted principal starts full again', () => {
    const { limiter } = setup({ maxPrincipals: 2 });
    limiter.take('alice', 3);
    limiter.take('bob', 3);
    // carol evicts alice, the least recently used.
    expect(limiter.take('carol')).toEqual({ allowed: true, remaining: 2 });
    expect(limiter.size).toBe(2);
    expect(limiter.take('bob').allowed).toBe(false);
    expect(limiter.take('alice')).toEqual({ allowed: true, remaining: 2 });
    expect(limiter.size).toBe(2);
    for (let i = 0; i < 1000; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBe(2);
  });

  it('treats a clock going back as no time passed, and refills from the new reading on', () => {
    const { limiter, advance } = setup();
    limiter.take('alice', 3);
    advance(-60_000);
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterS: 1 });
    // Not frozen until the clock is back where it was: one second later is one token later.
    advance(1000);
    expect(limiter.take('alice')).toEqual({ allowed: true, remaining: 0 });
    expect(limiter.take('alice').allowed).toBe(false);
  });

  it('rejects options and costs that could never work', () => {
    const now = () => T0;
    expect(() => new TokenBucketLimiter({ capacity: 0, refillPerSecond: 1, now })).toThrow(RangeError);
    expect(() => new TokenBucketLimiter({ capacity: 3, refillPerSecond: 0, now })).toThrow(/refillPerSecond must be a positive number, got 0/);
    expect(() => new TokenBucketLimiter({ capacity: 3, refillPerSecond: Number.NaN, now })).toThrow(RangeError);
    expect(() => new TokenBucketLimiter({ capacity: 3, refillPerSecond: 1, now, maxPrincipals: 1.5 })).toThrow(/maxPrincipals/);
    const { limiter } = setup();
    expect(() => limiter.take('alice', 4)).toThrow(/at most the capacity 3, got 4/);
    expect(() => limiter.take('alice', 0)).toThrow(RangeError);
    expect(() => limiter.take('alice', Number.NaN)).toThrow(RangeError);
    expect(limiter.size).toBe(0);
  });
});
