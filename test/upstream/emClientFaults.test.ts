import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { startSimulators, type SimulatedEm, type Simulators } from '../../src/sim/startSimulators.js';
import type { EmClient } from '../../src/upstream/em/EmClient.js';
import type { UpstreamError, UpstreamTimeoutError } from '../../src/upstream/errors.js';
import { captureLogs, emClient, errorTexts, leaks, rejection, staticSecrets } from './emClientHarness.js';

const LOGON = 'POST /api/sessionMngr';
const QUERY = 'GET /api/query?type=RestoreSession';

const capture = captureLogs();
const errors: UpstreamError[] = [];
const secrets = new Set<string>();
const clock = new ManualClock('2026-11-01T00:00:00Z');
let clients: EmClient[] = [];

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await rejection(p);
  errors.push(err);
  return err;
}

afterAll(() => {
  expect(leaks([...capture.lines, ...errors.flatMap(errorTexts)], [...secrets])).toEqual([]);
});

describe('EmClient under faults', () => {
  let sims: Simulators;
  let em: SimulatedEm;

  beforeAll(async () => {
    sims = await startSimulators({ em: 1, vbo: 0, sessionsPerServer: 60, seed: 3, clock });
    em = sims.em[0]!;
    for (const s of staticSecrets(em)) secrets.add(s);
  });
  afterAll(async () => {
    await sims.close();
  });
  beforeEach(() => {
    em.log.reset();
    em.faults.clear();
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
  });

  const make = (extra: Parameters<typeof emClient>[4] = {}) => emClient(em, capture, clock, clients, extra);

  describe.each(['xml', 'json'] as const)('%s', (format) => {
    it('503 then 200: two requests, success', async () => {
      const { client, sleeps } = make({ format });
      em.faults.set({ rules: [{ match: '^GET /api/query', nth: 1, action: { status: 503 } }] });
      const page = await client.listRestoreSessions({ pageSize: 5 });
      expect(page.items).toHaveLength(5);
      expect(em.log.count(QUERY)).toBe(2);
      expect(em.log.stats().byStatus['503']).toBe(1);
      expect(sleeps).toEqual([5]);
    });

    it('429 with Retry-After: retried after the server-given delay', async () => {
      const { client, sleeps } = make({ format });
      em.faults.set({ rules: [{ match: '^GET /api/query', nth: 1, action: { status: 429, retryAfter: 1 } }] });
      const page = await client.listRestoreSessions({ pageSize: 5 });
      expect(page.items).toHaveLength(5);
      expect(em.log.count(QUERY)).toBe(2);
      expect(sleeps).toEqual([1000]);
    });

    it('malformed body -> UPSTREAM_BAD_RESPONSE naming the document', async () => {
      const { client } = make({ format });
      em.faults.set({ rules: [{ match: '^GET /api/query', action: { malformed: true } }] });
      const err = await failure(client.listRestoreSessions({ pageSize: 5 }));
      expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain(`bad ${format.toUpperCase()} body: QueryResult:`);
      expect(err.message).toMatch(format === 'xml' ? /truncated or malformed|not well-formed/ : /not valid JSON/);
      expect(em.log.count(QUERY)).toBe(1);
    });

    it('a single-entity body that is malformed -> UPSTREAM_BAD_RESPONSE', async () => {
      const { client } = make({ format });
      const s = em.world.restoreSessions[0]!;
      em.faults.set({ rules: [{ match: '^GET /api/restoreSessions/', action: { malformed: true } }] });
      const err = await failure(client.getByHref(`${em.url}/restoreSessions/${s.id}`, 'RestoreSession'));
      expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
      expect(err.message).toContain('RestoreSession');
    });
  });

  it('logon POST answered 503: not retried (one request), a clear retryable HTTP error', async () => {
    const { client, sleeps } = make();
    em.faults.set({ rules: [{ match: '^POST /api/sessionMngr', nth: 1, action: { status: 503, message: 'The service is temporarily overloaded.' } }] });
    const err = await failure(client.listRestoreSessions());
    expect(err.code).toBe('UPSTREAM_HTTP_ERROR');
    expect(err.status).toBe(503);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe('em-1: POST /api/sessionMngr/?v=latest -> HTTP 503: The service is temporarily overloaded.');
    expect(em.log.count(LOGON)).toBe(1);
    expect(em.log.count()).toBe(1);
    expect(sleeps).toEqual([]);
    // Not negatively cached: the next call logs on again and succeeds.
    await client.listRestoreSessions({ pageSize: 1 });
    expect(em.log.count(LOGON)).toBe(2);
  });

  it('logon POST with a connection reset: not retried, UPSTREAM_UNREACHABLE', async () => {
    const { client } = make();
    em.faults.set({ rules: [{ match: '^POST /api/sessionMngr', nth: 1, action: { reset: true } }] });
    const err = await failure(client.listRestoreSessions());
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(em.log.count(LOGON)).toBe(1);
  });

  it('hang -> UPSTREAM_TIMEOUT at the configured total (300 ms), not retried', async () => {
    const { client } = make({ timeouts: { totalMs: 300 } });
    await client.listRestoreSessions({ pageSize: 1 });
    em.log.reset();
    em.faults.set({ rules: [{ match: '^GET /api/query', action: { hang: true } }] });
    const err = (await failure(client.listRestoreSessions({ pageSize: 1 }))) as UpstreamTimeoutError;
    expect(err.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.timeoutMs).toBe(300);
    expect(err.phase).toBe('total');
    expect(err.retryable).toBe(true);
    expect(em.log.count(QUERY)).toBe(1);
  });

  it('connection reset on every GET -> UPSTREAM_UNREACHABLE after 1 + 2 retries', async () => {
    const { client, sleeps, events } = make();
    await client.listRestoreSessions({ pageSize: 1 });
    em.log.reset();
    em.faults.set({ rules: [{ match: '^GET /api/query', action: { reset: true } }] });
    const err = await failure(client.listRestoreSessions({ pageSize: 1 }));
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(err.message).toMatch(/connection reset \(ECONNRESET\)/);
    expect(em.log.count(QUERY)).toBe(3);
    expect(sleeps).toEqual([5, 10]);
    expect(events.filter((e) => e.errorCode === 'UPSTREAM_UNREACHABLE').map((e) => e.willRetry)).toEqual([true, true, false]);
  });

  it('retry limit from the options: 0 retries -> one request', async () => {
    const { client } = make({ retry: { limit: 0 } });
    await client.listRestoreSessions({ pageSize: 1 });
    em.log.reset();
    em.faults.set({ rules: [{ match: '^GET /api/query', nth: 1, action: { status: 502 } }] });
    const err = await failure(client.listRestoreSessions({ pageSize: 1 }));
    expect(err.code).toBe('UPSTREAM_HTTP_ERROR');
    expect(err.status).toBe(502);
    expect(em.log.count(QUERY)).toBe(1);
  });

  it('a paging Next link outside the query service is refused as a bad response', async () => {
    const { client } = make();
    const page = await client.listRestoreSessions({ pageSize: 5 });
    const forged = { ...page, paging: { ...page.paging!, links: [{ rel: 'Next', href: `${em.url}/restoreSessions?page=2` }] } };
    const err = await failure(client.nextPage(forged));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
  });
});

