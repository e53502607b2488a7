import { Random } from '../Random.js';
import type { RequestLog } from '../RequestLog.js';
import type { SimHandler, SimRequest, SimResponse } from '../SimServer.js';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { emNameTime, insertSorted, vboSessionEvents } from '../world/generateWorld.js';
import type { VboRestorePoint, VboRestoreSession, VboServerWorld, WorldQuirks } from '../world/types.js';
import type { VboApiVersion } from './VboApiVersion.js';
import { vboVersionNumber } from './VboApiVersion.js';
import { VboHttpError } from './VboHttpError.js';
import { MAX_LIMIT, VboQuery, normalizeGuid } from './VboQuery.js';
import { VboRenderer, backedUpOrganizationId } from './VboRenderer.js';
import type { Json } from './VboRenderer.js';
import { VboTokenStore } from './VboTokenStore.js';
import type { IssuedTokens } from './VboTokenStore.js';
import { VboWorldIndex } from './VboWorldIndex.js';
import { formatNetUtc, formatRfc1123 } from './formatNetDate.js';
import { selectRestoreSessions } from './selectRestoreSessions.js';

export type { VboApiVersion } from './VboApiVersion.js';

export interface VboSimulatorOptions {
  world: VboServerWorld;
  log: RequestLog;
  apiVersion: VboApiVersion;
  username: string;
  password: string;
  /** Default: the system clock. Token expiry and the token throttle read time only from it. */
  clock?: Clock;
  /** Access-token lifetime in seconds. Default 3600 ("expires in 60 minutes", HC authorization.html; admins can change it). */
  tokenLifetimeSec?: number;
  /** Refresh-token lifetime in seconds. Default 14 days: UNCONFIRMED (OWIN samples commonly use 14 days). */
  refreshTokenLifetimeSec?: number;
  quirks?: WorldQuirks;
  /** `429` on `/token` beyond `limit` requests per sliding `windowMs` (by `clock`); v6+ only [BENTHR]. */
  tokenThrottle?: { limit: number; windowMs: number };
  /**
   * Text form of the token response's `.issued` / `.expires`: `rfc1123` (OWIN's default,
   * `Sat, 16 Nov 2024 08:19:08 GMT`; the default here) or `iso` (what the spec's `date-time` type
   * suggests). The real form is UNCONFIRMED (docs/veeam-wire.md Part 2 section 2).
   */
  tokenDateFormat?: 'rfc1123' | 'iso';
  /**
   * The server's UTC offset in minutes, for the times the server prints in local time (v1
   * `pointInTime`, event times, the v1 organization name). Default -420 (`-07:00`, the v1 docs
   * sample). Fixed: DST shifts are not simulated.
   */
  serverUtcOffsetMinutes?: number;
}

type Params = Record<string, string>;

interface Route {
  /** Lower-case path segments after the version; `{name}` captures. */
  pattern: string[];
  /** For templates: `RestoreSessions/{id}/Events`. */
  canonical: string;
  method: 'GET' | 'POST';
  /** The first API version that has the route. */
  since: number;
  anonymous?: boolean;
  run: (req: SimRequest, params: Params, token: string) => SimResponse;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const DENIED = 'Authorization has been denied for this request.';
const DAY_SEC = 86_400;

/**
 * A faithful VB365 REST API server for one API version (v1..v8): token endpoint, restore
 * sessions with events and organization, organizations, restore points, service instance. Wire
 * facts come from docs/veeam-wire.md Part 2; every choice where it says UNCONFIRMED is marked
 * so here and in the renderer.
 */
export class VboSimulator implements SimHandler {
  private readonly n: number;
  private readonly index: VboWorldIndex;
  private readonly renderer: VboRenderer;
  private readonly tokens: VboTokenStore;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly quirks: WorldQuirks;
  private readonly routes: Route[];

  constructor(private readonly options: VboSimulatorOptions) {
    if (!/^v[1-8]$/.test(options.apiVersion)) throw new Error(`VboSimulator: unknown API version ${String(options.apiVersion)}`);
    this.n = vboVersionNumber(options.apiVersion);
    this.clock = options.clock ?? systemClock;
    this.quirks = options.quirks ?? {};
    this.index = new VboWorldIndex(options.world);
    this.renderer = new VboRenderer(options.apiVersion, options.serverUtcOffsetMinutes ?? -420, this.quirks);
    this.tokens = new VboTokenStore(
      this.clock,
      (options.tokenLifetimeSec ?? 3600) * 1000,
      (options.refreshTokenLifetimeSec ?? 14 * DAY_SEC) * 1000,
      options.tokenThrottle,
    );
    this.random = new Random(`vbo-simulator:${options.world.name}:${options.apiVersion}`);
    this.routes = this.buildRoutes();
  }

