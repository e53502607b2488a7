/**
 * The comparison of bench/compare.ts: what a typical hand-written gateway over the same Veeam
 * servers looks like. Apollo Server 5 (standalone HTTP server) + `@apollo/datasource-rest`, no
 * DataLoader, no merge bookkeeping: per request it lists the newest restore sessions of EVERY
 * server, concatenates, sorts by creation time, takes `first`, then resolves every link with its
 * own GET (EM: the session's `Up` BackupServerReference and `Related` VmRestorePointReference,
 * each `?format=Entity`; VB365: `_links.organization.href`).
 *
 * It caches its EM logon sessions and VB365 tokens across requests (every hand-written client
 * does) and nothing else: RESTDataSource's in-flight GET deduplication is turned off (one GET per
 * link; `dedupe: true` turns it back on), and the simulators send nothing its HTTP cache would
 * store (compare.ts checks that a repeated query costs as many requests as the first).
 *
 * EM answers JSON (`Accept: application/json`, the easiest form to hand-write against); its
 * UTF-8 BOM has to be stripped, which RESTDataSource does not do.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import {
  RESTDataSource,
  type DataSourceConfig,
  type DataSourceFetchResult,
  type RequestDeduplicationPolicy,
  type RequestOptions,
} from '@apollo/datasource-rest';
import type { SimDescriptor } from './simProcess.js';

export const BASELINE_TYPE_DEFS = `#graphql
  type Query {
    restoreSessions(first: Int): [Session!]!
  }
  type Session {
    id: ID!
    creationTime: String!
    "The configured server the session comes from."
    source: String!
    backupServer: BackupServer
    restorePoint: RestorePoint
    organization: Organization
  }
  type BackupServer {
    name: String!
  }
  type RestorePoint {
    creationTime: String
  }
  type Organization {
    name: String!
  }
`;

/** The baseline's form of the benchmark query. */
export const BASELINE_QUERY = `query Page($first: Int) {
  restoreSessions(first: $first) { id creationTime source backupServer { name } restorePoint { creationTime } organization { name } }
}`;

type FetcherResponse = DataSourceFetchResult<unknown>['response'];

interface Session {
  id: string;
  creationTime: string;
  time: number;
  source: string;
  backupServerHref?: string;
  restorePointHref?: string;
  organizationHref?: string;
}

/** Tokens and logon sessions, per server, shared by every request of one gateway instance. */
class Credentials {
  private readonly tokens = new Map<string, Promise<string>>();
  get(server: string, obtain: () => Promise<string>): Promise<string> {
    let token = this.tokens.get(server);
    if (!token) {
      token = obtain();
      this.tokens.set(server, token);
      token.catch(() => this.tokens.delete(server));
    }
    return token;
  }
  forget(server: string): void {
    this.tokens.delete(server);
  }
}

abstract class VeeamApi extends RESTDataSource {
  constructor(
    protected readonly server: SimDescriptor,
    protected readonly credentials: Credentials,
    private readonly dedupe: boolean,
    config: DataSourceConfig,
  ) {
    super(config);
  }

  protected abstract authHeaders(): Promise<Record<string, string>>;
  abstract newest(limit: number): Promise<Session[]>;

  protected override requestDeduplicationPolicyFor(url: URL, request: RequestOptions): RequestDeduplicationPolicy {
    return this.dedupe ? super.requestDeduplicationPolicyFor(url, request) : { policy: 'do-not-deduplicate' };
  }

  /** JSON with EM's leading BOM removed (RESTDataSource hands the raw text to JSON.parse). */
  protected override async parseBody(response: FetcherResponse): Promise<object | string> {
    const text = await response.text();
    return /json/.test(response.headers.get('content-type') ?? '') && text ? (JSON.parse(text.replace(/^\uFEFF/, '')) as object) : text;
  }

  /** An authenticated GET; one new logon and one replay when the server says 401. */
  async authedGet<T>(path: string): Promise<T> {
    try {
      return await this.get<T>(path, { headers: await this.authHeaders() });
    } catch (err) {
      if ((err as { extensions?: { response?: { status?: number } } }).extensions?.response?.status !== 401) throw err;
      this.credentials.forget(this.server.name);
      return this.get<T>(path, { headers: await this.authHeaders() });
    }
  }
}

interface EmLink {
  Rel: string;
  Type: string | null;
  Href: string;
}
interface EmSessionJson {
  UID: string;
  CreationTimeUTC: string;
  Links: EmLink[];
}

class EmApi extends VeeamApi {
  override baseURL = `${this.server.url.replace(/\/+$/, '')}/`;

  protected async authHeaders(): Promise<Record<string, string>> {
    const token = await this.credentials.get(this.server.name, async () => {
      const basic = Buffer.from(`${this.server.username}:${this.server.password}`).toString('base64');
      const { response } = await this.fetch('sessionMngr/?v=latest', { method: 'POST', headers: { authorization: `Basic ${basic}` } });
      const id = response.headers.get('x-restsvcsessionid');
      if (!id) throw new Error(`${this.server.name}: logon answered no X-RestSvcSessionId`);
      return id;
    });
    return { 'x-restsvcsessionid': token, accept: 'application/json' };
  }

