import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { startSimulators, type SimulatedVbo, type Simulators } from '../../src/sim/startSimulators.js';
import type { VboClientOptions } from '../../src/upstream/vbo/VboClient.js';
import { VboUnsupportedError } from '../../src/upstream/vbo/VboUnsupportedError.js';
import { VBO_API_VERSIONS, type VboApiVersion } from '../../src/upstream/vbo/types.js';
import { START, closeClients, collect, makeClient, rejectionOf } from './vboClientHarness.js';

const SESSIONS = 75;
const clock = new ManualClock(START);
let sims: Simulators;

beforeAll(async () => {
  sims = await startSimulators({ em: 0, vbo: [...VBO_API_VERSIONS], sessionsPerServer: SESSIONS, clock });
});
afterAll(async () => {
  await closeClients();
  await sims.close();
});
afterEach(closeClients);

function server(v: VboApiVersion): SimulatedVbo {
  const s = sims.vbo.find((x) => x.apiVersion === v)!;
  s.log.reset();
  return s;
}

function clientFor(s: SimulatedVbo, extra: Partial<VboClientOptions> = {}) {
  return makeClient({ url: s.url, apiVersion: s.apiVersion, username: s.username, password: s.password, now: () => clock.now(), ...extra }).client;
}

const n = (v: VboApiVersion): number => Number(v.slice(1));

