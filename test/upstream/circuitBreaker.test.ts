import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import type { FaultAction } from '../../src/sim/Faults.js';
import { startSimulators, type SimulatedEm, type SimulatedVbo, type Simulators } from '../../src/sim/startSimulators.js';
import type { EmClient } from '../../src/upstream/em/EmClient.js';
import type { UpstreamCircuitOpenError, UpstreamError } from '../../src/upstream/errors.js';
import { captureLogs, emClient, errorTexts, leaks, rejection, staticSecrets } from './emClientHarness.js';
import { closeClients, makeClient } from './vboClientHarness.js';

const QUERY = '^GET /api/query';
const COOLDOWN = 30_000;
const BREAKER = { failureThreshold: 3, cooldownMs: COOLDOWN, maxCooldownMs: 4 * COOLDOWN };
/** Small timeouts so a hanging server costs the test little real time (got's timers are real). */
const TIMEOUTS = { connectMs: 300, responseMs: 300, totalMs: 600 };

const capture = captureLogs();
const clock = new ManualClock('2026-11-01T00:00:00Z');
const errors: UpstreamError[] = [];
const secrets = new Set<string>();
let clients: EmClient[] = [];
let sims: Simulators;
let em: SimulatedEm;
let vbo: SimulatedVbo;

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await rejection(p);
  errors.push(err);
  return err;
}

const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  sims = await startSimulators({ em: 1, vbo: ['v8'], sessionsPerServer: 20, seed: 11, clock });
  em = sims.em[0]!;
  vbo = sims.vbo[0]!;
  for (const s of staticSecrets(em)) secrets.add(s);
  secrets.add(vbo.password);
});
afterAll(async () => {
  await sims.close();
  expect(leaks([...capture.lines, ...errors.flatMap(errorTexts)], [...secrets])).toEqual([]);
});
beforeEach(() => {
  for (const s of sims.servers) {
    s.faults.clear();
    s.log.reset();
  }
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  await closeClients();
});

/** A logged-on EM client (logon and version discovery done, logs reset), so every later request is a query. */
async function warmEm(extra: Parameters<typeof emClient>[4] = {}) {
  const made = emClient(em, capture, clock, clients, { circuitBreaker: BREAKER, timeouts: TIMEOUTS, retry: { limit: 1 }, ...extra });
  await made.client.listRestoreSessions({ pageSize: 1 });
  em.log.reset();
  return made;
}

describe.each<[string, FaultAction, string, number]>([
  // [name, fault, code of the failures, requests per failed call (1 + retries where the HTTP layer retries)]
  ['503 after retries', { status: 503 }, 'UPSTREAM_HTTP_ERROR', 2],
  ['connection reset', { reset: true }, 'UPSTREAM_UNREACHABLE', 2],
  ['hang (response timeout)', { hang: true }, 'UPSTREAM_TIMEOUT', 1],
])('EmClient circuit breaker: %s', (_name, action, code, perCall) => {
  it('opens after the threshold, then fails fast without a request; one probe after the cooldown; its success closes it', async () => {
    const { client } = await warmEm();
    const t0 = clock.now();
    em.faults.set({ rules: [{ match: QUERY, action }] });
    for (let i = 0; i < BREAKER.failureThreshold; i++) {
      expect(client.circuit().circuit).toBe('closed');
      expect((await failure(client.listRestoreSessions())).code).toBe(code);
    }
    const sent = em.log.count();
    expect(sent).toBe(BREAKER.failureThreshold * perCall);
    expect(client.circuit()).toMatchObject({ circuit: 'open', openedAt: t0, until: t0 + COOLDOWN, lastFailureCode: code });

    // Open: every call fails at once, nothing reaches the server (not even the logon or a retry).
    clock.advance(COOLDOWN - 1);
    const fast = await Promise.all([client.listRestoreSessions(), client.listBackupServers(), client.ping()].map(failure));
    for (const err of fast) {
      expect(err.code).toBe('UPSTREAM_CIRCUIT_OPEN');
      expect(err.retryable).toBe(true);
      expect(err.status).toBeUndefined();
      expect(err.message).toContain(`circuit open since ${iso(t0)} until ${iso(t0 + COOLDOWN)} (last failure: ${code})`);
      expect((err as UpstreamCircuitOpenError).until).toBe(iso(t0 + COOLDOWN));
    }
    expect(em.log.count()).toBe(sent);

    // Cooldown over: the fault is gone, exactly one probe goes out and closes the circuit.
    em.faults.clear();
    clock.advance(1);
    expect(client.circuit().circuit).toBe('half-open');
    const [probe, ...others] = await Promise.allSettled([
      client.listRestoreSessions({ pageSize: 2 }),
      client.listRestoreSessions({ pageSize: 2 }),
      client.listRestoreSessions({ pageSize: 2 }),
    ]);
    expect(probe.status).toBe('fulfilled');
    for (const o of others) {
      expect(o.status).toBe('rejected');
      const err = (o as PromiseRejectedResult).reason as UpstreamError;
      errors.push(err);
      expect(err.code).toBe('UPSTREAM_CIRCUIT_OPEN');
      expect(err.message).toContain('a probe request is in flight');
    }
    expect(em.log.count()).toBe(sent + 1);
    expect(client.circuit()).toEqual({ circuit: 'closed', consecutiveFailures: 0, probeInFlight: false });
    await client.listRestoreSessions({ pageSize: 2 });
    expect(em.log.count()).toBe(sent + 2);
  });
});

