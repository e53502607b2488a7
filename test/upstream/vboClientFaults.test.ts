import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { startSimulators, type SimulatedVbo, type Simulators } from '../../src/sim/startSimulators.js';
import { UpstreamBadResponseError, UpstreamHttpError, UpstreamTimeoutError } from '../../src/upstream/errors.js';
import type { VboClientOptions } from '../../src/upstream/vbo/VboClient.js';
import { PASSWORD, START, USER, captureLogger, closeClients, collect, makeClient, rejectionOf, startDirectVbo } from './vboClientHarness.js';

const clock = new ManualClock(START);
let sims: Simulators;

beforeAll(async () => {
  sims = await startSimulators({ em: 0, vbo: ['v8', 'v5'], sessionsPerServer: 60, clock });
});
afterAll(async () => {
  await closeClients();
  await sims.close();
});
afterEach(async () => {
  await closeClients();
  for (const s of sims.vbo) {
    s.faults.clear();
    s.log.reset();
  }
});

function clientFor(s: SimulatedVbo, extra: Partial<VboClientOptions> = {}) {
  return makeClient({ url: s.url, apiVersion: s.apiVersion, username: s.username, password: s.password, now: () => clock.now(), ...extra });
}

describe('VboClient under faults', () => {
  it('503 then 200 on a GET: two requests, success', async () => {
    const s = sims.vbo[0]!;
    const { client, sleeps } = clientFor(s);
    s.faults.set({ rules: [{ match: '^GET /v8/Organizations', action: { status: 503 }, times: 1 }] });
    const orgs = await client.listOrganizations();
    expect(orgs).toHaveLength(s.world.organizations.length);
    expect(s.log.count('GET /v8/Organizations')).toBe(2);
    expect(sleeps).toHaveLength(1);
  });

  it('a hung response is UPSTREAM_TIMEOUT within the configured timeouts, not retried', async () => {
    const s = sims.vbo[0]!;
    const { client } = clientFor(s, { timeouts: { responseMs: 200, totalMs: 1000 } });
    await client.listOrganizations();
    s.faults.set({ rules: [{ match: '^GET /v8/ServiceInstance', action: { hang: true } }] });
    const err = await rejectionOf(client.getServiceInstance());
    expect(err).toBeInstanceOf(UpstreamTimeoutError);
    expect(err).toMatchObject({ code: 'UPSTREAM_TIMEOUT', phase: 'response', timeoutMs: 200, retryable: true });
    expect(s.log.count('GET /v8/ServiceInstance')).toBe(1);
  });

  it('malformed JSON is UPSTREAM_BAD_RESPONSE naming the document', async () => {
    const s = sims.vbo[0]!;
    const { client } = clientFor(s);
    s.faults.set({ rules: [{ match: '^GET /v8/RestoreSessions', action: { malformed: true }, times: 1 }] });
    const err = await rejectionOf(client.listRestoreSessions({ limit: 10 }));
    expect(err).toBeInstanceOf(UpstreamBadResponseError);
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.message).toMatch(/^m365-test: GET \/v8\/RestoreSessions\?offset=0&limit=10 -> bad response: RestoreSessions: body is not valid JSON \(/);
    expect(err.message).not.toContain('garbage');
  });

  it.each([
    ['v8', 'ResourceNotFound'],
    ['v5', undefined],
  ] as const)('an unknown id on %s is UPSTREAM_HTTP_ERROR 404 with the server message', async (v, upstreamCode) => {
    const s = sims.vbo.find((x) => x.apiVersion === v)!;
    const { client } = clientFor(s);
    const id = '00000000-0000-4000-8000-000000000000';
    const err = await rejectionOf(client.getRestoreSession(id));
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err).toMatchObject({
      code: 'UPSTREAM_HTTP_ERROR',
      status: 404,
      retryable: false,
      upstreamMessage: `Restore session with ID '${id}' was not found.`,
    });
    expect(err.upstreamCode).toBe(upstreamCode);
    expect(s.log.count(`GET /${v}/RestoreSessions/{id}`)).toBe(1);
  });
});

describe('VboClient tolerates real-server quirks', () => {
  let quirky: Simulators;
  beforeAll(async () => {
    quirky = await startSimulators({
      em: 0,
      vbo: ['v8', 'v7', 'v6'],
      sessionsPerServer: 120,
      clock,
      world: { quirks: { nullRequiredFields: true, emptyTeamsNames: true } },
    });
  });
  afterAll(() => quirky.close());

  it.each([['v8'], ['v7'], ['v6']] as const)('%s: null "required" fields and empty Teams names decode', async (v) => {
    const s = quirky.vbo.find((x) => x.apiVersion === v)!;
    const { client } = clientFor(s, { pageSize: 50 });
    const sessions = await collect(client.iterateRestoreSessions());
    expect(sessions).toHaveLength(s.world.restoreSessions.length);
    // Nulls become absent properties, never null; empty names stay empty.
    expect(sessions.some((x) => !('name' in x) && !('details' in x))).toBe(true);
    expect(sessions.some((x) => x.type === 'Vet' && x.name === '')).toBe(true);
    expect(JSON.stringify(sessions)).not.toContain('null');
    const orgs = await client.listOrganizations();
    expect(orgs).toHaveLength(s.world.organizations.length);
  });
});

