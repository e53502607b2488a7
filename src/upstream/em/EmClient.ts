import { createUpstreamHttpClient } from '../createUpstreamHttpClient.js';
import type { UpstreamClientOptions } from '../UpstreamClientOptions.js';
import pino, { type Logger } from 'pino';
import type { UpstreamAuthError } from '../errors.js';
import { UpstreamBadResponseError, UpstreamUnreachableError, isUpstreamError } from '../errors.js';
import { authenticatedRequest } from '../http/authenticatedRequest.js';
import type { CircuitState, RemoteCircuit } from '../http/CircuitBreaker.js';
import type { HttpClient, HttpResponse } from '../http/createHttpClient.js';
import { DEFAULT_MAX_URL_LENGTH } from '../http/httpDefaults.js';
import { createUpstreamLogger } from '../http/upstreamLogger.js';
import { authErrorFromResponse, httpErrorFromResponse } from '../httpErrorFromResponse.js';
import { EmDecodeError } from './EmDecodeError.js';
import { EmSession, type EmLogon } from './EmSession.js';
import { extractEmMessage } from './extractEmMessage.js';
import { decodeBackupServer, decodeEnterpriseManager, decodeQueryResult, decodeRestoreSession, decodeVmRestorePoint, findPagingHref } from './emDecoders.js';
import { anyOf, buildQueryUrl, chunkByUrlLength, unescapePagingHref, type EmFilter } from './emFilter.js';
import { latestEmVersion } from './latestEmVersion.js';
import { toEmUid } from './toEmUid.js';
import type { EmBackupServer, EmEntityKind, EmEntityKinds, EmEnterpriseManager, EmFormat, EmQueryResult, EmRestoreSession } from './types.js';

/** Options of {@link EmClient}: one configured Enterprise Manager server (the gateway maps its config to this). */
export interface EmClientOptions extends UpstreamClientOptions {
  /** API base, e.g. `https://em-hq.corp:9398/api` (HTTP on 9399 accepted too, docs/veeam-wire.md Part 1 section 1). */
  url: string;
  /**
   * Representation asked of EM. Default `xml`, which every EM version speaks. `json` sends
   * `Accept: application/json` on GETs only: EM 9.5U4 switched to JSON whenever `application/json`
   * appeared in Accept and then failed POST/PUT (docs/veeam-wire.md Part 1 section 4), so the logon POST
   * always asks for XML.
   */
  format?: EmFormat;
  /** `v=` of the logon. Default `latest`. */
  apiVersion?: string;
  /** How long a refused logon is remembered, in ms, see {@link EmSession}. Default 30000. */
  authFailureCacheMs?: number;
  /** Longest query-service URL for UID batches, in characters (config `servers[].maxUrlLength`). Default 8000 ({@link DEFAULT_MAX_URL_LENGTH}). */
  maxUrlLength?: number;
}

/** One query-service listing: filter, sort, page. */
export interface EmQueryOptions {
  /** Filter AST (values are always quoted: data, never syntax). */
  filter?: EmFilter;
  /** Sort ascending by this query field. Exclusive with `sortDesc`. */
  sortAsc?: string;
  /**
   * Sort descending by this query field. When neither sort is given the kind's default applies
   * (`CreationTime` descending for sessions and points, `Name` ascending for backup servers):
   * unsorted EM results come back in random order (docs/veeam-wire.md Part 1 section 5).
   */
  sortDesc?: string;
  /** Items per page, > 0. Default 100 (EM's effective default). */
  pageSize?: number;
  /** 1-based page. Default 1. */
  page?: number;
}

/** What `GET /api/` tells about the server. */
export interface EmApiInfo {
  /** `v1_5`, `v1_6`, `v1_7`... as advertised. */
  supportedVersions: string[];
  /** Highest advertised version (what `?v=latest` picks); undefined when none is advertised. */
  latestVersion: string | undefined;
}

/** Result of {@link EmClient.getLogonInfo}: the credentials work and the API answers. */
export interface EmLogonInfo extends EmApiInfo {
  /** Configured server name. */
  server: string;
  /** Account as EM reports it in the LogonSession. */
  userName: string | undefined;
}

const DEFAULT_SORT: { readonly [K in EmEntityKind]: { sortAsc?: string; sortDesc?: string } } = {
  RestoreSession: { sortDesc: 'CreationTime' },
  BackupServer: { sortAsc: 'Name' },
  VmRestorePoint: { sortDesc: 'CreationTime' },
};

const KINDS: readonly EmEntityKind[] = ['RestoreSession', 'BackupServer', 'VmRestorePoint'];

