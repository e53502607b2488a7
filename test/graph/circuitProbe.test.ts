import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualScheduler } from '../../src/sources/Scheduler.js';
import { probeOpenCircuits, type CircuitProber } from '../../src/sources/probeOpenCircuits.js';
import { HTTP_DEFAULTS } from '../../src/upstream/http/httpDefaults.js';
import { startGraph, type GraphHarness } from './graphHarness.js';

const QUERY = '{ restoreSessions(first: 10) { edges { node { id } } outcomes { source { name } status } } }';

const DEAD = 'em-2';
// The breaker's defaults (the harness configures every server with them): 5 failures, 2 s doubling.
const { failureThreshold: THRESHOLD, cooldownMs: COOLDOWN } = HTTP_DEFAULTS.circuitBreaker;

/** Lets sockets and promises move without letting time pass: the clock only moves on `advance`. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 5_000; i++) {
    if (condition()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Two EM and one VB365 simulator on a manual clock, and accessors for the server that dies. */
function probeHarness() {
  const scheduler = new ManualScheduler(Date.parse('2026-11-01T00:00:00Z'));
  const state: { h?: GraphHarness; prober?: CircuitProber } = {};
  beforeAll(async () => {
    state.h = await startGraph({ sims: { em: 2, vbo: ['v8'], sessionsPerServer: 20 }, now: () => scheduler.now() });
  });
  afterEach(() => state.prober?.stop());
  afterAll(async () => {
    await state.h?.close();
  });
  const sim = () => state.h!.sims.servers.find((s) => s.name === DEAD)!;
  return {
    scheduler,
    state,
    sim,
    source: () => state.h!.sources.find((s) => s.name === DEAD)!,
    seen: () => sim().log.all(),
    circuit: () => state.h!.health(DEAD).circuit,
  };
}

