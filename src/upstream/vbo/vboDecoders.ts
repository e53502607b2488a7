import { z } from 'zod';
import { VboDecodeError } from './VboDecodeError.js';
import { optionalWireDate } from '../wireTime.js';
import type {
  VboOrganization,
  VboPage,
  VboPageLinks,
  VboRestorePoint,
  VboRestoreSession,
  VboRestoreSessionEvent,
  VboServiceInstance,
  VboTokenResponse,
} from './types.js';

/**
 * Tolerant decoding of VB365 JSON (docs/veeam-wire.md Part 2). Real servers send `null` for properties
 * the spec calls required and enum values the spec does not list (Part 2 section 8, Cenvora
 * `sdk_patches.py`), spell `isBackedup`/`firstBackuptime` with odd casing and send v1 booleans as
 * strings (section 5), and answer lists as a bare array or a page object depending on endpoint and
 * version (section 6). So every field is `.nullish()` and enums are plain strings; only what a
 * client cannot do without is required: an item's id, a session's creation time, a point's backup
 * time, a token's access token. A failure throws {@link VboDecodeError} naming document and place.
 */

/** Turns an href as sent (absolute or root-relative) into an absolute URL on the configured origin; undefined when unusable. */
export type HrefResolver = (href: string) => string | undefined;

/** A string field; numbers are accepted and converted (ids and eTags vary by version). */
const text = z.union([z.string(), z.number()]).nullish();
/** A boolean; v1 sends `"true"`/`"false"` strings (HC archive/vbo365/15 organizations.html). */
const flag = z.union([z.boolean(), z.string()]).nullish();
/** A number; numeric strings are accepted. */
const count = z.union([z.number(), z.string()]).nullish();
const requiredId = z.union([z.string().min(1), z.number()]);
const requiredTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not a date-time' });

const restoreSessionSchema = z.object({
  id: requiredId,
  name: text,
  organization: text,
  type: text,
  creationTime: requiredTime,
  endTime: text,
  state: text,
  result: text,
  initiatedBy: text,
  details: text,
  scopeName: text,
  clientHost: text,
  reason: text,
  pointInTime: text,
  eTag: text,
  _links: z.unknown().optional(),
});

const organizationSchema = z.object({
  id: requiredId,
  name: text,
  officeName: text,
  type: text,
  region: text,
  description: text,
  msid: text,
  backedUpOrganizationId: text,
  username: text,
  // Both casings: the spec's `isBackedup`/`firstBackuptime`/`lastBackuptime` (section 5) and the
  // camel case a fixed server or proxy might send.
  isBackedup: flag,
  isBackedUp: flag,
  firstBackuptime: text,
  firstBackupTime: text,
  lastBackuptime: text,
  lastBackupTime: text,
  isExchangeOnline: flag,
  isSharePointOnline: flag,
  isTeamsOnline: flag,
  isTeamsChatsOnline: flag,
  _links: z.unknown().optional(),
});

const restorePointSchema = z.object({
  id: requiredId,
  backupTime: requiredTime,
  organizationId: text,
  repositoryId: text,
  jobId: text,
  retrievalId: text,
  isExchange: flag,
  isSharePoint: flag,
  isOneDrive: flag,
  isTeams: flag,
  isLongTermCopy: flag,
  isRetrieved: flag,
  isCopy: flag,
  isDeleted: flag,
  eTag: text,
  _links: z.unknown().optional(),
});

const eventSchema = z.object({
  id: requiredId,
  status: text,
  type: text,
  startTime: text,
  endTime: text,
  duration: text,
  title: text,
  message: text,
  order: count,
  itemName: text,
  itemType: text,
  itemSizeBytes: count,
  source: text,
  target: text,
  organizationId: text,
  _links: z.unknown().optional(),
});

const serviceInstanceSchema = z.object({ version: text, installationId: text });

const tokenSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: text,
  expires_in: count,
  '.issued': text,
  '.expires': text,
});

const pageSchema = z.object({
  offset: count,
  limit: count,
  totalCount: count,
  setId: text,
  results: z.array(z.unknown()).nullish(),
  _links: z.unknown().optional(),
});

