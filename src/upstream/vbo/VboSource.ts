import { isUpstreamError } from '../errors.js';
import { readUpTo } from '../readUpTo.js';
import { sessionBase } from '../sessionStatus.js';
import { SourceEventHub } from '../SourceEventHub.js';
import type {
  ListQuery,
  ListResult,
  LookupKind,
  M365RestorePointRecord,
  M365RestoreSessionRecord,
  OrganizationRecord,
  PointCondition,
  PointConditions,
  RecordOf,
  RequestScope,
  RestorePointRecord,
  RestoreSessionRecord,
  SessionCondition,
  SessionConditions,
  SessionEventRecord,
  Source,
  SourceCheck,
  SourceDescription,
  TimeWindow,
  RemoteCircuit,
} from '../Source.js';
import { inclusiveUpperBound, wireTimeMs } from '../wireTime.js';
import { halLinks } from './halLinks.js';
import { VboClient, type VboClientOptions, type VboRestorePointList, type VboRestoreSessionList, type VboRestoreSessionQuery } from './VboClient.js';
import type { VboOrganization, VboRestorePoint, VboRestoreSession, VboRestoreSessionEvent } from './types.js';

export function vboSessionRecord(s: VboRestoreSession): M365RestoreSessionRecord {
  return {
    entity: 'Microsoft365RestoreSession',
    ...sessionBase(s, halLinks(s.links)),
    type: s.type ?? null,
    initiatedBy: s.initiatedBy ?? null,
    details: s.details ?? null,
    scopeName: s.scopeName ?? null,
    clientHost: s.clientHost ?? null,
    reason: s.reason ?? null,
    pointInTime: s.pointInTime ?? null,
    organizationName: s.organizationName ?? null,
    hasOrganization: s.links.organization !== undefined || s.organizationName !== undefined,
  };
}

export function vboOrganizationRecord(o: VboOrganization): OrganizationRecord {
  return {
    entity: 'Organization',
    nativeId: o.id,
    links: halLinks(o.links),
    name: o.name,
    type: o.type ?? null,
    region: o.region ?? null,
    isBackedUp: o.isBackedUp ?? null,
    firstBackupTime: o.firstBackupTime ?? null,
    lastBackupTime: o.lastBackupTime ?? null,
  };
}

export function vboRestorePointRecord(p: VboRestorePoint): M365RestorePointRecord {
  return {
    entity: 'Microsoft365RestorePoint',
    nativeId: p.id,
    links: halLinks(p.links),
    pointInTime: p.backupTime,
    backupTime: p.backupTime,
    isExchange: p.isExchange ?? null,
    isSharePoint: p.isSharePoint ?? null,
    isOneDrive: p.isOneDrive ?? null,
    isTeams: p.isTeams ?? null,
    isLongTermCopy: p.isLongTermCopy ?? null,
    organizationId: p.organizationId ?? null,
  };
}

export function vboEventRecord(sessionId: string, e: VboRestoreSessionEvent): SessionEventRecord {
  return {
    entity: 'Microsoft365RestoreSessionEvent',
    nativeId: e.id,
    links: halLinks(e.links),
    sessionId,
    order: e.order ?? 0,
    type: e.type ?? null,
    status: e.status ?? null,
    title: e.title ?? null,
    message: e.message ?? null,
    startTime: e.startTime ?? null,
    endTime: e.endTime ?? null,
    duration: e.duration ?? null,
    itemName: e.itemName ?? null,
    itemType: e.itemType ?? null,
    itemSizeBytes: e.itemSizeBytes ?? null,
    itemSource: e.source ?? null,
    itemTarget: e.target ?? null,
  };
}

/** Organizations of one VB365 server, indexed (one list call per request scope). */
interface OrganizationIndex {
  all: OrganizationRecord[];
  byId: Map<string, OrganizationRecord>;
  /** By name, lower case; several when names repeat (then a name does not identify one). */
  byName: Map<string, OrganizationRecord[]>;
}

const isNotFound = (error: unknown): boolean => isUpstreamError(error) && error.status === 404;
const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

const inWindow =
  (window: TimeWindow) =>
  (timeText: string): boolean => {
    const t = wireTimeMs(timeText);
    return (window.fromMs === null || t >= window.fromMs) && (window.toMs === null || t < window.toMs);
  };

