import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { ApolloGateway, IntrospectAndCompose, LocalCompose } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { isObjectType, Kind, parse, type DocumentNode } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import pino from 'pino';
import { subgraphSdl } from '../../src/cli/runSubgraphSdl.js';
import { DEFAULT_LIMITS } from '../../src/config/loadConfig.js';
import { loadTypeDefs } from '../../src/graph/createGraph.js';
import { buildGraphSubgraphSchema } from '../../src/graph/federation/buildGraphSubgraphSchema.js';
import { connectionCostEstimator } from '../../src/server/createCostLimitPlugin.js';
import { ENTITY_TYPES } from '../../src/graph/federation/referenceResolvers.js';
import { startHarness, type GqlBody, type Harness } from './gatewayHarness.js';

/**
 * Our gateway as an Apollo Federation v2 subgraph, composed with a second subgraph ("tickets")
 * in a real JavaScript federation gateway (@apollo/gateway with IntrospectAndCompose), everything
 * on 127.0.0.1:0. Batching of `_entities` is proven by counting the simulators' requests.
 */

const silent = pino({ level: 'silent' });

/** A ticket system that stores restore session ids handed out by our gateway (the example). */
const TICKETS_SDL = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Query {
    tickets: [Ticket!]!
  }

  type Ticket {
    id: ID!
    title: String!
    restoreSession: EnterpriseManagerRestoreSession
  }

  type EnterpriseManagerRestoreSession @key(fields: "id", resolvable: false) {
    id: ID!
  }
`);

/**
 * Notes on any restore session, EM or VB365, through our interface entity. A subgraph that uses
 * `@interfaceObject` may not also declare an implementation, hence a subgraph of its own.
 */
const NOTES_SDL = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@interfaceObject"])

  type Query {
    notes: [Note!]!
  }

  type Note {
    text: String!
    session: RestoreSession
  }

  type RestoreSession @key(fields: "id") @interfaceObject {
    id: ID!
  }
`);

interface TicketRow {
  id: string;
  title: string;
  restoreSession: string | null;
}

interface NoteRow {
  text: string;
  session: string;
}

async function startSubgraph(typeDefs: DocumentNode, resolvers: Record<string, object>) {
  const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers: resolvers as never }), logger: silent });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}

async function startSupergraph(subgraphs: { name: string; url: string }[]) {
  const gateway = new ApolloGateway({ supergraphSdl: new IntrospectAndCompose({ subgraphs }), logger: silent });
  const server = new ApolloServer({ gateway, logger: silent });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}

async function post(url: string, query: string): Promise<GqlBody> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return (await res.json()) as GqlBody;
}

interface EmSession {
  id: string;
  name: string | null;
  vmDisplayName: string | null;
  backupServer: { name: string } | null;
}