/** Region spellings the spec knows; v1 prints `worldwide` (section 5). Unknown values pass through. */
const REGIONS = ['Worldwide', 'Germany', 'China', 'USDefence', 'USGovernment'];
const ORGANIZATION_TYPES = ['Office365', 'OnPremises', 'Hybrid'];

function str(v: string | number | null | undefined): string | undefined {
  return v === null || v === undefined ? undefined : String(v);
}

function bool(v: boolean | string | null | undefined): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (/^true$/i.test(v.trim())) return true;
    if (/^false$/i.test(v.trim())) return false;
  }
  return undefined;
}

function num(v: number | string | null | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function canonical(v: string | undefined, known: readonly string[]): string | undefined {
  if (v === undefined) return undefined;
  return known.find((k) => k.toLowerCase() === v.toLowerCase()) ?? v;
}

/** Assigns only defined values, so optional properties stay absent instead of `undefined`. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

/**
 * `_links` as `{rel: absolute href}`. Tolerant of anything: a missing or odd `_links`, a link
 * without `href`, an href that does not resolve, are all just left out.
 */
function linksOf(raw: unknown, resolve: HrefResolver): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out;
  for (const [rel, link] of Object.entries(raw as Record<string, unknown>)) {
    const href = typeof link === 'object' && link !== null ? (link as { href?: unknown }).href : undefined;
    if (typeof href !== 'string' || href === '') continue;
    const abs = resolve(href);
    if (abs !== undefined) out[rel] = abs;
  }
  return out;
}

function pick<K extends string>(links: Record<string, string>, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) if (links[k] !== undefined) out[k] = links[k];
  return out;
}

function where(path: readonly PropertyKey[], prefix: readonly PropertyKey[] = []): string | undefined {
  const all = [...prefix, ...path];
  if (all.length === 0) return undefined;
  let out = '';
  for (const p of all) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, document: string, prefix: readonly PropertyKey[] = []): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const at = where(issue.path, prefix);
  // A whole item that is not an object reads better as "expected an object".
  const problem = issue.path.length === 0 && issue.code === 'invalid_type' ? `expected a JSON object, got ${describe(value)}` : issue.message;
  throw new VboDecodeError(document, problem, at);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** How to decode one item of a document. */
export type ItemDecoder<T> = (value: unknown, resolve: HrefResolver, document: string, at?: readonly PropertyKey[]) => T;

/**
 * Parse a VB365 response body as JSON. A UTF-8 BOM is tolerated (ASP.NET servers behind some
 * proxies add one).
 *
 * @param body response body
 * @param document name for errors, e.g. `RestoreSessions`
 * @throws {VboDecodeError} when the body is empty or not JSON; the body is never quoted
 */
export function parseVboJson(body: string | Buffer, document: string): unknown {
  let raw = typeof body === 'string' ? body : body.toString('utf8');
  if (raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
  if (raw.trim() === '') throw new VboDecodeError(document, 'empty body where JSON was expected');
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    // Node's message quotes a snippet of the body (`Unexpected token '<', "<<{"garbage"... is not valid JSON`),
    // which could hold a token: keep only what comes before the snippet's opening double quote.
    const reason = err instanceof Error ? err.message.split('"')[0]!.replace(/[\s,]+$/, '') : 'parse error';
    throw new VboDecodeError(document, `body is not valid JSON (${reason}; ${raw.length} characters)`);
  }
}

/** `RESTRestoreSession` -> {@link VboRestoreSession}. */
export const decodeVboRestoreSession: ItemDecoder<VboRestoreSession> = (value, resolve, document, at = []) => {
  const r = parseWith(restoreSessionSchema, value, document, at);
  const links = linksOf(r._links, resolve);
  return compact<VboRestoreSession>({
    id: String(r.id),
    name: str(r.name),
    organizationName: str(r.organization),
    type: str(r.type) ?? 'Unknown',
    creationTime: r.creationTime,
    endTime: optionalWireDate(str(r.endTime)),
    state: str(r.state) ?? 'Unknown',
    result: str(r.result),
    initiatedBy: str(r.initiatedBy),
    details: str(r.details),
    scopeName: str(r.scopeName),
    clientHost: str(r.clientHost),
    reason: str(r.reason),
    pointInTime: optionalWireDate(str(r.pointInTime)),
    eTag: str(r.eTag),
    links: pick(links, ['self', 'organization', 'events'] as const),
  });
};