describe('VboClient over TLS', () => {
  let secure: Simulators;
  beforeAll(async () => {
    secure = await startSimulators({ em: 0, vbo: ['v8'], sessionsPerServer: 10, clock, tls: true });
  });
  afterAll(() => secure.close());

  it('rejects the self-signed certificate by default with UPSTREAM_TLS_ERROR', async () => {
    const s = secure.vbo[0]!;
    const { client } = clientFor(s);
    const err = await rejectionOf(client.listOrganizations());
    expect(err).toMatchObject({ code: 'UPSTREAM_TLS_ERROR', retryable: false });
    expect(err.message).toMatch(/^m365-test: POST \/v8\/token -> TLS failure/);
    expect(s.log.count()).toBe(0);
  });

  it('accepts it with the CA configured', async () => {
    const s = secure.vbo[0]!;
    const { client } = clientFor(s, { tls: { ca: secure.ca! } });
    expect(await client.listOrganizations()).toHaveLength(s.world.organizations.length);
    expect((await client.getServiceInstance()).version).toBe(s.world.version);
  });
});

describe('VboClient secrets', () => {
  it('no log line (trace level) and no error ever holds the password, an access token or a refresh token', async () => {
    const { logger, lines } = captureLogger();
    const vbo = await startDirectVbo('v8', { refreshTokenLifetimeSec: 30 * 60 });
    const errors: unknown[] = [];
    try {
      const { client } = makeClient({ url: vbo.url, apiVersion: 'v8', username: USER, password: PASSWORD, now: () => vbo.clock.now(), logger, pageSize: 15 });
      await collect(client.iterateRestoreSessions());
      vbo.clock.advance(55 * 60_000); // refresh fails (refresh token dead) -> password grant
      await client.listOrganizations();
      vbo.clock.advance(2 * 60_000);
      vbo.sim.expireAll(); // 401 -> renewal
      await Promise.all(vbo.world.restoreSessions.slice(0, 5).map((x) => client.getRestoreSession(x.id)));
      vbo.server.faults.set({
        rules: [
          { match: '^GET /v8/Organizations', action: { status: 503 }, times: 3 },
          { match: '^GET /v8/RestoreSessions\\?', action: { malformed: true }, times: 1 },
          { match: '^GET /v8/ServiceInstance', action: { status: 401 } },
        ],
      });
      errors.push(await rejectionOf(client.listOrganizations()));
      errors.push(await rejectionOf(client.listRestoreSessions()));
      errors.push(await rejectionOf(client.getServiceInstance()));
      errors.push(await rejectionOf(client.getRestoreSession('nope')));
      vbo.server.faults.clear();
      // A long run of token rotations (20 refreshes = 40 new secrets), then an upstream message that
      // echoes the password and the live token: both are still scrubbed.
      for (let i = 0; i < 20; i++) {
        vbo.clock.advance(55 * 60_000);
        await client.getServiceInstance();
      }
      const live = vbo.traffic.issued.at(-2)!;
      vbo.server.faults.set({ rules: [{ match: '^GET /v8/Organizations', action: { status: 500, message: `echo ${PASSWORD} ${live}` }, times: 1 }] });
      errors.push(await rejectionOf(client.listOrganizations()));
      vbo.server.faults.clear();
      await client.close();

      const bad = makeClient({ url: vbo.url, apiVersion: 'v8', username: USER, password: `${PASSWORD}-typo`, logger }).client;
      errors.push(await rejectionOf(bad.listOrganizations()));
    } finally {
      await vbo.close();
    }

    expect(vbo.traffic.grants).toEqual(expect.arrayContaining(['password', 'refresh_token']));
    expect(errors).toHaveLength(6);
    expect((errors[4] as Error).message).toBe('m365-test: GET /v8/Organizations?offset=0&limit=15 -> HTTP 500: echo [REDACTED] [REDACTED]');
    const secrets = [PASSWORD, `${PASSWORD}-typo`, ...vbo.traffic.issued];
    expect(vbo.traffic.issued.length).toBeGreaterThanOrEqual(6);
    expect(lines.length).toBeGreaterThan(20);
    const texts = [
      ...lines,
      ...errors.map((e) => {
        const err = e as Error;
        return `${err.message} ${String(err.stack)} ${JSON.stringify(err)} ${String((err.cause as Error | undefined)?.message)}`;
      }),
    ];
    for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
