import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { VBO_API_VERSIONS, vboVersionNumber } from '../../src/sim/vbo/VboApiVersion.js';
import type { VboApiVersion } from '../../src/sim/vbo/VboApiVersion.js';
import { generateVboWorld } from '../../src/sim/world/generateWorld.js';
import type { VboServerWorld } from '../../src/sim/world/types.js';
import { startVbo } from './vboHarness.js';
import type { Page, VboHarness } from './vboHarness.js';

type Item = Record<string, unknown>;

const SESSION_KEYS: Record<string, string[]> = {
  v1: ['id', 'type', 'pointInTime', 'creationTime', 'endTime', 'state', 'result', '_links'],
  v2: ['id', 'type', 'creationTime', 'endTime', 'state', 'result', '_links'],
  v6: [
    'id',
    'name',
    'organization',
    'type',
    'creationTime',
    'endTime',
    'state',
    'result',
    'initiatedBy',
    'details',
    'scopeName',
    'clientHost',
    'reason',
    '_links',
  ],
};
const sessionKeys = (n: number): string[] =>
  n === 1 ? SESSION_KEYS.v1! : n <= 5 ? SESSION_KEYS.v2! : n <= 7 ? SESSION_KEYS.v6! : [...SESSION_KEYS.v6!, 'eTag'];

const ORG_LINKS = (n: number): string[] =>
  n === 1
    ? ['self', 'jobs', 'mailboxes']
    : n <= 5
      ? ['self', 'jobs', 'groups', 'users', 'sites']
      : ['self', 'jobs', 'groups', 'users', 'sites', 'teams', 'usedRepositories', 'rbacRoles'];

const EVENT_KEYS = [
  'itemSizeBytes',
  'id',
  'type',
  'status',
  'startTime',
  'endTime',
  'duration',
  'title',
  'message',
  'order',
  'itemName',
  'itemType',
  'source',
  'target',
  '_links',
];

const sorted = (keys: string[]): string[] => [...keys].sort();

/** Sessions in (creationTime, id) order, the simulator's order before v8. */
function ascendingIds(world: VboServerWorld): string[] {
  return [...world.restoreSessions].sort((a, b) => a.creationTime - b.creationTime || (a.id < b.id ? -1 : 1)).map((s) => s.id);
}