describe('EmClient against a closed port', () => {
  it('-> UPSTREAM_UNREACHABLE (connection refused), the logon POST attempted once', async () => {
    const sims = await startSimulators({ em: 1, vbo: 0, sessionsPerServer: 5 });
    const em = sims.em[0]!;
    for (const s of staticSecrets(em)) secrets.add(s);
    await sims.close();
    const { client, events } = emClient(em, capture, clock, clients);
    const err = await failure(client.listRestoreSessions());
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(err.message).toBe('em-1: POST /api/sessionMngr/?v=latest -> connection refused (ECONNREFUSED)');
    expect(events.map((e) => [e.method, e.errorCode, e.willRetry])).toEqual([['POST', 'UPSTREAM_UNREACHABLE', false]]);
    // GETs without auth are retried: ping tries 1 + 2 times.
    const ping = await failure(client.ping());
    expect(ping.code).toBe('UPSTREAM_UNREACHABLE');
    expect(events.filter((e) => e.method === 'GET')).toHaveLength(3);
    await client.close();
  });
});

describe('EmClient over TLS (self-signed simulator certificate)', () => {
  let sims: Simulators;
  let em: SimulatedEm;
  beforeAll(async () => {
    sims = await startSimulators({ em: 1, vbo: 0, sessionsPerServer: 10, tls: true, clock });
    em = sims.em[0]!;
    for (const s of staticSecrets(em)) secrets.add(s);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    await sims.close();
  });

  it('is rejected by default with UPSTREAM_TLS_ERROR, not retryable, no request reaching the API', async () => {
    expect(em.url).toMatch(/^https:/);
    const { client } = emClient(em, capture, clock, clients);
    const err = await failure(client.listRestoreSessions());
    expect(err.code).toBe('UPSTREAM_TLS_ERROR');
    expect(err.retryable).toBe(false);
    expect(em.log.count()).toBe(0);
  });

  it('is accepted with the CA configured', async () => {
    const { client } = emClient(em, capture, clock, clients, { tls: { ca: sims.ca! } });
    const page = await client.listRestoreSessions({ pageSize: 3 });
    expect(page.items).toHaveLength(3);
  });

  it('is accepted with insecure: true, and the warning is logged once, naming the server', async () => {
    const own = captureLogs();
    const before = own.lines.length;
    const { client } = emClient(em, own, clock, clients, { tls: { insecure: true } });
    await client.listRestoreSessions({ pageSize: 3 });
    await client.listBackupServers();
    const warnings = own.lines.slice(before).filter((l) => l.includes('TLS certificate verification is DISABLED'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, server: 'em-1' });
    expect(leaks(own.lines, staticSecrets(em))).toEqual([]);
  });
});
