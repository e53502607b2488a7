import type { Freshness, Source } from '../../upstream/Source.js';
import { sourceErrorOf } from '../errors/upstreamGraphQLError.js';
import type { GraphContext } from '../GraphContext.js';
import type { SourceOutcomeParent } from '../mappers.js';

/**
 * The outcome of a source that answered: OK, or STALE when it answered from the gateway's memory
 * because the server failed (the failure is the outcome's error). Without a freshness stamp the
 * data was read during this request.
 */
export function answered(context: GraphContext, source: Source, contributed: number, freshness: Freshness | undefined): SourceOutcomeParent {
  const asOf = new Date(freshness?.asOf ?? context.requestedAt).toISOString();
  if (freshness?.stale === true) {
    const error = sourceErrorOf(source, freshness.cause ?? new Error(`${source.name}: stale`), context.logger);
    return { source, status: 'STALE', contributed, error, asOf, stale: true };
  }
  return { source, status: 'OK', contributed, error: null, asOf, stale: false };
}
