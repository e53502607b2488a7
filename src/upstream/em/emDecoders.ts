import { EmDecodeError } from './EmDecodeError.js';
import { decodeEmJson } from './decodeEmJson.js';
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

/** EM's "never" value, the .NET/SQL minimum date (docs/veeam-wire.md Part 1 section 4, [BY3]). */
const NEVER_PREFIX = '1753-01-01T00:00:00';
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
/** `\/Date(1413698358000)\/`: the WCF JSON date form. EM JSON dates are UNCONFIRMED; accept both. */
const WCF_DATE = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/;
const INTEGER = /^-?\d{1,15}$/;
const BARE_GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(doc: string, at: string, field: string, problem: string): never {
  throw new EmDecodeError(doc, problem, at ? `${at}.${field}` : field);
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
  if (!INTEGER.test(s)) fail(doc, at, field, `is not an integer: "${clip(s)}"`);
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
  if (s === undefined || s.startsWith(NEVER_PREFIX)) return undefined;
  const iso = ISO_DATE.exec(s);
  if (iso) return iso[1] === undefined ? `${s}Z` : s;
  const wcf = WCF_DATE.exec(s);
  if (wcf) {
    const d = new Date(Number(wcf[1]));
    if (!Number.isNaN(d.getTime()) && !d.toISOString().startsWith(NEVER_PREFIX)) return d.toISOString();
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

function decodeLinks(n: Node, doc: string, at: string): EmLink[] {
  const items = list(n, 'Links', 'Link', doc, at);
  const out: EmLink[] = new Array<EmLink>(items.length);
  for (let i = 0; i < items.length; i++) {
    const l = items[i] as Node;
    const where = `${at ? `${at}.` : ''}Links[${i}]`;
    const link: EmLink = { rel: required(l, 'Rel', doc, where), href: required(l, 'Href', doc, where) };
    const type = optional(l, 'Type', doc, where);
    if (type !== undefined) link.type = type;
    const name = optional(l, 'Name', doc, where);
    if (name !== undefined) link.name = name;
    out[i] = link;
  }
  return out;
}

/**
 * Bare GUID of an entity from its UID `urn:veeam:<Type>:<guid>` (docs/veeam-wire.md Part 1 section 7;
 * clients split on `:` and take index 3). A bare GUID UID is accepted as is.
 */
function idFromUid(uid: string, doc: string, at: string): string {
  if (BARE_GUID.test(uid)) return uid;
  const parts = uid.split(':');
  if (parts.length >= 4 && parts[0]?.toLowerCase() === 'urn' && parts[3] !== '') return parts.slice(3).join(':');
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
  const s: EmBackupServer = { ...identity(n, doc, at), links: decodeLinks(n, doc, at) };
  const description = optional(n, 'Description', doc, at);
  if (description !== undefined) s.description = description;
  const port = integer(n, 'Port', doc, at);
  if (port !== undefined) s.port = port;
  const version = optional(n, 'Version', doc, at);
  if (version !== undefined) s.version = version;
  return s;
}

function vmRestorePoint(n: Node, doc: string, at: string): EmVmRestorePoint {
  const p: EmVmRestorePoint = {
    ...identity(n, doc, at),
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
  return { ...identity(n, doc, at), type: required(n, 'Type', doc, at), links: decodeLinks(n, doc, at) };
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
      const out = new Array<EmEntityKinds[K]>(items.length);
      const base = `Entities.${plural}`;
      for (let i = 0; i < items.length; i++) out[i] = map(items[i] as Node, doc, `${base}[${i}]`);
      result.items = out;
    }
  }
  const refs = list(n, 'Refs', 'Ref', doc, '');
  if (refs.length > 0) result.refs = refs.map((r, i) => entityRef(r, doc, `Refs[${i}]`));
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
  return items.map((r, i) => entityRef(r, doc, `Refs[${i}]`));
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
