import type { Link } from '../Source.js';
import type { EmLink } from './types.js';

/** EM `<Link Rel Type Href Name>` as the contract's `Link`. */
export function emLinks(links: readonly EmLink[]): Link[] {
  return links.map((l) => ({ rel: l.rel, type: l.type ?? null, href: l.href, name: l.name ?? null }));
}

const GUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The last GUID of an EM href or URN, lower case (`.../backupServers/<guid>?format=Entity`, `urn:veeam:BackupServer:<guid>`). */
export function guidOf(text: string): string | undefined {
  return text.split('?')[0]!.match(GUIDS)?.at(-1)?.toLowerCase();
}

/**
 * The native id an entity links to by relation and reference type (`Up` + `BackupServerReference`,
 * docs/veeam-wire.md Part 1 section 6); types compare case-insensitively like EM.
 */
export function linkedId(links: readonly EmLink[], rel: string, type: string): string | null {
  const link = links.find((l) => l.rel.toLowerCase() === rel.toLowerCase() && l.type?.toLowerCase() === type.toLowerCase());
  return (link && guidOf(link.href)) ?? null;
}
