import type { UpstreamError } from './errors.js';
import type { CircuitState, CircuitTransition, RemoteCircuit } from './http/CircuitBreaker.js';
import type { HttpRequestEvent } from './http/createHttpClient.js';

/**
 * The source contract: what the graph may ask of one configured Veeam server, in intentions and
 * domain records, never in one API's wire shapes (docs/architecture.md, "The source contract").
 *
 * Each upstream kind implements it in its own folder (`em/EmSource.ts`, `vbo/VboSource.ts`): EM
 * filter building, EM URNs and the VB365 paging per API version live there and nowhere else. The
 * graph merges, paginates and batches over `Source`s and knows no kind; the memory layer of later
 * issues wraps a `Source` in another `Source`.
 */

/** The configured server kinds (config `servers[].kind`), one row each in `src/sources/sourceKinds.ts`. */
export type SourceKind = 'enterprise-manager' | 'microsoft365';

/** A hypermedia link exactly as the server sent it (EM `<Link>`, VB365 HAL `_links`). */
export interface Link {
  rel: string;
  type: string | null;
  href: string;
  name: string | null;
}

/** Lifecycle state of a restore session, normalized across APIs. */
export type SessionState = 'STARTING' | 'WORKING' | 'STOPPING' | 'STOPPED' | 'UNKNOWN';
/** Outcome of a restore session, normalized across APIs. */
export type SessionResult = 'NONE' | 'SUCCESS' | 'WARNING' | 'FAILED' | 'UNKNOWN';

/**
 * Fields every record has. `nativeId` is the server's own id as it sent it; ids compare
 * case-insensitively (Veeam GUIDs), so the graph lower-cases them for keys.
 */
export interface RecordBase {
  nativeId: string;
  links: Link[];
  /** When and how fresh the record was read; set by the memory layer (absent: read just now). */
  freshness?: Freshness;
}

/** When data was read from its server, and whether it is served past its TTL because the server failed. */
export interface Freshness {
  /** Epoch ms of the read from the server. */
  asOf: number;
  /** True when served past its TTL because the server failed, was too slow, or its circuit is open. */
  stale: boolean;
  /** Why it is stale: the failure of the read that was attempted instead (reported, never hidden). */
  cause?: Error;
}

/** Times are ISO 8601 text as the server sent it (0-7 fraction digits, `Z` or an offset). */
type IsoTime = string;

/** The fields every restore session record has, whatever its kind. */
export interface RestoreSessionBase extends RecordBase {
  name: string | null;
  state: SessionState;
  /** As sent; null when the server sent none. */
  stateRaw: string | null;
  /** Null while the server reports no result. */
  result: SessionResult | null;
  resultRaw: string | null;
  creationTime: IsoTime;
  endTime: IsoTime | null;
}

/** A VM or file-level restore session of Enterprise Manager. */
export interface EmRestoreSessionRecord extends RestoreSessionBase {
  entity: 'EnterpriseManagerRestoreSession';
  jobType: string | null;
  vmDisplayName: string | null;
  progress: number | null;
  restoredObject: string | null;
  /** Native id of the backup server that ran it, on the same source; null when not linked. */
  backupServerId: string | null;
  /** Native id of the VM restore point it restores from, on the same source; null when not linked. */
  restorePointId: string | null;
}

/** An Exchange/OneDrive/SharePoint/Teams restore session of VB365. */
export interface M365RestoreSessionRecord extends RestoreSessionBase {
  entity: 'Microsoft365RestoreSession';
  /** `Vex`, `Veod`, `Vesp`, `Vet`, or what the server sent. */
  type: string | null;
  initiatedBy: string | null;
  details: string | null;
  scopeName: string | null;
  clientHost: string | null;
  reason: string | null;
  pointInTime: IsoTime | null;
  /** The organization's name as the session carries it (VB365 v6+), null before. */
  organizationName: string | null;
  /** Whether the session names its organization at all (by link or by name); see `Source.sessionOrganizations`. */
  hasOrganization: boolean;
}

export type RestoreSessionRecord = EmRestoreSessionRecord | M365RestoreSessionRecord;

export interface BackupServerRecord extends RecordBase {
  entity: 'BackupServer';
  name: string;
  description: string | null;
  port: number | null;
  version: string | null;
}

interface RestorePointBase extends RecordBase {
  /** The instant the point captures: the sort key of merged restore point lists. */
  pointInTime: IsoTime;
}

export interface VmRestorePointRecord extends RestorePointBase {
  entity: 'VmRestorePoint';
  creationTime: IsoTime;
  vmName: string | null;
  algorithm: string | null;
  pointType: string | null;
  hierarchyObjRef: string | null;
  backupServerId: string | null;
}