const ENTITY_DECODERS: { readonly [K in EmEntityKind]: (body: string, format: EmFormat) => EmEntityKinds[K] } = {
  RestoreSession: decodeRestoreSession,
  BackupServer: decodeBackupServer,
  VmRestorePoint: decodeVmRestorePoint,
};

/**
 * Client of one Veeam Backup Enterprise Manager REST API (docs/veeam-wire.md Part 1), built once per
 * configured server. Knows nothing of GraphQL: methods return the wire types of `types.ts`, and
 * every failure is an `UpstreamError` with a stable code.
 *
 * - Auth: logon at first use, shared by concurrent callers; on 401 exactly one re-logon shared by
 *   every request that got the 401 with the same token, then each request is replayed once (a
 *   second 401 is `UPSTREAM_AUTH_FAILED`); logoff on {@link close}. See {@link EmSession}.
 * - Transport: one got instance (TLS, timeouts, GET-only retries with backoff and budget, socket
 *   cap) from `createHttpClient`. An authenticated call may take up to four HTTP calls (request,
 *   re-logon, replay; plus the first logon), each bounded by `timeouts.total`.
 * - Version: with `?v=latest`, the first request on each new logon is accompanied by one
 *   unauthenticated `GET /api/` (in parallel) that tells which version the session speaks
 *   ({@link EmClient.apiVersion}).
 * - Circuit breaker: per server, in the HTTP layer; see {@link EmClient.circuit}.
 * - Decoding: XML or JSON through `emDecoders.ts`; a body that does not decode is
 *   `UPSTREAM_BAD_RESPONSE` naming the document and the problem.
 */
export class EmClient {
  /** Configured server name. */
  readonly name: string;
  /** Representation in use. */
  readonly format: EmFormat;
  private readonly http: HttpClient;
  private readonly session: EmSession;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly maxUrlLength: number;
  /** `v=` of the logon as configured (`latest` unless pinned). */
  private readonly logonVersion: string;
  private knownVersion: string | undefined;
  /** The logon whose version was (or is being) learnt, and that learning. */
  private versionLearning: Promise<string | undefined> | undefined;
  private closed = false;

  /**
   * @param options server, credentials, format, transport tuning; see {@link EmClientOptions}
   * @throws {TypeError} on an invalid URL or a `tls.ca` that is not PEM
   */
  constructor(options: EmClientOptions) {
    this.name = options.name;
    this.format = options.format ?? 'xml';
    this.now = options.now ?? Date.now;
    this.maxUrlLength = options.maxUrlLength ?? DEFAULT_MAX_URL_LENGTH;
    this.logonVersion = options.apiVersion ?? 'latest';
    if (this.logonVersion.toLowerCase() !== 'latest') this.knownVersion = this.logonVersion;
    const parent = options.logger ?? pino({ level: 'silent' });
    this.logger = createUpstreamLogger(parent, options.name);
    this.http = createUpstreamHttpClient(options, { now: this.now, logger: parent, ...(options.sleep !== undefined && { sleep: options.sleep }) });
    this.session = new EmSession({
      http: this.http,
      username: options.username,
      password: options.password,
      logger: this.logger,
      now: this.now,
      ...(options.apiVersion !== undefined && { apiVersion: options.apiVersion }),
      ...(options.authFailureCacheMs !== undefined && { authFailureCacheMs: options.authFailureCacheMs }),
    });
  }

  // ------------------------------------------------------------------ restore sessions

  /**
   * One page of restore sessions from the query service
   * (`GET /api/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=100`).
   *
   * @param options filter, sort (default `CreationTime` descending), pageSize (default 100), page (default 1)
   * @returns the sessions of the page and its PagingInfo (use {@link nextPage} to continue)
   */
  listRestoreSessions(options: EmQueryOptions = {}): Promise<EmQueryResult<EmRestoreSession>> {
    return this.query('RestoreSession', options);
  }

  /**
   * Every restore session matching the options, page after page, following EM's `Next` links.
   *
   * @param options as {@link listRestoreSessions}; `page` is the first page read
   */
  iterateRestoreSessions(options: EmQueryOptions = {}): AsyncGenerator<EmRestoreSession> {
    return this.iterate('RestoreSession', options);
  }

  // ------------------------------------------------------------------ generic query service

