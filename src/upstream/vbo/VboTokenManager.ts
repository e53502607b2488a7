import type { Logger } from 'pino';
import { UpstreamAuthError, UpstreamError } from '../errors.js';
import { extractUpstreamMessage } from '../extractUpstreamMessage.js';
import type { HttpClient, HttpResponse } from '../http/createHttpClient.js';
import { backoffDelay, parseRetryAfter } from '../http/retryDelay.js';
import { httpErrorFromResponse } from '../httpErrorFromResponse.js';
import type { VboApiVersion, VboTokenResponse } from './types.js';
import { vboBadResponse } from './vboBadResponse.js';
import { vboCapabilities } from './vboCapabilities.js';
import { decodeVboToken, parseVboJson } from './vboDecoders.js';

/** When and how tokens are renewed. Every field has a default. */
export interface VboTokenPolicy {
  /** Refresh proactively once less than this share of the token's lifetime remains. Default 0.1. */
  refreshRatio?: number;
  /**
   * ...or once less than this many milliseconds remain, whichever window is larger; the window is
   * never more than half the lifetime, so a short-lived token is still used. Default 60000.
   */
  refreshMinMs?: number;
  /** Lifetime assumed when the server sends neither `expires_in` nor a readable `.expires`, in seconds. Default 3600 (Part 2 section 2). */
  defaultLifetimeSec?: number;
  /** How many times a `429` from `/token` (v6+ throttling) is waited out and retried. Default 3. */
  throttleRetries?: number;
  /** Longest single wait for a throttled `/token`, in ms; a longer `Retry-After` ends retrying at once. Default 10000. */
  throttleMaxDelayMs?: number;
  /** Backoff base when a `429` carries no `Retry-After`, in ms (full jitter, doubling). Default 1000. */
  throttleBaseDelayMs?: number;
  /**
   * After the server refused the credentials (`400` on a password grant), calls within this many
   * ms fail with the same error without asking again: a wrong password in the config must not
   * lock the service account out by hammering `/token`. Default 30000.
   */
  authFailureHoldMs?: number;
  /** After a failed proactive refresh while the token is still valid, wait at most this long (ms) before trying again. Default 30000. */
  refreshRetryMs?: number;
}

/** Options of {@link VboTokenManager}. */
export interface VboTokenManagerOptions {
  /** Configured server name, for errors and logs. */
  source: string;
  http: HttpClient;
  apiVersion: VboApiVersion;
  username: string;
  password: string;
  /** Clock in epoch ms; token expiry is judged only by it. */
  now: () => number;
  /** Waits between throttled `/token` attempts. */
  sleep: (ms: number) => Promise<void>;
  /** Uniform random source in [0, 1) for backoff jitter. Default `Math.random`. */
  random?: () => number;
  logger: Logger;
  policy?: VboTokenPolicy;
}

/** Counters of `/token` traffic, for metrics and `check`. */
export interface VboTokenStats {
  /** Password grants sent (successful or not). */
  passwordGrants: number;
  /** Refresh grants sent (successful or not). */
  refreshGrants: number;
  /** Refresh grants that failed and fell back to a password grant. */
  refreshFallbacks: number;
  /** `429` answers waited out. */
  throttled: number;
}

interface HeldToken {
  accessToken: string;
  refreshToken: string | undefined;
  /** Our clock, epoch ms. */
  expiresAt: number;
  /** Our clock, epoch ms: from here on the next call refreshes first. */
  refreshAt: number;
}

type Grant = 'password' | 'refresh_token';

const DEFAULTS: Required<VboTokenPolicy> = {
  refreshRatio: 0.1,
  refreshMinMs: 60_000,
  defaultLifetimeSec: 3600,
  throttleRetries: 3,
  throttleMaxDelayMs: 10_000,
  throttleBaseDelayMs: 1000,
  authFailureHoldMs: 30_000,
  refreshRetryMs: 30_000,
};

/**
 * The bearer token of one VB365 server (docs/veeam-wire.md Part 2 section 2):
 * - `POST /{v}/token` with a form body (every version accepts it; v6+ would also take JSON), a
 *   password grant first, then `grant_type=refresh_token` proactively before expiry, judged by the
 *   injected clock; a failed refresh falls back to a password grant;
 * - single flight: however many callers need a token at once, one `/token` request is in flight;
 * - on a `401` for an authenticated call, {@link renew} re-authenticates once for every caller that
 *   held the same rejected token (a password grant: a server that rejects our access token before
 *   its time has most likely dropped its refresh token too: restart, revocation);
 * - `400` on a password grant -> `UpstreamAuthError` with the server's `error_description`;
 * - `429` (v6+ throttling, [BENTHR]) -> wait `Retry-After` (capped) and retry a bounded number of
 *   times; POSTs are otherwise never retried (the HTTP layer does not retry them);
 * - every token and the password are registered as secrets with the HTTP client and never logged.
 */
