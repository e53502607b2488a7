import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHarness, type Harness } from './gatewayHarness.js';

const READ_KEY = 'reader-key-0123456789abcdef';
const OTHER_KEY = 'other-key-0123456789abcdef0';
const ADMIN_KEY = 'admin-key-0123456789abcdef1';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const apiKeys = [
  { name: 'reader', sha256: sha256(READ_KEY), scopes: ['read'] },
  { name: 'other', sha256: sha256(OTHER_KEY), scopes: ['read'] },
  { name: 'ops', sha256: sha256(ADMIN_KEY), scopes: ['admin'] },
];

describe('rate limit per principal', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sims: { em: 1, vbo: [], sessionsPerServer: 2 }, config: { auth: { apiKeys }, rateLimit: { requestsPerSecond: 0.5, burst: 2 } } });
  });
  afterAll(() => h.close());

  it('answers 429 with Retry-After once the bucket is empty, for that principal only, until the clock refills it', async () => {
    const q = '{ sources { name } }';
    expect((await h.gql(q, undefined, bearer(READ_KEY))).status).toBe(200);
    expect((await h.gql(q, undefined, bearer(READ_KEY))).status).toBe(200);
    const limited = await h.gql(q, undefined, bearer(READ_KEY));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.body.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterS: 2 });
    // Another principal has its own bucket.
    expect((await h.gql(q, undefined, bearer(OTHER_KEY))).status).toBe(200);
    h.clock.advance(2000);
    expect((await h.gql(q, undefined, bearer(READ_KEY))).status).toBe(200);
  });

  it('limits failed credentials per client address: a brute force gets 429, not endless 401s', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await h.gql('{ sources { name } }', undefined, bearer(`guess-${i}-0123456789abcdef`))).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    // A valid key from the same address is not locked out.
    h.clock.advance(10_000);
    expect((await h.gql('{ sources { name } }', undefined, bearer(OTHER_KEY))).status).toBe(200);
  });

  it('counts every refusal by reason in /metrics', async () => {
    const text = await (await fetch(`${h.gateway.url}/metrics`, { headers: bearer(ADMIN_KEY) })).text();
    const count = (reason: string) => Number(new RegExp(`^veeam_graph_access_denied_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(count('rate_limited')).toBe(1);
    expect(count('invalid_credentials')).toBe(20);
    expect(count('failed_auth_limited')).toBe(2);
  });
});

describe('request limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sims: { em: 1, vbo: [], sessionsPerServer: 2 }, config: { limits: { maxAliases: 3, maxDirectives: 2 } } });
  });
  afterAll(() => h.close());

  it('refuses more aliases or directives than configured, before any upstream call', async () => {
    const before = h.sims.em[0]!.log.count();
    const aliases = await h.gql('{ a: sources { name } b: sources { name } c: sources { name } d: sources { name } }');
    expect(aliases.status).toBe(400);
    expect(aliases.body.errors?.[0]?.message).toMatch(/4 aliases, over the maximum of 3 \(limits\.maxAliases\)/);
    const directives = await h.gql('{ sources { name @include(if: true) @skip(if: false) kind @include(if: true) } }');
    expect(directives.status).toBe(400);
    expect(directives.body.errors?.[0]?.message).toMatch(/limits\.maxDirectives/);
    expect(h.sims.em[0]!.log.count()).toBe(before);
  });

  it('refuses a body over 256 KiB with 413', async () => {
    const res = await fetch(h.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ sources { name } } # ${'x'.repeat(300 * 1024)}` }),
    });
    expect(res.status).toBe(413);
  });

  it('refuses a document of more tokens than limits.maxTokens at parse time', async () => {
    const res = await h.gql(`{ sources { ${'name '.repeat(12_000)} } }`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });
});

describe('trusted documents (operations.allowlist)', () => {
  const LISTED = 'query Sources { sources { name } }';
  let dir: string;
  let h: Harness;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'allowlist-'));
    const manifest = {
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: sha256(LISTED), name: 'Sources', type: 'query', body: LISTED }],
    };
    await writeFile(path.join(dir, 'persisted.json'), JSON.stringify(manifest));
    h = await startHarness({
      sims: { em: 1, vbo: [], sessionsPerServer: 2 },
      config: { auth: { apiKeys }, operations: { allowlist: path.join(dir, 'persisted.json'), mode: 'enforce' } },
    });
  });
  afterAll(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a listed document, and one sent by its hash only', async () => {
    expect((await h.gql(LISTED, undefined, bearer(READ_KEY))).body.data?.sources).toHaveLength(1);
    const res = await fetch(h.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(READ_KEY) },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(LISTED) } } }),
    });
    expect(((await res.json()) as { data: { sources: unknown[] } }).data.sources).toHaveLength(1);
  });

  it('rejects an unknown document in enforce mode with 403 PERSISTED_QUERY_NOT_IN_LIST, but lets an admin run it', async () => {
    const rejected = await h.gql('{ sources { name kind } }', undefined, bearer(READ_KEY));
    expect(rejected.status).toBe(403);
    expect(rejected.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(rejected.body.data).toBeUndefined();
    const admin = await h.gql('{ sources { name kind } }', undefined, bearer(ADMIN_KEY));
    expect(admin.status).toBe(200);
    expect(admin.body.data?.sources).toHaveLength(1);
  });
});
