/**
 * Wire times to epoch milliseconds. EM sends 0-7 fraction digits with `Z`, VB365 7 digits with `Z`
 * (sessions) or a local offset (events); the gateway keeps milliseconds and drops the rest (floor),
 * the precision of sort keys and cursors (sortKey.ts).
 */
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * The "never" / "not yet" dates Veeam servers write instead of leaving a date out
 * (docs/veeam-wire.md Part 1 section 4 and Part 2 section 8): .NET `DateTime.MinValue`
 * (`0001-01-01T00:00:00`), `DateTime.MaxValue` (`9999-12-31T23:59:59.9999999`) and SQL Server's
 * smallest `datetime` (`1753-01-01T00:00:00`), with any fraction, with or without `Z` or an offset.
 */
const SENTINEL = /^(?:0001-01-01T00:00:00|1753-01-01T00:00:00|9999-12-31T23:59:59)(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/** Whether a wire date is one of the sentinel "never" dates (see {@link SENTINEL}). */
export function isSentinelDate(text: string): boolean {
  return SENTINEL.test(text.trim());
}

/** A wire date as sent, or undefined when absent, empty or a sentinel "never" date: what every optional date field of both clients reads. */
export function optionalWireDate(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' || isSentinelDate(text) ? undefined : text;
}

/**
 * Wire times repeat: the same records are served from memory to query after query, and every
 * merge, sort key and `DateTime` field reads their times again. Parsing is a regular expression
 * and `Date.parse` each time (the second-largest cost of a warm page in a CPU profile), so recent
 * texts are remembered; cleared when full, which bounds it without bookkeeping.
 */
const MEMO_MAX = 20_000;
const msMemo = new Map<string, number>();
const dateTimeMemo = new Map<string, string | null>();

function remember<V>(memo: Map<string, V>, key: string, value: V): V {
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, value);
  return value;
}

/** Epoch ms (floor) of a wire time; NaN when it is not ISO 8601. A time without zone is read as UTC. */
export function wireTimeMs(text: string): number {
  const known = msMemo.get(text);
  return known !== undefined ? known : remember(msMemo, text, parseWireTimeMs(text));
}

function parseWireTimeMs(text: string): number {
  const m = ISO.exec(text.trim());
  if (!m) return Number.NaN;
  const ms = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  const zone = m[3] === undefined || m[3].toUpperCase() === 'Z' ? 'Z' : m[3].length === 5 ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m[3];
  return Date.parse(`${m[1]}.${ms}${zone}`);
}

/** The DateTime scalar's output: ISO 8601 UTC with milliseconds, or null for an unreadable time. */
export function toDateTime(text: string | undefined | null): string | null {
  if (text === undefined || text === null || text === '') return null;
  const known = dateTimeMemo.get(text);
  if (known !== undefined) return known;
  const ms = isSentinelDate(text) ? Number.NaN : wireTimeMs(text);
  return remember(dateTimeMemo, text, Number.isNaN(ms) ? null : new Date(ms).toISOString());
}

/**
 * An inclusive upper bound for APIs that compare `<=` with sub-millisecond precision (VB365
 * `startTimeTo`/`to`, docs/veeam-wire.md Part 2 section 4): the exclusive bound `toMs` minus one tick of
 * 100 ns, as 7 fraction digits, so sessions at `toMs - 1` ms with any sub-ms digits are included.
 */
export function inclusiveUpperBound(toMs: number): string {
  return new Date(toMs - 1).toISOString().replace(/Z$/, '9999Z');
}
