import { createUpstreamHttpClient } from '../createUpstreamHttpClient.js';
import type { UpstreamClientOptions } from '../UpstreamClientOptions.js';
import { setTimeout as sleepMs } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import type { UpstreamAuthError } from '../errors.js';
import { UpstreamBadResponseError } from '../errors.js';
import { extractUpstreamMessage } from '../extractUpstreamMessage.js';
import { authenticatedRequest } from '../http/authenticatedRequest.js';
import type { CircuitState, RemoteCircuit } from '../http/CircuitBreaker.js';
import type { HttpClient, HttpResponse } from '../http/createHttpClient.js';
import { createUpstreamLogger } from '../http/upstreamLogger.js';
import { authErrorFromResponse, httpErrorFromResponse } from '../httpErrorFromResponse.js';
import type { VboApiVersion, VboOrganization, VboPage, VboRestorePoint, VboRestoreSession, VboRestoreSessionEvent, VboServiceInstance } from './types.js';
import { VboTokenManager, type VboTokenPolicy, type VboTokenStats } from './VboTokenManager.js';
import { VboUnsupportedError } from './VboUnsupportedError.js';
import { vboBadResponse } from './vboBadResponse.js';
import { type VboCapabilities, vboCapabilities } from './vboCapabilities.js';
import {
  type HrefResolver,
  type ItemDecoder,
  decodeVboItem,
  decodeVboOrganization,
  decodeVboPage,
  decodeVboRestorePoint,
  decodeVboRestoreSession,
  decodeVboRestoreSessionEvent,
  decodeVboServiceInstance,
  parseVboJson,
} from './vboDecoders.js';

/** Options of {@link VboClient}: one configured VB365 server. Plain data; the config layer builds it. */
export interface VboClientOptions extends UpstreamClientOptions {
  /** Server origin, e.g. `https://vbo-eu.corp:4443` (default port 4443, Part 2 section 1). */
  url: string;
  /** `v1`..`v8`: chooses paths, parameters and expected shapes (see {@link vboCapabilities}). */
  apiVersion: VboApiVersion;
  /** Page size asked for when a call gives no `limit`, and by the `iterate*` methods. Default 100; capped at 10,000 from v5. */
  pageSize?: number;
  /**
   * How `iterate*` moves to the next page: `offset` (default) computes `offset`/`limit` itself where
   * the version honours them and follows `_links.next` only where it does not; `links` always
   * follows `_links.next` (what [WOMBAT] does).
   */
  paging?: 'offset' | 'links';
  /** Token renewal policy. */
  token?: VboTokenPolicy;
  /** Version in the User-Agent. Default from package.json. */
  version?: string;
}

/** A time parameter: a `Date`, or ISO 8601 text passed through as given (UTC, Part 2 section 4). */
export type VboTime = Date | string;

/** Parameters of {@link VboClient.listRestoreSessions}. Each is sent only to versions that know it. */
export interface VboRestoreSessionQuery {
  /** Sessions created at or after (v4+). */
  startTimeFrom?: VboTime;
  /** Sessions created at or before (v4+). */
  startTimeTo?: VboTime;
  /** Sessions ended at or after (v8). */
  endTimeFrom?: VboTime;
  /** Sessions ended at or before (v8). */
  endTimeTo?: VboTime;
  /** v8; server default `CreationTime`. */
  orderBy?: 'CreationTime' | 'EndTime';
  /** v8; server default false (newest first). */
  orderAsc?: boolean;
  /** Items to skip (v2+). Default 0. */
  offset?: number;
  /** Page size (v2+). Default the client's `pageSize`. */
  limit?: number;
}

/**
 * Which criteria of a list call the server applies for this API version. `true`: the items are
 * already filtered / ordered / paged by it. `false`: this version cannot, the criterion was NOT
 * sent, and the client did not emulate it: the caller must finish the job on the items (and, for
 * `paging: false`, knows it holds the whole collection).
 */
