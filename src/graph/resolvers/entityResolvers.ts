import type { Resolvers, SourceErrorCode } from '../__generated__/resolvers.generated.js';
import { eventsConnection } from '../connections/eventsConnection.js';
import { restorePointsConnection } from '../connections/restorePointsConnection.js';
import { restoreSessionsConnection } from '../connections/restoreSessionsConnection.js';
import { parseFilter, restrictFilter } from '../connections/restoreSessionFilter.js';
import { backupServer, organization, vmRestorePoint } from '../entities.js';
import { toGraphQLError } from '../errors/upstreamGraphQLError.js';
import { encodeGlobalId } from '../globalId.js';
import type { GraphContext } from '../GraphContext.js';
import type { EmRestoreSessionParent, SourceErrorParent, VmRestorePointParent } from '../mappers.js';
import { guidOf } from '../loaders/createLoaders.js';
import { normalizeResult, normalizeState } from '../sessionStatus.js';
import type { EmGraphSource } from '../sources/createSources.js';
import { emLinks, findEmLink, halLinks } from './links.js';
import { EVENT_ID_SEPARATOR } from './resolveNode.js';
import type { TimeOrder } from '../sortKey.js';

const SOURCE_ERROR_CODES = new Set<string>([
  'UPSTREAM_UNREACHABLE',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_HTTP_ERROR',
  'UPSTREAM_AUTH_FAILED',
  'UPSTREAM_BAD_RESPONSE',
  'UPSTREAM_CIRCUIT_OPEN',
  'INTERNAL_SERVER_ERROR',
]);

/** A code of the schema's `SourceErrorCode`; TLS failures read as unreachable to a client. */
function sourceErrorCode(code: string): SourceErrorCode {
  if (SOURCE_ERROR_CODES.has(code)) return code as SourceErrorCode;
  return code === 'UPSTREAM_TLS_ERROR' ? 'UPSTREAM_UNREACHABLE' : 'INTERNAL_SERVER_ERROR';
}

/**
 * A link field of an EM entity, resolved on the entity's own EM server through the batched
 * loader. Loads are issued synchronously by every list item's resolver, so one tick of the
 * executor gathers a page's links into one query-service call per (server, kind).
 */
