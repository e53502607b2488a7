import { and, emDate, eq, ge, lt, or, type EmFilter } from '../../upstream/em/emFilter.js';
import type { EmEntityKinds, EmQueryResult, EmRestoreSession } from '../../upstream/em/types.js';
import type { VboRestoreSessionQuery } from '../../upstream/vbo/VboClient.js';
import type { VboRestoreSession } from '../../upstream/vbo/types.js';
import type { Loaders } from '../loaders/createLoaders.js';
import type { SourceRequestPlan } from '../planSourceRequest.js';
import { wireSpelling } from '../sessionStatus.js';
import type { TimeOrder } from '../sortKey.js';
import type { EmGraphSource, VboGraphSource } from '../sources/createSources.js';
import { inclusiveUpperBound, wireTimeMs } from '../wireTime.js';
import type { FetchedBatch } from './mergedConnection.js';
import type { ParsedFilter } from './restoreSessionFilter.js';

/**
 * EM: everything pushed down to the query service (veeam-api.md Part 1 section 5): the half-open
 * window as `CreationTime>=` / `CreationTime<`, vmName, backup server, states and results, sorted
 * by CreationTime in the list's direction, `pageSize` = the plan's limit (Next links followed
 * should EM cap the page). User text only ever travels as a quoted value of the filter AST.
 * UNKNOWN states/results have no wire spelling, so such a condition is left to the gateway.
 */
export async function fetchEmRestoreSessions(
  source: EmGraphSource,
  plan: SourceRequestPlan,
  order: TimeOrder,
  filter: ParsedFilter,
): Promise<FetchedBatch<EmRestoreSession>> {
  const parts: EmFilter[] = [];
  if (plan.fromMs !== null) parts.push(ge('CreationTime', emDate(new Date(plan.fromMs))));
  if (plan.toMs !== null) parts.push(lt('CreationTime', emDate(new Date(plan.toMs))));
  if (filter.vmName !== null) parts.push(eq('VmDisplayName', filter.vmName));
  if (filter.backupServer !== null) parts.push(eq('BackupServerUid', `urn:veeam:BackupServer:${filter.backupServer.nativeId}`));
  if (filter.states !== null && !filter.states.has('UNKNOWN')) parts.push(or(...[...filter.states].map((s) => eq('State', wireSpelling(s)))));
  if (filter.results !== null && !filter.results.has('UNKNOWN')) parts.push(or(...[...filter.results].map((r) => eq('Result', wireSpelling(r ?? 'NONE')))));
  return emQueryUpTo(source, 'RestoreSession', plan.limit, order, parts);
}

/** One query-service listing read until `limit` items or its last page. */
export async function emQueryUpTo<K extends 'RestoreSession' | 'VmRestorePoint'>(
  source: EmGraphSource,
  kind: K,
  limit: number,
  order: TimeOrder,
  parts: EmFilter[],
): Promise<FetchedBatch<EmEntityKinds[K]>> {
  const sort = order === 'NEWEST_FIRST' ? { sortDesc: 'CreationTime' } : { sortAsc: 'CreationTime' };
  let page: EmQueryResult<EmEntityKinds[K]> = await source.client.query(kind, { ...sort, ...(parts.length > 0 && { filter: and(...parts) }), pageSize: limit });
  const items = [...page.items];
  while (items.length < limit) {
    const next = await source.client.nextPage(page);
    if (next === undefined) return { items, complete: true };
    page = next;
    items.push(...next.items);
  }
  return { items, complete: page.paging !== undefined && page.paging.pageNum >= page.paging.pagesCount };
}

const isAscending = (items: readonly VboRestoreSession[]): boolean =>
  items.every((s, i) => i === 0 || wireTimeMs(items[i - 1]!.creationTime) <= wireTimeMs(s.creationTime));

/**
 * VB365, by what the configured API version can do (veeam-api.md Part 2 sections 4 and 7):
 * - v8 filters by creation time and orders (`orderBy=CreationTime&orderAsc=`): one call.
 * - v4-v7 filter by creation time but have no order parameter; servers (and the simulator) answer
 *   oldest first. OLDEST_FIRST asks for the first `limit`. NEWEST_FIRST asks for the first `limit`
 *   too: when the window holds no more, that is the whole window (one call); otherwise v6/v7 pages
 *   carry `totalCount` and the newest `limit` are fetched at `offset = totalCount - limit`. The
 *   order of what comes back is checked; an unsorted answer, or v4/v5 without `totalCount`, falls
 *   back to reading the whole window.
 * - v1-v3 cannot filter at all: every session is read once per request (cached in the loaders)
 *   and windowed here.
 * VB365 time bounds are inclusive (`<=`), so the exclusive upper bound is sent as its last 100 ns tick.
 * States and results are never filtered by VB365: the gateway applies them (`keep`).
 */
export async function fetchVboRestoreSessions(
  source: VboGraphSource,
  plan: SourceRequestPlan,
  order: TimeOrder,
  loaders: Loaders,
): Promise<FetchedBatch<VboRestoreSession>> {
  const caps = source.client.capabilities;
  const inWindow = (s: VboRestoreSession) => {
    const t = wireTimeMs(s.creationTime);
    return (plan.fromMs === null || t >= plan.fromMs) && (plan.toMs === null || t < plan.toMs);
  };
  if (!caps.restoreSessionsStartTimeFilter) return { items: (await loaders.vboAllSessions(source)).filter(inWindow), complete: true };

  const window: VboRestoreSessionQuery = {
    ...(plan.fromMs !== null && { startTimeFrom: new Date(plan.fromMs).toISOString() }),
    ...(plan.toMs !== null && { startTimeTo: inclusiveUpperBound(plan.toMs) }),
  };
  const max = caps.maxLimit ?? Infinity;
  const readFrom = async (
    offset: number,
    query: VboRestoreSessionQuery,
  ): Promise<{ items: VboRestoreSession[]; hasMore: boolean; totalCount: number | undefined }> => {
    const items: VboRestoreSession[] = [];
    let page = await source.client.listRestoreSessions({ ...query, offset, limit: Math.min(plan.limit, max) });
    items.push(...page.items);
    while (page.hasMore && items.length < plan.limit) {
      page = await source.client.listRestoreSessions({ ...query, offset: offset + items.length, limit: Math.min(plan.limit - items.length, max) });
      items.push(...page.items);
    }
    return { items: items.filter(inWindow), hasMore: page.hasMore, totalCount: page.totalCount };
  };
  const wholeWindow = async (): Promise<FetchedBatch<VboRestoreSession>> => {
    const items: VboRestoreSession[] = [];
    for await (const page of source.client.iterateRestoreSessions(window)) items.push(...page.items);
    return { items: items.filter(inWindow), complete: true };
  };

  if (caps.restoreSessionsOrder) {
    const got = await readFrom(0, { ...window, orderBy: 'CreationTime', orderAsc: order === 'OLDEST_FIRST' });
    return { items: got.items, complete: !got.hasMore };
  }
  const head = await readFrom(0, window);
  if (!head.hasMore) return { items: head.items, complete: true };
  if (!isAscending(head.items)) return wholeWindow();
  if (order === 'OLDEST_FIRST') return { items: head.items, complete: false };
  if (head.totalCount === undefined) return wholeWindow();
  const tail = await readFrom(Math.max(0, head.totalCount - plan.limit), window);
  if (tail.hasMore || !isAscending(tail.items)) return wholeWindow();
  return { items: tail.items, complete: false };
}
