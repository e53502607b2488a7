import { describe, expect, it } from '@jest/globals';
import { createCursorCodec, cursorFingerprint } from '../../src/graph/cursor.js';
import { mergeSorted, type MergeResult, type SourceBatch } from '../../src/graph/mergeSorted.js';
import { planSourceRequest, type PagePosition, type SourceRequestPlan, type TimeWindow } from '../../src/graph/planSourceRequest.js';
import { compareSortKeys, sortKeyFromTuple, sortKeyToTuple, type SortKey, type TimeOrder } from '../../src/graph/sortKey.js';
import { lcg } from './lcg.js';

interface Item {
  id: string;
  t: number;
  /** For filter tests: whether a gateway-side condition accepts the item. */
  ok: boolean;
}

const ORDERS: TimeOrder[] = ['NEWEST_FIRST', 'OLDEST_FIRST'];
const SOURCES = ['em-1', 'em-2', 'em-3', 'm365-1', 'm365-2'];
const timeOf = (i: Item) => i.t;
const nativeIdOf = (i: Item) => i.id;
const keyOf = (source: string, i: Item): SortKey => ({ timeMs: i.t, source, nativeId: i.id });

/**
 * What an upstream API does: filter by creation time only, sort by creation time only, and return
 * ties in an arbitrary order (here a seeded shuffle, different on every call), `limit` at most.
 */
class FakeServer {
  requests = 0;
  constructor(
    readonly source: string,
    readonly items: Item[],
    private readonly rng: ReturnType<typeof lcg>,
  ) {}

  fetch(plan: SourceRequestPlan, order: TimeOrder): Item[] {
    this.requests++;
    const inWindow = this.items.filter((i) => (plan.fromMs === null || i.t >= plan.fromMs) && (plan.toMs === null || i.t < plan.toMs));
    const byTime = new Map<number, Item[]>();
    for (const i of inWindow) byTime.set(i.t, [...(byTime.get(i.t) ?? []), i]);
    const times = [...byTime.keys()].sort((a, b) => (order === 'NEWEST_FIRST' ? b - a : a - b));
    return times.flatMap((t) => this.rng.shuffle([...byTime.get(t)!])).slice(0, plan.limit);
  }
}

function makeServers(seed: number, perSource: () => number, timeRange: number, okRate = 1): FakeServer[] {
  const rng = lcg(seed);
  return SOURCES.map((source) => {
    const items: Item[] = [];
    const n = perSource();
    for (let k = 0; k < n; k++)
      items.push({ id: `${rng.int(0xffffff).toString(16).padStart(6, '0')}-${k}`, t: 1_000_000 + rng.int(timeRange), ok: rng.next() < okRate });
    return new FakeServer(source, items, lcg(seed * 31 + source.length));
  });
}

function expectedOrder(servers: FakeServer[], order: TimeOrder, keep: (i: Item) => boolean = () => true): SortKey[] {
  return servers.flatMap((s) => s.items.filter(keep).map((i) => keyOf(s.source, i))).sort((a, b) => compareSortKeys(a, b, order));
}

interface PagingOptions {
  first: number;
  order: TimeOrder;
  include?: (i: Item) => boolean;
  window?: TimeWindow;
  /** Called after each page with the cursor's key: the test may change the servers' data here. */
  between?: (pageIndex: number, cursorKey: SortKey) => void;
  /** Refetch starved servers with a larger limit until the page is full (what the connection layer may do). */
  fillPages?: boolean;
}

interface PagingRun {
  keys: SortKey[];
  pages: MergeResult<Item>[];
  /** Upstream requests per page, summed over servers. */
  requestsPerPage: number[];
}