describe('Apollo Federation v2 subgraph', () => {
  let h: Harness;
  let subgraphs: Awaited<ReturnType<typeof startSubgraph>>[] = [];
  let supergraph: Awaited<ReturnType<typeof startSupergraph>>;
  let rows: TicketRow[] = [];
  let notes: NoteRow[] = [];

  beforeAll(async () => {
    // The memory layer off: these tests count the cold path's batching (test/graph/memory.test.ts counts the warm one).
    h = await startHarness({ sims: { em: 3, vbo: ['v8'], sessionsPerServer: 40 }, config: { federation: true, cache: { enabled: false } } });
    const tickets = await startSubgraph(TICKETS_SDL, {
      Query: { tickets: () => rows },
      // A reference is all the tickets service knows of a session: its id.
      Ticket: { restoreSession: (t: TicketRow) => t.restoreSession && { __typename: 'EnterpriseManagerRestoreSession', id: t.restoreSession } },
    });
    const notesGraph = await startSubgraph(NOTES_SDL, {
      Query: { notes: () => notes },
      Note: { session: (n: NoteRow) => ({ __typename: 'RestoreSession', id: n.session }) },
      RestoreSession: { __resolveReference: (reference: { id: string }) => reference },
    });
    subgraphs = [tickets, notesGraph];
    supergraph = await startSupergraph([
      { name: 'veeam', url: h.gateway.graphqlUrl },
      { name: 'tickets', url: tickets.url },
      { name: 'notes', url: notesGraph.url },
    ]);
  }, 30_000);

  afterAll(async () => {
    await supergraph?.stop();
    for (const g of subgraphs) await g.stop();
    await h?.close();
  });

  const resetLogs = () => {
    for (const s of h.sims.servers) s.log.reset();
  };

  it('resolves 100 EM session references in one query-service call per EM server, with the data the gateway returns directly', async () => {
    // 34 + 33 + 33 sessions from the three EMs, fetched from our gateway directly.
    const direct: EmSession[] = [];
    for (const [i, em] of h.sims.em.entries()) {
      const res = await h.gql(
        `query ($source: String!, $first: Int!) {
          restoreSessions(first: $first, filter: { sources: [$source] }) {
            nodes { id name ... on EnterpriseManagerRestoreSession { vmDisplayName backupServer { name } } }
          }
        }`,
        { source: em.name, first: i === 0 ? 34 : 33 },
      );
      expect(res.body.errors).toBeUndefined();
      direct.push(...(res.body.data!.restoreSessions as { nodes: EmSession[] }).nodes);
    }
    expect(direct).toHaveLength(100);
    expect(new Set(direct.map((s) => s.backupServer?.name)).size).toBeGreaterThan(1);
    rows = direct.map((s, i) => ({ id: `T-${i}`, title: `Ticket ${i}`, restoreSession: s.id }));

    resetLogs();
    const res = await post(supergraph.url, '{ tickets { title restoreSession { name vmDisplayName backupServer { name } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.tickets).toEqual(
      direct.map((s, i) => ({ title: `Ticket ${i}`, restoreSession: { name: s.name, vmDisplayName: s.vmDisplayName, backupServer: s.backupServer } })),
    );
    // One `_entities` request from the gateway, one lookup per EM server and type inside it.
    for (const em of h.sims.em) {
      expect([em.name, em.log.count('GET /api/query?type=RestoreSession')]).toEqual([em.name, 1]);
      expect([em.name, em.log.count('GET /api/query?type=BackupServer')]).toEqual([em.name, 1]);
    }
    expect(h.sims.vbo[0]!.log.count()).toBe(0);
  });

  it('resolves dangling or foreign references to null without an error and without calling a server', async () => {
    const em = await h.gql('{ restoreSessions(first: 1, filter: { sources: ["em-1"] }) { nodes { id } } backupServers(first: 1) { nodes { id } } }');
    const sessionId = (em.body.data!.restoreSessions as { nodes: { id: string }[] }).nodes[0]!.id;
    const backupServerId = (em.body.data!.backupServers as { nodes: { id: string }[] }).nodes[0]!.id;
    const unknownServer = Buffer.from('ers:em-gone:0b0b0b0b-0000-0000-0000-000000000000').toString('base64url');
    rows = [
      { id: 'ok', title: 'ok', restoreSession: sessionId },
      { id: 'garbage', title: 'garbage', restoreSession: 'not-an-id' },
      { id: 'wrong-type', title: 'wrong type', restoreSession: backupServerId },
      { id: 'gone', title: 'server gone', restoreSession: unknownServer },
    ];
    resetLogs();
    // `creationTime` is non-null: for a null entity the gateway nulls the whole reference (with
    // only nullable fields selected it keeps the key and nulls the fields), and reports no error.
    const res = await post(supergraph.url, '{ tickets { title restoreSession { id name creationTime } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.tickets).toEqual([
      { title: 'ok', restoreSession: { id: sessionId, name: expect.any(String), creationTime: expect.any(String) } },
      { title: 'garbage', restoreSession: null },
      { title: 'wrong type', restoreSession: null },
      { title: 'server gone', restoreSession: null },
    ]);
    // Only the valid reference reached a server.
    expect(h.sims.servers.reduce((n, s) => n + s.log.count('GET /api/query?type=RestoreSession'), 0)).toBe(1);
  });

  it('resolves interface entity references (RestoreSession via @interfaceObject) to EM and VB365 sessions', async () => {
    const res = await h.gql(
      `{ em: restoreSessions(first: 5, filter: { sources: ["em-2"] }) { nodes { __typename id name creationTime } }
         m365: restoreSessions(first: 5, filter: { sources: ["m365-1"] }) { nodes { __typename id name creationTime } } }`,
    );
    expect(res.body.errors).toBeUndefined();
    const direct = [...(res.body.data!.em as { nodes: object[] }).nodes, ...(res.body.data!.m365 as { nodes: object[] }).nodes] as { id: string }[];
    expect(direct).toHaveLength(10);
    notes = direct.map((s, i) => ({ text: `Note ${i}`, session: s.id }));
    resetLogs();
    const fed = await post(supergraph.url, '{ notes { session { __typename id name creationTime } } }');
    expect(fed.errors).toBeUndefined();
    expect((fed.data!.notes as { session: unknown }[]).map((n) => n.session)).toEqual(direct);
    expect(h.sims.em[1]!.log.count('GET /api/query?type=RestoreSession')).toBe(1);
    // VB365 has no lookup of several sessions by id: one GET per distinct session, as for `nodes(ids:)`.
    expect(h.sims.vbo[0]!.log.count('GET /v8/RestoreSessions/{id}')).toBe(5);
  });

  it('keeps the gateway surface in federation mode: _service SDL, limits, health, metrics, GraphiQL', async () => {
    const service = await h.gql('{ _service { sdl } }');
    // Rover reads `_service.sdl` from a running subgraph (with every federation directive
    // definition spelled out); `npm run subgraph-sdl` prints the same entities offline.
    const sdl = parse((service.body.data!._service as { sdl: string }).sdl);
    expect(keyedTypes(sdl)).toEqual(keyedTypes(parse(subgraphSdl())));
    // 15 fields deep (backupServers, nodes, then 4 x restoreSessions/nodes/backupServer, name); the default maximum is 12.
    const nest = (inner: string): string => `restoreSessions { nodes { ... on EnterpriseManagerRestoreSession { backupServer { ${inner} } } } }`;
    const tooDeep = await h.gql(`{ backupServers { nodes { ${nest(nest(nest(nest('name'))))} } } }`);
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED', depth: 15 }) })]);
    expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${h.gateway.url}/metrics`)).text()).toContain('veeam_graph_graphql_operations_total');
    expect((await fetch(h.gateway.graphiqlUrl)).status).toBe(200);
  });
});

describe('federation limits', () => {
  it('costs `_entities` one per representation, like `nodes(ids:)`', () => {
    const schema = buildGraphSubgraphSchema({ typeDefs: loadTypeDefs(), resolvers: {} });
    const cost = getComplexity({
      schema,
      query: parse('query ($r: [_Any!]!) { _entities(representations: $r) { ... on BackupServer { name version } } }'),
      variables: { r: Array.from({ length: 100 }, (_, i) => ({ __typename: 'BackupServer', id: `b${i}` })) },
      estimators: [connectionCostEstimator(DEFAULT_LIMITS)],
    });
    expect(cost).toBe(1 + 100 * 2);
  });
});

describe('npm run subgraph-sdl', () => {
  it('prints SDL with @key(fields: "id") on every entity that composes with another subgraph', async () => {
    const res = spawnSync('npm', ['run', '--silent', 'subgraph-sdl'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    const sdl = parse(res.stdout);

    const keyed = keyedTypes(sdl);
    expect(keyed).toEqual(Object.keys(ENTITY_TYPES).sort());
    // Every Node of the plain schema except Source (this deployment's configuration) is an entity.
    const nodes = loadTypeDefs().definitions.flatMap((d) =>
      d.kind === Kind.OBJECT_TYPE_DEFINITION && d.interfaces?.some((i) => i.name.value === 'Node') ? [d.name.value] : [],
    );
    expect(nodes.filter((n) => n !== 'Source').every((n) => keyed.includes(n))).toBe(true);
    expect(res.stdout).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3"');

    // Composes with the tickets subgraph (LocalCompose runs the same composition as IntrospectAndCompose).
    const composed = await compose([
      { name: 'veeam', typeDefs: sdl },
      { name: 'tickets', typeDefs: TICKETS_SDL },
      { name: 'notes', typeDefs: NOTES_SDL },
    ]);
    const ticket = composed.schema.getType('Ticket');
    expect(isObjectType(ticket) && Object.keys(ticket.getFields())).toEqual(['id', 'title', 'restoreSession']);
    const session = composed.schema.getType('EnterpriseManagerRestoreSession');
    expect(isObjectType(session) && session.getFields().vmDisplayName !== undefined).toBe(true);
  }, 60_000);
});

/** Names of the types and interfaces with `@key(fields: "id")`, sorted. */
function keyedTypes(sdl: DocumentNode): string[] {
  return sdl.definitions
    .flatMap((d) =>
      (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.INTERFACE_TYPE_DEFINITION) &&
      d.directives?.some((x) => x.name.value === 'key' && x.arguments?.some((a) => a.value.kind === Kind.STRING && a.value.value === 'id'))
        ? [d.name.value]
        : [],
    )
    .sort();
}

async function compose(localServiceList: { name: string; typeDefs: DocumentNode }[]) {
  const gateway = new ApolloGateway({ supergraphSdl: new LocalCompose({ localServiceList, logger: silent }), logger: silent });
  try {
    return await gateway.load();
  } finally {
    await gateway.stop();
  }
}
