/**
 * Typed builder for the EM query service (`GET /api/query`, docs/veeam-wire.md Part 1 section 5):
 * a filter AST rendered to EM's grammar, the query URL, paging hrefs and UID batching.
 *
 * Grammar (docs `filter`, `query_comparison`, `query_and_or`, `query_grouping`): `<field><op><value>`
 * with `==` `!=` `<` `>` `<=` `>=`, `;` = AND, `,` = OR, `( )` grouping, strings in double quotes
 * with an inner `"` doubled. Rendering rules here:
 * - every value is quoted, so `;` `,` `(` `)` `=` and spaces inside a value are data, never syntax
 *   (whether quoting protects `; , ( )` is UNCONFIRMED by Veeam; quoting is the only documented
 *   escape, and percent-encoding does not help because the server decodes the query first);
 * - dates are ISO-8601 UTC with `Z` ("filters accept only UTC-formatted DateTime values");
 * - AND binds tighter than OR in EM, but nested groups are always parenthesised, both ways, so
 *   the meaning never depends on precedence we could not confirm on a real server.
 */

import { DEFAULT_MAX_URL_LENGTH } from '../http/httpDefaults.js';

/** Comparison operators of the EM filter grammar. */
export type EmFilterOp = '==' | '!=' | '<' | '>' | '<=' | '>=';
/** A filter value. Strings are sent as is (quoted); a `Date` is rendered ISO UTC. */
export type EmFilterValue = string | number | boolean | Date;

export type EmFilter =
  | { readonly kind: 'cmp'; readonly op: EmFilterOp; readonly field: string; readonly value: EmFilterValue }
  | { readonly kind: 'and'; readonly items: readonly EmFilter[] }
  | { readonly kind: 'or'; readonly items: readonly EmFilter[] };

/** Field names are identifiers (`CreationTime`, `BackupServerUid`); anything else is a programming error. */
const FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;

function cmp(op: EmFilterOp, field: string, value: EmFilterValue): EmFilter {
  if (!FIELD.test(field)) throw new TypeError(`EM filter field must be an identifier, got ${JSON.stringify(field)}`);
  if (value instanceof Date && Number.isNaN(value.getTime())) throw new TypeError(`EM filter value for ${field} is an invalid Date`);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`EM filter value for ${field} is not a finite number`);
  return { kind: 'cmp', op, field, value };
}

/** `field=="value"` */
export const eq = (field: string, value: EmFilterValue): EmFilter => cmp('==', field, value);
/** `field!="value"` */
export const ne = (field: string, value: EmFilterValue): EmFilter => cmp('!=', field, value);
/** `field<"value"` */
export const lt = (field: string, value: EmFilterValue): EmFilter => cmp('<', field, value);
/** `field>"value"` */
export const gt = (field: string, value: EmFilterValue): EmFilter => cmp('>', field, value);
/** `field<="value"` */
export const le = (field: string, value: EmFilterValue): EmFilter => cmp('<=', field, value);
/** `field>="value"` */
export const ge = (field: string, value: EmFilterValue): EmFilter => cmp('>=', field, value);

function group(kind: 'and' | 'or', items: readonly EmFilter[]): EmFilter {
  if (items.length === 0) throw new TypeError(`EM filter ${kind}() needs at least one operand`);
  if (items.length === 1) return items[0] as EmFilter;
  // Flatten same-kind nesting: and(a, and(b, c)) is and(a, b, c).
  const flat = items.flatMap((f) => (f.kind === kind ? f.items : [f]));
  return { kind, items: flat };
}

/** All of the operands (`;`). Throws on no operands; one operand is returned as is. */
export const and = (...items: EmFilter[]): EmFilter => group('and', items);
/** Any of the operands (`,`). Throws on no operands; one operand is returned as is. */
export const or = (...items: EmFilter[]): EmFilter => group('or', items);

/**
 * A date as EM filters want it: ISO-8601 UTC with `Z`, milliseconds only when not zero
 * (`2025-08-15T06:00:00Z`, `2025-08-15T06:00:00.250Z`). To keep EM's 7-digit fractions exact, pass
 * the original `CreationTimeUTC` string as the value instead of a `Date`.
 *
 * @param date instant to render
 */