export interface M365RestorePointRecord extends RestorePointBase {
  entity: 'Microsoft365RestorePoint';
  backupTime: IsoTime;
  isExchange: boolean | null;
  isSharePoint: boolean | null;
  isOneDrive: boolean | null;
  isTeams: boolean | null;
  isLongTermCopy: boolean | null;
  organizationId: string | null;
}

export type RestorePointRecord = VmRestorePointRecord | M365RestorePointRecord;

export interface OrganizationRecord extends RecordBase {
  entity: 'Organization';
  name: string;
  type: string | null;
  region: string | null;
  isBackedUp: boolean | null;
  firstBackupTime: IsoTime | null;
  lastBackupTime: IsoTime | null;
}

/** One step of a restore session; events are addressed through their session. */
export interface SessionEventRecord extends RecordBase {
  entity: 'Microsoft365RestoreSessionEvent';
  sessionId: string;
  order: number;
  type: string | null;
  status: string | null;
  title: string | null;
  message: string | null;
  startTime: IsoTime | null;
  endTime: IsoTime | null;
  duration: string | null;
  itemName: string | null;
  itemType: string | null;
  itemSizeBytes: number | null;
  itemSource: string | null;
  itemTarget: string | null;
}

export type EntityRecord = RestoreSessionRecord | BackupServerRecord | RestorePointRecord | OrganizationRecord | SessionEventRecord;

/** Domain entities a source may hold, whatever its kind calls them. */
export type EntityKind = 'RestoreSession' | 'RestorePoint' | 'BackupServer' | 'Organization' | 'RestoreSessionEvent';

/** The concrete entity types of records (the schema's object types mirror them). */
export type EntityName = EntityRecord['entity'];

/** Which entity kind each concrete entity type is: what `lookup` and `listAll` are asked for. */
export const ENTITY_KIND: { readonly [N in EntityName]: EntityKind } = {
  EnterpriseManagerRestoreSession: 'RestoreSession',
  Microsoft365RestoreSession: 'RestoreSession',
  VmRestorePoint: 'RestorePoint',
  Microsoft365RestorePoint: 'RestorePoint',
  BackupServer: 'BackupServer',
  Organization: 'Organization',
  Microsoft365RestoreSessionEvent: 'RestoreSessionEvent',
};

/** Whether a source holds entities of `kind` (any concrete type of it). */
export function holds(description: SourceDescription, kind: EntityKind): boolean {
  for (const name of description.entities) if (ENTITY_KIND[name] === kind) return true;
  return false;
}

/** The record types behind each entity kind. */
export interface RecordOf {
  RestoreSession: RestoreSessionRecord;
  RestorePoint: RestorePointRecord;
  BackupServer: BackupServerRecord;
  Organization: OrganizationRecord;
  RestoreSessionEvent: SessionEventRecord;
}

/** Entity kinds that can be looked up by native id, several at once. */
export type LookupKind = 'RestoreSession' | 'RestorePoint' | 'BackupServer' | 'Organization';
/** Entity kinds listed whole (a handful per server). */
export type SmallListKind = 'BackupServer' | 'Organization';

/** Half-open creation-time window [fromMs, toMs) in epoch ms; null bounds are open. */
export interface TimeWindow {
  fromMs: number | null;
  toMs: number | null;
}

export type TimeOrder = 'NEWEST_FIRST' | 'OLDEST_FIRST';

/**
 * Conditions of a restore session list, as the graph received them. Absent = no restriction.
 * Ids are native ids on the asked source (the graph only asks the source an id belongs to).
 */
export interface SessionConditions {
  vmName?: string;
  backupServerId?: string;
  organizationId?: string;
  states?: ReadonlySet<SessionState>;
  /** `null` in the set stands for "no result yet". */
  results?: ReadonlySet<SessionResult | null>;
}

export type SessionCondition = keyof SessionConditions;

/** Conditions of a restore point list. */
export type PointConditions = Pick<SessionConditions, 'vmName' | 'backupServerId' | 'organizationId'>;
export type PointCondition = keyof PointConditions;

/**
 * One list request. The graph folds its keyset position into `window` and `limit` (see
 * `planSourceRequest`): upstream APIs bound by creation time only, so "after (t, source, id)"
 * becomes "created before t (+1 ms)" with enough `limit` to pass the ties.
 */
export interface ListQuery<C> {
  window: TimeWindow;
  order: TimeOrder;
  /** The first `limit` items of the window in `order` (ties in any order), or more. */
  limit: number;
  conditions: C;
}

