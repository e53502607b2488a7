import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { docWorld } from './emDocWorld.js';
import { basic, fixture, PASSWORD, startEm, USER } from './emHarness.js';
import type { EmHarness } from './emHarness.js';

const JSON_ACCEPT = { accept: 'application/json' };

/** Reads a JSON body after checking the EM envelope: UTF-8 BOM, JSON content type. */
async function jsonBody(res: Response): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return JSON.parse(new TextDecoder().decode(bytes.slice(3))) as Record<string, unknown>;
}

describe('EM JSON representation', () => {
  let h: EmHarness;
  beforeAll(async () => {
    h = await startEm(docWorld());
  });
  afterAll(() => h.close());

  it('logs on in JSON: SessionId property ([JDC] reads .SessionId), Links array', async () => {
    const res = await fetch(`${h.base}/api/sessionMngr/?v=latest`, { method: 'POST', headers: { authorization: basic(USER, PASSWORD), ...JSON_ACCEPT } });
    expect(res.status).toBe(201);
    const body = await jsonBody(res);
    expect(Buffer.from(res.headers.get('x-restsvcsessionid')!, 'base64').toString()).toBe(body.SessionId);
    expect(body.UserName).toBe(USER);
    expect(body.Type).toBe('LogonSession');
    expect(Array.isArray(body.Links)).toBe(true);
    expect((body.Links as { Rel: string }[])[0]).toEqual({ Rel: 'Up', Type: 'EnterpriseManager', Href: `${h.base}/api/`, Name: null });
  });

  it('renders an entity with PascalCase names, attributes as properties, typed numbers and links', async () => {
    const body = await jsonBody(await h.get('/api/restoreSessions/676dc837-f441-4ac1-8470-15be06b4cffc?format=Entity', JSON_ACCEPT));
    expect(body).toMatchObject({
      Type: 'RestoreSession',
      Name: 'FLR_[srv04]@2014-10-19 05:59:18',
      UID: 'urn:veeam:RestoreSession:676dc837-f441-4ac1-8470-15be06b4cffc',
      VmDisplayName: 'srv04',
      JobType: 'FileLevelRestore',
      CreationTimeUTC: '2014-10-19T05:59:18Z',
      EndTimeUTC: '2014-10-19T06:28:24Z',
      State: 'Stopped',
      Result: 'Success',
      Progress: 0,
      RestoredObjRef: null,
    });
    expect((body.Links as { Rel: string; Type: string }[]).map((l) => `${l.Rel} ${l.Type}`)).toEqual([
      'Up BackupServerReference',
      'Alternate RestoreSessionReference',
      'Related VmRestorePointReference',
    ]);
  });

  it('doubles the plural for entity lists inside QueryResult and keeps PagingInfo', async () => {
    const body = await jsonBody(await h.get('/api/query?type=RestoreSession&format=Entities&sortAsc=CreationTime', JSON_ACCEPT));
    const entities = body.Entities as { RestoreSessions: { RestoreSessions: { Name: string }[] } };
    expect(entities.RestoreSessions.RestoreSessions.map((s) => s.Name)).toEqual([
      'FLR_[srv04]@2014-10-19 05:59:18',
      'FLR_[virt03-ubuntu01]@2025-08-14 12:31:30',
    ]);
    const paging = body.PagingInfo as { PageNum: number; PageSize: number; PagesCount: number; Links: { Rel: string; Href: string }[] };
    expect([paging.PageNum, paging.PageSize, paging.PagesCount]).toEqual([1, 100, 1]);
    // JSON carries plain `&`, no XML escaping.
    expect(paging.Links[0]!.Href).toBe(`${h.base}/api/query?type=RestoreSession&format=Entities&sortAsc=CreationTime&pageSize=100&page=1`);
  });

  it('lists references as {"Refs":[…]} ([BY2]) and entity collections as {"BackupServers":[…]}', async () => {
    const refs = await jsonBody(await h.get('/api/backupServers', JSON_ACCEPT));
    expect(Object.keys(refs)).toEqual(['Refs']);
    expect((refs.Refs as { Type: string }[]).map((r) => r.Type)).toEqual(['BackupServerReference', 'BackupServerReference', 'BackupServerReference']);
    const entities = await jsonBody(await h.get('/api/backupServers?format=Entity', JSON_ACCEPT));
    expect((entities.BackupServers as { Port: number; Description: string }[])[1]).toMatchObject({ Port: 9392, Description: 'Lab & <test>' });
  });

  it('switches to JSON when application/json appears anywhere in Accept (9.5U4 behaviour)', async () => {
    const res = await h.get('/api/backupServers', { accept: 'text/html, application/json;q=0.5' });
    expect((await jsonBody(res)).Refs).toBeDefined();
  });

  it('answers errors in the real JSON error shape ([BY1])', async () => {
    const real = JSON.parse(fixture('error.json')) as Record<string, unknown>;
    const res = await h.get('/api/query?type=Nope', JSON_ACCEPT);
    expect(res.status).toBe(400);
    const body = await jsonBody(res);
    expect(Object.keys(body)).toEqual(Object.keys(real));
    expect(body).toMatchObject({ FirstChanceExceptionMessage: null, StackTrace: null, Status: null, StatusCode: 400 });
    expect(body.Message).toMatch(/Nope/);
    const unauth = await fetch(`${h.base}/api/backupServers`, { headers: JSON_ACCEPT });
    expect(unauth.status).toBe(401);
    expect((await jsonBody(unauth)).StatusCode).toBe(401);
  });
});

describe('EM fault knobs', () => {
  let h: EmHarness;
  beforeAll(async () => {
    h = await startEm(docWorld());
  });
  afterAll(() => h.close());

  it('renders an injected status as an EM <Error> (XML or JSON per Accept)', async () => {
    h.faults.set({ rules: [{ match: '^GET /api/backupServers', nth: 1, times: 2, action: { status: 503, message: 'Service is overloaded' } }] });
    const res = await h.get('/api/backupServers');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toMatch(
      /^<\?xml version="1.0" encoding="utf-8"\?>\n<Error Message="Service is overloaded" StatusCode="503" xmlns="http:\/\/www.veeam.com\/ent\/v1.0"/,
    );
    const json = await h.get('/api/backupServers', JSON_ACCEPT);
    expect(json.status).toBe(503);
    expect(JSON.parse((await json.text()).replace(/^\uFEFF/, ''))).toMatchObject({ Message: 'Service is overloaded', StatusCode: 503 });
    expect((await h.get('/api/backupServers')).status).toBe(200);
    expect(h.log.stats().byTemplate['GET /api/backupServers']).toBe(3);
  });

  it('a malformed body keeps the status but is not parseable XML', async () => {
    h.faults.set({ rules: [{ match: '^GET /api/query', nth: 1, action: { malformed: true } }] });
    const res = await h.get('/api/query?type=RestoreSession');
    expect(res.status).toBe(200);
    const text = await res.text();
    const { XMLValidator } = await import('fast-xml-parser');
    expect(XMLValidator.validate(text)).not.toBe(true);
    const again = await (await h.get('/api/query?type=RestoreSession')).text();
    expect(XMLValidator.validate(again)).toBe(true);
  });
});
