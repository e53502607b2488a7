import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { ConfigError } from '../../src/config/loadConfig.js';
import { readyz, simConfig, startHarness, type Harness } from './gatewayHarness.js';
import { startSimulators } from '../../src/sim/startSimulators.js';
import { createGateway } from '../../src/server/createGateway.js';
import pino from 'pino';

const READ_KEY = 'read-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-fedcba9876543210';
const METRICS_KEY = 'metrics-key-00112233445566';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

const API_KEYS = {
  auth: {
    apiKeys: [
      { name: 'dashboard', key: { env: 'READ_KEY' }, scopes: ['read'] },
      // Only the digest in the config: the key itself never has to be on the gateway's disk.
      { name: 'ops', sha256: sha256(ADMIN_KEY), scopes: ['admin'] },
      { name: 'prometheus', key: { env: 'METRICS_KEY' }, scopes: ['metrics'] },
    ],
  },
};
const ENV = { READ_KEY, METRICS_KEY };

/** Every credential the tests send; none may appear in a log line. */
const CREDENTIALS: string[] = [READ_KEY, ADMIN_KEY, METRICS_KEY];

function expectNoCredentialInLogs(h: Harness): void {
  const text = h.lines.map((l) => JSON.stringify(l)).join('\n');
  for (const c of CREDENTIALS) expect(text).not.toContain(c);
}

describe('API keys', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sims: { em: 2, vbo: [], sessionsPerServer: 5 }, config: API_KEYS, env: ENV });
  });
  afterAll(async () => {
    expectNoCredentialInLogs(h);
    await h.close();
  });

  it('answers no credential with 401, WWW-Authenticate: Bearer and UNAUTHENTICATED', async () => {
    const res = await h.gql('{ sources { name } }');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="veeam-graph"');
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.data).toBeUndefined();
  });

  it('answers a wrong key with 401 invalid_token, saying nothing of which keys exist', async () => {
    for (const header of [
      bearer('read-key-0123456789abcdeX'),
      bearer(sha256(ADMIN_KEY)),
      { authorization: READ_KEY },
      { authorization: `Basic ${READ_KEY}` },
    ]) {
      const res = await h.gql('{ sources { name } }', undefined, header);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="veeam-graph", error="invalid_token"');
      expect(res.body.errors).toEqual([{ message: 'Invalid credentials.', extensions: { code: 'UNAUTHENTICATED' } }]);
    }
  });

  it('runs a query for a valid key (as the key itself or by its digest), and logs the principal, never the key', async () => {
    const read = await h.gql('{ sources { name } }', undefined, bearer(READ_KEY));
    expect(read.status).toBe(200);
    expect(read.body.data?.sources).toHaveLength(2);
    const admin = await h.gql('query Named { sources { name } }', undefined, bearer(ADMIN_KEY));
    expect(admin.status).toBe(200);
    expect(h.lines.some((l) => l.msg === 'graphql operation' && l.principal === 'key:ops' && l.operation === 'Named')).toBe(true);
  });

  it('refuses a principal without the read scope with 403 FORBIDDEN', async () => {
    const res = await h.gql('{ sources { name } }', undefined, bearer(METRICS_KEY));
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('shows upstream URLs and error details to admin only; a reader gets the server name and the code', async () => {
    const failing = h.sims.em[1]!;
    failing.faults.set({ rules: [{ match: 'query', action: { status: 503, message: 'maintenance window' } }] });
    try {
      const query = '{ restoreSessions(first: 3) { nodes { name } } sources { name url lastError { message code } } }';
      // Once first, so that each source's lastError is there when the queries below read it.
      await h.gql('{ restoreSessions(first: 3) { nodes { name } } }', undefined, { ...bearer(READ_KEY), 'cache-control': 'no-cache' });
      const read = await h.gql(query, undefined, { ...bearer(READ_KEY), 'cache-control': 'no-cache' });
      const admin = await h.gql(query, undefined, { ...bearer(ADMIN_KEY), 'cache-control': 'no-cache' });
      expect(read.status).toBe(200);
      const failed = failing.name;

      const readError = read.body.errors?.find((e) => e.extensions?.source === failed);
      expect(readError?.message).toBe(`${failed}: UPSTREAM_HTTP_ERROR`);
      expect(readError?.extensions).toMatchObject({ code: 'UPSTREAM_HTTP_ERROR', httpStatus: 503 });
      const adminError = admin.body.errors?.find((e) => e.extensions?.source === failed);
      expect(adminError?.message).toMatch(/GET \/api\/query.*503/);

      const readSources = read.body.data?.sources as { name: string; url: string | null; lastError: { message: string } | null }[];
      const adminSources = admin.body.data?.sources as typeof readSources;
      expect(readSources.map((s) => s.url)).toEqual([null, null]);
      expect(adminSources.map((s) => s.url)).toEqual(h.sims.em.map((s) => `${s.url}`.replace(/\/+$/, '')));
      expect(readSources.find((s) => s.name === failed)?.lastError?.message).toBe(`${failed}: UPSTREAM_HTTP_ERROR`);
      expect(adminSources.find((s) => s.name === failed)?.lastError?.message).toContain('/api/query');
      expect(JSON.stringify(read.body)).not.toContain('127.0.0.1');
      expect(JSON.stringify(read.body)).not.toContain('maintenance');

      // /readyz stays open, with codes but no error text for anyone but an admin.
      const open = await readyz(h);
      expect(open.status).toBe(200);
      const openFailed = open.body.sources.find((s) => s.name === failed);
      expect(openFailed?.lastError).toEqual({ code: 'UPSTREAM_HTTP_ERROR', message: `${failed}: UPSTREAM_HTTP_ERROR` });
      const full = await readyz(h, bearer(ADMIN_KEY));
      expect(full.body.sources.find((s) => s.name === failed)?.lastError?.message).toContain('/api/query');
    } finally {
      failing.faults.clear();
    }
  });

  it('guards /metrics with the metrics scope (admin includes it); /healthz stays open', async () => {
    const metrics = (headers: Record<string, string> = {}) => fetch(`${h.gateway.url}/metrics`, { headers });
    expect((await metrics()).status).toBe(401);
    expect((await metrics(bearer(READ_KEY))).status).toBe(403);
    const ok = await metrics(bearer(METRICS_KEY));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('veeam_graph_');
    expect((await metrics(bearer(ADMIN_KEY))).status).toBe(200);
    expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200);
  });

  it('still serves GraphiQL, which is static, without a key', async () => {
    const page = await fetch(h.gateway.graphiqlUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
  });
});

