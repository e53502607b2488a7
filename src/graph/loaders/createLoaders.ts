import DataLoader from 'dataloader';
import type { EmEntityKind, EmEntityKinds } from '../../upstream/em/types.js';
import { isUpstreamError } from '../../upstream/errors.js';
import type { VboOrganization, VboRestorePoint, VboRestoreSession, VboRestoreSessionEvent } from '../../upstream/vbo/types.js';
import type { EmGraphSource, VboGraphSource } from '../sources/createSources.js';

/** A key that the upstream did not return: the entity does not exist (any more) on that server. */
export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** Organizations of one VB365 server, indexed. */
export interface OrganizationIndex {
  all: VboOrganization[];
  byId: Map<string, VboOrganization>;
  /** By name, lower case; several when names repeat (then a name does not identify one). */
  byName: Map<string, VboOrganization[]>;
}

export interface CreateLoadersOptions {
  /** Bypass batching and caching: one upstream call per link (the benchmark's comparison). */
  naive?: boolean;
  /** Called once per executed batch with its key count (metrics). */
  onLoaderBatch?: (loader: string, size: number) => void;
}

export interface Loaders {
  /**
   * An EM entity by GUID on the server it was linked from. Batched: every key of one tick becomes
   * ONE query-service call per (server, kind) (`UID=="..",UID==".."`, chunked only by URL length
   * in `EmClient.getByUids`). Null when the server does not know the id. Naive mode GETs `href`.
   */
  emEntity<K extends EmEntityKind>(source: EmGraphSource, kind: K, guid: string, href?: string): Promise<EmEntityKinds[K] | null>;
  /** Every organization of a VB365 server: one list call per server per request. */
  organizations(source: VboGraphSource): Promise<OrganizationIndex>;
  /**
   * The organization a VB365 restore session restores from, resolved on that session's server.
   * v6+ sessions carry the organization's name: it is looked up in the per-request organization
   * list (one call for any number of sessions). Before v6 a session only links
   * `/RestoreSessions/{id}/organization`: when the server has a single organization that is the
   * answer without further calls; otherwise that link is followed per session (deduplicated per
   * request), the only correct way these versions offer. A name that several organizations share
   * is resolved the same way.
   */
  sessionOrganization(source: VboGraphSource, session: VboRestoreSession): Promise<VboOrganization | null>;
  /** A VB365 restore session by id (no batch API exists: deduplicated per request). */
  vboSession(source: VboGraphSource, id: string): Promise<VboRestoreSession | null>;
  /** Every restore session of a VB365 server (v1-v3 cannot filter: read once per request, then filtered here). */
  vboAllSessions(source: VboGraphSource): Promise<VboRestoreSession[]>;
  /** Every restore point of a VB365 server (v6+), for lookups by id (the API has no route for one point). */
  vboAllRestorePoints(source: VboGraphSource): Promise<VboRestorePoint[]>;
  /**
   * Every event of one VB365 restore session, read once per request: federation references to
   * many events of a session (the API has no route for one event) cost one listing, not one each.
   */
  vboSessionEvents(source: VboGraphSource, sessionId: string): Promise<VboRestoreSessionEvent[]>;
}

const GUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The last GUID of an EM href or URN, lower case (`.../backupServers/<guid>?format=Entity`, `urn:veeam:BackupServer:<guid>`). */
export function guidOf(text: string): string | undefined {
  return text.split('?')[0]!.match(GUIDS)?.at(-1)?.toLowerCase();
}

function isNotFound(error: unknown): boolean {
  return isUpstreamError(error) && error.status === 404;
}

/**
 * Loaders for one request (never shared between requests, design.md section 6), keyed by
 * (source, entity, id): the maps below hold one DataLoader or one promise per server and kind.
 */
