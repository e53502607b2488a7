/** `v1_7` -> [1, 7] for ordering versions. */
function versionKey(name: string): number[] {
  return (name.match(/\d+/g) ?? []).map(Number);
}

function compareVersions(a: string, b: string): number {
  const x = versionKey(a);
  const y = versionKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The highest of EM's advertised API versions, by number (`v1_10` above `v1_9`, `v1_1` above `v1`):
 * what a logon with `?v=latest` gets (docs/veeam-wire.md Part 1 section 1).
 *
 * @param names `SupportedVersion` names from `GET /api/`
 * @returns the newest, or undefined for an empty list
 */
export function latestEmVersion(names: readonly string[]): string | undefined {
  return [...names].sort(compareVersions).pop();
}
