import { describe, expect, it } from '@jest/globals';
import {
  UpstreamAuthError,
  UpstreamBadResponseError,
  UpstreamCircuitOpenError,
  UpstreamError,
  UpstreamHttpError,
  UpstreamTimeoutError,
  UpstreamTlsError,
  UpstreamUnreachableError,
  isUpstreamError,
  sanitizeCause,
} from '../../src/upstream/errors.js';
import { REDACTED, redactSecrets, safePath } from '../../src/upstream/redactSecrets.js';

const PASSWORD = 'S3cret!Passw0rd';
const TOKEN = 'NDRjZmJkYmUtNWE5NS00MTU2LTg4NjctOTFmMDY5YjdjMmNj';
const SESSION_ID = '44cfbdbe-5a95-4156-8867-91f069b7c2cc';
const BASIC = Buffer.from(`CORP\\svc-graph:${PASSWORD}`).toString('base64');
const ALL = [PASSWORD, TOKEN, SESSION_ID, BASIC];

describe('UpstreamError family', () => {
  it('has stable codes, default retryability and the documented message format', () => {
    const init = { source: 'em-hq', method: 'GET', path: '/api/query?type=RestoreSession' };
    const cases: Array<[UpstreamError, string, boolean]> = [
      [new UpstreamUnreachableError({ ...init, detail: 'connection refused (ECONNREFUSED)' }), 'UPSTREAM_UNREACHABLE', true],
      [new UpstreamTimeoutError({ ...init, timeoutMs: 30000, phase: 'total' }), 'UPSTREAM_TIMEOUT', true],
      [new UpstreamHttpError({ ...init, status: 503, upstreamMessage: 'Service Unavailable' }), 'UPSTREAM_HTTP_ERROR', true],
      [new UpstreamHttpError({ ...init, status: 400 }), 'UPSTREAM_HTTP_ERROR', false],
      [new UpstreamAuthError({ ...init, status: 401 }), 'UPSTREAM_AUTH_FAILED', false],
      [new UpstreamBadResponseError({ ...init, detail: 'QueryResult: Entities.RestoreSessions[3].UID is missing' }), 'UPSTREAM_BAD_RESPONSE', false],
      [new UpstreamTlsError(init), 'UPSTREAM_TLS_ERROR', false],
      [
        new UpstreamCircuitOpenError({
          ...init,
          openedAt: '2026-01-01T00:00:00.000Z',
          until: '2026-01-01T00:00:30.000Z',
          lastCauseCode: 'UPSTREAM_TIMEOUT',
          probeInFlight: false,
        }),
        'UPSTREAM_CIRCUIT_OPEN',
        true,
      ],
    ];
    for (const [err, code, retryable] of cases) {
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err).toBeInstanceOf(Error);
      expect(isUpstreamError(err)).toBe(true);
      expect(err.code).toBe(code);
      expect(err.retryable).toBe(retryable);
      expect(err.source).toBe('em-hq');
      expect(err.name).toBe(err.constructor.name);
    }
    expect(cases[2]?.[0].message).toBe('em-hq: GET /api/query?type=RestoreSession -> HTTP 503: Service Unavailable');
    expect(cases[0]?.[0].message).toBe('em-hq: GET /api/query?type=RestoreSession -> connection refused (ECONNREFUSED)');
    expect(cases[6]?.[0].message).toBe('em-hq: GET /api/query?type=RestoreSession -> upstream tls error');
    expect(cases[7]?.[0].message).toBe(
      'em-hq: GET /api/query?type=RestoreSession -> circuit open since 2026-01-01T00:00:00.000Z until 2026-01-01T00:00:30.000Z (last failure: UPSTREAM_TIMEOUT); not sent',
    );
    expect(new UpstreamHttpError({ ...init, status: 404, retryable: true }).retryable).toBe(true);
    expect(isUpstreamError(new Error('x'))).toBe(false);
  });

  it('never carries a secret in message, properties, JSON or cause', () => {
    const cause = Object.assign(new Error(`connect failed with Authorization: Basic ${BASIC} token ${TOKEN}`), {
      code: 'ECONNRESET',
      options: { headers: { authorization: `Basic ${BASIC}`, 'x-restsvcsessionid': TOKEN } },
    });
    const err = new UpstreamHttpError({
      source: 'em-hq',
      method: 'GET',
      path: `/api/logonSessions/${SESSION_ID}?access_token=${TOKEN}&password=${encodeURIComponent(PASSWORD)}`,
      status: 500,
      upstreamMessage: `Session ${SESSION_ID} with X-RestSvcSessionId: ${TOKEN} for password ${PASSWORD} failed`,
      upstreamCode: TOKEN,
      cause,
      secrets: [PASSWORD, TOKEN, SESSION_ID],
    });
    const views = [
      err.message,
      err.path,
      err.upstreamMessage ?? '',
      err.upstreamCode ?? '',
      JSON.stringify(err),
      String((err.cause as Error).message),
      JSON.stringify(err.toJSON()),
    ];
    for (const view of views) for (const secret of ALL) expect(view).not.toContain(secret);
    expect(err.cause).not.toBe(cause);
    expect((err.cause as Error & { code?: string }).code).toBe('ECONNRESET');
    expect(JSON.stringify(err)).not.toContain('options');
    expect(err.toJSON()).toMatchObject({
      code: 'UPSTREAM_HTTP_ERROR',
      source: 'em-hq',
      status: 500,
      retryable: false,
      cause: { name: 'Error', code: 'ECONNRESET' },
    });
  });

  it('clips huge upstream messages', () => {
    const err = new UpstreamHttpError({ source: 's', method: 'GET', path: '/', status: 502, upstreamMessage: 'x'.repeat(10_000) });
    expect(err.message.length).toBeLessThan(700);
  });
});

