import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateEmWorld } from '../../src/sim/world/generateWorld.js';
import type { EmServerWorld } from '../../src/sim/world/types.js';
import { docWorld } from './emDocWorld.js';
import { child, linkSummary, startEm, xmlBody } from './emHarness.js';
import type { EmHarness, XNode } from './emHarness.js';

const NOW = Date.parse('2026-11-01T00:00:00Z');

function pagingLinks(result: XNode): Record<string, string> {
  const links = child(child(result, 'PagingInfo'), 'Links');
  return Object.fromEntries(links.children.map((l) => [l.attrs.Rel!, l.attrs.Href!]));
}

function refIds(result: XNode): string[] {
  return child(result, 'Refs').children.map((r) => r.attrs.UID!.split(':')[3]!);
}

describe('EM query service: sorting and paging', () => {
  let h: EmHarness;
  let world: EmServerWorld;
  beforeAll(async () => {
    world = generateEmWorld('em-query', { seed: 3, sessionsPerServer: 1234, now: NOW });
    h = await startEm(world);
  });
  afterAll(() => h.close());

  it('defaults to page 1 of 100 and says so in PagingInfo', async () => {
    const body = await xmlBody(await h.get('/api/query?type=RestoreSession'));
    expect(child(body, 'Refs').children).toHaveLength(100);
    expect(child(body, 'PagingInfo').attrs).toEqual({ PageNum: '1', PageSize: '100', PagesCount: '13' });
    const links = pagingLinks(body);
    expect(Object.keys(links)).toEqual(['First', 'Next', 'Last']);
    expect(new URL(links.Next!).search).toBe('?type=RestoreSession&pageSize=100&page=2');
    expect(new URL(links.Last!).search).toBe('?type=RestoreSession&pageSize=100&page=13');
  });

  it('sorts by creation time both ways, ties broken by id, one order the exact reverse of the other', async () => {
    const asc = await xmlBody(await h.get('/api/query?type=RestoreSession&format=Entities&sortAsc=CreationTime&pageSize=2000'));
    const desc = await xmlBody(await h.get('/api/query?type=RestoreSession&format=Entities&sortDesc=creationtime&pageSize=2000'));
    const rows = (r: XNode): [string, string][] =>
      child(child(r, 'Entities'), 'RestoreSessions').children.map((s) => [child(s, 'CreationTimeUTC').text!, s.attrs.UID!.toLowerCase()]);
    const a = rows(asc);
    expect(a).toHaveLength(1234);
    const expected = world.restoreSessions
      .map((s) => [s.creationTime, `urn:veeam:restoresession:${s.id}`] as const)
      .sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1))
      .map(([, uid]) => uid);
    expect(a.map(([, uid]) => uid)).toEqual(expected);
    expect(rows(desc).map(([, uid]) => uid)).toEqual([...expected].reverse());
    // The world has exact ties; make sure the test exercised them.
    const times = world.restoreSessions.map((s) => s.creationTime);
    expect(new Set(times).size).toBeLessThan(times.length);
  });

  it('sorts by a string field case-insensitively and by an enum in declaration order', async () => {
    const byName = await xmlBody(await h.get('/api/query?type=RestoreSession&sortAsc=NAME&pageSize=50'));
    const names = child(byName, 'Refs').children.map((r) => r.attrs.Name!.toLowerCase());
    expect(names).toEqual([...names].sort());
    const byResult = await xmlBody(await h.get('/api/query?type=RestoreSession&format=Entities&sortDesc=Result&pageSize=2000'));
    const results = child(child(byResult, 'Entities'), 'RestoreSessions').children.map((s) => child(s, 'Result').text!);
    const rank = ['None', 'Success', 'Warning', 'Failed'];
    const ranks = results.map((r) => rank.indexOf(r));
    expect(ranks).toEqual([...ranks].sort((x, y) => y - x));
    expect(results[0]).toBe('Failed');
  });

  it('pages without gaps or overlaps and links Previous/Next only where they exist', async () => {
    const q = '/api/query?type=RestoreSession&sortDesc=CreationTime&filter=' + encodeURIComponent('State==Stopped;Result!=Failed') + '&pageSize=250';
    const seen: string[] = [];
    let href: string | undefined = `${h.base}${q}`;
    let pages = 0;
    let pagesCount = 0;
    while (href) {
      const res = await h.get(href.slice(h.base.length));
      const body = await xmlBody(res);
      const info = child(body, 'PagingInfo').attrs;
      pages++;
      pagesCount = Number(info.PagesCount);
      expect(info.PageNum).toBe(String(pages));
      const links = pagingLinks(body);
      expect('Previous' in links).toBe(pages > 1);
      expect('First' in links && 'Last' in links).toBe(true);
      seen.push(...refIds(body));
      href = links.Next;
    }
    const expected = world.restoreSessions.filter((s) => s.state === 'Stopped' && s.result !== 'Failed');
    expect(pages).toBe(Math.ceil(expected.length / 250));
    expect(pagesCount).toBe(pages);
    expect(seen).toHaveLength(expected.length);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('escapes & in link hrefs and re-encodes the filter so that following the link gives the same query', async () => {
    const res = await h.get('/api/query?Type=restoreSession&Filter=' + encodeURIComponent('VmDisplayName!="a&b"') + '&pageSize=10&page=2');
    const text = await res.text();
    expect(text).toContain('?Type=restoreSession&amp;Filter=VmDisplayName!%3D%22a%26b%22&amp;pageSize=10&amp;page=1"');
    expect(text).not.toMatch(/Href="[^"]*&(?!amp;)/);
    const first = pagingLinks(await xmlBody(new Response(text, { headers: res.headers })));
    // Follow the (parser-unescaped) First link: same query, page 1.
    const followed = await xmlBody(await h.get(first.First!.slice(h.base.length)));
    const direct = await xmlBody(await h.get('/api/query?type=RestoreSession&filter=' + encodeURIComponent('VmDisplayName!="a&b"') + '&pageSize=10'));
    expect(refIds(followed)).toEqual(refIds(direct));
    expect(refIds(followed)).toHaveLength(10);
  });

  it('answers an empty page for zero results: PagesCount 0, First and Last to page 1, empty Refs', async () => {
    const body = await xmlBody(await h.get('/api/query?type=RestoreSession&filter=Name==nothing-matches-this'));
    expect(child(body, 'Refs').children).toEqual([]);
    expect(child(body, 'PagingInfo').attrs).toEqual({ PageNum: '1', PageSize: '100', PagesCount: '0' });
    expect(linkSummary(child(child(body, 'PagingInfo'), 'Links'))).toEqual(['First', 'Last']);
    expect(new URL(pagingLinks(body).Last!).searchParams.get('page')).toBe('1');
    const entities = await xmlBody(await h.get('/api/query?type=RestoreSession&format=Entities&filter=Name==nothing'));
    expect(child(child(entities, 'Entities'), 'RestoreSessions').children).toEqual([]);
  });

  it('answers an empty page past the end, with Previous', async () => {
    const body = await xmlBody(await h.get('/api/query?type=BackupServer&pageSize=1&page=99'));
    expect(child(body, 'Refs').children).toEqual([]);
    expect(Object.keys(pagingLinks(body))).toEqual(['First', 'Previous', 'Last']);
  });

  it.each([
    ['type=Nope', /Unknown query type "Nope"/],
    ['', /"type" is required/],
    ['type=RestoreSession&pageSize=0', /pageSize/],
    ['type=RestoreSession&pageSize=-5', /pageSize/],
    ['type=RestoreSession&pageSize=ten', /pageSize/],
    ['type=RestoreSession&page=0', /page/],
    ['type=RestoreSession&sortAsc=Colour', /Unknown sort parameter "Colour"/],
    ['type=RestoreSession&sortAsc=Name&sortDesc=Name', /either sortAsc or sortDesc/],
    ['type=RestoreSession&format=Bulk', /format/],
  ])('answers 400 for %s', async (query, message) => {
    const res = await h.get(`/api/query?${query}`);
    expect(res.status).toBe(400);
    const body = await xmlBody(res);
    expect(body.attrs.Message).toMatch(message);
  });

  it('accepts case-insensitive type, format and parameter names, and logs the canonical template', async () => {
    const before = h.log.count('GET /api/query?type=VmRestorePoint');
    const res = await h.get('/api/query?TYPE=vmrestorepoint&FORMAT=entities&PageSize=3&SORTASC=creationTime');
    const body = await xmlBody(res);
    expect(child(child(body, 'Entities'), 'VmRestorePoints').children).toHaveLength(3);
    expect(h.log.count('GET /api/query?type=VmRestorePoint')).toBe(before + 1);
  });

  it('finds a session added while paging at its sorted place (cached orders are rebuilt)', async () => {
    const first = await xmlBody(await h.get('/api/query?type=RestoreSession&sortDesc=CreationTime&pageSize=1'));
    const added = h.sim.addRestoreSession();
    const again = await xmlBody(await h.get('/api/query?type=RestoreSession&sortDesc=CreationTime&pageSize=1'));
    expect(refIds(again)).toEqual([added.id]);
    expect(refIds(first)).not.toEqual([added.id]);
    expect(added.creationTime).toBe(h.clock.now());
    expect(world.restoreSessions[world.restoreSessions.length - 1]).toBe(added);
    // Defaults: backup server 0 and a VM restore point of that server.
    expect(world.vmRestorePoints[added.vmRestorePoint]!.backupServer).toBe(0);
    const entity = await xmlBody(await h.get(`/api/restoreSessions/${added.id}?format=Entity`));
    expect(child(entity, 'State').text).toBe('Working');
    // A running session's end is SQL Server's smallest datetime, EM's "never" (the client reads it as none).
    expect(child(entity, 'EndTimeUTC').text).toBe('1753-01-01T00:00:00Z');
  });

  it('serves the benchmark shape (500-entity pages over 100k sessions) with the right records', async () => {
    const bigWorld = generateEmWorld('em-big', { seed: 9, sessionsPerServer: 100_000, now: NOW });
    const big = await startEm(bigWorld);
    try {
      const cutoff = '2026-10-15T00:00:00Z';
      const q = `/api/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=500&page=7&filter=${encodeURIComponent(`CreationTime<="${cutoff}"`)}`;
      const body = await xmlBody(await big.get(q));
      const page = child(child(body, 'Entities'), 'RestoreSessions').children.map((s) => s.attrs.UID!.split(':')[3]!);
      const expected = bigWorld.restoreSessions
        .filter((s) => s.creationTime <= Date.parse(cutoff))
        .sort((a, b) => b.creationTime - a.creationTime || (a.id < b.id ? 1 : -1))
        .slice(3000, 3500)
        .map((s) => s.id);
      expect(page).toEqual(expected);
    } finally {
      await big.close();
    }
  });
});

