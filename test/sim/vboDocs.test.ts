import { afterEach, describe, expect, it } from '@jest/globals';
import type { VboRestoreSession } from '../../src/sim/world/types.js';
import { USER, fixture, org, session, startVbo, world } from './vboHarness.js';
import type { Page, VboHarness } from './vboHarness.js';
import { wireDiff } from './vboWire.js';

type Item = Record<string, unknown>;

/** World records made from a docs sample's items, so the simulator can print them back. */
function sessionsFrom(items: Item[], extra: Partial<VboRestoreSession> = {}): VboRestoreSession[] {
  return items.map((i) =>
    session({
      id: i.id as string,
      type: i.type as string,
      creationTime: Date.parse(i.creationTime as string),
      ...(typeof i.endTime === 'string' ? { endTime: Date.parse(i.endTime) } : {}),
      state: i.state as string,
      result: i.result as string,
      ...(typeof i.pointInTime === 'string' ? { pointInTime: Date.parse(i.pointInTime) } : {}),
      ...extra,
    }),
  );
}

const veeamOrg = org({ id: '2f0c6a4e-8d1b-4c3a-9e7f-5a6b7c8d9e0f', name: 'veeam.onmicrosoft.com' });

describe('VB365 simulator against the docs samples', () => {
  let h: VboHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('v1 GET /RestoreSessions prints the docs sample field for field (veeam-docs/003)', async () => {
    const sample = fixture<Item[]>('v1-restore-sessions.json');
    h = await startVbo('v1', world([veeamOrg], sessionsFrom(sample)));
    const body = await h.getJson(`${h.base}/v1/RestoreSessions`, await h.login());
    expect(wireDiff(body, sample, { mode: 'values', base: h.base })).toEqual([]);
    // The simulator's own base, absolute, lower-case path as in the docs.
    expect((body as Item[])[0]!._links).toEqual({
      self: { href: `${h.base}/v1/restoresessions/0800471b-d0e2-422b-9d7c-35d15661c3fb` },
      organization: { href: `${h.base}/v1/restoresessions/0800471b-d0e2-422b-9d7c-35d15661c3fb/organization` },
    });
    // Json.NET trims trailing zeros: .191 here (world times are ms), never .1910000.
    expect((body as Item[])[0]!.creationTime).toBe('2017-06-29T07:42:21.191Z');
    expect((body as Item[])[0]!.pointInTime).toBe('2017-06-26T22:07:39-07:00');
  });

  it('v4 GET /RestoreSessions items match the docs sample; the list itself is a page (veeam-docs/001)', async () => {
    const sample = fixture<Item[]>('v4-restore-sessions.json');
    h = await startVbo('v4', world([veeamOrg], sessionsFrom(sample)));
    const page = await h.getJson<Page<Item>>('RestoreSessions', await h.login());
    // The docs sample is not in creation order (2018 before 2017); compare by id.
    const byId = new Map(page.results.map((r) => [r.id, r]));
    expect(byId.size).toBe(2);
    for (const item of sample) expect(wireDiff(byId.get(item.id), item, { mode: 'values', base: h.base })).toEqual([]);
    expect(Object.keys(page).sort()).toEqual(['_links', 'limit', 'offset', 'results']);
  });

  it('v4 honours the docs request example startTimeFrom/startTimeTo', async () => {
    const sample = fixture<Item[]>('v4-restore-sessions.json');
    h = await startVbo('v4', world([veeamOrg], sessionsFrom(sample)));
    const token = await h.login();
    const page = await h.getJson<Page<Item>>('RestoreSessions?startTimeFrom=2018-06-29T07:00:00.8557416Z&startTimeTo=2018-06-29T08:00:00Z', token);
    expect(page.results.map((r) => r.id)).toEqual(['0800471b-d0e2-422b-9d7c-35d15661c3fb']);
  });

  it('v5 GET /RestoreSessions/{id} matches the docs sample', async () => {
    const sample = fixture<Item>('v5-restore-session.json');
    h = await startVbo('v5', world([veeamOrg], sessionsFrom([sample])));
    const body = await h.getJson(`RestoreSessions/${sample.id as string}`, await h.login());
    expect(wireDiff(body, sample, { mode: 'values', base: h.base })).toEqual([]);
  });

  it('v6 page: same keys, nesting, root-relative hrefs as the assembled sample (+ totalCount)', async () => {
    const sample = fixture<Page<Item>>('v6-restore-sessions-page.json');
    const contoso = org({ id: '3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', name: 'contoso.onmicrosoft.com' });
    const first = sample.results[0]!;
    const records = sessionsFrom(sample.results, {
      name: first.name as string,
      initiatedBy: first.initiatedBy as string,
      details: first.details as string,
      scopeName: first.scopeName as string,
      clientHost: first.clientHost as string,
      reason: first.reason as string,
    });
    // 30 more, later, so that a next page exists as in the sample.
    for (let i = 0; i < 30; i++)
      records.push(
        session({
          id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          creationTime: Date.parse('2021-11-17T00:00:00Z') + i * 1000,
          endTime: Date.parse('2021-11-17T01:00:00Z'),
        }),
      );
    h = await startVbo('v6', world([contoso], records));
    const page = await h.getJson<Page<Item>>('RestoreSessions', await h.login());
    expect(page.results).toHaveLength(30);
    // totalCount: in the v6 schema, absent from the assembled sample (part 2 section 4).
    expect(
      wireDiff({ ...page, results: page.results.slice(0, 1) }, sample, { mode: 'values', base: h.base, extraKeys: ['totalCount'], anyValue: ['setId'] }),
    ).toEqual([]);
    expect(page.totalCount).toBe(31);
    expect(page.setId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('v6 events page has the sample shape (HC get_events.html?ver=60)', async () => {
    const sample = fixture<Page<Item>>('v6-events-page.json');
    const id = 'd9d4d55d-0f3e-4b8a-a1c2-6e5f4d3c2b1a';
    h = await startVbo(
      'v6',
      world([veeamOrg], [session({ id, creationTime: Date.parse('2021-11-16T08:19:08Z'), endTime: Date.parse('2021-11-16T09:00:00Z'), eventCount: 2 })]),
      { serverUtcOffsetMinutes: 180 },
    );
    const page = await h.getJson<Page<Item>>(`RestoreSessions/${id}/Events`, await h.login());
    expect(wireDiff(page, sample, { mode: 'shape', base: h.base })).toEqual([]);
    expect(page._links).toEqual(sample._links);
    expect(page.results[0]!.startTime).toMatch(/\+03:00$/);
  });

  it('v1 GET /Organizations prints the docs sample quirks (string isBackedup, lower-case region)', async () => {
    const sample = fixture<Item>('v1-organization.json');
    const east = org({
      id: sample.id as string,
      name: sample.name as string,
      firstBackupTime: Date.parse(sample.firstBackuptime as string),
      lastBackupTime: Date.parse(sample.lastBackuptime as string),
    });
    h = await startVbo('v1', world([east], []));
    const body = await h.getJson<Item[]>('Organizations', await h.login());
    expect(Array.isArray(body)).toBe(true);
    expect(wireDiff(body[0], sample, { mode: 'values', base: h.base })).toEqual([]);
  });

  it('v1 GET /RestoreSessions/{id}/organization names the point in time', async () => {
    const sample = fixture<Item>('v1-restore-session-organization.json');
    const id = '6c1f0e2d-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
    // 3:00:25 PM at -07:00 (the default server offset, from the v1 docs) is 22:00:25Z.
    const s = session({ id, creationTime: Date.parse('2017-07-04T16:08:20.288Z'), pointInTime: Date.parse('2017-07-03T22:00:25Z') });
    h = await startVbo('v1', world([veeamOrg], [s]));
    const body = await h.getJson(`RestoreSessions/${id}/organization`, await h.login());
    expect(wireDiff(body, sample, { mode: 'values', base: h.base })).toEqual([]);
  });

  it('token response has the OWIN shape of the sample', async () => {
    const sample = fixture<Item>('token.json');
    h = await startVbo('v1', world([veeamOrg], []));
    const res = await h.postToken({ grant_type: 'password', username: USER, password: 'PassWord1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = await res.json();
    expect(
      wireDiff(body, sample, { mode: 'values', base: h.base, anyValue: ['access_token', 'refresh_token'] }).filter(
        (d) => !d.includes('.issued') && !d.includes('.expires'),
      ),
    ).toEqual([]);
    expect(wireDiff(body, sample, { mode: 'shape', base: h.base })).toEqual([]);
    expect((body as Item)['.issued']).toBe('Sun, 01 Nov 2026 00:00:00 GMT');
    expect((body as Item)['.expires']).toBe('Sun, 01 Nov 2026 01:00:00 GMT');
  });
});

describe('wireDiff, the comparator the docs tests rely on', () => {
  const sample = { id: 'a', creationTime: '2017-06-29T07:42:21.191694Z', _links: { self: { href: 'https://x:4443/v1/restoresessions/a' } } };
  const base = 'http://127.0.0.1:1';
  it('accepts an equal response on another host and flags each kind of difference', () => {
    const good = { id: 'a', creationTime: '2017-06-29T07:42:21.191Z', _links: { self: { href: `${base}/v1/restoresessions/a` } } };
    expect(wireDiff(good, sample, { mode: 'values', base })).toEqual([]);
    expect(wireDiff({ ...good, id: 'b' }, sample, { mode: 'values', base })).toHaveLength(1);
    expect(wireDiff({ ...good, creationTime: '2017-06-29T07:42:21.192Z' }, sample, { mode: 'values', base })).toHaveLength(1);
    expect(wireDiff({ ...good, creationTime: '2017-06-29T00:42:21.191-07:00' }, sample, { mode: 'shape', base })).toHaveLength(1);
    expect(wireDiff({ ...good, _links: { self: { href: '/v1/restoresessions/a' } } }, sample, { mode: 'shape', base })).toHaveLength(1);
    expect(wireDiff({ id: 'a', _links: good._links, extra: 1 }, sample, { mode: 'shape', base })).toHaveLength(2);
  });
});