describe.each(VBO_API_VERSIONS.map((v) => [v]))('VboClient against a VB365 %s simulator', (v) => {
  it('lists every restore session exactly once, following pages to the end (offset paging)', async () => {
    const s = server(v);
    const client = clientFor(s, { pageSize: 20 });
    const pages = [];
    for await (const p of client.iterateRestoreSessions()) pages.push(p);
    const ids = pages.flatMap((p) => p.items.map((i) => i.id));
    expect(ids).toHaveLength(s.world.restoreSessions.length);
    expect(new Set(ids)).toEqual(new Set(s.world.restoreSessions.map((x) => x.id)));
    // v1: one bare array; v2+: ceil(75 / 20) = 4 pages, the last one short.
    expect(s.log.count(`GET /${v}/RestoreSessions`)).toBe(v === 'v1' ? 1 : 4);
    expect(s.log.count(`POST /${v}/token`)).toBe(1);
    expect(pages[0]!.shape).toBe(v === 'v1' ? 'array' : 'page');
    expect(pages[0]!.serverFiltered).toEqual({ startTime: n(v) >= 4, endTime: n(v) >= 8, order: n(v) >= 8, paging: n(v) >= 2 });
    expect(pages.at(-1)!.hasMore).toBe(false);
    // v1 is never sent parameters it does not know.
    if (v === 'v1') expect(s.log.all().find((e) => e.path === '/v1/RestoreSessions')!.query).toBe('');
  });

  it('lists the same sessions by following _links.next (absolute hrefs to v5, root-relative from v6)', async () => {
    const s = server(v);
    const client = clientFor(s, { pageSize: 20, paging: 'links' });
    const items = await collect(client.iterateRestoreSessions());
    expect(items.map((i) => i.id).sort()).toEqual(s.world.restoreSessions.map((x) => x.id).sort());
    expect(s.log.count(`GET /${v}/RestoreSessions`)).toBe(v === 'v1' ? 1 : 4);
    // Every link is an absolute URL on the configured origin, whatever form the server used.
    for (const i of items) {
      expect(i.links.self).toBe(`${s.url}/${v}/restoresessions/${i.id}`);
      expect(i.links.organization).toBe(`${s.url}/${v}/restoresessions/${i.id}/organization`);
      if (n(v) >= 6) expect(i.links.events).toBe(`${s.url}/${v}/restoresessions/${i.id}/events`);
      expect(i.creationTime).toMatch(/Z$/);
    }
  });

  it('decodes one session, its organization and its events page by page', async () => {
    const s = server(v);
    const client = clientFor(s);
    const world = s.world.restoreSessions.find((x) => x.eventCount >= 12)!;
    const session = await client.getRestoreSession(world.id);
    expect(session).toMatchObject({ id: world.id, type: world.type, state: expect.any(String) });
    if (v === 'v1') expect(session.pointInTime).toMatch(/-07:00$/);
    const org = await client.getRestoreSessionOrganization(world.id);
    expect(org.id).toBe(s.world.organizations[world.organization]!.id);

    const pages = [];
    for await (const p of client.iterateRestoreSessionEvents(world.id, { limit: 5 })) pages.push(p);
    const events = pages.flatMap((p) => p.items);
    expect(events).toHaveLength(world.eventCount);
    expect(new Set(events.map((e) => e.id)).size).toBe(world.eventCount);
    expect(events.map((e) => e.order)).toEqual([...events.map((e) => e.order)].sort((a, b) => a! - b!));
    expect(s.log.count(`GET /${v}/RestoreSessions/{id}/Events`)).toBe(Math.ceil(world.eventCount / 5));
    expect(events[0]!.links.restoreSession).toBe(`${s.url}/${v}/restoresessions/${world.id}`);
    const one = await client.listRestoreSessionEvents(world.id, { offset: 10, limit: 2 });
    expect(one.items.map((e) => e.id)).toEqual(events.slice(10, 12).map((e) => e.id));
  });

  it('lists every organization (all pages in v8) and gets one', async () => {
    const s = server(v);
    const client = clientFor(s, { pageSize: 2 });
    const orgs = await client.listOrganizations();
    expect(orgs.map((o) => o.id)).toEqual(s.world.organizations.map((o) => o.id));
    expect(s.log.count(`GET /${v}/Organizations`)).toBe(v === 'v8' ? Math.ceil(s.world.organizations.length / 2) : 1);
    s.world.organizations.forEach((w, i) => {
      // v1's "true" strings and every casing of isBackedup decode to booleans; v1's `worldwide` is normalised.
      expect(orgs[i]!.isBackedUp).toBe(w.isBackedUp);
      if (w.region === 'Worldwide') expect(orgs[i]!.region).toBe('Worldwide');
      expect(orgs[i]!.links.self).toBe(`${s.url}/${v}/Organizations/${w.id}`);
      if (w.firstBackupTime !== undefined) expect(Date.parse(orgs[i]!.firstBackupTime!)).toBe(w.firstBackupTime);
    });
    const one = await client.getOrganization(s.world.organizations[0]!.id);
    expect(one.name).toBe(s.world.organizations[0]!.name);
  });

  it('restore points: by organization and time window from v6, a clear error without a request before', async () => {
    const s = server(v);
    const client = clientFor(s, { pageSize: 50 });
    const org = s.world.organizations[0]!;
    if (n(v) < 6) {
      const err = await rejectionOf(client.listRestorePoints({ organizationId: org.id }));
      expect(err).toBeInstanceOf(VboUnsupportedError);
      expect(err.message).toBe(`m365-test: listRestorePoints is not supported by VB365 REST API ${v} (/RestorePoints is documented from v6)`);
      await expect(collect(client.iterateRestorePoints())).rejects.toBeInstanceOf(VboUnsupportedError);
      await expect(client.getServiceInstance()).rejects.toBeInstanceOf(VboUnsupportedError);
      expect(s.log.count()).toBe(0);
      return;
    }
    const expected = s.world.restorePoints.filter((p) => p.organization === 0);
    const all = await collect(client.iterateRestorePoints({ organizationId: org.id }));
    expect(all.map((p) => p.id).sort()).toEqual(expected.map((p) => p.id).sort());
    expect(all.every((p) => p.organizationId === org.id)).toBe(true);
    expect(s.log.count(`GET /${v}/RestorePoints`)).toBe(v === 'v6' ? 1 : Math.ceil(expected.length / 50));

    const from = expected[10]!.backupTime;
    const to = expected[40]!.backupTime;
    const window = await client.listRestorePoints({ organizationId: org.id, from: new Date(from), to: new Date(to), limit: 100 });
    expect(window.items.map((p) => p.id).sort()).toEqual(
      expected
        .slice(10, 41)
        .map((p) => p.id)
        .sort(),
    );
    expect(window.serverFiltered.time).toBe(v !== 'v6');
    expect(window.clientFiltered.time).toBe(v === 'v6');
    const sent = s.log.all().at(-1)!.query;
    expect(sent.includes('from=')).toBe(v !== 'v6');

    const instance = await client.getServiceInstance();
    expect(instance).toEqual({ version: s.world.version, installationId: s.world.installationId });
  });

  it('sends time filters and order only to versions that apply them, and says which it did', async () => {
    const s = server(v);
    const client = clientFor(s, { pageSize: 200 });
    const sorted = [...s.world.restoreSessions].sort((a, b) => a.creationTime - b.creationTime);
    const from = new Date(sorted[20]!.creationTime);
    const to = new Date(sorted[49]!.creationTime);
    const list = await client.listRestoreSessions({ startTimeFrom: from, startTimeTo: to, orderAsc: true, orderBy: 'CreationTime' });
    const query = s.log.all().find((e) => e.path === `/${v}/RestoreSessions`)!.query;
    expect(query.includes('startTimeFrom=')).toBe(n(v) >= 4);
    expect(query.includes('orderAsc=true')).toBe(n(v) >= 8);
    if (n(v) >= 4) {
      expect(list.serverFiltered.startTime).toBe(true);
      expect(list.items.map((i) => i.id).sort()).toEqual(
        sorted
          .slice(20, 50)
          .map((x) => x.id)
          .sort(),
      );
    } else {
      // Not emulated: the caller gets everything and the flag telling it to filter.
      expect(list.serverFiltered.startTime).toBe(false);
      expect(list.items).toHaveLength(SESSIONS);
    }
    if (v === 'v8') {
      const times = list.items.map((i) => Date.parse(i.creationTime));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      const desc = await client.listRestoreSessions({ limit: 5 });
      expect(desc.items.map((i) => i.id)).toEqual(
        sorted
          .slice(-5)
          .reverse()
          .map((x) => x.id),
      );
    }
  });

  it('ping reports the version (v6+) and close logs out on v7+', async () => {
    const s = server(v);
    const client = clientFor(s);
    const ping = await client.ping();
    expect(ping).toMatchObject({ source: 'm365-test', apiVersion: v, tokenMs: 0, latencyMs: 0 });
    expect(ping.serverVersion).toBe(n(v) >= 6 ? s.world.version : undefined);
    expect(Date.parse(ping.tokenExpiresAt!)).toBe(clock.now() + 3600_000);
    await client.close();
    await client.close();
    expect(s.log.count(`POST /${v}/token/logout`)).toBe(n(v) >= 7 ? 1 : 0);
    await expect(client.listOrganizations()).rejects.toThrow('VboClient is closed');
  });
});
