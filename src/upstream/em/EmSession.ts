import type { Logger } from 'pino';
import { UpstreamAuthError, UpstreamBadResponseError, isUpstreamError } from '../errors.js';
import type { HttpClient, HttpResponse } from '../http/createHttpClient.js';
import { httpErrorFromResponse } from '../httpErrorFromResponse.js';
import { decodeLogonSession } from './emDecoders.js';
import { extractEmMessage } from './extractEmMessage.js';

/** One live EM logon: the token to send and what is needed to end it. */
export interface EmLogon {
  /** `X-RestSvcSessionId` value. Secret: registered with the HTTP client for scrubbing. */
  readonly token: string;
  /** LogonSession id for `DELETE /api/logonSessions/{id}`; absent when EM sent neither body nor Location. Secret too. */
  readonly sessionId: string | undefined;
  /** Account name as EM reports it (`SIM\graph-reader1`). */
  readonly userName: string | undefined;
}

/** Options of {@link EmSession}. */
export interface EmSessionOptions {
  http: HttpClient;
  username: string;
  password: string;
  /** `v=` of the logon URL. Default `latest` (docs/veeam-wire.md Part 1 section 1: the version is fixed per logon session). */
  apiVersion?: string;
  /** Child logger of the server (already bound to `server` and redacting). */
  logger: Logger;
  /** Clock in epoch ms for the negative cache. */
  now: () => number;
  /**
   * How long a refused logon (401/403) is remembered, in ms: calls in that window fail at once
   * with the same `UpstreamAuthError` instead of sending the password again. Default 30000.
   * Why: a wrong password does not fix itself, and every failed Basic logon counts towards the
   * Windows/AD account-lockout threshold of the service account EM authenticates against.
   */
  authFailureCacheMs?: number;
}

interface Entry {
  promise: Promise<EmLogon>;
  /** Set once the logon succeeded. */
  logon?: EmLogon;
  /** Set when the logon was refused (auth failure), for the negative cache. */
  failedAt?: number;
}

/** Logon path relative to the API base. The trailing slash is the documented form (docs/veeam-wire.md Part 1 section 2). */
function logonPath(apiVersion: string): string {
  return `sessionMngr/?v=${encodeURIComponent(apiVersion)}`;
}

