/**
 * Delay before retry number `attempt` (1 = first retry): exponential backoff with full jitter,
 * `random() * min(maxMs, baseMs * 2^(attempt-1))` (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): spreads the retries of many clients instead of synchronising them.
 *
 * @param attempt 1 for the first retry
 * @param baseMs backoff base in milliseconds
 * @param maxMs ceiling in milliseconds
 * @param random source of uniform numbers in [0, 1); injectable for tests
 * @returns delay in whole milliseconds, in [0, min(maxMs, baseMs * 2^(attempt-1)))
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parse a `Retry-After` header: delta-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`), RFC 9110 section 10.2.3.
 *
 * @param value header value
 * @param nowMs current time in epoch milliseconds, for the date form
 * @returns delay in milliseconds (0 for a date in the past), or undefined when absent or unreadable
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date always has a day or month name; this keeps `-5` or `2025` from parsing as dates.
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