export interface VboRestoreSessionSupport {
  /** `startTimeFrom`/`startTimeTo` (v4+). */
  startTime: boolean;
  /** `endTimeFrom`/`endTimeTo` (v8). */
  endTime: boolean;
  /** `orderBy`/`orderAsc` (v8). Before v8 the order is the server's own, unspecified (Part 2 section 7). */
  order: boolean;
  /** `offset`/`limit` (v2+). v1 answers the whole collection as one array. */
  paging: boolean;
}

/** Criteria support of `/RestorePoints`. */
export interface VboRestorePointSupport {
  /** `from`/`to` (v7+). */
  time: boolean;
  /** `orderAsc` (v7+). */
  order: boolean;
  /** `offset`/`limit` (v7+); v6 answers the whole (organization-filtered) collection. */
  paging: boolean;
}

/** One page of a list, with what the server did and whether more pages exist. */
export interface VboList<T, S> extends VboPage<T> {
  /** Whether another page follows: a `next` link (or, without `_links`, a full page) and not a short page. */
  hasMore: boolean;
  serverFiltered: S;
}

/** A page of restore sessions. */
export type VboRestoreSessionList = VboList<VboRestoreSession, VboRestoreSessionSupport>;

/** A page of restore points. */
export interface VboRestorePointList extends VboList<VboRestorePoint, VboRestorePointSupport> {
  /** `time: true` when the server could not filter by `from`/`to` (v6) and the client did, on the whole collection it received. */
  clientFiltered: { time: boolean };
}

/** A page of restore session events. */
export type VboRestoreSessionEventList = VboList<VboRestoreSessionEvent, { paging: boolean }>;

/** Parameters of {@link VboClient.listRestorePoints}. */
export interface VboRestorePointQuery {
  organizationId?: string;
  /** Points backed up at or after (server-side v7+, client-side v6). */
  from?: VboTime;
  /** Points backed up at or before (server-side v7+, client-side v6). */
  to?: VboTime;
  /** v7+; server default false (newest first). */
  orderAsc?: boolean;
  /** v7+. Default 0. */
  offset?: number;
  /** v7+. Default the client's `pageSize`. */
  limit?: number;
}

/** Paging of {@link VboClient.listRestoreSessionEvents}. */
export interface VboPaging {
  offset?: number;
  limit?: number;
}

/** What {@link VboClient.ping} found. */
export interface VboPingResult {
  source: string;
  apiVersion: VboApiVersion;
  /** Product build from `/ServiceInstance` (v6+). */
  serverVersion?: string;
  installationId?: string;
  /** Time to get a token (0 when one was held), ms by the injected clock. */
  tokenMs: number;
  /** Round trip of one authenticated GET, ms by the injected clock. */
  latencyMs: number;
  /** When the held token expires, ISO 8601. */
  tokenExpiresAt?: string;
}

type Params = Record<string, string | undefined>;

interface ListCall<T> {
  document: string;
  path: string;
  params: Params;
  decode: ItemDecoder<T>;
  /** Whether this endpoint honours `offset` in this version (else `_links.next` is followed). */
  offsetPaging: boolean;
  /** Limit we asked for, for short-page detection when the page does not echo one. */
  limit: number | undefined;
}

function iso(t: VboTime | undefined): string | undefined {
  if (t === undefined) return undefined;
  return t instanceof Date ? t.toISOString() : t;
}

function timeMs(t: VboTime | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  if (Number.isNaN(ms)) throw new RangeError(`not a date-time: ${String(t)}`);
  return ms;
}

/**
 * Client of one Veeam Backup for Microsoft 365 REST API server (docs/veeam-wire.md Part 2), for the
 * configured API version v1..v8. Methods return wire types (`types.ts`); they know nothing of
 * GraphQL. Authentication is the {@link VboTokenManager}'s: a bearer token obtained on first use,
 * refreshed before expiry, renewed once on `401` for all concurrent callers, replayed once.
 *
 * Version differences handled here (Part 2 sections 4-7): RestoreSessions a bare array in v1 and
 * a page from v2; Organizations an array until v7 and a page in v8; RestorePoints absent before v6,
 * an array in v6, a page from v7; `startTime*` filters from v4, `endTime*` and ordering in v8;
 * link hrefs absolute until v5 and root-relative from v6. Where a version cannot filter or order,
 * the list result says so in `serverFiltered` instead of the client emulating it silently.
 *
 * Errors: `UpstreamError` subclasses (UPSTREAM_AUTH_FAILED, UPSTREAM_HTTP_ERROR with the server's
 * `message`/`errorCode`, UPSTREAM_BAD_RESPONSE naming document and field, UPSTREAM_TIMEOUT,
 * UPSTREAM_UNREACHABLE, UPSTREAM_TLS_ERROR), and {@link VboUnsupportedError} for an operation the
 * version lacks (no request made). No error or log line holds the password or a token.
 */