  /**
   * One page of any supported entity kind from the query service, `format=Entities`.
   *
   * @param kind `RestoreSession`, `BackupServer` or `VmRestorePoint`
   * @param options filter, sort (kind default when absent), pageSize (default 100), page
   * @throws {TypeError} on both sort directions or a bad page/pageSize (a programming error)
   */
  async query<K extends EmEntityKind>(kind: K, options: EmQueryOptions = {}): Promise<EmQueryResult<EmEntityKinds[K]>> {
    const sort = options.sortAsc !== undefined || options.sortDesc !== undefined ? {} : DEFAULT_SORT[kind];
    const url = buildQueryUrl({
      type: kind,
      format: 'Entities',
      ...sort,
      ...(options.filter !== undefined && { filter: options.filter }),
      ...(options.sortAsc !== undefined && { sortAsc: options.sortAsc }),
      ...(options.sortDesc !== undefined && { sortDesc: options.sortDesc }),
      pageSize: options.pageSize ?? 100,
      ...(options.page !== undefined && { page: options.page }),
    });
    return this.queryPage(kind, url.href);
  }

  /**
   * The page after `result`, by its PagingInfo `Next` link. The href is used as EM wrote it (its
   * `&amp;` separators already decoded once by the XML decoder; `unescapePagingHref` is idempotent
   * and covers JSON, docs/veeam-wire.md Part 1 section 4), re-based onto the configured origin.
   *
   * @param result a page from {@link query}, {@link listRestoreSessions} or this method
   * @returns the next page, or undefined on the last page
   * @throws {UpstreamBadResponseError} when the Next link is not a query-service URL of a known kind
   */
  async nextPage<T>(result: EmQueryResult<T>): Promise<EmQueryResult<T> | undefined> {
    const href = findPagingHref(result.paging, 'Next');
    if (href === undefined) return undefined;
    const next = this.queryHref(href);
    return (await this.queryPage(next.kind, next.path)) as unknown as EmQueryResult<T>;
  }

  /**
   * Every entity of a query, following `Next` links until the last page. A link that repeats an
   * already read page ends with `UPSTREAM_BAD_RESPONSE` rather than looping.
   *
   * @param kind entity kind
   * @param options as {@link query}
   */
  async *iterate<K extends EmEntityKind>(kind: K, options: EmQueryOptions = {}): AsyncGenerator<EmEntityKinds[K]> {
    let page: EmQueryResult<EmEntityKinds[K]> | undefined = await this.query(kind, options);
    const seen = new Set<string>();
    while (page) {
      yield* page.items;
      const href = findPagingHref(page.paging, 'Next');
      if (href === undefined) return;
      const next = this.queryHref(href);
      if (seen.has(next.path)) throw this.badResponse('GET', next.path, 'QueryResult: PagingInfo Next link points to a page already read');
      seen.add(next.path);
      page = (await this.queryPage(next.kind, next.path)) as EmQueryResult<EmEntityKinds[K]>;
    }
  }

  // ------------------------------------------------------------------ batches and single entities

  /**
   * Entities by UID in as few query-service calls as possible: `filter=UID=="urn:..",UID==".."`
   * split by URL length (`maxUrlLength`), one `format=Entities` call per chunk with `pageSize` equal
   * to the chunk (Next links followed should EM page anyway), chunks in parallel within `concurrency.maxSockets`.
   * The filter uses the URN form, the documented example value for `UID` (docs/veeam-wire.md Part 1 section 5).
   *
   * @param kind entity kind
   * @param uids URNs (`urn:veeam:RestoreSession:<guid>`) or bare GUIDs, duplicates allowed; values
   *   that are not ids of this kind are skipped (absent from the result, like unknown ids) so one
   *   bad key cannot fail a whole batch
   * @returns map from canonical UID ({@link toEmUid}: `urn:veeam:<Kind>:<lower-case guid>`) to
   *   entity; unknown ids are absent
   */
  async getByUids<K extends EmEntityKind>(kind: K, uids: readonly string[]): Promise<Map<string, EmEntityKinds[K]>> {
    const wanted = new Set<string>();
    for (const value of uids) {
      const uid = toEmUid(kind, value);
      if (uid !== undefined) wanted.add(uid);
    }
    const out = new Map<string, EmEntityKinds[K]>();
    if (wanted.size === 0) return out;
    // The exact overhead of this server's URL (origin, base path, other parameters, a 4-digit
    // pageSize) instead of the generic 300-character allowance.
    const overhead = this.http.resolve(buildQueryUrl({ type: kind, format: 'Entities', filter: 'x', pageSize: 9999 }).href).href.length - 1;
    const chunks = chunkByUrlLength([...wanted], this.maxUrlLength, { overhead });
    const pages = await Promise.all(
      chunks.map(async (chunk) => {
        const first = await this.queryPage(kind, buildQueryUrl({ type: kind, format: 'Entities', filter: anyOf(chunk), pageSize: chunk.length }).href);
        const items = [...first.items];
        let page = first;
        for (let guard = 0; guard < chunk.length; guard++) {
          const href = findPagingHref(page.paging, 'Next');
          if (href === undefined) break;
          const next = this.queryHref(href);
          page = (await this.queryPage(next.kind, next.path)) as EmQueryResult<EmEntityKinds[K]>;
          items.push(...page.items);
        }
        return items;
      }),
    );
    for (const items of pages) {
      for (const item of items) {
        const uid = toEmUid(kind, item.uid);
        if (uid !== undefined && wanted.has(uid)) out.set(uid, item);
      }
    }
    return out;
  }

