import { afterEach, describe, expect, it } from '@jest/globals';
import { UpstreamAuthError, UpstreamError } from '../../src/upstream/errors.js';
import type { VboClientOptions } from '../../src/upstream/vbo/VboClient.js';
import type { VboApiVersion } from '../../src/upstream/vbo/types.js';
import { PASSWORD, USER, closeClients, makeClient, rejectionOf, startDirectVbo, type DirectVbo } from './vboClientHarness.js';

const MIN = 60_000;
let vbo: DirectVbo | undefined;

afterEach(async () => {
  await closeClients();
  await vbo?.close();
  vbo = undefined;
});

function clientOf(v: DirectVbo, version: VboApiVersion, extra: Partial<VboClientOptions> = {}) {
  return makeClient({ url: v.url, apiVersion: version, username: USER, password: PASSWORD, now: () => v.clock.now(), ...extra });
}

describe('VboClient token lifecycle', () => {
  it('refreshes proactively inside the refresh window (10% of 60 min = 6 min), by the injected clock', async () => {
    vbo = await startDirectVbo('v8');
    const { client } = clientOf(vbo, 'v8');
    await client.listOrganizations();
    expect(vbo.traffic.grants).toEqual(['password']);

    vbo.clock.advance(60 * MIN - 6 * MIN - 1000); // 6 min + 1 s left: still outside the window
    await client.listOrganizations();
    expect(vbo.traffic.grants).toEqual(['password']);

    vbo.clock.advance(2000); // 5 min 59 s left
    await client.listOrganizations();
    expect(vbo.traffic.grants).toEqual(['password', 'refresh_token']);
    await client.listOrganizations();
    expect(vbo.traffic.grants).toEqual(['password', 'refresh_token']);

    // Long idle: the access token is dead, the refresh token (14 days) is not: one refresh grant, no 401.
    vbo.clock.advance(5 * 60 * MIN);
    await client.listOrganizations();
    expect(vbo.traffic.grants).toEqual(['password', 'refresh_token', 'refresh_token']);
    expect(vbo.log.stats().byStatus['401']).toBeUndefined();
    expect(vbo.log.stats().tokens).toBe(3);
    expect(client.tokenStats()).toEqual({ passwordGrants: 1, refreshGrants: 2, refreshFallbacks: 0, throttled: 0 });
  });

  it('falls back to a password grant when the refresh grant fails', async () => {
    // Refresh tokens that die before the access token: the proactive refresh gets 400 invalid_grant.
    vbo = await startDirectVbo('v6', { refreshTokenLifetimeSec: 30 * 60 });
    const { client } = clientOf(vbo, 'v6');
    await client.listOrganizations();
    vbo.clock.advance(55 * MIN);
    const orgs = await client.listOrganizations();
    expect(orgs).toHaveLength(vbo.world.organizations.length);
    expect(vbo.traffic.grants).toEqual(['password', 'refresh_token', 'password']);
    expect(vbo.log.count('POST /v6/token')).toBe(3);
    expect(vbo.log.stats().tokens).toBe(2);
    expect(client.tokenStats()).toMatchObject({ passwordGrants: 2, refreshGrants: 1, refreshFallbacks: 1 });
  });

  it('a 401 for 20 concurrent calls holding the same token causes exactly one re-authentication', async () => {
    vbo = await startDirectVbo('v8');
    const { client } = clientOf(vbo, 'v8');
    const ids = vbo.world.restoreSessions.slice(0, 20).map((s) => s.id);
    await client.getRestoreSession(ids[0]!);
    vbo.sim.expireAll();
    vbo.log.reset();
    const sessions = await Promise.all(ids.map((id) => client.getRestoreSession(id)));
    expect(sessions.map((s) => s.id)).toEqual(ids);
    expect(vbo.log.count('POST /v8/token')).toBe(1);
    expect(vbo.traffic.grants).toEqual(['password', 'password']);
    expect(vbo.log.stats().byStatus['401']).toBe(20);
    expect(vbo.log.count('GET /v8/RestoreSessions/{id}')).toBe(40);
  });

  it('a token rejected again right after renewal is UPSTREAM_AUTH_FAILED (one renewal, one replay)', async () => {
    vbo = await startDirectVbo('v8');
    const { client } = clientOf(vbo, 'v8');
    vbo.server.faults.set({ rules: [{ match: '^GET /v8/Organizations', action: { status: 401 }, times: 2 }] });
    const err = await rejectionOf(client.listOrganizations());
    expect(err).toBeInstanceOf(UpstreamAuthError);
    expect(err.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(err.status).toBe(401);
    expect(vbo.log.count('POST /v8/token')).toBe(2);
    expect(vbo.log.count('GET /v8/Organizations')).toBe(2);
  });

  it('a bad password is UPSTREAM_AUTH_FAILED with the server text after exactly one token request, and is not hammered', async () => {
    vbo = await startDirectVbo('v8');
    const { client } = clientOf(vbo, 'v8', { password: 'Wr0ng-Passw0rd!' });
    const errors = await Promise.all(Array.from({ length: 10 }, () => rejectionOf(client.listOrganizations())));
    const err = errors[0]!;
    expect(err).toBeInstanceOf(UpstreamAuthError);
    expect(err).toMatchObject({
      code: 'UPSTREAM_AUTH_FAILED',
      status: 400,
      upstreamMessage: 'The user name or password is incorrect.',
      upstreamCode: 'invalid_grant',
      retryable: false,
    });
    expect(err.message).toBe('m365-test: POST /v8/token -> HTTP 400: The user name or password is incorrect.');
    expect(errors.every((e) => e === err)).toBe(true);
    expect(vbo.log.count('POST /v8/token')).toBe(1);
    // Within the hold-down (30 s) the same error comes back without a request; after it, one more try.
    await rejectionOf(client.getOrganization(vbo.world.organizations[0]!.id));
    expect(vbo.log.count('POST /v8/token')).toBe(1);
    vbo.clock.advance(31_000);
    await rejectionOf(client.listOrganizations());
    expect(vbo.log.count('POST /v8/token')).toBe(2);
    expect(vbo.log.count()).toBe(2);
    for (const e of errors) expect(JSON.stringify(e) + e.message + String(e.stack)).not.toContain('Wr0ng-Passw0rd!');
  });

  it('a 429 on /token is waited out per Retry-After, then succeeds', async () => {
    vbo = await startDirectVbo('v8');
    const { client, sleeps } = clientOf(vbo, 'v8');
    vbo.server.faults.set({ rules: [{ match: '^POST /v8/token', action: { status: 429, retryAfter: 2 }, times: 2 }] });
    await client.listOrganizations();
    expect(sleeps).toEqual([2000, 2000]);
    expect(vbo.log.count('POST /v8/token')).toBe(3);
    expect(vbo.log.stats().tokens).toBe(1);
    expect(client.tokenStats().throttled).toBe(2);
  });

  it('a 429 that does not go away ends as a retryable UPSTREAM_HTTP_ERROR 429 after a bounded number of tries', async () => {
    vbo = await startDirectVbo('v8');
    const { client, sleeps } = clientOf(vbo, 'v8');
    vbo.server.faults.set({ rules: [{ match: '^POST /v8/token', action: { status: 429, retryAfter: 1 } }] });
    const err = await rejectionOf(client.listOrganizations());
    expect(err).toMatchObject({ code: 'UPSTREAM_HTTP_ERROR', status: 429, retryable: true, retryAfterMs: 1000 });
    expect(sleeps).toEqual([1000, 1000, 1000]);
    expect(vbo.log.count('POST /v8/token')).toBe(4);
  });

  it("honours the simulator's own token throttle: a Retry-After beyond the cap fails at once, within it is waited out", async () => {
    vbo = await startDirectVbo('v7');
    vbo.sim.setTokenThrottle({ limit: 1, windowMs: 30_000 });
    const fast = clientOf(vbo, 'v7');
    await fast.client.listOrganizations();
    vbo.sim.expireAll();
    // The window has 30 s left: over the default 10 s cap, so no waiting and no second /token.
    const err = await rejectionOf(fast.client.listOrganizations());
    expect(err).toMatchObject({ code: 'UPSTREAM_HTTP_ERROR', status: 429, retryAfterMs: 30_000 });
    expect(fast.sleeps).toEqual([]);
    expect(vbo.log.count('POST /v7/token')).toBe(2);

    // A client allowed to wait 60 s; its sleep moves the shared clock, as time would.
    const clock = vbo.clock;
    const patient = clientOf(vbo, 'v7', {
      token: { throttleMaxDelayMs: 60_000 },
      sleep: async (ms) => {
        clock.advance(ms);
      },
    });
    await patient.client.listOrganizations();
    expect(vbo.traffic.grants.filter((g) => g === 'password')).toHaveLength(4);
  });

  it('never retries a token POST whose connection was reset', async () => {
    vbo = await startDirectVbo('v8');
    const { client } = clientOf(vbo, 'v8');
    vbo.server.faults.set({ rules: [{ match: '^POST /v8/token', action: { reset: true }, times: 1 }] });
    const err = await rejectionOf(client.listOrganizations());
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(vbo.log.count('POST /v8/token')).toBe(1);
    await client.listOrganizations();
    expect(vbo.log.count('POST /v8/token')).toBe(2);
  });

  describe.each([['iso'], ['rfc1123']] as const)('.issued/.expires as %s without expires_in', (format) => {
    it('reads the lifetime from .expires - .issued and refreshes at the right time', async () => {
      const seen: string[] = [];
      vbo = await startDirectVbo('v8', { tokenDateFormat: format, tokenLifetimeSec: 20 * 60 }, (body) => {
        seen.push(String(body['.expires']));
        const { expires_in: _drop, ...rest } = body;
        return rest;
      });
      const { client } = clientOf(vbo, 'v8');
      await client.listOrganizations();
      expect(seen[0]).toMatch(format === 'iso' ? /^2026-11-01T00:20:00Z$/ : /^Sun, 01 Nov 2026 00:20:00 GMT$/);
      // 20 min lifetime: window max(10% = 2 min, 60 s) = 2 min.
      vbo.clock.advance(18 * MIN - 1000);
      await client.listOrganizations();
      expect(vbo.traffic.grants).toEqual(['password']);
      vbo.clock.advance(2000);
      await client.listOrganizations();
      expect(vbo.traffic.grants).toEqual(['password', 'refresh_token']);
      expect((await client.ping()).tokenExpiresAt).toBe(new Date(vbo.clock.now() + 20 * MIN).toISOString());
    });
  });

  it('close() logs out on v7+ and the server forgets the token', async () => {
    vbo = await startDirectVbo('v7');
    const { client } = clientOf(vbo, 'v7');
    await client.listOrganizations();
    expect(vbo.sim.activeTokens()).toBe(1);
    await client.close();
    expect(vbo.log.count('POST /v7/token/logout')).toBe(1);
    expect(vbo.log.stats().byStatus['204']).toBe(1);
    expect(vbo.sim.activeTokens()).toBe(0);
  });
});
