import type { FilterNode, FilterOp } from './parseFilter.js';

/**
 * How a query-service field compares ([D:query_comparison], docs/veeam-wire.md Part 1 section 5):
 * - `string`: exact match, case-insensitive: EM runs filters in SQL Server, whose default collation
 *   (`*_CI_AS`) ignores case. Ordering compares the lower-cased text by code unit (collation order UNCONFIRMED).
 * - `uid`: the record holds a bare GUID; a filter value may be the URN `urn:veeam:<Type>:<guid>` or the bare
 *   GUID (the docs show both forms, docs/veeam-wire.md Part 1 section 5 "Batch by UID"; which one EM accepts is
 *   UNCONFIRMED, so both work). A URN of another type never matches.
 * - `date`: ISO-8601 UTC, compared as instants ("accepts only UTC-formatted DateTime values").
 * - `number`, `enum`: enums compare by declaration order ("Failed value is greater than the Success value").
 * A record without a value (EndTime of a running session) matches no comparison at all, `!=` included,
 * like SQL NULL (UNCONFIRMED: EM might store the .NET/SQL minimum date instead, docs/veeam-wire.md Part 1 section 4).
 */
export type FieldKind = 'string' | 'uid' | 'date' | 'number' | 'enum';

export interface FieldDef<T> {
  /** The canonical (documented) field name. */
  name: string;
  kind: FieldKind;
  /** The raw value: text, bare GUID, epoch ms, number; `undefined` = no value. */
  get: (record: T) => string | number | undefined;
  /** For `uid`: the entity type of the URN, e.g. `RestoreSession`. */
  uidType?: string;
  /** For `enum`: the values in declaration order. Values outside it (say `None`) rank first. */
  enumValues?: readonly string[];
}

/** A filter that parses but cannot run: unknown field, value of the wrong type. Answered with 400. */
export class FilterValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterValueError';
  }
}

export type Predicate<T> = (record: T) => boolean;

/** Looks a field up by name, case-insensitively ([D:query_and_or]: `jobtype==backup`). */
export function findField<T>(fields: ReadonlyMap<string, FieldDef<T>>, name: string): FieldDef<T> | undefined {
  return fields.get(name.toLowerCase());
}

/** Turns a parsed filter into a predicate over world records; throws FilterValueError for bad fields or values. */
export function compileFilter<T>(node: FilterNode, fields: ReadonlyMap<string, FieldDef<T>>, typeName: string): Predicate<T> {
  if (node.kind === 'and') {
    const parts = node.items.map((n) => compileFilter(n, fields, typeName));
    return (r) => parts.every((p) => p(r));
  }
  if (node.kind === 'or') {
    const parts = node.items.map((n) => compileFilter(n, fields, typeName));
    return (r) => parts.some((p) => p(r));
  }
  const field = findField(fields, node.field);
  if (!field) {
    const known = [...fields.values()].map((f) => f.name).join(', ');
    throw new FilterValueError(`Unknown filter parameter "${node.field}" for query type ${typeName}. Supported parameters: ${known}.`);
  }
  const test = opTest(node.op);
  const get = field.get;
  switch (field.kind) {
    case 'string': {
      const target = node.value.toLowerCase();
      return (r) => {
        const v = get(r);
        return v !== undefined && test(cmpText(String(v).toLowerCase(), target));
      };
    }
    case 'uid': {
      const target = parseUid(node.value, field.uidType ?? '');
      if (target === null) {
        // A URN of another entity type: equal to nothing, different from everything that has a value.
        return (r) => get(r) !== undefined && node.op === '!=';
      }
      return (r) => {
        const v = get(r);
        return v !== undefined && test(cmpText(String(v).toLowerCase(), target));
      };
    }
    case 'date': {
      const target = parseEmDate(node.value);
      if (target === undefined) {
        throw new FilterValueError(
          `Cannot convert "${node.value}" to DateTime for filter parameter "${field.name}": use a UTC ISO-8601 value such as 2025-08-14T12:31:30Z.`,
        );
      }
      return (r) => {
        const v = get(r);
        return v !== undefined && test(cmpDate(v as number, target));
      };
    }
    case 'number': {
      const target = Number(node.value);
      if (!/^-?\d+(\.\d+)?$/.test(node.value) || !Number.isFinite(target)) {
        throw new FilterValueError(`Cannot convert "${node.value}" to a number for filter parameter "${field.name}".`);
      }
      return (r) => {
        const v = get(r);
        return v !== undefined && test(cmpNum(v as number, target));
      };
    }
    case 'enum': {
      const values = field.enumValues ?? [];
      const target = enumRank(values, node.value);
      if (target < 0) {
        throw new FilterValueError(`"${node.value}" is not a valid value of filter parameter "${field.name}". Valid values: ${values.join(', ')}.`);
      }
      return (r) => {
        const v = get(r);
        return v !== undefined && test(cmpNum(enumRank(values, String(v)), target));
      };
    }
  }
}

/** The declaration-order rank of an enum value, case-insensitive; -1 when not declared (sorts first). */
export function enumRank(values: readonly string[], value: string): number {
  const lower = value.toLowerCase();
  for (let i = 0; i < values.length; i++) if (values[i]!.toLowerCase() === lower) return i;
  return -1;
}

/** The bare lower-case GUID of a UID filter value, or null for a URN of another entity type. */
export function parseUid(value: string, uidType: string): string | null {
  const m = /^urn:veeam:([^:]+):(.+)$/i.exec(value);
  if (!m) return value.toLowerCase();
  if (m[1]!.toLowerCase() !== uidType.toLowerCase()) return null;
  return m[2]!.toLowerCase();
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]00:?00)?$/i;

/** A filter instant: whole epoch ms plus the sub-millisecond rest (0 <= subMs < 1) of up to 7 fraction digits. */
export interface EmInstant {
  ms: number;
  subMs: number;
}

/**
 * The instant of a UTC filter date, or undefined. The sub-millisecond part is kept apart because a
 * double near 1.8e12 cannot hold 0.1 µs, and `CreationTime<…30.3890001Z` must still include `…30.389Z`.
 * A value without a zone is read as UTC; any non-zero offset is refused, since the docs say the
 * parameter "accepts only UTC-formatted DateTime values" ([D:get_query_restoresession]).
 */
export function parseEmDate(value: string): EmInstant | undefined {
  const m = DATE_RE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59)
    return undefined;
  const digits = frac.padEnd(7, '0');
  return { ms: ms + Number(digits.slice(0, 3)), subMs: Number(digits.slice(3)) / 10_000 };
}

/** Orders a record's whole-ms time against a filter instant. */
function cmpDate(recordMs: number, target: EmInstant): number {
  if (recordMs !== target.ms) return recordMs < target.ms ? -1 : 1;
  return target.subMs > 0 ? -1 : 0;
}

function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function opTest(op: FilterOp): (c: number) => boolean {
  switch (op) {
    case '==':
      return (c) => c === 0;
    case '!=':
      return (c) => c !== 0;
    case '<':
      return (c) => c < 0;
    case '>':
      return (c) => c > 0;
    case '<=':
      return (c) => c <= 0;
    case '>=':
      return (c) => c >= 0;
  }
}