describe.each(VBO_API_VERSIONS.map((v) => [v]))('VB365 %s', (version: VboApiVersion) => {
  const n = vboVersionNumber(version);
  // 75 sessions with the world's ~2% creation-time ties; "now" 2 hours after the newest session start, so some run.
  const world = generateVboWorld('matrix', { seed: 'matrix', sessionsPerServer: 75, spanDays: 1, now: '2026-11-01T00:00:00Z' });
  let h: VboHarness;
  let token: string;
  const abs = (href: string): boolean => href.startsWith(h.base);

  beforeAll(async () => {
    h = await startVbo(version, world);
    token = await h.login();
  });
  afterAll(() => h.close());

  it(`RestoreSessions is ${n === 1 ? 'a bare array' : 'a page'} with this version's fields and href form`, async () => {
    const body = await h.getJson<unknown>('RestoreSessions', token);
    let items: Item[];
    if (n === 1) {
      expect(Array.isArray(body)).toBe(true);
      items = body as Item[];
      expect(items).toHaveLength(75);
    } else {
      const page = body as Page<Item>;
      const keys = ['offset', 'limit', 'results', '_links', ...(n >= 6 ? ['setId'] : []), ...(n === 6 || n === 7 ? ['totalCount'] : [])];
      expect(sorted(Object.keys(page))).toEqual(sorted(keys));
      expect(page.offset).toBe(0);
      expect(page.limit).toBe(30);
      expect(page.results).toHaveLength(30);
      if (n === 6 || n === 7) expect(page.totalCount).toBe(75);
      expect(Object.keys(page._links).sort()).toEqual(['next', 'self']);
      expect(abs(page._links.self!.href)).toBe(n <= 5);
      expect(page._links.next!.href).toBe(`${n <= 5 ? h.base : ''}/${version}/RestoreSessions?offset=30&limit=30`);
      items = page.results;
    }
    const stopped = items.find((i) => i.state === 'Stopped')!;
    expect(sorted(Object.keys(stopped))).toEqual(sorted(sessionKeys(n)));
    const links = stopped._links as Record<string, { href: string }>;
    expect(Object.keys(links).sort()).toEqual(n >= 6 ? ['events', 'organization', 'self'] : ['organization', 'self']);
    const prefix = `${n <= 5 ? h.base : ''}/${version}/restoresessions/${stopped.id as string}`;
    expect(links.self!.href).toBe(prefix);
    expect(links.organization!.href).toBe(`${prefix}/organization`);
    expect(stopped.creationTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/);
    if (n >= 6) expect(world.organizations.map((o) => o.name)).toContain(stopped.organization);
    if (n === 1) expect(stopped.pointInTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?-07:00$/);
  });

  it('a running session has no endTime before v6 and endTime null from v6', async () => {
    const running = world.restoreSessions.find((s) => s.state === 'Working')!;
    expect(running).toBeDefined();
    const body = await h.getJson<Item>(`RestoreSessions/${running.id}`, token);
    expect(body.state).toBe('Working');
    if (n >= 6) expect(body.endTime).toBeNull();
    else expect('endTime' in body).toBe(false);
  });

  it("RestoreSessions/{id}/Events is a page with this version's event fields", async () => {
    const s = world.restoreSessions.find((x) => x.state === 'Stopped' && x.eventCount > 3)!;
    const page = await h.getJson<Page<Item>>(`RestoreSessions/${s.id}/Events?limit=2`, token);
    expect(page.results).toHaveLength(2);
    expect(page.limit).toBe(2);
    expect(sorted(Object.keys(page.results[0]!))).toEqual(
      sorted([...EVENT_KEYS, ...(n >= 8 ? ['organizationId', 'backedUpOrganizationId', 'userId', 'groupId', 'siteId', 'teamId'] : [])]),
    );
    expect(page._links.next!.href).toBe(`${n <= 5 ? h.base : ''}/${version}/RestoreSessions/${s.id}/Events?offset=2&limit=2`);
    const e = page.results[0]!;
    expect(e.startTime).toMatch(/-07:00$/);
    const one = await h.getJson<Item>((e._links as Record<string, { href: string }>).self!.href, token);
    expect(one).toEqual(e);
  });

  it(`Organizations is ${n <= 7 ? 'a bare array' : 'a page'} with this version's fields`, async () => {
    const body = await h.getJson<unknown>('Organizations', token);
    const orgs = n <= 7 ? (body as Item[]) : (body as Page<Item>).results;
    if (n <= 7) expect(Array.isArray(body)).toBe(true);
    else expect(sorted(Object.keys(body as Item))).toEqual(['_links', 'limit', 'offset', 'results', 'setId']);
    expect(orgs).toHaveLength(world.organizations.length);
    const o = orgs[0]!;
    expect(Object.keys(o._links as Item).sort()).toEqual(sorted(ORG_LINKS(n)));
    expect(o.isBackedup).toBe(n === 1 ? 'true' : true);
    expect(typeof o.firstBackuptime).toBe('string');
    expect('isBackedUp' in o || 'firstBackupTime' in o).toBe(false);
    expect(o.region).toBe(n === 1 ? world.organizations[0]!.region.toLowerCase() : world.organizations[0]!.region);
    for (const k of ['description', 'msid', 'backedUpOrganizationId']) expect(k in o).toBe(n >= 8);
    for (const k of ['officeName', 'isExchangeOnline', 'exchangeOnlineSettings']) expect(k in o).toBe(n >= 6);
    expect('username' in o).toBe(n <= 5);
    expect(abs((o._links as Record<string, { href: string }>).self!.href)).toBe(n <= 5);
    const one = await h.getJson<Item>(`Organizations/${o.id as string}`, token);
    expect(one).toEqual(o);
  });

  it(n < 6 ? 'has no RestorePoints or ServiceInstance (404)' : `RestorePoints is ${n === 6 ? 'a bare array' : 'a page'}; ServiceInstance answers`, async () => {
    const points = await h.get('RestorePoints', token);
    const service = await h.get('ServiceInstance', token);
    if (n < 6) {
      expect(points.status).toBe(404);
      expect(service.status).toBe(404);
      return;
    }
    expect(service.status).toBe(200);
    expect(await service.json()).toEqual({ installationId: world.installationId, version: world.version });
    const body = (await points.json()) as unknown;
    const list = n === 6 ? (body as Item[]) : (body as Page<Item>).results;
    if (n === 6) {
      expect(Array.isArray(body)).toBe(true);
      expect(list).toHaveLength(world.restorePoints.length);
    } else {
      const page = body as Page<Item>;
      expect(page.results).toHaveLength(30);
      expect('totalCount' in page).toBe(n === 7);
      if (n === 7) expect(page.totalCount).toBe(world.restorePoints.length);
      // Default orderAsc=false: newest first.
      expect(Date.parse(list[0]!.backupTime as string)).toBeGreaterThan(Date.parse(list[1]!.backupTime as string));
    }
    const p = list[0]!;
    expect(Object.keys(p._links as Item).sort()).toEqual(['backupRepository', 'organization', 'self']);
    for (const k of ['isDeleted', 'isCopy', 'eTag', 'objectsEtag', 'immutabilityExpiresOn']) expect(k in p).toBe(n >= 8);
    expect((p._links as Record<string, { href: string }>).self!.href).toBe(`/${version}/RestorePoints/${p.id as string}`);
    expect(await h.getJson(`RestorePoints/${p.id as string}`, token)).toEqual(p);
  });

  if (n >= 2) {
    it('paging to the end via _links.next returns every session exactly once, in order', async () => {
      const seen: string[] = [];
      let href: string | undefined = `/${version}/RestoreSessions?limit=7`;
      let pages = 0;
      while (href) {
        const page: Page<Item> = await h.getJson<Page<Item>>(href, token);
        seen.push(...page.results.map((r) => r.id as string));
        href = page._links.next?.href;
        if (href) expect(href.startsWith(h.base)).toBe(n <= 5);
        pages++;
      }
      expect(pages).toBe(11);
      const expected = ascendingIds(world);
      expect(seen).toEqual(n >= 8 ? [...expected].reverse() : expected);
    });

    it('paging by offset/limit returns every session exactly once; links carry the other params', async () => {
      const seen: string[] = [];
      for (let offset = 0; ; offset += 20) {
        const page = await h.getJson<Page<Item>>(`RestoreSessions?foo=a%20b&offset=${offset}&limit=20`, token);
        seen.push(...page.results.map((r) => r.id as string));
        expect(page._links.self!.href).toBe(`${n <= 5 ? h.base : ''}/${version}/RestoreSessions?foo=a%20b&offset=${offset}&limit=20`);
        if (offset > 0) expect(page._links.prev!.href).toContain(`offset=${offset - 20}&limit=20`);
        if (offset > 0) expect(page._links.first!.href).toContain('offset=0&limit=20');
        if (!page._links.next) break;
      }
      expect(new Set(seen).size).toBe(75);
      expect(seen).toHaveLength(75);
    });

    it(`startTimeFrom/startTimeTo are ${n >= 4 ? 'honoured' : 'ignored'}`, async () => {
      const ids = ascendingIds(world);
      const byId = new Map(world.restoreSessions.map((s) => [s.id, s]));
      const from = byId.get(ids[10]!)!.creationTime;
      const to = byId.get(ids[20]!)!.creationTime;
      const q = `startTimeFrom=${new Date(from).toISOString()}&startTimeTo=${new Date(to).toISOString()}&limit=100`;
      const page = await h.getJson<Page<Item>>(`RestoreSessions?${q}`, token);
      const inRange = world.restoreSessions.filter((s) => s.creationTime >= from && s.creationTime <= to).length;
      expect(inRange).toBeGreaterThanOrEqual(11);
      expect(page.results).toHaveLength(n >= 4 ? inRange : 75);
    });

    it(`endTimeFrom, orderBy and orderAsc are ${n >= 8 ? 'honoured' : 'ignored'}`, async () => {
      const ended = world.restoreSessions
        .filter((s) => s.endTime !== undefined)
        .map((s) => s.endTime!)
        .sort((a, b) => a - b);
      const cut = ended[40]!;
      const page = await h.getJson<Page<Item>>(`RestoreSessions?endTimeFrom=${new Date(cut).toISOString()}&orderBy=EndTime&orderAsc=true&limit=100`, token);
      if (n >= 8) {
        expect(page.results).toHaveLength(ended.filter((t) => t >= cut).length);
        const ends = page.results.map((r) => Date.parse(r.endTime as string));
        expect(ends).toEqual([...ends].sort((a, b) => a - b));
      } else {
        expect(page.results).toHaveLength(75);
        expect(page.results.map((r) => r.id)).toEqual(ascendingIds(world));
      }
    });
  } else {
    it('v1 ignores paging parameters: the array holds every session in creation order', async () => {
      const body = await h.getJson<Item[]>('RestoreSessions?limit=5&offset=3&startTimeFrom=2030-01-01T00:00:00Z', token);
      expect(body.map((s) => s.id)).toEqual(ascendingIds(world));
    });
  }
});
