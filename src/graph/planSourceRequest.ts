import type { TimeWindow } from '../upstream/Source.js';
import type { SortKey, TimeOrder } from './sortKey.js';

export type { TimeWindow };

/** Where a page starts: the sort key of the previous page's last item and its tie count (see `MergeResult.endTies`). */
export interface PagePosition {
  key: SortKey;
  /**
   * How many items of `key.source` share `key.timeMs` and sort at or before `key` (the last item
   * itself included). They were all returned already, and the upstream will send them again.
   */
  ties: number;
}

/** What to ask one server for, for one page of a merged list. */
export interface SourceRequestPlan extends TimeWindow {
  source: string;
  /**
   * How many items to ask for, newest first for NEWEST_FIRST and oldest first for OLDEST_FIRST.
   * Can exceed an API's page maximum when ties are many; the client then pages upstream.
   */
  limit: number;
}

export interface PlanSourceRequestInput {
  source: string;
  order: TimeOrder;
  /** The validated page size (0 allowed: the request then only answers `hasNextPage`). */
  first: number;
  after: PagePosition | null;
  /** The filter's createdAfter (inclusive) / createdBefore (exclusive), already in ms. */
  window: TimeWindow;
}

/**
 * Per server, the time window and item count to request for the next page of a merged list, so
 * that page N costs what page 1 costs (design.md section 5): no offsets, only a time bound.
 *
 * Upstream APIs filter by creation time only; they cannot express "after (t, source, id)". With
 * cursor key K = (t, s, n), NEWEST_FIRST, the items after K are those created before t, plus those
 * created at t that sort after K. Per server X:
 * - X > s (X's items at t all sort before K): ask for creation < t, `first + 1` items.
 * - X < s (X's items at t all sort after K): ask for creation < t + 1 ms, `first + 1` items.
 * - X = s: ask for creation < t + 1 ms, `first + 1 + ties` items. The server sends its items at
 *   t again, in no reliable order, and the gateway drops the `ties` of them that sort at or before
 *   K; asking for that many more keeps `first + 1` items after K in the answer, as on page 1.
 * OLDEST_FIRST mirrors it (X < s: creation >= t + 1 ms; otherwise creation >= t).
 * The `+ 1` detects a next page. The `t + 1 ms` bound is exclusive, so wire times with sub-ms
 * digits inside millisecond t (VB365 sends 7 fraction digits) are included: keys use floor(ms).
 *
 * Returns null when the window is empty, so the server need not be called at all.
 */
export function planSourceRequest({ source, order, first, after, window }: PlanSourceRequestInput): SourceRequestPlan | null {
  let { fromMs, toMs } = window;
  let limit = first + 1;
  if (after !== null) {
    const { timeMs: t, source: s } = after.key;
    if (source === s) limit += after.ties;
    if (order === 'NEWEST_FIRST') {
      const bound = source > s ? t : t + 1;
      toMs = toMs === null ? bound : Math.min(toMs, bound);
    } else {
      const bound = source < s ? t + 1 : t;
      fromMs = fromMs === null ? bound : Math.max(fromMs, bound);
    }
  }
  if (fromMs !== null && toMs !== null && fromMs >= toMs) return null;
  return { source, fromMs, toMs, limit };
}