  setBaseUrl(baseUrl: string): void {
    this.renderer.setBaseUrl(baseUrl);
  }

  template(req: SimRequest): string {
    const parsed = this.parsePath(req.path);
    if (!parsed) return `${req.method} ${req.path}`;
    const match = this.match(parsed.rest);
    if (!match) return `${req.method} ${req.path}`;
    return `${req.method} /v${parsed.version}/${match.routes[0]!.canonical}`;
  }

  handle(req: SimRequest): SimResponse {
    try {
      return this.dispatch(req);
    } catch (err) {
      if (err instanceof VboHttpError) return this.errorBody(err.status, err.message, err.errorCode, err.headers);
      throw err;
    }
  }

  /**
   * The error body of this version, `RESTExceptionInfo` [SPEC6-8]: v1-v6 `{message}`, v7 adds
   * `errorCode` (its enum only knows `ProxyOffline`, so null here), v8 adds `stackTrace: null`
   * and fills `errorCode` from its enum where the status says which.
   */
  errorResponse(_req: SimRequest, status: number, message: string): SimResponse {
    return this.errorBody(status, message, undefined);
  }

  /** Every access and refresh token dies now (`POST /_sim/expire`). */
  expireAll(): void {
    this.tokens.expireAll();
  }

  setTokenThrottle(t: { limit: number; windowMs: number } | undefined): void {
    this.tokens.throttle = t;
  }

  /** Live (unexpired) access tokens. */
  activeTokens(): number {
    return this.tokens.activeCount();
  }

  /**
   * Adds a session keeping the world sorted by creationTime. Defaults: a running Exchange restore
   * for organization 0 started at clock-now; a given `endTime` without `state` makes it Stopped.
   */
  addRestoreSession(partial: Partial<VboRestoreSession> = {}): VboRestoreSession {
    const now = this.clock.now();
    const orgIndex = partial.organization ?? 0;
    const org = this.index.organization(orgIndex);
    const type = partial.type ?? 'Vex';
    const creationTime = partial.creationTime ?? now;
    const kind = ({ Vex: 'Exchange', Veod: 'OneDrive', Vesp: 'SharePoint', Vet: 'Teams' } as Record<string, string>)[type] ?? type;
    const points = this.options.world.restorePoints.filter((p) => p.organization === orgIndex && p.backupTime <= creationTime);
    const session: VboRestoreSession = {
      id: this.random.guid(),
      name: type === 'Vet' && this.quirks.emptyTeamsNames ? '' : `${kind} restore ${org.name} ${emNameTime(creationTime)}`,
      organization: orgIndex,
      type,
      creationTime,
      state: partial.endTime !== undefined ? 'Stopped' : 'Working',
      result: 'Success',
      initiatedBy: `administrator@${org.name}`,
      details: '0 items processed (0 success)',
      scopeName: `administrator@${org.name}`,
      clientHost: 'WS-1000',
      reason: 'User request',
      pointInTime: points.at(-1)?.backupTime ?? creationTime - 3_600_000,
      eventCount: 1,
      eTag: 1,
      ...partial,
    };
    insertSorted(this.options.world.restoreSessions, session, (s) => s.creationTime);
    this.index.touch();
    return session;
  }

  /** Call after adding or editing world records in place (the live world does), so the indexes are rebuilt. */
  changed(): void {
    this.index.touch();
  }

  // ---------------------------------------------------------------- routing

  /**
   * `/v8/...` -> version 8 and the rest of the path, segments percent-decoded. Paths match
   * case-insensitively (clients call `/v6/restoresessions`, `/v7/Token`; part 2 section 7); ASP.NET
   * routes are case-insensitive as a whole, so `/V8/` is accepted too (UNCONFIRMED). A trailing
   * slash is tolerated, as ASP.NET does.
   */
  private parsePath(path: string): { version: number; rest: string[] } | undefined {
    const segments = path.replace(/\/+$/, '').split('/').slice(1);
    const m = /^v(\d+)$/i.exec(segments[0] ?? '');
    if (!m) return undefined;
    try {
      return { version: Number(m[1]), rest: segments.slice(1).map((s) => decodeURIComponent(s)) };
    } catch {
      return undefined;
    }
  }

