import { EmDecodeError } from './EmDecodeError.js';
import { decodeEmJson } from './decodeEmJson.js';
import { isSentinelDate } from '../wireTime.js';
import { decodeEmXml } from './decodeEmXml.js';
import type {
  EmBackupServer,
  EmEnterpriseManager,
  EmEntityKind,
  EmEntityKinds,
  EmEntityRef,
  EmErrorBody,
  EmFormat,
  EmLink,
  EmLogonSession,
  EmPagingInfo,
  EmQueryResult,
  EmRestoreSession,
  EmVmRestorePoint,
} from './types.js';

/**
 * Per-document decoders of EM bodies into wire values (`types.ts`). The XML tree from
 * `decodeEmXml` and the JSON tree from `decodeEmJson` share names (attributes are properties in
 * both), so one mapper reads both; the few shape differences are absorbed by {@link list}:
 *
 * | shape          | XML tree                              | EM JSON                                           |
 * |----------------|---------------------------------------|---------------------------------------------------|
 * | links          | `Links: { Link: [..] }`, `<Links/>`="" | `Links: [..]` or `null`                            |
 * | entities       | `Entities.RestoreSessions.RestoreSession[]` | `Entities.RestoreSessions.RestoreSessions[]` (doubled plural) |
 * | references     | `Refs: { Ref: [..] }`                  | `Refs: [..]` (shape UNCONFIRMED, both accepted)     |
 * | numbers        | strings                               | numbers                                            |
 *
 * Tolerated everywhere: missing or empty optional elements, unknown extra elements and
 * attributes, any attribute order, unknown enum values (kept as strings), `Previous` or `Prev`
 * paging links (normalised to `Previous`; docs/veeam-wire.md Part 1 section 5, rel name UNCONFIRMED).
 * Rejected with {@link EmDecodeError}: wrong root element, missing identity or required field,
 * unreadable date or integer.
 */

type Node = Record<string, unknown>;

/** Plural container of each entity kind inside `QueryResult/Entities` (docs/veeam-wire.md Part 1 section 5). */
const PLURAL: Readonly<Record<EmEntityKind, string>> = {
  RestoreSession: 'RestoreSessions',
  BackupServer: 'BackupServers',
  VmRestorePoint: 'VmRestorePoints',
};

/** `\/Date(1413698358000)\/`: the WCF JSON date form. EM JSON dates are UNCONFIRMED; accept both. */
const WCF_DATE = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/;
const BARE_GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A decode error whose place is relative to the item being mapped. List loops map their items with
 * `at = ''` and prefix the place (`Entities.RestoreSessions[3].`) only when an item fails, so a page
 * builds no path strings on the way.
 */
class FieldError extends EmDecodeError {
  constructor(
    document: string,
    readonly problem: string,
    at: string,
  ) {
    super(document, problem, at);
  }
}

function fail(doc: string, at: string, field: string, problem: string): never {
  throw new FieldError(doc, problem, at ? `${at}.${field}` : field);
}

/**
 * Rethrow an error raised while mapping the item at `prefix` (`Links[2]`, `Entities.RestoreSessions[3]`)
 * with its place made absolute.
 */
function within(err: unknown, prefix: string): never {
  if (err instanceof FieldError) throw new FieldError(err.document, err.problem, err.at ? `${prefix}.${err.at}` : prefix);
  throw err;
}

/**
 * Map the items of a list, each relative to itself; a failure names the item as `<path>[<index>]`.
 *
 * @param path place of the list, e.g. `Entities.RestoreSessions`, `Links`
 */