  /**
   * One entity by its href with `?format=Entity`, for links that have no query type. Absolute
   * hrefs are re-based onto the configured origin: credentials never go to a host that was not
   * configured, and EM names itself as it sees itself (`https://localhost:9398/...` in Veeam's samples).
   *
   * @param href an entity or reference href from EM (`.../api/restoreSessions/<guid>`)
   * @param kind entity kind the href points to
   * @throws {TypeError} when the href is not under the configured API base path
   * @throws {UpstreamHttpError} 404 (`UPSTREAM_HTTP_ERROR`, status 404) for an unknown id
   */
  async getByHref<K extends EmEntityKind>(href: string, kind: K): Promise<EmEntityKinds[K]> {
    const url = this.http.resolve(href, { format: 'Entity' });
    if (!url.pathname.toLowerCase().startsWith(this.http.baseUrl.pathname.toLowerCase())) {
      throw new TypeError(`${this.name}: href ${url.pathname} is outside the API base ${this.http.baseUrl.pathname}`);
    }
    const res = await this.get(`${url.pathname}${url.search}`);
    return this.decode(res, (body) => ENTITY_DECODERS[kind](body, this.format));
  }

  /**
   * Every backup server EM manages (query service, `Name` ascending, all pages).
   *
   * @returns backup servers in name order
   */
  async listBackupServers(): Promise<EmBackupServer[]> {
    const out: EmBackupServer[] = [];
    for await (const server of this.iterate('BackupServer', { pageSize: 100 })) out.push(server);
    return out;
  }

  // ------------------------------------------------------------------ health

  /**
   * REST API version of the logon session as far as known: the pinned `apiVersion` option, or, for
   * `latest`, the newest version EM advertises in `GET /api/` (what `?v=latest` picks; the
   * LogonSession itself names no version), once {@link ping} or {@link resolveApiVersion} has read
   * it. Forgotten at every re-logon (an EM upgrade restarts the service and so forces one).
   */
  get apiVersion(): string | undefined {
    return this.knownVersion;
  }

