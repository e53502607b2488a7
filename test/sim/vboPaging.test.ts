import { afterEach, describe, expect, it } from '@jest/globals';
import { Random } from '../../src/sim/Random.js';
import type { VboApiVersion } from '../../src/sim/vbo/VboApiVersion.js';
import { generateVboWorld } from '../../src/sim/world/generateWorld.js';
import type { VboRestoreSession, VboServerWorld } from '../../src/sim/world/types.js';
import { org, session, startVbo, world } from './vboHarness.js';
import type { Page, VboHarness } from './vboHarness.js';

type Item = Record<string, unknown>;
const T0 = Date.parse('2026-10-01T12:00:00.250Z');

/** 60 sessions on 6 creation times, 10 per time, inserted in random id order. */
function tiedWorld(): VboServerWorld {
  const r = new Random('ties');
  const sessions: VboRestoreSession[] = [];
  for (let i = 0; i < 60; i++) {
    const t = T0 + Math.floor(i / 10) * 60_000;
    sessions.push(session({ id: r.guid(), creationTime: t, ...(i % 4 === 0 ? {} : { endTime: t + 1000 * ((i * 7) % 13) + 500 }) }));
  }
  return world([org({ id: r.guid(), name: 'contoso.onmicrosoft.com' })], sessions);
}

const order = (w: VboServerWorld): string[] =>
  [...w.restoreSessions].sort((a, b) => a.creationTime - b.creationTime || (a.id < b.id ? -1 : 1)).map((s) => s.id);

