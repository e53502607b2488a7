import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryStore } from '../../src/sources/memory/CacheStore.js';
import { MEMORY_DEFAULTS } from '../../src/sources/memory/memoryDefaults.js';
import { ManualScheduler } from '../../src/sources/Scheduler.js';
import type { ReadPolicy } from '../../src/upstream/Source.js';
import { startGraph, type GraphHarness } from './graphHarness.js';

/**
 * The memory layer, proven by counting the simulators' requests: coalescing, TTLs, stale-if-error,
 * the latency budget, cancellation, `no-cache`, bounded memory. Time is a ManualScheduler.
 */
const PAGE = `{
  restoreSessions(first: 20) {
    asOf stale
    outcomes { source { name } status stale asOf error { code } }
    nodes { nativeId asOf stale
      ... on EnterpriseManagerRestoreSession { backupServer { name asOf stale } restorePoint { creationTime } }
      ... on Microsoft365RestoreSession { organization { name stale } } }
  }
}`;

interface Page {
  restoreSessions: {
    asOf: string | null;
    stale: boolean;
    outcomes: { source: { name: string }; status: string; stale: boolean; asOf: string | null; error: { code: string } | null }[];
    nodes: { nativeId: string; asOf: string; stale: boolean; backupServer?: { name: string; asOf: string; stale: boolean } | null }[];
  };
}
type Result = { data?: Page | null; errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] };

const T0 = Date.parse('2026-12-01T08:00:00Z');
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Lets I/O callbacks run until `done()` holds (bounded: never a fixed sleep). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000 && !done(); i++) await new Promise((r) => setImmediate(r));
  if (!done()) throw new Error(`timed out waiting for ${what}`);
}

