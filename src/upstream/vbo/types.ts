/**
 * Wire values of the Veeam Backup for Microsoft 365 (VB365) REST API v1..v8, as the client hands
 * them to its callers (docs/veeam-wire.md Part 2 sections 4-6). One set of types for every API version:
 * fields a version does not send are absent. Conventions:
 * - ids, names and times are strings exactly as sent (times keep their 0-7 fraction digits and
 *   their zone: `Z` for sessions, a server-local offset for events and v1 `pointInTime`);
 * - a `null` the server sends for a "required" field (part 2 section 8) becomes an absent property,
 *   never `null`; an empty string stays an empty string (Teams sessions have empty names);
 * - enum values are kept as strings, known or not (servers send values the spec does not list);
 * - links are absolute hrefs on the configured origin, whatever form the server used (absolute
 *   until v5, root-relative from v6, part 2 section 7).
 */

/** The VB365 REST API versions, one per product generation (docs/veeam-wire.md Part 2 section 1). */
export type VboApiVersion = 'v1' | 'v2' | 'v3' | 'v4' | 'v5' | 'v6' | 'v7' | 'v8';

/** Every supported API version, oldest first. */
export const VBO_API_VERSIONS: readonly VboApiVersion[] = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8'];

/** Known restore session types (`Vex` Exchange, `Veod` OneDrive, `Vesp` SharePoint, `Vet` Teams); others pass through. */
export type VboRestoreSessionType = 'Vex' | 'Veod' | 'Vesp' | 'Vet' | (string & {});
/** Known session states (`Starting`/`Stopping` appear in the v2/v3 docs only). */
export type VboRestoreSessionState = 'Starting' | 'Working' | 'Stopping' | 'Stopped' | (string & {});
/** Known session results. */
export type VboRestoreSessionResult = 'Success' | 'Warning' | 'Failed' | (string & {});

/** Links of a restore session (`_links`), resolved to absolute hrefs. */
export interface VboRestoreSessionLinks {
  self?: string;
  organization?: string;
  /** From v6 [BEN6]. */
  events?: string;
}

/** `RESTRestoreSession` (Part 2 section 4). */
export interface VboRestoreSession {
  /** GUID as sent (lower case in every sample). */
  id: string;
  /** Absent before v6 and when null; may be an empty string (Teams sessions). */
  name?: string;
  /** The organization's *name* (`organization` on the wire, v6+). */
  organizationName?: string;
  /** `Unknown` when the server sent null. */
  type: VboRestoreSessionType;
  /** UTC with `Z`, e.g. `2017-06-29T07:42:21.191694Z`. */
  creationTime: string;
  /** Absent while the session runs. */
  endTime?: string;
  /** `Unknown` when the server sent null. */
  state: VboRestoreSessionState;
  result?: VboRestoreSessionResult;
  initiatedBy?: string;
  /** Free text such as `5 items processed (5 success)`; its format is UNCONFIRMED. */
  details?: string;
  scopeName?: string;
  clientHost?: string;
  reason?: string;
  /** v1 only: the point in time browsed, in server-local time with offset. */
  pointInTime?: string;
  /** v8 only; opaque, converted to a string. */
  eTag?: string;
  links: VboRestoreSessionLinks;
}

/** `RestOrganizationComposed` (v1-v8) or the shorter `RESTBackupOrganization` of `/RestoreSessions/{id}/organization`. */
export interface VboOrganization {
  id: string;
  /** v1's session organization name carries the point in time: `veeam.onmicrosoft.com (7/3/2017 3:00:25 PM)`. */
  name: string;
  officeName?: string;
  /** `Office365 | OnPremises | Hybrid`, kept as sent when unknown. */
  type?: string;
  /** `Worldwide | Germany | China | USDefence | USGovernment`; known values case-normalised (v1 sends `worldwide`). */
  region?: string;
  /** v8. */
  description?: string;
  /** v8. */
  msid?: string;
  /** v8. */
  backedUpOrganizationId?: string;
  /** v1-v5 `username` (the admin account). */
  username?: string;
  /** From `isBackedup` (any casing; v1 sends the string `"true"`). */
  isBackedUp?: boolean;
  /** From `firstBackuptime` (any casing). */
  firstBackupTime?: string;
  lastBackupTime?: string;
  isExchangeOnline?: boolean;
  isSharePointOnline?: boolean;
  isTeamsOnline?: boolean;
  isTeamsChatsOnline?: boolean;
  /** Every `_links` entry by its key (`self`, `jobs`, `users`...), resolved to absolute hrefs. */
  links: Record<string, string>;
}