export class VboTokenManager {
  private readonly policy: Required<VboTokenPolicy>;
  private readonly path: string;
  private readonly random: () => number;
  private current: HeldToken | undefined;
  private inflight: Promise<HeldToken> | undefined;
  private authFailure: { error: UpstreamError; until: number } | undefined;
  private refreshRetryAt = 0;
  private readonly counters: VboTokenStats = { passwordGrants: 0, refreshGrants: 0, refreshFallbacks: 0, throttled: 0 };

  constructor(private readonly options: VboTokenManagerOptions) {
    this.policy = { ...DEFAULTS, ...options.policy };
    this.path = `${options.apiVersion}/token`;
    this.random = options.random ?? Math.random;
    options.http.addSecret(options.password);
  }

  /** Counters of `/token` traffic since creation. */
  stats(): VboTokenStats {
    return { ...this.counters };
  }

  /** When the current access token expires (epoch ms, injected clock), if there is one. */
  expiresAt(): number | undefined {
    return this.current?.expiresAt;
  }

  /**
   * A valid access token: the current one, or a refreshed / new one when the current is inside its
   * refresh window or gone. Concurrent callers share one `/token` request.
   *
   * @throws {UpstreamAuthError} credentials refused
   * @throws {UpstreamError} the token endpoint failed otherwise (throttled, unreachable, bad body)
   */
  async accessToken(): Promise<string> {
    const now = this.options.now();
    const cur = this.current;
    if (cur && now < cur.refreshAt) return cur.accessToken;
    if (this.inflight) return (await this.inflight).accessToken;
    // A proactive refresh failed a moment ago: keep using the still-valid token for a while.
    if (cur && now < cur.expiresAt && now < this.refreshRetryAt) return cur.accessToken;
    return (await this.start(cur, false)).accessToken;
  }

  /**
   * The server answered `401` to a call made with `rejected`: get a new token, once for all callers
   * that held `rejected`. A caller whose token was already replaced gets the replacement at once.
   *
   * @param rejected the access token the server refused
   * @returns the token to replay the call with
   */
  async renew(rejected: string): Promise<string> {
    if (this.current && this.current.accessToken !== rejected) return this.current.accessToken;
    if (this.inflight) {
      const t = await this.inflight;
      if (t.accessToken !== rejected) return t.accessToken;
    }
    if (this.current?.accessToken === rejected) this.current = undefined;
    // Another caller may have started the renewal while we awaited.
    if (this.inflight) return (await this.inflight).accessToken;
    return (await this.start(undefined, true)).accessToken;
  }

  /**
   * Best-effort `POST /{v}/token/logout` (v7+, 204) with the current token, then forget it.
   * Never throws; a no-op before v7 and when there is no token.
   */
  async logout(): Promise<void> {
    const cur = this.current;
    this.current = undefined;
    if (!cur || !vboCapabilities(this.options.apiVersion).tokenLogout) return;
    try {
      const res = await this.options.http.request({
        method: 'POST',
        path: `${this.path}/logout`,
        headers: { authorization: `Bearer ${cur.accessToken}`, accept: 'application/json' },
      });
      this.options.logger.debug({ status: res.status }, 'VB365 token logout');
    } catch (err) {
      this.options.logger.debug({ err: err instanceof UpstreamError ? err.toJSON() : String(err) }, 'VB365 token logout failed (ignored)');
    }
  }

