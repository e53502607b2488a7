import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { sortSessions, startGraph, worldSessions, type GraphHarness } from './graphHarness.js';

/**
 * VB365 v6/v7 answer oldest first and carry `totalCount` (docs/veeam-wire.md Part 2 sections 4
 * and 7): a NEWEST_FIRST page costs head + tail, and a window's count seen within the last minute
 * lets the next page of that window read the tail directly, verified by the page's own count.
 */
const QUERY = `query Page($first: Int, $order: RestoreSessionOrder, $filter: RestoreSessionFilter) {
  restoreSessions(first: $first, orderBy: $order, filter: $filter) {
    edges { node { id nativeId } }
  }
}`;

interface Edge {
  node: { id: string; nativeId: string };
}

const ROUTE = 'GET /v6/RestoreSessions';

describe('VB365 v6 NEWEST_FIRST reuses the window total', () => {
  let h: GraphHarness;
  const clock = new ManualClock('2026-11-01T00:00:00Z');

  beforeAll(async () => {
    h = await startGraph({ sims: { em: 0, vbo: ['v6'], sessionsPerServer: 300, clock }, now: () => clock.now() });
  });
  afterAll(async () => {
    await h?.close();
  });

  const vbo = () => h.sims.vbo[0]!;
  /** One page; how many session list calls it cost and at which offsets. */
  async function page(variables: Record<string, unknown> = {}): Promise<{ edges: Edge[]; calls: number; offsets: number[] }> {
    h.resetLogs();
    const r = await h.run(QUERY, { first: 50, ...variables });
    expect(r.errors).toBeUndefined();
    const edges = (r.data as { restoreSessions: { edges: Edge[] } }).restoreSessions.edges;
    const lines = vbo()
      .log.all()
      .filter((l) => l.template === ROUTE);
    return { edges, calls: vbo().log.count(ROUTE), offsets: lines.map((l) => Number(new URLSearchParams(l.query).get('offset'))) };
  }
  /** The first 50 ids of the world in `order` (the ground truth), of the sessions whose time `keep` accepts. */
  const newest = (order: 'NEWEST_FIRST' | 'OLDEST_FIRST' = 'NEWEST_FIRST', keep: (t: number) => boolean = () => true) =>
    sortSessions(
      worldSessions(h.sims).filter((s) => keep(s.timeMs)),
      order,
    )
      .slice(0, 50)
      .map((s) => s.id);
  const ids = (edges: Edge[]) => edges.map((e) => e.node.nativeId.toLowerCase());

  it('the first page costs head + tail, the same page again one call at the tail', async () => {
    const first = await page();
    expect(first.calls).toBe(2);
    // 51 asked (first + 1): the tail of 300 sessions is at 249.
    expect(first.offsets).toEqual([0, 249]);
    expect(ids(first.edges)).toEqual(newest());

    const second = await page();
    expect(second.calls).toBe(1);
    expect(second.offsets).toEqual([249]);
    expect(second.edges).toEqual(first.edges);
  });

  it('a session that arrived since is on the page: the count does not verify and the two steps run', async () => {
    const world = vbo().world.restoreSessions;
    const added = vbo().sim.addRestoreSession({ creationTime: world[world.length - 1]!.creationTime + 60_000 });
    const after = await page();
    // One tail read at the old count (its totalCount is 301, and a page follows), then head + tail.
    expect(after.calls).toBe(3);
    expect(after.offsets).toEqual([249, 0, 250]);
    expect(ids(after.edges)[0]).toBe(added.id.toLowerCase());
    expect(ids(after.edges)).toEqual(newest());

    // The new count is remembered.
    const again = await page();
    expect(again.calls).toBe(1);
    expect(again.offsets).toEqual([250]);
    expect(again.edges).toEqual(after.edges);
  });

  it('a closed window (createdBefore) is remembered by its own bounds', async () => {
    const sorted = vbo().world.restoreSessions;
    const beforeMs = sorted[200]!.creationTime;
    const filter = { createdBefore: new Date(beforeMs).toISOString() };
    const expected = newest('NEWEST_FIRST', (t) => t < beforeMs);
    const first = await page({ filter });
    expect(first.calls).toBe(2);
    expect(ids(first.edges)).toEqual(expected);
    const second = await page({ filter });
    expect(second.calls).toBe(1);
    expect(second.edges).toEqual(first.edges);
  });

  it('an OLDEST_FIRST page teaches the count to the next NEWEST_FIRST page of its window', async () => {
    const sorted = vbo().world.restoreSessions;
    const afterMs = sorted[10]!.creationTime;
    const filter = { createdAfter: new Date(afterMs).toISOString() };
    const oldest = await page({ filter, order: 'OLDEST_FIRST' });
    // Head only (a refetch may follow when ties straddle the batch edge): each read learns the count.
    expect(oldest.offsets.every((o) => o === 0)).toBe(true);
    expect(ids(oldest.edges)).toEqual(newest('OLDEST_FIRST', (t) => t >= afterMs));
    const newestPage = await page({ filter });
    expect(newestPage.calls).toBe(1);
    expect(ids(newestPage.edges)).toEqual(newest('NEWEST_FIRST', (t) => t >= afterMs));
  });

  it('a count older than a minute is not used', async () => {
    const warm = await page();
    expect(warm.calls).toBe(1);
    clock.advance(61_000);
    const cold = await page();
    expect(cold.calls).toBe(2);
    expect(cold.edges).toEqual(warm.edges);
  });
});
