import { compareSortKeys, compareTimeSourceAscending, type SortKey, type TimeOrder } from './sortKey.js';

/** One server's answer to its `SourceRequestPlan`. */
export interface SourceBatch<T> {
  source: string;
  /**
   * Every item the server returned, unfiltered, in any order. The contract: they are the first
   * `limit` items of the asked window in the list's time direction, ties at one time in any order
   * (EM sorts by CreationTime only; VB365 may not sort ties at all). Items repeated by upstream
   * paging are tolerated (dropped).
   */
  items: readonly T[];
  /** The `limit` that was asked for: a batch this long may have more items beyond it. */
  limit: number;
}

export interface MergeSortedInput<T> {
  batches: readonly SourceBatch<T>[];
  order: TimeOrder;
  first: number;
  /** The previous page's last key: only items strictly after it are returned. */
  after: SortKey | null;
  /** Creation time in epoch ms (floor of the wire value). */
  timeOf: (item: T) => number;
  nativeIdOf: (item: T) => string;
  /**
   * Conditions the server could not apply (e.g. VB365 cannot filter by state). Applied here, after
   * `limit` and tie counting, which must see the server's answer as it was.
   */
  include?: (item: T) => boolean;
}

export interface MergedItem<T> {
  item: T;
  key: SortKey;
}

export interface MergeResult<T> {
  /** At most `first` items, strictly after `after`, in order. */
  items: MergedItem<T>[];
  hasNextPage: boolean;
  /** Per source of `batches`, how many of `items` it contributed (0 included). */
  contributed: Map<string, number>;
  /** `PagePosition.ties` for a cursor at the last item; 0 when `items` is empty. */
  endTies: number;
  /**
   * Servers whose full batch ended at a time the page needed to go past: the page stopped short of
   * `first` because their unseen items might sort earlier. Fetching them again with a larger limit
   * and merging again fills the page; leaving the page short is also correct (hasNextPage is true).
   */
  starved: { source: string; frontierMs: number }[];
}

interface Prepared<T> {
  source: string;
  /** All distinct returned items, sorted; tie counting needs the excluded ones too. */
  all: MergedItem<T>[];
  /** The included items strictly after `after`, sorted. */
  candidates: MergedItem<T>[];
  /** For a full batch, the time of its last item: unseen items sort at or after (frontierMs, source). */
  frontierMs: number | null;
}

/**
 * K-way merge of per-server batches into one page ordered by (creation time, source, id), all in
 * `order`'s direction. A page never claims a position it cannot prove (design.md section 5):
 *
 * A batch that came back full (`items.length >= limit`) ends at some time b, and the server may
 * hold more items at b that it did not send, in an unknown tie order. Such an unseen item of
 * server X can sit anywhere from (b, X, first id) onward, so only items sorting strictly before
 * (b, X) are emitted: any later one could be preceded by an item the next page would then skip.
 * With no ties at b this costs nothing, because `limit` is `first + 1 + ties` and the `+ 1` item
 * is the one held back. With ties at b the page may be shorter than `first`; `starved` says which
 * server to ask again with a larger limit, if the caller wants a full page.
 *
 * hasNextPage is true when an included item is left over or any batch was full (its unseen items
 * may match). The second case can be a false positive only when a filter applied here rejects
 * everything left on that server: the next page is then empty with hasNextPage false.
 *
 * Sources are few (one per configured server), so picking the next head by a linear scan over the
 * batches is cheaper and simpler than a heap.
 */
export function mergeSorted<T>({ batches, order, first, after, timeOf, nativeIdOf, include }: MergeSortedInput<T>): MergeResult<T> {
  const sign = order === 'NEWEST_FIRST' ? -1 : 1;
  const prepared: Prepared<T>[] = [];
  const contributed = new Map<string, number>();
  for (const batch of batches) {
    if (contributed.has(batch.source)) throw new Error(`mergeSorted: two batches for source ${batch.source}`);
    contributed.set(batch.source, 0);
    const all: MergedItem<T>[] = [];
    for (const item of batch.items) all.push({ item, key: { timeMs: timeOf(item), source: batch.source, nativeId: nativeIdOf(item) } });
    all.sort((a, b) => compareSortKeys(a.key, b.key, order));
    const distinct = all.filter((m, i) => i === 0 || compareSortKeys(all[i - 1]!.key, m.key, order) !== 0);
    const last = distinct[distinct.length - 1];
    const frontierMs = batch.items.length >= batch.limit && last !== undefined ? last.key.timeMs : null;
    const candidates = distinct.filter((m) => (after === null || compareSortKeys(m.key, after, order) > 0) && (include === undefined || include(m.item)));
    prepared.push({ source: batch.source, all: distinct, candidates, frontierMs });
  }

  // The earliest position (time, source) at which an unseen item may sit; emitted items sort strictly before it.
  let frontier: { timeMs: number; source: string } | null = null;
  for (const p of prepared) {
    if (p.frontierMs === null) continue;
    const f = { timeMs: p.frontierMs, source: p.source };
    if (frontier === null || sign * compareTimeSourceAscending(f, frontier) < 0) frontier = f;
  }
  const isSafe = (key: SortKey) => frontier === null || sign * compareTimeSourceAscending(key, frontier) < 0;

  const items: MergedItem<T>[] = [];
  const heads = prepared.map(() => 0);
  let blocked: SortKey | null = null;
  while (items.length < first) {
    let best = -1;
    for (let i = 0; i < prepared.length; i++) {
      const head = prepared[i]!.candidates[heads[i]!];
      if (head !== undefined && (best < 0 || compareSortKeys(head.key, prepared[best]!.candidates[heads[best]!]!.key, order) < 0)) best = i;
    }
    if (best < 0) break;
    const next = prepared[best]!.candidates[heads[best]!]!;
    if (!isSafe(next.key)) {
      blocked = next.key;
      break;
    }
    items.push(next);
    heads[best]!++;
    contributed.set(next.key.source, contributed.get(next.key.source)! + 1);
  }

  const leftover = prepared.some((p, i) => heads[i]! < p.candidates.length);
  const hasNextPage = leftover || prepared.some((p) => p.frontierMs !== null);

  const end = items[items.length - 1];
  let endTies = 0;
  if (end !== undefined) {
    const own = prepared.find((p) => p.source === end.key.source)!;
    for (const m of own.all) if (m.key.timeMs === end.key.timeMs && compareSortKeys(m.key, end.key, order) <= 0) endTies++;
  }

  // A short page is starved by every full batch whose frontier it could not pass: the one that
  // blocked the next candidate, or, when candidates ran out (all rejected by `include`), all of them.
  const starved: MergeResult<T>['starved'] = [];
  if (items.length < first) {
    for (const p of prepared) {
      if (p.frontierMs === null) continue;
      if (blocked === null || sign * compareTimeSourceAscending(blocked, { timeMs: p.frontierMs, source: p.source }) >= 0) {
        starved.push({ source: p.source, frontierMs: p.frontierMs });
      }
    }
  }
  return { items, hasNextPage, contributed, endTies, starved };
}