describe('redactSecrets', () => {
  it('replaces registered secrets and their base64 / URL-encoded forms', () => {
    expect(redactSecrets(`pw=${PASSWORD}; b64=${Buffer.from(PASSWORD).toString('base64')}; url=${encodeURIComponent(PASSWORD)}`, [PASSWORD])).toBe(
      `pw=${REDACTED}; b64=${REDACTED}; url=${REDACTED}`,
    );
  });

  it('masks credential shapes nobody registered', () => {
    const text = [
      `Authorization: Basic ${BASIC}`,
      `Authorization: Bearer AQAAANCMnd8BFdERjHoAwE_Cl-sBAAAA`,
      `X-RestSvcSessionId: ${TOKEN}`,
      `Cookie: X-RestSvcSessionId=${TOKEN}; Path=/api`,
      `grant_type=password&username=u&password=${encodeURIComponent(PASSWORD)}&refresh_token=abc123`,
      `{"access_token":"tok\\"en","refresh_token":"r1","userName":"u","SessionId":"${SESSION_ID}"}`,
    ].join('\n');
    const out = redactSecrets(text);
    for (const secret of [...ALL, 'AQAAANCMnd8BFdERjHoAwE_Cl-sBAAAA', 'abc123', 'tok\\"en', encodeURIComponent(PASSWORD)]) expect(out).not.toContain(secret);
    expect(out).toContain('"userName":"u"');
    expect(out).toContain('username=u');
  });

  it('ignores empty and very short secrets', () => {
    expect(redactSecrets('a b c', ['', undefined, 'a'])).toBe('a b c');
  });
});

describe('safePath', () => {
  it('keeps path and ordinary parameters, masks secret-looking ones, drops user-info', () => {
    expect(safePath('https://user:pw@em:9398/api/query?type=RestoreSession&filter=Name%3D%3D%22x%22')).toBe(
      '/api/query?type=RestoreSession&filter=Name%3D%3D%22x%22',
    );
    expect(safePath(`/v6/x?access_token=${TOKEN}&limit=30&sessionId=${SESSION_ID}&apiKey=k`)).toBe(
      `/v6/x?access_token=${REDACTED}&limit=30&sessionId=${REDACTED}&apiKey=${REDACTED}`,
    );
  });
});

describe('sanitizeCause', () => {
  it('keeps name, code and a scrubbed message only', () => {
    const c = sanitizeCause(Object.assign(new TypeError(`bad ${TOKEN}`), { code: 'X', options: { secret: 1 } }), [TOKEN]) as Error & { code?: string };
    expect(c.name).toBe('TypeError');
    expect(c.code).toBe('X');
    expect(c.message).toBe(`bad ${REDACTED}`);
    expect(Object.keys(c)).not.toContain('options');
    expect(sanitizeCause(undefined)).toBeUndefined();
    expect(sanitizeCause('plain string')?.message).toBe('plain string');
  });
});