describe('memory across requests', () => {
  let h: GraphHarness | undefined;
  let scheduler: ManualScheduler;
  const start = async (settings: Partial<typeof MEMORY_DEFAULTS> = {}, store?: MemoryStore) => {
    scheduler = new ManualScheduler(T0);
    h = await startGraph({
      sims: { em: 2, vbo: ['v8'], sessionsPerServer: 60 },
      memory: { settings, scheduler, ...(store && { store }) },
    });
    return h;
  };
  const run = (policy?: ReadPolicy) => h!.run(PAGE, undefined, policy) as Promise<Result>;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('N concurrent identical queries cost what one costs, counted on the simulators', async () => {
    await start();
    await run(); // logons and version reads out of the way
    scheduler.advance(10 * 60_000);
    h!.resetLogs();
    await run();
    const one = h!.requests();
    expect(total(one)).toBeGreaterThan(0);
    scheduler.advance(10 * 60_000);
    h!.resetLogs();
    const results = await Promise.all(Array.from({ length: 8 }, () => run()));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(results.map((r) => JSON.stringify(r.data))).toEqual(results.map(() => JSON.stringify(results[0]!.data)));
    expect(h!.requests()).toEqual(one);
  });

  it('a warm query within the list TTL costs no request; lists expire before reference data', async () => {
    await start({ revalidateMs: 0 });
    const cold = await run();
    expect(cold.errors).toBeUndefined();
    h!.resetLogs();
    const warm = await run();
    expect(total(h!.requests())).toBe(0);
    expect(JSON.stringify(warm.data)).toBe(JSON.stringify(cold.data));
    expect(warm.data!.restoreSessions.asOf).toBe(new Date(T0).toISOString());

    // Past the list TTL the lists are read again; backup servers (TTL minutes) still come from memory.
    scheduler.advance(MEMORY_DEFAULTS.listTtlMs + 1);
    h!.resetLogs();
    const later = await run();
    for (const em of h!.sims.em) {
      expect(em.log.count('GET /api/query?type=RestoreSession')).toBe(1);
      expect(em.log.count('GET /api/query?type=BackupServer')).toBe(0);
    }
    const node = later.data!.restoreSessions.nodes.find((n) => n.backupServer)!;
    expect(node.asOf).toBe(new Date(T0 + MEMORY_DEFAULTS.listTtlMs + 1).toISOString());
    expect(node.backupServer!.asOf).toBe(new Date(T0).toISOString());
    expect(node.stale).toBe(false);
  });

  it('past the list TTL a list is answered at once from memory while one background read refreshes it', async () => {
    await start();
    await run();
    scheduler.advance(MEMORY_DEFAULTS.listTtlMs + 1);
    h!.resetLogs();
    const answered = new Set<string>();
    for (const s of h!.sources) s.subscribe((e) => e.type === 'success' && e.operation === 'listRestoreSessions' && answered.add(e.source));
    const r = await run();
    expect(r.data!.restoreSessions.asOf).toBe(new Date(T0).toISOString());
    expect(r.data!.restoreSessions.stale).toBe(false);
    // The refresh went out once per server, and a query after it lands sees the new read.
    await until(() => answered.size === 3, 'the background refresh');
    await new Promise((resolve) => setImmediate(resolve));
    for (const em of h!.sims.em) expect(em.log.count('GET /api/query?type=RestoreSession')).toBe(1);
    const after = await run();
    expect(after.data!.restoreSessions.asOf).toBe(new Date(T0 + MEMORY_DEFAULTS.listTtlMs + 1).toISOString());
    // Past TTL + the window the list is read before answering.
    scheduler.advance(MEMORY_DEFAULTS.listTtlMs + MEMORY_DEFAULTS.revalidateMs + 1);
    const late = await run();
    expect(late.data!.restoreSessions.asOf).toBe(new Date(scheduler.now()).toISOString());
  });

  it('a listed session refetched by id (node) costs no request within its TTL', async () => {
    await start();
    const ids = (await h!.run('{ restoreSessions(first: 5) { nodes { id } } }')) as { data: { restoreSessions: { nodes: { id: string }[] } } };
    h!.resetLogs();
    const ref = (await h!.run('query($ids: [ID!]!) { nodes(ids: $ids) { id ... on RestoreSession { asOf stale } } }', {
      ids: ids.data.restoreSessions.nodes.map((n) => n.id),
    })) as unknown as Result & { data: { nodes: { id: string; stale: boolean }[] } };
    expect(ref.errors).toBeUndefined();
    expect(ref.data.nodes.map((n) => n.id)).toEqual(ids.data.restoreSessions.nodes.map((n) => n.id));
    expect(total(h!.requests())).toBe(0);
  });

  it('Cache-Control no-cache reaches the servers; max-age accepts older data', async () => {
    await start();
    await run();
    h!.resetLogs();
    await run();
    expect(total(h!.requests())).toBe(0);
    await run({ noCache: true });
    for (const em of h!.sims.em) {
      expect(em.log.count('GET /api/query?type=RestoreSession')).toBe(1);
      expect(em.log.count('GET /api/query?type=BackupServer')).toBe(1);
    }
    scheduler.advance(60_000);
    h!.resetLogs();
    await run({ noCache: false, maxAgeMs: 120_000 });
    expect(total(h!.requests())).toBe(0);
  });

  it('a failing server is answered with its last good data, marked stale, and the failure is still reported', async () => {
    await start();
    const good = await run();
    scheduler.advance(10 * 60_000);
    const em1 = h!.sims.em[0]!;
    em1.faults.set({ rules: [{ match: '^GET /api/query', action: { status: 500 } }] });
    const r = await run();
    const page = r.data!.restoreSessions;
    expect(page.outcomes.find((o) => o.source.name === 'em-1')).toEqual({
      source: { name: 'em-1' },
      status: 'STALE',
      stale: true,
      asOf: new Date(T0).toISOString(),
      error: { code: 'UPSTREAM_HTTP_ERROR' },
    });
    expect(page.stale).toBe(true);
    expect(page.asOf).toBe(new Date(T0).toISOString());
    const fromEm1 = good.data!.restoreSessions.nodes.filter((n) => page.nodes.some((m) => m.nativeId === n.nativeId));
    expect(fromEm1.length).toBe(page.nodes.length);
    expect(r.errors).toEqual([
      expect.objectContaining({ path: ['restoreSessions'], extensions: expect.objectContaining({ code: 'UPSTREAM_HTTP_ERROR', source: 'em-1', stale: true }) }),
    ]);
    // Past the stale horizon nothing stale is served: the server's part fails.
    scheduler.advance(MEMORY_DEFAULTS.maxStaleMs);
    const late = await run();
    expect(late.data!.restoreSessions.outcomes.find((o) => o.source.name === 'em-1')!.status).toBe('FAILED');
  });

  it('with a hung server the query returns at the budget: UPSTREAM_TIMEOUT cold, stale data warm', async () => {
    await start();
    const em1 = h!.sims.em[0]!;
    const em2 = h!.sims.em[1]!;
    const m365 = h!.sims.vbo[0]!;
    await run({ noCache: true }); // logons done, memory filled
    scheduler.advance(10 * 60_000);
    // The budget timer fires only once the healthy servers' lists are in (real I/O, manual time).
    const answered = new Set<string>();
    for (const s of h!.sources) s.subscribe((e) => e.type === 'success' && e.operation === 'listRestoreSessions' && answered.add(e.source));
    const inBudget = async (hung: { hangingRequests(): number }, healthy: string[]) => {
      await until(() => hung.hangingRequests() > 0 && healthy.every((n) => answered.has(n)), 'the hung request and the healthy lists');
      await new Promise((r) => setImmediate(r));
      scheduler.advance(budget);
    };
    const budget = 1_000;

    // Only the list hangs (times: 1): the links read afterwards get answers, not another budget.
    em2.faults.set({ rules: [{ match: '^GET /api/query', action: { hang: true }, times: 1 }] });
    const warm = run({ noCache: false, budgetMs: budget });
    await inBudget(em2, ['em-1', 'm365-1']);
    const w = await warm;
    expect(w.data!.restoreSessions.outcomes.find((o) => o.source.name === 'em-2')).toMatchObject({
      status: 'STALE',
      stale: true,
      error: { code: 'UPSTREAM_TIMEOUT' },
    });
    expect(w.data!.restoreSessions.outcomes.filter((o) => o.source.name !== 'em-2').every((o) => o.status === 'OK')).toBe(true);
    // While em-2 is known to be slow, the next query answers it stale at once: no second budget.
    const again = (await run({ noCache: false, budgetMs: budget })) as Result;
    expect(again.data!.restoreSessions.outcomes.find((o) => o.source.name === 'em-2')).toMatchObject({ status: 'STALE', error: { code: 'UPSTREAM_TIMEOUT' } });

    // Cold: with no-cache nothing stale may be served. (em-2's late read is still in flight and
    // would be joined, so em-1 hangs now.)
    answered.clear();
    em1.faults.set({ rules: [{ match: '^GET /api/query', action: { hang: true }, times: 1 }] });
    const cold = run({ noCache: true, budgetMs: budget });
    await inBudget(em1, ['m365-1']);
    const c = await cold;
    expect(c.data!.restoreSessions.outcomes.find((o) => o.source.name === 'em-1')).toMatchObject({ status: 'FAILED', error: { code: 'UPSTREAM_TIMEOUT' } });
    expect(c.data!.restoreSessions.outcomes.find((o) => o.source.name === 'm365-1')!.status).toBe('OK');
    expect(c.errors!.some((e) => e.extensions?.code === 'UPSTREAM_TIMEOUT' && e.extensions?.source === 'em-1')).toBe(true);
    expect(m365.log.count()).toBeGreaterThan(0);
  });

  it('a client that goes away cancels the upstream calls nobody else waits for', async () => {
    await start();
    await run();
    scheduler.advance(10 * 60_000);
    const em1 = h!.sims.em[0]!;
    em1.faults.set({ rules: [{ match: '^GET /api/query', action: { hang: true } }] });
    const abort = new AbortController();
    const query = run({ noCache: false, signal: abort.signal });
    await until(() => em1.hangingRequests() === 1, 'the hung request');
    abort.abort(new Error('client went away'));
    await query.catch(() => undefined);
    await until(() => em1.hangingRequests() === 0, 'the cancelled request to close');
    expect(em1.hangingRequests()).toBe(0);
  });

  it('memory stays bounded: the store evicts beyond maxEntries', async () => {
    let evicted = 0;
    const store = new MemoryStore({ maxEntries: 10, now: () => scheduler.now(), onEvict: () => evicted++ });
    await start({}, store);
    await run();
    expect(store.size()).toBeLessThanOrEqual(10);
    expect(evicted).toBeGreaterThan(0);
  });
});
