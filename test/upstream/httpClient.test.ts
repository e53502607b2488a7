import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { extractEmMessage } from '../../src/upstream/em/extractEmMessage.js';
import { UpstreamError, UpstreamHttpError } from '../../src/upstream/errors.js';
import { createHttpClient, type HttpClientOptions, type HttpRequestEvent } from '../../src/upstream/http/createHttpClient.js';
import { HTTP_DEFAULTS } from '../../src/upstream/http/httpDefaults.js';
import { createUpstreamLogger } from '../../src/upstream/http/upstreamLogger.js';
import { httpErrorFromResponse } from '../../src/upstream/httpErrorFromResponse.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, hit: number) => void;

/** A real HTTP server on 127.0.0.1:0 whose behaviour each test sets. */
let handler: Handler = (_req, res) => res.end('ok');
let hits = 0;
let inFlight = 0;
let maxInFlight = 0;
const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }> = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    handler(req, res, hits);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterEach(() => {
  hits = 0;
  maxInFlight = 0;
  seen.length = 0;
  handler = (_req, res) => res.end('ok');
  server.closeAllConnections();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const clients: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A client with fast, recorded sleeps: no test waits on a real backoff. */
function client(extra: Partial<HttpClientOptions> = {}) {
  const sleeps: number[] = [];
  const events: HttpRequestEvent[] = [];
  const c = createHttpClient({
    name: 'em-test',
    baseUrl: base,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRequest: (e) => events.push(e),
    retry: { random: () => 0.5, baseDelayMs: 10 },
    ...extra,
  });
  clients.push(c);
  return { c, sleeps, events };
}

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('createHttpClient: requests', () => {
  it('resolves relative, root-relative and foreign absolute paths onto the configured origin', async () => {
    const { c } = client();
    await c.request({ path: 'query', searchParams: { type: 'RestoreSession', skip: undefined } });
    await c.request({ path: '/v6/RestoreSessions?offset=0' });
    await c.request({ path: 'https://localhost:9398/api/restoreSessions/abc?format=Entity' });
    expect(seen.map((s) => s.url)).toEqual(['/api/query?type=RestoreSession', '/v6/RestoreSessions?offset=0', '/api/restoreSessions/abc?format=Entity']);
  });

  it('sends the User-Agent and returns status, headers and body without throwing on 404', async () => {
    handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error Message="Restore session not found." StatusCode="404" xmlns="http://www.veeam.com/ent/v1.0"/>');
    };
    const { c } = client({ version: '9.9.9' });
    const res = await c.request({ path: 'restoreSessions/x' });
    expect(res.status).toBe(404);
    expect(res.attempts).toBe(1);
    expect(seen[0]?.headers['user-agent']).toBe('veeam-graph/9.9.9 (+node)');
    const err = httpErrorFromResponse('em-test', 'GET', res, [], Date.now(), extractEmMessage);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err.code).toBe('UPSTREAM_HTTP_ERROR');
    expect(err.status).toBe(404);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('em-test: GET /api/restoreSessions/x -> HTTP 404: Restore session not found.');
  });

  it('returns a buffer body when asked', async () => {
    handler = (_req, res) => res.end(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]));
    const { c } = client();
    const res = await c.request({ path: 'x', responseType: 'buffer' });
    expect(Buffer.isBuffer(res.body)).toBe(true);
    expect(res.body.length).toBe(5);
  });

  it('reports every attempt to the observer hook', async () => {
    handler = (_req, res, hit) => {
      res.statusCode = hit === 1 ? 502 : 200;
      res.end();
    };
    const { c, events } = client();
    await c.request({ path: 'query', searchParams: { type: 'BackupServer' } });
    expect(events.map((e) => [e.method, e.path, e.status, e.attempt, e.willRetry])).toEqual([
      ['GET', '/api/query?type=BackupServer', 502, 1, true],
      ['GET', '/api/query?type=BackupServer', 200, 2, false],
    ]);
    expect(events.every((e) => e.server === 'em-test' && e.ms >= 0)).toBe(true);
  });

  it('caps concurrent sockets per server at maxSockets', async () => {
    handler = (_req, res) => setTimeout(() => res.end('ok'), 20);
    const { c } = client({ concurrency: { maxSockets: 2 } });
    await Promise.all(Array.from({ length: 8 }, () => c.request({ path: 'x' })));
    expect(hits).toBe(8);
    expect(maxInFlight).toBeLessThanOrEqual(2);
  });
});