  private match(rest: string[]): { routes: Route[]; params: Params } | undefined {
    let found: { routes: Route[]; params: Params } | undefined;
    for (const route of this.routes) {
      if (route.pattern.length !== rest.length) continue;
      const params: Params = {};
      const ok = route.pattern.every((p, i) => {
        const seg = rest[i]!;
        if (p.startsWith('{')) {
          params[p.slice(1, -1)] = seg;
          return seg !== '';
        }
        return p === seg.toLowerCase();
      });
      if (!ok) continue;
      if (found) found.routes.push(route);
      else found = { routes: [route], params };
    }
    return found;
  }

  private dispatch(req: SimRequest): SimResponse {
    const parsed = this.parsePath(req.path);
    // Only this instance's version is served. A real server answers every version up to its own
    // (part 2 section 1) and 404 for a newer one (Cenvora discovery.py); one version per instance
    // keeps tests honest about which shapes they parse. Status and body: UNCONFIRMED.
    if (!parsed || parsed.version !== this.n) throw this.noRoute(req);
    const match = this.match(parsed.rest);
    // A route of a later version does not exist here (e.g. /v5/RestorePoints: UNCONFIRMED, part 2 section 6).
    const routes = match?.routes.filter((r) => r.since <= this.n) ?? [];
    if (!match || routes.length === 0) throw this.noRoute(req);
    const route = routes.find((r) => r.method === req.method);
    if (!route) {
      // ASP.NET Web API's answer to a known path with another verb.
      throw new VboHttpError(405, `The requested resource does not support http method '${req.method}'.`);
    }
    let token = '';
    if (!route.anonymous) {
      token = this.bearer(req) ?? '';
      // The 401 body is UNCONFIRMED: ASP.NET Web API's default text (part 2 section 2), in the
      // version's error shape. `WWW-Authenticate: Bearer` is what OWIN bearer auth adds.
      if (!token || this.tokens.validate(token) === undefined) throw new VboHttpError(401, DENIED, undefined, { 'www-authenticate': 'Bearer' });
    }
    return route.run(req, match.params, token);
  }

  private noRoute(req: SimRequest): VboHttpError {
    return new VboHttpError(404, `No HTTP resource was found that matches the request URI '${req.url.href}'.`, 'ResourceNotFound');
  }

  private bearer(req: SimRequest): string | undefined {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^bearer\s+(\S+)\s*$/i.exec(header) : null;
    return m?.[1];
  }

  private buildRoutes(): Route[] {
    const r = (canonical: string, method: Route['method'], since: number, run: Route['run'], anonymous = false): Route => ({
      pattern: canonical.split('/').map((s) => (s.startsWith('{') ? s : s.toLowerCase())),
      canonical,
      method,
      since,
      anonymous,
      run,
    });
    return [
      r('token', 'POST', 1, (req) => this.token(req), true),
      // v7 adds logout -> 204 [SPEC7].
      r('token/logout', 'POST', 7, (_req, _p, token) => {
        this.tokens.revoke(token);
        return { status: 204 };
      }),
      r('RestoreSessions', 'GET', 1, (req) => this.restoreSessions(req)),
      r('RestoreSessions/{id}', 'GET', 1, (_req, p) => this.json(this.renderSession(this.session(p.id!)))),
      r('RestoreSessions/{id}/organization', 'GET', 1, (_req, p) => {
        const s = this.session(p.id!);
        return this.json(this.renderer.sessionOrganization(s, this.index.organization(s.organization)));
      }),
      r('RestoreSessions/{id}/Events', 'GET', 1, (req, p) => this.events(req, p.id!)),
      r('RestoreSessions/{id}/Events/{eventId}', 'GET', 1, (_req, p) => this.event(p.id!, p.eventId!)),
      r('Organizations', 'GET', 1, (req) => this.organizations(req)),
      r('Organizations/{id}', 'GET', 1, (_req, p) => {
        const i = this.index.organizationIndex(normalizeGuid(p.id!) ?? '');
        if (i === undefined) throw notFound('Organization', p.id!);
        return this.json(this.renderer.organization(this.index.organization(i)));
      }),
      // RestorePoints appear in the v6 docs/spec; earlier versions are not documented to have it (UNCONFIRMED).
      r('RestorePoints', 'GET', 6, (req) => this.restorePoints(req)),
      r('RestorePoints/{id}', 'GET', 6, (_req, p) => {
        const point = this.index.restorePoint(p.id!.toLowerCase());
        if (!point) throw notFound('Restore point', p.id!);
        return this.json(this.renderer.restorePoint(point, this.index.organization(point.organization)));
      }),
      r('ServiceInstance', 'GET', 6, () => this.json({ installationId: this.options.world.installationId, version: this.options.world.version })),
    ];
  }