/** `RESTRestorePoint` (v6+, Part 2 section 6). */
export interface VboRestorePoint {
  /** A string, not uuid-typed in the spec. */
  id: string;
  /** UTC time of the backup. */
  backupTime: string;
  organizationId?: string;
  repositoryId?: string;
  jobId?: string;
  retrievalId?: string;
  isExchange?: boolean;
  isSharePoint?: boolean;
  isOneDrive?: boolean;
  isTeams?: boolean;
  isLongTermCopy?: boolean;
  isRetrieved?: boolean;
  /** v8. */
  isCopy?: boolean;
  /** v8. */
  isDeleted?: boolean;
  /** v8; opaque, converted to a string. */
  eTag?: string;
  links: { self?: string; organization?: string; backupRepository?: string };
}

/** Known event statuses; others pass through. */
export type VboRestoreSessionEventStatus = 'Running' | 'Success' | 'Warning' | 'Failed' | 'Cancelled' | 'Skipped' | (string & {});

/** `RESTRestoreSessionEvent` (Part 2 section 4). */
export interface VboRestoreSessionEvent {
  id: string;
  /** `Unknown` when the server sent null. */
  status: VboRestoreSessionEventStatus;
  /** `None|Save|Export|Send|Restore|View`, kept as sent. */
  type?: string;
  /** Server-local time with offset (`2017-05-30T13:53:45.0679711+03:00`). */
  startTime?: string;
  endTime?: string;
  /** .NET TimeSpan text, e.g. `00:00:00.0446928`. */
  duration?: string;
  title?: string;
  message?: string;
  order?: number;
  itemName?: string;
  itemType?: string;
  /** Bytes. */
  itemSizeBytes?: number;
  source?: string;
  target?: string;
  /** v8. */
  organizationId?: string;
  links: { self?: string; restoreSession?: string };
}

/** `GET /vN/ServiceInstance` (v6+). */
export interface VboServiceInstance {
  /** Product build, e.g. `8.1.0.305`. */
  version: string;
  installationId?: string;
}

/** Page links, resolved to absolute hrefs. */
export interface VboPageLinks {
  self?: string;
  first?: string;
  prev?: string;
  next?: string;
}

/**
 * One decoded list response. VB365 answers a list either as a page object
 * `{offset, limit, results, _links}` or as a bare JSON array holding the whole collection, depending
 * on endpoint and version (the table in Part 2 section 6); both decode to this.
 */
export interface VboPage<T> {
  /** `page` for a page object, `array` for a bare array (the whole collection, nothing more to fetch). */
  shape: 'page' | 'array';
  items: T[];
  /** Offset the server says this page starts at (page shape only). */
  offset?: number;
  /** Page size the server applied (page shape only). */
  limit?: number;
  /** v6/v7 only, and nullable there. */
  totalCount?: number;
  /** Informational only for the endpoints used here (Part 2 section 7). */
  setId?: string;
  /** Whether the page object had `_links` at all (optional in the spec). */
  hasLinks: boolean;
  links: VboPageLinks;
}

/** The token endpoint's answer, as the token manager needs it. */
export interface VboTokenResponse {
  accessToken: string;
  refreshToken?: string;
  /** `expires_in`, seconds. */
  expiresInSec?: number;
  /** `.issued` in epoch ms (server clock), from ISO 8601 or RFC 1123 text. */
  issuedAtMs?: number;
  /** `.expires` in epoch ms (server clock), from ISO 8601 or RFC 1123 text. */
  expiresAtMs?: number;
}