/** `RestOrganizationComposed` or `RESTBackupOrganization` -> {@link VboOrganization}. */
export const decodeVboOrganization: ItemDecoder<VboOrganization> = (value, resolve, document, at = []) => {
  const r = parseWith(organizationSchema, value, document, at);
  return compact<VboOrganization>({
    id: String(r.id),
    name: str(r.name) ?? str(r.officeName) ?? '',
    officeName: str(r.officeName),
    type: canonical(str(r.type), ORGANIZATION_TYPES),
    region: canonical(str(r.region), REGIONS),
    description: str(r.description),
    msid: str(r.msid),
    backedUpOrganizationId: str(r.backedUpOrganizationId),
    username: str(r.username),
    isBackedUp: bool(r.isBackedup) ?? bool(r.isBackedUp),
    firstBackupTime: optionalWireDate(str(r.firstBackuptime) ?? str(r.firstBackupTime)),
    lastBackupTime: optionalWireDate(str(r.lastBackuptime) ?? str(r.lastBackupTime)),
    isExchangeOnline: bool(r.isExchangeOnline),
    isSharePointOnline: bool(r.isSharePointOnline),
    isTeamsOnline: bool(r.isTeamsOnline),
    isTeamsChatsOnline: bool(r.isTeamsChatsOnline),
    links: linksOf(r._links, resolve),
  });
};

/** `RESTRestorePoint` -> {@link VboRestorePoint}. */
export const decodeVboRestorePoint: ItemDecoder<VboRestorePoint> = (value, resolve, document, at = []) => {
  const r = parseWith(restorePointSchema, value, document, at);
  return compact<VboRestorePoint>({
    id: String(r.id),
    backupTime: r.backupTime,
    organizationId: str(r.organizationId),
    repositoryId: str(r.repositoryId),
    jobId: str(r.jobId),
    retrievalId: str(r.retrievalId),
    isExchange: bool(r.isExchange),
    isSharePoint: bool(r.isSharePoint),
    isOneDrive: bool(r.isOneDrive),
    isTeams: bool(r.isTeams),
    isLongTermCopy: bool(r.isLongTermCopy),
    isRetrieved: bool(r.isRetrieved),
    isCopy: bool(r.isCopy),
    isDeleted: bool(r.isDeleted),
    eTag: str(r.eTag),
    links: pick(linksOf(r._links, resolve), ['self', 'organization', 'backupRepository'] as const),
  });
};

/** `RESTRestoreSessionEvent` -> {@link VboRestoreSessionEvent}. */
export const decodeVboRestoreSessionEvent: ItemDecoder<VboRestoreSessionEvent> = (value, resolve, document, at = []) => {
  const r = parseWith(eventSchema, value, document, at);
  return compact<VboRestoreSessionEvent>({
    id: String(r.id),
    status: str(r.status) ?? 'Unknown',
    type: str(r.type),
    startTime: optionalWireDate(str(r.startTime)),
    endTime: optionalWireDate(str(r.endTime)),
    duration: str(r.duration),
    title: str(r.title),
    message: str(r.message),
    order: num(r.order),
    itemName: str(r.itemName),
    itemType: str(r.itemType),
    itemSizeBytes: num(r.itemSizeBytes),
    source: str(r.source),
    target: str(r.target),
    organizationId: str(r.organizationId),
    links: pick(linksOf(r._links, resolve), ['self', 'restoreSession'] as const),
  });
};

/**
 * `GET /vN/ServiceInstance` (v6+).
 *
 * @param value parsed JSON
 * @throws {VboDecodeError} when it is not an object
 */
export function decodeVboServiceInstance(value: unknown): VboServiceInstance {
  const r = parseWith(serviceInstanceSchema, value, 'ServiceInstance');
  return compact<VboServiceInstance>({ version: str(r.version) ?? 'unknown', installationId: str(r.installationId) });
}

