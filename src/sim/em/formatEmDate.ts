/**
 * EM prints UTC with `Z` and only as many fraction digits as it has: `2014-10-19T05:59:18Z` but
 * `2016-10-06T13:59:50.783Z` (docs/veeam-wire.md Part 1 section 4, [D:restoresessions_id][D:vmrestorepoints_id]).
 * Our world keeps milliseconds, so the fraction is printed without trailing zeros (`.78Z` for 780 ms,
 * like .NET's `o`-less round-trip format that trims zeros, cf. `2025-08-16T05:17:38.22142Z`).
 */
export function formatEmDate(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2016-10-06T13:59:50.783Z
  const ms = iso.slice(20, 23);
  if (ms === '000') return `${iso.slice(0, 19)}Z`;
  return `${iso.slice(0, 19)}.${ms.replace(/0+$/, '')}Z`;
}
