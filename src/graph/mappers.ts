import type {
  BackupServerRecord,
  EmRestoreSessionRecord,
  EntityRecord,
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
  status: 'OK' | 'FAILED' | 'SKIPPED';
  contributed: number;
  error: SourceErrorParent | null;
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
}

/** Anything `Node` can be: an entity or a configured server. */
export type NodeParent = EntityParent | SourceParent;