describe('createHttpClient: retries', () => {
  it('retries a GET after 503 and succeeds: 2 requests', async () => {
    handler = (_req, res, hit) => {
      res.statusCode = hit === 1 ? 503 : 200;
      res.end(hit === 1 ? '' : 'fine');
    };
    const { c, sleeps } = client();
    const res = await c.request({ path: 'query' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('fine');
    expect(res.attempts).toBe(2);
    expect(hits).toBe(2);
    // full jitter: random 0.5 of the first ceiling (base 10 ms)
    expect(sleeps).toEqual([5]);
  });

  it('backs off from HTTP_DEFAULTS.retry.baseDelayMs (200 ms, as the config says) when no base is given', async () => {
    handler = (_req, res, hit) => {
      res.statusCode = hit === 1 ? 503 : 200;
      res.end();
    };
    const { c, sleeps } = client({ retry: { random: () => 0.5 } });
    await c.request({ path: 'x' });
    expect(sleeps).toEqual([HTTP_DEFAULTS.retry.baseDelayMs / 2]);
    expect(HTTP_DEFAULTS.retry.baseDelayMs).toBe(200);
  });

  it('honours Retry-After in seconds on 429', async () => {
    handler = (_req, res, hit) => {
      if (hit === 1) res.writeHead(429, { 'retry-after': '3' });
      res.end();
    };
    const { c, sleeps } = client();
    const res = await c.request({ path: 'x' });
    expect(res.status).toBe(200);
    expect(hits).toBe(2);
    expect(sleeps).toEqual([3000]);
  });

  it('honours Retry-After as an HTTP date, against the injected clock', async () => {
    const t0 = Date.UTC(2025, 0, 1, 12, 0, 0);
    handler = (_req, res, hit) => {
      if (hit === 1) res.writeHead(503, { 'retry-after': new Date(t0 + 2000).toUTCString() });
      res.end();
    };
    const { c, sleeps } = client({ now: () => t0 });
    await c.request({ path: 'x' });
    expect(sleeps).toEqual([2000]);
  });

  it('does not retry when Retry-After exceeds the cap, and exposes it', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '60', 'content-type': 'application/json' });
      res.end('{"message":"Quota Exceeded"}');
    };
    const { c, sleeps } = client({ retry: { maxRetryAfterMs: 10_000 } });
    const res = await c.request({ path: 'x' });
    expect(res.status).toBe(429);
    expect(hits).toBe(1);
    expect(sleeps).toEqual([]);
    const err = httpErrorFromResponse('em-test', 'GET', res);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(60_000);
    expect(err.upstreamMessage).toBe('Quota Exceeded');
  });

  it('gives up after the retry limit and returns the last response', async () => {
    handler = (_req, res) => {
      res.statusCode = 504;
      res.end();
    };
    const { c } = client({ retry: { limit: 2, random: () => 0 } });
    const res = await c.request({ path: 'x' });
    expect(res.status).toBe(504);
    expect(res.attempts).toBe(3);
    expect(hits).toBe(3);
  });

  it('never retries a POST, on a retryable status or a reset', async () => {
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end();
    };
    const { c } = client();
    const res = await c.request({ method: 'POST', path: 'sessionMngr/', searchParams: { v: 'latest' } });
    expect(res.status).toBe(503);
    expect(hits).toBe(1);

    hits = 0;
    handler = (req) => req.socket.destroy();
    const err = await c.request({ method: 'POST', path: 'sessionMngr/' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('UPSTREAM_UNREACHABLE');
    expect(hits).toBe(1);
  });

  it('does not retry a 500', async () => {
    handler = (_req, res) => {
      res.statusCode = 500;
      res.end();
    };
    const { c } = client();
    expect((await c.request({ path: 'x' })).status).toBe(500);
    expect(hits).toBe(1);
  });

  it('maps a connection reset to UPSTREAM_UNREACHABLE after retrying the GET', async () => {
    handler = (req) => req.socket.destroy();
    const { c, events } = client();
    const err = (await c.request({ path: 'query' }).catch((e: unknown) => e)) as UpstreamError;
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(err.retryable).toBe(true);
    expect(err.source).toBe('em-test');
    expect(err.message).toMatch(/^em-test: GET \/api\/query -> connection reset \(ECONNRESET\)$/);
    expect(hits).toBe(3);
    expect(events.map((e) => e.errorCode)).toEqual(['UPSTREAM_UNREACHABLE', 'UPSTREAM_UNREACHABLE', 'UPSTREAM_UNREACHABLE']);
  });

  it('maps a refused connection to UPSTREAM_UNREACHABLE', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { c } = client({ baseUrl: `http://127.0.0.1:${port}/api` });
    const err = (await c.request({ path: 'x' }).catch((e: unknown) => e)) as UpstreamError;
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('turns a hanging server into UPSTREAM_TIMEOUT within the configured total', async () => {
    handler = () => undefined;
    const { c } = client({ timeouts: { totalMs: 150 } });
    const err = (await c.request({ path: 'query' }).catch((e: unknown) => e)) as UpstreamError & { phase?: string };
    expect(err.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(err.phase).toBe('total');
    expect(err.message).toBe('em-test: GET /api/query -> timeout: no complete answer within 150 ms');
    // a slow answer is not retried: that would only add load
    expect(hits).toBe(1);
  });

  it('times out on the first byte with the response timeout', async () => {
    handler = () => undefined;
    const { c } = client({ timeouts: { responseMs: 80, totalMs: 5000 } });
    const err = (await c.request({ path: 'x' }).catch((e: unknown) => e)) as UpstreamError & { phase?: string };
    expect(err.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.phase).toBe('response');
  });

  it('stops a retry storm with the per-server retry budget', async () => {
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end();
    };
    // The breaker would stop this storm after 5 calls; here only the budget is under test.
    const { c } = client({ retry: { limit: 2, budgetCapacity: 2, budgetRatio: 0.1 }, circuitBreaker: { failureThreshold: 1000 } });
    for (let i = 0; i < 20; i++) await c.request({ path: 'x' });
    // without a budget: 20 * 3 = 60 hits; with it: 20 first attempts + the burst of 2 + 10% of 20
    expect(hits).toBeGreaterThanOrEqual(20);
    expect(hits).toBeLessThanOrEqual(25);
  });
});