/** Pages through the fake servers exactly as the connection layer will: plan, fetch, merge, cursor. */
function pageAll(servers: FakeServer[], o: PagingOptions): PagingRun {
  const codec = createCursorCodec();
  const fingerprint = cursorFingerprint('test', o.window ?? {}, o.order);
  const run: PagingRun = { keys: [], pages: [], requestsPerPage: [] };
  let after: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const before = servers.reduce((n, s) => n + s.requests, 0);
    let position: PagePosition | null = null;
    if (after !== null) {
      const decoded = codec.decode(after, fingerprint);
      position = { key: sortKeyFromTuple(decoded.key), ties: decoded.ties };
    }
    const plans = new Map<FakeServer, SourceRequestPlan>();
    for (const s of servers) {
      const plan = planSourceRequest({ source: s.source, order: o.order, first: o.first, after: position, window: o.window ?? { fromMs: null, toMs: null } });
      if (plan !== null) plans.set(s, plan);
    }
    const batches = new Map<FakeServer, SourceBatch<Item>>();
    for (const [s, plan] of plans) batches.set(s, { source: s.source, items: s.fetch(plan, o.order), limit: plan.limit });
    const merge = () =>
      mergeSorted({ batches: [...batches.values()], order: o.order, first: o.first, after: position?.key ?? null, timeOf, nativeIdOf, include: o.include });
    let result = merge();
    while (result.items.length < o.first && result.starved.length > 0 && (o.fillPages ?? true)) {
      for (const { source } of result.starved) {
        const s = servers.find((x) => x.source === source)!;
        const plan = { ...plans.get(s)!, limit: plans.get(s)!.limit * 2 };
        plans.set(s, plan);
        batches.set(s, { source, items: s.fetch(plan, o.order), limit: plan.limit });
      }
      result = merge();
    }
    run.pages.push(result);
    run.keys.push(...result.items.map((m) => m.key));
    run.requestsPerPage.push(servers.reduce((n, s) => n + s.requests, 0) - before);
    if (!result.hasNextPage) return run;
    const end = result.items[result.items.length - 1];
    if (end === undefined) throw new Error('an empty page claims a next page: no progress');
    after = codec.encode(fingerprint, { key: sortKeyToTuple(end.key), ties: result.endTies });
    o.between?.(page, end.key);
  }
  throw new Error('paging did not end');
}

function expectStrictlyOrdered(keys: SortKey[], order: TimeOrder): void {
  for (let i = 1; i < keys.length; i++) {
    if (compareSortKeys(keys[i - 1]!, keys[i]!, order) >= 0)
      throw new Error(`not strictly ordered at ${i}: ${JSON.stringify(keys[i - 1])} then ${JSON.stringify(keys[i])}`);
  }
}