export class VboClient {
  /** Configured server name. */
  readonly name: string;
  readonly apiVersion: VboApiVersion;
  /** What this API version can do; the graph layer reads it to plan what it finishes itself. */
  readonly capabilities: VboCapabilities;
  private readonly http: HttpClient;
  private readonly tokens: VboTokenManager;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly pageSize: number;
  private readonly paging: 'offset' | 'links';
  private readonly resolveHref: HrefResolver;
  private closed = false;

  /**
   * @param options the server (see {@link VboClientOptions})
   * @throws {RangeError} unknown API version or a page size below 1
   * @throws {TypeError} invalid URL or a `tls.ca` that is not PEM
   */
  constructor(options: VboClientOptions) {
    this.name = options.name;
    this.apiVersion = options.apiVersion;
    this.capabilities = vboCapabilities(options.apiVersion);
    this.now = options.now ?? Date.now;
    const sleep = options.sleep ?? ((ms: number) => sleepMs(ms).then(() => undefined));
    const parent = options.logger ?? pino({ level: 'silent' });
    this.logger = createUpstreamLogger(parent, options.name);
    const pageSize = options.pageSize ?? 100;
    if (!(pageSize >= 1)) throw new RangeError(`${options.name}: pageSize must be >= 1`);
    this.pageSize = Math.min(Math.floor(pageSize), this.capabilities.maxLimit ?? Infinity);
    this.paging = options.paging ?? 'offset';
    this.http = createUpstreamHttpClient(options, { now: this.now, logger: parent, sleep, ...(options.version !== undefined && { version: options.version }) });
    this.tokens = new VboTokenManager({
      source: options.name,
      http: this.http,
      apiVersion: options.apiVersion,
      username: options.username,
      password: options.password,
      now: this.now,
      sleep,
      logger: this.logger,
      ...(options.retry?.random !== undefined && { random: options.retry.random }),
      ...(options.token !== undefined && { policy: options.token }),
    });
    this.resolveHref = (href) => {
      try {
        return this.http.resolve(href).href;
      } catch {
        return undefined;
      }
    };
  }

  // ------------------------------------------------------------------ restore sessions

  /**
   * One page of `GET /{v}/RestoreSessions`. Parameters the version does not know are not sent
   * (see {@link VboRestoreSessionSupport}); v1 answers every session at once.
   *
   * @param query time window, order, offset/limit
   * @returns the page, `hasMore`, and which criteria the server applied
   */
  async listRestoreSessions(query: VboRestoreSessionQuery = {}): Promise<VboRestoreSessionList> {
    const call = this.restoreSessionsCall(query);
    return this.toList(await this.fetchPage(call.path, call.params, call), call, this.restoreSessionSupport());
  }

  /**
   * Every page of `GET /{v}/RestoreSessions` from `query.offset` on, to the end: by `offset`/`limit`
   * where the version pages, following `_links.next` where it does not (or with `paging: 'links'`).
   * A session seen on an earlier page (the list shifted under us) is not yielded again.
   *
   * @param query as {@link listRestoreSessions}; `limit` is the page size
   */
  async *iterateRestoreSessions(query: VboRestoreSessionQuery = {}): AsyncGenerator<VboRestoreSessionList> {
    yield* this.iterate(this.restoreSessionsCall(query), this.restoreSessionSupport());
  }

