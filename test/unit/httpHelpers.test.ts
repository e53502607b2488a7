import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import pino from 'pino';
import { extractEmMessage } from '../../src/upstream/em/extractEmMessage.js';
import { extractUpstreamMessage } from '../../src/upstream/extractUpstreamMessage.js';
import { RetryBudget } from '../../src/upstream/http/RetryBudget.js';
import { isRetryableNetworkError, mapRequestError } from '../../src/upstream/http/mapRequestError.js';
import { backoffDelay, parseRetryAfter } from '../../src/upstream/http/retryDelay.js';
import { UPSTREAM_REDACT_PATHS, createUpstreamLogger } from '../../src/upstream/http/upstreamLogger.js';
import { packageVersion, userAgent } from '../../src/upstream/http/userAgent.js';

describe('RetryBudget', () => {
  it('allows a burst of `capacity` retries, then `ratio` per request', () => {
    const b = new RetryBudget({ capacity: 2, ratio: 0.25 });
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(false);
    let granted = 0;
    for (let i = 0; i < 40; i++) {
      b.deposit();
      if (b.tryWithdraw()) granted++;
    }
    expect(granted).toBe(10);
  });
  it('never holds more than its capacity', () => {
    const b = new RetryBudget({ capacity: 3, ratio: 1 });
    for (let i = 0; i < 100; i++) b.deposit();
    expect(b.available).toBe(3);
    expect(() => new RetryBudget({ ratio: -1 })).toThrow(RangeError);
  });
});