describe('mergeSorted', () => {
  it('merges 5 sources with heavy ties into exactly the full sort (40 seeds, both orders)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = lcg(seed);
      const servers = makeServers(seed, () => rng.int(60), 12);
      for (const order of ORDERS) {
        const batches = servers.map((s) => ({ source: s.source, items: rng.shuffle([...s.items]), limit: s.items.length + 1 }));
        const all = expectedOrder(servers, order);
        const result = mergeSorted({ batches, order, first: all.length, after: null, timeOf, nativeIdOf });
        expect(result.items.map((m) => m.key)).toEqual(all);
        expect(result.hasNextPage).toBe(false);
        expect([...result.contributed.values()].reduce((a, b) => a + b, 0)).toBe(all.length);
        for (const s of servers) expect(result.contributed.get(s.source)).toBe(s.items.length);

        // Starting after any item yields exactly the rest, in order.
        if (all.length > 0) {
          const cut = rng.int(all.length);
          const rest = mergeSorted({ batches, order, first: all.length, after: all[cut]!, timeOf, nativeIdOf });
          expect(rest.items.map((m) => m.key)).toEqual(all.slice(cut + 1));
        }
      }
    }
  });

  it('takes at most first items and reports a next page', () => {
    const servers = makeServers(7, () => 20, 5);
    const batches = servers.map((s) => ({ source: s.source, items: s.items, limit: 1000 }));
    const all = expectedOrder(servers, 'NEWEST_FIRST');
    const page = mergeSorted({ batches, order: 'NEWEST_FIRST', first: 10, after: null, timeOf, nativeIdOf });
    expect(page.items.map((m) => m.key)).toEqual(all.slice(0, 10));
    expect(page.hasNextPage).toBe(true);
    const empty = mergeSorted({ batches, order: 'NEWEST_FIRST', first: 0, after: null, timeOf, nativeIdOf });
    expect(empty.items).toEqual([]);
    expect(empty.hasNextPage).toBe(true);
    expect(empty.endTies).toBe(0);
  });

  it('holds back items an unseen item of a full batch could precede, and names the starved server', () => {
    // em-1 answered a full batch (limit 3) ending at t=10: it may hold more items at t=10 with any id.
    const batches = [
      {
        source: 'em-1',
        items: [
          { id: 'c', t: 12, ok: true },
          { id: 'b', t: 10, ok: true },
          { id: 'a', t: 10, ok: true },
        ],
        limit: 3,
      },
      {
        source: 'em-2',
        items: [
          { id: 'x', t: 11, ok: true },
          { id: 'y', t: 10, ok: true },
          { id: 'z', t: 9, ok: true },
        ],
        limit: 50,
      },
      { source: 'em-0', items: [{ id: 'q', t: 10, ok: true }], limit: 50 },
    ];
    const page = mergeSorted({ batches, order: 'NEWEST_FIRST', first: 10, after: null, timeOf, nativeIdOf });
    // em-2's item at t=10 sorts before any em-1 item at t=10 (source descending): safe. em-1's and em-0's are not.
    expect(page.items.map((m) => `${m.key.source}/${m.key.nativeId}`)).toEqual(['em-1/c', 'em-2/x', 'em-2/y']);
    expect(page.hasNextPage).toBe(true);
    expect(page.starved).toEqual([{ source: 'em-1', frontierMs: 10 }]);
  });

  it('drops items an upstream repeats', () => {
    const item = { id: 'a', t: 5, ok: true };
    const page = mergeSorted({
      batches: [{ source: 'em-1', items: [item, { ...item }, { id: 'b', t: 4, ok: true }], limit: 50 }],
      order: 'NEWEST_FIRST',
      first: 10,
      after: null,
      timeOf,
      nativeIdOf,
    });
    expect(page.items.map((m) => m.key.nativeId)).toEqual(['a', 'b']);
  });

  it('refuses two batches for one source', () => {
    const batch = { source: 'em-1', items: [], limit: 1 };
    expect(() => mergeSorted({ batches: [batch, batch], order: 'NEWEST_FIRST', first: 1, after: null, timeOf, nativeIdOf })).toThrow(/two batches/);
  });
});

describe('planSourceRequest', () => {
  const open = { fromMs: null, toMs: null };
  const after: PagePosition = { key: { timeMs: 100, source: 'em-2', nativeId: 'n' }, ties: 4 };

  it('asks for first + 1 on the first page, within the filter window', () => {
    expect(planSourceRequest({ source: 'em-1', order: 'NEWEST_FIRST', first: 50, after: null, window: open })).toEqual({
      source: 'em-1',
      fromMs: null,
      toMs: null,
      limit: 51,
    });
    expect(planSourceRequest({ source: 'em-1', order: 'OLDEST_FIRST', first: 0, after: null, window: { fromMs: 5, toMs: 9 } })).toEqual({
      source: 'em-1',
      fromMs: 5,
      toMs: 9,
      limit: 1,
    });
  });

  it('NEWEST_FIRST: strict bound for servers sorting before the cursor, inclusive bound plus ties for its own server', () => {
    const plan = (source: string) => planSourceRequest({ source, order: 'NEWEST_FIRST', first: 10, after, window: open });
    expect(plan('em-3')).toEqual({ source: 'em-3', fromMs: null, toMs: 100, limit: 11 });
    expect(plan('em-2')).toEqual({ source: 'em-2', fromMs: null, toMs: 101, limit: 15 });
    expect(plan('em-1')).toEqual({ source: 'em-1', fromMs: null, toMs: 101, limit: 11 });
  });

  it('OLDEST_FIRST mirrors it', () => {
    const plan = (source: string) => planSourceRequest({ source, order: 'OLDEST_FIRST', first: 10, after, window: open });
    expect(plan('em-1')).toEqual({ source: 'em-1', fromMs: 101, toMs: null, limit: 11 });
    expect(plan('em-2')).toEqual({ source: 'em-2', fromMs: 100, toMs: null, limit: 15 });
    expect(plan('em-3')).toEqual({ source: 'em-3', fromMs: 100, toMs: null, limit: 11 });
  });

  it('intersects with the filter window and skips servers whose window is empty', () => {
    expect(planSourceRequest({ source: 'em-1', order: 'NEWEST_FIRST', first: 10, after, window: { fromMs: 50, toMs: 80 } })).toEqual({
      source: 'em-1',
      fromMs: 50,
      toMs: 80,
      limit: 11,
    });
    expect(planSourceRequest({ source: 'em-3', order: 'NEWEST_FIRST', first: 10, after, window: { fromMs: 100, toMs: null } })).toBeNull();
    expect(planSourceRequest({ source: 'em-1', order: 'OLDEST_FIRST', first: 10, after, window: { fromMs: null, toMs: 101 } })).toBeNull();
    expect(planSourceRequest({ source: 'em-2', order: 'OLDEST_FIRST', first: 10, after, window: { fromMs: null, toMs: 101 } })).toEqual({
      source: 'em-2',
      fromMs: 100,
      toMs: 101,
      limit: 15,
    });
  });
});

