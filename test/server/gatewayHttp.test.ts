import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHarness, type Harness } from './gatewayHarness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ config: { limits: { maxDepth: 3, maxCost: 100, defaultPageSize: 10, maxPageSize: 100 } } });
});
afterAll(async () => {
  await h.close();
});

describe('GraphQL endpoint', () => {
  it('answers a query, echoes a sane x-request-id and logs the operation with it', async () => {
    const res = await h.gql('query Few { restoreSessions(first: 3) { nodes { name creationTime } } }', undefined, { 'x-request-id': 'req-42.abc' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-42.abc');
    const nodes = (res.body.data?.restoreSessions as { nodes: unknown[] }).nodes;
    expect(nodes).toHaveLength(3);
    expect(h.lines).toContainEqual(expect.objectContaining({ msg: 'graphql operation', requestId: 'req-42.abc', operation: 'Few', outcome: 'success' }));
  });

  it('replaces a missing or unsafe request id with a fresh one', async () => {
    const none = await h.gql('{ sources { name } }');
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await h.gql('{ sources { name } }', undefined, { 'x-request-id': 'a b\tc"' });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('blocks simple GET and POST requests (CSRF prevention) and accepts a preflighted GET', async () => {
    const url = `${h.gateway.graphqlUrl}?query=${encodeURIComponent('{ sources { name } }')}`;
    const simpleGet = await fetch(url);
    expect(simpleGet.status).toBe(400);
    expect(await simpleGet.text()).toMatch(/Cross-Site Request Forgery/);
    const simplePost = await fetch(h.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ sources { name } }' }),
    });
    expect(simplePost.status).toBe(400);
    expect(await simplePost.text()).toMatch(/Cross-Site Request Forgery/);
    const preflighted = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
    expect(((await preflighted.json()) as { data: { sources: unknown[] } }).data.sources).toHaveLength(3);
  });

  it('rejects an operation nested deeper than limits.maxDepth with GRAPHQL_VALIDATION_FAILED, fragments included', async () => {
    expect((await h.gql('{ restoreSessions(first: 1) { nodes { name } } }')).status).toBe(200);
    for (const query of [
      'query Deep { restoreSessions(first: 1) { nodes { source { name } } } }',
      'query Deep { restoreSessions(first: 1) { nodes { ...S } } } fragment S on RestoreSession { ... on RestoreSession { source { name } } }',
    ]) {
      const res = await h.gql(query);
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.body.errors?.[0]?.message).toBe(
        'Operation "Deep" is nested 4 fields deep; the maximum is 3 (limits.maxDepth). Split it into several queries or select fewer nested links.',
      );
    }
  });

  it('lets introspection through whatever its depth (GraphiQL needs it)', async () => {
    const res = await h.gql('{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }');
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });

  it('rejects an operation over limits.maxCost with BAD_USER_INPUT, counting first from variables', async () => {
    const query = 'query Cost($n: Int) { restoreSessions(first: $n) { nodes { name } } }';
    // cost = 1 + first x (nodes 1 + name 1)
    expect((await h.gql(query, { n: 49 })).status).toBe(200);
    const res = await h.gql(query, { n: 50 });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', cost: 101, maxCost: 100 });
    expect(res.body.errors?.[0]?.message).toMatch(/^Operation "Cost" costs 101, over the maximum of 100 \(limits.maxCost\)/);
    expect(h.lines).toContainEqual(expect.objectContaining({ operation: 'Cost', outcome: 'rejected', errors: ['BAD_USER_INPUT'] }));
  });
});

describe('GraphQL endpoint, caller mistakes', () => {
  it('reports variables that do not coerce as BAD_USER_INPUT, not as a cost problem', async () => {
    const res = await h.gql('query Cost($n: Int) { restoreSessions(first: $n) { nodes { name } } }', { n: 'many' });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors?.[0]?.message).toMatch(/Variable "\$n"/);
  });

  it('answers unknown routes with 404 and malformed JSON bodies with 400', async () => {
    expect((await fetch(`${h.gateway.url}/nope`)).status).toBe(404);
    const bad = await fetch(h.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
    expect(bad.status).toBe(400);
  });
});