/**
 * How long a window's `totalCount` is used as a hint, ms. A hint is never trusted: the page read
 * with it must prove it (see `readSessions`), so this only bounds how often a stale one costs a
 * wasted call (an open window gains sessions as they start).
 */
const TOTAL_COUNT_HINT_TTL_MS = 60_000;
/** Windows whose `totalCount` one source remembers; the least recently stored is dropped first. */
const TOTAL_COUNT_HINT_MAX = 256;

/**
 * The last `totalCount` (v6/v7, docs/veeam-wire.md Part 2 section 4) seen per session window, and
 * when: a small bounded map, per source instance, by the client's clock.
 */
class TotalCountHints {
  private readonly hints = new Map<string, { total: number; at: number }>();

  constructor(private readonly now: () => number) {}

  get(key: string): number | undefined {
    const hint = this.hints.get(key);
    if (hint === undefined) return undefined;
    const age = this.now() - hint.at;
    if (age >= 0 && age <= TOTAL_COUNT_HINT_TTL_MS) return hint.total;
    this.hints.delete(key);
    return undefined;
  }

  set(key: string, total: number): void {
    // Re-inserted so that Map order is storage order: the first key is the oldest.
    this.hints.delete(key);
    this.hints.set(key, { total, at: this.now() });
    if (this.hints.size > TOTAL_COUNT_HINT_MAX) this.hints.delete(this.hints.keys().next().value!);
  }

  delete(key: string): void {
    this.hints.delete(key);
  }
}

/**
 * The source contract over one VB365 server (docs/veeam-wire.md Part 2), by what its configured
 * API version can do. VB365 filters sessions by creation time at best and never by state, result
 * or organization, so those conditions are returned unapplied; restore points filter by
 * organization and time (v6+). Organizations are a handful: one list per request scope serves
 * every lookup.
 */
export class VboSource implements Source {
  readonly kind = 'microsoft365' as const;
  readonly name: string;
  readonly url: string;
  private readonly client: VboClient;
  private readonly events: SourceEventHub;
  private readonly description: SourceDescription;
  /** `totalCount` per session window, so a NEWEST_FIRST page of a known window is one call (`readSessions`). */
  private readonly totals: TotalCountHints;

  /** @param options the client's options; `onRequest` is the source's own (subscribe instead) */
  constructor(options: Omit<VboClientOptions, 'onRequest' | 'onCircuit'> & { publicUrl: string }) {
    this.name = options.name;
    this.url = options.publicUrl;
    this.totals = new TotalCountHints(options.now ?? Date.now);
    // Token requests are `POST /vN/token` (docs/veeam-wire.md Part 2 section 2).
    this.events = new SourceEventHub(options.name, (e) => (e.method === 'POST' && /\/v\d+\/token(\?|$)/i.test(e.path) ? 'vbo_token' : undefined));
    this.client = new VboClient({ ...options, onRequest: this.events.http, onCircuit: this.events.circuit });
    const caps = this.client.capabilities;
    this.description = {
      kind: 'microsoft365',
      apiVersion: this.client.apiVersion,
      // Restore points exist from v6 (docs/veeam-wire.md Part 2 section 6).
      entities: new Set([
        'Microsoft365RestoreSession',
        'Organization',
        'Microsoft365RestoreSessionEvent',
        ...(caps.restorePoints ? (['Microsoft365RestorePoint'] as const) : []),
      ]),
      sessionConditions: new Set(['organizationId', 'states', 'results']),
      pointConditions: new Set(['organizationId']),
    };
  }

  describe(): SourceDescription {
    return this.description;
  }

  resolveApiVersion(): Promise<string | undefined> {
    return Promise.resolve(this.client.apiVersion);
  }

