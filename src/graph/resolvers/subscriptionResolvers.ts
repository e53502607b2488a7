import { GraphQLError } from 'graphql';
import type { Resolvers } from '../__generated__/resolvers.generated.js';
import { askedSources, conditionsOf, parseFilter, type ParsedFilter } from '../connections/restoreSessionFilter.js';
import { sourceErrorOf } from '../errors/upstreamGraphQLError.js';
import type { GraphContext } from '../GraphContext.js';
import { liveStream } from '../live/liveStream.js';
import { sourced, type RestoreSessionParent } from '../mappers.js';
import { wireTimeMs, type LiveEvent } from '../../upstream/Source.js';

const same = (a: string | null | undefined, b: string): boolean => typeof a === 'string' && a.toLowerCase() === b.toLowerCase();

/**
 * The subscriber's filter over one event, in memory: the same conditions as `restoreSessions`
 * (`vmName` compared as EM compares it, case-insensitively), on the session as it is in the event.
 * Source events pass: the subscriber asked for that server.
 */
function eventFilter(context: GraphContext, filter: ParsedFilter): (event: LiveEvent) => boolean | Promise<boolean> {
  const c = conditionsOf(filter);
  const { fromMs, toMs } = filter.window;
  return async (event) => {
    if (!('session' in event)) return true;
    const s = event.session;
    const created = wireTimeMs(s.creationTime);
    if (fromMs !== null && !(created >= fromMs)) return false;
    if (toMs !== null && !(created < toMs)) return false;
    if (c.states !== undefined && !c.states.has(s.state)) return false;
    if (c.results !== undefined && !c.results.has(s.result)) return false;
    if (c.vmName !== undefined && !('vmDisplayName' in s && same(s.vmDisplayName, c.vmName))) return false;
    if (c.backupServerId !== undefined && !('backupServerId' in s && same(s.backupServerId, c.backupServerId))) return false;
    if (c.organizationId !== undefined) {
      const source = context.sourceByName.get(event.source)!;
      const org = await context.loaders.sessionOrganization(source, s);
      if (org === null || !same(org.nativeId, c.organizationId)) return false;
    }
    return true;
  };
}

/**
 * One subscription's memory of the sessions its filter let through: the event that takes such a
 * session out of the filter (a `states: [WORKING]` subscriber's session that finishes, one whose
 * result or state changes) passes once, so a client can drop what it shows; a session the
 * subscription never saw stays out. Forgotten when the session finishes, so it is bounded by the
 * sessions running.
 */
function followingLeaves(keep: (event: LiveEvent) => boolean | Promise<boolean>): (event: LiveEvent) => Promise<boolean> {
  const seen = new Set<string>();
  return async (event) => {
    if (!('session' in event)) return keep(event);
    const key = `${event.source}\u0000${event.session.nativeId.toLowerCase()}`;
    if (await keep(event)) {
      if (event.type === 'FINISHED') seen.delete(key);
      else seen.add(key);
      return true;
    }
    return seen.delete(key);
  };
}

export const subscriptionResolvers: Resolvers = {
  Subscription: {
    restoreSessionChanged: {
      subscribe: (_parent, args, context) => {
        if (context.live === undefined) throw new GraphQLError('Subscriptions are not available here.', { extensions: { code: 'BAD_REQUEST' } });
        const filter = parseFilter(args.filter, context.sourceByName);
        const asked = askedSources(filter, context.sources, 'RestoreSession').map((s) => s.name);
        return liveStream(context, asked, followingLeaves(eventFilter(context, filter)));
      },
      resolve: (parent: unknown) => parent as never,
    },
  },
  RestoreSessionChange: {
    type: (p) => p.event.type,
    session: (p) => ('session' in p.event ? (sourced(p.source, p.event.session) as RestoreSessionParent) : null),
    changedFields: (p) => ('changed' in p.event ? [...p.event.changed] : []),
    source: (p) => p.source,
    at: (p) => new Date(p.event.at).toISOString(),
    error: (p, _a, context) => (p.event.type === 'SOURCE_DOWN' ? sourceErrorOf(p.source, p.event.error, context.logger) : null),
  },
};
