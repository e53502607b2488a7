import { describe, expect, it } from '@jest/globals';
import { ApolloServer } from '@apollo/server';
import pino from 'pino';
import { createGraph } from '../../src/graph/createGraph.js';
import type { GraphContext } from '../../src/graph/GraphContext.js';
import type {
  BackupServerRecord,
  EmRestoreSessionRecord,
  ListQuery,
  ListResult,
  LookupKind,
  RecordOf,
  RestoreSessionRecord,
  SessionCondition,
  SessionConditions,
  Source,
  SourceEvent,
  SourceHealth,
} from '../../src/upstream/Source.js';

/**
 * The graph depends on the source contract alone: an in-memory source (no HTTP, no EM or VB365
 * code) is merged into `restoreSessions` and its links resolve, batched through `lookup`.
 */
class FakeSource implements Source {
  readonly kind = 'enterprise-manager' as const;
  readonly url: string;
  readonly calls: string[] = [];
  private readonly servers: BackupServerRecord[];

  constructor(
    readonly name: string,
    private readonly sessions: EmRestoreSessionRecord[],
  ) {
    this.url = `memory://${name}`;
    this.servers = [...new Set(sessions.map((s) => s.backupServerId!))].map((id) => ({
      entity: 'BackupServer',
      nativeId: id,
      links: [],
      name: `${name}-${id}`,
      description: null,
      port: null,
      version: null,
    }));
  }

  describe() {
    return {
      kind: this.kind,
      apiVersion: 'fake-1',
      entities: new Set(['EnterpriseManagerRestoreSession', 'BackupServer'] as const),
      sessionConditions: new Set<SessionCondition>(['states', 'results']),
      pointConditions: new Set<never>(),
    };
  }
  async resolveApiVersion() {
    return 'fake-1';
  }
  async listRestoreSessions(query: ListQuery<SessionConditions>): Promise<ListResult<RestoreSessionRecord, SessionCondition>> {
    this.calls.push(`list ${query.limit}`);
    const t = (s: EmRestoreSessionRecord) => Date.parse(s.creationTime);
    const within = this.sessions.filter(
      (s) => (query.window.fromMs === null || t(s) >= query.window.fromMs) && (query.window.toMs === null || t(s) < query.window.toMs),
    );
    within.sort((a, b) => (query.order === 'NEWEST_FIRST' ? t(b) - t(a) : t(a) - t(b)));
    // This source filters nothing itself: the graph must apply states and results.
    const unapplied = new Set(Object.keys(query.conditions) as SessionCondition[]);
    return { items: within.slice(0, query.limit), complete: within.length <= query.limit, unapplied };
  }
  async listRestorePoints() {
    return { items: [], complete: true, unapplied: new Set<never>() };
  }
  async listAll<K extends 'BackupServer' | 'Organization'>(kind: K): Promise<RecordOf[K][]> {
    return (kind === 'BackupServer' ? this.servers : []) as RecordOf[K][];
  }
  async lookup<K extends LookupKind>(kind: K, ids: readonly string[]): Promise<Map<string, RecordOf[K] | Error>> {
    this.calls.push(`lookup ${kind} ${ids.length}`);
    const all: readonly { nativeId: string }[] = kind === 'BackupServer' ? this.servers : kind === 'RestoreSession' ? this.sessions : [];
    return new Map(all.filter((r) => ids.includes(r.nativeId.toLowerCase())).map((r) => [r.nativeId.toLowerCase(), r as RecordOf[K]]));
  }
  async sessionOrganizations(sessions: readonly RestoreSessionRecord[]) {
    return sessions.map(() => null);
  }
  async listSessionEvents() {
    return { items: [], hasMore: false };
  }
  async allSessionEvents() {
    return [];
  }
  async ping() {}
  async check() {
    return { apiVersion: 'fake-1', serverVersion: null, latencyMs: null };
  }
  circuit() {
    return { circuit: 'closed' as const, consecutiveFailures: 0, probeInFlight: false };
  }
  adoptCircuit() {}
  grantStats() {
    return undefined;
  }
  subscribe(_listener: (event: SourceEvent) => void) {
    return () => {};
  }
  async close() {}
}

