import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { decodeGlobalId } from '../../src/graph/globalId.js';
import { sortSessions, startGraph, worldSessions, type GraphHarness } from './graphHarness.js';

const QUERY = `query Page($first: Int, $after: String, $order: RestoreSessionOrder, $filter: RestoreSessionFilter) {
  restoreSessions(first: $first, after: $after, orderBy: $order, filter: $filter) {
    edges { cursor node { id nativeId creationTime source { name } } }
    pageInfo { hasNextPage endCursor }
    outcomes { source { name } status }
  }
}`;

interface Edge {
  cursor: string;
  node: { id: string; nativeId: string; creationTime: string; source: { name: string } };
}
interface Conn {
  edges: Edge[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const keyOf = (e: Edge) => `${e.node.source.name}/${e.node.nativeId.toLowerCase()}`;

describe('merged restoreSessions across 3 EM + 2 VB365', () => {
  let h: GraphHarness;
  const clock = new ManualClock('2026-11-01T00:00:00Z');

  async function page(variables: Record<string, unknown>): Promise<Conn> {
    const r = await h.run(QUERY, variables);
    expect(r.errors).toBeUndefined();
    return (r.data as { restoreSessions: Conn }).restoreSessions;
  }

  async function all(first: number, order: 'NEWEST_FIRST' | 'OLDEST_FIRST' = 'NEWEST_FIRST', between?: (pageNo: number) => void): Promise<Edge[]> {
    const out: Edge[] = [];
    let after: string | null = null;
    for (let n = 1; n < 1000; n++) {
      const p: Conn = await page({ first, after, order });
      out.push(...p.edges);
      between?.(n);
      if (!p.pageInfo.hasNextPage) return out;
      after = p.pageInfo.endCursor;
    }
    throw new Error('paging did not end');
  }

  beforeAll(async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40, clock }, now: () => clock.now() });
    // Ties on creationTime: within one server and across all five.
    const t = h.sims.em[0]!.world.restoreSessions[20]!.creationTime;
    for (let i = 0; i < 3; i++) h.sims.em[0]!.sim.addRestoreSession({ creationTime: t });
    h.sims.em[1]!.sim.addRestoreSession({ creationTime: t });
    h.sims.em[2]!.sim.addRestoreSession({ creationTime: t });
    for (let i = 0; i < 2; i++) h.sims.vbo[0]!.sim.addRestoreSession({ creationTime: t });
    for (let i = 0; i < 4; i++) h.sims.vbo[1]!.sim.addRestoreSession({ creationTime: t });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('one page holds every session in (creationTime, source, id) order, ties included', async () => {
    const expected = sortSessions(worldSessions(h.sims));
    const p = await page({ first: 1000 });
    expect(p.edges.map(keyOf)).toEqual(expected.map((s) => `${s.source}/${s.id}`));
    expect(p.pageInfo.hasNextPage).toBe(false);
    for (const e of p.edges) expect(decodeGlobalId(e.node.id).source).toBe(e.node.source.name);
  });

  it.each([3, 7, 13])('paging %i at a time yields every session exactly once, in order (both directions)', async (first) => {
    for (const order of ['NEWEST_FIRST', 'OLDEST_FIRST'] as const) {
      const got = await all(first, order);
      expect(got.map(keyOf)).toEqual(sortSessions(worldSessions(h.sims), order).map((s) => `${s.source}/${s.id}`));
    }
  });

  it('page 5 costs the same upstream requests as page 1', async () => {
    // Earlier tests taught the v6 source this window's total (reused for 60 s): start cold, like page 5.
    clock.advance(61_000);
    const counts: Record<string, number>[] = [];
    let after: string | null = null;
    for (let n = 1; n <= 5; n++) {
      h.resetLogs();
      const p = await page({ first: 10, after });
      counts.push(h.requests());
      after = p.pageInfo.endCursor;
    }
    expect(counts[4]).toEqual(counts[0]);
  });

  it('sessions added between pages cause no duplicate and no gap', async () => {
    const before = sortSessions(worldSessions(h.sims));
    const newer = new Set<string>();
    const got = await all(9, 'NEWEST_FIRST', (n) => {
      if (n !== 2) return;
      // After page 2: one session newer than everything (must not appear: it sorts before the cursor) and
      // older ones on every server (must appear exactly once on later pages).
      const newest = before[0]!.timeMs;
      const oldest = before[before.length - 1]!.timeMs;
      const added = h.sims.em[1]!.sim.addRestoreSession({ creationTime: newest + 60_000 });
      newer.add(`em-2/${added.id.toLowerCase()}`);
      for (const s of h.sims.em) s.sim.addRestoreSession({ creationTime: oldest - 1000 });
      for (const s of h.sims.vbo) s.sim.addRestoreSession({ creationTime: oldest - 1000, endTime: oldest });
      h.sims.vbo[0]!.sim.addRestoreSession({ creationTime: before[40]!.timeMs - 1, endTime: oldest });
    });
    const keys = got.map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    const expected = sortSessions(worldSessions(h.sims))
      .map((s) => `${s.source}/${s.id}`)
      .filter((k) => !newer.has(k));
    expect(keys).toEqual(expected);
  });
});