  /**
   * The API version, reading `GET /api/` (unauthenticated, once, shared by concurrent callers)
   * only when it is not known yet. Learnt on demand rather than at logon, so listing and lookups
   * never pay for it. Never rejects: when EM's answer cannot be read it resolves `undefined`
   * (logged) and the next call asks again.
   */
  resolveApiVersion(): Promise<string | undefined> {
    if (this.knownVersion !== undefined) return Promise.resolve(this.knownVersion);
    this.versionLearning ??= this.ping().then(
      (info) => info.latestVersion,
      (err: unknown) => {
        this.logger.info({ err: isUpstreamError(err) ? err.toJSON() : { message: 'failed' } }, 'EM API version not learnt (GET /api/ failed)');
        return undefined;
      },
    );
    const learning = this.versionLearning;
    return learning.finally(() => {
      if (this.versionLearning === learning) this.versionLearning = undefined;
    });
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
   * `GET /api/` without logging on: the API answers and which versions it speaks. Also records the
   * version a `latest` logon speaks (see {@link apiVersion}).
   *
   * @returns advertised versions, highest as `latestVersion`
   */
  async ping(): Promise<EmApiInfo> {
    this.assertOpen('GET', '');
    const res = await this.http.request({ path: '', headers: { accept: this.accept() } });
    if (res.status < 200 || res.status >= 300) throw httpErrorFromResponse(this.name, 'GET', res, this.http.secrets(), this.now(), extractEmMessage);
    const root = this.decode<EmEnterpriseManager>(res, (body) => decodeEnterpriseManager(body, this.format));
    const supportedVersions = root.supportedVersions.map((v) => v.name);
    const latestVersion = latestEmVersion(supportedVersions);
    if (latestVersion !== undefined && this.logonVersion.toLowerCase() === 'latest') this.knownVersion = latestVersion;
    return { supportedVersions, latestVersion };
  }

  /**
   * Log on (or reuse the session) and read the API versions: what a `check` command reports.
   *
   * @throws {UpstreamAuthError} when the credentials are refused
   */
  async getLogonInfo(): Promise<EmLogonInfo> {
    this.assertOpen('POST', 'sessionMngr/');
    const logon = await this.session.acquire();
    const info = await this.ping();
    return { server: this.name, userName: logon.userName, ...info };
  }

  /**
   * Log off (`DELETE /api/logonSessions/{id}`, best effort) and close pooled sockets. Idempotent;
   * later calls fail with `UPSTREAM_UNREACHABLE` (not retryable).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.session.logoff();
    } finally {
      this.http.close();
    }
  }

  // ------------------------------------------------------------------ internals

  private accept(): string {
    return this.format === 'json' ? 'application/json' : 'application/xml';
  }

  private assertOpen(method: string, path: string): void {
    if (this.closed) {
      throw new UpstreamUnreachableError({ source: this.name, method, path, retryable: false, detail: 'client is closed' });
    }
  }

  /**
   * Authenticated GET: token from the session, one shared re-logon and one replay on 401
   * (`authenticatedRequest`), 403 as an auth failure, any other non-2xx through `httpErrorFromResponse`.
   */
  private async get(path: string): Promise<HttpResponse<string>> {
    this.assertOpen('GET', path);
    const res = await authenticatedRequest<EmLogon, HttpResponse<string>>({
      current: () => this.session.acquire(),
      send: (logon) => this.http.request({ path, headers: { accept: this.accept(), 'x-restsvcsessionid': logon.token } }),
      renew: (stale) => this.session.renew(stale),
      // A new logon may speak another version (an upgraded EM restarts and forces one): ask again when needed.
      onRenewed: () => {
        if (this.logonVersion.toLowerCase() === 'latest') this.knownVersion = undefined;
      },
      authError: (r, why) => this.authError(r, why === 'refused-after-renewal' ? 'session refused again right after a fresh logon' : undefined),
    });
    if (res.status < 200 || res.status >= 300) throw httpErrorFromResponse(this.name, 'GET', res, this.http.secrets(), this.now(), extractEmMessage);
    return res;
  }

  private authError(res: HttpResponse<string>, why?: string): UpstreamAuthError {
    const { message } = extractEmMessage(res.body);
    const text = why === undefined ? message : message === undefined ? why : `${message} (${why})`;
    return authErrorFromResponse(this.name, res, this.http.secrets(), text === undefined ? {} : { message: text });
  }

  private async queryPage<K extends EmEntityKind>(kind: K, path: string): Promise<EmQueryResult<EmEntityKinds[K]>> {
    const res = await this.get(path);
    return this.decode(res, (body) => decodeQueryResult(kind, body, this.format));
  }

  /**
   * A PagingInfo href made ready: `&amp;` unescaped (idempotent), re-based onto the configured
   * origin, checked to be this server's query service, its `type` mapped to a known kind.
   */
  private queryHref(href: string): { kind: EmEntityKind; path: string } {
    let url: URL;
    try {
      url = this.http.resolve(unescapePagingHref(href));
    } catch {
      throw this.badResponse('GET', 'query', 'QueryResult: PagingInfo link is not a URL');
    }
    const path = `${url.pathname}${url.search}`;
    if (url.pathname.replace(/\/+$/, '').toLowerCase() !== `${this.http.baseUrl.pathname}query`.toLowerCase()) {
      throw this.badResponse('GET', url.pathname, 'QueryResult: PagingInfo link does not point to the query service');
    }
    let type: string | undefined;
    for (const [k, v] of url.searchParams) if (k.toLowerCase() === 'type' && type === undefined) type = v;
    const kind = KINDS.find((k) => k.toLowerCase() === type?.toLowerCase());
    if (kind === undefined) throw this.badResponse('GET', url.pathname, `QueryResult: PagingInfo link has an unknown query type "${type ?? ''}"`);
    return { kind, path };
  }

  private decode<T>(res: HttpResponse<string>, decoder: (body: string) => T): T {
    try {
      return decoder(res.body);
    } catch (err) {
      if (err instanceof EmDecodeError) {
        throw new UpstreamBadResponseError({
          source: this.name,
          method: 'GET',
          path: res.path,
          secrets: this.http.secrets(),
          detail: `bad ${this.format.toUpperCase()} body: ${err.message}`,
          cause: err,
        });
      }
      throw err;
    }
  }

  private badResponse(method: string, path: string, detail: string): UpstreamBadResponseError {
    return new UpstreamBadResponseError({ source: this.name, method, path, secrets: this.http.secrets(), detail });
  }
}
