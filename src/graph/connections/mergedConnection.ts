import { cursorFingerprint } from '../cursor.js';
import { startMergeStep } from '../../observability/mergeSpans.js';
import { parseConnectionArgs, type RawConnectionArgs } from '../connectionArgs.js';
import { graphQLErrorOf, sourceErrorOf } from '../errors/upstreamGraphQLError.js';
import type { GraphContext } from '../GraphContext.js';
import { answered } from './answered.js';
import { failed, pageFreshness, skipped, sourced, type ConnectionParent, type Sourced, type SourceErrorParent, type SourceOutcomeParent } from '../mappers.js';
import { mergeSorted, type SourceBatch } from '../mergeSorted.js';
import { planSourceRequest, type PagePosition, type SourceRequestPlan } from '../planSourceRequest.js';
import { compareSortKeys, sortKeyFromTuple, sortKeyToTuple, type SortKey, type TimeOrder } from '../sortKey.js';
import type { EntityRecord, Freshness, Source, TimeWindow } from '../../upstream/Source.js';

/** What one server answered to its plan. */
export interface FetchedBatch<T> {
  /** The first `plan.limit` items of the window in the list's direction (ties in any order), or more. */
  items: T[];
  /** True when these are ALL the items of the window (the server has nothing more to give). */
  complete: boolean;
  /** Conditions the server could not apply, as a predicate (applied after tie counting); absent: keep all. */
  keep?: (item: T) => boolean;
  /** When the answer was read, and whether it is stale (with its cause). */
  freshness?: Freshness;
}

export interface MergedConnectionInput<T extends EntityRecord> {
  context: GraphContext;
  /** The field's response path, for the errors of failing servers. */
  path: readonly (string | number)[];
  /** Names the list in the cursor fingerprint (`Query.restoreSessions`, `BackupServer.restoreSessions:<id>`). */
  connection: string;
  /** The parsed filter, canonical (epoch ms, decoded ids), for the fingerprint. */
  fingerprintFilter: unknown;
  order: TimeOrder;
  args: RawConnectionArgs;
  window: TimeWindow;
  /** The servers to ask; every other configured server is reported SKIPPED. */
  asked: readonly Source[];
  fetch(source: Source, plan: SourceRequestPlan): Promise<FetchedBatch<T>>;
  timeOf(item: T): number;
  /**
   * For lists of one server (`BackupServer.restoreSessions`...): a failure nulls the field with its
   * error instead of an empty page with the failure in-band.
   */
  throwOnFailure?: boolean;
}

/** An item with its sort fields computed once (time parsing dominated the merge when done per comparison). */
interface Tagged<T> {
  item: T;
  keep: boolean;
  timeMs: number;
  nativeId: string;
}

interface Answer<T> {
  source: Source;
  batch?: SourceBatch<Tagged<T>>;
  limit?: number;
  error?: SourceErrorParent;
  freshness?: Freshness;
}

/** Refetch rounds for starved servers before a page is returned short (it stays correct: hasNextPage is true). */
const MAX_REFETCH_ROUNDS = 4;

/**
 * One page of a list merged across servers (design.md section 5): each asked server gets a time
 * window and limit from `planSourceRequest` (so page N costs what page 1 costs), the answers are
 * k-way merged by `mergeSorted`, servers "starved" by ties at their batch edge are asked again with
 * a larger limit, and every edge gets a keyset cursor. A failing server does not fail the page: it
 * is reported in `outcomes`/`sourceErrors` and, once, in the response's `errors` with `path`.
 */
