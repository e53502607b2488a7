import { sessionBase, wireSpelling } from '../sessionStatus.js';
import { readUpTo } from '../readUpTo.js';
import { SourceEventHub } from '../SourceEventHub.js';
import type {
  BackupServerRecord,
  EmRestoreSessionRecord,
  ListQuery,
  ListResult,
  LookupKind,
  PointCondition,
  PointConditions,
  RecordOf,
  RestorePointRecord,
  RestoreSessionRecord,
  SessionCondition,
  SessionConditions,
  Source,
  SourceCheck,
  SourceDescription,
  TimeOrder,
  TimeWindow,
  VmRestorePointRecord,
  RemoteCircuit,
} from '../Source.js';
import { EmClient, type EmClientOptions } from './EmClient.js';
import { emLinks, linkedId } from './emLinks.js';
import { and, emDate, eq, ge, lt, or, type EmFilter } from './emFilter.js';
import type { EmBackupServer, EmEntityKind, EmEntityKinds, EmQueryResult, EmRestoreSession, EmVmRestorePoint } from './types.js';

/** The query-service entity kind behind each lookup kind EM has. */
const EM_KIND: Partial<Record<LookupKind, EmEntityKind>> = {
  RestoreSession: 'RestoreSession',
  BackupServer: 'BackupServer',
  RestorePoint: 'VmRestorePoint',
};

const DESCRIPTION_BASE = {
  kind: 'enterprise-manager',
  entities: new Set(['EnterpriseManagerRestoreSession', 'VmRestorePoint', 'BackupServer'] as const),
  sessionConditions: new Set(['vmName', 'backupServerId', 'states', 'results'] as const),
  pointConditions: new Set(['vmName', 'backupServerId'] as const),
} as const;

const NOTHING_UNAPPLIED: ReadonlySet<never> = new Set();

export function emSessionRecord(s: EmRestoreSession): EmRestoreSessionRecord {
  return {
    entity: 'EnterpriseManagerRestoreSession',
    ...sessionBase(s, emLinks(s.links)),
    jobType: s.jobType ?? null,
    vmDisplayName: s.vmDisplayName ?? null,
    progress: s.progress ?? null,
    restoredObject: s.restoredObjRef ?? null,
    backupServerId: linkedId(s.links, 'Up', 'BackupServerReference'),
    restorePointId: linkedId(s.links, 'Related', 'VmRestorePointReference'),
  };
}

export function emBackupServerRecord(b: EmBackupServer): BackupServerRecord {
  return {
    entity: 'BackupServer',
    nativeId: b.id,
    links: emLinks(b.links),
    name: b.name,
    description: b.description ?? null,
    port: b.port ?? null,
    version: b.version ?? null,
  };
}

export function emRestorePointRecord(p: EmVmRestorePoint): VmRestorePointRecord {
  return {
    entity: 'VmRestorePoint',
    nativeId: p.id,
    links: emLinks(p.links),
    pointInTime: p.creationTime,
    creationTime: p.creationTime,
    vmName: p.vmName ?? null,
    algorithm: p.algorithm ?? null,
    pointType: p.pointType ?? null,
    hierarchyObjRef: p.hierarchyObjRef ?? null,
    backupServerId: linkedId(p.links, 'Up', 'BackupServerReference'),
  };
}

const RECORD_OF: { [K in EmEntityKind]: (value: EmEntityKinds[K]) => RecordOf[LookupKind] } = {
  RestoreSession: emSessionRecord,
  BackupServer: emBackupServerRecord,
  VmRestorePoint: emRestorePointRecord,
};

/** The creation-time window of the query service: `CreationTime>=` / `CreationTime<`, half-open like the graph's. */
function windowParts(window: TimeWindow): EmFilter[] {
  const parts: EmFilter[] = [];
  if (window.fromMs !== null) parts.push(ge('CreationTime', emDate(new Date(window.fromMs))));
  if (window.toMs !== null) parts.push(lt('CreationTime', emDate(new Date(window.toMs))));
  return parts;
}

/** `BackupServerUid` takes the URN form of the id (docs/veeam-wire.md Part 1 sections 5 and 7). */
const backupServerUid = (id: string): string => `urn:veeam:BackupServer:${id}`;

/**
 * The source contract over one Enterprise Manager (docs/veeam-wire.md Part 1). Everything a list
 * asks is pushed down to the query service (section 5): the window, the VM name, the backup server,
 * states and results, sorted by CreationTime; user text only ever travels as a quoted value of the
 * filter AST. Lookups by id are one `UID=="..",UID==".."` call per kind (chunked by URL length).
 */
export class EmSource implements Source {
  readonly kind = 'enterprise-manager' as const;
  readonly name: string;
  readonly url: string;
  private readonly client: EmClient;
  private readonly events: SourceEventHub;

  /** @param options the client's options; `onRequest` is the source's own (subscribe instead) */
  constructor(options: Omit<EmClientOptions, 'onRequest' | 'onCircuit'> & { publicUrl: string }) {
    this.name = options.name;
    this.url = options.publicUrl;
    // Logons are `POST /api/sessionMngr/` (docs/veeam-wire.md Part 1 section 2).
    this.events = new SourceEventHub(options.name, (e) => (e.method === 'POST' && /\/sessionMngr\/?(\?|$)/i.test(e.path) ? 'em_logon' : undefined));
    this.client = new EmClient({ ...options, onRequest: this.events.http, onCircuit: this.events.circuit });
  }

  describe(): SourceDescription {
    return { ...DESCRIPTION_BASE, apiVersion: this.client.apiVersion };
  }

  resolveApiVersion(): Promise<string | undefined> {
    return this.client.resolveApiVersion();
  }