  async newest(limit: number): Promise<Session[]> {
    const page = await this.authedGet<{ Entities?: { RestoreSessions?: { RestoreSessions?: EmSessionJson[] } } }>(
      `query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=${limit}`,
    );
    return (page.Entities?.RestoreSessions?.RestoreSessions ?? []).map((s) => {
      const link = (rel: string, type: string) => s.Links.find((l) => l.Rel === rel && l.Type === type)?.Href;
      const backupServerHref = link('Up', 'BackupServerReference');
      const restorePointHref = link('Related', 'VmRestorePointReference');
      return {
        id: s.UID,
        creationTime: s.CreationTimeUTC,
        time: Date.parse(s.CreationTimeUTC),
        source: this.server.name,
        ...(backupServerHref && { backupServerHref }),
        ...(restorePointHref && { restorePointHref }),
      };
    });
  }

  async backupServer(href: string): Promise<{ name: string }> {
    const entity = await this.authedGet<{ Name: string }>(`${href}?format=Entity`);
    return { name: entity.Name };
  }

  async restorePoint(href: string): Promise<{ creationTime: string | null }> {
    const entity = await this.authedGet<{ CreationTimeUTC?: string | null }>(`${href}?format=Entity`);
    return { creationTime: entity.CreationTimeUTC ?? null };
  }
}

interface VboSessionJson {
  id: string;
  creationTime: string;
  _links?: { organization?: { href: string } };
}
interface VboPage {
  results: VboSessionJson[];
  totalCount?: number;
}

class VboApi extends VeeamApi {
  override baseURL = `${this.server.url.replace(/\/+$/, '')}/`;
  private readonly version = this.server.apiVersion ?? 'v8';

  protected async authHeaders(): Promise<Record<string, string>> {
    const token = await this.credentials.get(this.server.name, async () => {
      const body = new URLSearchParams({ grant_type: 'password', username: this.server.username, password: this.server.password }).toString();
      const res = await this.post<{ access_token: string }>(`${this.version}/token`, {
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      return res.access_token;
    });
    return { authorization: `Bearer ${token}` };
  }

  /**
   * v8 orders on the server (`orderBy=CreationTime&orderAsc=false`). Older versions do not: their
   * pages come oldest first with a `totalCount`, so the newest are read at `totalCount - limit`.
   */
  async newest(limit: number): Promise<Session[]> {
    let page: VboPage;
    if (this.version === 'v8') {
      page = await this.authedGet<VboPage>(`${this.version}/RestoreSessions?limit=${limit}&orderBy=CreationTime&orderAsc=false`);
    } else {
      page = await this.authedGet<VboPage>(`${this.version}/RestoreSessions?limit=${limit}`);
      if (page.totalCount !== undefined && page.totalCount > limit) {
        page = await this.authedGet<VboPage>(`${this.version}/RestoreSessions?offset=${page.totalCount - limit}&limit=${limit}`);
      }
    }
    return page.results.map((s) => ({
      id: s.id,
      creationTime: s.creationTime,
      time: Date.parse(s.creationTime),
      source: this.server.name,
      ...(s._links?.organization && { organizationHref: s._links.organization.href }),
    }));
  }

  async organization(href: string): Promise<{ name: string }> {
    const org = await this.authedGet<{ name: string }>(href);
    return { name: org.name };
  }
}

interface Context {
  apis: Map<string, VeeamApi>;
}

export interface BaselineGateway {
  /** `http://127.0.0.1:PORT/` (Apollo's standalone server answers GraphQL on every path). */
  url: string;
  close(): Promise<void>;
}

/** Starts the baseline on 127.0.0.1, a free port, over these servers. */
export async function startBaselineGateway(servers: readonly SimDescriptor[], options: { dedupe?: boolean } = {}): Promise<BaselineGateway> {
  const credentials = new Credentials();
  const dedupe = options.dedupe ?? false;
  const resolvers = {
    Query: {
      restoreSessions: async (_: unknown, args: { first?: number | null }, ctx: Context): Promise<Session[]> => {
        const first = args.first ?? 50;
        const lists = await Promise.all([...ctx.apis.values()].map((api) => api.newest(first + 1)));
        return lists
          .flat()
          .sort((a, b) => b.time - a.time)
          .slice(0, first);
      },
    },
    Session: {
      backupServer: (s: Session, _: unknown, ctx: Context) => (s.backupServerHref ? (ctx.apis.get(s.source) as EmApi).backupServer(s.backupServerHref) : null),
      restorePoint: (s: Session, _: unknown, ctx: Context) => (s.restorePointHref ? (ctx.apis.get(s.source) as EmApi).restorePoint(s.restorePointHref) : null),
      organization: (s: Session, _: unknown, ctx: Context) => (s.organizationHref ? (ctx.apis.get(s.source) as VboApi).organization(s.organizationHref) : null),
    },
  };
  const server = new ApolloServer<Context>({ typeDefs: BASELINE_TYPE_DEFS, resolvers });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    // The usual pattern: fresh data sources per request over the server's shared cache.
    context: async () => ({
      apis: new Map(
        servers.map((s): [string, VeeamApi] => {
          const config = { cache: server.cache };
          return [s.name, s.kind === 'enterprise-manager' ? new EmApi(s, credentials, dedupe, config) : new VboApi(s, credentials, dedupe, config)];
        }),
      ),
    }),
  });
  return { url, close: () => server.stop() };
}
