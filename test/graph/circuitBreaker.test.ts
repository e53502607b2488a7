import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { startGraph, type GraphHarness } from './graphHarness.js';

const QUERY = `{
  restoreSessions(first: 30) {
    edges { node { source { name } } }
    sourceErrors { source { name } code message httpStatus retryable }
    outcomes { source { name } status }
  }
}`;

const SOURCES = '{ sources { name status lastError { code message retryable } } }';

interface Result {
  data?: {
    restoreSessions: {
      edges: { node: { source: { name: string } } }[];
      sourceErrors: { source: { name: string }; code: string; message: string; httpStatus: number | null; retryable: boolean }[];
      outcomes: { source: { name: string }; status: string }[];
    };
  } | null;
  errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[];
}

interface SourcesResult {
  sources: { name: string; status: string; lastError: { code: string; message: string; retryable: boolean } | null }[];
}

const DEAD = 'em-2';
const COOLDOWN = 30_000;

describe('circuit breaker through the graph: one dead server', () => {
  const clock = new ManualClock('2026-11-01T00:00:00Z');
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({
      sims: { sessionsPerServer: 40 },
      now: () => clock.now(),
      configs: (c) =>
        c.map((s) => (s.name === DEAD ? { ...s, circuitBreaker: { failureThreshold: 2, cooldownMs: COOLDOWN, maxCooldownMs: 4 * COOLDOWN } } : s)),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const dead = () => h.sims.servers.find((s) => s.name === DEAD)!;

  async function partial(code: string): Promise<Result> {
    const r = (await h.run(QUERY)) as Result;
    const conn = r.data!.restoreSessions;
    expect(conn.edges).toHaveLength(30);
    expect(conn.edges.every((e) => e.node.source.name !== DEAD)).toBe(true);
    expect(conn.outcomes.filter((o) => o.status === 'OK')).toHaveLength(4);
    expect(conn.sourceErrors).toEqual([expect.objectContaining({ source: { name: DEAD }, code, httpStatus: null, retryable: true })]);
    expect(r.errors).toEqual([expect.objectContaining({ path: ['restoreSessions'], extensions: { code, source: DEAD, httpStatus: null, retryable: true } })]);
    return r;
  }

  it('answers partially while the server fails, then stops calling it: UPSTREAM_CIRCUIT_OPEN with no request', async () => {
    dead().faults.set({ rules: [{ action: { reset: true } }] });
    const t0 = clock.now();
    await partial('UPSTREAM_UNREACHABLE');
    await partial('UPSTREAM_UNREACHABLE');
    const sent = dead().log.count();
    expect(sent).toBe(2);

    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      const r = await partial('UPSTREAM_CIRCUIT_OPEN');
      expect(r.data!.restoreSessions.sourceErrors[0]!.message).toContain(
        `${DEAD}: POST /api/sessionMngr/?v=latest -> circuit open since ${new Date(t0).toISOString()} until ${new Date(t0 + COOLDOWN).toISOString()} (last failure: UPSTREAM_UNREACHABLE)`,
      );
    }
    expect(dead().log.count()).toBe(sent);

    const s = (await h.run(SOURCES)).data as unknown as SourcesResult;
    const entry = s.sources.find((x) => x.name === DEAD)!;
    expect(entry).toEqual({
      name: DEAD,
      status: 'CIRCUIT_OPEN',
      lastError: { code: 'UPSTREAM_CIRCUIT_OPEN', message: expect.stringContaining('circuit open since'), retryable: true },
    });
    expect(s.sources.filter((x) => x.name !== DEAD).every((x) => x.status === 'UP')).toBe(true);
    // Readiness and metrics see DOWN; the schema says why.
    expect(h.health(DEAD).status).toBe('DOWN');
    expect(h.health(DEAD).circuit).toEqual({
      state: 'open',
      openedAt: new Date(t0).toISOString(),
      until: new Date(t0 + COOLDOWN).toISOString(),
    });
    expect(dead().log.count()).toBe(sent);
  });

  it('after the cooldown one probe finds the server back, and it contributes again', async () => {
    dead().faults.clear();
    clock.advance(COOLDOWN);
    const before = dead().log.count();
    const r = (await h.run(QUERY)) as Result;
    expect(r.errors).toBeUndefined();
    expect(r.data!.restoreSessions.outcomes.every((o) => o.status === 'OK')).toBe(true);
    expect(dead().log.count()).toBeGreaterThan(before);
    const s = (await h.run(SOURCES)).data as unknown as SourcesResult;
    expect(s.sources.find((x) => x.name === DEAD)).toEqual({ name: DEAD, status: 'UP', lastError: null });
    expect(h.health(DEAD).circuit).toEqual({ state: 'closed' });
  });
});