describe('VB365 RestoreSessions paging and filters', () => {
  let h: VboHarness | undefined;
  const start = async (version: VboApiVersion, w: VboServerWorld): Promise<VboHarness> => {
    h = await startVbo(version, w);
    return h;
  };
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it.each([['v5'], ['v8']] as [VboApiVersion][])('%s: ties on creationTime are ordered by id, never split or repeated across pages', async (version) => {
    const w = tiedWorld();
    const s = await start(version, w);
    const token = await s.login();
    const seen: string[] = [];
    for (let offset = 0; offset < 60; offset += 7)
      seen.push(...(await s.getJson<Page<Item>>(`RestoreSessions?offset=${offset}&limit=7`, token)).results.map((r) => r.id as string));
    expect(seen).toEqual(version === 'v8' ? order(w).reverse() : order(w));
  });

  it('start-time bounds are inclusive at 100 ns precision and honour offsets', async () => {
    const w = tiedWorld();
    const s = await start('v6', w);
    const token = await s.login();
    const count = async (q: string): Promise<number> => (await s.getJson<Page<Item>>(`RestoreSessions?${q}&limit=100`, token)).totalCount!;
    expect(await count('startTimeFrom=2026-10-01T12:00:00.25Z')).toBe(60);
    expect(await count('startTimeFrom=2026-10-01T12:00:00.2500001Z')).toBe(50);
    expect(await count('startTimeTo=2026-10-01T12:00:00.2500000Z')).toBe(10);
    expect(await count('startTimeTo=2026-10-01T12:00:00.2499999Z')).toBe(0);
    expect(await count(`startTimeFrom=${encodeURIComponent('2026-10-01T15:01:00.25+03:00')}&startTimeTo=2026-10-01T12:02:00.25Z`)).toBe(20);
    expect(await count('startTimeFrom=2026-10-01T12:05:00.251Z')).toBe(0);
    expect(await count('startTimeFrom=2026-10-02&startTimeTo=2026-10-01')).toBe(0);
  });

  it('v8 orderBy=EndTime puts running sessions first ascending, last descending; endTime filters drop them', async () => {
    const w = tiedWorld();
    const s = await start('v8', w);
    const token = await s.login();
    const asc = (await s.getJson<Page<Item>>('RestoreSessions?orderBy=EndTime&orderAsc=true&limit=100', token)).results;
    expect(asc.slice(0, 15).every((r) => r.endTime === null)).toBe(true);
    const ends = asc.slice(15).map((r) => Date.parse(r.endTime as string));
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
    const desc = (await s.getJson<Page<Item>>('RestoreSessions?orderby=endtime&limit=100', token)).results;
    expect(desc.map((r) => r.id)).toEqual(asc.map((r) => r.id).reverse());
    const from = new Date(T0 + 60_000 * 5).toISOString();
    const filtered = (await s.getJson<Page<Item>>(`RestoreSessions?endTimeFrom=${from}&limit=100`, token)).results;
    expect(filtered.length).toBe(w.restoreSessions.filter((x) => x.endTime !== undefined && x.endTime >= T0 + 300_000).length);
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((r) => r.endTime !== null)).toBe(true);
    const to = (await s.getJson<Page<Item>>(`RestoreSessions?endTimeTo=${new Date(T0 + 1500).toISOString()}&orderAsc=true`, token)).results;
    expect(to.map((r) => r.id)).toEqual(
      w.restoreSessions
        .filter((x) => x.endTime !== undefined && x.endTime <= T0 + 1500)
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((x) => x.id),
    );
  });

  it('serves a deep 500-item page of 100k sessions touching only O(log n + page) records', async () => {
    const w = generateVboWorld('big', { seed: 5, sessionsPerServer: 100_000 });
    const ids = order(w);
    const sessions = w.restoreSessions;
    let reads = 0;
    w.restoreSessions = new Proxy(sessions, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) reads++;
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const s = await start('v7', w);
    const token = await s.login();
    const from = sessions[1000]!.creationTime;
    const firstIndex = sessions.findIndex((x) => x.creationTime >= from);
    reads = 0;
    const page = await s.getJson<Page<Item>>(`RestoreSessions?startTimeFrom=${new Date(from).toISOString()}&offset=90000&limit=500`, token);
    expect(page.results.map((r) => r.id)).toEqual(ids.slice(firstIndex + 90_000, firstIndex + 90_500));
    expect(page.totalCount).toBe(100_000 - firstIndex);
    expect(reads).toBeLessThan(1_200);
    await s.close();
    const v8 = await start('v8', w);
    const t8 = await v8.login();
    reads = 0;
    const newest = await v8.getJson<Page<Item>>('RestoreSessions?offset=50000&limit=500', t8);
    expect(newest.results.map((r) => r.id)).toEqual([...ids].reverse().slice(50_000, 50_500));
    expect(reads).toBeLessThan(1_200);
  });

  it('v7 RestorePoints filter by organization, time window, flags and order; v6 by exact backupTime', async () => {
    const w = generateVboWorld('points', { seed: 9, sessionsPerServer: 10, spanDays: 30 });
    const o = w.organizations.findIndex((x) => x.isBackedUp);
    const orgId = w.organizations[o]!.id;
    const mine = w.restorePoints.filter((p) => p.organization === o);
    const s = await start('v7', w);
    const token = await s.login();
    const from = mine[5]!.backupTime;
    const to = mine[15]!.backupTime;
    const page = await s.getJson<Page<Item>>(
      `RestorePoints?organizationId=${orgId.toUpperCase()}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&orderAsc=true&limit=100`,
      token,
    );
    expect(page.results.map((r) => r.id)).toEqual(mine.slice(5, 16).map((p) => p.id));
    expect(page.totalCount).toBe(11);
    expect(page.results.every((r) => r.organizationId === orgId)).toBe(true);
    const ltc = await s.getJson<Page<Item>>(`RestorePoints?isLongTermCopy=true&limit=1000`, token);
    expect(ltc.results.length).toBe(w.restorePoints.filter((p) => p.isLongTermCopy).length);
    expect(ltc.results.length).toBeGreaterThan(0);
    expect((await s.get('RestorePoints?isCopy=perhaps', token)).status).toBe(400);
    expect((await s.getJson<Page<Item>>(`RestorePoints?organizationId=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee`, token)).results).toEqual([]);
    await s.close();
    const v6 = await start('v6', w);
    const t6 = await v6.login();
    const exact = await v6.getJson<Item[]>(`RestorePoints?backupTime=${new Date(from).toISOString()}&from=2000-01-01T00:00:00Z`, t6);
    expect(exact.map((r) => r.id)).toEqual(w.restorePoints.filter((p) => p.backupTime === from).map((p) => p.id));
  });

  it('v8 Organizations page through _links.next', async () => {
    const w = generateVboWorld('orgs', { seed: 2, sessionsPerServer: 5 });
    const s = await start('v8', w);
    const token = await s.login();
    const seen: string[] = [];
    let href: string | undefined = '/v8/Organizations?limit=2';
    while (href) {
      const page: Page<Item> = await s.getJson<Page<Item>>(href, token);
      seen.push(...page.results.map((r) => r.id as string));
      href = page._links.next?.href;
    }
    expect(seen).toEqual(w.organizations.map((x) => x.id));
    const one = await s.getJson<Page<Item>>(`Organizations?msid=${w.organizations[1]!.msid}`, token);
    expect(one.results.map((r) => r.id)).toEqual([w.organizations[1]!.id]);
    const byBackedUp = await s.getJson<Page<Item>>(`Organizations?backedUpOrganizationId=${one.results[0]!.backedUpOrganizationId as string}`, token);
    expect(byBackedUp.results.map((r) => r.id)).toEqual([w.organizations[1]!.id]);
  });
});

describe('VB365 records changed in place', () => {
  it('a session ended in place moves in the v8 EndTime order on the next request', async () => {
    const w = tiedWorld();
    const h = await startVbo('v8', w);
    try {
      const token = await h.login();
      const first = (await h.getJson<Page<Item>>('RestoreSessions?orderBy=EndTime&orderAsc=true&limit=100', token)).results;
      expect(first[0]!.endTime).toBeNull();
      const running = w.restoreSessions.find((s) => s.id === first[0]!.id)!;
      running.endTime = T0 + 3_600_000;
      running.state = 'Stopped';
      const second = (await h.getJson<Page<Item>>('RestoreSessions?orderBy=EndTime&orderAsc=true&limit=100', token)).results;
      expect(second.at(-1)!.id).toBe(running.id);
      expect(second.at(-1)!.state).toBe('Stopped');
    } finally {
      await h.close();
    }
  });
});
