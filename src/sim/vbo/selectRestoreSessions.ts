import type { VboRestoreSession } from '../world/types.js';
import { byCreation, lowerBound, upperBound } from './VboWorldIndex.js';
import type { VboWorldIndex } from './VboWorldIndex.js';

/** Inclusive bounds in whole ms (see `parseNetDate`): `from` is a ceiling, `to` a floor. */
export interface TimeBounds {
  from?: number;
  to?: number;
}

export interface RestoreSessionCriteria {
  creation: TimeBounds;
  end: TimeBounds;
  orderBy: 'CreationTime' | 'EndTime';
  ascending: boolean;
  offset: number;
  /** Infinity for the v1 bare array. */
  limit: number;
}

export interface RestoreSessionSelection {
  items: VboRestoreSession[];
  /** How many sessions match the filters (v6/v7 `totalCount`). */
  total: number;
}

const creationKey = (s: VboRestoreSession): number => s.creationTime;

/**
 * One page of restore sessions. Filters are inclusive on both ends: the docs say "started after"
 * and "started prior to" (veeam-docs/001), which a .NET server most plausibly implements as
 * `>=`/`<=`; the real bounds are UNCONFIRMED, so a client must dedupe sessions at a window edge.
 *
 * Fast path (creation order, no endTime filter): binary search on the creation-sorted world, then
 * only the page and the tie runs at its edges are copied and sorted; cost is O(log n + page).
 */
export function selectRestoreSessions(index: VboWorldIndex, c: RestoreSessionCriteria): RestoreSessionSelection {
  const sessions = index.world.restoreSessions;
  const lo = c.creation.from === undefined ? 0 : lowerBound(sessions, c.creation.from, creationKey);
  const hi = c.creation.to === undefined ? sessions.length : upperBound(sessions, c.creation.to, creationKey);
  if (hi <= lo) return { items: [], total: 0 };

  if (c.orderBy === 'CreationTime' && c.end.from === undefined && c.end.to === undefined) {
    return { items: pageOfCreationRange(sessions, lo, hi, c.offset, c.limit, c.ascending), total: hi - lo };
  }

  // endTime filters or endTime order: a linear pass over an already-sorted list.
  const ordered: readonly VboRestoreSession[] = c.orderBy === 'EndTime' ? index.sessionsByEndTime() : sortedSlice(sessions, lo, hi);
  const fromT = sessions[lo]!.creationTime;
  const toT = sessions[hi - 1]!.creationTime;
  const matches = ordered.filter(
    (s) =>
      s.creationTime >= fromT &&
      s.creationTime <= toT &&
      (c.end.from === undefined || (s.endTime !== undefined && s.endTime >= c.end.from)) &&
      (c.end.to === undefined || (s.endTime !== undefined && s.endTime <= c.end.to)),
  );
  if (!c.ascending) matches.reverse();
  return { items: matches.slice(c.offset, c.offset + c.limit), total: matches.length };
}

function sortedSlice(sessions: readonly VboRestoreSession[], lo: number, hi: number): VboRestoreSession[] {
  return sessions.slice(lo, hi).sort(byCreation);
}

/**
 * Positions [offset, offset + limit) of `sessions[lo, hi)` in (creationTime, id) order, ascending or
 * its exact reverse. The world array is sorted by creationTime only, so the copied window is widened
 * to whole runs of equal creationTime before sorting by id.
 */
function pageOfCreationRange(
  sessions: readonly VboRestoreSession[],
  lo: number,
  hi: number,
  offset: number,
  limit: number,
  ascending: boolean,
): VboRestoreSession[] {
  const count = hi - lo;
  if (offset >= count) return [];
  const size = Math.min(limit, count - offset);
  // The ascending-index window holding the requested positions.
  const start = ascending ? lo + offset : hi - offset - size;
  const end = start + size;
  let a = start;
  while (a > lo && sessions[a - 1]!.creationTime === sessions[start]!.creationTime) a--;
  let b = end;
  while (b < hi && sessions[b]!.creationTime === sessions[end - 1]!.creationTime) b++;
  const window = sessions
    .slice(a, b)
    .sort(byCreation)
    .slice(start - a, end - a);
  return ascending ? window : window.reverse();
}