  private start(cur: HeldToken | undefined, forcePassword: boolean): Promise<HeldToken> {
    const p = this.acquire(cur, forcePassword).finally(() => {
      if (this.inflight === p) this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }

  private async acquire(cur: HeldToken | undefined, forcePassword: boolean): Promise<HeldToken> {
    const { logger } = this.options;
    if (!forcePassword && cur?.refreshToken) {
      try {
        return this.install(await this.grant('refresh_token', { grant_type: 'refresh_token', refresh_token: cur.refreshToken }));
      } catch (err) {
        // A throttled server will throttle the password grant just the same.
        if (err instanceof UpstreamError && err.status === 429) return this.keepOrThrow(cur, err);
        this.counters.refreshFallbacks++;
        logger.info({ err: err instanceof UpstreamError ? err.toJSON() : String(err) }, 'VB365 refresh grant failed, falling back to a password grant');
      }
    }
    const held = this.authFailure;
    if (held && this.options.now() < held.until) return this.keepOrThrow(cur, held.error);
    try {
      const token = this.install(await this.grant('password', { grant_type: 'password', username: this.options.username, password: this.options.password }));
      this.authFailure = undefined;
      return token;
    } catch (err) {
      if (err instanceof UpstreamAuthError) this.authFailure = { error: err, until: this.options.now() + this.policy.authFailureHoldMs };
      return this.keepOrThrow(cur, err);
    }
  }

  /** A proactive renewal failed: go on with the current token while it is valid, else fail. */
  private keepOrThrow(cur: HeldToken | undefined, err: unknown): HeldToken {
    const now = this.options.now();
    if (cur && now < cur.expiresAt && this.current === cur) {
      this.refreshRetryAt = now + Math.min(this.policy.refreshRetryMs, (cur.expiresAt - now) / 2);
      this.options.logger.warn(
        { err: err instanceof UpstreamError ? err.toJSON() : String(err), expiresInMs: cur.expiresAt - now },
        'VB365 token renewal failed; using the current token until it expires',
      );
      return cur;
    }
    throw err;
  }

  /** Lifetime from `expires_in`, else `.expires - .issued` (both on the server's clock, so skew cancels), else `.expires` against our clock. */
  private lifetimeMs(t: VboTokenResponse, sentAt: number): number {
    if (t.expiresInSec !== undefined) return t.expiresInSec * 1000;
    if (t.expiresAtMs !== undefined) {
      const span = t.expiresAtMs - (t.issuedAtMs ?? sentAt);
      if (span > 0) return span;
    }
    return this.policy.defaultLifetimeSec * 1000;
  }

  private install({ token, sentAt }: { token: VboTokenResponse; sentAt: number }): HeldToken {
    const lifetime = this.lifetimeMs(token, sentAt);
    const window = Math.min(lifetime / 2, Math.max(lifetime * this.policy.refreshRatio, this.policy.refreshMinMs));
    // Measured from when the request was sent: the token cannot be older than that.
    const expiresAt = sentAt + lifetime;
    const held: HeldToken = { accessToken: token.accessToken, refreshToken: token.refreshToken, expiresAt, refreshAt: expiresAt - window };
    this.current = held;
    this.refreshRetryAt = 0;
    return held;
  }

  /** One grant, waiting out `429`s; returns the decoded token and when the successful request was sent. */
  private async grant(grant: Grant, form: Record<string, string>): Promise<{ token: VboTokenResponse; sentAt: number }> {
    const { http, logger, source } = this.options;
    for (let attempt = 1; ; attempt++) {
      const sentAt = this.options.now();
      if (grant === 'password') this.counters.passwordGrants++;
      else this.counters.refreshGrants++;
      const res = await http.request({ method: 'POST', path: this.path, form, headers: { accept: 'application/json' } });
      if (res.status === 200) {
        let token: VboTokenResponse;
        try {
          token = decodeVboToken(parseVboJson(res.body, 'token'));
        } catch (err) {
          throw vboBadResponse(source, 'POST', res.path, err, http.secrets());
        }
        http.addSecret(token.accessToken);
        http.addSecret(token.refreshToken);
        logger.debug({ grant, expiresInSec: token.expiresInSec, attempt }, 'VB365 token acquired');
        return { token, sentAt };
      }
      if (res.status === 429 && attempt <= this.policy.throttleRetries) {
        const retryAfter = parseRetryAfter(res.headers['retry-after'], this.options.now());
        const delay = retryAfter ?? backoffDelay(attempt, this.policy.throttleBaseDelayMs, this.policy.throttleMaxDelayMs, this.random);
        if (delay <= this.policy.throttleMaxDelayMs) {
          this.counters.throttled++;
          logger.info({ grant, attempt, delayMs: delay }, 'VB365 /token throttled (429), waiting before retrying');
          await this.options.sleep(delay);
          continue;
        }
      }
      throw this.tokenError(res);
    }
  }

  /**
   * `400` is OAuth's answer to bad credentials or a dead refresh token (`invalid_grant`), `401`/`403`
   * a refusal too [NIELS]: all `UpstreamAuthError` with the server's `error_description`. Anything
   * else (429 after the retries, 5xx) is an `UpstreamHttpError`.
   */
  private tokenError(res: HttpResponse<string>): UpstreamError {
    const secrets = this.options.http.secrets();
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      const { message, code } = extractUpstreamMessage(res.body);
      return new UpstreamAuthError({
        source: this.options.source,
        method: 'POST',
        path: res.path,
        status: res.status,
        secrets,
        ...(message !== undefined && { upstreamMessage: message }),
        ...(code !== undefined && { upstreamCode: code }),
      });
    }
    return httpErrorFromResponse(this.options.source, 'POST', res, secrets, this.options.now());
  }
}
