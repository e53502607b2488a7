import type { GraphQLResolveInfo } from 'graphql';
import { responsePathAsArray } from 'graphql';
import type { EntityRecord } from '../../upstream/Source.js';
import type { ConnectionParent, Sourced } from '../mappers.js';
import type { TimeOrder } from '../sortKey.js';
import { mergedConnection, type MergedConnectionInput } from './mergedConnection.js';
import { askedSources, fingerprintOf, type ParsedFilter } from './restoreSessionFilter.js';

export interface TimeListInput<T extends EntityRecord> extends Pick<MergedConnectionInput<T>, 'context' | 'fetch' | 'timeOf' | 'throwOnFailure'> {
  info: GraphQLResolveInfo;
  connection: string;
  filter: ParsedFilter;
  args: { first?: number | null; after?: string | null; order: TimeOrder };
  /** Which entity the list holds: sources that hold none, or whose entities cannot match the filter, are SKIPPED. */
  list: 'RestoreSession' | 'RestorePoint';
}

/** The plumbing every time-ordered list of the schema shares: path, cursor fingerprint, window, asked sources. */
export function timeListConnection<T extends EntityRecord>(input: TimeListInput<T>): Promise<ConnectionParent<Sourced<T>>> {
  const { context, filter, args } = input;
  return mergedConnection<T>({
    context,
    path: responsePathAsArray(input.info.path),
    connection: input.connection,
    fingerprintFilter: fingerprintOf(filter),
    order: args.order,
    args,
    window: filter.window,
    asked: askedSources(filter, context.sources, input.list),
    fetch: input.fetch,
    timeOf: input.timeOf,
    ...(input.throwOnFailure !== undefined && { throwOnFailure: input.throwOnFailure }),
  });
}