function mapItems<T>(items: readonly Node[], path: string, map: (n: Node) => T): T[] {
  const out = new Array<T>(items.length);
  let i = 0;
  try {
    for (; i < items.length; i++) out[i] = map(items[i] as Node);
  } catch (err) {
    within(err, `${path}[${i}]`);
  }
  return out;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Whether `s[from, from + count)` are all ASCII digits (and exist). */
function digits(s: string, from: number, count: number): boolean {
  if (from + count > s.length) return false;
  for (let k = from; k < from + count; k++) if (!isDigit(s.charCodeAt(k))) return false;
  return true;
}

/**
 * The ISO-8601 forms EM sends, checked character by character (the regex
 * `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$`, which the tests
 * compare it with): `YYYY-MM-DDThh:mm`, optional `:ss` and `.fraction`, optional `Z` or `+hh:mm`.
 *
 * @returns 0 when `s` is not such a date, 1 when it is without a zone designator, 2 with one
 */
export function isoDateForm(s: string): 0 | 1 | 2 {
  if (
    !digits(s, 0, 4) ||
    s.charCodeAt(4) !== 45 ||
    !digits(s, 5, 2) ||
    s.charCodeAt(7) !== 45 ||
    !digits(s, 8, 2) ||
    s.charCodeAt(10) !== 84 ||
    !digits(s, 11, 2) ||
    s.charCodeAt(13) !== 58 ||
    !digits(s, 14, 2)
  ) {
    return 0;
  }
  const len = s.length;
  let p = 16;
  if (p < len && s.charCodeAt(p) === 58 /* : */) {
    if (!digits(s, p + 1, 2)) return 0;
    p += 3;
    if (p < len && s.charCodeAt(p) === 46 /* . */) {
      const start = ++p;
      while (p < len && isDigit(s.charCodeAt(p))) p++;
      if (p === start) return 0;
    }
  }
  if (p === len) return 1;
  const c = s.charCodeAt(p);
  if (c === 90 /* Z */) return p + 1 === len ? 2 : 0;
  if (c !== 43 && c !== 45 /* + - */) return 0;
  if (!digits(s, p + 1, 2)) return 0;
  p += 3;
  if (p < len && s.charCodeAt(p) === 58) p++;
  return p + 2 === len && digits(s, p, 2) ? 2 : 0;
}

/** Whether `s` is an optional `-` and 1 to 15 ASCII digits (the regex `^-?\d{1,15}$`), so `Number(s)` is exact. */
export function isInteger(s: string): boolean {
  const start = s.charCodeAt(0) === 45 ? 1 : 0;
  const count = s.length - start;
  return count >= 1 && count <= 15 && digits(s, start, count);
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}

/** A single value as text; numbers and booleans from JSON become strings; `null` is absent. */
function scalar(v: unknown, doc: string, at: string, field: string): string | undefined {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isNode(v)) {
    // An element with attributes only (`<Description xsi:nil="true"/>`) has no text: absent.
    const text = v['#text'];
    return text === undefined ? undefined : scalar(text, doc, at, field);
  }
  return fail(doc, at, field, 'is repeated where one value is expected');
}

function optional(n: Node, field: string, doc: string, at: string): string | undefined {
  const s = scalar(n[field], doc, at, field);
  return s === '' ? undefined : s;
}

function required(n: Node, field: string, doc: string, at: string): string {
  const s = scalar(n[field], doc, at, field);
  if (s === undefined || s === '') fail(doc, at, field, 'is missing');
  return s;
}

/** Like {@link required} but an empty string is a value (names may be empty). */
function present(n: Node, field: string, doc: string, at: string): string {
  const s = scalar(n[field], doc, at, field);
  if (s === undefined) fail(doc, at, field, 'is missing');
  return s;
}

function integer(n: Node, field: string, doc: string, at: string): number | undefined {
  const v = n[field];
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v;
    return fail(doc, at, field, `is not an integer: ${v}`);
  }
  const s = optional(n, field, doc, at);
  if (s === undefined) return undefined;
  if (!isInteger(s)) fail(doc, at, field, `is not an integer: "${clip(s)}"`);
  return Number(s);
}

function requiredInteger(n: Node, field: string, doc: string, at: string): number {
  const v = integer(n, field, doc, at);
  if (v === undefined) fail(doc, at, field, 'is missing');
  return v;
}

