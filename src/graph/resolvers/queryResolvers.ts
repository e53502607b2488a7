import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { Resolvers } from '../__generated__/resolvers.generated.js';
import { restorePointsConnection } from '../connections/restorePointsConnection.js';
import { restoreSessionsConnection } from '../connections/restoreSessionsConnection.js';
import { parseFilter } from '../connections/restoreSessionFilter.js';
import { smallListConnection } from '../connections/smallListConnection.js';
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
      // Every id is validated before any call: one malformed id fails the field (schema contract).
      for (const id of ids) decodeGlobalId(id);
      // Per-item failures become that item's error (graphql-js nulls the item, keeps the others).
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