describe('createHttpClient: logging without secrets', () => {
  it('logs server, method, path, status and ms, and never a credential', async () => {
    const password = 'Pa55w0rd!xyz';
    const basic = Buffer.from(`CORP\\svc:${password}`).toString('base64');
    const token = 'OsU6RL7OGkGKrPBGxKxURw==';
    handler = (_req, res, hit) => {
      res.writeHead(hit === 1 ? 503 : 500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Message: `session ${token} rejected for Basic ${basic}`, StatusCode: 500 }));
    };
    const { logger, lines } = capture();
    const { c } = client({ logger, secrets: [password] });
    c.addSecret(token);
    const res = await c.request({
      path: 'query',
      searchParams: { type: 'RestoreSession', access_token: token },
      headers: { authorization: `Basic ${basic}`, 'x-restsvcsessionid': token },
    });
    const err = httpErrorFromResponse(c.name, 'GET', res, c.secrets());
    logger.error({ err }, 'final');
    createUpstreamLogger(logger, 'em-test').info(
      { req: { headers: { authorization: `Basic ${basic}`, 'x-restsvcsessionid': token, cookie: `X-RestSvcSessionId=${token}` } }, password },
      'raw',
    );

    handler = (req) => req.socket.destroy();
    await c.request({ path: 'x', headers: { authorization: `Basic ${basic}` } }).catch((e: unknown) => logger.error({ err: e }, 'failed'));

    const all = lines.join('');
    for (const secret of [password, basic, token]) expect(all).not.toContain(secret);
    expect(all).not.toContain(encodeURIComponent(token));
    const first = JSON.parse(lines.find((l) => l.includes('retrying')) as string) as Record<string, unknown>;
    expect(first).toMatchObject({ server: 'em-test', method: 'GET', status: 503, attempt: 1 });
    expect(typeof first.ms).toBe('number');
    expect(first.path).toBe('/api/query?type=RestoreSession&access_token=[REDACTED]');
    expect(err.upstreamMessage).toBe('session [REDACTED] rejected for Basic [REDACTED]');
  });
});

describe('secret registry', () => {
  it('never forgets the secrets given at construction, however many rotating ones are added', () => {
    const client = createHttpClient({ name: 'x', baseUrl: 'http://127.0.0.1:9/api', secrets: ['the-password'] });
    try {
      for (let i = 0; i < 200; i++) client.addSecret(`token-${i}`);
      expect(client.secrets()).toContain('the-password');
      expect(client.secrets()).toContain('token-199');
      expect(client.secrets()).not.toContain('token-0');
      expect(client.secrets().length).toBeLessThanOrEqual(33);
    } finally {
      client.close();
    }
  });
});