  /**
   * `GET /{v}/RestoreSessions/{id}`.
   *
   * @param id session GUID
   * @throws {UpstreamHttpError} 404 with the server's message for an unknown id
   */
  async getRestoreSession(id: string): Promise<VboRestoreSession> {
    return this.getItem(`${this.apiVersion}/RestoreSessions/${encodeURIComponent(id)}`, 'RestoreSession', decodeVboRestoreSession);
  }

  /**
   * `GET /{v}/RestoreSessions/{id}/organization`: the organization the session restores from
   * (`{id, name, type, _links}`; in v1 the name carries the point in time, Part 2 section 4).
   *
   * @param id session GUID
   */
  async getRestoreSessionOrganization(id: string): Promise<VboOrganization> {
    return this.getItem(`${this.apiVersion}/RestoreSessions/${encodeURIComponent(id)}/organization`, 'RestoreSessionOrganization', decodeVboOrganization);
  }

  /**
   * One page of `GET /{v}/RestoreSessions/{id}/Events` (paged in every documented version).
   *
   * @param id session GUID
   * @param paging offset (default 0) and limit (default the client's `pageSize`)
   */
  async listRestoreSessionEvents(id: string, paging: VboPaging = {}): Promise<VboRestoreSessionEventList> {
    const call = this.eventsCall(id, paging);
    return this.toList(await this.fetchPage(call.path, call.params, call), call, { paging: true });
  }

  /**
   * Every event of a session, page by page.
   *
   * @param id session GUID
   * @param paging start offset and page size
   */
  async *iterateRestoreSessionEvents(id: string, paging: VboPaging = {}): AsyncGenerator<VboRestoreSessionEventList> {
    yield* this.iterate(this.eventsCall(id, paging), { paging: true });
  }

  // ------------------------------------------------------------------ organizations

  /**
   * Every organization: `GET /{v}/Organizations`, one array until v7, all pages in v8.
   *
   * @returns organizations in server order
   */
  async listOrganizations(): Promise<VboOrganization[]> {
    const caps = this.capabilities;
    const call: ListCall<VboOrganization> = {
      document: 'Organizations',
      path: `${this.apiVersion}/Organizations`,
      params: caps.organizationsPaged ? { offset: '0', limit: String(this.pageSize) } : {},
      decode: decodeVboOrganization,
      offsetPaging: caps.organizationsPaged,
      limit: caps.organizationsPaged ? this.pageSize : undefined,
    };
    const out: VboOrganization[] = [];
    for await (const page of this.iterate(call, { paging: caps.organizationsPaged })) out.push(...page.items);
    return out;
  }

  /**
   * `GET /{v}/Organizations/{id}`.
   *
   * @param id organization GUID
   */
  async getOrganization(id: string): Promise<VboOrganization> {
    return this.getItem(`${this.apiVersion}/Organizations/${encodeURIComponent(id)}`, 'Organization', decodeVboOrganization);
  }

  // ------------------------------------------------------------------ restore points

  /**
   * One page of `GET /{v}/RestorePoints` (v6+). v7+ filters by `from`/`to` and pages on the server.
   * v6 answers the whole (organization-filtered) collection as an array and knows no time window,
   * so the client filters that complete array by `from`/`to` itself (exact, since it holds every
   * point) and says so in `clientFiltered.time`; order and paging are then the caller's.
   *
   * @param query organization, time window (inclusive), order, paging
   * @throws {VboUnsupportedError} before v6, without a request
   */
  async listRestorePoints(query: VboRestorePointQuery = {}): Promise<VboRestorePointList> {
    const call = this.restorePointsCall(query);
    const list = this.toList(await this.fetchPage(call.path, call.params, call), call, this.restorePointSupport());
    return this.filterPointsClientSide(list, query);
  }

  /**
   * Every page of restore points matching `query` (v6: the one array, filtered client-side).
   *
   * @param query as {@link listRestorePoints}
   * @throws {VboUnsupportedError} before v6, without a request
   */
  async *iterateRestorePoints(query: VboRestorePointQuery = {}): AsyncGenerator<VboRestorePointList> {
    const call = this.restorePointsCall(query);
    for await (const page of this.iterate(call, this.restorePointSupport())) yield this.filterPointsClientSide(page, query);
  }

