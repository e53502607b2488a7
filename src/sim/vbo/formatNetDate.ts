/**
 * Date text as the VB365 server prints it. The server is .NET and serialises with Json.NET, whose
 * default ISO format is `yyyy-MM-ddTHH:mm:ss.FFFFFFFK`: up to 7 fractional digits with trailing
 * zeros dropped (and the dot too when the fraction is zero). The docs show exactly that:
 * `2017-06-29T07:42:21.191694Z` next to `2017-06-29T08:14:58.3532833Z`, and `pointInTime`
 * `2017-06-26T22:07:39-07:00` with no fraction at all (veeam-docs/003, 001).
 * World times are epoch milliseconds, so at most 3 digits are ever significant here.
 */

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `.1916940` -> `.191694`; `.0000000` -> `` (Json.NET `FFFFFFF`). */
function fraction(ms: number): string {
  const digits = pad(ms, 3).replace(/0+$/, '');
  return digits ? `.${digits}` : '';
}

function wallClock(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction(d.getUTCMilliseconds())}`;
}

/** Session, organization and restore-point times: UTC with `Z` (`2017-06-29T07:42:21.191694Z`). */
export function formatNetUtc(epochMs: number): string {
  return `${wallClock(new Date(epochMs))}Z`;
}

/** `+03:00` / `-07:00` for an offset in minutes east of UTC. */
export function formatOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * Server-local times with their offset, as the docs print `pointInTime`
 * (`2017-06-26T22:07:39-07:00`, v1) and event times (`2017-05-30T13:53:45.0679711+03:00`).
 */
export function formatNetLocal(epochMs: number, offsetMinutes: number): string {
  return `${wallClock(new Date(epochMs + offsetMinutes * 60_000))}${formatOffset(offsetMinutes)}`;
}

/** en-US `G` format in server-local time, `7/3/2017 3:00:25 PM` (v1 restore-session organization name). */
export function formatUsDateTime(epochMs: number, offsetMinutes: number): string {
  const d = new Date(epochMs + offsetMinutes * 60_000);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** OWIN's default for `.issued`/`.expires`: RFC 1123, `Sat, 16 Nov 2024 08:19:08 GMT`. */
export function formatRfc1123(epochMs: number): string {
  return new Date(epochMs).toUTCString();
}

/**
 * A date query parameter, as bounds in whole milliseconds: `floor` <= the instant <= `ceil`.
 * The parameter may carry 100 ns ticks (`2020-05-12T15:55:20.8557416Z`, veeam-docs/001) while world
 * times are whole ms, so `t >= instant` is `t >= ceil` and `t <= instant` is `t <= floor`, exactly.
 * Accepted: date, date + time, optional seconds and up to 7 fraction digits, `Z` or `±hh:mm`
 * (no zone = UTC, the docs say the parameters are UTC). Anything else is `undefined` (-> 400).
 */
export function parseNetDate(text: string): { floor: number; ceil: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let base = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s));
  if (new Date(base).getUTCDate() !== day) return undefined;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (!z) return undefined;
    base -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  }
  const ticks = Number(frac.padEnd(7, '0'));
  const wholeMs = Math.floor(ticks / 10_000);
  const floor = base + wholeMs;
  return { floor, ceil: ticks % 10_000 === 0 ? floor : floor + 1 };
}