describe('EM plain resources', () => {
  let h: EmHarness;
  beforeAll(async () => {
    const w = docWorld();
    h = await startEm(w);
  });
  afterAll(() => h.close());

  it('/api/restoreSessions lists only the last 30 days (by the injected clock), as EntityReferences', async () => {
    const recent = h.sim.addRestoreSession({ creationTime: Date.parse('2026-10-20T00:00:00Z') });
    const body = await xmlBody(await h.get('/api/restoreSessions'));
    expect(body.name).toBe('EntityReferences');
    expect(body.children.map((r) => r.attrs.UID)).toEqual([`urn:veeam:RestoreSession:${recent.id}`]);
    expect(body.children[0]!.name).toBe('Ref');
    const entities = await xmlBody(await h.get('/api/restoreSessions?format=Entity'));
    expect(entities.name).toBe('RestoreSessions');
    expect(entities.children.map((r) => r.name)).toEqual(['RestoreSession']);
  });

  it('/api/backupServers gives references, ?format=Entity gives <BackupServers>', async () => {
    const refs = await xmlBody(await h.get('/api/backupServers'));
    expect(refs.name).toBe('EntityReferences');
    expect(refs.children).toHaveLength(3);
    const entities = await xmlBody(await h.get('/api/backupServers?format=Entity'));
    expect(entities.name).toBe('BackupServers');
    expect(entities.children.map((c) => c.attrs.Name)).toEqual(['srv02.veeam.local', '172.17.53.1', '172.17.53.1']);
    // Attribute and text escaping.
    expect(child(entities.children[1]!, 'Description').text).toBe('Lab & <test>');
  });

  it('lists the VM restore points of a restore point', async () => {
    const body = await xmlBody(await h.get('/api/restorePoints/dc216c04-2e34-478e-8b9b-49a3397ef6f8/vmRestorePoints'));
    expect(body.children.map((r) => r.attrs.Name)).toEqual(['oracle03@2025-10-06 13:59:50']);
  });

  it('matches paths and ids case-insensitively', async () => {
    const res = await h.get('/API/RestoreSessions/676DC837-F441-4AC1-8470-15BE06B4CFFC?FORMAT=entity');
    expect(res.status).toBe(200);
    expect((await xmlBody(res)).name).toBe('RestoreSession');
  });

  it('answers 404 for unknown ids and routes, 405 for a wrong method, each with an <Error>', async () => {
    for (const path of ['/api/backupServers/nope', '/api/vmRestorePoints/00000000-0000-0000-0000-000000000000', '/api/nothingHere', '/elsewhere']) {
      const res = await h.get(path);
      expect(res.status).toBe(404);
      expect((await xmlBody(res)).attrs.StatusCode).toBe('404');
    }
    const token = await h.logon();
    const res = await fetch(`${h.base}/api/restoreSessions`, { method: 'DELETE', headers: { 'x-restsvcsessionid': token } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    expect((await xmlBody(res)).attrs.StatusCode).toBe('405');
    const get = await fetch(`${h.base}/api/sessionMngr/?v=latest`, { headers: { 'x-restsvcsessionid': token } });
    expect(get.status).toBe(405);
  });

  it('gives the request-log templates the gateway counts by', () => {
    const req = (method: string, path: string, query = '') => ({
      method,
      path,
      query,
      url: new URL(`http://x${path}?${query}`),
      headers: {},
      body: Buffer.alloc(0),
    });
    expect(h.sim.template(req('GET', '/api/query', 'type=restoresession&page=2'))).toBe('GET /api/query?type=RestoreSession');
    expect(h.sim.template(req('GET', '/api/restoreSessions/abc'))).toBe('GET /api/restoreSessions/{id}');
    expect(h.sim.template(req('POST', '/api/sessionMngr/', 'v=latest'))).toBe('POST /api/sessionMngr');
    expect(h.sim.template(req('DELETE', '/api/logonSessions/abc'))).toBe('DELETE /api/logonSessions/{id}');
    expect(h.sim.template(req('GET', '/api/'))).toBe('GET /api/');
    expect(h.sim.template(req('GET', '/api/query', 'type=Bogus'))).toBe('GET /api/query?type={unknown}');
  });

  it('serves /api/querySvc with a link per query type', async () => {
    const body = await xmlBody(await h.get('/api/querySvc'));
    expect(body.attrs.Type).toBe('QueryService');
    const hrefs = child(body, 'Links').children.map((l) => new URL(l.attrs.Href!).searchParams.get('type'));
    expect(hrefs).toEqual(['RestoreSession', 'BackupServer', 'VmRestorePoint', 'RestorePoint']);
  });
});
