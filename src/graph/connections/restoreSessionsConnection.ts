import type { GraphQLResolveInfo } from 'graphql';
import { responsePathAsArray } from 'graphql';
import type { EmRestoreSession } from '../../upstream/em/types.js';
import type { VboRestoreSession } from '../../upstream/vbo/types.js';
import { emSession, m365Session } from '../entities.js';
import type { GraphContext } from '../GraphContext.js';
import type { ConnectionParent, RestoreSessionParent } from '../mappers.js';
import { normalizeResult, normalizeState } from '../sessionStatus.js';
import type { TimeOrder } from '../sortKey.js';
import type { GraphSource } from '../sources/createSources.js';
import { wireTimeMs } from '../wireTime.js';
import { fetchEmRestoreSessions, fetchVboRestoreSessions } from './fetchRestoreSessions.js';
import { mergedConnection } from './mergedConnection.js';
import { askedSources, fingerprintOf, type ParsedFilter } from './restoreSessionFilter.js';

type WireSession = EmRestoreSession | VboRestoreSession;

export interface RestoreSessionsArgs {
  first?: number | null;
  after?: string | null;
  order: TimeOrder;
}

/**
 * One page of restore sessions merged across the servers `filter` lets through (design.md section
 * 5). The gateway finishes what an API cannot: states and results on VB365 (no such parameters),
 * UNKNOWN states/results anywhere (no wire spelling), organization on VB365 (sessions can only be
 * matched to it through the organization list), and the window on v1-v3.
 */
export function restoreSessionsConnection(
  context: GraphContext,
  info: GraphQLResolveInfo,
  connection: string,
  filter: ParsedFilter,
  args: RestoreSessionsArgs,
  throwOnFailure = false,
): Promise<ConnectionParent<RestoreSessionParent>> {
  return mergedConnection<WireSession, RestoreSessionParent>({
    context,
    path: responsePathAsArray(info.path),
    connection,
    fingerprintFilter: fingerprintOf(filter),
    order: args.order,
    args,
    window: filter.window,
    asked: askedSources(filter, context.sources),
    fetch: (source, plan) =>
      source.kind === 'enterprise-manager'
        ? fetchEmRestoreSessions(source, plan, args.order, filter)
        : fetchVboRestoreSessions(source, plan, args.order, context.loaders),
    timeOf: (s) => wireTimeMs(s.creationTime),
    nativeIdOf: (s) => s.id.toLowerCase(),
    keep: (source, items) => keepOf(context, source, filter, items as WireSession[]),
    throwOnFailure,
    toNode: (source, item) =>
      source.kind === 'enterprise-manager' ? emSession(source, item as EmRestoreSession) : m365Session(source, item as VboRestoreSession),
  });
}

async function keepOf(
  context: GraphContext,
  source: GraphSource,
  filter: ParsedFilter,
  items: readonly WireSession[],
): Promise<(item: WireSession) => boolean> {
  const { states, results } = filter;
  const statusOk = (s: WireSession) => (states === null || states.has(normalizeState(s.state))) && (results === null || results.has(normalizeResult(s.result)));
  if (source.kind !== 'microsoft365' || filter.organization === null) return statusOk;
  // VB365 cannot list the sessions of one organization: each session's organization is resolved
  // through the per-request organization list (by name from v6; see Loaders.sessionOrganization).
  const wanted = filter.organization.nativeId.toLowerCase();
  const matching = new Set<string>();
  await Promise.all(
    items.map(async (s) => {
      if (!statusOk(s)) return;
      const org = await context.loaders.sessionOrganization(source, s as VboRestoreSession);
      if (org !== null && org.id.toLowerCase() === wanted) matching.add(s.id);
    }),
  );
  return (s) => matching.has(s.id);
}
