import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { startSimulators, type SimulatedEm, type Simulators } from '../../src/sim/startSimulators.js';
import type { EmClient } from '../../src/upstream/em/EmClient.js';
import type { UpstreamError } from '../../src/upstream/errors.js';
import { basicOf, captureLogs, emClient, errorTexts, leaks, rejection, staticSecrets } from './emClientHarness.js';

const LOGON = 'POST /api/sessionMngr';
const QUERY = 'GET /api/query?type=RestoreSession';
const TIMEOUT_MS = 60_000;

const capture = captureLogs();
const errors: UpstreamError[] = [];
const secrets = new Set<string>();
let sims: Simulators;
let em: SimulatedEm;
let clock: ManualClock;
let clients: EmClient[] = [];

beforeEach(async () => {
  clock = new ManualClock('2026-11-01T00:00:00Z');
  sims = await startSimulators({ em: 1, vbo: 0, sessionsPerServer: 120, seed: 11, clock, emSessionTimeoutMs: TIMEOUT_MS });
  em = sims.em[0]!;
  for (const s of staticSecrets(em)) secrets.add(s);
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  await sims.close();
});

afterAll(() => {
  // Secrets test over the whole file: no password or Basic value in any log line or error.
  expect(capture.lines.length).toBeGreaterThan(0);
  expect(leaks([...capture.lines, ...errors.flatMap(errorTexts)], [...secrets])).toEqual([]);
});

function make(extra: Parameters<typeof emClient>[4] = {}) {
  return emClient(em, capture, clock, clients, extra);
}

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await rejection(p);
  errors.push(err);
  return err;
}