  // ------------------------------------------------------------------ service

  /**
   * `GET /{v}/ServiceInstance` (v6+): product version and installation id.
   *
   * @throws {VboUnsupportedError} before v6, without a request
   */
  async getServiceInstance(): Promise<VboServiceInstance> {
    if (!this.capabilities.serviceInstance) throw new VboUnsupportedError(this.name, this.apiVersion, 'getServiceInstance', '/ServiceInstance exists from v6');
    const { json, path } = await this.getJson(`${this.apiVersion}/ServiceInstance`, {}, 'ServiceInstance');
    try {
      return decodeVboServiceInstance(json);
    } catch (err) {
      throw vboBadResponse(this.name, 'GET', path, err, this.http.secrets());
    }
  }

  /**
   * Health probe for `check`: gets a token, then one cheap authenticated GET (`/ServiceInstance`
   * from v6, one organization page before).
   *
   * @throws {UpstreamError} whatever failed (auth, TLS, timeout...)
   */
  async ping(): Promise<VboPingResult> {
    const t0 = this.now();
    await this.tokens.accessToken();
    const t1 = this.now();
    let instance: VboServiceInstance | undefined;
    if (this.capabilities.serviceInstance) instance = await this.getServiceInstance();
    else await this.getJson(`${this.apiVersion}/Organizations`, {}, 'Organizations');
    const t2 = this.now();
    const expiresAt = this.tokens.expiresAt();
    return {
      source: this.name,
      apiVersion: this.apiVersion,
      ...(instance?.version !== undefined && { serverVersion: instance.version }),
      ...(instance?.installationId !== undefined && { installationId: instance.installationId }),
      tokenMs: t1 - t0,
      latencyMs: t2 - t1,
      ...(expiresAt !== undefined && { tokenExpiresAt: new Date(expiresAt).toISOString() }),
    };
  }

  /** Counters of `/token` traffic (password and refresh grants, fallbacks, throttling). */
  tokenStats(): VboTokenStats {
    return this.tokens.stats();
  }

  /** State of this server's circuit breaker (see `CircuitBreaker`), for health reports. */
  circuit(): CircuitState {
    return this.http.circuit();
  }

  /** Adopts another replica's breaker state of this server. */
  adoptCircuit(remote: RemoteCircuit): void {
    this.http.adoptCircuit(remote);
  }

