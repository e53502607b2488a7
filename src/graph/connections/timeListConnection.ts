import type { GraphQLResolveInfo } from 'graphql';
import { responsePathAsArray } from 'graphql';
import type { EntityRecord } from '../../upstream/Source.js';
import type { GraphContext } from '../GraphContext.js';
import type { ConnectionParent, Sourced } from '../mappers.js';
import type { TimeOrder } from '../sortKey.js';
import { mergedConnection, type MergedConnectionInput } from './mergedConnection.js';
import { askedSources, fingerprintOf, type ParsedFilter } from './restoreSessionFilter.js';

/** One time-ordered list field as its resolver received it. */
export interface ListRequest {
  context: GraphContext;
  info: GraphQLResolveInfo;
  /** Names the list in the cursor fingerprint (`Query.restoreSessions`, `BackupServer.restoreSessions:<id>`). */
  connection: string;
  filter: ParsedFilter;
  args: { first?: number | null; after?: string | null; order: TimeOrder };
  /** Lists of one server: a failure nulls the field instead of an empty page with the failure in-band. */
  throwOnFailure?: boolean;
}

/**
 * The plumbing every time-ordered list of the schema shares: path, cursor fingerprint, window,
 * asked sources (`list`: sources that hold none of it, or whose entities cannot match the filter,
 * are SKIPPED).
 */
export function timeListConnection<T extends EntityRecord>(
  request: ListRequest,
  list: 'RestoreSession' | 'RestorePoint',
  timeOf: MergedConnectionInput<T>['timeOf'],
  fetch: MergedConnectionInput<T>['fetch'],
): Promise<ConnectionParent<Sourced<T>>> {
  const { context, filter, args } = request;
  return mergedConnection<T>({
    context,
    path: responsePathAsArray(request.info.path),
    connection: request.connection,
    fingerprintFilter: fingerprintOf(filter),
    order: args.order,
    args,
    window: filter.window,
    asked: askedSources(filter, context.sources, list),
    fetch,
    timeOf,
    ...(request.throwOnFailure !== undefined && { throwOnFailure: request.throwOnFailure }),
  });
}