describe('auth configuration', () => {
  it('opens /metrics with metricsPublic', async () => {
    const h = await startHarness({ sims: { em: 1, vbo: [], sessionsPerServer: 2 }, config: { auth: { ...API_KEYS.auth, metricsPublic: true } }, env: ENV });
    try {
      expect((await fetch(`${h.gateway.url}/metrics`)).status).toBe(200);
      expect((await h.gql('{ sources { name } }')).status).toBe(401);
    } finally {
      await h.close();
    }
  });

  it('auth.mode none: open on purpose, warned at start, anonymous callers read but see no upstream details', async () => {
    const h = await startHarness({ sims: { em: 1, vbo: [], sessionsPerServer: 2 }, config: { auth: { mode: 'none' } } });
    try {
      const res = await h.gql('{ sources { name url } }');
      expect(res.status).toBe(200);
      expect(res.body.data?.sources).toEqual([{ name: h.sims.em[0]!.name, url: null }]);
      expect(h.lines.some((l) => l.level === 40 && /auth\.mode is none/.test(String(l.msg)))).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('refuses a non-loopback listener without auth, naming the fix', async () => {
    const sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 1 });
    try {
      const config = await simConfig(sims, { listen: { host: '0.0.0.0', port: 0 } });
      const err = await createGateway(config, { logger: pino({ level: 'silent' }), defaultMetrics: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).exitCode).toBe(2);
      expect((err as ConfigError).message).toMatch(/listen\.host: "0\.0\.0\.0" is not a loopback address.*auth\.mode: none/s);
    } finally {
      await sims.close();
    }
  });

  it('reports bad auth keys with their paths', async () => {
    const sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 1 });
    try {
      const err = await simConfig(sims, {
        auth: {
          apiKeys: [
            { name: 'a', key: 'short', scopes: ['read'] },
            { name: 'a', sha256: 'xyz', scopes: [] },
            { name: 'b', scopes: ['read'] },
          ],
          jwt: { issuer: 'x', audience: 'y' },
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      expect(text).toMatch(/auth\.apiKeys\[1\]\.sha256: expected the 64 hex digits/);
      expect(text).toMatch(/auth\.apiKeys\[1\]\.scopes: expected at least one scope/);
      expect(text).toMatch(/auth\.apiKeys\[2\]: expected exactly one of key or sha256/);
      expect(text).toMatch(/auth\.jwt: expected exactly one of jwksFile or jwksUrl/);
      const short = await simConfig(sims, { auth: { apiKeys: [{ name: 'a', key: { env: 'K' }, scopes: ['read'] }] } }, { K: 'short' }).catch((e: unknown) => e);
      expect((short as ConfigError).problems.join('\n')).toMatch(/auth\.apiKeys\[0\]\.key: at least 16 characters/);
      expect((short as ConfigError).message).not.toContain('short"');
    } finally {
      await sims.close();
    }
  });
});

describe('JWT', () => {
  const ISSUER = 'https://idp.example.test/';
  const AUDIENCE = 'veeam-graph';
  let jwks: { keys: JWK[] } = { keys: [] };
  let jwksRequests = 0;
  let jwksServer: http.Server;
  let jwksUrl: string;
  let h: Harness;
  const keys = new Map<string, Awaited<ReturnType<typeof generateKeyPair>>['privateKey']>();
  const tokens: string[] = [];

  async function addKey(kid: string): Promise<void> {
    const pair = await generateKeyPair('ES256', { extractable: true });
    keys.set(kid, pair.privateKey);
    jwks = { keys: [...jwks.keys, { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  }

  async function token(kid: string, claims: { exp?: number; aud?: string; scope?: string } = {}): Promise<string> {
    const now = Math.floor(h.clock.ms / 1000);
    const jwt = await new SignJWT({ scope: claims.scope ?? 'read' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(ISSUER)
      .setAudience(claims.aud ?? AUDIENCE)
      .setSubject('alice@example.test')
      .setIssuedAt(now)
      .setExpirationTime(claims.exp ?? now + 300)
      .sign(keys.get(kid)!);
    tokens.push(jwt);
    return jwt;
  }

  beforeAll(async () => {
    await addKey('k1');
    jwksServer = http.createServer((_req, res) => {
      jwksRequests++;
      res.setHeader('content-type', 'application/json').end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    h = await startHarness({
      sims: { em: 1, vbo: [], sessionsPerServer: 2 },
      config: { auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, algorithms: ['ES256'], jwksCooldownS: 0 } } },
    });
  });
  afterAll(async () => {
    const text = h.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const t of tokens) expect(text).not.toContain(t.split('.')[2]);
    await h.close();
    await new Promise((resolve) => jwksServer.close(resolve));
  });
  afterEach(() => expect(h.lines.filter((l) => Number(l.level) >= 50)).toEqual([]));

  it('accepts a good token and fetches the JWKS once for many', async () => {
    const t = await token('k1');
    for (let i = 0; i < 3; i++) expect((await h.gql('{ sources { name } }', undefined, bearer(t))).status).toBe(200);
    expect(jwksRequests).toBe(1);
    const principal = h.lines.find((l) => l.msg === 'graphql operation')?.principal;
    expect(principal).toBe('jwt:alice@example.test');
  });

  it('rejects an expired token (by the gateway clock, beyond the 30 s tolerance) and a wrong audience', async () => {
    const expired = await token('k1', { exp: Math.floor(h.clock.ms / 1000) - 31 });
    const res = await h.gql('{ sources { name } }', undefined, bearer(expired));
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // Within the tolerance, still good.
    expect((await h.gql('{ sources { name } }', undefined, bearer(await token('k1', { exp: Math.floor(h.clock.ms / 1000) - 5 })))).status).toBe(200);
    expect((await h.gql('{ sources { name } }', undefined, bearer(await token('k1', { aud: 'another-api' })))).status).toBe(401);
    expect(h.lines.some((l) => l.msg === 'JWT rejected' && l.reason === 'ERR_JWT_EXPIRED')).toBe(true);
    expect(h.lines.some((l) => l.msg === 'JWT rejected' && l.claim === 'aud')).toBe(true);
  });

  it('refetches the JWKS for an unknown kid (a rotated key), and gives scopes from the scope claim', async () => {
    const before = jwksRequests;
    await addKey('k2');
    const rotated = await token('k2', { scope: 'read admin' });
    const res = await h.gql('{ sources { url } }', undefined, bearer(rotated));
    expect(res.status).toBe(200);
    expect(jwksRequests).toBe(before + 1);
    expect((res.body.data?.sources as { url: string | null }[])[0]?.url).toBe(h.sims.em[0]!.url.replace(/\/+$/, ''));
    // A kid no JWKS has: refetched, still unknown, 401.
    keys.set('k3', keys.get('k1')!);
    expect((await h.gql('{ sources { name } }', undefined, bearer(await token('k3')))).status).toBe(401);
  });
});