describe.each([
  ['comes back before the first probe', 1],
  ['is still down at the first two probes', 3],
])('background probe of an open circuit: the server %s', (_title, probesToRecover) => {
  const { scheduler, state, sim, source, seen, circuit } = probeHarness();

  it(`opens after ${THRESHOLD} failed queries; the prober alone probes at each cooldown end, doubling, until the server answers`, async () => {
    sim().faults.set({ rules: [{ action: { reset: true } }] });
    let queries = 0;
    while (circuit().state !== 'open') {
      expect(queries).toBeLessThan(THRESHOLD);
      const r = await state.h!.run(QUERY);
      expect(r.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UPSTREAM_UNREACHABLE', source: DEAD }) })]);
      queries++;
    }
    expect(queries).toBe(THRESHOLD);
    const openedAt = scheduler.now();
    expect(circuit()).toEqual({ state: 'open', openedAt: new Date(openedAt).toISOString(), until: new Date(openedAt + COOLDOWN).toISOString() });

    state.prober = probeOpenCircuits(state.h!.sources, { scheduler, logger: state.h!.logs.logger });
    // One timer, for the one open circuit; the healthy sources get none.
    expect(scheduler.pending).toBe(1);

    // Every probe waits for the breaker's cooldown end, which doubles after each failed probe.
    const intervals: number[] = [];
    let cooldown = COOLDOWN;
    let since = openedAt;
    for (let probe = 1; probe <= probesToRecover; probe++) {
      const recovers = probe === probesToRecover;
      if (recovers) sim().faults.clear();
      const before = seen().length;
      const due = Date.parse(circuit().until!);
      expect(due - scheduler.now()).toBe(cooldown);

      // Not a millisecond before the cooldown ends: no request, the timer still armed.
      scheduler.advance(cooldown - 1);
      await new Promise((r) => setImmediate(r));
      expect(seen()).toHaveLength(before);
      expect(scheduler.pending).toBe(1);
      expect(circuit().state).toBe('open');

      const firedAt = scheduler.now() + 1;
      scheduler.advance(1);
      // The probe went out at once (half-open, probe taken): a caller now fails fast, no second request.
      expect(source().circuit()).toMatchObject({ circuit: 'half-open', probeInFlight: true });
      await expect(source().ping()).rejects.toMatchObject({ code: 'UPSTREAM_CIRCUIT_OPEN' });

      if (recovers) {
        await until(() => circuit().state === 'closed', 'the probe to close the circuit');
      } else {
        await until(() => circuit().state === 'open' && scheduler.pending === 1, 'the failed probe to re-open the circuit and re-arm');
        expect(Date.parse(circuit().until!)).toBe(firedAt + 2 * cooldown);
      }
      intervals.push(firedAt - since);
      since = firedAt;
      // Exactly one request per probe: the unauthenticated `GET /api/`, no retries, nothing else.
      expect(seen().slice(before)).toEqual([expect.objectContaining({ method: 'GET', path: '/api/', ...(recovers ? { status: 200 } : { fault: 'reset' }) })]);
      cooldown *= 2;
    }
    expect(intervals).toEqual(Array.from({ length: probesToRecover }, (_, i) => COOLDOWN * 2 ** i));

    expect(circuit()).toEqual({ state: 'closed' });
    expect(state.h!.health(DEAD).status).toBe('UP');
    // Nothing left to do: no timer while every circuit is closed.
    expect(scheduler.pending).toBe(0);

    // The next query uses the server again.
    const r = (await state.h!.run(QUERY)) as { errors?: unknown; data?: { restoreSessions: { outcomes: { status: string }[] } } };
    expect(r.errors).toBeUndefined();
    expect(r.data!.restoreSessions.outcomes.every((o) => o.status === 'OK')).toBe(true);
  });

  it('stop() cancels the armed timer and unsubscribes: an open circuit is left to user calls', async () => {
    sim().faults.set({ rules: [{ action: { reset: true } }] });
    for (let i = 0; i < THRESHOLD; i++) await state.h!.run(QUERY);
    expect(circuit().state).toBe('open');
    state.prober = probeOpenCircuits(state.h!.sources, { scheduler, logger: state.h!.logs.logger });
    expect(scheduler.pending).toBe(1);
    state.prober!.stop();
    expect(scheduler.pending).toBe(0);

    const before = seen().length;
    scheduler.advance(COOLDOWN);
    await new Promise((r) => setImmediate(r));
    expect(seen()).toHaveLength(before);
    expect(circuit().state).toBe('half-open');
    // A user call is the probe now; its failure re-opens the circuit and arms nothing.
    await expect(source().ping()).rejects.toMatchObject({ code: 'UPSTREAM_UNREACHABLE' });
    expect(circuit().state).toBe('open');
    expect(scheduler.pending).toBe(0);

    sim().faults.clear();
    scheduler.advance(2 * COOLDOWN);
    await source().ping();
    expect(circuit()).toEqual({ state: 'closed' });
    expect(seen()).toHaveLength(before + 2);
    expect(scheduler.pending).toBe(0);
  });
});

describe('background probe of an open circuit: a user call probes first', () => {
  const { scheduler, state, sim, source, seen, circuit } = probeHarness();

  it('a cooldown already over is probed soon; a user probe out first is not doubled, and its failure moves the timer to the new cooldown end', async () => {
    sim().faults.set({ rules: [{ action: { reset: true } }] });
    for (let i = 0; i < THRESHOLD; i++) await state.h!.run(QUERY);
    expect(circuit().state).toBe('open');
    scheduler.advance(COOLDOWN + 500);
    expect(circuit().state).toBe('half-open');

    state.prober = probeOpenCircuits(state.h!.sources, { scheduler, logger: state.h!.logs.logger });
    expect(scheduler.pending).toBe(1);
    // Before the timer fires, a user call takes the probe; the timer finds it out and sends nothing.
    const before = seen().length;
    const user = source().ping();
    expect(source().circuit()).toMatchObject({ circuit: 'half-open', probeInFlight: true });
    scheduler.advance(0);
    expect(scheduler.pending).toBe(1);
    // The user's probe fails: a doubled cooldown from now.
    await expect(user).rejects.toMatchObject({ code: 'UPSTREAM_UNREACHABLE' });
    const reopenedAt = scheduler.now();
    expect(circuit()).toMatchObject({ state: 'open', until: new Date(reopenedAt + 2 * COOLDOWN).toISOString() });
    expect(seen()).toHaveLength(before + 1);
    expect(scheduler.pending).toBe(1);

    // The fallback re-read finds the circuit open again: no request, re-armed for the new end.
    scheduler.advance(1_000);
    await new Promise((r) => setImmediate(r));
    expect(seen()).toHaveLength(before + 1);
    expect(scheduler.pending).toBe(1);

    sim().faults.clear();
    scheduler.advance(2 * COOLDOWN - 1_000 - 1);
    await new Promise((r) => setImmediate(r));
    expect(seen()).toHaveLength(before + 1);
    scheduler.advance(1);
    await until(() => circuit().state === 'closed', 'the background probe to close the circuit');
    expect(seen().slice(before + 1)).toEqual([expect.objectContaining({ method: 'GET', path: '/api/', status: 200 })]);
    expect(scheduler.pending).toBe(0);
  });

  it('a user probe that succeeds first leaves the timer nothing to do', async () => {
    sim().faults.set({ rules: [{ action: { reset: true } }] });
    for (let i = 0; i < THRESHOLD; i++) await state.h!.run(QUERY);
    expect(circuit().state).toBe('open');
    scheduler.advance(COOLDOWN);

    state.prober = probeOpenCircuits(state.h!.sources, { scheduler, logger: state.h!.logs.logger });
    expect(scheduler.pending).toBe(1);
    sim().faults.clear();
    const before = seen().length;
    await source().ping();
    expect(circuit()).toEqual({ state: 'closed' });

    scheduler.advance(0);
    await new Promise((r) => setImmediate(r));
    expect(seen()).toHaveLength(before + 1);
    expect(scheduler.pending).toBe(0);
  });
});