  /**
   * By what the configured API version can do (docs/veeam-wire.md Part 2 sections 4 and 7):
   * - v8 filters by creation time and orders (`orderBy=CreationTime&orderAsc=`): one call.
   * - v4-v7 filter by creation time but have no order parameter; servers answer oldest first.
   *   OLDEST_FIRST asks for the first `limit`. NEWEST_FIRST asks for the first `limit` too: when
   *   the window holds no more, that is the whole window (one call); otherwise v6/v7 pages carry
   *   `totalCount` and the newest `limit` are read at `offset = totalCount - limit`. The order of
   *   what comes back is checked; an unsorted answer, or v4/v5 without `totalCount`, falls back to
   *   reading the whole window. The `totalCount` learned is remembered per window for a minute:
   *   the next NEWEST_FIRST page of that window reads the tail directly, one call, and falls back
   *   to the two steps when the page does not prove the count still holds.
   * - v1-v3 cannot filter at all: every session is read once per request scope and windowed here.
   * VB365 time bounds are inclusive (`<=`), so the exclusive upper bound is sent as its last 100 ns tick.
   */
  listRestoreSessions(query: ListQuery<SessionConditions>, scope: RequestScope): Promise<ListResult<RestoreSessionRecord, SessionCondition>> {
    return this.events.run('listRestoreSessions', async () => {
      const unapplied = new Set<SessionCondition>();
      for (const c of ['states', 'results', 'organizationId'] as const) if (query.conditions[c] !== undefined) unapplied.add(c);
      const read = await this.readSessions(query, scope);
      return { items: read.items.map(vboSessionRecord), complete: read.complete, unapplied };
    });
  }

  private async readSessions(query: ListQuery<unknown>, scope: RequestScope): Promise<{ items: VboRestoreSession[]; complete: boolean }> {
    const caps = this.client.capabilities;
    const within = inWindow(query.window);
    const keep = (items: VboRestoreSession[]) => items.filter((s) => within(s.creationTime));
    if (!caps.restoreSessionsStartTimeFilter) return { items: keep(await this.allSessions(scope)), complete: true };

    const { fromMs, toMs } = query.window;
    const window: VboRestoreSessionQuery = {
      ...(fromMs !== null && { startTimeFrom: new Date(fromMs).toISOString() }),
      ...(toMs !== null && { startTimeTo: inclusiveUpperBound(toMs) }),
    };
    const max = caps.maxLimit ?? Infinity;
    const readFrom = async (offset: number, q: VboRestoreSessionQuery) => {
      const list = (o: number, limit: number) => this.client.listRestoreSessions({ ...q, offset: o, limit: Math.min(limit, max) });
      const read = await readUpTo<VboRestoreSessionList, VboRestoreSession>(
        query.limit,
        () => list(offset, query.limit),
        (last, n) => (last.hasMore ? list(offset + n, query.limit - n) : Promise.resolve(undefined)),
      );
      return { items: keep(read.items), hasMore: read.last.hasMore, totalCount: read.last.totalCount };
    };
    const wholeWindow = async () => {
      const items: VboRestoreSession[] = [];
      for await (const page of this.client.iterateRestoreSessions(window)) items.push(...page.items);
      return { items: keep(items), complete: true };
    };
    const isAscending = (items: readonly VboRestoreSession[]) =>
      items.every((s, i) => i === 0 || wireTimeMs(items[i - 1]!.creationTime) <= wireTimeMs(s.creationTime));

    if (caps.restoreSessionsOrder) {
      const got = await readFrom(0, { ...window, orderBy: 'CreationTime', orderAsc: query.order === 'OLDEST_FIRST' });
      return { items: got.items, complete: !got.hasMore };
    }
    // Keyed by the bounds as sent: the total depends on the window only, not on `limit`.
    const key = JSON.stringify([window.startTimeFrom ?? null, window.startTimeTo ?? null]);
    const known = query.order === 'NEWEST_FIRST' ? this.totals.get(key) : undefined;
    if (known !== undefined) {
      // The tail at the known total, in one call. v6/v7 send `totalCount` on every page
      // (docs/veeam-wire.md Part 2 section 4): when this page's own count is the known one, no
      // page follows and it is ascending, it is the very request and answer of the two steps below
      // (whose offset is computed from the same count), `complete` included. An open window that
      // gained sessions, or anything else, fails a test and takes the two steps: one call more,
      // never a different page.
      const offset = Math.max(0, known - query.limit);
      const tail = await readFrom(offset, window);
      if (tail.totalCount === known && !tail.hasMore && isAscending(tail.items)) return { items: tail.items, complete: offset === 0 };
      this.totals.delete(key);
    }
    const head = await readFrom(0, window);
    if (!head.hasMore) return { items: head.items, complete: true };
    if (!isAscending(head.items)) return wholeWindow();
    if (head.totalCount !== undefined) this.totals.set(key, head.totalCount);
    if (query.order === 'OLDEST_FIRST') return { items: head.items, complete: false };
    if (head.totalCount === undefined) return wholeWindow();
    const tail = await readFrom(Math.max(0, head.totalCount - query.limit), window);
    if (tail.hasMore || !isAscending(tail.items)) {
      // The count did not hold (sessions arrived between the calls) or the order is not ours: a
      // hint would only cost a call next time.
      this.totals.delete(key);
      return wholeWindow();
    }
    return { items: tail.items, complete: false };
  }

