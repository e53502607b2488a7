import { wireTimeMs, type RestoreSessionRecord, type SessionCondition, type Source } from '../../upstream/Source.js';
import type { GraphContext } from '../GraphContext.js';
import type { ConnectionParent, RestoreSessionParent } from '../mappers.js';
import type { SourceRequestPlan } from '../planSourceRequest.js';
import type { FetchedBatch } from './mergedConnection.js';
import { conditionsOf, type ParsedFilter } from './restoreSessionFilter.js';
import { timeListConnection, type ListRequest } from './timeListConnection.js';

/**
 * One page of restore sessions merged across the servers `filter` lets through (design.md section
 * 5). Each source applies what its API can (`Source.listRestoreSessions`); the gateway finishes
 * what it reports unapplied (VB365: states, results, organization; EM: UNKNOWN states/results).
 */
export function restoreSessionsConnection(request: ListRequest): Promise<ConnectionParent<RestoreSessionParent>> {
  const { context, filter, args } = request;
  const conditions = conditionsOf(filter);
  return timeListConnection<RestoreSessionRecord>(
    request,
    'RestoreSession',
    (s) => wireTimeMs(s.creationTime),
    async (source: Source, plan: SourceRequestPlan): Promise<FetchedBatch<RestoreSessionRecord>> => {
      const result = await source.listRestoreSessions({ window: plan, order: args.order, limit: plan.limit, conditions }, context.scope(source));
      const keep = await keepOf(context, source, filter, result.unapplied, result.items);
      return { items: result.items, complete: result.complete, ...(keep && { keep }), ...(result.freshness && { freshness: result.freshness }) };
    },
  ) as Promise<ConnectionParent<RestoreSessionParent>>;
}

/** The conditions a source left unapplied, as a predicate over its sessions; undefined when none. */
async function keepOf(
  context: GraphContext,
  source: Source,
  filter: ParsedFilter,
  unapplied: ReadonlySet<SessionCondition>,
  items: readonly RestoreSessionRecord[],
): Promise<((s: RestoreSessionRecord) => boolean) | undefined> {
  if (unapplied.size === 0) return undefined;
  const c = conditionsOf(filter);
  const same = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();
  const plain = (s: RestoreSessionRecord): boolean =>
    (!unapplied.has('states') || c.states === undefined || c.states.has(s.state)) &&
    (!unapplied.has('results') || c.results === undefined || c.results.has(s.result)) &&
    (!unapplied.has('vmName') || c.vmName === undefined || ('vmDisplayName' in s && s.vmDisplayName === c.vmName)) &&
    (!unapplied.has('backupServerId') || c.backupServerId === undefined || ('backupServerId' in s && same(s.backupServerId, c.backupServerId)));
  if (!unapplied.has('organizationId') || c.organizationId === undefined) return plain;
  // A session's organization may take a lookup (VB365 knows sessions by organization name or link
  // only): resolved through the request's loader, once per session, for the sessions still in.
  const wanted = c.organizationId;
  const matching = new Set<string>();
  await Promise.all(
    items.map(async (s) => {
      if (!plain(s)) return;
      const org = await context.loaders.sessionOrganization(source, s);
      if (org !== null && same(org.nativeId, wanted)) matching.add(s.nativeId);
    }),
  );
  return (s) => matching.has(s.nativeId);
}