/**
 * An ISO-8601 date as sent, or absent for empty and the 1753 "never" value. EM dates are UTC with
 * `Z` and a variable fraction (docs/veeam-wire.md Part 1 section 4); a value without a zone designator
 * comes from a `...UTC` element and gets `Z`.
 */
function date(n: Node, field: string, doc: string, at: string): string | undefined {
  const s = optional(n, field, doc, at);
  // EM's "never" is the SQL minimum date (docs/veeam-wire.md Part 1 section 4, [BY3]); .NET's
  // MinValue and MaxValue are read the same way, whatever their spelling (`isSentinelDate`).
  if (s === undefined || isSentinelDate(s)) return undefined;
  const iso = isoDateForm(s);
  if (iso !== 0) return iso === 1 ? `${s}Z` : s;
  const wcf = WCF_DATE.exec(s);
  if (wcf) {
    const d = new Date(Number(wcf[1]));
    if (!Number.isNaN(d.getTime()) && !isSentinelDate(d.toISOString())) return d.toISOString();
    return undefined;
  }
  return fail(doc, at, field, `is not an ISO-8601 date: "${clip(s)}"`);
}

function requiredDate(n: Node, field: string, doc: string, at: string): string {
  const d = date(n, field, doc, at);
  if (d === undefined) fail(doc, at, field, 'is missing');
  return d;
}

/**
 * Items of a list in either representation: XML `{container: {item: [...]}}` (or `""` for an
 * empty element), JSON `{container: [...]}`, `{container: {container: [...]}}` or `null`.
 */
function list(parent: Node, container: string, item: string, doc: string, at: string): Node[] {
  const v = parent[container];
  if (v === undefined || v === null || v === '') return [];
  let items: unknown = v;
  if (isNode(v)) {
    items = v[item] ?? v[container];
    if (items === undefined || items === null || items === '') return [];
  }
  if (isNode(items)) return [items];
  if (!Array.isArray(items)) return fail(doc, at, container, 'is not a list');
  for (const x of items) if (!isNode(x)) fail(doc, at, container, `holds a ${typeof x} where a <${item}> is expected`);
  return items as Node[];
}

function decodeLink(l: Node, doc: string): EmLink {
  const link: EmLink = { rel: required(l, 'Rel', doc, ''), href: required(l, 'Href', doc, '') };
  const type = optional(l, 'Type', doc, '');
  if (type !== undefined) link.type = type;
  const name = optional(l, 'Name', doc, '');
  if (name !== undefined) link.name = name;
  return link;
}

function decodeLinks(n: Node, doc: string, at: string): EmLink[] {
  const items = list(n, 'Links', 'Link', doc, at);
  return mapItems(items, at ? `${at}.Links` : 'Links', (l) => decodeLink(l, doc));
}

/**
 * Bare GUID of an entity from its UID `urn:veeam:<Type>:<guid>` (docs/veeam-wire.md Part 1 section 7;
 * clients split on `:` and take index 3). A bare GUID UID is accepted as is.
 */
function idFromUid(uid: string, doc: string, at: string): string {
  // `urn` (any case), then everything after the third `:`, which must not be empty or start with `:`.
  if (uid.charCodeAt(3) === 58 && (uid.charCodeAt(0) | 32) === 117 && (uid.charCodeAt(1) | 32) === 114 && (uid.charCodeAt(2) | 32) === 110) {
    const second = uid.indexOf(':', 4);
    const third = second === -1 ? -1 : uid.indexOf(':', second + 1);
    if (third !== -1 && third + 1 < uid.length && uid.charCodeAt(third + 1) !== 58) return uid.slice(third + 1);
  }
  if (BARE_GUID.test(uid)) return uid;
  return fail(doc, at, 'UID', `is not of the form urn:veeam:<Type>:<id>: "${clip(uid)}"`);
}

interface Identity {
  uid: string;
  id: string;
  name: string;
  href: string;
}

function identity(n: Node, doc: string, at: string): Identity {
  const uid = required(n, 'UID', doc, at);
  return { uid, id: idFromUid(uid, doc, at), name: present(n, 'Name', doc, at), href: required(n, 'Href', doc, at) };
}