describe('paging a merged list with cursors', () => {
  it('yields every item exactly once, in order, for any page size and tie density (both orders)', () => {
    let runs = 0;
    for (let seed = 1; seed <= 8; seed++) {
      for (const timeRange of [3, 25, 1_000_000]) {
        for (const first of [1, 2, 3, 7, 50]) {
          for (const order of ORDERS) {
            const rng = lcg(seed * 1000 + timeRange + first);
            const servers = makeServers(seed, () => rng.int(80), timeRange);
            const run = pageAll(servers, { first, order });
            expect(run.keys).toEqual(expectedOrder(servers, order));
            for (const page of run.pages.slice(0, -1)) expect(page.items.length).toBe(first);
            runs++;
          }
        }
      }
    }
    expect(runs).toBe(240);
  });

  it('still yields every item exactly once when short pages are left short (no refetch)', () => {
    for (let seed = 1; seed <= 10; seed++) {
      for (const order of ORDERS) {
        const rng = lcg(seed);
        // Ties within a server (range 40 for ~60 items) but never more than a batch holds, so every page progresses.
        const servers = makeServers(seed, () => 30 + rng.int(30), 40);
        const run = pageAll(servers, { first: 10, order, fillPages: false });
        expect(run.keys).toEqual(expectedOrder(servers, order));
        expect(run.requestsPerPage.every((n) => n <= SOURCES.length)).toBe(true);
      }
    }
  });

  it('costs one request per server on every page when no server has ties of its own', () => {
    for (let seed = 1; seed <= 10; seed++) {
      for (const order of ORDERS) {
        const rng = lcg(seed);
        // Distinct times inside each server; the same times across servers (heavy cross-server ties).
        const servers = SOURCES.map(
          (source) =>
            new FakeServer(
              source,
              rng
                .shuffle(Array.from({ length: 200 }, (_, k) => k))
                .slice(0, 120)
                .map((k) => ({ id: `${source}-${k}`, t: k, ok: true })),
              lcg(seed),
            ),
        );
        const run = pageAll(servers, { first: 25, order });
        expect(run.keys).toEqual(expectedOrder(servers, order));
        expect(new Set(run.requestsPerPage)).toEqual(new Set([SOURCES.length]));
        for (const page of run.pages.slice(0, -1)) expect(page.items.length).toBe(25);
      }
    }
  });

  it('carries the tie count in the cursor so a page that starts inside a tie group costs no extra request', () => {
    // em-1: five sessions in the same millisecond, then one per millisecond.
    const items: Item[] = ['a0', 'a1', 'a2', 'a3', 'a4'].map((id) => ({ id, t: 100, ok: true }));
    for (let t = 99; t > 80; t--) items.push({ id: `b${t}`, t, ok: true });
    const server = new FakeServer('em-1', items, lcg(3));
    const run = pageAll([server], { first: 3, order: 'NEWEST_FIRST' });
    expect(run.keys.map((k) => k.nativeId).slice(0, 6)).toEqual(['a4', 'a3', 'a2', 'a1', 'a0', 'b99']);
    // Page 1 had to widen once (a batch of 4 out of 5 equal times proves nothing); page 2 started
    // inside the tie group and, asking for first + 1 + 3 ties, needed one request.
    expect(run.pages[0]!.endTies).toBe(3);
    expect(run.requestsPerPage[0]).toBe(2);
    expect(run.requestsPerPage.slice(1).every((n) => n === 1)).toBe(true);
    expect(run.keys).toEqual(expectedOrder([server], 'NEWEST_FIRST'));
  });

  it('applies gateway-side conditions after the upstream limit and still yields each match once', () => {
    for (let seed = 1; seed <= 10; seed++) {
      for (const order of ORDERS) {
        const rng = lcg(seed);
        const servers = makeServers(seed, () => rng.int(100), 30, 0.3);
        const run = pageAll(servers, { first: 8, order, include: (i) => i.ok });
        expect(run.keys).toEqual(expectedOrder(servers, order, (i) => i.ok));
      }
    }
  });

  it('respects the filter window on every page', () => {
    for (const order of ORDERS) {
      const servers = makeServers(5, () => 60, 40);
      const window = { fromMs: 1_000_010, toMs: 1_000_030 };
      const run = pageAll(servers, { first: 6, order, window });
      expect(run.keys).toEqual(expectedOrder(servers, order, (i) => i.t >= window.fromMs && i.t < window.toMs));
    }
  });

  it('NEWEST_FIRST: sessions created between pages cause no duplicate and no gap', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = lcg(seed);
      const servers = makeServers(seed, () => 20 + rng.int(60), 50);
      const original = expectedOrder(servers, 'NEWEST_FIRST');
      let newest = Math.max(...servers.flatMap((s) => s.items.map((i) => i.t)));
      const run = pageAll(servers, {
        first: 7,
        order: 'NEWEST_FIRST',
        between: (page) => {
          // New sessions are newer than everything, several in the same millisecond across servers.
          newest += 1 + rng.int(2);
          for (let k = 0; k < 3; k++) rng.pick(servers).items.push({ id: `new-${page}-${k}`, t: newest, ok: true });
        },
      });
      expect(run.keys).toEqual(original);
    }
  });

  it('OLDEST_FIRST: sessions created between pages appear exactly once, at the end', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = lcg(seed);
      const servers = makeServers(seed, () => 20 + rng.int(60), 50);
      let newest = Math.max(...servers.flatMap((s) => s.items.map((i) => i.t)));
      let inserted = 0;
      const run = pageAll(servers, {
        first: 7,
        order: 'OLDEST_FIRST',
        between: () => {
          if (inserted >= 30) return;
          newest += rng.int(2);
          for (let k = 0; k < 3; k++, inserted++) rng.pick(servers).items.push({ id: `new-${inserted}`, t: newest, ok: true });
        },
      });
      expect(run.keys).toEqual(expectedOrder(servers, 'OLDEST_FIRST'));
    }
  });

  it('with sessions inserted anywhere, even at the cursor time, never repeats and misses nothing after the cursor', () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const order of ORDERS) {
        const rng = lcg(seed);
        const servers = makeServers(seed, () => 20 + rng.int(40), 15);
        const original = expectedOrder(servers, order);
        const mustAppear: SortKey[] = [];
        let n = 0;
        const run = pageAll(servers, {
          first: 5,
          order,
          between: (_page, cursorKey) => {
            for (let k = 0; k < 2; k++) {
              const server = rng.pick(servers);
              const item = { id: rng.pick(['0', 'z']) + `-ins-${n++}`, t: rng.next() < 0.5 ? cursorKey.timeMs : 1_000_000 + rng.int(15), ok: true };
              server.items.push(item);
              const key = keyOf(server.source, item);
              if (compareSortKeys(key, cursorKey, order) > 0) mustAppear.push(key);
            }
          },
        });
        expectStrictlyOrdered(run.keys, order);
        const seen = new Set(run.keys.map((k) => `${k.source}/${k.nativeId}`));
        for (const k of [...original, ...mustAppear]) expect(seen.has(`${k.source}/${k.nativeId}`)).toBe(true);
      }
    }
  });
});
