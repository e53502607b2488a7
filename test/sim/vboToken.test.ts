import { afterEach, describe, expect, it } from '@jest/globals';
import type { VboApiVersion } from '../../src/sim/vbo/VboApiVersion.js';
import type { VboSimulatorOptions } from '../../src/sim/vbo/VboSimulator.js';
import { generateVboWorld } from '../../src/sim/world/generateWorld.js';
import { PASSWORD, USER, startVbo } from './vboHarness.js';
import type { VboHarness } from './vboHarness.js';

type Tokens = { access_token: string; refresh_token: string; token_type: string; expires_in: number; userName: string; '.issued': string; '.expires': string };

const world = () => generateVboWorld('tokens', { seed: 3, sessionsPerServer: 10 });

describe('VB365 token endpoint', () => {
  let h: VboHarness | undefined;
  const start = async (version: VboApiVersion, extra: Partial<Omit<VboSimulatorOptions, 'world' | 'log' | 'apiVersion'>> = {}): Promise<VboHarness> => {
    h = await startVbo(version, world(), extra);
    return h;
  };
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('password grant with a form body issues an opaque bearer token that opens the API', async () => {
    const s = await start('v2');
    const res = await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD });
    expect(res.status).toBe(200);
    const t = (await res.json()) as Tokens;
    expect(t.token_type).toBe('bearer');
    expect(t.expires_in).toBe(3600);
    expect(t.userName).toBe(USER);
    expect(t.access_token).not.toBe(t.refresh_token);
    expect(t.access_token.split('.')).toHaveLength(1); // not a JWT
    expect((await s.get('RestoreSessions', t.access_token)).status).toBe(200);
    expect(s.log.stats().tokens).toBe(1);
    expect(s.sim.activeTokens()).toBe(1);
  });

  it('tolerates a spurious empty refresh_token on a password grant and a lower-case bearer scheme', async () => {
    const s = await start('v3');
    const res = await s.postToken(`grant_type=password&username=${encodeURIComponent(USER)}&password=${PASSWORD}&refresh_token=`);
    expect(res.status).toBe(200);
    const t = (await res.json()) as Tokens;
    const r = await fetch(`${s.base}/v3/RestoreSessions`, { headers: { authorization: `bearer ${t.access_token}` } });
    expect(r.status).toBe(200);
  });

  it('accepts a JSON body from v6, not before (the form parser finds no grant_type)', async () => {
    const body = JSON.stringify({ grant_type: 'password', username: USER, password: PASSWORD });
    const v6 = await start('v6');
    const ok = await v6.postToken(body, 'application/json');
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Tokens).userName).toBe(USER);
    await v6.close();
    const v5 = await start('v5');
    const bad = await v5.postToken(body, 'application/json');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'unsupported_grant_type' });
  });

  it('bad credentials -> 400 invalid_grant; unknown grant -> 400 unsupported_grant_type', async () => {
    const s = await start('v6');
    const bad = await s.postToken({ grant_type: 'password', username: USER, password: 'wrong' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_grant', error_description: 'The user name or password is incorrect.' });
    const nobody = await s.postToken({ grant_type: 'password', username: 'someone', password: PASSWORD });
    expect(nobody.status).toBe(400);
    const grant = await s.postToken({ grant_type: 'client_credentials' });
    expect(grant.status).toBe(400);
    expect(((await grant.json()) as { error: string }).error).toBe('unsupported_grant_type');
    expect(s.log.stats().tokens).toBe(0);
  });

  it('refresh grant returns a new pair and kills the old refresh token', async () => {
    const s = await start('v4');
    const first = (await (await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).json()) as Tokens;
    const res = await s.postToken({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(res.status).toBe(200);
    const second = (await res.json()) as Tokens;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await s.get('Organizations', second.access_token)).status).toBe(200);
    const again = await s.postToken({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
    expect((await s.postToken({ grant_type: 'refresh_token', refresh_token: 'nonsense' })).status).toBe(400);
    expect((await s.postToken({ grant_type: 'refresh_token', refresh_token: second.refresh_token })).status).toBe(200);
    expect(s.log.stats().tokens).toBe(3);
  });

  it('access tokens expire by the injected clock -> 401 with the denial message', async () => {
    const s = await start('v8', { tokenLifetimeSec: 600 });
    const token = await s.login();
    s.clock.advance(599_999);
    expect((await s.get('RestoreSessions', token)).status).toBe(200);
    s.clock.advance(1);
    const res = await s.get('RestoreSessions', token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toEqual({ message: 'Authorization has been denied for this request.', errorCode: null, stackTrace: null });
    expect(s.sim.activeTokens()).toBe(0);
  });

  it('.issued/.expires follow the clock, RFC 1123 by default and ISO on request', async () => {
    const rfc = await start('v7', { tokenLifetimeSec: 90 });
    rfc.clock.set(Date.parse('2024-11-16T08:19:08Z'));
    const a = (await (await rfc.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).json()) as Tokens;
    expect(a['.issued']).toBe('Sat, 16 Nov 2024 08:19:08 GMT');
    expect(a['.expires']).toBe('Sat, 16 Nov 2024 08:20:38 GMT');
    expect(a.expires_in).toBe(90);
    await rfc.close();
    const iso = await start('v7', { tokenDateFormat: 'iso' });
    const b = (await (await iso.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).json()) as Tokens;
    expect(b['.issued']).toBe('2026-11-01T00:00:00Z');
    expect(b['.expires']).toBe('2026-11-01T01:00:00Z');
  });

  it('refresh tokens expire after their own lifetime', async () => {
    const s = await start('v6', { tokenLifetimeSec: 60, refreshTokenLifetimeSec: 120 });
    const t = (await (await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).json()) as Tokens;
    s.clock.advance(120_000);
    expect((await s.postToken({ grant_type: 'refresh_token', refresh_token: t.refresh_token })).status).toBe(400);
  });

  it('expireAll (also POST /_sim/expire) kills every access and refresh token', async () => {
    const s = await start('v5');
    const t = (await (await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).json()) as Tokens;
    const other = await s.login();
    expect(s.sim.activeTokens()).toBe(2);
    s.sim.expireAll();
    expect((await s.get('RestoreSessions', t.access_token)).status).toBe(401);
    expect((await s.postToken({ grant_type: 'refresh_token', refresh_token: t.refresh_token })).status).toBe(400);
    const fresh = await s.login();
    expect((await s.get('RestoreSessions', fresh)).status).toBe(200);
    expect((await fetch(`${s.base}/_sim/expire`, { method: 'POST' })).status).toBe(200);
    expect((await s.get('RestoreSessions', fresh)).status).toBe(401);
    expect((await s.get('RestoreSessions', other)).status).toBe(401);
  });

  it('throttles /token with 429 + Retry-After from v6, by the clock', async () => {
    const s = await start('v6', { tokenThrottle: { limit: 2, windowMs: 60_000 } });
    await s.login();
    s.clock.advance(10_000);
    await s.login();
    const res = await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('50');
    expect(((await res.json()) as { message: string }).message).toMatch(/^Quota Exceeded/);
    s.clock.advance(50_000);
    expect((await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).status).toBe(200);
    s.sim.setTokenThrottle(undefined);
    for (let i = 0; i < 4; i++) expect((await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).status).toBe(200);
  });

  it('does not throttle before v6', async () => {
    const s = await start('v5', { tokenThrottle: { limit: 1, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).status).toBe(200);
  });

  it('v7+ logout -> 204 and the token and its refresh token die; v6 has no logout', async () => {
    const s = await start('v7');
    const t = (await (await s.postToken({ grant_type: 'password', username: USER, password: PASSWORD })).json()) as Tokens;
    const res = await fetch(`${s.base}/v7/token/logout`, { method: 'POST', headers: { authorization: `Bearer ${t.access_token}` } });
    expect(res.status).toBe(204);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    expect((await s.get('RestoreSessions', t.access_token)).status).toBe(401);
    expect((await s.postToken({ grant_type: 'refresh_token', refresh_token: t.refresh_token })).status).toBe(400);
    expect((await fetch(`${s.base}/v7/token/logout`, { method: 'POST' })).status).toBe(401);
    await s.close();
    const v6 = await start('v6');
    const token = await v6.login();
    expect((await fetch(`${v6.base}/v6/token/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it('every API route needs a bearer token; /token does not', async () => {
    const s = await start('v8');
    for (const path of ['RestoreSessions', 'Organizations', 'RestorePoints', 'ServiceInstance', `RestoreSessions/${s.sim.addRestoreSession().id}`]) {
      const res = await s.get(path);
      expect(res.status).toBe(401);
      expect((await s.get(path, 'not-a-token')).status).toBe(401);
    }
    const basic = await fetch(`${s.base}/v8/RestoreSessions`, { headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
  });
});