/**
 * Parse the token response's `.issued`/`.expires`. Their text form is UNCONFIRMED (Part 2 section
 * 2): the spec types them `date-time` (ISO 8601) while OWIN's default is RFC 1123
 * (`Sat, 16 Nov 2024 08:19:08 GMT`); both are accepted. An ISO time without a zone is read as UTC
 * (never as the gateway's local time).
 *
 * @param text the field as sent
 * @returns epoch milliseconds, or undefined when absent or unreadable
 */
export function parseVboTokenDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  let ms: number;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(t)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(t) ? t : `${t}Z`;
    // JS dates keep milliseconds; .NET prints up to 7 fraction digits.
    ms = Date.parse(zoned.replace(/(\.\d{3})\d+/, '$1'));
  } else if (/^[A-Za-z]{3},\s+\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{2}:\d{2}:\d{2}\s+(GMT|UTC|Z|[+-]\d{4})$/.test(t)) {
    ms = Date.parse(t);
  } else {
    return undefined;
  }
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The token endpoint's 200 answer (`OAuthTokenResponse`, Part 2 section 2).
 *
 * @param value parsed JSON
 * @throws {VboDecodeError} when there is no `access_token`; the message never holds a token
 */
export function decodeVboToken(value: unknown): VboTokenResponse {
  const r = parseWith(tokenSchema, value, 'token');
  const expiresIn = num(r.expires_in);
  return compact<VboTokenResponse>({
    accessToken: r.access_token,
    refreshToken: str(r.refresh_token) || undefined,
    expiresInSec: expiresIn !== undefined && expiresIn > 0 ? expiresIn : undefined,
    issuedAtMs: parseVboTokenDate(str(r['.issued'])),
    expiresAtMs: parseVboTokenDate(str(r['.expires'])),
  });
}

function pageLinks(links: Record<string, string>): VboPageLinks {
  return pick(links, ['self', 'first', 'prev', 'next'] as const);
}

/**
 * A list response in either shape: a bare JSON array (the whole collection) or a page object
 * `{offset, limit, [setId], [totalCount], _links, results}` (Part 2 sections 4-7). Which shape a
 * version sends is in {@link vboCapabilities}; both are accepted whatever the version, because the
 * docs and real clients disagree for v2/v3 RestoreSessions (section 4).
 *
 * @param value parsed JSON
 * @param document name for errors, e.g. `RestoreSessions`
 * @param decodeItem decoder of one item
 * @param resolve href resolver for links
 * @throws {VboDecodeError} for any other top-level value or an undecodable item (named by index)
 */
export function decodeVboPage<T>(value: unknown, document: string, decodeItem: ItemDecoder<T>, resolve: HrefResolver): VboPage<T> {
  if (Array.isArray(value)) {
    return { shape: 'array', items: value.map((v, i) => decodeItem(v, resolve, document, [i])), hasLinks: false, links: {} };
  }
  if (typeof value !== 'object' || value === null || !('results' in value)) {
    throw new VboDecodeError(
      document,
      `expected a JSON array or a page object {offset, limit, results}, got ${describe(value)}${typeof value === 'object' && value !== null ? ' without results' : ''}`,
    );
  }
  const r = parseWith(pageSchema, value, document);
  const raw = r.results ?? [];
  return compact<VboPage<T>>({
    shape: 'page',
    items: raw.map((v, i) => decodeItem(v, resolve, document, ['results', i])),
    offset: num(r.offset),
    limit: num(r.limit),
    totalCount: num(r.totalCount),
    setId: str(r.setId),
    hasLinks: typeof r._links === 'object' && r._links !== null,
    links: pageLinks(linksOf(r._links, resolve)),
  });
}

/**
 * One item document (`GET /RestoreSessions/{id}` and the like).
 *
 * @param value parsed JSON
 * @param document name for errors
 * @param decodeItem decoder
 * @param resolve href resolver for links
 * @throws {VboDecodeError} when it is not a decodable object
 */
export function decodeVboItem<T>(value: unknown, document: string, decodeItem: ItemDecoder<T>, resolve: HrefResolver): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VboDecodeError(document, `expected a JSON object, got ${describe(value)}`);
  }
  return decodeItem(value, resolve, document);
}