  private json(value: unknown, status = 200, extraHeaders: Record<string, string> = {}): SimResponse {
    return { status, headers: { 'content-type': JSON_TYPE, ...extraHeaders }, body: JSON.stringify(value) };
  }

  private errorBody(status: number, message: string, errorCode: string | undefined, headers: Record<string, string> = {}): SimResponse {
    const body: Json = { message };
    if (this.n === 7) body.errorCode = null;
    if (this.n >= 8) {
      body.errorCode = errorCode ?? v8ErrorCode(status);
      body.stackTrace = null;
    }
    return this.json(body, status, headers);
  }

  // ---------------------------------------------------------------- token

  /**
   * `POST /vN/token`: OWIN's OAuth token endpoint. Form body always; JSON body too from v6
   * [SPEC6]. Errors use OAuth's `{error, error_description}` with 400 [NIELS]; description texts
   * are UNCONFIRMED.
   */
  private token(req: SimRequest): SimResponse {
    if (this.n >= 6) {
      const wait = this.tokens.throttled();
      // [BENTHR]: 429 "Quota Exceeded" on /token since v6; Retry-After and body UNCONFIRMED.
      if (wait !== undefined) {
        const t = this.tokens.throttle!;
        throw new VboHttpError(429, `Quota Exceeded. Maximum admitted ${t.limit} per ${t.windowMs / 1000}s.`, undefined, { 'retry-after': String(wait) });
      }
    }
    const form = this.tokenForm(req);
    if (!form) return this.oauthError('invalid_request', 'The request body is not valid JSON.');
    const grant = form.get('grant_type');
    if (grant === 'password') {
      const user = form.get('username') ?? '';
      // Windows account names compare case-insensitively; passwords exactly.
      if (user.toLowerCase() !== this.options.username.toLowerCase() || form.get('password') !== this.options.password) {
        return this.oauthError('invalid_grant', 'The user name or password is incorrect.');
      }
      return this.tokenResponse(this.tokens.issue(user));
    }
    if (grant === 'refresh_token') {
      // The old refresh token dies with its use: a new pair comes back (HC archive/vbo365/20 authorization.html).
      const issued = this.tokens.redeem(form.get('refresh_token') ?? '');
      if (!issued) return this.oauthError('invalid_grant', 'The refresh token is invalid or expired.');
      return this.tokenResponse(issued);
    }
    const known = ['urn:ietf:params:oauth:grant-type:jwt-bearer', 'operator', ...(this.n >= 6 && this.n <= 7 ? ['integration'] : [])];
    // Grants that need a Microsoft identity assertion exist but cannot be simulated: their assertion never validates.
    if (this.n >= 6 && grant !== undefined && known.includes(grant)) return this.oauthError('invalid_grant', 'The assertion is not valid.');
    return this.oauthError('unsupported_grant_type');
  }

