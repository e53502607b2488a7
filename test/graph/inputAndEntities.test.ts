import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { encodeGlobalId } from '../../src/graph/globalId.js';
import { startGraph, type GraphHarness } from './graphHarness.js';

type Errors = readonly { message: string; extensions?: Record<string, unknown> }[] | undefined;
const codes = (errors: Errors) => (errors ?? []).map((e) => e.extensions?.code);

describe('caller mistakes are BAD_USER_INPUT', () => {
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({ sims: { sessionsPerServer: 20 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(['', 'not-an-id', 'eHl6OmVtLTE6YWJj', encodeGlobalId('Organization', 'm365-1', 'x') + '='])('invalid id %j', async (id) => {
    for (const q of [
      'query($id: ID!) { node(id: $id) { id } }',
      'query($id: ID!) { nodes(ids: [$id]) { id } }',
      'query($id: ID!) { restoreSession(id: $id) { id } }',
    ]) {
      expect(codes((await h.run(q, { id })).errors)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('an id of another type where a type is required', async () => {
    const r = await h.run('query($id: ID!) { backupServer(id: $id) { id } }', { id: encodeGlobalId('Organization', 'm365-1', 'abc') });
    expect(codes(r.errors)).toEqual(['BAD_USER_INPUT']);
  });

  it.each([-1, 1001])('first %i', async (first) => {
    for (const field of ['restoreSessions', 'restorePoints', 'backupServers', 'organizations']) {
      expect(codes((await h.run(`query($first: Int) { ${field}(first: $first) { pageInfo { hasNextPage } } }`, { first })).errors)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('forged, foreign and other-filter cursors', async () => {
    const r = await h.run('{ restoreSessions(first: 2) { pageInfo { endCursor } } }');
    const cursor = (r.data as { restoreSessions: { pageInfo: { endCursor: string } } }).restoreSessions.pageInfo.endCursor;
    const q =
      'query($after: String, $filter: RestoreSessionFilter, $order: RestoreSessionOrder) { restoreSessions(first: 2, after: $after, filter: $filter, orderBy: $order) { edges { cursor } } }';
    expect((await h.run(q, { after: cursor })).errors).toBeUndefined();
    const forged = `${cursor.slice(0, -3)}${cursor.endsWith('A') ? 'B' : 'A'}AA`;
    for (const variables of [
      { after: forged },
      { after: 'garbage' },
      { after: cursor, filter: { sources: ['em-1'] } },
      { after: cursor, order: 'OLDEST_FIRST' },
    ]) {
      const res = await h.run(q, variables);
      expect(codes(res.errors)).toEqual(['BAD_USER_INPUT']);
    }
    expect(codes((await h.run('query($after: String) { backupServers(after: $after) { nodes { id } } }', { after: cursor })).errors)).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('unknown source names and bad DateTimes in filters', async () => {
    expect(codes((await h.run('{ restoreSessions(filter: { sources: ["nope"] }) { nodes { id } } }')).errors)).toEqual(['BAD_USER_INPUT']);
    expect(
      codes((await h.run('query($f: RestoreSessionFilter) { restoreSessions(filter: $f) { nodes { id } } }', { f: { createdAfter: 'yesterday' } })).errors),
    ).toEqual(['BAD_USER_INPUT']);
  });
});

describe('entities, lookups and small lists', () => {
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({ sims: { sessionsPerServer: 20 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('node/nodes refetch every entity kind by global id, batched per server', async () => {
    const r = await h.run(`{ restoreSessions(first: 200) { nodes { id __typename
      ... on EnterpriseManagerRestoreSession { backupServer { id } restorePoint { id backupServer { id } } links { rel type href name } }
      ... on Microsoft365RestoreSession { organization { id } events(first: 2) { nodes { id } pageInfo { hasNextPage } } } } } sources { id } }`);
    expect(r.errors).toBeUndefined();
    const data = r.data as { restoreSessions: { nodes: Record<string, unknown>[] }; sources: { id: string }[] };
    const ids = new Set<string>(data.sources.map((s) => s.id));
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'id') ids.add(x as string);
          else visit(x);
        }
      }
    };
    visit(data.restoreSessions.nodes);
    const list = [...ids];
    h.resetLogs();
    const n = await h.run('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: list });
    expect(n.errors).toBeUndefined();
    expect((n.data as { nodes: { id: string }[] }).nodes.map((x) => x.id)).toEqual(list);
    for (const em of h.sims.em)
      for (const t of ['RestoreSession', 'BackupServer', 'VmRestorePoint']) expect(em.log.count(`GET /api/query?type=${t}`)).toBeLessThanOrEqual(1);
    const missing = await h.run('query($id: ID!) { node(id: $id) { id } }', {
      id: encodeGlobalId('BackupServer', 'em-1', '00000000-0000-0000-0000-000000000000'),
    });
    expect(missing).toEqual({ data: { node: null } });
  });

  it('backupServers, organizations, restorePoints (VB365 points from v6), events paging', async () => {
    const r = await h.run(`{
      backupServers(first: 100) { nodes { name source { name } restoreSessions(first: 1) { nodes { id } } } outcomes { status } }
      organizations(first: 100) { nodes { name region restorePoints(first: 2) { nodes { pointInTime } } } outcomes { status } }
      restorePoints(first: 50) { nodes { __typename pointInTime ... on VmRestorePoint { vmName backupServer { name } } ... on Microsoft365RestorePoint { organization { name } } } outcomes { status } }
    }`);
    expect(r.errors).toBeUndefined();
    const d = r.data as Record<string, { nodes: unknown[]; outcomes: { status: string }[] }>;
    const emServers = h.sims.em.reduce((n, e) => n + e.world.backupServers.length, 0);
    expect(d.backupServers!.nodes).toHaveLength(emServers);
    expect(d.organizations!.nodes).toHaveLength(h.sims.vbo.reduce((n, v) => n + v.world.organizations.length, 0));
    const times = (d.restorePoints!.nodes as { pointInTime: string }[]).map((p) => p.pointInTime);
    expect([...times].sort().reverse()).toEqual(times);
    const session = h.sims.vbo[0]!.world.restoreSessions.find((s) => s.eventCount > 3)!;
    const id = encodeGlobalId('Microsoft365RestoreSession', 'm365-1', session.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await h.run(
        'query($id: ID!, $after: String) { restoreSession(id: $id) { ... on Microsoft365RestoreSession { events(first: 2, after: $after) { nodes { nativeId order } pageInfo { hasNextPage endCursor } } } } }',
        { id, after },
      );
      expect(page.errors).toBeUndefined();
      const ev = (page.data as { restoreSession: { events: { nodes: { nativeId: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } })
        .restoreSession.events;
      seen.push(...ev.nodes.map((x) => x.nativeId));
      if (!ev.pageInfo.hasNextPage) break;
      after = ev.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(session.eventCount);
    expect(new Set(seen).size).toBe(session.eventCount);
  });
});
