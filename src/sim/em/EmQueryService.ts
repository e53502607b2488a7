import { compileFilter, enumRank, findField, FilterValueError } from './compileFilter.js';
import type { FieldDef, Predicate } from './compileFilter.js';
import { EmHttpError } from './EmHttpError.js';
import { emResourceKinds } from './emResources.js';
import type { EmContext, EmResourceKind } from './emResources.js';
import { FilterSyntaxError, parseFilter } from './parseFilter.js';
import { link, links } from './renderEm.js';
import type { EmNode } from './renderEm.js';

/** Real responses without `pageSize` carry `PageSize="100"` ([BP], [D:get_query_backupjobsession]). */
export const DEFAULT_PAGE_SIZE = 100;

type SortKey = string | number | null;

interface CachedOrder {
  records: readonly unknown[];
  length: number;
  version: number;
  order: Uint32Array;
}

/** The parameters of one query, names matched case-insensitively (`Type=`, `Filter=` work too, [BY4]). */
interface QueryParams {
  type?: string;
  format?: string;
  filter?: string;
  sortAsc?: string;
  sortDesc?: string;
  pageSize?: string;
  page?: string;
}

const PARAM_NAMES: Record<string, keyof QueryParams> = {
  type: 'type',
  format: 'format',
  filter: 'filter',
  sortasc: 'sortAsc',
  sortdesc: 'sortDesc',
  pagesize: 'pageSize',
  page: 'page',
};

/**
 * The query service `GET /api/query` ([D:query_service], docs/veeam-wire.md Part 1 section 5): filter, sort, page.
 * Each request scans the records once (filtering 100k records is a few ms) and renders only the page.
 * Sorted orders are cached per (type, field) and rebuilt when the record list changes, because sorting
 * 100k records per request would dominate the benchmark; nothing rendered is cached.
 */
export class EmQueryService {
  private readonly orders = new Map<string, CachedOrder>();
  private version = 0;

  /** Call after changing a record list in place (insert, edit) so cached orders are rebuilt. */
  invalidate(): void {
    this.version++;
  }

  /** The canonical query type for a raw `type` value, for request-log templates. */
  static canonicalType(raw: string): string | undefined {
    return emResourceKinds.get(raw.toLowerCase())?.queryType;
  }

  /** Reads the query parameters of a request (first occurrence wins). */
  static params(search: URLSearchParams): QueryParams {
    const out: QueryParams = {};
    for (const [k, v] of search) {
      const key = PARAM_NAMES[k.toLowerCase()];
      if (key && out[key] === undefined) out[key] = v;
    }
    return out;
  }

  /** Runs a query and returns the `QueryResult` tree; throws EmHttpError(400) for any bad parameter. */
  run(ctx: EmContext, search: URLSearchParams): EmNode {
    const p = EmQueryService.params(search);
    if (p.type === undefined || p.type === '') throw new EmHttpError(400, 'The query parameter "type" is required, for example type=RestoreSession.');
    const kind = emResourceKinds.get(p.type.toLowerCase());
    if (!kind) {
      const known = [...emResourceKinds.values()].map((k) => k.queryType).join(', ');
      throw new EmHttpError(400, `Unknown query type "${p.type}". This server supports: ${known}.`);
    }

    // Only References and Entities are documented ([D:format]); format=Bulk appears nowhere.
    const format = (p.format ?? 'References').toLowerCase();
    if (format !== 'references' && format !== 'entities') throw new EmHttpError(400, `Unknown format "${p.format}". Use format=References or format=Entities.`);

    const pageSize = p.pageSize === undefined ? DEFAULT_PAGE_SIZE : positiveInt(p.pageSize, 'pageSize');
    const page = p.page === undefined ? 1 : positiveInt(p.page, 'page');

    const fields = kind.fields(ctx.world);
    let predicate: Predicate<unknown> | undefined;
    if (p.filter !== undefined && p.filter.trim() !== '') {
      try {
        predicate = compileFilter(parseFilter(p.filter), fields, kind.queryType);
      } catch (err) {
        if (err instanceof FilterSyntaxError || err instanceof FilterValueError) throw new EmHttpError(400, err.message);
        throw err;
      }
    }

    if (p.sortAsc !== undefined && p.sortDesc !== undefined) throw new EmHttpError(400, 'Use either sortAsc or sortDesc, not both.');
    const sortName = p.sortAsc ?? p.sortDesc;
    let order: Uint32Array | undefined;
    if (sortName !== undefined) {
      const field = findField(fields, sortName);
      if (!field) {
        const known = [...fields.values()].map((f) => f.name).join(', ');
        throw new EmHttpError(400, `Unknown sort parameter "${sortName}" for query type ${kind.queryType}. Supported parameters: ${known}.`);
      }
      order = this.sortedOrder(kind, field, ctx);
    }
    const descending = p.sortDesc !== undefined;

    const records = kind.records(ctx.world);
    const start = (page - 1) * pageSize;
    const end = start + pageSize;
    const pageRecords: unknown[] = [];
    let total = 0;
    if (!predicate && !order) {
      total = records.length;
      for (let i = start; i < Math.min(end, total); i++) pageRecords.push(records[i]);
    } else {
      const n = records.length;
      for (let j = 0; j < n; j++) {
        // Without a sort, the world's own order (creation time for sessions). Real EM's default order
        // is UNCONFIRMED ("completely random in terms of timestamp", docs/veeam-wire.md Part 1 section 5).
        const i = order ? order[descending ? n - 1 - j : j]! : j;
        const r = records[i];
        if (predicate && !predicate(r)) continue;
        if (total >= start && total < end) pageRecords.push(r);
        total++;
      }
    }

    const body: EmNode =
      format === 'entities'
        ? { name: 'Entities', children: [{ name: kind.plural, children: pageRecords.map((r) => kind.entity(ctx, r)), list: kind.plural }] }
        : { name: 'Refs', children: pageRecords.map((r) => kind.ref(ctx, r, 'Ref')), list: 'Refs' };

    return { name: 'QueryResult', children: [body, pagingInfo(ctx, search, page, pageSize, total)] };
  }

