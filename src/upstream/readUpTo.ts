/**
 * Reads pages of one listing until at least `limit` items or its last page: the loop every
 * adapter needs to serve `ListQuery.limit` from an API with a page maximum.
 *
 * @param first reads the first page
 * @param next reads the page after `last` (`read` items so far), or resolves undefined on the last page
 * @returns the items, the last page read, and whether the listing ended before `limit` was reached
 */
export async function readUpTo<P extends { items: readonly T[] }, T>(
  limit: number,
  first: () => Promise<P>,
  next: (last: P, read: number) => Promise<P | undefined>,
): Promise<{ items: T[]; last: P; ended: boolean }> {
  let last = await first();
  const items: T[] = [...last.items];
  while (items.length < limit) {
    const page = await next(last, items.length);
    if (page === undefined) return { items, last, ended: true };
    last = page;
    items.push(...page.items);
  }
  return { items, last, ended: false };
}