function restoreSession(n: Node, doc: string, at: string): EmRestoreSession {
  const { uid, id, name, href } = identity(n, doc, at);
  const s: EmRestoreSession = {
    uid,
    id,
    name,
    href,
    jobType: required(n, 'JobType', doc, at),
    creationTime: requiredDate(n, 'CreationTimeUTC', doc, at),
    state: required(n, 'State', doc, at),
    result: required(n, 'Result', doc, at),
    links: decodeLinks(n, doc, at),
  };
  const vmDisplayName = optional(n, 'VmDisplayName', doc, at);
  if (vmDisplayName !== undefined) s.vmDisplayName = vmDisplayName;
  const endTime = date(n, 'EndTimeUTC', doc, at);
  if (endTime !== undefined) s.endTime = endTime;
  const progress = integer(n, 'Progress', doc, at);
  if (progress !== undefined) s.progress = progress;
  const restoredObjRef = optional(n, 'RestoredObjRef', doc, at);
  if (restoredObjRef !== undefined) s.restoredObjRef = restoredObjRef;
  return s;
}

function backupServer(n: Node, doc: string, at: string): EmBackupServer {
  const { uid, id, name, href } = identity(n, doc, at);
  const s: EmBackupServer = { uid, id, name, href, links: decodeLinks(n, doc, at) };
  const description = optional(n, 'Description', doc, at);
  if (description !== undefined) s.description = description;
  const port = integer(n, 'Port', doc, at);
  if (port !== undefined) s.port = port;
  const version = optional(n, 'Version', doc, at);
  if (version !== undefined) s.version = version;
  return s;
}

function vmRestorePoint(n: Node, doc: string, at: string): EmVmRestorePoint {
  const { uid, id, name, href } = identity(n, doc, at);
  const p: EmVmRestorePoint = {
    uid,
    id,
    name,
    href,
    creationTime: requiredDate(n, 'CreationTimeUTC', doc, at),
    links: decodeLinks(n, doc, at),
  };
  const vmName = optional(n, 'VmName', doc, at);
  if (vmName !== undefined) p.vmName = vmName;
  const algorithm = optional(n, 'Algorithm', doc, at);
  if (algorithm !== undefined) p.algorithm = algorithm;
  const pointType = optional(n, 'PointType', doc, at);
  if (pointType !== undefined) p.pointType = pointType;
  const hierarchyObjRef = optional(n, 'HierarchyObjRef', doc, at);
  if (hierarchyObjRef !== undefined) p.hierarchyObjRef = hierarchyObjRef;
  return p;
}

function entityRef(n: Node, doc: string, at: string): EmEntityRef {
  const { uid, id, name, href } = identity(n, doc, at);
  return { uid, id, name, href, type: required(n, 'Type', doc, at), links: decodeLinks(n, doc, at) };
}

const ENTITY_MAPPERS: { [K in EmEntityKind]: (n: Node, doc: string, at: string) => EmEntityKinds[K] } = {
  RestoreSession: restoreSession,
  BackupServer: backupServer,
  VmRestorePoint: vmRestorePoint,
};

function pagingInfo(n: Node, doc: string): EmPagingInfo {
  const at = 'PagingInfo';
  const links = decodeLinks(n, doc, at);
  for (const l of links) if (l.rel === 'Prev') l.rel = 'Previous';
  return {
    pageNum: requiredInteger(n, 'PageNum', doc, at),
    pageSize: requiredInteger(n, 'PageSize', doc, at),
    pagesCount: requiredInteger(n, 'PagesCount', doc, at),
    links,
  };
}

/** Root content of a document; XML must have the expected root element. */
function open(body: string | Buffer, format: EmFormat, expected: string): Node {
  if (format === 'json') return decodeEmJson(body, expected);
  const { root, node } = decodeEmXml(body, expected);
  if (root !== expected) throw new EmDecodeError(expected, `expected root element <${expected}>, got <${root}>`);
  return node;
}

