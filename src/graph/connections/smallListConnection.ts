import type { GraphQLResolveInfo } from 'graphql';
import { responsePathAsArray } from 'graphql';
import { badUserInput } from '../badUserInput.js';
import { parseConnectionArgs } from '../connectionArgs.js';
import { cursorFingerprint } from '../cursor.js';
import { graphQLErrorOf, sourceErrorOf } from '../errors/upstreamGraphQLError.js';
import type { GraphContext } from '../GraphContext.js';
import { failed, pageFreshness, skipped, sourced, type ConnectionParent, type Sourced, type SourceErrorParent, type SourceOutcomeParent } from '../mappers.js';
import { answered } from './answered.js';
import { holds, type Freshness, type RecordOf, type SmallListKind, type Source } from '../../upstream/Source.js';
import { parseFilter } from './restoreSessionFilter.js';

export interface SmallListInput<K extends SmallListKind> {
  context: GraphContext;
  info: GraphQLResolveInfo;
  connection: string;
  args: { first?: number | null; after?: string | null; filter?: { sources?: string[] | null } | null };
  /** What the list holds: every source that holds it is asked, unless `filter.sources` says otherwise. */
  kind: K;
}

const compare = (a: readonly string[], b: readonly string[]): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
};

/**
 * Backup servers and organizations are a handful per server: each asked server's whole list is
 * fetched (the loaders cache it per request) and the page is sliced after the cursor's
 * (source, name, id) key. Code-unit comparison, never locale: the order must be the same everywhere.
 */
export async function smallListConnection<K extends SmallListKind>(input: SmallListInput<K>): Promise<ConnectionParent<Sourced<RecordOf[K]>>> {
  const { context, kind } = input;
  // Unknown names in `filter.sources` are BAD_USER_INPUT, as in every list.
  const named = parseFilter({ sources: input.args.filter?.sources ?? null }, context.sourceByName).sources;
  const asked = context.sources.filter((s) => holds(s.describe(), kind) && (named === null || named.has(s.name)));
  const { first, after } = parseConnectionArgs(input.args, context.limits);
  const fingerprint = cursorFingerprint(input.connection, { sources: asked.map((s) => s.name) }, null);
  let afterKey: string[] | null = null;
  if (after !== null) {
    const key = context.cursors.decode(after, fingerprint).key;
    if (key.length !== 3 || !key.every((k) => typeof k === 'string'))
      throw badUserInput('Invalid cursor: it does not belong to this list. Start again without `after`.');
    afterKey = key as string[];
  }
  const errors = new Map<string, SourceErrorParent>();
  const freshness = new Map<string, Freshness>();
  const all: { source: Source; item: RecordOf[K]; key: string[] }[] = [];
  await Promise.all(
    asked.map(async (source) => {
      try {
        const items = await source.listAll(kind, context.scope(source));
        // A whole list is read at once: its first record's stamp is the list's.
        if (items[0]?.freshness !== undefined) freshness.set(source.name, items[0].freshness);
        for (const item of items) all.push({ source, item, key: [source.name, item.name, item.nativeId.toLowerCase()] });
      } catch (err) {
        errors.set(source.name, sourceErrorOf(source, err, context.logger));
      }
    }),
  );
  all.sort((a, b) => compare(a.key, b.key));
  const rest = afterKey === null ? all : all.filter((x) => compare(x.key, afterKey) > 0);
  const page = rest.slice(0, first);
  const edges = page.map((x) => ({ cursor: context.cursors.encode(fingerprint, { key: x.key, ties: 0 }), node: sourced(x.source, x.item) }));
  const askedNames = new Set(asked.map((s) => s.name));
  const outcomes: SourceOutcomeParent[] = context.sources.map((source) => {
    const error = errors.get(source.name);
    if (!askedNames.has(source.name)) return skipped(source);
    if (error) return failed(source, error);
    return answered(context, source, page.filter((x) => x.source.name === source.name).length, freshness.get(source.name));
  });
  const path = responsePathAsArray(input.info.path);
  for (const o of outcomes) {
    if (o.stale) context.reportStale(o.source, freshness.get(o.source.name)?.cause ?? new Error('stale'), path);
    else if (o.error) context.partialErrors.push(graphQLErrorOf(o.error, path));
  }
  return {
    edges,
    pageInfo: { hasNextPage: rest.length > first, hasPreviousPage: false, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    outcomes,
    ...pageFreshness(outcomes),
  };
}
