import type {
  BackupServerRecord,
  EmRestoreSessionRecord,
  EntityRecord,
  LiveEvent,
  M365RestorePointRecord,
  M365RestoreSessionRecord,
  OrganizationRecord,
  SessionEventRecord,
  Source,
  VmRestorePointRecord,
} from '../upstream/Source.js';

/** A configured server as the `Source` type resolves it. */
export type SourceParent = Source;

/**
 * Parent value of an entity type (design.md section 9.3): the source contract's domain record as
 * the source returned it, plus the source it came from (links resolve on that source only) and
 * the GraphQL type (the record's entity), which `Node.__resolveType` and the interfaces read.
 */
export interface Sourced<R extends EntityRecord> {
  readonly type: R['entity'];
  readonly source: Source;
  readonly value: R;
}

export type EmRestoreSessionParent = Sourced<EmRestoreSessionRecord>;
export type M365RestoreSessionParent = Sourced<M365RestoreSessionRecord>;
export type RestoreSessionParent = EmRestoreSessionParent | M365RestoreSessionParent;
export type BackupServerParent = Sourced<BackupServerRecord>;
export type VmRestorePointParent = Sourced<VmRestorePointRecord>;
export type M365RestorePointParent = Sourced<M365RestorePointRecord>;
export type RestorePointParent = VmRestorePointParent | M365RestorePointParent;
export type OrganizationParent = Sourced<OrganizationRecord>;
export type M365EventParent = Sourced<SessionEventRecord>;
export type EntityParent = RestoreSessionParent | BackupServerParent | RestorePointParent | OrganizationParent | M365EventParent;

/** The parent of a record: what every list, lookup and link resolver returns. */
export function sourced<R extends EntityRecord>(source: Source, value: R): Sourced<R> {
  return { type: value.entity, source, value } as Sourced<R>;
}

/** `RestoreSessionChange` as the subscription yields it: the poller's event and its source. */
export interface RestoreSessionChangeParent {
  event: LiveEvent;
  source: Source;
}

/** `SourceError` as resolvers build it. */
export interface SourceErrorParent {
  source: Source;
  code: string;
  message: string;
  httpStatus: number | null;
  retryable: boolean;
}

/** `SourceOutcome` as resolvers build it. */
export interface SourceOutcomeParent {
  source: Source;
  status: 'OK' | 'FAILED' | 'SKIPPED' | 'STALE';
  contributed: number;
  error: SourceErrorParent | null;
  /** ISO 8601, when this source's part was read. */
  asOf: string | null;
  stale: boolean;
}

export interface PageInfoParent {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/** Every connection of the schema: `nodes` and `sourceErrors` derive from `edges` and `outcomes`. */
export interface ConnectionParent<N> {
  edges: { cursor: string; node: N }[];
  pageInfo: PageInfoParent;
  outcomes: SourceOutcomeParent[];
  /** ISO 8601: the oldest read among the sources that contributed. */
  asOf: string | null;
  stale: boolean;
}

/** An outcome of a source that was not asked. */
export const skipped = (source: Source): SourceOutcomeParent => ({ source, status: 'SKIPPED', contributed: 0, error: null, asOf: null, stale: false });

/** An outcome of a source that failed with `error`. */
export const failed = (source: Source, error: SourceErrorParent): SourceOutcomeParent => ({
  source,
  status: 'FAILED',
  contributed: 0,
  error,
  asOf: null,
  stale: false,
});

/** `asOf` (ISO) and `stale` of a connection page, from the outcomes of the sources that contributed. */
export function pageFreshness(outcomes: readonly SourceOutcomeParent[]): { asOf: string | null; stale: boolean } {
  const contributing = outcomes.filter((o) => o.contributed > 0 && o.asOf !== null);
  const asOf = contributing.reduce<string | null>((oldest, o) => (oldest === null || o.asOf! < oldest ? o.asOf : oldest), null);
  return { asOf, stale: contributing.some((o) => o.stale) };
}

/** Anything `Node` can be: an entity or a configured server. */
export type NodeParent = EntityParent | SourceParent;
