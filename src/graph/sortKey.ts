import type { TimeOrder } from '../upstream/Source.js';
import { badUserInput } from './badUserInput.js';

/**
 * Direction of a time-ordered merged list: the contract's, spelled as the schema's
 * `RestoreSessionOrder` and `RestorePointOrder`, so the generated enum types are assignable to it.
 */
export type { TimeOrder };

/**
 * Position of an item in a merged list: (creation time, source name, Veeam id). Time alone is not
 * a total order (EM prints whole seconds for many sessions, and two servers can create sessions in
 * the same millisecond), so source and id break ties; all three keys run in the list's direction.
 */
export interface SortKey {
  /** Creation time in epoch milliseconds, sub-millisecond digits of the wire value dropped (floor). */
  timeMs: number;
  /** Configured server name. */
  source: string;
  /** Veeam's own id on that server. */
  nativeId: string;
}

/**
 * Strings compare by UTF-16 code unit, never `localeCompare`: the order must be identical on every
 * gateway instance and across Node/ICU versions, or cursors would skip or repeat items.
 */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ascending comparison of (time, source); ids ignored. */
export function compareTimeSourceAscending(a: Pick<SortKey, 'timeMs' | 'source'>, b: Pick<SortKey, 'timeMs' | 'source'>): number {
  return a.timeMs !== b.timeMs ? (a.timeMs < b.timeMs ? -1 : 1) : compareStrings(a.source, b.source);
}

/** Negative when `a` comes before `b` in `order`, zero when they are the same position. */
export function compareSortKeys(a: SortKey, b: SortKey, order: TimeOrder): number {
  const ascending = compareTimeSourceAscending(a, b) || compareStrings(a.nativeId, b.nativeId);
  return order === 'NEWEST_FIRST' ? -ascending : ascending;
}

/** The sort key as the compact tuple stored in cursors. */
export function sortKeyToTuple(key: SortKey): [number, string, string] {
  return [key.timeMs, key.source, key.nativeId];
}

/** Inverse of `sortKeyToTuple`; a tuple of another shape means a cursor of another connection. */
export function sortKeyFromTuple(tuple: readonly unknown[]): SortKey {
  const [timeMs, source, nativeId] = tuple;
  if (tuple.length !== 3 || typeof timeMs !== 'number' || !Number.isSafeInteger(timeMs) || typeof source !== 'string' || typeof nativeId !== 'string') {
    throw badUserInput('Invalid cursor: it does not belong to this list. Start again without `after`.');
  }
  return { timeMs, source, nativeId };
}