describe('backoffDelay', () => {
  it('is full jitter under a doubling, capped ceiling', () => {
    expect(backoffDelay(1, 100, 1000, () => 0.999)).toBe(99);
    expect(backoffDelay(2, 100, 1000, () => 0.5)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(200);
    expect(backoffDelay(10, 100, 1000, () => 0.5)).toBe(500);
    expect(backoffDelay(1, 100, 1000, () => 0)).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 1, 0, 0, 0);
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['7'], now)).toBe(7000);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

/** Error bodies the clients meet, and what the upstream's message and code are (EM's extractor reads them all). */
const FOUND: Array<[string, string | Buffer, { message?: string; code?: string }]> = [
  [
    'EM XML',
    '<?xml version="1.0" encoding="utf-8"?><Error Message="Object reference not set." StatusCode="500" xmlns="http://www.veeam.com/ent/v1.0"/>',
    { message: 'Object reference not set.' },
  ],
  [
    'EM JSON with BOM',
    '\ufeff{"FirstChanceExceptionMessage":null,"Message":"Node [root] does not exist.","StackTrace":null,"Status":null,"StatusCode":400}',
    { message: 'Node [root] does not exist.' },
  ],
  ['EM JSON fallback', '{"Message":null,"FirstChanceExceptionMessage":"inner"}', { message: 'inner' }],
  ['ASP.NET', '{"Message":"Authorization has been denied for this request."}', { message: 'Authorization has been denied for this request.' }],
  ['VB365', '{"message":"Proxy is offline","errorCode":"ProxyOffline","stackTrace":null}', { message: 'Proxy is offline', code: 'ProxyOffline' }],
  [
    'OAuth',
    '{"error":"invalid_grant","error_description":"The user name or password is incorrect."}',
    { message: 'The user name or password is incorrect.', code: 'invalid_grant' },
  ],
  ['OAuth without description', '{"error":"invalid_client"}', { message: 'invalid_client', code: 'invalid_client' }],
  ['buffer', Buffer.from('{"message":"m"}'), { message: 'm' }],
];

const NOTHING: Array<[string, string | Buffer | undefined]> = [
  ['empty', ''],
  ['undefined', undefined],
  ['HTML', '<html><body><h1>502 Bad Gateway</h1></body></html>'],
  ['text', 'Service Unavailable'],
  ['broken JSON', '{"message":'],
  ['JSON array', '[1]'],
  ['huge', `{"message":"${'x'.repeat(70_000)}"}`],
];

describe('extractEmMessage (EM XML, then the shared JSON shapes)', () => {
  it.each(FOUND)('%s', (_name, body, expected) => {
    expect(extractEmMessage(body)).toEqual(expected);
  });
  it.each(NOTHING)('%s -> nothing', (_name, body) => {
    expect(extractEmMessage(body)).toEqual({});
  });
});

describe('extractUpstreamMessage (shared, JSON only)', () => {
  it.each(FOUND.filter(([name]) => name !== 'EM XML'))('%s', (_name, body, expected) => {
    expect(extractUpstreamMessage(body)).toEqual(expected);
  });
  const xml = FOUND.filter(([name]) => name === 'EM XML').map(([name, body]): [string, string | Buffer] => [name, body]);
  it.each([...NOTHING, ...xml])("%s -> nothing (XML is EM's)", (_name, body) => {
    expect(extractUpstreamMessage(body)).toEqual({});
  });
});

describe('mapRequestError', () => {
  const ctx = { source: 'vbo-eu', method: 'GET', path: '/v8/RestoreSessions', timeouts: { request: 30000, response: 15000, connect: 5000 } };
  const err = (props: Record<string, unknown>) => Object.assign(new Error(String(props.message ?? 'x')), props);

  it('maps got timeouts by phase', () => {
    const t = mapRequestError(err({ name: 'TimeoutError', code: 'ETIMEDOUT', event: 'response' }), ctx) as unknown as {
      code: string;
      phase: string;
      timeoutMs: number;
      message: string;
    };
    expect([t.code, t.phase, t.timeoutMs]).toEqual(['UPSTREAM_TIMEOUT', 'response', 15000]);
    expect(t.message).toBe('vbo-eu: GET /v8/RestoreSessions -> timeout: no first byte within 15000 ms');
    expect(isRetryableNetworkError(err({ name: 'TimeoutError', event: 'connect' }))).toBe(true);
    expect(isRetryableNetworkError(err({ name: 'TimeoutError', event: 'request' }))).toBe(false);
  });

  it.each([
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'EPROTO',
  ])('maps %s to UPSTREAM_TLS_ERROR, not retryable', (code) => {
    const e = mapRequestError(err({ code }), ctx);
    expect(e.code).toBe('UPSTREAM_TLS_ERROR');
    expect(e.retryable).toBe(false);
    expect(isRetryableNetworkError(err({ code }))).toBe(false);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH'])('maps %s to UPSTREAM_UNREACHABLE, retryable', (code) => {
    const e = mapRequestError(err({ code }), ctx);
    expect(e.code).toBe('UPSTREAM_UNREACHABLE');
    expect(e.retryable).toBe(true);
  });

  it('does not retry ENOTFOUND at the HTTP layer (a configuration error) but marks it retryable for callers', () => {
    expect(isRetryableNetworkError(err({ code: 'ENOTFOUND' }))).toBe(false);
    expect(isRetryableNetworkError(err({ code: 'ECONNRESET' }))).toBe(true);
  });

  it('maps unknown failures to a non-retryable UPSTREAM_UNREACHABLE', () => {
    const e = mapRequestError(err({ code: 'ERR_WEIRD' }), ctx);
    expect([e.code, e.retryable]).toEqual(['UPSTREAM_UNREACHABLE', false]);
    expect(e.message).toBe('vbo-eu: GET /v8/RestoreSessions -> request failed (ERR_WEIRD)');
  });
});

describe('upstream logger', () => {
  it('redacts secret keys at any depth up to three and binds the server name', () => {
    const lines: string[] = [];
    const parent = pino(
      { level: 'info' },
      new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }),
    );
    const log = createUpstreamLogger(parent, 'em-hq');
    log.info(
      {
        authorization: 'Basic AAAA',
        headers: { 'x-restsvcsessionid': 'TOKEN1', Cookie: 'c=TOKEN2' },
        req: { headers: { authorization: 'Bearer TOKEN3' } },
        body: { form: { password: 'PW', refresh_token: 'RT' } },
        access_token: 'AT',
      },
      'x',
    );
    const line = lines.join('');
    for (const s of ['AAAA', 'TOKEN1', 'TOKEN2', 'TOKEN3', '"PW"', '"RT"', '"AT"']) expect(line).not.toContain(s);
    expect(JSON.parse(line)).toMatchObject({ server: 'em-hq', msg: 'x' });
    expect(UPSTREAM_REDACT_PATHS).toContain('*.*["x-restsvcsessionid"]');
  });
});

describe('userAgent', () => {
  it('names the product and version', () => {
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(userAgent()).toBe(`veeam-graph/${packageVersion()} (+node)`);
    expect(userAgent('1.2.3')).toBe('veeam-graph/1.2.3 (+node)');
  });
});
