/**
 * Wire values of the Enterprise Manager REST API, identical whichever representation (XML or JSON)
 * they were decoded from (docs/veeam-wire.md Part 1 sections 4-6). Field names are camelCase versions of
 * Veeam's; ids and names are strings exactly as sent; enum values are kept as strings, known or not.
 * Optional fields are absent (never `null`) when EM omits them, sends them empty, or sends the
 * `1753-01-01T00:00:00Z` "never" date.
 */

/** Representation asked of EM: `Accept: application/xml` (default) or `application/json`. */
export type EmFormat = 'xml' | 'json';

/** `<Link Rel Type Href Name>`; `Type` and `Name` are optional for actions and collections. */
export interface EmLink {
  rel: string;
  type?: string;
  href: string;
  name?: string;
}

/** Known `RestoreSession` `JobType` values; others pass through as plain strings. */
export type EmRestoreJobType = 'FileLevelRestore' | 'RestoreVm' | (string & {});
/** Known session `State` values. */
export type EmSessionState = 'Starting' | 'Stopping' | 'Working' | 'Stopped' | (string & {});
/** Known session `Result` values. */
export type EmSessionResult = 'Success' | 'Warning' | 'Failed' | 'None' | (string & {});

export interface EmRestoreSession {
  /** `urn:veeam:RestoreSession:<guid>` */
  uid: string;
  /** Bare GUID, as used in URL paths. */
  id: string;
  name: string;
  href: string;
  vmDisplayName?: string;
  jobType: EmRestoreJobType;
  /** ISO-8601 UTC exactly as sent (`CreationTimeUTC`; fraction length varies). */
  creationTime: string;
  endTime?: string;
  state: EmSessionState;
  result: EmSessionResult;
  /** Percent, 0-100. */
  progress?: number;
  /** HierarchyObjRef of the restored object, e.g. `urn:VMware:Vm:<root>.vm-123`. */
  restoredObjRef?: string;
  links: EmLink[];
}

export interface EmBackupServer {
  uid: string;
  id: string;
  name: string;
  href: string;
  description?: string;
  /** TCP port of the backup server, converted from text explicitly. */
  port?: number;
  /** Build string such as `12.1.2.172`; never a number (`8.0` would lose its zero). */
  version?: string;
  links: EmLink[];
}

export interface EmVmRestorePoint {
  uid: string;
  id: string;
  name: string;
  href: string;
  creationTime: string;
  vmName?: string;
  algorithm?: string;
  pointType?: string;
  hierarchyObjRef?: string;
  links: EmLink[];
}

/** A reference (`<Ref>` / `<EntityRef>`): identity and links, no fields. */
export interface EmEntityRef {
  uid: string;
  id: string;
  name: string;
  href: string;
  /** `BackupServerReference`, `RestoreSessionReference`... */
  type: string;
  links: EmLink[];
}

export interface EmPagingInfo {
  /** 1-based. */
  pageNum: number;
  pageSize: number;
  pagesCount: number;
  /** `First`, `Next`, `Previous`/`Prev`, `Last`; hrefs decoded once and ready to request. */
  links: EmLink[];
}

export interface EmQueryResult<T> {
  /** Entities (`format=Entities`); empty for `format=References` or zero results. */
  items: T[];
  /** References (`format=References`). */
  refs?: EmEntityRef[];
  paging?: EmPagingInfo;
}

export interface EmLogonSession {
  /** The logon session id (a GUID), not the `X-RestSvcSessionId` token. */
  sessionId: string;
  userName: string;
}

export interface EmErrorBody {
  message: string;
  /** `StatusCode` attribute; absent when EM left it out. */
  statusCode?: number;
}

/** Entity kinds the query service decoder knows, mapped to their wire types. */
export interface EmEntityKinds {
  RestoreSession: EmRestoreSession;
  BackupServer: EmBackupServer;
  VmRestorePoint: EmVmRestorePoint;
}

export type EmEntityKind = keyof EmEntityKinds;

/** One `<SupportedVersion Name="v1_7">` of the API root (`GET /api/`, docs/veeam-wire.md Part 1 section 1). */
export interface EmSupportedVersion {
  /** `v1_5`, `v1_6`, `v1_7`... */
  name: string;
  /** Its `Create LogonSession` link (`sessionMngr/?v=v1_7`). */
  links: EmLink[];
}

/** The unauthenticated API root `GET /api/` (`<EnterpriseManager>`). */
export interface EmEnterpriseManager {
  links: EmLink[];
  /** In document order; empty when EM sent none. */
  supportedVersions: EmSupportedVersion[];
}