/** JSON has no root name; an entity's `Type` property, when sent, must be the entity itself. */
function assertJsonType(n: Node, format: EmFormat, expected: string): void {
  if (format !== 'json') return;
  const type = n.Type;
  if (typeof type === 'string' && type !== '' && type !== expected) {
    throw new EmDecodeError(expected, `has Type "${clip(type)}", expected "${expected}"`);
  }
}

/**
 * Decode a query-service page (`GET /api/query?type=<kind>&format=Entities|References`,
 * docs/veeam-wire.md Part 1 section 5).
 *
 * @param kind entity kind asked for in `type=`; selects `Entities/<Kind>s`
 * @param body response body
 * @param format representation of the body
 * @returns entities in document order (`format=Entities`), references when the page has any
 *   (`refs` is absent for none), and paging when EM sent `PagingInfo`
 * @throws {EmDecodeError} when the body is not a `QueryResult` of this kind
 */
export function decodeQueryResult<K extends EmEntityKind>(kind: K, body: string | Buffer, format: EmFormat): EmQueryResult<EmEntityKinds[K]> {
  const doc = 'QueryResult';
  const n = open(body, format, doc);
  const result: EmQueryResult<EmEntityKinds[K]> = { items: [] };
  const entities = n.Entities;
  if (entities !== undefined && entities !== null && entities !== '') {
    if (!isNode(entities)) fail(doc, '', 'Entities', 'is not an element');
    const plural = PLURAL[kind];
    const present = entities[plural];
    if (present === undefined || present === null) {
      const others = Object.keys(entities).filter((k) => entities[k] !== null && entities[k] !== '' && k !== '#text');
      if (others.length > 0) fail(doc, '', 'Entities', `holds ${others.join(', ')}, expected ${plural}`);
    } else {
      const items = list(entities, plural, kind, doc, 'Entities');
      const map = ENTITY_MAPPERS[kind];
      result.items = mapItems(items, `Entities.${plural}`, (item) => map(item, doc, ''));
    }
  }
  const refs = list(n, 'Refs', 'Ref', doc, '');
  if (refs.length > 0) result.refs = mapItems(refs, 'Refs', (r) => entityRef(r, doc, ''));
  const paging = n.PagingInfo;
  if (isNode(paging)) result.paging = pagingInfo(paging, doc);
  else if (paging !== undefined && paging !== null && paging !== '') fail(doc, '', 'PagingInfo', 'is not an element');
  return result;
}

/**
 * Decode a reference collection (`GET /api/backupServers`: `<EntityReferences><Ref>`, JSON
 * `{"Refs": [...]}`; docs/veeam-wire.md Part 1 section 4).
 *
 * @param body response body
 * @param format representation of the body
 * @returns the references in document order
 * @throws {EmDecodeError} on a malformed body
 */
export function decodeEntityReferences(body: string | Buffer, format: EmFormat): EmEntityRef[] {
  const doc = 'EntityReferences';
  const n = open(body, format, doc);
  // XML puts the <Ref> elements straight under the root; JSON names the array `Refs`.
  const items = n.Ref !== undefined ? list(n, 'Ref', 'Ref', doc, '') : list(n, 'Refs', 'Ref', doc, '');
  return mapItems(items, 'Refs', (r) => entityRef(r, doc, ''));
}

/**
 * Decode one restore session (`GET /api/restoreSessions/{id}?format=Entity`).
 *
 * @param body response body
 * @param format representation of the body
 * @throws {EmDecodeError} on a malformed body or another root (a reference is not an entity)
 */
export function decodeRestoreSession(body: string | Buffer, format: EmFormat): EmRestoreSession {
  const n = open(body, format, 'RestoreSession');
  assertJsonType(n, format, 'RestoreSession');
  return restoreSession(n, 'RestoreSession', '');
}

/**
 * Decode one backup server (`GET /api/backupServers/{id}?format=Entity`).
 *
 * @param body response body
 * @param format representation of the body
 * @throws {EmDecodeError} on a malformed body
 */