  /** The token request's fields; undefined for a JSON body that does not parse. */
  private tokenForm(req: SimRequest): Map<string, string> | undefined {
    const text = req.body.toString('utf8');
    const type = String(req.headers['content-type'] ?? '').toLowerCase();
    const fields = new Map<string, string>();
    if (this.n >= 6 && type.includes('application/json')) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return undefined;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) fields.set(k, String(v));
      return fields;
    }
    // Before v6 (and for any other content type) the body is read as a form, as OWIN does: a JSON
    // body then has no grant_type and fails with unsupported_grant_type.
    for (const [k, v] of new URLSearchParams(text)) if (!fields.has(k)) fields.set(k, v);
    return fields;
  }

  private tokenResponse(t: IssuedTokens): SimResponse {
    this.options.log.countEvent('tokens');
    const date = this.options.tokenDateFormat === 'iso' ? formatNetUtc : formatRfc1123;
    // OWIN's property order: the token fields, then the AuthenticationProperties (`userName`, `.issued`, `.expires`).
    return this.json(
      {
        access_token: t.accessToken,
        token_type: 'bearer',
        expires_in: Math.round((t.expiresAt - t.issuedAt) / 1000),
        refresh_token: t.refreshToken,
        userName: t.userName,
        '.issued': date(t.issuedAt),
        '.expires': date(t.expiresAt),
      },
      200,
      { 'cache-control': 'no-cache', pragma: 'no-cache', expires: '-1' },
    );
  }

  private oauthError(error: string, description?: string): SimResponse {
    return this.json({ error, ...(description ? { error_description: description } : {}) }, 400, {
      'cache-control': 'no-cache',
      pragma: 'no-cache',
      expires: '-1',
    });
  }

  // ---------------------------------------------------------------- restore sessions

  private session(id: string): VboRestoreSession {
    const s = this.index.session(normalizeGuid(id) ?? '');
    if (!s) throw notFound('Restore session', id);
    return s;
  }

  private renderSession(s: VboRestoreSession): Json {
    return this.renderer.restoreSession(s, this.index.organization(s.organization));
  }

  /** Page size cap: 10,000 from v5 (HC pagination.html, v5+ docs); no cap documented before. */
  private get maxLimit(): number | undefined {
    return this.n >= 5 ? MAX_LIMIT : undefined;
  }

  /**
   * `GET /vN/RestoreSessions`.
   * - v1: a bare array of every session (veeam-docs/003); no parameters.
   * - v2+: a page. The v2/v3 docs show an array, but v2 clients read `.results` and follow
   *   `_links.next` with offset/limit [WOMBAT, JDC], so offset/limit work from v2 although the docs
   *   list them from v6.
   * - v4+: `startTimeFrom`/`startTimeTo` (veeam-docs/001); v8: `endTimeFrom`/`endTimeTo`, `orderBy`,
   *   `orderAsc` (default false: newest first) [SPEC8].
   * - Order before v8, UNCONFIRMED ("its own semantics", HC pagination.html): creationTime
   *   ascending, ties by id. Parameters a version does not know are ignored, as ASP.NET does.
   * - v6/v7 pages carry `setId` and `totalCount`, v8 only `setId` [SPEC]; setId is a fresh GUID.
   */
  private restoreSessions(req: SimRequest): SimResponse {
    const q = new VboQuery(req.query);
    if (this.n === 1) {
      const all = selectRestoreSessions(this.index, { creation: {}, end: {}, orderBy: 'CreationTime', ascending: true, offset: 0, limit: Infinity });
      return this.json(all.items.map((s) => this.renderSession(s)));
    }
    const creation = this.n >= 4 ? { from: q.date('startTimeFrom')?.ceil, to: q.date('startTimeTo')?.floor } : {};
    const end = this.n >= 8 ? { from: q.date('endTimeFrom')?.ceil, to: q.date('endTimeTo')?.floor } : {};
    const orderBy = this.n >= 8 ? (q.enumValue('orderBy', ['CreationTime', 'EndTime'] as const) ?? 'CreationTime') : 'CreationTime';
    const ascending = this.n >= 8 ? (q.bool('orderAsc') ?? false) : true;
    const { offset, limit } = q.paging(this.maxLimit);
    const sel = selectRestoreSessions(this.index, { creation, end, orderBy, ascending, offset, limit });
    const results = sel.items.map((s) => this.renderSession(s));
    const extra = this.n >= 6 ? { setId: this.random.guid(), ...(this.n <= 7 ? { totalCount: sel.total } : {}) } : {};
    return this.json(this.renderer.page(`/v${this.n}/RestoreSessions`, q, offset, limit, results, offset + results.length < sel.total, extra));
  }

  /** `GET /vN/RestoreSessions/{id}/Events`: paged in every version (part 2 section 4), in event order. */
  private events(req: SimRequest, id: string): SimResponse {
    const s = this.session(id);
    const q = new VboQuery(req.query);
    const { offset, limit } = q.paging(this.maxLimit);
    const all = vboSessionEvents(s);
    const org = this.index.organization(s.organization);
    const results = all.slice(offset, offset + limit).map((e) => this.renderer.event(e, s, org));
    return this.json(this.renderer.page(`/v${this.n}/RestoreSessions/${s.id}/Events`, q, offset, limit, results, offset + results.length < all.length));
  }

  private event(sessionId: string, eventId: string): SimResponse {
    const s = this.session(sessionId);
    const wanted = normalizeGuid(eventId);
    const e = vboSessionEvents(s).find((x) => x.id === wanted);
    if (!e) throw notFound('Restore session event', eventId);
    return this.json(this.renderer.event(e, s, this.index.organization(s.organization)));
  }

  // ---------------------------------------------------------------- organizations, points

  /**
   * `GET /vN/Organizations`: a bare array up to v7, a page in v8 with `limit`, `offset`, `msid`,
   * `backedUpOrganizationId` [SPEC8]. `extendedView` is accepted and ignored (the full view).
   */
  private organizations(req: SimRequest): SimResponse {
    const orgs = this.options.world.organizations;
    if (this.n <= 7) return this.json(orgs.map((o) => this.renderer.organization(o)));
    const q = new VboQuery(req.query);
    const msid = q.guid('msid');
    const backedUpId = q.guid('backedUpOrganizationId');
    const { offset, limit } = q.paging(this.maxLimit);
    const matching = orgs.filter((o) => (msid === undefined || o.msid === msid) && (backedUpId === undefined || backedUpOrganizationId(o) === backedUpId));
    const results = matching.slice(offset, offset + limit).map((o) => this.renderer.organization(o));
    return this.json(
      this.renderer.page(`/v${this.n}/Organizations`, q, offset, limit, results, offset + results.length < matching.length, { setId: this.random.guid() }),
    );
  }

  /**
   * `GET /vN/RestorePoints` (v6+). v6: bare array; `backupTime` matches a point's time exactly
   * (the spec gives no semantics: UNCONFIRMED). v7+: page with `from`/`to` (inclusive, UNCONFIRMED),
   * `orderAsc` (default false, newest first, like v8 RestoreSessions: UNCONFIRMED), `isCopy`;
   * `totalCount` in v7 only [SPEC7/8]. v8's userId/groupId/siteId/teamId are accepted and ignored:
   * the world does not record which items a point holds. v6 order: backupTime ascending.
   */
  private restorePoints(req: SimRequest): SimResponse {
    const q = new VboQuery(req.query);
    const orgId = q.guid('organizationId');
    const orgIndex = orgId === undefined ? undefined : (this.index.organizationIndex(orgId) ?? -1);
    const jobId = q.guid('jobId');
    const repositoryId = q.guid('repositoryId');
    const isLongTermCopy = q.bool('isLongTermCopy');
    const isRetrieved = q.bool('isRetrieved');
    const exact = this.n === 6 ? q.date('backupTime') : undefined;
    const from = this.n >= 7 ? q.date('from') : undefined;
    const to = this.n >= 7 ? q.date('to') : undefined;
    const isCopy = this.n >= 7 ? q.bool('isCopy') : undefined;
    const keep = (p: VboRestorePoint): boolean =>
      (orgIndex === undefined || p.organization === orgIndex) &&
      (jobId === undefined || p.jobId === jobId) &&
      (repositoryId === undefined || p.repositoryId === repositoryId) &&
      (isLongTermCopy === undefined || p.isLongTermCopy === isLongTermCopy) &&
      (isRetrieved === undefined || p.isRetrieved === isRetrieved) &&
      (isCopy === undefined || p.isCopy === isCopy) &&
      (exact === undefined || (p.backupTime >= exact.ceil && p.backupTime <= exact.floor)) &&
      (from === undefined || p.backupTime >= from.ceil) &&
      (to === undefined || p.backupTime <= to.floor);
    const points = this.options.world.restorePoints.filter(keep).sort((a, b) => a.backupTime - b.backupTime || (a.id < b.id ? -1 : 1));
    const render = (p: VboRestorePoint): Json => this.renderer.restorePoint(p, this.index.organization(p.organization));
    if (this.n === 6) return this.json(points.map(render));
    const ascending = q.bool('orderAsc') ?? false;
    if (!ascending) points.reverse();
    const { offset, limit } = q.paging(this.maxLimit);
    const results = points.slice(offset, offset + limit).map(render);
    return this.json(
      this.renderer.page(
        `/v${this.n}/RestorePoints`,
        q,
        offset,
        limit,
        results,
        offset + results.length < points.length,
        this.n === 7 ? { totalCount: points.length } : {},
      ),
    );
  }
}

function notFound(what: string, id: string): VboHttpError {
  // Message text UNCONFIRMED; v8's errorCode enum names the case (part 2 section 3).
  return new VboHttpError(404, `${what} with ID '${id}' was not found.`, 'ResourceNotFound');
}

/** v8 `errorCode` for a status when the failure itself does not say (injected faults). */
function v8ErrorCode(status: number): string | null {
  switch (status) {
    case 400:
      return 'ParameterValidationFailure';
    case 403:
      return 'ResourceAccessDenied';
    case 404:
      return 'ResourceNotFound';
    case 409:
      return 'OperationConflict';
    case 504:
      return 'Timeout';
    default:
      return null;
  }
}
