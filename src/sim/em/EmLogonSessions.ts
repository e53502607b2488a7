import type { Clock } from '../clock.js';
import type { Random } from '../Random.js';

export interface EmLogonSession {
  /** The `SessionId` GUID of the LogonSession resource. */
  sessionId: string;
  /** The `X-RestSvcSessionId` token. */
  token: string;
  userName: string;
  createdAt: number;
  lastUse: number;
}

/**
 * EM logon sessions. "The timeout value for an idle logon session is 15 minutes" ([D:http_authentication]):
 * idle and sliding, so every authenticated request moves the deadline. No absolute lifetime or per-user
 * limit is documented (UNCONFIRMED), so none is imposed.
 */
export class EmLogonSessions {
  private readonly byToken = new Map<string, EmLogonSession>();
  private readonly byId = new Map<string, EmLogonSession>();

  constructor(
    private readonly clock: Clock,
    private readonly idleTimeoutMs: number,
    private readonly random: Random,
  ) {}

  /**
   * The token is base64 of the SessionId text: the docs' recurring token decodes to a GUID and [JDC]
   * builds it that way successfully (docs/veeam-wire.md Part 1 section 2; the real algorithm is UNCONFIRMED).
   */
  create(userName: string): EmLogonSession {
    const sessionId = this.random.guid();
    const now = this.clock.now();
    const session: EmLogonSession = { sessionId, token: Buffer.from(sessionId, 'utf8').toString('base64'), userName, createdAt: now, lastUse: now };
    this.byToken.set(session.token, session);
    this.byId.set(sessionId, session);
    return session;
  }

  /** The live session of a token, its idle deadline moved; undefined when unknown or expired (then forgotten). */
  use(token: string): EmLogonSession | undefined {
    const session = this.byToken.get(token);
    if (!session) return undefined;
    const now = this.clock.now();
    if (this.expired(session, now)) {
      this.remove(session);
      return undefined;
    }
    session.lastUse = now;
    return session;
  }

  /** A live session by its SessionId (case-insensitive GUID), without touching it. */
  find(sessionId: string): EmLogonSession | undefined {
    const session = this.byId.get(sessionId.toLowerCase());
    if (!session) return undefined;
    if (this.expired(session, this.clock.now())) {
      this.remove(session);
      return undefined;
    }
    return session;
  }

  remove(session: EmLogonSession): void {
    this.byToken.delete(session.token);
    this.byId.delete(session.sessionId);
  }

  expireAll(): void {
    this.byToken.clear();
    this.byId.clear();
  }

  /** Live sessions, oldest first. */
  live(): EmLogonSession[] {
    const now = this.clock.now();
    return [...this.byId.values()].filter((s) => !this.expired(s, now));
  }

  private expired(session: EmLogonSession, now: number): boolean {
    return now - session.lastUse >= this.idleTimeoutMs;
  }
}
