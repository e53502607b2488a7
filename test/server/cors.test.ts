import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '../../src/config/loadConfig.js';
import { startHarness, type Harness } from './gatewayHarness.js';

const ALLOWED = 'https://ops.example.test';

const preflight = (h: Harness, origin: string) =>
  fetch(h.gateway.graphqlUrl, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,cache-control' },
  });
const accessHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'));

describe('CORS on /graphql', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('is closed by default: no Access-Control-* header for a preflight or a request from another origin', async () => {
    h = await startHarness({ sims: { em: 1, vbo: [], sessionsPerServer: 5 } });
    expect(accessHeaders(await preflight(h, ALLOWED))).toEqual([]);
    const post = await h.gql('{ sources { name } }', undefined, { origin: ALLOWED });
    expect(post.status).toBe(200);
    expect(accessHeaders(post as unknown as Response)).toEqual([]);
  });

  it('answers a preflight from an allowed origin, and sends nothing to any other origin', async () => {
    h = await startHarness({ sims: { em: 1, vbo: [], sessionsPerServer: 5 }, config: { cors: { origins: [ALLOWED], credentials: true, maxAgeS: 120 } } });
    const ok = await preflight(h, ALLOWED);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    expect(ok.headers.get('access-control-allow-headers')!.split(',')).toEqual(expect.arrayContaining(['content-type', 'cache-control', 'authorization']));
    expect(ok.headers.get('access-control-max-age')).toBe('120');
    expect(ok.headers.get('vary')).toMatch(/origin/i);

    const res = await fetch(h.gateway.graphqlUrl, {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ sources { name } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-expose-headers')).toBe('x-request-id');

    const other = await preflight(h, 'https://evil.example.test');
    expect(accessHeaders(other)).toEqual([]);
  });

  it('rejects an origin that is not an origin, naming the key', async () => {
    const servers = [{ name: 'em-1', kind: 'enterprise-manager', url: 'http://127.0.0.1:1/api', username: 'u', password: { env: 'P' } }];
    const err = await parseConfig({ servers, cors: { origins: ['https://ops.example.test/app'] } }, { env: { P: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.join('\n')).toMatch(/cors\.origins\[0\]: expected an origin/);
  });
});