export function decodeBackupServer(body: string | Buffer, format: EmFormat): EmBackupServer {
  const n = open(body, format, 'BackupServer');
  assertJsonType(n, format, 'BackupServer');
  return backupServer(n, 'BackupServer', '');
}

/**
 * Decode one VM restore point (`GET /api/vmRestorePoints/{id}?format=Entity`).
 *
 * @param body response body
 * @param format representation of the body
 * @throws {EmDecodeError} on a malformed body
 */
export function decodeVmRestorePoint(body: string | Buffer, format: EmFormat): EmVmRestorePoint {
  const n = open(body, format, 'VmRestorePoint');
  assertJsonType(n, format, 'VmRestorePoint');
  return vmRestorePoint(n, 'VmRestorePoint', '');
}

/**
 * Decode the logon answer (`POST /api/sessionMngr/?v=latest` -> 201 `LogonSession`; docs/veeam-wire.md
 * Part 1 section 2). The `X-RestSvcSessionId` token is a response header, not part of this body.
 *
 * @param body response body
 * @param format representation of the body
 * @throws {EmDecodeError} when `SessionId` or `UserName` is missing
 */
export function decodeLogonSession(body: string | Buffer, format: EmFormat): EmLogonSession {
  const doc = 'LogonSession';
  const n = open(body, format, doc);
  assertJsonType(n, format, doc);
  return { sessionId: required(n, 'SessionId', doc, ''), userName: present(n, 'UserName', doc, '') };
}

/**
 * Decode the API root (`GET /api/` -> 200 `<EnterpriseManager>` with `Links` and
 * `SupportedVersions/SupportedVersion[@Name]`, docs/veeam-wire.md Part 1 section 1). It needs no logon, so
 * a `check` command can read the versions a server speaks.
 *
 * @param body response body
 * @param format representation of the body
 * @throws {EmDecodeError} on a malformed body or a version without `Name`
 */
export function decodeEnterpriseManager(body: string | Buffer, format: EmFormat): EmEnterpriseManager {
  const doc = 'EnterpriseManager';
  const n = open(body, format, doc);
  const versions = list(n, 'SupportedVersions', 'SupportedVersion', doc, '');
  return {
    links: decodeLinks(n, doc, ''),
    supportedVersions: versions.map((v, i) => {
      const at = `SupportedVersions[${i}]`;
      return { name: required(v, 'Name', doc, at), links: decodeLinks(v, doc, at) };
    }),
  };
}

/**
 * Decode an EM error body (`<Error Message=".." StatusCode="..">` or JSON
 * `{"Message":..,"StatusCode":..}`; docs/veeam-wire.md Part 1 section 3). Falls back to
 * `FirstChanceExceptionMessage` when `Message` is empty.
 *
 * @param body response body
 * @param format representation of the body
 * @throws {EmDecodeError} when the body is not an `Error` or carries no message at all
 */
export function decodeError(body: string | Buffer, format: EmFormat): EmErrorBody {
  const doc = 'Error';
  const n = open(body, format, doc);
  const message = optional(n, 'Message', doc, '') ?? optional(n, 'FirstChanceExceptionMessage', doc, '');
  if (message === undefined) fail(doc, '', 'Message', 'is missing');
  const out: EmErrorBody = { message };
  const statusCode = integer(n, 'StatusCode', doc, '');
  if (statusCode !== undefined) out.statusCode = statusCode;
  return out;
}

/**
 * Find a paging link, accepting both spellings of the previous-page rel.
 *
 * @param paging decoded paging info (its `Prev` links are already `Previous`)
 * @param rel `First`, `Next`, `Previous` or `Last`
 * @returns the href, ready to request, or undefined when EM sent none (no next page, say)
 */
export function findPagingHref(paging: EmPagingInfo | undefined, rel: 'First' | 'Next' | 'Previous' | 'Last'): string | undefined {
  return paging?.links.find((l) => l.rel === rel)?.href;
}
