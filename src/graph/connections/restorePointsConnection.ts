import { wireTimeMs, type PointConditions, type RestorePointRecord, type Source } from '../../upstream/Source.js';
import type { ConnectionParent, RestorePointParent } from '../mappers.js';
import type { SourceRequestPlan } from '../planSourceRequest.js';
import type { FetchedBatch } from './mergedConnection.js';
import { conditionsOf } from './restoreSessionFilter.js';
import { timeListConnection, type ListRequest } from './timeListConnection.js';

/**
 * Restore points merged across servers by point in time (`Source.listRestorePoints`: EM pushes the
 * window, VM name and backup server down; VB365 v6+ the organization and window). Sources that
 * hold no restore points (VB365 before v6) are SKIPPED.
 */
export function restorePointsConnection(request: ListRequest): Promise<ConnectionParent<RestorePointParent>> {
  const { context, filter, args } = request;
  const { vmName, backupServerId, organizationId } = conditionsOf(filter);
  const conditions: PointConditions = {
    ...(vmName !== undefined && { vmName }),
    ...(backupServerId !== undefined && { backupServerId }),
    ...(organizationId !== undefined && { organizationId }),
  };
  const same = (a: string | null, b: string | undefined) => b === undefined || (a !== null && a.toLowerCase() === b.toLowerCase());
  return timeListConnection<RestorePointRecord>(
    request,
    'RestorePoint',
    (p) => wireTimeMs(p.pointInTime),
    async (source: Source, plan: SourceRequestPlan): Promise<FetchedBatch<RestorePointRecord>> => {
      const result = await source.listRestorePoints({ window: plan, order: args.order, limit: plan.limit, conditions }, context.scope(source));
      const freshness = result.freshness && { freshness: result.freshness };
      if (result.unapplied.size === 0) return { items: result.items, complete: result.complete, ...freshness };
      const u = result.unapplied;
      const keep = (p: RestorePointRecord) =>
        (!u.has('vmName') || ('vmName' in p && same(p.vmName, vmName))) &&
        (!u.has('backupServerId') || ('backupServerId' in p && same(p.backupServerId, backupServerId))) &&
        (!u.has('organizationId') || ('organizationId' in p && same(p.organizationId, organizationId)));
      return { items: result.items, complete: result.complete, keep, ...freshness };
    },
  ) as Promise<ConnectionParent<RestorePointParent>>;
}