  /** v1-v3 cannot filter: the whole list, once per request scope. */
  private allSessions(scope: RequestScope): Promise<VboRestoreSession[]> {
    return scope.once('allSessions', async () => {
      const out: VboRestoreSession[] = [];
      for await (const page of this.client.iterateRestoreSessions()) out.push(...page.items);
      return out;
    });
  }

  /**
   * `/RestorePoints` (v6+; docs/veeam-wire.md Part 2 section 6): v7+ window, order and paging
   * pushed down; v6 answers one array (organization-filtered) that is windowed here.
   */
  listRestorePoints(query: ListQuery<PointConditions>): Promise<ListResult<RestorePointRecord, PointCondition>> {
    return this.events.run('listRestorePoints', async () => {
      const caps = this.client.capabilities;
      const within = inWindow(query.window);
      const keep = (items: VboRestorePoint[]) => items.filter((p) => within(p.backupTime)).map(vboRestorePointRecord);
      const unapplied = new Set<PointCondition>();
      const { fromMs, toMs } = query.window;
      const q = {
        ...(query.conditions.organizationId !== undefined && { organizationId: query.conditions.organizationId }),
        ...(fromMs !== null && { from: new Date(fromMs).toISOString() }),
        ...(toMs !== null && { to: inclusiveUpperBound(toMs) }),
      };
      if (!caps.restorePoints) return { items: [], complete: true, unapplied };
      if (!caps.restorePointsPaged) return { items: keep((await this.client.listRestorePoints(q)).items), complete: true, unapplied };
      const max = caps.maxLimit ?? Infinity;
      const list = (offset: number) =>
        this.client.listRestorePoints({ ...q, orderAsc: query.order === 'OLDEST_FIRST', offset, limit: Math.min(query.limit - offset, max) });
      const read = await readUpTo<VboRestorePointList, VboRestorePoint>(
        query.limit,
        () => list(0),
        (last, n) => (last.hasMore ? list(n) : Promise.resolve(undefined)),
      );
      return { items: keep(read.items), complete: !read.last.hasMore, unapplied };
    });
  }

  listAll<K extends 'BackupServer' | 'Organization'>(kind: K, scope: RequestScope): Promise<RecordOf[K][]> {
    if (kind !== 'Organization') return Promise.resolve([]);
    return this.events.run('listOrganizations', async () => (await this.organizations(scope)).all as RecordOf[K][]);
  }

  lookup<K extends LookupKind>(kind: K, ids: readonly string[], scope: RequestScope): Promise<Map<string, RecordOf[K] | Error>> {
    return this.events.run(`lookup${kind}`, async () => {
      const out = new Map<string, RecordOf[K] | Error>();
      const put = (id: string, value: unknown) => out.set(id.toLowerCase(), value as RecordOf[K]);
      if (kind === 'Organization') {
        const index = await this.organizations(scope);
        for (const id of ids) {
          const found = index.byId.get(id.toLowerCase());
          if (found) put(id, found);
        }
      } else if (kind === 'RestorePoint') {
        if (!this.client.capabilities.restorePoints) return out;
        // The API has no route for one point: the whole list, once per request scope.
        const all = await scope.once('allPoints', async () => {
          const points: VboRestorePoint[] = [];
          for await (const page of this.client.iterateRestorePoints()) points.push(...page.items);
          return new Map(points.map((p) => [p.id.toLowerCase(), vboRestorePointRecord(p)]));
        });
        for (const id of ids) {
          const found = all.get(id.toLowerCase());
          if (found) put(id, found);
        }
      } else if (kind === 'RestoreSession') {
        // No lookup of several sessions by id exists: one GET per distinct id.
        await Promise.all(
          ids.map(async (id) => {
            try {
              put(id, vboSessionRecord(await this.client.getRestoreSession(id)));
            } catch (err) {
              if (!isNotFound(err)) put(id, asError(err));
            }
          }),
        );
      }
      return out;
    });
  }

