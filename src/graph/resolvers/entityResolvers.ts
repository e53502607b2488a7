import type {
  BackupServerRecord,
  EmRestoreSessionRecord,
  EntityRecord,
  Freshness,
  LookupKind,
  M365RestorePointRecord,
  M365RestoreSessionRecord,
  OrganizationRecord,
  SessionEventRecord,
  Source,
  SourceKind,
  VmRestorePointRecord,
} from '../../upstream/Source.js';
import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { Resolvers, SourceKind as SchemaSourceKind } from '../__generated__/resolvers.generated.js';
import type { ListRequest } from '../connections/timeListConnection.js';
import { eventsConnection } from '../connections/eventsConnection.js';
import { restorePointsConnection } from '../connections/restorePointsConnection.js';
import { restoreSessionsConnection } from '../connections/restoreSessionsConnection.js';
import { parseFilter, restrictFilter } from '../connections/restoreSessionFilter.js';
import { onSource, publicSourceCode, redactedSourceMessage } from '../errors/upstreamGraphQLError.js';
import { encodeGlobalId } from '../globalId.js';
import type { GraphContext } from '../GraphContext.js';
import { sourced, type EntityParent, type SourceErrorParent } from '../mappers.js';
import type { TimeOrder } from '../sortKey.js';
import { sourceStatusOf } from '../sourceStatus.js';
import { EVENT_ID_SEPARATOR } from './resolveNode.js';

/** The schema's `SourceKind` of each configured kind; a mapped type, so a new kind must be named here. */
const SCHEMA_KIND: { readonly [K in SourceKind]: SchemaSourceKind } = {
  'enterprise-manager': 'ENTERPRISE_MANAGER',
  microsoft365: 'MICROSOFT_365',
};

/** `id`, `nativeId`, `source`, `links`, `asOf`, `stale`: the same fields on every entity type. */
function identity<P extends EntityParent>(nativeKey: (p: P) => string = (p) => p.value.nativeId.toLowerCase()) {
  return {
    id: (p: P) => encodeGlobalId(p.type, p.source.name, nativeKey(p)),
    nativeId: (p: P) => p.value.nativeId,
    source: (p: P) => p.source,
    links: (p: P) => p.value.links,
    // Without a stamp of the memory layer the record was read during this request.
    asOf: (p: P, _a: unknown, context: GraphContext) => new Date(p.value.freshness?.asOf ?? context.requestedAt).toISOString(),
    stale: (p: P) => p.value.freshness?.stale ?? false,
  };
}

/** Resolvers reading fields of the record as they are (the record's names are the schema's). */
function fields<R extends EntityRecord>() {
  return <K extends keyof R & string>(...keys: K[]): { [F in K]: (p: { value: R }) => R[F] } =>
    Object.fromEntries(keys.map((k) => [k, (p: { value: R }) => p.value[k]])) as { [F in K]: (p: { value: R }) => R[F] };
}

/**
 * A link field: the record of `kind` with native id `id` on the parent's own source, through the
 * request's batched loader. Loads are issued synchronously by every list item's resolver, so one
 * tick gathers a page's links into one `Source.lookup` per (source, kind).
 */
async function linked<K extends LookupKind>(context: GraphContext, info: GraphQLResolveInfo, source: Source, kind: K, id: string | null) {
  if (id === null) return null;
  const record = await onSource(context, source, () => context.loaders.entity(source, kind, id));
  return record && reported(context, info, sourced(source, record));
}

/** A parent whose record was served stale has its source's failure reported (once per request). */
function reported<P extends { source: Source; value: { freshness?: Freshness } }>(context: GraphContext, info: GraphQLResolveInfo, parent: P): P {
  const cause = parent.value.freshness?.cause;
  if (cause !== undefined) context.reportStale(parent.source, cause, responsePathAsArray(info.path));
  return parent;
}

const orderOf = (value: string | null | undefined): TimeOrder => (value === 'OLDEST_FIRST' ? 'OLDEST_FIRST' : 'NEWEST_FIRST');

interface NestedArgs {
  filter?: Parameters<typeof parseFilter>[0];
  first?: number | null;
  after?: string | null;
  orderBy?: string | null;
}

/**
 * A connection nested under one entity (a backup server's sessions, an organization's sessions or
 * restore points): the caller's filter restricted to that entity and the server it lives on, and a
 * cursor key of its own so a cursor from one entity's list is refused on another's.
 */
function nested(
  kind: 'BackupServer' | 'Organization',
  field: string,
  p: EntityParent,
  args: NestedArgs,
  context: GraphContext,
  info: GraphQLResolveInfo,
): ListRequest {
  const id = { type: kind, source: p.source.name, nativeId: p.value.nativeId.toLowerCase() };
  const to = kind === 'BackupServer' ? { source: p.source.name, backupServer: id } : { source: p.source.name, organization: id };
  return {
    context,
    info,
    connection: `${kind}.${field}:${p.source.name}:${id.nativeId}`,
    filter: restrictFilter(parseFilter(args.filter, context.sourceByName), to),
    args: { first: args.first, after: args.after, order: orderOf(args.orderBy) },
    throwOnFailure: true,
  };
}

