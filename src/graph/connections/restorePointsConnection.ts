import type { GraphQLResolveInfo } from 'graphql';
import { responsePathAsArray } from 'graphql';
import { eq, ge, lt, type EmFilter } from '../../upstream/em/emFilter.js';
import { emDate } from '../../upstream/em/emFilter.js';
import type { EmVmRestorePoint } from '../../upstream/em/types.js';
import type { VboRestorePoint } from '../../upstream/vbo/types.js';
import { m365RestorePoint, vmRestorePoint } from '../entities.js';
import type { GraphContext } from '../GraphContext.js';
import type { ConnectionParent, RestorePointParent } from '../mappers.js';
import type { SourceRequestPlan } from '../planSourceRequest.js';
import type { TimeOrder } from '../sortKey.js';
import type { EmGraphSource, VboGraphSource } from '../sources/createSources.js';
import { inclusiveUpperBound, wireTimeMs } from '../wireTime.js';
import { emQueryUpTo } from './fetchRestoreSessions.js';
import { mergedConnection, type FetchedBatch } from './mergedConnection.js';
import { askedSources, fingerprintOf, type ParsedFilter } from './restoreSessionFilter.js';

type WirePoint = EmVmRestorePoint | VboRestorePoint;

const pointTime = (p: WirePoint): number => wireTimeMs('backupTime' in p ? p.backupTime : p.creationTime);

/**
 * Restore points merged across servers by point in time: EM's VmRestorePoint query (window, VM
 * name and backup server pushed down, sorted by CreationTime) and VB365 `/RestorePoints` (v7+:
 * window, order and paging pushed down; v6: one array the client windows; before v6 the resource
 * does not exist, so those servers are SKIPPED).
 */
export function restorePointsConnection(
  context: GraphContext,
  info: GraphQLResolveInfo,
  connection: string,
  filter: ParsedFilter,
  args: { first?: number | null; after?: string | null; order: TimeOrder },
  throwOnFailure = false,
): Promise<ConnectionParent<RestorePointParent>> {
  const asked = askedSources(filter, context.sources).filter((s) => s.kind === 'enterprise-manager' || s.client.capabilities.restorePoints);
  return mergedConnection<WirePoint, RestorePointParent>({
    context,
    path: responsePathAsArray(info.path),
    connection,
    fingerprintFilter: fingerprintOf(filter),
    order: args.order,
    args,
    window: filter.window,
    asked,
    fetch: (source, plan) => (source.kind === 'enterprise-manager' ? fetchEm(source, plan, args.order, filter) : fetchVbo(source, plan, args.order, filter)),
    timeOf: pointTime,
    nativeIdOf: (p) => p.id.toLowerCase(),
    throwOnFailure,
    toNode: (source, p) =>
      source.kind === 'enterprise-manager' ? vmRestorePoint(source, p as EmVmRestorePoint) : m365RestorePoint(source, p as VboRestorePoint),
  });
}

function fetchEm(source: EmGraphSource, plan: SourceRequestPlan, order: TimeOrder, filter: ParsedFilter): Promise<FetchedBatch<EmVmRestorePoint>> {
  const parts: EmFilter[] = [];
  if (plan.fromMs !== null) parts.push(ge('CreationTime', emDate(new Date(plan.fromMs))));
  if (plan.toMs !== null) parts.push(lt('CreationTime', emDate(new Date(plan.toMs))));
  if (filter.vmName !== null) parts.push(eq('VmName', filter.vmName));
  if (filter.backupServer !== null) parts.push(eq('BackupServerUid', `urn:veeam:BackupServer:${filter.backupServer.nativeId}`));
  return emQueryUpTo(source, 'VmRestorePoint', plan.limit, order, parts);
}

async function fetchVbo(source: VboGraphSource, plan: SourceRequestPlan, order: TimeOrder, filter: ParsedFilter): Promise<FetchedBatch<VboRestorePoint>> {
  const caps = source.client.capabilities;
  const inWindow = (p: VboRestorePoint) => {
    const t = wireTimeMs(p.backupTime);
    return (plan.fromMs === null || t >= plan.fromMs) && (plan.toMs === null || t < plan.toMs);
  };
  const query = {
    ...(filter.organization !== null && { organizationId: filter.organization.nativeId }),
    ...(plan.fromMs !== null && { from: new Date(plan.fromMs).toISOString() }),
    ...(plan.toMs !== null && { to: inclusiveUpperBound(plan.toMs) }),
  };
  if (!caps.restorePointsPaged) {
    // v6: the whole (organization-filtered) collection in one array, windowed by the client.
    const list = await source.client.listRestorePoints(query);
    return { items: list.items.filter(inWindow), complete: true };
  }
  const items: VboRestorePoint[] = [];
  const max = caps.maxLimit ?? Infinity;
  let hasMore = true;
  while (hasMore && items.length < plan.limit) {
    const page = await source.client.listRestorePoints({
      ...query,
      orderAsc: order === 'OLDEST_FIRST',
      offset: items.length,
      limit: Math.min(plan.limit - items.length, max),
    });
    items.push(...page.items);
    hasMore = page.hasMore;
  }
  return { items: items.filter(inWindow), complete: !hasMore };
}
