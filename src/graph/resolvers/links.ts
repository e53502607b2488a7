import type { EmLink } from '../../upstream/em/types.js';

/** `Link` as the schema shows it. */
export interface LinkValue {
  rel: string;
  type: string | null;
  href: string;
  name: string | null;
}

/** EM `<Link Rel Type Href Name>` as sent. */
export function emLinks(links: readonly EmLink[]): LinkValue[] {
  return links.map((l) => ({ rel: l.rel, type: l.type ?? null, href: l.href, name: l.name ?? null }));
}

/** VB365 HAL `_links` (already absolute, see VboClient): one Link per key; HAL has no type or name. */
export function halLinks(links: object): LinkValue[] {
  return Object.entries(links as Record<string, unknown>).flatMap(([rel, href]) => (typeof href === 'string' ? [{ rel, type: null, href, name: null }] : []));
}

/** The EM link of a relation and reference type (`Up` + `BackupServerReference`); types compare case-insensitively like EM. */
export function findEmLink(links: readonly EmLink[], rel: string, type: string): EmLink | undefined {
  return links.find((l) => l.rel.toLowerCase() === rel.toLowerCase() && l.type?.toLowerCase() === type.toLowerCase());
}
