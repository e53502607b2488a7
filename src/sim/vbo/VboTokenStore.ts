import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';

interface AccessToken {
  userName: string;
  expiresAt: number;
  refreshToken: string;
}

interface RefreshToken {
  userName: string;
  expiresAt: number;
  accessToken: string;
}

/** What `POST /vN/token` hands out. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  userName: string;
  issuedAt: number;
  expiresAt: number;
}

/**
 * Access and refresh tokens of one VB365 server. Tokens are opaque: the v1 docs sample
 * (`AQAAANCMnd8BFdERjHoAwE_Cl-sBAAAA…`) is a base64url DPAPI blob, not a JWT (docs/veeam-wire.md Part 2
 * section 2), so a token here is that header plus random bytes from `crypto`: unguessable, and
 * different on every run, which is fine because nothing may depend on token text.
 * Expiry is absolute (issued + lifetime) and read from the injected clock only.
 */
export class VboTokenStore {
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();
  private attempts: number[] = [];
  private issuedSinceSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly accessLifetimeMs: number,
    private readonly refreshLifetimeMs: number,
    public throttle: { limit: number; windowMs: number } | undefined,
  ) {}

  issue(userName: string): IssuedTokens {
    this.sweepNow();
    const now = this.clock.now();
    const accessToken = newToken();
    const refreshToken = newToken();
    this.access.set(accessToken, { userName, expiresAt: now + this.accessLifetimeMs, refreshToken });
    this.refresh.set(refreshToken, { userName, expiresAt: now + this.refreshLifetimeMs, accessToken });
    return { accessToken, refreshToken, userName, issuedAt: now, expiresAt: now + this.accessLifetimeMs };
  }

  /**
   * Redeems a refresh token for a new pair; the old refresh token dies with it (rotation). Whether
   * the old *access* token keeps working until its own expiry is UNCONFIRMED; OWIN does not revoke
   * issued bearer tokens, so it does here too.
   */
  redeem(refreshToken: string): IssuedTokens | undefined {
    const entry = this.refresh.get(refreshToken);
    if (!entry) return undefined;
    this.refresh.delete(refreshToken);
    if (entry.expiresAt <= this.clock.now()) return undefined;
    const access = this.access.get(entry.accessToken);
    if (access) access.refreshToken = '';
    return this.issue(entry.userName);
  }

  /** The user behind a live access token, or undefined (unknown or expired). */
  validate(accessToken: string): string | undefined {
    const entry = this.access.get(accessToken);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.access.delete(accessToken);
      return undefined;
    }
    return entry.userName;
  }

  /** v7+ `POST /token/logout`: the access token and its refresh token die. */
  revoke(accessToken: string): void {
    const entry = this.access.get(accessToken);
    if (!entry) return;
    this.access.delete(accessToken);
    if (entry.refreshToken) this.refresh.delete(entry.refreshToken);
  }

  expireAll(): void {
    this.access.clear();
    this.refresh.clear();
  }

  activeCount(): number {
    const now = this.clock.now();
    let n = 0;
    for (const t of this.access.values()) if (t.expiresAt > now) n++;
    return n;
  }

  /**
   * Counts one `/token` request against the throttle (a sliding window on the injected clock).
   * Returns the seconds to wait when the request is over the limit; rejected requests do not count.
   */
  throttled(): number | undefined {
    if (!this.throttle) return undefined;
    const now = this.clock.now();
    const { limit, windowMs } = this.throttle;
    this.attempts = this.attempts.filter((t) => t > now - windowMs);
    if (this.attempts.length >= limit) {
      const oldest = this.attempts[0] ?? now;
      return Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
    }
    this.attempts.push(now);
    return undefined;
  }

  /** Drops dead tokens now and then, so a benchmark that logs in often does not grow without end. */
  private sweepNow(): void {
    if (++this.issuedSinceSweep < 1000) return;
    this.issuedSinceSweep = 0;
    const now = this.clock.now();
    for (const [k, v] of this.access) if (v.expiresAt <= now) this.access.delete(k);
    for (const [k, v] of this.refresh) if (v.expiresAt <= now) this.refresh.delete(k);
  }
}

function newToken(): string {
  return `AQAAANCMnd8BFdERjHoAwE_Cl-sBAAAA${randomBytes(96).toString('base64url')}`;
}
