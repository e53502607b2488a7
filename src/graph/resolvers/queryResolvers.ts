import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { Resolvers } from '../__generated__/resolvers.generated.js';
import { restorePointsConnection } from '../connections/restorePointsConnection.js';
import { restoreSessionsConnection } from '../connections/restoreSessionsConnection.js';
import { parseFilter } from '../connections/restoreSessionFilter.js';
import { smallListConnection } from '../connections/smallListConnection.js';
import { badUserInput } from '../badUserInput.js';
import { decodeGlobalId, type GlobalIdType } from '../globalId.js';
import type { GraphContext } from '../GraphContext.js';
import { resolveNode } from './resolveNode.js';

const orderOf = (value: string | null | undefined) => (value === 'OLDEST_FIRST' ? 'OLDEST_FIRST' : 'NEWEST_FIRST');

/** A typed root lookup: the id must be of one of `types` (else BAD_USER_INPUT), then `node` semantics. */
async function lookup(context: GraphContext, info: GraphQLResolveInfo, id: string, types: readonly GlobalIdType[]) {
  decodeGlobalId(id, types);
  return resolveNode(context, id, responsePathAsArray(info.path));
}

export const queryResolvers: Resolvers = {
  Query: {
    sources: (_root, _args, context) => [...context.sources],

    node: (_root, { id }, context, info) => resolveNode(context, id, responsePathAsArray(info.path)),

    nodes: async (_root, { ids }, context, info) => {
      // Too many ids is a mistake of the whole request: the field fails before any call.
      const max = context.limits.maxFirst;
      if (ids.length > max) {
        throw badUserInput(`Argument "ids" holds ${ids.length} ids, over the maximum of ${max} (limits.maxPageSize): ask in several requests.`, {
          argumentName: 'ids',
          max,
        });
      }
      // Each id on its own (Relay): a malformed id (BAD_USER_INPUT, raised by resolveNode before any
      // call) or a failed server becomes that item's error, with path ["nodes", i]; graphql-js nulls
      // that item and keeps the others.
      return Promise.all(
        ids.map((id, i) =>
          resolveNode(context, id, [...responsePathAsArray(info.path), i]).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))),
        ),
      ) as never;
    },

    restoreSessions: (_root, args, context, info) =>
      restoreSessionsConnection({
        context,
        info,
        connection: 'Query.restoreSessions',
        filter: parseFilter(args.filter, context.sourceByName),
        args: { first: args.first, after: args.after, order: orderOf(args.orderBy) },
      }),

    restoreSession: (_root, { id }, context, info) => lookup(context, info, id, ['EnterpriseManagerRestoreSession', 'Microsoft365RestoreSession']) as never,

    restorePoints: (_root, args, context, info) =>
      restorePointsConnection({
        context,
        info,
        connection: 'Query.restorePoints',
        filter: parseFilter(args.filter, context.sourceByName),
        args: { first: args.first, after: args.after, order: orderOf(args.orderBy) },
      }),

    backupServers: (_root, args, context, info) => smallListConnection({ context, info, connection: 'Query.backupServers', args, kind: 'BackupServer' }),

    backupServer: (_root, { id }, context, info) => lookup(context, info, id, ['BackupServer']) as never,

    organizations: (_root, args, context, info) => smallListConnection({ context, info, connection: 'Query.organizations', args, kind: 'Organization' }),
  },
};
