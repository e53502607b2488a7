import { describe, expect, it } from '@jest/globals';
import { CircuitBreaker, type CircuitPermit, type CircuitTransition } from '../../src/upstream/http/CircuitBreaker.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');

function setup(options: ConstructorParameters<typeof CircuitBreaker>[0] = { failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 3500 }) {
  let t = T0;
  const transitions: string[] = [];
  const breaker = new CircuitBreaker(
    options,
    () => t,
    (x: CircuitTransition) => transitions.push(`${x.from}->${x.to}`),
  );
  const fail = (p: CircuitPermit | undefined, code = 'UPSTREAM_TIMEOUT') => breaker.record(p!, { kind: 'failure', code });
  const ok = (p: CircuitPermit | undefined) => breaker.record(p!, { kind: 'success' });
  return { breaker, transitions, fail, ok, advance: (ms: number) => (t += ms), now: () => t };
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, not before, and a success in between resets the count', () => {
    const { breaker, fail, ok, transitions } = setup();
    fail(breaker.tryAcquire());
    fail(breaker.tryAcquire());
    ok(breaker.tryAcquire());
    fail(breaker.tryAcquire());
    fail(breaker.tryAcquire());
    expect(breaker.snapshot()).toMatchObject({ circuit: 'closed', consecutiveFailures: 2, lastFailureCode: 'UPSTREAM_TIMEOUT' });
    fail(breaker.tryAcquire(), 'UPSTREAM_UNREACHABLE');
    expect(breaker.snapshot()).toEqual({
      circuit: 'open',
      openedAt: T0,
      until: T0 + 1000,
      consecutiveFailures: 3,
      lastFailureCode: 'UPSTREAM_UNREACHABLE',
      probeInFlight: false,
    });
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(transitions).toEqual(['closed->open']);
  });

  it('neutral outcomes neither count nor reset', () => {
    const { breaker, fail } = setup();
    fail(breaker.tryAcquire());
    fail(breaker.tryAcquire());
    breaker.record(breaker.tryAcquire()!, { kind: 'neutral' });
    expect(breaker.snapshot().consecutiveFailures).toBe(2);
    fail(breaker.tryAcquire());
    expect(breaker.snapshot().circuit).toBe('open');
  });

  it('lets exactly one probe through after the cooldown; its success closes the circuit', () => {
    const { breaker, fail, ok, advance, transitions } = setup();
    for (let i = 0; i < 3; i++) fail(breaker.tryAcquire());
    advance(999);
    expect(breaker.tryAcquire()).toBeUndefined();
    advance(1);
    expect(breaker.snapshot()).toMatchObject({ circuit: 'half-open', probeInFlight: false });
    const probe = breaker.tryAcquire();
    expect(probe?.probe).toBe(true);
    // Concurrent callers while the probe is out fail fast.
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(breaker.snapshot()).toMatchObject({ circuit: 'half-open', probeInFlight: true });
    ok(probe);
    expect(breaker.snapshot()).toEqual({ circuit: 'closed', consecutiveFailures: 0, probeInFlight: false });
    expect(breaker.tryAcquire()?.probe).toBe(false);
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('a failed probe re-opens with a doubled cooldown, capped, keeping the outage start', () => {
    const { breaker, fail, ok, advance, now } = setup();
    for (let i = 0; i < 3; i++) fail(breaker.tryAcquire());
    const cooldowns: number[] = [];
    let until = breaker.snapshot().until!;
    for (let i = 0; i < 4; i++) {
      advance(until - now());
      fail(breaker.tryAcquire(), 'UPSTREAM_HTTP_ERROR');
      const s = breaker.snapshot();
      expect(s).toMatchObject({ circuit: 'open', openedAt: T0, lastFailureCode: 'UPSTREAM_HTTP_ERROR' });
      cooldowns.push(s.until! - now());
      until = s.until!;
    }
    expect(cooldowns).toEqual([2000, 3500, 3500, 3500]);
    // Recovery resets the cooldown to its base for the next outage.
    advance(until - now());
    ok(breaker.tryAcquire());
    for (let i = 0; i < 3; i++) fail(breaker.tryAcquire());
    expect(breaker.snapshot()).toMatchObject({ openedAt: now(), until: now() + 1000 });
  });

  it('a neutral probe (aborted, TLS) frees the slot: the next caller probes', () => {
    const { breaker, fail, advance } = setup();
    for (let i = 0; i < 3; i++) fail(breaker.tryAcquire());
    advance(1000);
    breaker.record(breaker.tryAcquire()!, { kind: 'neutral' });
    expect(breaker.snapshot()).toMatchObject({ circuit: 'half-open', probeInFlight: false });
    expect(breaker.tryAcquire()?.probe).toBe(true);
  });

  it('ignores late results of requests sent before the circuit opened', () => {
    const { breaker, fail, ok, advance } = setup();
    const late = [breaker.tryAcquire(), breaker.tryAcquire()];
    for (let i = 0; i < 3; i++) fail(breaker.tryAcquire());
    const until = breaker.snapshot().until;
    fail(late[0]);
    ok(late[1]);
    expect(breaker.snapshot()).toMatchObject({ circuit: 'open', until });
    advance(1000);
    const probe = breaker.tryAcquire();
    ok(late[0]);
    expect(breaker.snapshot()).toMatchObject({ circuit: 'half-open', probeInFlight: true });
    fail(probe);
    expect(breaker.snapshot().circuit).toBe('open');
  });

  it('has the documented defaults and rejects nonsense options', () => {
    const { breaker, fail } = setup({});
    for (let i = 0; i < 4; i++) fail(breaker.tryAcquire());
    expect(breaker.snapshot().circuit).toBe('closed');
    fail(breaker.tryAcquire());
    expect(breaker.snapshot()).toMatchObject({ circuit: 'open', until: T0 + 2_000 });
    expect(() => new CircuitBreaker({ failureThreshold: 0 }, Date.now)).toThrow(RangeError);
    expect(() => new CircuitBreaker({ cooldownMs: 0 }, Date.now)).toThrow(RangeError);
    expect(() => new CircuitBreaker({ cooldownMs: 2000, maxCooldownMs: 1000 }, Date.now)).toThrow(RangeError);
    // A raised cooldown with no ceiling given is not an error: the ceiling follows it.
    expect(() => new CircuitBreaker({ cooldownMs: 600_000 }, Date.now)).not.toThrow();
  });
});