describe('EmClient circuit breaker: failed probes', () => {
  it('a failing probe is one request (no retries) and re-opens with a doubled cooldown', async () => {
    const { client } = await warmEm();
    const t0 = clock.now();
    em.faults.set({ rules: [{ match: QUERY, action: { status: 503 } }] });
    for (let i = 0; i < BREAKER.failureThreshold; i++) await failure(client.listRestoreSessions());
    const sent = em.log.count();

    clock.advance(COOLDOWN);
    const t1 = clock.now();
    expect((await failure(client.listRestoreSessions())).code).toBe('UPSTREAM_HTTP_ERROR');
    expect(em.log.count()).toBe(sent + 1);
    expect(client.circuit()).toMatchObject({ circuit: 'open', openedAt: t0, until: t1 + 2 * COOLDOWN });

    clock.advance(2 * COOLDOWN - 1);
    expect((await failure(client.listRestoreSessions())).code).toBe('UPSTREAM_CIRCUIT_OPEN');
    expect(em.log.count()).toBe(sent + 1);
    clock.advance(1);
    await failure(client.listRestoreSessions());
    // Capped at maxCooldownMs.
    clock.advance(4 * COOLDOWN);
    await failure(client.listRestoreSessions());
    expect(client.circuit().until).toBe(clock.now() + BREAKER.maxCooldownMs);
    expect(em.log.count()).toBe(sent + 3);
  });

  it('a session that expired during the outage: nothing is sent, neither the query nor a re-logon', async () => {
    const { client } = await warmEm();
    em.faults.set({ rules: [{ match: QUERY, action: { reset: true } }] });
    for (let i = 0; i < BREAKER.failureThreshold; i++) await failure(client.listRestoreSessions());
    em.expireAll();
    const sent = em.log.count();
    expect((await failure(client.getByUids('RestoreSession', [em.world.restoreSessions[0]!.id]))).code).toBe('UPSTREAM_CIRCUIT_OPEN');
    expect(em.log.count()).toBe(sent);
  });
});

describe('EmClient circuit breaker: answers that are not outages never open it', () => {
  it.each([400, 404, 500])('HTTP %i', async (status) => {
    const { client } = await warmEm();
    em.faults.set({ rules: [{ match: QUERY, action: { status } }] });
    for (let i = 0; i < 2 * BREAKER.failureThreshold; i++) {
      const err = await failure(client.listRestoreSessions());
      expect(err).toMatchObject({ code: 'UPSTREAM_HTTP_ERROR', status });
    }
    expect(client.circuit()).toMatchObject({ circuit: 'closed', consecutiveFailures: 0 });
    expect(em.log.count()).toBe(2 * BREAKER.failureThreshold);
  });

  it('a body that does not decode (malformed)', async () => {
    const { client } = await warmEm();
    em.faults.set({ rules: [{ match: QUERY, action: { malformed: true } }] });
    for (let i = 0; i < 2 * BREAKER.failureThreshold; i++) expect((await failure(client.listRestoreSessions())).code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(client.circuit().circuit).toBe('closed');
  });

  it('a refused logon (401)', async () => {
    const { client } = emClient(em, capture, clock, clients, { circuitBreaker: BREAKER, password: 'wrong-password-456', authFailureCacheMs: 1 });
    secrets.add('wrong-password-456');
    for (let i = 0; i < 2 * BREAKER.failureThreshold; i++) {
      expect((await failure(client.listRestoreSessions())).code).toBe('UPSTREAM_AUTH_FAILED');
      clock.advance(1);
    }
    expect(client.circuit().circuit).toBe('closed');
    expect(em.log.count(/^POST \/api\/sessionMngr/)).toBe(2 * BREAKER.failureThreshold);
  });

  it('a success in between resets the count', async () => {
    const { client } = await warmEm();
    for (let round = 0; round < 3; round++) {
      em.faults.set({ rules: [{ match: QUERY, action: { status: 502 }, times: 2 * (BREAKER.failureThreshold - 1) }] });
      for (let i = 0; i < BREAKER.failureThreshold - 1; i++) await failure(client.listRestoreSessions());
      await client.listRestoreSessions({ pageSize: 1 });
    }
    expect(client.circuit()).toMatchObject({ circuit: 'closed', consecutiveFailures: 0 });
  });
});

describe('VboClient circuit breaker', () => {
  it('opens on a dead server, exposes its state, and closes after one successful probe', async () => {
    const { client } = makeClient({
      name: vbo.name,
      url: vbo.url,
      apiVersion: vbo.apiVersion,
      username: vbo.username,
      password: vbo.password,
      now: () => clock.now(),
      retry: { limit: 0 },
      circuitBreaker: { failureThreshold: 2, cooldownMs: 10_000 },
    });
    await client.listOrganizations();
    vbo.log.reset();
    const t0 = clock.now();
    vbo.faults.set({ rules: [{ action: { reset: true } }] });
    for (let i = 0; i < 2; i++) expect((await failure(client.listRestoreSessions())).code).toBe('UPSTREAM_UNREACHABLE');
    expect(client.circuit()).toMatchObject({ circuit: 'open', openedAt: t0, until: t0 + 10_000, lastFailureCode: 'UPSTREAM_UNREACHABLE' });
    const err = await failure(client.getServiceInstance());
    expect(err.code).toBe('UPSTREAM_CIRCUIT_OPEN');
    expect(err.message).toMatch(/^m365-1: GET \/v8\/ServiceInstance -> circuit open since /);
    expect(vbo.log.count()).toBe(2);
    vbo.faults.clear();
    clock.advance(10_000);
    await client.listRestoreSessions({ limit: 1 });
    expect(vbo.log.count()).toBe(3);
    expect(client.circuit().circuit).toBe('closed');
  });
});
