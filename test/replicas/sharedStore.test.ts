import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGateway, type Gateway } from '../../src/server/createGateway.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';
import { captureLogger, simConfig } from '../server/gatewayHarness.js';
import { startRedis } from '../support/startRedis.js';

/** Two gateways in this process over one redis-server: the fast proofs (test/replicas/processes.test.ts runs real processes). */
describe('two replicas sharing Redis (in process)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let sims: Simulators;
  let a: Gateway;
  let b: Gateway;
  const logs = [captureLogger(), captureLogger()];

  beforeAll(async () => {
    redis = await startRedis();
    sims = await startSimulators({ em: 2, vbo: ['v8'], sessionsPerServer: 20 });
    const config = await simConfig(sims, {
      store: { redis: { url: redis.url, keyPrefix: 'vg-test:' } },
      cursorSecret: 'one-secret-for-every-replica-0123',
      defaults: { retry: { limit: 0 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } },
    });
    a = await createGateway(config, { logger: logs[0]!.logger, defaultMetrics: false });
    b = await createGateway(config, { logger: logs[1]!.logger, defaultMetrics: false });
    await until(async () => (await ready(a)).store?.status === 'up' && (await ready(b)).store?.status === 'up');
  }, 30_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sims?.close();
    await redis?.stop();
  });

  const gql = async (g: Gateway, query: string) => {
    const res = await fetch(g.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };
  const ready = async (g: Gateway) => (await (await fetch(`${g.url}/readyz`)).json()) as { ready: boolean; store?: { status: string } };
  async function until(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('never happened');
  }
  const upstream = () => sims.servers.reduce((n, s) => n + s.log.count(), 0);

  it('a cache fill on A is a hit on B', async () => {
    const query = '{ backupServers(first: 10) { nodes { name } } restoreSessions(first: 10) { nodes { id name } } }';
    const onA = await gql(a, query);
    expect(onA.errors).toBeUndefined();
    const before = upstream();
    const onB = await gql(b, query);
    expect(onB.data).toEqual(onA.data);
    expect(upstream()).toBe(before);
  });

  it('a burst of identical queries split across A and B costs one list call per server', async () => {
    for (const s of sims.servers) s.log.reset();
    const query = '{ restoreSessions(first: 7, filter: { states: [STOPPED] }) { nodes { id } } }';
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => gql(i % 2 ? a : b, query)));
    for (const r of answers) expect(r.errors).toBeUndefined();
    for (const em of sims.em) expect([em.name, em.log.count('GET /api/query?type=RestoreSession')]).toEqual([em.name, 1]);
  });

  it('a server one replica found down is skipped by the other: its breaker opens too, and B sends it nothing', async () => {
    const em = sims.em[1]!;
    em.faults.set({ rules: [{ action: { status: 503 } }] });
    const query = `{ restoreSessions(first: 3, filter: { sources: ["${em.name}"] }) { nodes { id } outcomes { source { name } status error { code } } } }`;
    try {
      for (let i = 0; i < 2; i++) await gql(a, query.replace('first: 3', `first: ${3 + i}`));
      await until(async () => {
        const r = await gql(b, `{ sources { name status } }`);
        return (r.data!.sources as { name: string; status: string }[]).find((s) => s.name === em.name)?.status === 'CIRCUIT_OPEN';
      });
      em.log.reset();
      const onB = await gql(b, query.replace('first: 3', 'first: 9'));
      expect(JSON.stringify(onB)).toContain('UPSTREAM_CIRCUIT_OPEN');
      expect(em.log.count()).toBe(0);
    } finally {
      em.faults.clear();
    }
  });
});
