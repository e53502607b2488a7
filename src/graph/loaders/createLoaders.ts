import DataLoader from 'dataloader';
import type { LookupKind, OrganizationRecord, RecordOf, RequestScope, RestoreSessionRecord, Source } from '../../upstream/Source.js';

export interface CreateLoadersOptions {
  /** The request's scope of each source (see `GraphContext.scope`). */
  scope(source: Source): RequestScope;
  /** Called once per executed batch with its key count (metrics). */
  onLoaderBatch?: (loader: string, size: number) => void;
}

export interface Loaders {
  /**
   * A record by native id on the source it was linked from. Batched: every key of one tick becomes
   * ONE `Source.lookup` per (source, kind), which the source serves in as few calls as its API
   * allows (EM: one query-service call). Null when the source does not know the id.
   */
  entity<K extends LookupKind>(source: Source, kind: K, id: string): Promise<RecordOf[K] | null>;
  /** The organization a restore session restores from, resolved on that session's source; batched per tick. */
  sessionOrganization(source: Source, session: RestoreSessionRecord): Promise<OrganizationRecord | null>;
}

/** Creates loaders, given the request's options: the graph's default is {@link createLoaders}; a benchmark may pass another. */
export type LoaderFactory = (options: CreateLoadersOptions) => Loaders;

/**
 * Loaders for one request (never shared between requests, design.md section 6), keyed by
 * (source, entity, id): one DataLoader per source and kind.
 */
export function createLoaders(options: CreateLoadersOptions): Loaders {
  const loaders = new Map<string, DataLoader<string, unknown>>();
  const sessionRecords = new Map<string, RestoreSessionRecord>();
  const loaderOf = <V>(key: string, batch: (keys: readonly string[]) => Promise<(V | Error)[]>) => {
    let loader = loaders.get(key) as DataLoader<string, V> | undefined;
    if (loader === undefined) {
      loader = new DataLoader<string, V>(batch);
      loaders.set(key, loader as DataLoader<string, unknown>);
    }
    return loader;
  };

  return {
    entity<K extends LookupKind>(source: Source, kind: K, id: string) {
      const loader = loaderOf<RecordOf[K] | null>(`${source.name}\u0000${kind}`, async (ids) => {
        options.onLoaderBatch?.(`lookup.${kind}`, ids.length);
        const found = await source.lookup(kind, ids, options.scope(source));
        // Answer in key order; an id the source does not know is null, a failed one its error.
        return ids.map((k) => found.get(k) ?? null);
      });
      return loader.load(id.toLowerCase());
    },

    sessionOrganization(source, session) {
      // The batch needs the records, DataLoader keys are strings: the records of this request, by key.
      const key = session.nativeId.toLowerCase();
      sessionRecords.set(`${source.name}\u0000${key}`, session);
      const loader = loaderOf<OrganizationRecord | null>(`${source.name}\u0000sessionOrganization`, async (ids) => {
        options.onLoaderBatch?.('sessionOrganization', ids.length);
        return source.sessionOrganizations(
          ids.map((k) => sessionRecords.get(`${source.name}\u0000${k}`)!),
          options.scope(source),
        );
      });
      return loader.load(key);
    },
  };
}