export function emDate(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/**
 * Quote a value: always double quotes, an inner `"` doubled (docs/veeam-wire.md Part 1 section 5).
 *
 * @param value filter value
 * @returns `"value"`
 */
export function quoteEmValue(value: EmFilterValue): string {
  const text = value instanceof Date ? emDate(value) : String(value);
  return `"${text.replace(/"/g, '""')}"`;
}

/**
 * Render a filter AST to EM's filter syntax (the `filter=` parameter value, before URL encoding).
 *
 * @param filter the AST built with {@link eq}, {@link and}, {@link or}...
 * @returns e.g. `CreationTime<="2025-08-15T06:00:00Z";(State=="Working",State=="Stopped")`
 */
export function renderEmFilter(filter: EmFilter): string {
  if (filter.kind === 'cmp') return `${filter.field}${filter.op}${quoteEmValue(filter.value)}`;
  const sep = filter.kind === 'and' ? ';' : ',';
  return filter.items.map((f) => (f.kind === 'cmp' ? renderEmFilter(f) : `(${renderEmFilter(f)})`)).join(sep);
}

/** Parameters of one query-service call. */
export interface EmQueryParams {
  /** Query type (`RestoreSession`, `BackupServer`, `VmRestorePoint`...). */
  type: string;
  /** `Entities` for full objects, `References` (EM's default) for refs only. */
  format?: 'Entities' | 'References';
  /** Filter AST or an already rendered filter string. */
  filter?: EmFilter | string;
  /** Sort ascending by this field; exclusive with `sortDesc`. Always sort: unsorted EM results come back in random order. */
  sortAsc?: string;
  /** Sort descending by this field; exclusive with `sortAsc`. */
  sortDesc?: string;
  /** Items per page, > 0. EM's effective default is 100. */
  pageSize?: number;
  /** 1-based page number. */
  page?: number;
}

/** A query-service URL relative to the API base (`https://em:9398/api/`). */
export interface EmQueryUrl {
  /** `query`, relative to the API base. */
  path: string;
  searchParams: URLSearchParams;
  /** `query?type=...`, relative to the API base. */
  href: string;
}

/**
 * Build a query-service URL. Parameters are encoded with `URLSearchParams` (space as `+`, `"` as
 * `%22`, `;` as `%3B`), the same form EM uses in its own PagingInfo links; EM decodes the query
 * before parsing the filter, so the filter string travels intact.
 *
 * @param params query parameters
 * @returns path `query` plus search parameters in EM's documented order
 * @throws {TypeError} on both sort directions, a bad page size or page number, or an empty type
 */
export function buildQueryUrl(params: EmQueryParams): EmQueryUrl {
  if (!FIELD.test(params.type)) throw new TypeError(`EM query type must be an identifier, got ${JSON.stringify(params.type)}`);
  if (params.sortAsc !== undefined && params.sortDesc !== undefined) throw new TypeError('EM query takes sortAsc or sortDesc, not both');
  for (const sort of [params.sortAsc, params.sortDesc]) {
    if (sort !== undefined && !FIELD.test(sort)) throw new TypeError(`EM sort field must be an identifier, got ${JSON.stringify(sort)}`);
  }
  if (params.pageSize !== undefined && !(Number.isInteger(params.pageSize) && params.pageSize > 0)) {
    throw new TypeError(`EM pageSize must be a positive integer, got ${params.pageSize}`);
  }
  if (params.page !== undefined && !(Number.isInteger(params.page) && params.page >= 1)) {
    throw new TypeError(`EM page is 1-based, got ${params.page}`);
  }
  const sp = new URLSearchParams();
  sp.set('type', params.type);
  if (params.format) sp.set('format', params.format);
  if (params.filter !== undefined) sp.set('filter', typeof params.filter === 'string' ? params.filter : renderEmFilter(params.filter));
  if (params.sortAsc !== undefined) sp.set('sortAsc', params.sortAsc);
  if (params.sortDesc !== undefined) sp.set('sortDesc', params.sortDesc);
  if (params.pageSize !== undefined) sp.set('pageSize', String(params.pageSize));
  if (params.page !== undefined) sp.set('page', String(params.page));
  return { path: 'query', searchParams: sp, href: `query?${sp.toString()}` };
}

/**
 * Make a PagingInfo href ready to request. EM writes these hrefs with `&amp;` separators
 * (docs/veeam-wire.md Part 1 section 4: "the server may ignore the subsequent parameter" otherwise). The
 * XML decoder has already turned `&amp;` into `&` once; this function covers JSON bodies and any
 * doubly escaped `&amp;amp;`, and is idempotent, so calling it on an already clean href is safe and
 * a client can never double-unescape. It touches nothing but `&amp;`: a literal `&` inside a
 * parameter value is always percent-encoded (`%26`) in a valid URL, so a raw `&amp;` in a URL can
 * only be an escaped separator.
 *
 * @param href href from a decoded PagingInfo link
 * @returns the href with every `&amp;` run collapsed to `&`
 */
export function unescapePagingHref(href: string): string {
  let out = href;
  while (out.includes('&amp;')) out = out.replace(/&amp;/g, '&');
  return out;
}

/** Options of {@link chunkByUrlLength}. */
export interface ChunkByUrlLengthOptions {
  /** Filter field compared to each value; default `UID`. */
  field?: string;
  /**
   * Characters of the URL outside the filter value: origin, path and other parameters
   * (`https://em-hq.corp:9398/api/query?type=RestoreSession&format=Entities&pageSize=...&filter=`).
   * Default 300, room for a long host name and the usual parameters.
   */
  overhead?: number;
}

/**
 * Split values into groups whose `field=="v1",field=="v2",...` OR-filter, URL-encoded, keeps the
 * whole URL under `budget` characters. Why 8000 by default: EM's maximum filter or URL length is
 * undocumented (docs/veeam-wire.md Part 1 section 5, UNCONFIRMED). EM is self-hosted on HTTP.sys, whose
 * default request-line/header limits are 16 kB (MaxFieldLength, MaxRequestBytes); common reverse
 * proxies cap request lines at 8 kB (nginx `large_client_header_buffers`). 8000 fits ~95 URN terms,
 * so the links of one server's share of a 500-session page resolve in one call per type (the
 * graph's request budget). Behind an IIS front end with `maxQueryString` 2048, configure a
 * smaller `maxUrlLength` per server. Order is preserved; a single value longer than the budget still gets
 * its own chunk (the server decides).
 *
 * @param values values to match (`urn:veeam:RestoreSession:<guid>`...)
 * @param budget maximum URL length in characters, default 8000 ({@link DEFAULT_MAX_URL_LENGTH})
 * @param options field name and fixed URL overhead
 * @returns chunks of values, in input order; empty input gives no chunks
 */
export function chunkByUrlLength(values: readonly string[], budget = DEFAULT_MAX_URL_LENGTH, options: ChunkByUrlLengthOptions = {}): string[][] {
  const field = options.field ?? 'UID';
  const room = budget - (options.overhead ?? 300);
  const separator = encodedLength(',');
  const chunks: string[][] = [];
  let current: string[] = [];
  let used = 0;
  for (const value of values) {
    const cost = encodedLength(renderEmFilter(eq(field, value)));
    const extra = current.length === 0 ? cost : cost + separator;
    if (current.length > 0 && used + extra > room) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    used += current.length === 0 ? cost : cost + separator;
    current.push(value);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Length of a parameter value once form-encoded as `URLSearchParams` does it. */
function encodedLength(text: string): number {
  return new URLSearchParams({ f: text }).toString().length - 2;
}

/**
 * The OR-filter for one chunk of {@link chunkByUrlLength}: `UID=="a",UID=="b"`.
 *
 * @param values values of one chunk (non-empty)
 * @param field filter field, default `UID`
 */
export function anyOf(values: readonly string[], field = 'UID'): EmFilter {
  return or(...values.map((v) => eq(field, v)));
}