export async function mergedConnection<T extends EntityRecord>(input: MergedConnectionInput<T>): Promise<ConnectionParent<Sourced<T>>> {
  const { context, order } = input;
  const { first, after } = parseConnectionArgs(input.args, context.limits);
  const fingerprint = cursorFingerprint(input.connection, input.fingerprintFilter, order);
  let position: PagePosition | null = null;
  if (after !== null) {
    const decoded = context.cursors.decode(after, fingerprint);
    position = { key: sortKeyFromTuple(decoded.key), ties: decoded.ties };
  }

  const ask = async (source: Source, limit?: number): Promise<Answer<T>> => {
    const plan = planSourceRequest({ source: source.name, order, first, after: position, window: input.window });
    if (plan === null) return { source, batch: { source: source.name, items: [], limit: Infinity } };
    if (limit !== undefined) plan.limit = Math.max(plan.limit, limit);
    try {
      const fetched = await input.fetch(source, plan);
      const keep = fetched.keep ?? (() => true);
      const items = fetched.items.map((item) => ({ item, keep: keep(item), timeMs: input.timeOf(item), nativeId: item.nativeId.toLowerCase() }));
      return {
        source,
        batch: { source: source.name, items, limit: fetched.complete ? Infinity : plan.limit },
        limit: plan.limit,
        ...(fetched.freshness !== undefined && { freshness: fetched.freshness }),
      };
    } catch (err) {
      return { source, error: sourceErrorOf(source, err, context.logger) };
    }
  };

  const answers = new Map<string, Answer<T>>();
  // Tracing: one span per step (a round: ask, then merge), src/observability/mergeSpans.ts; a no-op when off.
  let step = startMergeStep(input.connection, 0, input.asked);
  const firstAnswers = await Promise.all(input.asked.map((s) => ask(s)));
  for (const a of firstAnswers) answers.set(a.source.name, a);

  const merge = () =>
    mergeSorted<Tagged<T>>({
      batches: [...answers.values()].flatMap((a) => (a.batch ? [a.batch] : [])),
      order,
      first,
      after: position?.key ?? null,
      timeOf: (t) => t.timeMs,
      nativeIdOf: (t) => t.nativeId,
      include: (t) => t.keep,
    });
  let merged = merge();
  step.end(firstAnswers, merged);
  for (let round = 0; round < MAX_REFETCH_ROUNDS && merged.starved.length > 0; round++) {
    step = startMergeStep(
      input.connection,
      round + 1,
      merged.starved.map(({ source }) => answers.get(source)!.source),
    );
    const again = await Promise.all(
      merged.starved.map(({ source }) => {
        const previous = answers.get(source)!;
        return ask(previous.source, (previous.limit ?? first + 1) * 2 + first);
      }),
    );
    // A refetch that fails keeps the earlier answer: the page is then short but still correct.
    for (const a of again) if (a.batch) answers.set(a.source.name, a);
    if (again.every((a) => !a.batch)) {
      step.end(again);
      break;
    }
    merged = merge();
    step.end(again, merged);
  }

  const byTime = new Map<string, Map<number, Tagged<T>[]>>();
  const edges = merged.items.map((m) => {
    const answer = answers.get(m.key.source)!;
    let cursor: string | undefined;
    // Signed (an HMAC) only when asked for: most pages select `nodes`, or one `endCursor`.
    const encode = (): string => {
      let index = byTime.get(m.key.source);
      if (index === undefined) {
        index = groupByTime(answer.batch!.items);
        byTime.set(m.key.source, index);
      }
      return context.cursors.encode(fingerprint, { key: sortKeyToTuple(m.key), ties: tiesAt(index, m.key, order) });
    };
    return {
      get cursor(): string {
        return (cursor ??= encode());
      },
      node: sourced(answer.source, m.item.item),
    };
  });

  const outcomes: SourceOutcomeParent[] = context.sources.map((source) => {
    const a = answers.get(source.name);
    if (a === undefined) return skipped(source);
    if (a.error) return failed(source, a.error);
    return answered(context, source, merged.contributed.get(source.name) ?? 0, a.freshness);
  });
  for (const o of outcomes) {
    if (!o.error) continue;
    if (o.stale) context.reportStale(o.source, answers.get(o.source.name)!.freshness!.cause ?? new Error('stale'), input.path);
    else if (input.throwOnFailure) throw graphQLErrorOf(o.error);
    else context.partialErrors.push(graphQLErrorOf(o.error, input.path));
  }

  return {
    edges,
    pageInfo: {
      hasNextPage: merged.hasNextPage,
      hasPreviousPage: false,
      get startCursor() {
        return edges[0]?.cursor ?? null;
      },
      get endCursor() {
        return edges.at(-1)?.cursor ?? null;
      },
    },
    outcomes,
    ...pageFreshness(outcomes),
  };
}

function groupByTime<T>(items: readonly Tagged<T>[]): Map<number, Tagged<T>[]> {
  const out = new Map<number, Tagged<T>[]>();
  for (const t of items) {
    const list = out.get(t.timeMs);
    if (list) list.push(t);
    else out.set(t.timeMs, [t]);
  }
  return out;
}

/** `PagePosition.ties` for a cursor at `key`: distinct items of its server at the same ms sorting at or before it. */
function tiesAt<T>(byTime: Map<number, Tagged<T>[]>, key: SortKey, order: TimeOrder): number {
  const seen = new Set<string>();
  for (const t of byTime.get(key.timeMs) ?? []) {
    if (compareSortKeys({ timeMs: t.timeMs, source: key.source, nativeId: t.nativeId }, key, order) <= 0) seen.add(t.nativeId);
  }
  return seen.size;
}
