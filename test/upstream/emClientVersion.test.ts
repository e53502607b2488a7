import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { startSimulators, type SimulatedEm, type Simulators } from '../../src/sim/startSimulators.js';
import type { EmClient } from '../../src/upstream/em/EmClient.js';
import { latestEmVersion } from '../../src/upstream/em/latestEmVersion.js';
import { captureLogs, emClient } from './emClientHarness.js';

const ROOT = /^GET \/api\/$/;
const LOGON = /^POST \/api\/sessionMngr/;

const capture = captureLogs();
const clock = new ManualClock('2026-11-01T00:00:00Z');
let clients: EmClient[] = [];
let sims: Simulators;
let em: SimulatedEm;

beforeAll(async () => {
  sims = await startSimulators({ em: 1, vbo: 0, sessionsPerServer: 10, seed: 4, clock });
  em = sims.em[0]!;
});
afterAll(async () => {
  await sims.close();
});
beforeEach(() => {
  em.faults.clear();
  em.log.reset();
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

describe('EmClient.apiVersion', () => {
  it.each(['xml', 'json'] as const)('%s: never asked for by queries; one GET /api/ on demand, shared and cached; forgotten at a re-logon', async (format) => {
    const { client } = emClient(em, capture, clock, clients, { format });
    expect(client.apiVersion).toBeUndefined();

    await client.listRestoreSessions({ pageSize: 2 });
    expect(em.log.count(LOGON)).toBe(1);
    expect(em.log.count(ROOT)).toBe(0);
    // The logon was `?v=latest`, as before.
    expect(em.log.all().find((e) => LOGON.test(`${e.method} ${e.path}`))?.query).toBe('v=latest');
    expect(client.apiVersion).toBeUndefined();

    expect(await Promise.all([client.resolveApiVersion(), client.resolveApiVersion(), client.resolveApiVersion()])).toEqual(['v1_7', 'v1_7', 'v1_7']);
    expect(em.log.count(ROOT)).toBe(1);
    expect(client.apiVersion).toBe('v1_7');
    await client.resolveApiVersion();
    await Promise.all([client.listRestoreSessions({ pageSize: 2 }), client.listBackupServers()]);
    expect(em.log.count(ROOT)).toBe(1);

    // A new logon (the old session expired) may speak another version: it is read again when asked.
    em.expireAll();
    await client.listRestoreSessions({ pageSize: 2 });
    expect(em.log.count(LOGON)).toBe(2);
    expect(client.apiVersion).toBeUndefined();
    expect(await client.resolveApiVersion()).toBe('v1_7');
    expect(em.log.count(ROOT)).toBe(2);
  });

  it('a pinned version is the answer at once, without a GET /api/', async () => {
    const { client } = emClient(em, capture, clock, clients, { apiVersion: 'v1_6' });
    expect(client.apiVersion).toBe('v1_6');
    await client.listRestoreSessions({ pageSize: 1 });
    expect(await client.resolveApiVersion()).toBe('v1_6');
    expect(em.log.count(ROOT)).toBe(0);
    expect(em.log.all().find((e) => LOGON.test(`${e.method} ${e.path}`))?.query).toBe('v=v1_6');
  });

  it('ping() alone (readiness, check) also tells it, without a logon', async () => {
    const { client } = emClient(em, capture, clock, clients);
    const info = await client.ping();
    expect(info).toEqual({ supportedVersions: ['v1_5', 'v1_6', 'v1_7'], latestVersion: 'v1_7' });
    expect(client.apiVersion).toBe('v1_7');
    expect(em.log.count(LOGON)).toBe(0);
  });

  it('a failing GET /api/ resolves undefined (logged, never thrown) and the next call asks again', async () => {
    const { client } = emClient(em, capture, clock, clients, { retry: { limit: 0 } });
    em.faults.set({ rules: [{ match: '^GET /api/?$', action: { status: 500 }, times: 1 }] });
    expect(await client.resolveApiVersion()).toBeUndefined();
    expect(capture.lines.some((l) => l.includes('EM API version not learnt'))).toBe(true);
    expect(await client.resolveApiVersion()).toBe('v1_7');
    expect(em.log.count(ROOT)).toBe(2);
  });
});

describe('latestEmVersion', () => {
  it('orders by number, not text', () => {
    expect(latestEmVersion(['v1_5', 'v1_10', 'v1_9'])).toBe('v1_10');
    expect(latestEmVersion(['v1', 'v1_2', 'v1_1'])).toBe('v1_2');
    expect(latestEmVersion([])).toBeUndefined();
  });
});
