import { decodeGlobalId, type GlobalIdType } from '../globalId.js';
import type { GraphContext } from '../GraphContext.js';
import type { NodeParent } from '../mappers.js';
import { resolveNode } from '../resolvers/resolveNode.js';

/**
 * The entity types of schema/federation.graphql and the concrete types a reference to each may
 * resolve to. Interfaces are entities too (Federation 2.3 interface entities), so another
 * subgraph can keep "a restore session" by id without knowing whether EM or VB365 holds it.
 * `Source` is not an entity: it is this deployment's configuration, not Veeam data.
 */
export const ENTITY_TYPES = {
  RestoreSession: ['EnterpriseManagerRestoreSession', 'Microsoft365RestoreSession'],
  EnterpriseManagerRestoreSession: ['EnterpriseManagerRestoreSession'],
  Microsoft365RestoreSession: ['Microsoft365RestoreSession'],
  Microsoft365RestoreSessionEvent: ['Microsoft365RestoreSessionEvent'],
  RestorePoint: ['VmRestorePoint', 'Microsoft365RestorePoint'],
  VmRestorePoint: ['VmRestorePoint'],
  Microsoft365RestorePoint: ['Microsoft365RestorePoint'],
  BackupServer: ['BackupServer'],
  Organization: ['Organization'],
} as const satisfies Record<string, readonly GlobalIdType[]>;

/** What a router sends for an entity: `{ __typename, id }` (`@key(fields: "id")`). */
export interface Reference {
  __typename?: string;
  id?: unknown;
}

/**
 * The object behind a federation reference, or null.
 *
 * Lookups go through the request's loaders exactly as `node(id:)` does, and `_entities` calls
 * this synchronously for every representation, so 100 references to EM sessions of one server
 * become one query-service call for that server (events: one listing per session).
 *
 * Null, never BAD_USER_INPUT, for an id this gateway did not issue, of another type, of a server
 * no longer configured, or unknown to its server: the id comes from another subgraph's data, not
 * from the client, and `_entities` entries are nullable so that one dangling reference nulls only
 * its own field (what Apollo's routers expect of a missing entity). An error would blame the
 * client for another service's data and reach it with an `_entities` path it never asked for.
 * A failing Veeam server still throws its UPSTREAM_* error: that is an outage, not a missing entity.
 */
export async function resolveReference(context: GraphContext, reference: Reference, accepted: readonly GlobalIdType[]): Promise<NodeParent | null> {
  const { id } = reference;
  try {
    if (typeof id !== 'string') throw new Error('id is not a string');
    decodeGlobalId(id, accepted);
  } catch {
    // Debug, not warn: a router replays the same stale reference on every query that touches it.
    context.logger.debug({ typename: reference.__typename, id }, 'federation reference with an id this gateway cannot resolve: null');
    return null;
  }
  const parent = await resolveNode(context, id as string);
  return parent !== null && 'type' in parent && (accepted as readonly string[]).includes(parent.type) ? parent : null;
}
/** `__resolveReference` of every entity type, for `buildSubgraphSchema` (which calls it with the reference and the request's context). */
export const referenceResolvers: Record<string, { __resolveReference(reference: Reference, context: GraphContext): Promise<NodeParent | null> }> =
  Object.fromEntries(
    Object.entries(ENTITY_TYPES).map(([typename, accepted]) => [
      typename,
      { __resolveReference: (reference: Reference, context: GraphContext) => resolveReference(context, reference, accepted) },
    ]),
  );