  /**
   * The organization a session restores from. v6+ sessions carry the organization's name: it is
   * looked up in the request's organization list (one call for any number of sessions). Before v6
   * a session only links `/RestoreSessions/{id}/organization`: when the server has a single
   * organization that is the answer without further calls; otherwise that link is followed per
   * session (once per request scope), the only correct way these versions offer. A name that
   * several organizations share is resolved the same way.
   */
  sessionOrganizations(sessions: readonly RestoreSessionRecord[], scope: RequestScope): Promise<(OrganizationRecord | null | Error)[]> {
    return this.events.run('sessionOrganizations', async () => {
      const index = await this.organizations(scope);
      return Promise.all(
        sessions.map(async (session): Promise<OrganizationRecord | null | Error> => {
          if (session.entity !== 'Microsoft365RestoreSession') return null;
          if (session.organizationName !== null) {
            const named = index.byName.get(session.organizationName.toLowerCase());
            if (named?.length === 1) return named[0]!;
          } else if (index.all.length === 1) {
            return index.all[0]!;
          }
          try {
            const short = await scope.once(`sessionOrganization:${session.nativeId.toLowerCase()}`, () =>
              this.client.getRestoreSessionOrganization(session.nativeId),
            );
            return index.byId.get(short.id.toLowerCase()) ?? vboOrganizationRecord(short);
          } catch (err) {
            return isNotFound(err) ? null : asError(err);
          }
        }),
      );
    });
  }

  /** VB365 lists events in their `order` and pages them by offset in every version (docs/veeam-wire.md Part 2 section 4). */
  listSessionEvents(sessionId: string, page: { offset: number; limit: number }): Promise<{ items: SessionEventRecord[]; hasMore: boolean }> {
    return this.events.run('listSessionEvents', async () => {
      const list = await this.client.listRestoreSessionEvents(sessionId, page);
      return { items: list.items.map((e) => vboEventRecord(sessionId, e)), hasMore: list.hasMore };
    });
  }

  allSessionEvents(sessionId: string, scope: RequestScope): Promise<SessionEventRecord[]> {
    return this.events.run('allSessionEvents', () =>
      scope.once(`events:${sessionId.toLowerCase()}`, async () => {
        const out: SessionEventRecord[] = [];
        for await (const page of this.client.iterateRestoreSessionEvents(sessionId)) out.push(...page.items.map((e) => vboEventRecord(sessionId, e)));
        return out;
      }),
    );
  }

  /** A token plus one cheap GET. */
  async ping(): Promise<void> {
    await this.events.run('ping', () => this.client.ping());
  }

  /** VB365 asks for a token before anything else, so any failure is at the logon step. */
  async check(): Promise<SourceCheck> {
    try {
      const ping = await this.client.ping();
      return { apiVersion: this.client.apiVersion, serverVersion: ping.serverVersion ?? null, latencyMs: ping.latencyMs };
    } catch (error) {
      return { apiVersion: this.client.apiVersion, serverVersion: null, latencyMs: null, failedAt: 'logon', error };
    }
  }

  circuit() {
    return this.client.circuit();
  }
  adoptCircuit(remote: RemoteCircuit) {
    this.client.adoptCircuit(remote);
  }

  grantStats() {
    return this.client.tokenStats();
  }

  subscribe(listener: Parameters<Source['subscribe']>[0]): () => void {
    return this.events.subscribe(listener);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private organizations(scope: RequestScope): Promise<OrganizationIndex> {
    return scope.once('organizations', async () => {
      const all = (await this.client.listOrganizations()).map(vboOrganizationRecord);
      const byId = new Map(all.map((o) => [o.nativeId.toLowerCase(), o]));
      const byName = new Map<string, OrganizationRecord[]>();
      for (const o of all) byName.set(o.name.toLowerCase(), [...(byName.get(o.name.toLowerCase()) ?? []), o]);
      return { all, byId, byName };
    });
  }
}