function session(id: string, minute: number, backupServerId: string, state: 'WORKING' | 'STOPPED'): EmRestoreSessionRecord {
  return {
    entity: 'EnterpriseManagerRestoreSession',
    nativeId: id,
    links: [{ rel: 'Up', type: 'BackupServerReference', href: `memory://bs/${backupServerId}`, name: null }],
    name: `session ${id}`,
    state,
    stateRaw: state === 'WORKING' ? 'Working' : 'Stopped',
    result: state === 'WORKING' ? 'NONE' : 'SUCCESS',
    resultRaw: null,
    creationTime: new Date(Date.UTC(2026, 10, 1, 12, minute)).toISOString(),
    endTime: null,
    jobType: 'RestoreVm',
    vmDisplayName: 'vm',
    progress: 50,
    restoredObject: null,
    backupServerId,
    restorePointId: null,
  };
}

const QUERY = `query($first: Int, $filter: RestoreSessionFilter) {
  restoreSessions(first: $first, filter: $filter) {
    nodes { nativeId source { name kind status } ... on EnterpriseManagerRestoreSession { backupServer { name } } }
    pageInfo { hasNextPage }
    outcomes { source { name } status contributed }
  }
}`;

async function graphOver(sources: FakeSource[]) {
  const health = (): SourceHealth => ({ status: 'UP', circuit: { state: 'closed' } });
  const graph = createGraph({ sources, health, limits: { defaultPageSize: 50, maxPageSize: 100 }, logger: pino({ level: 'silent' }) });
  const server = new ApolloServer<GraphContext>({ typeDefs: graph.typeDefs, resolvers: graph.resolvers as never, plugins: graph.plugins });
  await server.start();
  return {
    run: async (variables: Record<string, unknown>) => {
      const res = await server.executeOperation({ query: QUERY, variables }, { contextValue: graph.createContext() });
      if (res.body.kind !== 'single') throw new Error('expected a single result');
      return res.body.singleResult as { data?: { restoreSessions: Record<string, unknown> }; errors?: unknown };
    },
    stop: () => server.stop(),
  };
}

describe('the graph over the source contract alone', () => {
  it('merges fake sources into one ordered page and resolves their links in one lookup per source', async () => {
    const a = new FakeSource('alpha', [session('a1', 1, 'b1', 'STOPPED'), session('a2', 4, 'b1', 'WORKING'), session('a3', 6, 'b2', 'STOPPED')]);
    const b = new FakeSource('beta', [session('b1', 2, 'x1', 'STOPPED'), session('b2', 5, 'x1', 'STOPPED')]);
    const g = await graphOver([a, b]);
    const r = await g.run({ first: 4 });
    expect(r.errors).toBeUndefined();
    const page = r.data!.restoreSessions as {
      nodes: { nativeId: string; source: { name: string; kind: string; status: string }; backupServer: { name: string } | null }[];
      pageInfo: { hasNextPage: boolean };
      outcomes: { source: { name: string }; status: string; contributed: number }[];
    };
    expect(page.nodes.map((n) => n.nativeId)).toEqual(['a3', 'b2', 'a2', 'b1']);
    expect(page.nodes.map((n) => n.backupServer?.name)).toEqual(['alpha-b2', 'beta-x1', 'alpha-b1', 'beta-x1']);
    expect(page.nodes[0]!.source).toEqual({ name: 'alpha', kind: 'ENTERPRISE_MANAGER', status: 'UP' });
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(page.outcomes).toEqual([
      { source: { name: 'alpha' }, status: 'OK', contributed: 2 },
      { source: { name: 'beta' }, status: 'OK', contributed: 2 },
    ]);
    // One list per source (first + 1), then one batched lookup per source for every link of the page.
    expect(a.calls).toEqual(['list 5', 'lookup BackupServer 2']);
    expect(b.calls).toEqual(['list 5', 'lookup BackupServer 1']);
    await g.stop();
  });

  it('applies the conditions a source reports unapplied', async () => {
    const a = new FakeSource('alpha', [session('a1', 1, 'b1', 'STOPPED'), session('a2', 4, 'b1', 'WORKING'), session('a3', 6, 'b2', 'STOPPED')]);
    const g = await graphOver([a]);
    const r = await g.run({ first: 10, filter: { states: ['WORKING'] } });
    expect(r.errors).toBeUndefined();
    expect((r.data!.restoreSessions as { nodes: { nativeId: string }[] }).nodes.map((n) => n.nativeId)).toEqual(['a2']);
    await g.stop();
  });
});
