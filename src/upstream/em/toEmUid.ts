import type { EmEntityKind } from './types.js';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Canonical UID of an EM entity: `urn:veeam:<Kind>:<guid>` with the GUID in lower case
 * (docs/veeam-wire.md Part 1 section 7: UID = `urn:veeam:<Type>:<guid>`, URL paths use the bare GUID).
 * Accepts the URN (any case of `urn:veeam:` and of the type, which EM treats case-insensitively)
 * or the bare GUID. A URN of another entity type, or anything that is not a GUID, is rejected.
 *
 * @param kind entity kind the value must belong to
 * @param value URN or bare GUID, surrounding white space ignored
 * @returns the canonical URN, or undefined when the value is not an id of this kind
 */
export function toEmUid(kind: EmEntityKind, value: string): string | undefined {
  const text = value.trim();
  let guid: string;
  if (GUID.test(text)) {
    guid = text;
  } else {
    const parts = text.split(':');
    if (parts.length !== 4) return undefined;
    const [urn, veeam, type, id] = parts as [string, string, string, string];
    if (urn.toLowerCase() !== 'urn' || veeam.toLowerCase() !== 'veeam' || type.toLowerCase() !== kind.toLowerCase() || !GUID.test(id)) return undefined;
    guid = id;
  }
  return `urn:veeam:${kind}:${guid.toLowerCase()}`;
}
