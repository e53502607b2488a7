import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import pino from 'pino';
import { subgraphSdl } from '../../src/cli/runSubgraphSdl.js';
import { createGateway, type Gateway } from '../../src/server/createGateway.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';
import { captureLogger, simConfig } from './gatewayHarness.js';

/**
 * Our subgraph behind a real JavaScript federation router (Hive Gateway's runtime, composed by The
 * Guild's federation-composition), two replicas of it behind a round-robin balancer, and a
 * second small subgraph whose `Query.node` would clash with ours: with `federation.rootFieldPrefix`
 * ours is `veeamNode`, and the supergraph composes.
 */

const silent = pino({ level: 'silent' });

const TICKETS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query {
    tickets: [Ticket!]!
    "A generic root field of this subgraph's own: clashes with an unprefixed veeam-graph."
    node(id: ID!): Ticket
  }
  type Ticket @key(fields: "id") {
    id: ID!
    title: String!
    restoreSession: EnterpriseManagerRestoreSession
  }
  type EnterpriseManagerRestoreSession @key(fields: "id", resolvable: false) {
    id: ID!
  }
`;

/** A round-robin HTTP balancer over the replicas, counting what each got. */
async function startBalancer(targets: string[]) {
  const counts = targets.map(() => 0);
  let next = 0;
  const server = http.createServer((req, res) => {
    const i = next++ % targets.length;
    counts[i]!++;
    const target = new URL(req.url ?? '/', targets[i]);
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, counts, close: () => new Promise((r) => server.close(r)) };
}

describe('federation behind Hive Gateway, over two replicas', () => {
  let sims: Simulators;
  let replicas: Gateway[] = [];
  let balancer: Awaited<ReturnType<typeof startBalancer>>;
  let tickets: { url: string; stop(): Promise<void> };
  let router: http.Server;
  let routerUrl: string;
  let rows: { id: string; title: string; restoreSession: string }[] = [];

  beforeAll(async () => {
    sims = await startSimulators({ em: 2, vbo: ['v8'], sessionsPerServer: 30 });
    const config = await simConfig(sims, {
      federation: { rootFieldPrefix: 'veeam' },
      cache: { enabled: false },
      cursorSecret: 'shared-cursor-secret-0123456789',
    });
    replicas = [
      await createGateway(config, { logger: captureLogger().logger, defaultMetrics: false }),
      await createGateway(config, { logger: silent, defaultMetrics: false }),
    ];
    balancer = await startBalancer(replicas.map((r) => r.url));
    const server = new ApolloServer({
      schema: buildSubgraphSchema({
        typeDefs: parse(TICKETS_SDL),
        resolvers: {
          Query: { tickets: () => rows, node: () => null },
          Ticket: { restoreSession: (t: { restoreSession: string }) => ({ __typename: 'EnterpriseManagerRestoreSession', id: t.restoreSession }) },
        } as never,
      }),
      logger: silent,
    });
    const started = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
    tickets = { url: started.url, stop: () => server.stop() };
    const composed = composeServices([
      { name: 'veeam', typeDefs: parse(subgraphSdl('veeam')), url: balancer.url },
      { name: 'tickets', typeDefs: parse(TICKETS_SDL), url: tickets.url },
    ]);
    if (composed.errors?.length) throw new Error(composed.errors.map((e) => e.message).join('\n'));
    const runtime = createGatewayRuntime({ supergraph: composed.supergraphSdl!, logging: false });
    router = http.createServer(runtime);
    await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
    routerUrl = `http://127.0.0.1:${(router.address() as AddressInfo).port}/graphql`;
  }, 60_000);

  afterAll(async () => {
    await new Promise((r) => router?.close(r));
    await tickets?.stop();
    await balancer?.close();
    for (const r of replicas) await r.close();
    await sims?.close();
  });

  const post = async (url: string, query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
  };

  it('composes only with the prefix: unprefixed, our Query.node clashes with the other subgraph', () => {
    const clash = composeServices([
      { name: 'veeam', typeDefs: parse(subgraphSdl()), url: balancer.url },
      { name: 'tickets', typeDefs: parse(TICKETS_SDL), url: tickets.url },
    ]);
    expect(clash.errors?.length).toBeGreaterThan(0);
    expect(clash.errors!.map((e) => e.message).join('\n')).toMatch(/Query\.node/);
  });

  it('resolves a cross-subgraph query, with _entities batched into one lookup per EM server', async () => {
    const direct = await post(
      routerUrl,
      '{ restoreSessions(first: 40, filter: { sources: ["em-1", "em-2"] }) { nodes { id name ... on EnterpriseManagerRestoreSession { backupServer { name } } } } }',
    );
    expect(direct.errors).toBeUndefined();
    const sessions = (direct.data!.restoreSessions as { nodes: { id: string; name: string; backupServer: { name: string } }[] }).nodes;
    expect(sessions).toHaveLength(40);
    rows = sessions.map((s, i) => ({ id: `T-${i}`, title: `Ticket ${i}`, restoreSession: s.id }));
    for (const s of sims.servers) s.log.reset();
    const res = await post(routerUrl, '{ tickets { title restoreSession { name backupServer { name } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.tickets).toEqual(sessions.map((s, i) => ({ title: `Ticket ${i}`, restoreSession: { name: s.name, backupServer: s.backupServer } })));
    for (const em of sims.em) {
      expect([em.name, em.log.count('GET /api/query?type=RestoreSession')]).toEqual([em.name, 1]);
      expect([em.name, em.log.count('GET /api/query?type=BackupServer')]).toEqual([em.name, 1]);
    }
  });

  it('serves the prefixed root fields, from both replicas, and a cursor of one replica continues on the other', async () => {
    const res = await post(routerUrl, '{ veeamSources { name } }');
    expect(res.errors).toBeUndefined();
    expect((res.data!.veeamSources as { name: string }[]).map((s) => s.name)).toEqual(sims.servers.map((s) => s.name));
    const page1 = await post(replicas[0]!.graphqlUrl, '{ restoreSessions(first: 5) { pageInfo { endCursor } nodes { id } } }');
    const cursor = (page1.data!.restoreSessions as { pageInfo: { endCursor: string } }).pageInfo.endCursor;
    const onA = await post(replicas[0]!.graphqlUrl, 'query ($after: String) { restoreSessions(first: 5, after: $after) { nodes { id } } }', { after: cursor });
    const onB = await post(replicas[1]!.graphqlUrl, 'query ($after: String) { restoreSessions(first: 5, after: $after) { nodes { id } } }', { after: cursor });
    expect(onB.errors).toBeUndefined();
    expect(onB.data).toEqual(onA.data);
    expect(balancer.counts.every((n) => n > 0)).toBe(true);
  });
});
