import type { VboOrganization, VboRestorePoint, VboRestoreSession, VboServerWorld } from '../world/types.js';

/** Ascending (creationTime, id): the world keeps creationTime order, ids break ties deterministically. */
export function byCreation(a: VboRestoreSession, b: VboRestoreSession): number {
  return a.creationTime - b.creationTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Ascending (endTime, creationTime, id). Running sessions have no endTime and sort first, as SQL
 * Server and LINQ order NULL before any value; the real order is UNCONFIRMED.
 */
export function byEndTime(a: VboRestoreSession, b: VboRestoreSession): number {
  const ea = a.endTime ?? -Infinity;
  const eb = b.endTime ?? -Infinity;
  return ea < eb ? -1 : ea > eb ? 1 : byCreation(a, b);
}

/**
 * Lookups over one VB365 world: by-id maps and an endTime-ordered copy of the sessions. The world's
 * arrays may grow (the simulator's `addRestoreSession`, or a test pushing records), so each cache
 * remembers the array length it was built for and `touch()` drops them all.
 */
export class VboWorldIndex {
  private sessionMap?: { size: number; map: Map<string, VboRestoreSession> };
  private orgMap?: { size: number; map: Map<string, number> };
  private pointMap?: { size: number; map: Map<string, VboRestorePoint> };
  private endOrder?: { size: number; list: VboRestoreSession[] };

  constructor(readonly world: VboServerWorld) {}

  touch(): void {
    this.sessionMap = undefined;
    this.pointMap = undefined;
    this.orgMap = undefined;
    this.endOrder = undefined;
  }

  session(id: string): VboRestoreSession | undefined {
    const list = this.world.restoreSessions;
    if (this.sessionMap?.size !== list.length) this.sessionMap = { size: list.length, map: new Map(list.map((s) => [s.id.toLowerCase(), s])) };
    return this.sessionMap.map.get(id);
  }

  /** The organization's index in `world.organizations` (records reference orgs by index). */
  organizationIndex(id: string): number | undefined {
    const list = this.world.organizations;
    if (this.orgMap?.size !== list.length) this.orgMap = { size: list.length, map: new Map(list.map((o, i) => [o.id.toLowerCase(), i])) };
    return this.orgMap.map.get(id);
  }

  organization(index: number): VboOrganization {
    const org = this.world.organizations[index];
    if (!org) throw new Error(`world inconsistency: no organization #${index}`);
    return org;
  }

  restorePoint(id: string): VboRestorePoint | undefined {
    const list = this.world.restorePoints;
    if (this.pointMap?.size !== list.length) this.pointMap = { size: list.length, map: new Map(list.map((p) => [p.id.toLowerCase(), p])) };
    return this.pointMap.map.get(id);
  }

  /**
   * Every session sorted by `byEndTime`; built once per world size (O(n log n)), then reused. A
   * test may end a running session in place, so each use re-checks the order in O(n) (about a
   * millisecond at 100k sessions) and re-sorts when it no longer holds.
   */
  sessionsByEndTime(): readonly VboRestoreSession[] {
    const list = this.world.restoreSessions;
    if (this.endOrder?.size !== list.length || !isSorted(this.endOrder.list, byEndTime)) this.endOrder = { size: list.length, list: [...list].sort(byEndTime) };
    return this.endOrder.list;
  }
}

/** First index in [0, n) whose key is >= `value` (`list` sorted ascending by `key`). */
export function lowerBound<T>(list: readonly T[], value: number, key: (t: T) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(list[mid]!) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in [0, n) whose key is > `value`. */
export function upperBound<T>(list: readonly T[], value: number, key: (t: T) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(list[mid]!) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isSorted<T>(list: readonly T[], compare: (a: T, b: T) => number): boolean {
  for (let i = 1; i < list.length; i++) if (compare(list[i - 1]!, list[i]!) > 0) return false;
  return true;
}