  listRestoreSessions(query: ListQuery<SessionConditions>): Promise<ListResult<RestoreSessionRecord, SessionCondition>> {
    return this.events.run('listRestoreSessions', async () => {
      const c = query.conditions;
      const parts = windowParts(query.window);
      const unapplied = new Set<SessionCondition>();
      if (c.vmName !== undefined) parts.push(eq('VmDisplayName', c.vmName));
      if (c.backupServerId !== undefined) parts.push(eq('BackupServerUid', backupServerUid(c.backupServerId)));
      // UNKNOWN has no wire spelling: such a condition is left to the graph.
      if (c.states !== undefined) {
        if (c.states.has('UNKNOWN')) unapplied.add('states');
        else parts.push(or(...[...c.states].map((s) => eq('State', wireSpelling(s)))));
      }
      if (c.results !== undefined) {
        if (c.results.has('UNKNOWN')) unapplied.add('results');
        else parts.push(or(...[...c.results].map((r) => eq('Result', wireSpelling(r ?? 'NONE')))));
      }
      const read = await this.queryUpTo('RestoreSession', query.limit, query.order, parts);
      return { items: read.items.map(emSessionRecord), complete: read.complete, unapplied };
    });
  }

  listRestorePoints(query: ListQuery<PointConditions>): Promise<ListResult<RestorePointRecord, PointCondition>> {
    return this.events.run('listRestorePoints', async () => {
      const c = query.conditions;
      const parts = windowParts(query.window);
      if (c.vmName !== undefined) parts.push(eq('VmName', c.vmName));
      if (c.backupServerId !== undefined) parts.push(eq('BackupServerUid', backupServerUid(c.backupServerId)));
      const read = await this.queryUpTo('VmRestorePoint', query.limit, query.order, parts);
      return { items: read.items.map(emRestorePointRecord), complete: read.complete, unapplied: NOTHING_UNAPPLIED };
    });
  }

  listAll<K extends 'BackupServer' | 'Organization'>(kind: K): Promise<RecordOf[K][]> {
    if (kind !== 'BackupServer') return Promise.resolve([]);
    return this.events.run('listBackupServers', async () => (await this.client.listBackupServers()).map(emBackupServerRecord) as RecordOf[K][]);
  }

  lookup<K extends LookupKind>(kind: K, ids: readonly string[]): Promise<Map<string, RecordOf[K] | Error>> {
    const emKind = EM_KIND[kind];
    if (emKind === undefined) return Promise.resolve(new Map());
    return this.events.run(`lookup${kind}`, async () => {
      const found = await this.client.getByUids(emKind, ids);
      // getByUids keys its map by canonical URN; the contract keys by lower-case native id.
      const out = new Map<string, RecordOf[K] | Error>();
      const toRecord = RECORD_OF[emKind] as (value: unknown) => RecordOf[K];
      for (const id of ids) {
        const value = found.get(`urn:veeam:${emKind}:${id.toLowerCase()}`);
        if (value !== undefined) out.set(id.toLowerCase(), toRecord(value));
      }
      return out;
    });
  }

  /** EM sessions belong to no organization. */
  sessionOrganizations(sessions: readonly RestoreSessionRecord[]): Promise<null[]> {
    return Promise.resolve(sessions.map(() => null));
  }

  /** EM sessions have no event list. */
  listSessionEvents(): Promise<{ items: never[]; hasMore: boolean }> {
    return Promise.resolve({ items: [], hasMore: false });
  }

  allSessionEvents(): Promise<never[]> {
    return Promise.resolve([]);
  }

  /** The unauthenticated `GET /api/` (docs/veeam-wire.md Part 1 section 1). */
  async ping(): Promise<void> {
    await this.events.run('ping', () => this.client.ping());
  }

  /** `GET /api/` first, so "reachable, TLS, version" are told apart from "logon"; then a logon. */
  async check(): Promise<SourceCheck> {
    const none = { apiVersion: null, serverVersion: null, latencyMs: null };
    let latestVersion: string | undefined;
    try {
      latestVersion = (await this.client.ping()).latestVersion;
    } catch (error) {
      return { ...none, failedAt: 'reach', error };
    }
    const reached = { ...none, apiVersion: latestVersion ?? null };
    try {
      await this.client.getLogonInfo();
    } catch (error) {
      return { ...reached, failedAt: 'logon', error };
    }
    return reached;
  }

  circuit() {
    return this.client.circuit();
  }
  adoptCircuit(remote: RemoteCircuit) {
    this.client.adoptCircuit(remote);
  }

  grantStats(): undefined {
    return undefined;
  }

  subscribe(listener: Parameters<Source['subscribe']>[0]): () => void {
    return this.events.subscribe(listener);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /**
   * One query-service listing sorted by CreationTime in `order`, `pageSize` = `limit`, read until
   * `limit` items or its last page (Next links followed should EM cap the page).
   */
  private async queryUpTo<K extends 'RestoreSession' | 'VmRestorePoint'>(
    kind: K,
    limit: number,
    order: TimeOrder,
    parts: EmFilter[],
  ): Promise<{ items: EmEntityKinds[K][]; complete: boolean }> {
    const sort = order === 'NEWEST_FIRST' ? { sortDesc: 'CreationTime' } : { sortAsc: 'CreationTime' };
    const read = await readUpTo<EmQueryResult<EmEntityKinds[K]>, EmEntityKinds[K]>(
      limit,
      () => this.client.query(kind, { ...sort, ...(parts.length > 0 && { filter: and(...parts) }), pageSize: limit }),
      (last) => this.client.nextPage(last),
    );
    const paging = read.last.paging;
    return { items: read.items, complete: read.ended || (paging !== undefined && paging.pageNum >= paging.pagesCount) };
  }
}