  /**
   * Best-effort `POST /{v}/token/logout` (v7+; earlier versions have none), then close the pooled
   * sockets. Idempotent; never throws.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tokens.logout();
    this.http.close();
  }

  // ------------------------------------------------------------------ internals

  private restoreSessionSupport(): VboRestoreSessionSupport {
    const c = this.capabilities;
    return {
      startTime: c.restoreSessionsStartTimeFilter,
      endTime: c.restoreSessionsEndTimeFilter,
      order: c.restoreSessionsOrder,
      paging: c.restoreSessionsPaged,
    };
  }

  private restorePointSupport(): VboRestorePointSupport {
    const paged = this.capabilities.restorePointsPaged;
    return { time: paged, order: paged, paging: paged };
  }

  private limitOf(limit: number | undefined): number {
    const wanted = limit ?? this.pageSize;
    if (!(wanted >= 1)) throw new RangeError(`${this.name}: limit must be >= 1`);
    return Math.min(Math.floor(wanted), this.capabilities.maxLimit ?? Infinity);
  }

  private offsetOf(offset: number | undefined): string {
    const o = offset ?? 0;
    if (!(o >= 0)) throw new RangeError(`${this.name}: offset must be >= 0`);
    return String(Math.floor(o));
  }

  private restoreSessionsCall(q: VboRestoreSessionQuery): ListCall<VboRestoreSession> {
    const s = this.restoreSessionSupport();
    const limit = s.paging ? this.limitOf(q.limit) : undefined;
    const params: Params = {};
    if (s.paging) {
      params.offset = this.offsetOf(q.offset);
      params.limit = String(limit);
    }
    if (s.startTime) {
      params.startTimeFrom = iso(q.startTimeFrom);
      params.startTimeTo = iso(q.startTimeTo);
    }
    if (s.endTime) {
      params.endTimeFrom = iso(q.endTimeFrom);
      params.endTimeTo = iso(q.endTimeTo);
    }
    if (s.order) {
      params.orderBy = q.orderBy;
      params.orderAsc = q.orderAsc === undefined ? undefined : String(q.orderAsc);
    }
    const ignored = Object.entries({ startTime: q.startTimeFrom ?? q.startTimeTo, endTime: q.endTimeFrom ?? q.endTimeTo, order: q.orderBy ?? q.orderAsc })
      .filter(([k, v]) => v !== undefined && !s[k as keyof VboRestoreSessionSupport])
      .map(([k]) => k);
    if (ignored.length > 0) this.logger.debug({ apiVersion: this.apiVersion, notSent: ignored }, 'criteria this VB365 API version cannot apply were not sent');
    return { document: 'RestoreSessions', path: `${this.apiVersion}/RestoreSessions`, params, decode: decodeVboRestoreSession, offsetPaging: s.paging, limit };
  }

  private eventsCall(id: string, paging: VboPaging): ListCall<VboRestoreSessionEvent> {
    // Events are paged in every documented version (Part 2 section 4), so offset/limit are always
    // sent; whether v1 honours `offset` on a later page is unknown, so v1 iterates by `_links.next`.
    const limit = this.limitOf(paging.limit);
    return {
      document: 'RestoreSessionEvents',
      path: `${this.apiVersion}/RestoreSessions/${encodeURIComponent(id)}/Events`,
      params: { offset: this.offsetOf(paging.offset), limit: String(limit) },
      decode: decodeVboRestoreSessionEvent,
      offsetPaging: this.capabilities.offsetPaging,
      limit,
    };
  }

  private restorePointsCall(q: VboRestorePointQuery): ListCall<VboRestorePoint> {
    if (!this.capabilities.restorePoints) {
      throw new VboUnsupportedError(this.name, this.apiVersion, 'listRestorePoints', '/RestorePoints is documented from v6');
    }
    // Validate the window up front, whichever side applies it.
    timeMs(q.from);
    timeMs(q.to);
    const paged = this.capabilities.restorePointsPaged;
    const limit = paged ? this.limitOf(q.limit) : undefined;
    const params: Params = { organizationId: q.organizationId };
    if (paged) {
      params.from = iso(q.from);
      params.to = iso(q.to);
      params.orderAsc = q.orderAsc === undefined ? undefined : String(q.orderAsc);
      params.offset = this.offsetOf(q.offset);
      params.limit = String(limit);
    }
    return { document: 'RestorePoints', path: `${this.apiVersion}/RestorePoints`, params, decode: decodeVboRestorePoint, offsetPaging: paged, limit };
  }

  private filterPointsClientSide(list: VboList<VboRestorePoint, VboRestorePointSupport>, q: VboRestorePointQuery): VboRestorePointList {
    const from = timeMs(q.from);
    const to = timeMs(q.to);
    if (list.serverFiltered.time || (from === undefined && to === undefined)) return { ...list, clientFiltered: { time: false } };
    const items = list.items.filter((p) => {
      const t = Date.parse(p.backupTime);
      return (from === undefined || t >= from) && (to === undefined || t <= to);
    });
    return { ...list, items, clientFiltered: { time: true } };
  }

  private toList<T, S>(page: VboPage<T>, call: ListCall<T>, support: S): VboList<T, S> {
    return { ...page, hasMore: this.hasMore(page, call), serverFiltered: support };
  }

  /** "Stop when no next link or a short page" (Part 2 section 7: [WOMBAT] stops on no `next`, [NIELS] on a short page). */
  private hasMore(page: VboPage<unknown>, call: ListCall<unknown>): boolean {
    if (page.shape === 'array' || page.items.length === 0) return false;
    const limit = page.limit ?? call.limit;
    if (limit !== undefined && page.items.length < limit) return false;
    // `_links` is optional in the spec: without it a full page is all we have to go on.
    return page.hasLinks ? page.links.next !== undefined : limit !== undefined;
  }