const SESSION_FIELDS = ['name', 'state', 'stateRaw', 'result', 'resultRaw', 'creationTime', 'endTime'] as const;

export const entityResolvers: Resolvers = {
  Node: {
    __resolveType: (parent) => ('type' in parent ? parent.type : 'Source'),
  },
  RestoreSession: {
    __resolveType: (parent) => parent.type,
  },
  RestorePoint: {
    __resolveType: (parent) => parent.type,
  },

  Source: {
    id: (s) => encodeGlobalId('Source', s.name, s.name),
    name: (s) => s.name,
    kind: (s) => SCHEMA_KIND[s.kind],
    url: (s, _a, context) => (context.revealUpstream ? s.url : null),
    // EM tells its version only through `GET /api/`: read on demand, so only queries that ask pay for it.
    apiVersion: async (s) => s.describe().apiVersion ?? (await s.resolveApiVersion()) ?? null,
    status: (s, _a, context) => sourceStatusOf(context.health(s)),
    latencyMs: (s, _a, context) => context.health(s).lastLatencyMs ?? null,
    lastError: (s, _a, context): SourceErrorParent | null => {
      const e = context.health(s).lastError;
      return e === undefined ? null : { source: s, code: e.code, message: e.message, httpStatus: e.httpStatus ?? null, retryable: e.retryable ?? false };
    },
  },
  SourceError: {
    code: (e) => publicSourceCode(e.code),
    message: (e, _a, context) => (context.revealUpstream ? e.message : redactedSourceMessage(e.source.name, publicSourceCode(e.code))),
  },

  EnterpriseManagerRestoreSession: {
    ...identity(),
    ...fields<EmRestoreSessionRecord>()(...SESSION_FIELDS, 'jobType', 'vmDisplayName', 'progress', 'restoredObject'),
    backupServer: (p, _a, context, info) => linked(context, info, p.source, 'BackupServer', p.value.backupServerId),
    restorePoint: (p, _a, context, info) => linked(context, info, p.source, 'RestorePoint', p.value.restorePointId) as never,
  },

  Microsoft365RestoreSession: {
    ...identity(),
    ...fields<M365RestoreSessionRecord>()(...SESSION_FIELDS, 'type', 'initiatedBy', 'details', 'scopeName', 'clientHost', 'reason', 'pointInTime'),
    organization: async (p, _a, context, info) => {
      if (!p.value.hasOrganization) return null;
      const value = await onSource(context, p.source, () => context.loaders.sessionOrganization(p.source, p.value));
      return value && reported(context, info, sourced(p.source, value));
    },
    events: (p, args, context, info) =>
      onSource(context, p.source, () => eventsConnection(context, p.source, p.value.nativeId, args, responsePathAsArray(info.path))),
  },

  Microsoft365RestoreSessionEvent: {
    ...identity((p) => `${p.value.sessionId.toLowerCase()}${EVENT_ID_SEPARATOR}${p.value.nativeId.toLowerCase()}`),
    ...fields<SessionEventRecord>()(
      'order',
      'type',
      'status',
      'title',
      'message',
      'startTime',
      'endTime',
      'duration',
      'itemName',
      'itemType',
      'itemSizeBytes',
      'itemSource',
      'itemTarget',
    ),
  },

  BackupServer: {
    ...identity(),
    ...fields<BackupServerRecord>()('name', 'description', 'port', 'version'),
    restoreSessions: (p, args, context, info) => restoreSessionsConnection(nested('BackupServer', 'restoreSessions', p, args, context, info)),
  },

  VmRestorePoint: {
    ...identity(),
    ...fields<VmRestorePointRecord>()('pointInTime', 'vmName', 'creationTime', 'algorithm', 'pointType', 'hierarchyObjRef'),
    backupServer: (p, _a, context, info) => linked(context, info, p.source, 'BackupServer', p.value.backupServerId),
  },

  Microsoft365RestorePoint: {
    ...identity(),
    ...fields<M365RestorePointRecord>()('pointInTime', 'backupTime', 'isExchange', 'isSharePoint', 'isOneDrive', 'isTeams', 'isLongTermCopy'),
    organization: (p, _a, context, info) => linked(context, info, p.source, 'Organization', p.value.organizationId),
  },

  Organization: {
    ...identity(),
    ...fields<OrganizationRecord>()('name', 'type', 'region', 'isBackedUp', 'firstBackupTime', 'lastBackupTime'),
    restoreSessions: (p, args, context, info) => restoreSessionsConnection(nested('Organization', 'restoreSessions', p, args, context, info)),
    restorePoints: (p, args, context, info) => restorePointsConnection(nested('Organization', 'restorePoints', p, args, context, info)),
  },
};
