import type { Link } from '../Source.js';

/** VB365 HAL `_links` (already absolute, see VboClient) as the contract's `Link`s: one per key; HAL has no type or name. */
export function halLinks(links: object): Link[] {
  return Object.entries(links as Record<string, unknown>).flatMap(([rel, href]) => (typeof href === 'string' ? [{ rel, type: null, href, name: null }] : []));
}
