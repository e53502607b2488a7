import { badUserInput } from '../badUserInput.js';
import { parseConnectionArgs } from '../connectionArgs.js';
import { cursorFingerprint } from '../cursor.js';
import type { GraphContext } from '../GraphContext.js';
import { sourced, type M365EventParent, type PageInfoParent } from '../mappers.js';
import type { Source } from '../../upstream/Source.js';

export interface EventsPage {
  edges: { cursor: string; node: M365EventParent }[];
  nodes: M365EventParent[];
  pageInfo: PageInfoParent;
  asOf: string | null;
  stale: boolean;
}

/**
 * A page of a session's events (`Source.listSessionEvents`). Events are listed in their order and
 * paged by offset, and events of a session only grow at the end, so the cursor is the offset
 * after the last event: one call of `first + 1` per page.
 */
export async function eventsConnection(
  context: GraphContext,
  source: Source,
  sessionId: string,
  args: { first?: number | null; after?: string | null },
  path: readonly (string | number)[],
): Promise<EventsPage> {
  const { first, after } = parseConnectionArgs(args, context.limits);
  const fingerprint = cursorFingerprint(`Microsoft365RestoreSession.events:${source.name}:${sessionId}`, null, null);
  let offset = 0;
  if (after !== null) {
    const [position] = context.cursors.decode(after, fingerprint).key;
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0)
      throw badUserInput('Invalid cursor: it does not belong to this list. Start again without `after`.');
    offset = position;
  }
  const page = await source.listSessionEvents(sessionId, { offset, limit: first + 1 }, context.scope(source));
  if (page.freshness?.cause !== undefined) context.reportStale(source, page.freshness.cause, path);
  const items = page.items.slice(0, first);
  const edges = items.map((value, i) => ({
    cursor: context.cursors.encode(fingerprint, { key: [offset + i + 1], ties: 0 }),
    node: sourced(source, value),
  }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    asOf: edges.length === 0 ? null : new Date(page.freshness?.asOf ?? context.requestedAt).toISOString(),
    stale: page.freshness?.stale ?? false,
    pageInfo: {
      hasNextPage: page.items.length > first,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
