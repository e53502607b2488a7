import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { docWorld } from './emDocWorld.js';
import { basic, child, PASSWORD, startEm, USER, xmlBody } from './emHarness.js';
import type { EmHarness } from './emHarness.js';

const MINUTE = 60_000;

describe('EM logon, tokens and logoff', () => {
  let h: EmHarness;
  beforeAll(async () => {
    h = await startEm(docWorld());
  });
  afterAll(() => h.close());

  const logon = (auth: string | undefined, query = '?v=latest'): Promise<Response> =>
    fetch(`${h.base}/api/sessionMngr/${query}`, { method: 'POST', headers: auth ? { authorization: auth } : {} });
  const getWith = (headers: Record<string, string>): Promise<Response> => fetch(`${h.base}/api/backupServers`, { headers });

  it('creates a logon session: 201, token header, cookie, Location, LogonSession body, logon counted', async () => {
    const before = h.log.stats().logons;
    const res = await logon(basic(USER, PASSWORD));
    expect(res.status).toBe(201);
    const body = await xmlBody(res);
    const sessionId = child(body, 'SessionId').text!;
    expect(sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const token = res.headers.get('x-restsvcsessionid')!;
    expect(Buffer.from(token, 'base64').toString('utf8')).toBe(sessionId);
    expect(res.headers.get('set-cookie')).toBe(`X-RestSvcSessionId=${token}; Path=/api;`);
    expect(res.headers.get('location')).toBe(`${h.base}/api/logonSessions/${sessionId}`);
    expect(child(body, 'UserName').text).toBe(USER);
    expect(body.attrs.Href).toBe(`${h.base}/api/logonSessions/${sessionId}`);
    expect(h.log.stats().logons).toBe(before + 1);
    expect((await getWith({ 'x-restsvcsessionid': token })).status).toBe(200);
  });

  it('accepts every supported version and a case-insensitive user name; refuses an unknown version with 400', async () => {
    for (const v of ['?v=v1_5', '?v=v1_6', '?v=v1_7', '?v=LATEST']) expect((await logon(basic(USER, PASSWORD), v)).status).toBe(201);
    expect((await logon(basic(USER.toUpperCase(), PASSWORD))).status).toBe(201);
    const res = await logon(basic(USER, PASSWORD), '?v=v1_4');
    expect(res.status).toBe(400);
    expect((await xmlBody(res)).attrs.Message).toMatch(/v1_4/);
  });

  it.each([
    ['a wrong password', basic(USER, 'wrong')],
    ['a password differing in case', basic(USER, PASSWORD.toUpperCase())],
    ['an unknown user', basic('someone', PASSWORD)],
    ['no colon', `Basic ${Buffer.from('nocolon').toString('base64')}`],
    ['a Bearer scheme', 'Bearer abc'],
    ['no Authorization header', undefined],
  ])('refuses %s with 401, WWW-Authenticate and an <Error>', async (_label, auth) => {
    const before = h.log.stats().logons;
    const res = await logon(auth);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic Realm=RestSvc');
    const body = await xmlBody(res);
    expect(body.name).toBe('Error');
    expect(body.attrs.StatusCode).toBe('401');
    expect(res.headers.get('x-restsvcsessionid')).toBeNull();
    expect(h.log.stats().logons).toBe(before);
  });

  it('refuses requests without a token, with an unknown token, and does not need one for GET /api/', async () => {
    const missing = await getWith({});
    expect(missing.status).toBe(401);
    expect((await xmlBody(missing)).attrs.StatusCode).toBe('401');
    const unknown = await getWith({ 'x-restsvcsessionid': Buffer.from('00000000-0000-0000-0000-000000000000').toString('base64') });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toBe('Basic Realm=RestSvc');
    expect((await fetch(`${h.base}/api/`)).status).toBe(200);
  });

  it('accepts the token as a cookie, and the cookie wins over the header', async () => {
    const token = await h.logon();
    expect((await getWith({ cookie: `other=1; X-RestSvcSessionId=${token}` })).status).toBe(200);
    expect((await getWith({ cookie: `X-RestSvcSessionId=${token}`, 'x-restsvcsessionid': 'bogus' })).status).toBe(200);
    expect((await getWith({ cookie: 'X-RestSvcSessionId=bogus', 'x-restsvcsessionid': token })).status).toBe(401);
  });

  it('expires an idle session after 15 minutes; each use slides the deadline', async () => {
    const token = await h.logon();
    const auth = { 'x-restsvcsessionid': token };
    h.clock.advance(14 * MINUTE);
    expect((await getWith(auth)).status).toBe(200);
    h.clock.advance(14 * MINUTE); // 28 minutes after logon, 14 after last use
    expect((await getWith(auth)).status).toBe(200);
    h.clock.advance(15 * MINUTE);
    const res = await getWith(auth);
    expect(res.status).toBe(401);
    expect((await xmlBody(res)).attrs.Message).toMatch(/expired/);
    // Once expired it stays dead, even if time does not move.
    expect((await getWith(auth)).status).toBe(401);
  });

  it('honours a custom idle timeout', async () => {
    const h2 = await startEm(docWorld(), { sessionTimeoutMs: 1000 });
    try {
      const token = await h2.logon();
      h2.clock.advance(999);
      expect((await fetch(`${h2.base}/api/backupServers`, { headers: { 'x-restsvcsessionid': token } })).status).toBe(200);
      h2.clock.advance(1000);
      expect((await fetch(`${h2.base}/api/backupServers`, { headers: { 'x-restsvcsessionid': token } })).status).toBe(401);
    } finally {
      await h2.close();
    }
  });

  it('expireAll (also POST /_sim/expire) kills every session; activeSessions counts live ones', async () => {
    const a = await h.logon();
    const b = await h.logon();
    expect(h.sim.activeSessions()).toBeGreaterThanOrEqual(2);
    h.sim.expireAll();
    expect(h.sim.activeSessions()).toBe(0);
    expect((await getWith({ 'x-restsvcsessionid': a })).status).toBe(401);
    expect((await getWith({ 'x-restsvcsessionid': b })).status).toBe(401);
    const c = await h.logon();
    expect(h.sim.activeSessions()).toBe(1);
    expect((await fetch(`${h.base}/_sim/expire`, { method: 'POST' })).status).toBe(200);
    expect((await getWith({ 'x-restsvcsessionid': c })).status).toBe(401);
    h.clock.advance(1);
    await h.logon();
    h.clock.advance(15 * MINUTE);
    expect(h.sim.activeSessions()).toBe(0);
  });

  it('GET /api/logonSessions/{id} shows the session; DELETE answers 204, counts a logoff and kills the token', async () => {
    const res = await logon(basic(USER, PASSWORD));
    const token = res.headers.get('x-restsvcsessionid')!;
    const location = res.headers.get('location')!;
    await res.arrayBuffer();
    const auth = { 'x-restsvcsessionid': token };
    const shown = await fetch(location, { headers: auth });
    expect(shown.status).toBe(200);
    expect((await xmlBody(shown)).name).toBe('LogonSession');
    const before = h.log.stats().logoffs;
    const del = await fetch(location, { method: 'DELETE', headers: auth });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    expect(h.log.stats().logoffs).toBe(before + 1);
    expect((await getWith(auth)).status).toBe(401);
    const token2 = await h.logon();
    expect((await fetch(location, { method: 'DELETE', headers: { 'x-restsvcsessionid': token2 } })).status).toBe(404);
  });
});
