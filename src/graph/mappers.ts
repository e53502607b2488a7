import type { EmBackupServer, EmRestoreSession, EmVmRestorePoint } from '../upstream/em/types.js';
import type { VboOrganization, VboRestorePoint, VboRestoreSession, VboRestoreSessionEvent } from '../upstream/vbo/types.js';
import type { GlobalIdType } from './globalId.js';
import type { EmGraphSource, GraphSource, VboGraphSource } from './sources/createSources.js';

/**
 * Parent value of an entity type (design.md section 9.3): the upstream wire value as the client
 * returned it, plus the server it came from (links resolve on that server only) and the GraphQL
 * type, which `Node.__resolveType` and the interfaces read. Renames and links are field resolvers.
 */
export interface Sourced<T, N extends GlobalIdType, S extends GraphSource = GraphSource> {
  readonly type: N;
  readonly source: S;
  readonly value: T;
}

export type EmRestoreSessionParent = Sourced<EmRestoreSession, 'EnterpriseManagerRestoreSession', EmGraphSource>;
export type M365RestoreSessionParent = Sourced<VboRestoreSession, 'Microsoft365RestoreSession', VboGraphSource>;
export type RestoreSessionParent = EmRestoreSessionParent | M365RestoreSessionParent;
export type BackupServerParent = Sourced<EmBackupServer, 'BackupServer', EmGraphSource>;
export type VmRestorePointParent = Sourced<EmVmRestorePoint, 'VmRestorePoint', EmGraphSource>;
export type M365RestorePointParent = Sourced<VboRestorePoint, 'Microsoft365RestorePoint', VboGraphSource>;
export type RestorePointParent = VmRestorePointParent | M365RestorePointParent;
export type OrganizationParent = Sourced<VboOrganization, 'Organization', VboGraphSource>;
/** Events are addressed through their session (VB365 has no event route without it). */
export type M365EventParent = Sourced<VboRestoreSessionEvent, 'Microsoft365RestoreSessionEvent', VboGraphSource> & { readonly sessionId: string };
export type EntityParent = RestoreSessionParent | BackupServerParent | RestorePointParent | OrganizationParent | M365EventParent;

/** `SourceError` as resolvers build it. */
export interface SourceErrorParent {
  source: GraphSource;
  code: string;
  message: string;
  httpStatus: number | null;
  retryable: boolean;
}

/** `SourceOutcome` as resolvers build it. */
export interface SourceOutcomeParent {
  source: GraphSource;
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
export type NodeParent = EntityParent | GraphSource;