  private async *iterate<T, S>(call: ListCall<T>, support: S): AsyncGenerator<VboList<T, S>> {
    const byOffset = this.paging === 'offset' && call.offsetPaging;
    let path = call.path;
    let params: Params | undefined = call.params;
    let offset = Number(call.params.offset ?? 0);
    const seenIds = new Set<string>();
    const seenHrefs = new Set<string>();
    for (;;) {
      const page = await this.fetchPage(path, params, call);
      const list = this.toList(page, call, support);
      const fresh = page.items.filter((item) => {
        const id = (item as { id: string }).id;
        if (seenIds.has(id)) return false;
        seenIds.add(id);
        return true;
      });
      if (page.items.length > 0 && fresh.length === 0 && list.hasMore) {
        throw this.pagingError(page, call, 'a full page brought no new items: the server ignores paging');
      }
      yield { ...list, items: fresh };
      if (!list.hasMore) return;
      if (byOffset) {
        offset += page.items.length;
        params = { ...call.params, offset: String(offset) };
        continue;
      }
      const next = page.links.next;
      if (next === undefined) return;
      if (seenHrefs.has(next)) throw this.pagingError(page, call, '_links.next repeats an earlier page');
      seenHrefs.add(next);
      // Absolute (v1-v5) or root-relative (v6+); the HTTP client re-bases it onto the configured origin.
      path = next;
      params = undefined;
    }
  }

  private pagingError(page: VboPage<unknown>, call: ListCall<unknown>, detail: string): UpstreamBadResponseError {
    return new UpstreamBadResponseError({
      source: this.name,
      method: 'GET',
      path: page.links.self ?? `/${call.path}`,
      secrets: this.http.secrets(),
      detail: `bad response: ${call.document}: ${detail}`,
    });
  }

  private async fetchPage<T>(path: string, params: Params | undefined, call: ListCall<T>): Promise<VboPage<T>> {
    const { json, path: safe } = await this.getJson(path, params, call.document);
    try {
      return decodeVboPage(json, call.document, call.decode, this.resolveHref);
    } catch (err) {
      throw vboBadResponse(this.name, 'GET', safe, err, this.http.secrets());
    }
  }

  private async getItem<T>(path: string, document: string, decode: ItemDecoder<T>): Promise<T> {
    const { json, path: safe } = await this.getJson(path, {}, document);
    try {
      return decodeVboItem(json, document, decode, this.resolveHref);
    } catch (err) {
      throw vboBadResponse(this.name, 'GET', safe, err, this.http.secrets());
    }
  }

  /** An authenticated GET: bearer token, one renewal and replay on `401` (`authenticatedRequest`), errors mapped, body parsed as JSON. */
  private async getJson(path: string, params: Params | undefined, document: string): Promise<{ json: unknown; path: string }> {
    if (this.closed) throw new Error(`${this.name}: VboClient is closed`);
    const res = await authenticatedRequest<string, HttpResponse<string>>({
      current: () => this.tokens.accessToken(),
      send: (token) => this.send(path, params, token),
      renew: (stale) => this.tokens.renew(stale),
      onUnauthorized: (r) => this.logger.debug({ path: r.path }, 'VB365 answered 401: renewing the token once and replaying'),
      authError: (r) => this.authError(r),
    });
    if (res.status < 200 || res.status > 299) throw httpErrorFromResponse(this.name, 'GET', res, this.http.secrets(), this.now());
    try {
      return { json: parseVboJson(res.body, document), path: res.path };
    } catch (err) {
      throw vboBadResponse(this.name, 'GET', res.path, err, this.http.secrets());
    }
  }

  /** A `401` to the replay or a `403`: `UpstreamAuthError` with the server's `message`/`errorCode`. */
  private authError(res: HttpResponse<string>): UpstreamAuthError {
    return authErrorFromResponse(this.name, res, this.http.secrets(), extractUpstreamMessage(res.body));
  }

  private send(path: string, params: Params | undefined, token: string): Promise<HttpResponse<string>> {
    return this.http.request({
      path,
      ...(params !== undefined && { searchParams: params }),
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  }
}