export function createLoaders(options: CreateLoadersOptions = {}): Loaders {
  const naive = options.naive === true;
  const emLoaders = new Map<string, DataLoader<string, unknown>>();
  const memo = new Map<string, Promise<unknown>>();
  const vboSessionLoaders = new Map<string, DataLoader<string, VboRestoreSession>>();
  const sessionOrgLoaders = new Map<string, DataLoader<string, VboOrganization>>();

  const once = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = load();
      memo.set(key, p);
    }
    return p;
  };

  const emLoader = <K extends EmEntityKind>(source: EmGraphSource, kind: K): DataLoader<string, EmEntityKinds[K]> => {
    const key = `${source.name}\u0000${kind}`;
    let loader = emLoaders.get(key) as DataLoader<string, EmEntityKinds[K]> | undefined;
    if (loader === undefined) {
      loader = new DataLoader<string, EmEntityKinds[K]>(async (guids) => {
        options.onLoaderBatch?.(`em.${kind}`, guids.length);
        const found = await source.client.getByUids(kind, guids);
        // getByUids keys its map by canonical URN; answer in key order, an Error for each missing key.
        return guids.map((guid) => found.get(`urn:veeam:${kind}:${guid}`) ?? new NotFoundError(`${kind} ${guid} on ${source.name}`));
      });
      emLoaders.set(key, loader as DataLoader<string, unknown>);
    }
    return loader;
  };

  const organizations = (source: VboGraphSource): Promise<OrganizationIndex> =>
    once(`${source.name}\u0000organizations`, async () => {
      options.onLoaderBatch?.('vbo.organizations', 1);
      const all = await source.client.listOrganizations();
      const byId = new Map(all.map((o) => [o.id.toLowerCase(), o]));
      const byName = new Map<string, VboOrganization[]>();
      for (const o of all) byName.set(o.name.toLowerCase(), [...(byName.get(o.name.toLowerCase()) ?? []), o]);
      return { all, byId, byName };
    });

  const sessionOrgLoader = (source: VboGraphSource): DataLoader<string, VboOrganization> => {
    let loader = sessionOrgLoaders.get(source.name);
    if (loader === undefined) {
      loader = new DataLoader<string, VboOrganization>((ids) => {
        options.onLoaderBatch?.('vbo.sessionOrganization', ids.length);
        return Promise.all(
          ids.map((id) => source.client.getRestoreSessionOrganization(id).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))),
        );
      });
      sessionOrgLoaders.set(source.name, loader);
    }
    return loader;
  };

  return {
    async emEntity(source, kind, guid, href) {
      try {
        if (naive && href !== undefined) return await source.client.getByHref(href, kind);
        return await emLoader(source, kind).load(guid.toLowerCase());
      } catch (err) {
        if (err instanceof NotFoundError || isNotFound(err)) return null;
        throw err;
      }
    },

    organizations,

    async sessionOrganization(source, session) {
      if (naive) {
        // One call per session: what a client without the organization list does.
        const short = await source.client.getRestoreSessionOrganization(session.id);
        return short;
      }
      const index = await organizations(source);
      if (session.organizationName !== undefined) {
        const named = index.byName.get(session.organizationName.toLowerCase());
        if (named?.length === 1) return named[0]!;
      } else if (index.all.length === 1) {
        return index.all[0]!;
      }
      try {
        const short = await sessionOrgLoader(source).load(session.id);
        return index.byId.get(short.id.toLowerCase()) ?? short;
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async vboSession(source, id) {
      let loader = vboSessionLoaders.get(source.name);
      if (loader === undefined) {
        loader = new DataLoader<string, VboRestoreSession>((ids) =>
          Promise.all(ids.map((x) => source.client.getRestoreSession(x).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))))),
        );
        vboSessionLoaders.set(source.name, loader);
      }
      try {
        return await loader.load(id.toLowerCase());
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    vboAllSessions: (source) =>
      once(`${source.name}\u0000allSessions`, async () => {
        const out: VboRestoreSession[] = [];
        for await (const page of source.client.iterateRestoreSessions()) out.push(...page.items);
        return out;
      }),

    vboAllRestorePoints: (source) =>
      once(`${source.name}\u0000allPoints`, async () => {
        const out: VboRestorePoint[] = [];
        for await (const page of source.client.iterateRestorePoints()) out.push(...page.items);
        return out;
      }),

    vboSessionEvents: (source, sessionId) =>
      once(`${source.name}\u0000events\u0000${sessionId.toLowerCase()}`, async () => {
        const out: VboRestoreSessionEvent[] = [];
        for await (const page of source.client.iterateRestoreSessionEvents(sessionId)) out.push(...page.items);
        return out;
      }),
  };
}