async function emLinked<K extends 'BackupServer' | 'VmRestorePoint'>(
  context: GraphContext,
  source: EmGraphSource,
  links: EmRestoreSessionParent['value']['links'],
  rel: string,
  refType: string,
  kind: K,
) {
  const link = findEmLink(links, rel, refType);
  const guid = link && guidOf(link.href);
  if (link === undefined || guid === undefined) return null;
  try {
    return await context.loaders.emEntity(source, kind, guid, link.href);
  } catch (err) {
    throw toGraphQLError(source, err, context.logger);
  }
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
  p: { source: { name: string }; value: { id: string } },
  args: NestedArgs,
  context: GraphContext,
) {
  const id = { type: kind, source: p.source.name, nativeId: p.value.id.toLowerCase() };
  const to = kind === 'BackupServer' ? { source: p.source.name, backupServer: id } : { source: p.source.name, organization: id };
  return {
    key: `${kind}.${field}:${p.source.name}:${id.nativeId}`,
    filter: restrictFilter(parseFilter(args.filter, context.sourceByName), to),
    paging: { first: args.first, after: args.after, order: orderOf(args.orderBy) },
  };
}

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
    kind: (s) => (s.kind === 'enterprise-manager' ? 'ENTERPRISE_MANAGER' : 'MICROSOFT_365'),
    url: (s) => s.url,
    // EM tells its version only through `GET /api/`: read on demand, so only queries that ask pay for it.
    apiVersion: async (s) => s.apiVersion ?? (s.kind === 'enterprise-manager' ? await s.resolveApiVersion() : undefined) ?? null,
    // Health says DOWN while the breaker is open (readiness and metrics need only up/down); the schema tells the UI why.
    status: (s) => (s.health.circuit.state !== 'closed' ? 'CIRCUIT_OPEN' : s.health.status),
    latencyMs: (s) => s.health.lastLatencyMs ?? null,
    lastError: (s): SourceErrorParent | null => {
      const e = s.health.lastError;
      return e === undefined ? null : { source: s, code: e.code, message: e.message, httpStatus: e.httpStatus ?? null, retryable: e.retryable ?? false };
    },
  },
  SourceError: {
    code: (e) => sourceErrorCode(e.code),
  },

  EnterpriseManagerRestoreSession: {
    id: (p) => encodeGlobalId('EnterpriseManagerRestoreSession', p.source.name, p.value.id.toLowerCase()),
    nativeId: (p) => p.value.id,
    source: (p) => p.source,
    name: (p) => p.value.name,
    state: (p) => normalizeState(p.value.state),
    stateRaw: (p) => p.value.state ?? null,
    result: (p) => normalizeResult(p.value.result),
    resultRaw: (p) => p.value.result ?? null,
    creationTime: (p) => p.value.creationTime,
    endTime: (p) => p.value.endTime ?? null,
    links: (p) => emLinks(p.value.links),
    jobType: (p) => p.value.jobType ?? null,
    vmDisplayName: (p) => p.value.vmDisplayName ?? null,
    progress: (p) => p.value.progress ?? null,
    restoredObject: (p) => p.value.restoredObjRef ?? null,
    backupServer: async (p, _a, context) => {
      const value = await emLinked(context, p.source, p.value.links, 'Up', 'BackupServerReference', 'BackupServer');
      return value && backupServer(p.source, value);
    },
    restorePoint: async (p, _a, context) => {
      const value = await emLinked(context, p.source, p.value.links, 'Related', 'VmRestorePointReference', 'VmRestorePoint');
      return value && vmRestorePoint(p.source, value);
    },
  },

  Microsoft365RestoreSession: {
    id: (p) => encodeGlobalId('Microsoft365RestoreSession', p.source.name, p.value.id.toLowerCase()),
    nativeId: (p) => p.value.id,
    source: (p) => p.source,
    name: (p) => p.value.name ?? null,
    state: (p) => normalizeState(p.value.state),
    stateRaw: (p) => p.value.state ?? null,
    result: (p) => normalizeResult(p.value.result),
    resultRaw: (p) => p.value.result ?? null,
    creationTime: (p) => p.value.creationTime,
    endTime: (p) => p.value.endTime ?? null,
    links: (p) => halLinks(p.value.links),
    type: (p) => p.value.type ?? null,
    initiatedBy: (p) => p.value.initiatedBy ?? null,
    details: (p) => p.value.details ?? null,
    scopeName: (p) => p.value.scopeName ?? null,
    clientHost: (p) => p.value.clientHost ?? null,
    reason: (p) => p.value.reason ?? null,
    pointInTime: (p) => p.value.pointInTime ?? null,
    organization: async (p, _a, context) => {
      if (p.value.links.organization === undefined && p.value.organizationName === undefined) return null;
      try {
        const value = await context.loaders.sessionOrganization(p.source, p.value);
        return value && organization(p.source, value);
      } catch (err) {
        throw toGraphQLError(p.source, err, context.logger);
      }
    },
    events: async (p, args, context) => {
      try {
        return await eventsConnection(context, p.source, p.value.id, args);
      } catch (err) {
        throw toGraphQLError(p.source, err, context.logger);
      }
    },
  },

  Microsoft365RestoreSessionEvent: {
    id: (p) => encodeGlobalId('Microsoft365RestoreSessionEvent', p.source.name, `${p.sessionId.toLowerCase()}${EVENT_ID_SEPARATOR}${p.value.id.toLowerCase()}`),
    nativeId: (p) => p.value.id,
    source: (p) => p.source,
    order: (p) => p.value.order ?? 0,
    type: (p) => p.value.type ?? null,
    status: (p) => p.value.status ?? null,
    title: (p) => p.value.title ?? null,
    message: (p) => p.value.message ?? null,
    startTime: (p) => p.value.startTime ?? null,
    endTime: (p) => p.value.endTime ?? null,
    duration: (p) => p.value.duration ?? null,
    itemName: (p) => p.value.itemName ?? null,
    itemType: (p) => p.value.itemType ?? null,
    itemSizeBytes: (p) => p.value.itemSizeBytes ?? null,
    itemSource: (p) => p.value.source ?? null,
    itemTarget: (p) => p.value.target ?? null,
    links: (p) => halLinks(p.value.links),
  },

  BackupServer: {
    id: (p) => encodeGlobalId('BackupServer', p.source.name, p.value.id.toLowerCase()),
    nativeId: (p) => p.value.id,
    source: (p) => p.source,
    name: (p) => p.value.name,
    description: (p) => p.value.description ?? null,
    port: (p) => p.value.port ?? null,
    version: (p) => p.value.version ?? null,
    links: (p) => emLinks(p.value.links),
    restoreSessions: (p, args, context, info) => {
      const n = nested('BackupServer', 'restoreSessions', p, args, context);
      return restoreSessionsConnection(context, info, n.key, n.filter, n.paging, true);
    },
  },

  VmRestorePoint: {
    id: (p) => encodeGlobalId('VmRestorePoint', p.source.name, p.value.id.toLowerCase()),
    nativeId: (p) => p.value.id,
    source: (p) => p.source,
    pointInTime: (p) => p.value.creationTime,
    links: (p) => emLinks(p.value.links),
    vmName: (p) => p.value.vmName ?? null,
    creationTime: (p) => p.value.creationTime,
    algorithm: (p) => p.value.algorithm ?? null,
    pointType: (p) => p.value.pointType ?? null,
    hierarchyObjRef: (p) => p.value.hierarchyObjRef ?? null,
    backupServer: async (p: VmRestorePointParent, _a, context) => {
      const value = await emLinked(context, p.source, p.value.links, 'Up', 'BackupServerReference', 'BackupServer');
      return value && backupServer(p.source, value);
    },
  },

  Microsoft365RestorePoint: {
    id: (p) => encodeGlobalId('Microsoft365RestorePoint', p.source.name, p.value.id.toLowerCase()),
    nativeId: (p) => p.value.id,
    source: (p) => p.source,
    pointInTime: (p) => p.value.backupTime,
    links: (p) => halLinks(p.value.links),
    backupTime: (p) => p.value.backupTime,
    isExchange: (p) => p.value.isExchange ?? null,
    isSharePoint: (p) => p.value.isSharePoint ?? null,
    isOneDrive: (p) => p.value.isOneDrive ?? null,
    isTeams: (p) => p.value.isTeams ?? null,
    isLongTermCopy: (p) => p.value.isLongTermCopy ?? null,
    organization: async (p, _a, context) => {
      const orgId = p.value.organizationId;
      if (orgId === undefined) return null;
      try {
        const value = (await context.loaders.organizations(p.source)).byId.get(orgId.toLowerCase());
        return value ? organization(p.source, value) : null;
      } catch (err) {
        throw toGraphQLError(p.source, err, context.logger);
      }
    },
  },

  Organization: {
    id: (p) => encodeGlobalId('Organization', p.source.name, p.value.id.toLowerCase()),
    nativeId: (p) => p.value.id,
    source: (p) => p.source,
    name: (p) => p.value.name,
    type: (p) => p.value.type ?? null,
    region: (p) => p.value.region ?? null,
    isBackedUp: (p) => p.value.isBackedUp ?? null,
    firstBackupTime: (p) => p.value.firstBackupTime ?? null,
    lastBackupTime: (p) => p.value.lastBackupTime ?? null,
    links: (p) => halLinks(p.value.links),
    restoreSessions: (p, args, context, info) => {
      const n = nested('Organization', 'restoreSessions', p, args, context);
      return restoreSessionsConnection(context, info, n.key, n.filter, n.paging, true);
    },
    restorePoints: (p, args, context, info) => {
      const n = nested('Organization', 'restorePoints', p, args, context);
      return restorePointsConnection(context, info, n.key, n.filter, n.paging, true);
    },
  },
};