describe('EmClient logon', () => {
  it('logs on once for 50 concurrent first calls and reuses the token', async () => {
    const { client } = make();
    const results = await Promise.all(Array.from({ length: 50 }, () => client.listRestoreSessions({ pageSize: 5 })));
    expect(results.every((r) => r.items.length === 5)).toBe(true);
    expect(em.log.count(LOGON)).toBe(1);
    expect(em.log.stats().logons).toBe(1);
    expect(em.log.count(QUERY)).toBe(50);
    await client.listBackupServers();
    expect(em.log.count(LOGON)).toBe(1);
  });

  it('re-logs on exactly once when the session idles out mid-run, and every call succeeds', async () => {
    const { client } = make();
    await client.listRestoreSessions({ pageSize: 1 });
    clock.advance(TIMEOUT_MS - 1);
    await client.listRestoreSessions({ pageSize: 1 });
    expect(em.log.count(LOGON)).toBe(1);
    clock.advance(TIMEOUT_MS + 1);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => client.listRestoreSessions({ pageSize: 2, page: (i % 5) + 1 })));
    expect(results.every((r) => r.items.length === 2)).toBe(true);
    expect(em.log.count(LOGON)).toBe(2);
    // 31 first attempts + the replays of those that got 401 with the old token (all 30 were in flight).
    expect(em.log.stats().byStatus['401']).toBe(30);
    expect(em.log.count(QUERY)).toBe(1 + 1 + 30 + 30);
    expect(em.sim.activeSessions()).toBe(1);
  });

  it('re-logs on exactly once after expireAll(), calls before and after included', async () => {
    const { client } = make();
    await client.getByUids('RestoreSession', [em.world.restoreSessions[0]!.id]);
    em.expireAll();
    const results = await Promise.all(Array.from({ length: 20 }, () => client.listBackupServers()));
    expect(results.every((r) => r.length === em.world.backupServers.length)).toBe(true);
    expect(em.log.stats().logons).toBe(2);
    em.expireAll();
    await client.listRestoreSessions({ pageSize: 1 });
    expect(em.log.stats().logons).toBe(3);
  });

  it('wrong password: UPSTREAM_AUTH_FAILED with the server message, one logon, then a negative cache on the injected clock', async () => {
    const { client } = make({ password: 'wrong-password-123', authFailureCacheMs: 30_000 });
    secrets.add('wrong-password-123');
    for (const s of Object.values(basicOf(em.username, 'wrong-password-123'))) secrets.add(s);
    const first = await Promise.all(Array.from({ length: 20 }, () => failure(client.listRestoreSessions())));
    expect(new Set(first).size).toBe(1);
    const err = first[0]!;
    expect(err.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(err.retryable).toBe(false);
    expect(err.status).toBe(401);
    expect(err.upstreamMessage).toBe('Login failed: the user name or password is incorrect.');
    expect(err.message).toBe('em-1: POST /api/sessionMngr/?v=latest -> HTTP 401: Login failed: the user name or password is incorrect.');
    expect(em.log.count(LOGON)).toBe(1);

    // Within the cache window: no request at all.
    clock.advance(29_999);
    const cached = await failure(client.getByUids('RestoreSession', [em.world.restoreSessions[0]!.id]));
    expect(cached.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(em.log.count()).toBe(1);

    // After it: exactly one new attempt for many concurrent calls.
    clock.advance(1);
    await Promise.all(Array.from({ length: 10 }, () => failure(client.listBackupServers())));
    expect(em.log.count(LOGON)).toBe(2);
    expect(em.log.count()).toBe(2);
  });

  it('logs off on close: one DELETE /api/logonSessions/{id}, no active session left, idempotent', async () => {
    const { client } = make();
    await client.listRestoreSessions({ pageSize: 1 });
    expect(em.sim.activeSessions()).toBe(1);
    await client.close();
    await client.close();
    expect(em.log.count('DELETE /api/logonSessions/{id}')).toBe(1);
    expect(em.log.stats().logoffs).toBe(1);
    expect(em.sim.activeSessions()).toBe(0);
    const err = await failure(client.listRestoreSessions());
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(err.retryable).toBe(false);
  });

  it('close without any call sends nothing', async () => {
    const { client } = make();
    await client.close();
    expect(em.log.count()).toBe(0);
  });

  it('replays once and fails with UPSTREAM_AUTH_FAILED when a fresh session is refused too', async () => {
    const { client } = make();
    await client.listRestoreSessions({ pageSize: 1 });
    em.faults.set({ rules: [{ match: '^GET /api/query', times: 2, action: { status: 401, message: 'Session is not valid.' } }] });
    const err = await failure(client.listRestoreSessions({ pageSize: 1 }));
    expect(err.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(err.status).toBe(401);
    expect(err.upstreamMessage).toBe('Session is not valid. (session refused again right after a fresh logon)');
    expect(em.log.count(LOGON)).toBe(2);
    expect(em.log.count(QUERY)).toBe(3);
  });

  it('getLogonInfo logs on and reads the supported versions; ping needs no logon', async () => {
    const { client } = make();
    expect(await client.ping()).toEqual({ supportedVersions: ['v1_5', 'v1_6', 'v1_7'], latestVersion: 'v1_7' });
    expect(em.log.count(LOGON)).toBe(0);
    expect(await client.getLogonInfo()).toEqual({
      server: 'em-1',
      userName: em.username,
      supportedVersions: ['v1_5', 'v1_6', 'v1_7'],
      latestVersion: 'v1_7',
    });
    expect(em.log.count(LOGON)).toBe(1);
  });

  it('never leaks the password, the Basic value, session ids or tokens into logs or errors', async () => {
    const { client } = make();
    await client.listRestoreSessions({ pageSize: 3 });
    em.expireAll();
    await client.listRestoreSessions({ pageSize: 3 });
    // The sessions the client holds, read through the API with a logon of our own (the simulator's
    // token is base64 of the SessionId, docs/veeam-wire.md Part 1 section 2).
    const { header } = basicOf(em.username, em.password);
    const logon = await fetch(`${em.url}/sessionMngr/?v=latest`, { method: 'POST', headers: { authorization: header, accept: 'application/json' } });
    const ownToken = logon.headers.get('x-restsvcsessionid')!;
    await logon.text();
    const list = await fetch(`${em.url}/logonSessions`, { headers: { 'x-restsvcsessionid': ownToken, accept: 'application/json' } });
    const body = JSON.parse((await list.text()).replace(/^\uFEFF/, '')) as { LogonSessions: { SessionId: string }[] };
    const ids = body.LogonSessions.map((s) => s.SessionId);
    expect(ids.length).toBe(2);
    const sessionSecrets = ids.flatMap((id) => [id, Buffer.from(id).toString('base64')]);
    // Errors built after the logon know the token: a 404 and a 401-replay failure.
    errors.push(await failure(client.getByHref(`${em.url}/restoreSessions/00000000-0000-0000-0000-000000000000`, 'RestoreSession')));
    em.faults.set({ rules: [{ match: '^GET /api/query', times: 2, action: { status: 401 } }] });
    errors.push(await failure(client.listRestoreSessions()));
    await client.close();
    const texts = [...capture.lines, ...errors.flatMap(errorTexts)];
    expect(capture.lines.some((l) => l.includes('logonSessions/[REDACTED]'))).toBe(true);
    expect(leaks(texts, [...sessionSecrets, ...staticSecrets(em)])).toEqual([]);
  });
});
