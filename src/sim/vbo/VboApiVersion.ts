/** The VB365 REST API versions, one per product generation (docs/veeam-wire.md Part 2 section 1). */
export type VboApiVersion = 'v1' | 'v2' | 'v3' | 'v4' | 'v5' | 'v6' | 'v7' | 'v8';

export const VBO_API_VERSIONS: readonly VboApiVersion[] = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8'];

/** `v6` -> 6, so version gates read as `n >= 6`. */
export function vboVersionNumber(version: VboApiVersion): number {
  return Number(version.slice(1));
}