export interface ListResult<T, C extends string> {
  /**
   * The first `limit` items (or more) of the window in `order`, ties in any order, items outside
   * the window already dropped. Conditions listed in `unapplied` are NOT applied to them.
   */
  items: T[];
  /** True when these are all the items of the window: the server has nothing more to give. */
  complete: boolean;
  /** Conditions the source could not apply; the graph applies them (after tie counting). */
  unapplied: ReadonlySet<C>;
  /** When the list was read (set by the memory layer; absent: read just now). */
  freshness?: Freshness;
}

/**
 * Request-scoped memory a source may use so that one GraphQL request reads a whole collection
 * (VB365 organizations, a v1-v3 session list) at most once. The graph makes one per request and
 * source; it never outlives the request.
 */
export interface RequestScope {
  once<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** What the request accepts and how long it may wait (read by the memory layer; adapters ignore it). */
  readonly policy: ReadPolicy;
}

/** A GraphQL request's freshness and time policy, from its HTTP headers and the config. */
export interface ReadPolicy {
  /** `Cache-Control: no-cache`: read every list and record from its server. */
  noCache: boolean;
  /** `Cache-Control: max-age=N`: accept data up to this old, ms (instead of each type's TTL). */
  maxAgeMs?: number;
  /**
   * The latency budget, ms: how long one read waits for its server before it is answered from
   * memory (stale) or reported as UPSTREAM_TIMEOUT. Per read, so the links read after a slow list
   * get their own time: a query with one hung server returns after about one budget.
   */
  budgetMs?: number;
  /** Aborted when the client goes away: upstream calls nobody else waits for are cancelled. */
  signal?: AbortSignal;
}

/** The policy of a request that says nothing: TTLs apply, no deadline. */
export const DEFAULT_READ_POLICY: ReadPolicy = Object.freeze({ noCache: false });

/** A `RequestScope`: one promise per key for the life of one request (failures included, like DataLoader). */
export function createRequestScope(policy: ReadPolicy = DEFAULT_READ_POLICY): RequestScope {
  const memo = new Map<string, Promise<unknown>>();
  return {
    policy,
    once<T>(key: string, load: () => Promise<T>): Promise<T> {
      let p = memo.get(key) as Promise<T> | undefined;
      if (p === undefined) {
        p = load();
        memo.set(key, p);
      }
      return p;
    },
  };
}

/** What a source can do, fixed for its configuration. */
export interface SourceDescription {
  kind: SourceKind;
  /** The configured or negotiated API version, when known without a call. */
  apiVersion: string | undefined;
  /** Entity types this source holds. A type it lacks is never asked for (lists SKIPPED, lookups null). */
  entities: ReadonlySet<EntityName>;
  /**
   * Session conditions that can hold for this source's sessions at all. A query with another one
   * (a VM name for Microsoft 365 sessions) matches nothing here, so the source is not asked.
   */
  sessionConditions: ReadonlySet<SessionCondition>;
  /** Restore point conditions that can hold for this source's points at all. */
  pointConditions: ReadonlySet<PointCondition>;
}

/** What `check()` found: the CLI's per-server verdict. */
export interface SourceCheck {
  /** The step that failed, when one did: `reach` (no logon was tried) or `logon`. */
  failedAt?: 'reach' | 'logon';
  error?: unknown;
  /** EM: the newest advertised version; VB365: the configured one. */
  apiVersion: string | null;
  /** The product build, when the API tells it. */
  serverVersion: string | null;
  /** Latency of one GET when the source measured it, ms. */
  latencyMs: number | null;
}

/** Token endpoint counters of sources that use OAuth grants (VB365). */
export interface GrantStats {
  passwordGrants: number;
  refreshGrants: number;
  refreshFallbacks: number;
  throttled: number;
}

/**
 * Outcome events of a source. Health tracking and metrics subscribe to them, so no caller has to
 * remember to report a failure.
 * - `http`: every HTTP attempt (latency, status, retries);
 * - `success` / `failure`: every contract call, with the `UpstreamError` it failed with;
 * - `logon`: every logon or token request (`renewal` for re-logons and refreshes);
 * - `cache`: every read of the memory layer (`what`: the entity or list kind).
 */
export type SourceEvent =
  | { type: 'http'; source: string; request: HttpRequestEvent }
  | { type: 'success'; source: string; operation: string }
  | { type: 'failure'; source: string; operation: string; error: UpstreamError }
  | { type: 'logon'; source: string; logon: string; outcome: 'success' | 'failure'; renewal: boolean }
  | { type: 'cache'; source: string; what: string; outcome: 'hit' | 'miss' | 'stale' | 'coalesced' | 'revalidate' }
  /** The server's circuit breaker changed (`remote`: adopted from another replica). */
  | { type: 'circuit'; source: string; transition: CircuitTransition };

/**
 * Health of one source as the gateway's calls to it found it (tracked from its events by
 * `src/sources/trackHealth.ts`, never probed on its own).
 */
