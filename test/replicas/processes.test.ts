import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import YAML from 'yaml';
import { writeSimConfig } from '../../src/cli/simConfig.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';
import { collect, type Collected } from '../live/liveHarness.js';
import { startRedis, type TestRedis } from '../support/startRedis.js';
import { gauge, gql, readyz, startReplica, until, type LogLine, type Replica } from './serveReplica.js';

/**
 * Two `veeam-graph serve` processes with one config file, one redis-server, the simulators here:
 * what sharing Redis means between real processes, counted on the simulators.
 */
const LIVE = { fastPollMs: 300, slowPollMs: 600, leaseMs: 1500 };
const CURSOR_SECRET = 'one-secret-for-every-replica-0123';
const ACQUIRED = 'live poller lease acquired: this replica polls';
const CHANGES = `subscription { restoreSessionChanged { type source { name } session { id name state result } } }`;

describe('two gateway processes sharing one Redis', () => {
  let redis: TestRedis;
  let sims: Simulators;
  let dir: string;
  let a: Replica;
  let b: Replica;
  const clients: Client[] = [];

  beforeAll(async () => {
    [redis, sims, dir] = await Promise.all([
      startRedis(),
      startSimulators({ em: 2, vbo: ['v8'], sessionsPerServer: 20 }),
      mkdtemp(path.join(os.tmpdir(), 'vg-replicas-')),
    ]);
    const file = path.join(dir, 'replicas.yaml');
    await writeSimConfig(file, sims, { host: '127.0.0.1', port: 0 });
    const config = YAML.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, YAML.stringify({ ...config, store: { redis: { url: redis.url, keyPrefix: 'vg-proc:' } }, cursorSecret: CURSOR_SECRET, live: LIVE }));
    [a, b] = await Promise.all([startReplica('A', file), startReplica('B', file)]);
    await until(async () => (await readyz(a)).store?.status === 'up' && (await readyz(b)).store?.status === 'up', 'both replicas on Redis');
  }, 40_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await Promise.all([a?.kill(), b?.kill()]);
    await sims?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const upstream = () => sims.servers.reduce((n, s) => n + s.log.count(), 0);
  const resetLogs = () => {
    for (const s of sims.servers) s.log.reset();
  };
  /** RestoreSession list and lookup requests of one server (EM: the query service; VB365: /vN/RestoreSessions...). */
  const sessionReads = (name: string) =>
    Object.entries(sims.servers.find((s) => s.name === name)!.log.stats().byTemplate)
      .filter(([template]) => /RestoreSession/i.test(template))
      .reduce((n, [, count]) => n + count, 0);
  const ws = (r: Replica): Client => {
    const client = createClient({ url: r.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
    clients.push(client);
    return client;
  };
  const subscribe = (r: Replica): Collected => collect(ws(r).iterate({ query: CHANGES }));
  type Change = { type: string; source: { name: string }; session: { name: string } | null };
  /** Resolves once the subscription got the event `type` of the session named `name`. */
  const received = (c: Collected, type: string, name: string) =>
    until(
      () =>
        c.results.some((r) => {
          const e = r.data?.restoreSessionChanged as Change | undefined;
          return e?.type === type && e.session?.name === name;
        }),
      `${type} of ${name}`,
      1000,
      10,
    ).then(() => performance.now());
  const leaseLines = (r: Replica, source: string, from = 0) =>
    r.lines.slice(from).filter((l) => l.source === source && (l.msg === ACQUIRED || l.msg === 'live poller lease lost'));
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /**
   * A new leader learns the server afresh: its first poll (the prime) takes what runs as known and
   * reports nothing, and the lease is logged before it is sent. Two more session reads of the
   * server (only the leader reads) mean the prime has been answered: a session started now is news.
   */
  const polledTwice = async (source: string) => {
    const reads = sessionReads(source);
    await until(() => sessionReads(source) >= reads + 2, `two polls of ${source}`);
  };

  it('a cache fill on replica A is a hit on replica B', async () => {
    const query = '{ backupServers(first: 10) { nodes { name } } restoreSessions(first: 10) { nodes { id name } } }';
    const onA = await gql(a, query);
    expect(onA.errors).toBeUndefined();
    const before = upstream();
    const onB = await gql(b, query);
    expect(onB.errors).toBeUndefined();
    expect(onB.data).toEqual(onA.data);
    expect(upstream() - before).toBe(0);
  });

  it('a burst of identical queries split across A and B costs one list call per server', async () => {
    // Servers that take 250 ms to answer, as real ones may. With instant answers on a starved CPU a
    // replica can miss the store, then take the lock after the other replica already released it,
    // and read again: MemorySource checks the store before the lock but not again after getting it.
    for (const s of sims.servers) s.faults.set({ latencyMs: 250 });
    try {
      resetLogs();
      const query = '{ restoreSessions(first: 7, filter: { states: [STOPPED] }) { nodes { id } } }';
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => gql(i % 2 ? a : b, query)));
      for (const r of answers) expect([r.status, r.errors]).toEqual([200, undefined]);
      for (const em of sims.em) expect([em.name, em.log.count('GET /api/query?type=RestoreSession')]).toEqual([em.name, 1]);
      for (const vbo of sims.vbo) expect([vbo.name, vbo.log.count('GET /v8/RestoreSessions')]).toEqual([vbo.name, 1]);
    } finally {
      for (const s of sims.servers) s.faults.clear();
    }
  });

  it('a cursor of replica A continues on replica B (same cursorSecret)', async () => {
    const page = `query Page($after: String) { restoreSessions(first: 5, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } } }`;
    const one = await gql(a, page);
    const info = (one.data?.restoreSessions as { pageInfo: { hasNextPage: boolean; endCursor: string } }).pageInfo;
    expect(info.hasNextPage).toBe(true);
    const [viaA, viaB] = await Promise.all([gql(a, page, { after: info.endCursor }), gql(b, page, { after: info.endCursor })]);
    expect(viaA.errors).toBeUndefined();
    expect(viaB.errors).toBeUndefined();
    expect((viaB.data?.restoreSessions as { nodes: unknown[] }).nodes).toHaveLength(5);
    expect(viaB.data).toEqual(viaA.data);
    expect(viaB.data).not.toEqual(one.data);
  });

  it('subscribers on both replicas: one poller per server, and both hear STARTED and FINISHED', async () => {
    const names = sims.servers.map((s) => s.name);
    const fromB = b.lines.length;
    const onA = subscribe(a);
    let onB: Collected | undefined;
    try {
      await Promise.all(names.map((n) => a.waitForLine((l) => l.msg === ACQUIRED && l.source === n)));
      await until(async () => (await gauge(a, 'veeam_graph_live_pollers')) === names.length, 'A polls every server');
      // WINDOW_MS of polls with one subscriber (on A), then the same with one more on B.
      const WINDOW_MS = 3000;
      const window = async () => {
        const upstreamOfB = await gauge(b, 'veeam_graph_upstream_requests_total');
        resetLogs();
        const t0 = performance.now();
        await pause(WINDOW_MS);
        const seconds = (performance.now() - t0) / 1000;
        const reads = names.reduce((n, name) => n + sessionReads(name), 0);
        return {
          perSecond: reads / seconds,
          byServer: Object.fromEntries(names.map((n) => [n, sessionReads(n)])),
          ofB: (await gauge(b, 'veeam_graph_upstream_requests_total')) - upstreamOfB,
        };
      };
      const one = await window();
      onB = subscribe(b);
      await until(async () => (await gauge(b, 'veeam_graph_subscriptions')) === 1, 'a subscription on B');
      const both = await window();
      // One poller per server: B, subscribed, sends nothing upstream; A keeps polling every server.
      expect(both.ofB).toBe(0);
      expect(await gauge(b, 'veeam_graph_live_pollers')).toBe(0);
      expect(await gauge(a, 'veeam_graph_live_pollers')).toBe(names.length);
      expect(leaseLines(b, names[0]!, fromB)).toEqual([]);
      for (const n of names) expect([n, both.byServer[n]! > 0]).toEqual([n, true]);
      // The same rate of session reads with one subscriber as with two (a second poller would
      // double it); the bounds leave room for timers late on a busy machine.
      const ratio = both.perSecond / one.perSecond;
      expect(ratio).toBeGreaterThan(0.6);
      expect(ratio).toBeLessThan(1.4);

      const session = sims.em[0]!.live.startSession({ vmDisplayName: 'srv04', jobType: 'RestoreVm', durationMs: 600_000 });
      await Promise.all([received(onA, 'STARTED', session.name), received(onB, 'STARTED', session.name)]);
      sims.em[0]!.live.finish(session.id, 'Success');
      await Promise.all([received(onA, 'FINISHED', session.name), received(onB, 'FINISHED', session.name)]);
      for (const c of [onA, onB]) {
        const mine = c.results
          .map((r) => r.data?.restoreSessionChanged as Change)
          .filter((e) => e.session?.name === session.name)
          .map((e) => e.type);
        expect(mine.filter((t) => t !== 'UPDATED')).toEqual(['STARTED', 'FINISHED']);
      }
    } finally {
      await Promise.all([onA.stop(), onB?.stop()]);
    }
    await until(async () => (await gauge(a, 'veeam_graph_live_pollers')) === 0, 'no poller left on A');
  }, 30_000);

  it('Redis killed during a load: no failed query, both ready and degraded; after a restart sharing resumes', async () => {
    const queries = [
      '{ restoreSessions(first: 10) { nodes { id name } } }',
      '{ restoreSessions(first: 3, filter: { states: [STOPPED] }) { nodes { id state } } }',
      '{ backupServers(first: 5) { nodes { name } } }',
      '{ sources { name status } }',
    ];
    const TOTAL = 300;
    const failures: string[] = [];
    let done = 0;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < TOTAL; i = next++) {
        // A different `first` now and then: misses too, not only hits.
        const query = i % 7 === 0 ? `{ restoreSessions(first: ${2 + (i % 40)}) { nodes { id } } }` : queries[i % queries.length]!;
        try {
          const r = await gql(i % 2 ? a : b, query);
          if (r.status !== 200 || r.errors !== undefined || r.data == null) failures.push(`${i}: HTTP ${r.status} ${JSON.stringify(r.errors)}`);
        } catch (err) {
          failures.push(`${i}: ${(err as Error).message}`);
        }
        done++;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    await until(() => done >= TOTAL / 3, 'a third of the load');
    await redis.kill();
    const killedAt = done;
    await load;
    expect(killedAt).toBeLessThan(TOTAL);
    expect(failures).toEqual([]);
    for (const r of [a, b]) expect(await readyz(r)).toMatchObject({ ready: true, store: { kind: 'redis', status: 'degraded' } });

    await redis.restart();
    await until(async () => (await readyz(a)).store?.status === 'up' && (await readyz(b)).store?.status === 'up', 'both back on Redis', 300, 50);
    const fresh = '{ restoreSessions(first: 9, filter: { states: [STOPPED] }) { nodes { id name } } }';
    const onA = await gql(a, fresh);
    expect(onA.errors).toBeUndefined();
    const before = upstream();
    const onB = await gql(b, fresh);
    expect(onB.data).toEqual(onA.data);
    expect(upstream() - before).toBe(0);
  }, 30_000);

  it('the lease holder killed with SIGKILL: the other replica takes the lease within leaseMs and its subscriber hears the next session', async () => {
    const source = sims.em[0]!.name;
    const from = new Map([a, b].map((r) => [r, r.lines.length]));
    const subs = new Map([a, b].map((r) => [r, subscribe(r)]));
    // Whichever replica logs the lease of em-1 first holds it.
    const holder = await Promise.race([a, b].map((r) => r.waitForLine((l) => l.msg === ACQUIRED && l.source === source, from.get(r)).then(() => r)));
    const survivor = holder === a ? b : a;
    await until(async () => (await gauge(survivor, 'veeam_graph_subscriptions')) === 1, 'the survivor subscribed');
    await polledTwice(source);
    // Both hear the holder's events before the kill.
    const warm = sims.em[0]!.live.startSession({ durationMs: 600_000 });
    await Promise.all([received(subs.get(a)!, 'STARTED', warm.name), received(subs.get(b)!, 'STARTED', warm.name)]);
    expect(leaseLines(survivor, source, from.get(survivor)).map((l) => l.msg)).toEqual([]);

    const fromSurvivor = survivor.lines.length;
    const killedAt = performance.now();
    await holder.kill();
    const acquired: LogLine = await survivor.waitForLine((l) => l.msg === ACQUIRED && l.source === source, fromSurvivor);
    const takeoverMs = acquired.readAt - killedAt;
    await polledTwice(source);
    const next = sims.em[0]!.live.startSession({ durationMs: 600_000 });
    const gapMs = (await received(subs.get(survivor)!, 'STARTED', next.name)) - killedAt;
    // Correctness bounds, not speed goals: the lease's lifetime and one retry (leaseMs / 3), then a
    // prime and a poll interval, with generous slack for a busy machine.
    expect(takeoverMs).toBeLessThan(LIVE.leaseMs + LIVE.leaseMs / 3 + 1500);
    expect(gapMs).toBeLessThan(LIVE.leaseMs + LIVE.slowPollMs + 3000);
    process.stdout.write(`lease takeover ${takeoverMs.toFixed(0)} ms after SIGKILL; the next STARTED heard on the survivor ${gapMs.toFixed(0)} ms after it\n`);
    sims.em[0]!.live.finish(warm.id);
    sims.em[0]!.live.finish(next.id);
    await subs.get(survivor)!.stop();
  }, 30_000);
});