  /**
   * Record indexes in ascending (field, id) order: ties broken by id so paging is total and stable;
   * sortDesc walks it backwards, so descending order is the exact reverse (ties by id descending too).
   * Missing values (a running session's EndTime) sort first ascending, like NULL in SQL Server.
   */
  private sortedOrder(kind: EmResourceKind<unknown>, field: FieldDef<unknown>, ctx: EmContext): Uint32Array {
    const records = kind.records(ctx.world);
    const key = `${kind.queryType}|${field.name}`;
    const cached = this.orders.get(key);
    if (cached && cached.records === records && cached.length === records.length && cached.version === this.version) return cached.order;

    const n = records.length;
    const keys: SortKey[] = new Array(n);
    const ids: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = records[i];
      keys[i] = sortKey(field, r);
      ids[i] = kind.id(r).toLowerCase();
    }
    const compare = (a: number, b: number): number => compareKeys(keys[a]!, keys[b]!) || (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0);

    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    let presorted = true;
    for (let i = 1; i < n && presorted; i++) if (compareKeys(keys[i - 1]!, keys[i]!) > 0) presorted = false;
    if (presorted) {
      // Sessions are stored by creation time, so sorting by CreationTime only has to order the ties.
      let runStart = 0;
      for (let i = 1; i <= n; i++) {
        if (i === n || compareKeys(keys[runStart]!, keys[i]!) !== 0) {
          if (i - runStart > 1) order.subarray(runStart, i).sort(compare);
          runStart = i;
        }
      }
    } else {
      order.sort(compare);
    }
    this.orders.set(key, { records, length: n, version: this.version, order });
    return order;
  }
}

function sortKey(field: FieldDef<unknown>, record: unknown): SortKey {
  const v = field.get(record);
  if (v === undefined) return null;
  switch (field.kind) {
    case 'enum':
      return enumRank(field.enumValues ?? [], String(v));
    case 'string':
    case 'uid':
      return String(v).toLowerCase();
    default:
      return v;
  }
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function positiveInt(raw: string, name: string): number {
  if (!/^\s*\d+\s*$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new EmHttpError(400, `Invalid value "${raw}" of parameter "${name}": expected a positive integer.`);
  }
  return Number(raw);
}

/** Percent-encodes a query value the way the 9.5 server did ([BP]: `filter=(Name%3d%3d%22Test+REST%22)`): space as `+`. */
function encodeParam(text: string): string {
  return encodeURIComponent(text).replace(/%20/g, '+');
}

/**
 * `PagingInfo` with First/Previous/Next/Last links ([D:pagesize_and_page], docs/veeam-wire.md Part 1 section 5). The hrefs
 * repeat the request's own parameters (names as sent) and always end with pageSize and page; the XML
 * writer escapes `&` to `&amp;`. `Previous` appears only after page 1 and `Next` only when more pages
 * follow; the rel name `Previous` is UNCONFIRMED (never seen in a capture).
 *
 * Zero results (UNCONFIRMED): `PagesCount="0"` (what ceil(0 / pageSize) gives), `PageNum` as asked,
 * First and Last both to page 1, and an empty `<Refs />` / `<RestoreSessions />`.
 */
function pagingInfo(ctx: EmContext, search: URLSearchParams, page: number, pageSize: number, total: number): EmNode {
  const pagesCount = Math.ceil(total / pageSize);
  let base = `${ctx.api}/query?`;
  for (const [k, v] of search) {
    const lower = k.toLowerCase();
    if (lower === 'pagesize' || lower === 'page') continue;
    base += `${encodeParam(k)}=${encodeParam(v)}&`;
  }
  const href = (n: number): string => `${base}pageSize=${pageSize}&page=${n}`;
  const items: EmNode[] = [link('First', href(1))];
  if (page > 1) items.push(link('Previous', href(page - 1)));
  if (page < pagesCount) items.push(link('Next', href(page + 1)));
  items.push(link('Last', href(Math.max(1, pagesCount))));
  return {
    name: 'PagingInfo',
    attrs: [
      ['PageNum', page],
      ['PageSize', pageSize],
      ['PagesCount', pagesCount],
    ],
    children: [links(items)],
  };
}
