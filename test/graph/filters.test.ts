import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { encodeGlobalId } from '../../src/graph/globalId.js';
import { sortSessions, startGraph, worldSessions, type GraphHarness, type WorldSession } from './graphHarness.js';

const HOSTILE = 'a;b,c==d';
const QUOTED = 'x"y (z)';

const QUERY = `query Q($first: Int, $after: String, $order: RestoreSessionOrder, $filter: RestoreSessionFilter) {
  restoreSessions(first: $first, after: $after, orderBy: $order, filter: $filter) {
    edges { node { nativeId source { name } state result ... on EnterpriseManagerRestoreSession { vmDisplayName } } }
    pageInfo { hasNextPage endCursor }
    outcomes { source { name } status }
  }
}`;

interface Conn {
  edges: { node: { nativeId: string; source: { name: string } } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  outcomes: { source: { name: string }; status: string }[];
}

async function collect(
  h: GraphHarness,
  filter: Record<string, unknown>,
  order: 'NEWEST_FIRST' | 'OLDEST_FIRST' = 'NEWEST_FIRST',
  first = 25,
): Promise<{ keys: string[]; outcomes: Conn['outcomes'] }> {
  const keys: string[] = [];
  let after: string | null = null;
  for (;;) {
    const r = await h.run(QUERY, { first, after, order, filter });
    expect(r.errors).toBeUndefined();
    const c = (r.data as { restoreSessions: Conn }).restoreSessions;
    keys.push(...c.edges.map((e) => `${e.node.source.name}/${e.node.nativeId.toLowerCase()}`));
    if (!c.pageInfo.hasNextPage) return { keys, outcomes: c.outcomes };
    after = c.pageInfo.endCursor;
  }
}

const keys = (list: WorldSession[]) => list.map((s) => `${s.source}/${s.id}`);

describe('restoreSessions filters', () => {
  let h: GraphHarness;
  let world: WorldSession[];
  beforeAll(async () => {
    h = await startGraph({ sims: { sessionsPerServer: 60, world: { extraVmNames: [HOSTILE, QUOTED] } } });
    world = worldSessions(h.sims);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('states and results (pushed down to EM, finished by the gateway for VB365)', async () => {
    const got = await collect(h, { states: ['WORKING', 'STARTING'] });
    expect(got.keys).toEqual(keys(sortSessions(world.filter((s) => s.state === 'Working' || s.state === 'Starting'))));
    const failed = await collect(h, { results: ['FAILED', 'WARNING'] }, 'OLDEST_FIRST', 4);
    expect(failed.keys).toEqual(
      keys(
        sortSessions(
          world.filter((s) => s.result === 'Failed' || s.result === 'Warning'),
          'OLDEST_FIRST',
        ),
      ),
    );
    expect(failed.keys.length).toBeGreaterThan(0);
  });

  it('createdAfter (inclusive) / createdBefore (exclusive), both directions', async () => {
    const sorted = sortSessions(world);
    const from = sorted[150]!.timeMs;
    const to = sorted[40]!.timeMs;
    const filter = { createdAfter: new Date(from).toISOString(), createdBefore: new Date(to).toISOString() };
    const expected = world.filter((s) => s.timeMs >= from && s.timeMs < to);
    expect((await collect(h, filter, 'NEWEST_FIRST', 7)).keys).toEqual(keys(sortSessions(expected)));
    expect((await collect(h, filter, 'OLDEST_FIRST', 7)).keys).toEqual(keys(sortSessions(expected, 'OLDEST_FIRST')));
  });

  it.each([HOSTILE, QUOTED])('vmName %j travels as data, never as filter syntax; VB365 servers are skipped', async (vm) => {
    const got = await collect(h, { vmName: vm });
    const expected = world.filter((s) => s.vm === vm);
    expect(expected.length).toBeGreaterThan(0);
    expect(got.keys).toEqual(keys(sortSessions(expected)));
    expect(got.outcomes.filter((o) => o.source.name.startsWith('m365')).every((o) => o.status === 'SKIPPED')).toBe(true);
  });

  it('backupServer pins one EM server and one backup server', async () => {
    const em = h.sims.em[1]!;
    const server = em.world.backupServers[0]!;
    const got = await collect(h, { backupServer: encodeGlobalId('BackupServer', em.name, server.id) });
    const ids = new Set(em.world.restoreSessions.filter((s) => s.backupServer === 0).map((s) => s.id.toLowerCase()));
    expect(got.keys).toEqual(keys(sortSessions(world.filter((s) => s.source === em.name && ids.has(s.id)))));
    expect(got.outcomes.map((o) => o.status)).toEqual(['SKIPPED', 'OK', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
  });

  it.each([0, 1])('organization on VB365 server %i (v8, v6): matched through the organization list', async (i) => {
    const vbo = h.sims.vbo[i]!;
    const index = vbo.world.restoreSessions[0]!.organization;
    const org = vbo.world.organizations[index]!;
    const got = await collect(h, { organization: encodeGlobalId('Organization', vbo.name, org.id) }, 'NEWEST_FIRST', 5);
    const ids = new Set(vbo.world.restoreSessions.filter((s) => s.organization === index).map((s) => s.id.toLowerCase()));
    expect(ids.size).toBeGreaterThan(0);
    expect(got.keys).toEqual(keys(sortSessions(world.filter((s) => s.source === vbo.name && ids.has(s.id)))));
  });

  it('sources', async () => {
    const got = await collect(h, { sources: ['em-3', 'm365-2'] }, 'OLDEST_FIRST', 30);
    expect(got.keys).toEqual(
      keys(
        sortSessions(
          world.filter((s) => s.source === 'em-3' || s.source === 'm365-2'),
          'OLDEST_FIRST',
        ),
      ),
    );
    expect(got.outcomes.map((o) => o.status)).toEqual(['SKIPPED', 'SKIPPED', 'OK', 'SKIPPED', 'OK']);
    const none = await collect(h, { sources: [] });
    expect(none.keys).toEqual([]);
  });

  it('BackupServer.restoreSessions and Organization.restoreSessions are the filtered lists', async () => {
    const em = h.sims.em[0]!;
    const bs = em.world.backupServers[0]!;
    const r = await h.run(
      `query($id: ID!) { backupServer(id: $id) { name restoreSessions(first: 1000, filter: { results: [SUCCESS] }) { nodes { nativeId } } } }`,
      { id: encodeGlobalId('BackupServer', em.name, bs.id) },
    );
    expect(r.errors).toBeUndefined();
    const nodes = (r.data as { backupServer: { restoreSessions: { nodes: { nativeId: string }[] } } }).backupServer.restoreSessions.nodes;
    const expected = sortSessions(
      em.world.restoreSessions
        .filter((s) => s.backupServer === 0 && s.result === 'Success')
        .map((s) => ({ source: em.name, id: s.id.toLowerCase(), timeMs: s.creationTime, state: s.state })),
    );
    expect(nodes.map((n) => n.nativeId.toLowerCase())).toEqual(expected.map((s) => s.id));
  });
});

describe('VB365 versions without ordering or filtering (v1, v3, v4, v5, v7)', () => {
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({ sims: { em: 1, vbo: ['v1', 'v3', 'v4', 'v5', 'v7'], sessionsPerServer: 30 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(['NEWEST_FIRST', 'OLDEST_FIRST'] as const)('paging %s yields every session once, in order', async (order) => {
    const world = worldSessions(h.sims);
    expect((await collect(h, {}, order, 6)).keys).toEqual(keys(sortSessions(world, order)));
    const sorted = sortSessions(world);
    const filter = {
      createdAfter: new Date(sorted[120]!.timeMs).toISOString(),
      createdBefore: new Date(sorted[10]!.timeMs).toISOString(),
      states: ['STOPPED'],
    };
    const expected = world.filter((s) => s.timeMs >= sorted[120]!.timeMs && s.timeMs < sorted[10]!.timeMs && s.state === 'Stopped');
    expect((await collect(h, filter, order, 6)).keys).toEqual(keys(sortSessions(expected, order)));
  });
});