export interface SourceHealth {
  status: 'UNKNOWN' | 'UP' | 'DOWN';
  /** Duration of the last HTTP attempt, ms (failed ones included). */
  lastLatencyMs?: number;
  /** The last failure; cleared by the next success. `code` is an `UpstreamErrorCode`. */
  lastError?: { code: string; message: string; at: string; httpStatus?: number; retryable?: boolean };
  /** When the last call finished, ISO 8601. */
  lastCheckedAt?: string;
  /** The circuit breaker; while not `closed`, `status` is DOWN and `lastError.code` UPSTREAM_CIRCUIT_OPEN. */
  circuit: { state: 'closed' | 'open' | 'half-open'; openedAt?: string; until?: string };
}

/** One configured server, as the graph sees it. */
export interface Source {
  /** Configured name, unique in the gateway. */
  readonly name: string;
  readonly kind: SourceKind;
  /** Base URL as configured, without credentials. */
  readonly url: string;

  describe(): SourceDescription;
  /** Reads the API version when `describe()` cannot tell it without a call (EM: `GET /api/`). */
  resolveApiVersion(): Promise<string | undefined>;

  /** Restore sessions of the window, per `ListQuery`. */
  listRestoreSessions(query: ListQuery<SessionConditions>, scope: RequestScope): Promise<ListResult<RestoreSessionRecord, SessionCondition>>;
  /** Restore points of the window, per `ListQuery`. */
  listRestorePoints(query: ListQuery<PointConditions>, scope: RequestScope): Promise<ListResult<RestorePointRecord, PointCondition>>;
  /** Every backup server or organization of the source. */
  listAll<K extends SmallListKind>(kind: K, scope: RequestScope): Promise<RecordOf[K][]>;
  /**
   * Records by native id, as few calls as the API allows. The map is keyed by lower-case id;
   * unknown ids are absent; an `Error` value is that id's own failure.
   */
  lookup<K extends LookupKind>(kind: K, ids: readonly string[], scope: RequestScope): Promise<Map<string, RecordOf[K] | Error>>;
  /** The organization each session restores from, in order; null when it has none or it is gone. */
  sessionOrganizations(sessions: readonly RestoreSessionRecord[], scope: RequestScope): Promise<(OrganizationRecord | null | Error)[]>;
  /** A page of a session's events, in their order. */
  listSessionEvents(
    sessionId: string,
    page: { offset: number; limit: number },
    scope: RequestScope,
  ): Promise<{ items: SessionEventRecord[]; hasMore: boolean; freshness?: Freshness }>;
  /** Every event of a session, read once per scope. */
  allSessionEvents(sessionId: string, scope: RequestScope): Promise<SessionEventRecord[]>;

  /** The cheapest call proving the server answers (readiness). */
  ping(): Promise<void>;
  /** Reachability, logon and version, step by step (CLI `check`); never throws. */
  check(): Promise<SourceCheck>;
  /** The circuit breaker of this server. */
  circuit(): CircuitState;
  /** Takes another replica's breaker state of this server (replicas sharing Redis skip a server one of them found down). */
  adoptCircuit(remote: RemoteCircuit): void;
  /** Token counters, for sources with OAuth grants. */
  grantStats(): GrantStats | undefined;
  /** Subscribes to outcome events; returns the unsubscribe function. */
  subscribe(listener: (event: SourceEvent) => void): () => void;
  /** Logs off / out; idempotent. */
  close(): Promise<void>;
}

/**
 * A change of one server's restore sessions, as the live poller saw it (`src/sources/live`):
 * `STARTED` (a session new since the last poll), `UPDATED` (a running session's fields changed;
 * `changed` names them as the record does), `FINISHED` (it stopped, with its result); or the server
 * going down (`SOURCE_DOWN`, with the error) and coming back (`SOURCE_UP`).
 */
export type LiveEvent =
  | { type: 'STARTED' | 'UPDATED' | 'FINISHED'; source: string; session: RestoreSessionRecord; changed: readonly string[]; at: number }
  | { type: 'SOURCE_DOWN'; source: string; error: Error; at: number }
  | { type: 'SOURCE_UP'; source: string; at: number };

/** Live session changes of the configured servers: one poller per server, however many listeners. */
export interface LiveFeed {
  /** Listens to these servers' changes; a server's poller starts with its first listener and stops after its last. Returns the stop function. */
  listen(sources: readonly string[], listener: (event: LiveEvent) => void): () => void;
}

export type { RemoteCircuit } from './http/CircuitBreaker.js';

// Times in records are wire text; these read them the same way for every kind.
export { toDateTime, wireTimeMs } from './wireTime.js';
