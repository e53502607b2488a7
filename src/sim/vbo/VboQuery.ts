import { VboHttpError } from './VboHttpError.js';
import { parseNetDate } from './formatNetDate.js';

/** Paging bounds shared by every VB365 page endpoint (docs/veeam-wire.md Part 2 section 7). */
export const DEFAULT_LIMIT = 30;
export const MAX_LIMIT = 10_000;

/**
 * The query string of one request. Parameter names match case-insensitively, as ASP.NET model
 * binding does (bulenttolu/VBM365 sends `?starttimeFrom=`, docs/veeam-wire.md Part 2 section 4); when a
 * name repeats, the first value wins. Bad values throw a 400 `VboHttpError`.
 */
export class VboQuery {
  private readonly pairs: [string, string][];
  private readonly first = new Map<string, string>();

  constructor(rawQuery: string) {
    this.pairs = [...new URLSearchParams(rawQuery)];
    for (const [name, value] of this.pairs) {
      const key = name.toLowerCase();
      if (!this.first.has(key)) this.first.set(key, value);
    }
  }

  get(name: string): string | undefined {
    return this.first.get(name.toLowerCase());
  }

  /** An absent or empty value counts as not given, as ASP.NET binds `?limit=` to the default. */
  private value(name: string): string | undefined {
    const v = this.get(name);
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  int(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (!/^[+-]?\d+$/.test(v)) throw invalid(name, v);
    const n = Number(v);
    if (n < min) throw new VboHttpError(400, `The value of the parameter '${name}' must be greater than or equal to ${min}.`, 'ParameterValidationFailure');
    if (n > max) throw new VboHttpError(400, `The value of the parameter '${name}' must be less than or equal to ${max}.`, 'ParameterValidationFailure');
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    throw invalid(name, v);
  }

  date(name: string): { floor: number; ceil: number } | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    const parsed = parseNetDate(v);
    if (!parsed) throw invalid(name, v);
    return parsed;
  }

  /** A GUID parameter, normalised to Veeam's lower-case dashed form. */
  guid(name: string): string | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    const g = normalizeGuid(v);
    if (!g) throw invalid(name, v);
    return g;
  }

  /** A string enum, matched case-insensitively (ASP.NET enum binding); returns the canonical spelling. */
  enumValue<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (!hit) throw invalid(name, v);
    return hit;
  }

  /**
   * `offset` and `limit`: offset >= 0, default 0; limit default 30. `maxLimit` is 10,000 from v5
   * ("The maximum supported number of items per page is 10,000", HC pagination.html); what a real
   * server does beyond it is UNCONFIRMED: this simulator answers 400. A limit below 1 is 400 too
   * (UNCONFIRMED).
   */
  paging(maxLimit: number | undefined): { offset: number; limit: number } {
    return { offset: this.int('offset', 0) ?? 0, limit: this.int('limit', 1, maxLimit) ?? DEFAULT_LIMIT };
  }

  /**
   * The query string for a page link: every parameter but offset/limit as sent (name spelling and
   * order kept, value re-encoded), then `offset` and `limit`, as the docs' links end
   * (`/v6/RestoreSessions?offset=0&limit=30`).
   */
  withPaging(offset: number, limit: number): string {
    const kept = this.pairs
      .filter(([name]) => !['offset', 'limit'].includes(name.toLowerCase()))
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    return [...kept, `offset=${offset}`, `limit=${limit}`].join('&');
  }
}

function invalid(name: string, value: string): VboHttpError {
  return new VboHttpError(400, `The value '${value}' is not valid for ${name}.`, 'ParameterValidationFailure');
}

/** `{ABC...}`, upper case or the 32-digit form -> `abc...-...`; undefined when it is no GUID (.NET Guid.Parse forms). */
export function normalizeGuid(text: string): string | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/^\{(.*)\}$/, '$1')
    .replace(/^\((.*)\)$/, '$1');
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(t)) return t;
  if (/^[0-9a-f]{32}$/.test(t)) return `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20)}`;
  return undefined;
}
