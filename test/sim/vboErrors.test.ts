import { afterEach, describe, expect, it } from '@jest/globals';
import { VBO_API_VERSIONS, vboVersionNumber } from '../../src/sim/vbo/VboApiVersion.js';
import type { VboApiVersion } from '../../src/sim/vbo/VboApiVersion.js';
import type { VboSimulatorOptions } from '../../src/sim/vbo/VboSimulator.js';
import { generateVboWorld } from '../../src/sim/world/generateWorld.js';
import { startVbo } from './vboHarness.js';
import type { Page, VboHarness } from './vboHarness.js';

type Item = Record<string, unknown>;
const MISSING = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

describe('VB365 paths, errors and quirks', () => {
  let h: VboHarness | undefined;
  const start = async (
    version: VboApiVersion,
    extra: Partial<Omit<VboSimulatorOptions, 'world' | 'log' | 'apiVersion'>> = {},
    sessions = 40,
  ): Promise<VboHarness> => {
    h = await startVbo(version, generateVboWorld('errors', { seed: 11, sessionsPerServer: sessions }), extra);
    return h;
  };
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('matches resource segments and ids case-insensitively and logs the canonical template', async () => {
    const s = await start('v8');
    const token = await s.login();
    const id = s.sim.addRestoreSession().id;
    const variants = ['/v8/restoresessions', '/v8/RESTORESESSIONS/', '/V8/RestoreSessions'];
    for (const p of variants) expect((await s.get(p, token)).status).toBe(200);
    expect(s.log.count('GET /v8/RestoreSessions')).toBe(3);
    const one = await s.getJson<Item>(`/v8/restoresessions/${id.toUpperCase()}`, token);
    expect(one.id).toBe(id);
    expect((await s.get(`/v8/RestoreSessions/{${id}}/EVENTS`, token)).status).toBe(200);
    expect((await s.get(`/v8/RestoreSessions/${id.replace(/-/g, '')}/organization`, token)).status).toBe(200);
    expect(s.log.count('GET /v8/RestoreSessions/{id}/Events')).toBe(1);
    expect(s.log.count('GET /v8/RestoreSessions/{id}/organization')).toBe(1);
    expect(s.log.count('POST /v8/token')).toBe(1);
    expect(s.log.count('GET /v8/RestoreSessions/{id}')).toBe(1);
  });

  it('accepts parameter names in any case', async () => {
    const s = await start('v8');
    const token = await s.login();
    const page = await s.getJson<Page>('RestoreSessions?LIMIT=3&Offset=2&orderasc=TRUE', token);
    expect(page.limit).toBe(3);
    expect(page.offset).toBe(2);
    expect(page.results).toHaveLength(3);
    const asc = await s.getJson<Page>('RestoreSessions?limit=5&orderAsc=true', token);
    expect(page.results[0]!.id).toBe(asc.results[2]!.id);
  });

  it('serves only its own version prefix: another /vK/ is 404, also without a token', async () => {
    const s = await start('v6');
    const token = await s.login();
    for (const p of ['/v5/RestoreSessions', '/v8/RestoreSessions', '/v9/RestoreSessions', '/RestoreSessions', '/v6/NoSuchThing', '/v6/RestoreSessions/x/y/z']) {
      const res = await s.get(p, token);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(Object.keys((await res.json()) as Item)).toEqual(['message']);
    }
    expect((await s.get('/v5/RestoreSessions')).status).toBe(404);
    expect((await fetch(`${s.base}/v5/token`, { method: 'POST', body: 'grant_type=password' })).status).toBe(404);
  });

  it('answers 405 for another verb on a known path', async () => {
    const s = await start('v7');
    const token = await s.login();
    const res = await fetch(`${s.base}/v7/RestoreSessions`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({ message: "The requested resource does not support http method 'DELETE'.", errorCode: null });
  });

  it.each(VBO_API_VERSIONS.map((v) => [v]))("%s: unknown ids are 404 in the version's error shape", async (version: VboApiVersion) => {
    const n = vboVersionNumber(version);
    const s = await start(version);
    const token = await s.login();
    const sid = s.sim.addRestoreSession().id;
    for (const path of [
      `RestoreSessions/${MISSING}`,
      `RestoreSessions/not-a-guid`,
      `RestoreSessions/${MISSING}/Events`,
      `RestoreSessions/${sid}/Events/${MISSING}`,
      `Organizations/${MISSING}`,
      ...(n >= 6 ? [`RestorePoints/${MISSING}`] : []),
    ]) {
      const res = await s.get(path, token);
      expect(res.status).toBe(404);
      const body = (await res.json()) as Item;
      expect(typeof body.message).toBe('string');
      if (n <= 6) expect(Object.keys(body)).toEqual(['message']);
      if (n === 7) expect(body.errorCode).toBeNull();
      if (n >= 8) expect(body).toMatchObject({ errorCode: 'ResourceNotFound', stackTrace: null });
    }
  });

  it.each([['v5'], ['v8']] as [VboApiVersion][])('%s: bad parameters are 400 (v8 ParameterValidationFailure)', async (version) => {
    const n = vboVersionNumber(version);
    const s = await start(version);
    const token = await s.login();
    for (const q of [
      'startTimeFrom=yesterday',
      'startTimeTo=2020-13-01T00:00:00Z',
      'offset=-1',
      'limit=0',
      'limit=abc',
      'limit=10001',
      ...(n >= 8 ? ['orderBy=Name', 'orderAsc=maybe', 'endTimeTo=2020-02-30'] : []),
    ]) {
      const res = await s.get(`RestoreSessions?${q}`, token);
      expect([q, res.status]).toEqual([q, 400]);
      const body = (await res.json()) as Item;
      if (n >= 8) expect(body).toMatchObject({ errorCode: 'ParameterValidationFailure', stackTrace: null });
      else expect(Object.keys(body)).toEqual(['message']);
    }
    expect((await s.get('RestoreSessions?limit=10000', token)).status).toBe(200);
  });

  it('parameters a version does not know are ignored, not rejected', async () => {
    const s = await start('v3');
    const token = await s.login();
    expect((await s.get('RestoreSessions?startTimeFrom=yesterday&orderBy=Name', token)).status).toBe(200);
    // No documented maximum before v5.
    expect((await s.getJson<Page>('RestoreSessions?limit=20000', token)).limit).toBe(20000);
    const v3 = await s.getJson<Page>('RestoreSessions?limit=20000', token);
    expect(v3.results).toHaveLength(40);
  });

  it("injected status faults use the version's error body", async () => {
    const s = await start('v8');
    const token = await s.login();
    s.server.faults.add({ match: 'RestoreSessions', nth: 1, action: { status: 503, message: 'Service Unavailable' } });
    const res = await s.get('RestoreSessions', token);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ message: 'Service Unavailable', errorCode: null, stackTrace: null });
    expect((await s.get('RestoreSessions', token)).status).toBe(200);
  });

  it('nullRequiredFields: v6+ sends null for the optional-looking strings of every 7th session, always the same ones', async () => {
    const s = await start('v6', { quirks: { nullRequiredFields: true } }, 140);
    const token = await s.login();
    const all = (await s.getJson<Page<Item>>('RestoreSessions?limit=200', token)).results;
    const nulled = all.filter((r) => r.name === null);
    expect(nulled.length).toBeGreaterThan(5);
    expect(nulled.length).toBeLessThan(45);
    for (const r of nulled) for (const k of ['details', 'initiatedBy', 'scopeName', 'clientHost', 'reason']) expect(r[k]).toBeNull();
    for (const r of nulled) expect(typeof r.organization).toBe('string');
    const again = (await s.getJson<Page<Item>>('RestoreSessions?limit=200', token)).results.filter((r) => r.name === null);
    expect(again.map((r) => r.id)).toEqual(nulled.map((r) => r.id));
    await s.close();
    const plain = await start('v6', {}, 140);
    const t2 = await plain.login();
    expect((await plain.getJson<Page<Item>>('RestoreSessions?limit=200', t2)).results.filter((r) => r.name === null)).toHaveLength(0);
  });

  it('emptyTeamsNames: a Teams session added with the quirk has an empty name', async () => {
    const s = await start('v7', { quirks: { emptyTeamsNames: true } });
    const token = await s.login();
    const teams = s.sim.addRestoreSession({ type: 'Vet' });
    const ex = s.sim.addRestoreSession({ type: 'Vex' });
    expect((await s.getJson<Item>(`RestoreSessions/${teams.id}`, token)).name).toBe('');
    expect((await s.getJson<Item>(`RestoreSessions/${ex.id}`, token)).name).not.toBe('');
  });

  it('addRestoreSession keeps creation order and shows up on the next request', async () => {
    const s = await start('v2');
    const token = await s.login();
    const world = s.sim;
    const before = await s.getJson<Page<Item>>('RestoreSessions?limit=100', token);
    const mid = Date.parse(before.results[10]!.creationTime as string) + 1;
    const added = world.addRestoreSession({ creationTime: mid, endTime: mid + 5000, organization: 1 });
    expect(added.state).toBe('Stopped');
    const after = await s.getJson<Page<Item>>('RestoreSessions?limit=100', token);
    expect(after.results).toHaveLength(41);
    expect(after.results[11]!.id).toBe(added.id);
    const now = world.addRestoreSession();
    expect(now.creationTime).toBe(s.clock.now());
    const last = await s.getJson<Page<Item>>('RestoreSessions?offset=41&limit=5', token);
    expect(last.results.map((r) => r.id)).toEqual([now.id]);
    expect(last.results[0]!.state).toBe('Working');
    expect('endTime' in last.results[0]!).toBe(false);
  });
});
