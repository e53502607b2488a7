import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { MAX_REQUEST_BODY_BYTES } from '../../src/server/requestBodyLimit.js';
import { type GqlBody, type Harness, readyz, startHarness } from './gatewayHarness.js';

/** Every request each simulated server has received (logons included). */
const upstreamRequests = (h: Harness) => h.sims.servers.map((s) => s.log.count());

async function post(h: Harness, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: GqlBody }> {
  const res = await fetch(h.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: (await res.json()) as GqlBody };
}

async function get(h: Harness, params: Record<string, unknown>): Promise<{ status: number; body: GqlBody }> {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  // CSRF prevention: a GET must carry a preflight header.
  const res = await fetch(`${h.gateway.graphqlUrl}?${search.toString()}`, { headers: { 'apollo-require-preflight': 'true' } });
  return { status: res.status, body: (await res.json()) as GqlBody };
}

const codes = (body: GqlBody) => (body.errors ?? []).map((e) => e.extensions?.code);

describe('client mistakes get client-error codes, before any upstream call', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sims: { em: 1, vbo: ['v8'] } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each([
    ['mutation { x }', 'mutation', 'Mutation'],
    ['mutation { __typename }', 'mutation', 'Mutation'],
  ])('%s: GRAPHQL_VALIDATION_FAILED, HTTP 400 (the schema has no %s type)', async (query, operation, type) => {
    const before = upstreamRequests(h);
    const r = await h.gql(query);
    expect(r.status).toBe(400);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors).toEqual([
      {
        message: `The ${operation} operation is not supported by the schema: it has no ${type} type (this API is read-only; use a query).`,
        locations: [{ line: 1, column: 1 }],
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
    expect(upstreamRequests(h)).toEqual(before);
    // A client mistake is not a gateway bug: nothing is logged as masked.
    expect(h.lines.filter((l) => l.msg === 'unexpected error, masked for the client')).toEqual([]);
  });

  it('a subscription over HTTP is GRAPHQL_VALIDATION_FAILED, HTTP 400, saying where subscriptions run', async () => {
    const before = upstreamRequests(h);
    const r = await h.gql('subscription OnSession { restoreSessionChanged { type } }');
    expect(r.status).toBe(400);
    expect(r.body.errors?.map((e) => e.message)).toEqual([
      'Subscriptions run over WebSocket (graphql-transport-ws) on /graphql, or Server-Sent Events (graphql-sse) on /graphql/stream; not over HTTP POST or GET.',
    ]);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(upstreamRequests(h)).toEqual(before);
  });

  it('a mutation sent by GET is the same validation error', async () => {
    const r = await get(h, { query: 'mutation { x }' });
    expect(r.status).toBe(400);
    expect(codes(r.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('GRAPHQL_PARSE_FAILED for a document that does not parse; BAD_REQUEST for a request that is no GraphQL request', async () => {
    const before = upstreamRequests(h);
    const parse = await h.gql('{ restoreSessions(first: 1) { nodes { id }');
    expect([parse.status, codes(parse.body)]).toEqual([400, ['GRAPHQL_PARSE_FAILED']]);

    const variable = await h.gql('query($f: RestoreSessionFilter) { restoreSessions(filter: $f) { nodes { id } } }', { f: { createdAfter: 'yesterday' } });
    expect([variable.status, codes(variable.body)]).toEqual([400, ['BAD_USER_INPUT']]);
    const ambiguous = await h.gql('query A { sources { name } } query B { sources { name } }');
    expect([ambiguous.status, codes(ambiguous.body)]).toEqual([400, ['OPERATION_RESOLUTION_FAILURE']]);

    for (const body of ['{"query":', '{}', '[{"query":"{ sources { name } }"}]', '{"query":"{ sources { name } }","variables":"x"}']) {
      const r = await post(h, body);
      expect([body, r.status, codes(r.body)]).toEqual([body, 400, ['BAD_REQUEST']]);
    }
    expect(upstreamRequests(h)).toEqual(before);
  });

  it(`a body over ${MAX_REQUEST_BODY_BYTES} bytes is refused with HTTP 413 and BAD_REQUEST, unread; one of exactly that size is served`, async () => {
    const before = upstreamRequests(h);
    const query = JSON.stringify({ query: '{ sources { name } }' });
    // JSON allows trailing whitespace: the same request padded to the limit, then one byte over it.
    const atLimit = await post(h, query.padEnd(MAX_REQUEST_BODY_BYTES, ' '));
    expect(atLimit.status).toBe(200);
    expect(atLimit.body.data).toEqual({ sources: [{ name: 'em-1' }, { name: 'm365-1' }] });

    const over = await post(h, query.padEnd(MAX_REQUEST_BODY_BYTES + 1, ' '));
    expect(over.status).toBe(413);
    expect(over.body).toEqual({
      errors: [{ message: `Request body over the maximum of ${MAX_REQUEST_BODY_BYTES} bytes.`, extensions: { code: 'BAD_REQUEST' } }],
    });

    // A 100,000-character VM name fits in a body, and is refused by the graph's own bound.
    const long = await h.gql('query($v: String) { restoreSessions(filter: { vmName: $v }) { nodes { id } } }', { v: 'x'.repeat(100_000) });
    expect(long.status).toBe(200);
    expect(long.body.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter.vmName', maxLength: 256 }, path: ['restoreSessions'] }),
    ]);
    expect(long.body.errors![0]!.message.length).toBeLessThan(200);

    // A GET is bounded by Node's request-header limit (16 KiB): HTTP 431, before express.
    const longGet = await fetch(`${h.gateway.graphqlUrl}?query=${'x'.repeat(20_000)}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(longGet.status).toBe(431);

    // An oversized variables object never reaches the graph.
    const huge = await post(
      h,
      JSON.stringify({ query: 'query($v: String) { restoreSessions(filter: { vmName: $v }) { nodes { id } } }', variables: { v: 'x'.repeat(300_000) } }),
    );
    expect(huge.status).toBe(413);
    expect(upstreamRequests(h)).toEqual(before);
  });
});

describe('automatic persisted queries (Apollo Server default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sims: { em: 1, vbo: [] } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const query = '{ sources { name kind } }';
  const sha256Hash = createHash('sha256').update(query).digest('hex');
  const extensions = { persistedQuery: { version: 1, sha256Hash } };
  const expected = { data: { sources: [{ name: 'em-1', kind: 'ENTERPRISE_MANAGER' }] } };

  it('a hash the gateway has not seen: PERSISTED_QUERY_NOT_FOUND; then the query with its hash registers it; then the hash alone works by GET and POST', async () => {
    const miss = await get(h, { extensions });
    expect(miss.status).toBe(200);
    expect(codes(miss.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);

    const register = await post(h, JSON.stringify({ query, extensions }));
    expect([register.status, register.body]).toEqual([200, expected]);

    const byGet = await get(h, { extensions });
    expect([byGet.status, byGet.body]).toEqual([200, expected]);
    const byPost = await post(h, JSON.stringify({ extensions }));
    expect([byPost.status, byPost.body]).toEqual([200, expected]);
  });

  it('a hash that does not match its query, or an unknown APQ version, is BAD_REQUEST, HTTP 400', async () => {
    const mismatch = await post(h, JSON.stringify({ query: '{ sources { name } }', extensions }));
    expect(mismatch).toEqual({ status: 400, body: { errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] } });
    const version = await get(h, { extensions: { persistedQuery: { version: 2, sha256Hash } } });
    expect(version).toEqual({ status: 400, body: { errors: [{ message: 'Unsupported persisted query version', extensions: { code: 'BAD_REQUEST' } }] } });
    expect(h.lines.filter((l) => l.msg === 'unexpected error, masked for the client')).toEqual([]);
  });
});

describe('/readyz and Source.status use the same status names', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const schemaStatuses = async (harness: Harness) =>
    ((await harness.gql('{ sources { name status } }')).body.data as { sources: { name: string; status: string }[] }).sources.map((s) => [s.name, s.status]);
  const sourceUp = async (harness: Harness) => {
    const text = await (await fetch(`${harness.gateway.url}/metrics`)).text();
    return [...text.matchAll(/^veeam_graph_source_up\{source="([^"]+)",kind="[^"]+"\} (-?\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
  };

  it('UNKNOWN, UP and CIRCUIT_OPEN alike; ready while one server is UP; veeam_graph_source_up 0 for an open circuit', async () => {
    // One outage opens a circuit, and it stays open for the whole test.
    h = await startHarness({
      sims: { em: 2, vbo: [] },
      config: { defaults: { retry: { limit: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000, maxCooldownMs: 600_000 } } },
    });
    // Nothing called yet: UNKNOWN everywhere (the report without probing, the schema, the gauge's -1).
    expect(h.gateway.readiness.report().sources.map((s) => [s.name, s.status])).toEqual([
      ['em-1', 'UNKNOWN'],
      ['em-2', 'UNKNOWN'],
    ]);
    expect(await schemaStatuses(h)).toEqual([
      ['em-1', 'UNKNOWN'],
      ['em-2', 'UNKNOWN'],
    ]);
    expect(await sourceUp(h)).toEqual([
      ['em-1', -1],
      ['em-2', -1],
    ]);

    await h.sims.em[0]!.close();
    const one = await readyz(h);
    expect(one.status).toBe(200);
    expect(one.body.ready).toBe(true);
    expect(one.body.sources.map((s) => [s.name, s.status])).toEqual([
      ['em-1', 'CIRCUIT_OPEN'],
      ['em-2', 'UP'],
    ]);
    expect(one.body.sources[0]!.lastError).toMatchObject({ code: 'UPSTREAM_CIRCUIT_OPEN' });
    expect(await schemaStatuses(h)).toEqual([
      ['em-1', 'CIRCUIT_OPEN'],
      ['em-2', 'UP'],
    ]);
    expect(await sourceUp(h)).toEqual([
      ['em-1', 0],
      ['em-2', 1],
    ]);
    const text = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(text).toMatch(/^veeam_graph_circuit_state\{source="em-1",state="open"\} 1$/m);
    expect(text).toMatch(/^veeam_graph_circuit_state\{source="em-1",state="closed"\} 0$/m);
    expect(text).toMatch(/^veeam_graph_circuit_state\{source="em-2",state="closed"\} 1$/m);
    expect(text).toMatch(new RegExp(`^veeam_graph_build_info\\{version="\\d+\\.\\d+\\.\\d+[^"]*",node_version="${process.version}"\\} 1$`, 'm'));

    await h.sims.em[1]!.close();
    h.clock.advance(10_000);
    const none = await readyz(h);
    expect(none.status).toBe(503);
    expect(none.body).toMatchObject({ ready: false, reason: 'none of the 2 configured servers is reachable' });
    expect(none.body.sources.map((s) => s.status)).toEqual(['CIRCUIT_OPEN', 'CIRCUIT_OPEN']);
    expect(await schemaStatuses(h)).toEqual([
      ['em-1', 'CIRCUIT_OPEN'],
      ['em-2', 'CIRCUIT_OPEN'],
    ]);
    expect(await sourceUp(h)).toEqual([
      ['em-1', 0],
      ['em-2', 0],
    ]);
  });
});