function header(headers: HttpResponse<string>['headers'], name: string): string | undefined {
  // Node lower-cases incoming header names, so `X-RestSvcSessionId` in any case arrives as this key.
  const v = headers[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined || first.trim() === '' ? undefined : first.trim();
}

/** Last path segment of the logon `Location` (`.../api/logonSessions/<id>`), as Veeam's Postman collection reads it. */
function idFromLocation(location: string | undefined): string | undefined {
  if (!location) return undefined;
  try {
    const segs = new URL(location, 'http://invalid.local').pathname.split('/').filter((s) => s !== '');
    const last = segs[segs.length - 1];
    return last ? decodeURIComponent(last) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The EM logon session of one server: log on at first use, share one logon among all concurrent
 * callers (single flight), replace it once when EM answers 401 to the current token, and log off.
 *
 * Lifecycle (docs/veeam-wire.md Part 1 section 2): `POST /api/sessionMngr/?v=latest` with Basic auth ->
 * 201, the token in the `X-RestSvcSessionId` header, the logon-session id in the body's `SessionId`
 * (or the `Location` header's last segment); idle sessions expire after 15 minutes -> 401;
 * `DELETE /api/logonSessions/{id}` -> 204. The logon POST is never retried (the HTTP layer retries
 * GET only): a retried logon could create two sessions and doubles lockout counts.
 *
 * No lock is held across awaits except the in-flight logon promise itself.
 */
export class EmSession {
  private readonly http: HttpClient;
  private readonly basic: string;
  private readonly apiVersion: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly authFailureCacheMs: number;
  private entry: Entry | undefined;

  constructor(options: EmSessionOptions) {
    this.http = options.http;
    this.apiVersion = options.apiVersion ?? 'latest';
    this.logger = options.logger;
    this.now = options.now;
    this.authFailureCacheMs = options.authFailureCacheMs ?? 30_000;
    const credentials = Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64');
    this.basic = `Basic ${credentials}`;
    // Permanent: a long run of re-logons must not push the credentials out of the scrub list.
    this.http.addSecret(options.password, true);
    this.http.addSecret(credentials, true);
    this.http.addSecret(this.basic, true);
  }

  /**
   * The current logon, logging on when there is none. Concurrent callers share one logon request.
   *
   * @throws {UpstreamAuthError} when EM refuses the credentials (also, without a request, while the
   *   refusal is in the negative cache)
   * @throws {UpstreamError} when the logon request fails otherwise (not cached: the next call tries again)
   */
  acquire(): Promise<EmLogon> {
    const e = this.entry;
    if (e && !(e.failedAt !== undefined && this.now() - e.failedAt >= this.authFailureCacheMs)) return e.promise;
    return this.start();
  }

  /**
   * A replacement for a logon EM just rejected with 401. Exactly one new logon happens however many
   * requests saw the 401 with that same token: the first caller starts it, the others (and callers
   * whose stale token was already replaced) get the same or the newer logon.
   *
   * @param stale the logon whose token got the 401
   */
  renew(stale: EmLogon): Promise<EmLogon> {
    if (this.entry?.logon === stale) {
      this.logger.info('EM logon session expired or was revoked (401), logging on again');
      this.entry = undefined;
    }
    return this.acquire();
  }

  /**
   * Log off (`DELETE /api/logonSessions/{id}`, 204), best effort: waits for a logon in flight, never
   * throws, never logs on just to log off. Afterwards {@link acquire} would log on again.
   */
  async logoff(): Promise<void> {
    const e = this.entry;
    this.entry = undefined;
    if (!e) return;
    let logon: EmLogon;
    try {
      logon = await e.promise;
    } catch {
      return;
    }
    if (logon.sessionId === undefined) {
      this.logger.warn('EM logon session id unknown (no SessionId, no Location): cannot log off, the session will idle out');
      return;
    }
    try {
      const res = await this.http.request({
        method: 'DELETE',
        path: `logonSessions/${encodeURIComponent(logon.sessionId)}`,
        headers: { 'x-restsvcsessionid': logon.token, accept: 'application/xml' },
      });
      if (res.status >= 200 && res.status < 300) this.logger.debug('EM logged off');
      else this.logger.info({ status: res.status }, 'EM logoff refused; the session will idle out');
    } catch (err) {
      this.logger.info({ err: isUpstreamError(err) ? err.toJSON() : { message: 'logoff failed' } }, 'EM logoff failed; the session will idle out');
    }
  }

  private start(): Promise<EmLogon> {
    // The callbacks run asynchronously, after `this.entry` holds this promise; they touch the entry
    // only while it is still the current one (logoff may have dropped it meanwhile).
    const promise: Promise<EmLogon> = this.logon().then(
      (logon) => {
        if (this.entry?.promise === promise) this.entry.logon = logon;
        return logon;
      },
      (err: unknown) => {
        if (this.entry?.promise === promise) {
          if (err instanceof UpstreamAuthError) this.entry.failedAt = this.now();
          else this.entry = undefined;
        }
        throw err;
      },
    );
    // Callers observe the rejection; this keeps a cached failure from counting as unhandled.
    promise.catch(() => undefined);
    this.entry = { promise };
    return promise;
  }

  private async logon(): Promise<EmLogon> {
    const http = this.http;
    // Accept XML explicitly: EM 9.5U4 failed POSTs when JSON was acceptable (docs/veeam-wire.md Part 1 section 4).
    const res = await http.request({
      method: 'POST',
      path: logonPath(this.apiVersion),
      headers: { authorization: this.basic, accept: 'application/xml' },
    });
    if (res.status === 401 || res.status === 403) {
      const { message } = extractEmMessage(res.body);
      const error = new UpstreamAuthError({
        source: http.name,
        method: 'POST',
        path: res.path,
        status: res.status,
        secrets: http.secrets(),
        ...(message !== undefined && { upstreamMessage: message }),
      });
      this.logger.warn({ err: error.toJSON() }, 'EM logon refused');
      throw error;
    }
    if (res.status < 200 || res.status >= 300) throw httpErrorFromResponse(http.name, 'POST', res, http.secrets(), this.now(), extractEmMessage);

    const token = header(res.headers, 'x-restsvcsessionid');
    if (token === undefined) {
      throw new UpstreamBadResponseError({
        source: http.name,
        method: 'POST',
        path: res.path,
        secrets: http.secrets(),
        detail: `logon answered ${res.status} without an X-RestSvcSessionId header`,
      });
    }
    http.addSecret(token);
    let sessionId: string | undefined;
    let userName: string | undefined;
    try {
      const body = decodeLogonSession(res.body, 'xml');
      sessionId = body.sessionId;
      userName = body.userName;
    } catch {
      // The token is what matters; the body only serves logoff, and Location carries the same id.
      this.logger.debug('EM logon body unreadable, taking the session id from Location');
    }
    sessionId ??= idFromLocation(header(res.headers, 'location'));
    http.addSecret(sessionId);
    this.logger.info({ userName }, 'EM logged on');
    return { token, sessionId, userName };
  }
}
