import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import selfsigned from 'selfsigned';
import { parseConfig, type ConfigError } from '../../src/config/loadConfig.js';
import { cleanUpCli, tempDir } from '../support/cliProcess.js';
import { startHarness, type Harness } from './gatewayHarness.js';

const ISSUER = 'https://idp.corp.test/';
const AUDIENCE = 'veeam-graph';
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

/** An identity provider on a private CA: its JWKS over https, requests counted, able to go down. */
describe('a remote JWKS over https from a private CA (auth.jwt.ca), on the gateway clock', () => {
  let jwks: { keys: JWK[] } = { keys: [] };
  let fetches = 0;
  let down = false;
  let idp: https.Server;
  let jwksUrl: string;
  let caFile: string;
  const keys = new Map<string, CryptoKey>();
  let h: Harness;
  let strict: Harness;

  async function addKey(kid: string): Promise<void> {
    const pair = await generateKeyPair('ES256', { extractable: true });
    keys.set(kid, pair.privateKey);
    jwks = { keys: [...jwks.keys, { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  }
  const token = (kid: string, signWith = kid) =>
    new SignJWT({ scope: 'read' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('bob@corp.test')
      .setIssuedAt(Math.floor(h.clock.ms / 1000))
      .setExpirationTime(Math.floor(h.clock.ms / 1000) + 3600)
      .sign(keys.get(signWith)!);
  const status = async (harness: Harness, jwt: string) => (await harness.gql('{ sources { name } }', undefined, bearer(jwt))).status;

  beforeAll(async () => {
    await addKey('k1');
    const ca = await selfsigned.generate([{ name: 'commonName', value: 'corp test CA' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
      ],
    });
    const server = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    idp = https.createServer({ key: server.private, cert: server.cert }, (_req, res) => {
      fetches++;
      if (down) return void res.writeHead(503).end();
      res.setHeader('content-type', 'application/json').end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    jwksUrl = `https://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks.json`;
    caFile = path.join(await tempDir('vg-jwks-'), 'corp-ca.pem');
    await writeFile(caFile, ca.cert);
    const jwt = { issuer: ISSUER, audience: AUDIENCE, jwksUrl, algorithms: ['ES256'], jwksCooldownS: 60, jwksMaxStaleS: 3600 };
    h = await startHarness({ sims: { em: 1, vbo: [], sessionsPerServer: 1 }, config: { auth: { jwt: { ...jwt, ca: caFile } } } });
    // The same IdP without auth.jwt.ca: its certificate does not verify.
    strict = await startHarness({ sims: { em: 1, vbo: [], sessionsPerServer: 1 }, config: { auth: { jwt } } });
  });
  afterAll(async () => {
    await h?.close();
    await strict?.close();
    await new Promise((resolve) => idp.close(resolve));
    await cleanUpCli();
  });

  it('verifies with keys fetched over TLS from the CA of auth.jwt.ca; without it the IdP is unavailable (503)', async () => {
    expect(await status(h, await token('k1'))).toBe(200);
    expect(await status(h, await token('k1'))).toBe(200);
    expect(fetches).toBe(1);
    const res = await strict.gql('{ sources { name } }', undefined, bearer(await token('k1')));
    expect(res.status).toBe(503);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('AUTH_UNAVAILABLE');
  });

  it('refetches for an unknown kid at most once per jwksCooldownS of the gateway clock', async () => {
    const before = fetches;
    await addKey('k2');
    h.clock.advance(61_000);
    // Rotated: the unknown kid fetches again, and verifies.
    expect(await status(h, await token('k2'))).toBe(200);
    expect(fetches).toBe(before + 1);
    // Made-up kids within the cooldown cost no fetch.
    await addKey('k3');
    for (let i = 0; i < 3; i++) expect(await status(h, await token('k3'))).toBe(401);
    expect(fetches).toBe(before + 1);
    // Past the cooldown on the gateway's clock (no real time passes), the next unknown kid fetches.
    h.clock.advance(60_000);
    expect(await status(h, await token('k3'))).toBe(200);
    expect(fetches).toBe(before + 2);
  });

  it('keeps verifying with the keys it has while the IdP is down past their age, for jwksMaxStaleS, and says so', async () => {
    down = true;
    const before = fetches;
    h.clock.advance(11 * 60_000);
    expect(await status(h, await token('k1'))).toBe(200);
    expect(fetches).toBe(before + 1);
    expect(h.lines.some((l) => l.msg === 'JWKS refetch failed; verifying with the keys fetched before')).toBe(true);
    // Past 10 minutes + jwksMaxStaleS (3600 s) without a successful fetch: no key is trusted any more.
    h.clock.advance(3600_000);
    const res = await h.gql('{ sources { name } }', undefined, bearer(await token('k1')));
    expect([res.status, res.body.errors?.[0]?.extensions?.code]).toEqual([503, 'AUTH_UNAVAILABLE']);
    // The IdP back: the next token fetches and verifies.
    down = false;
    expect(await status(h, await token('k1'))).toBe(200);
  });
});

describe('auth.jwt.ca in the config', () => {
  it('is refused with a plain-http jwksUrl, and names a file it cannot read', async () => {
    const servers = [{ name: 'em', kind: 'enterprise-manager', url: 'https://em.corp:9398/api', username: 'u', password: 'p' }];
    const jwt = { issuer: ISSUER, audience: AUDIENCE };
    const problems = async (extra: Record<string, unknown>) => {
      try {
        await parseConfig({ servers, auth: { jwt: { ...jwt, ...extra } } });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(await problems({ jwksUrl: 'http://idp.corp/jwks', ca: 'ca.pem' })).toEqual([expect.stringMatching(/^auth\.jwt: ca: only with an https jwksUrl/)]);
    expect(await problems({ jwksUrl: 'https://idp.corp/jwks', ca: 'no-such-ca.pem' })).toEqual([
      expect.stringMatching(/^auth\.jwt\.ca: cannot read no-such-ca\.pem: ENOENT/),
    ]);
  });
});
