import { Random, hashString } from '../Random.js';
import type { VboOrganization, VboRegion, VboRestorePoint, VboRestoreSession, VboRestoreSessionEvent, WorldQuirks } from '../world/types.js';
import type { VboApiVersion } from './VboApiVersion.js';
import { vboVersionNumber } from './VboApiVersion.js';
import type { VboQuery } from './VboQuery.js';
import { formatNetLocal, formatNetUtc, formatUsDateTime } from './formatNetDate.js';

type Link = { href: string };
type Links = Record<string, Link>;
/** A JSON object as sent; plain objects so `JSON.stringify` stays the only serialiser. */
export type Json = Record<string, unknown>;

/**
 * Renders world records as one API version prints them. Field sets, names and oddities per version
 * are from docs/veeam-wire.md Part 2 (sections 4-6); each choice the sources leave open says so.
 */
export class VboRenderer {
  readonly n: number;
  private base = '';

  constructor(
    readonly version: VboApiVersion,
    private readonly offsetMinutes: number,
    private readonly quirks: WorldQuirks,
  ) {
    this.n = vboVersionNumber(version);
  }

  setBaseUrl(baseUrl: string): void {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /**
   * Hrefs are absolute up to v5 (`https://abc.tech.local:4443/v5/restoresessions/…`) and
   * root-relative from v6 (`/v6/RestoreSessions/…`): HC archive/vbo365/50 vs 60 (part 2 section 7).
   */
  href(path: string): Link {
    return { href: this.n <= 5 ? `${this.base}${path}` : path };
  }

  /** `/v4`: the version prefix of every path. */
  get prefix(): string {
    return `/${this.version}`;
  }

  /**
   * A page: `{offset, limit, [setId], [totalCount], _links, results}`. Links: `self` always;
   * `first` and `prev` when offset > 0; `next` only when more items exist (HC pagination.html;
   * clients stop when `next` is absent [WOMBAT]). Whether `first` also appears on the first page
   * is UNCONFIRMED; it does not here.
   */
  page(
    path: string,
    query: VboQuery,
    offset: number,
    limit: number,
    results: unknown[],
    hasNext: boolean,
    extra: { setId?: string; totalCount?: number } = {},
  ): Json {
    const link = (o: number): Link => this.href(`${path}?${query.withPaging(o, limit)}`);
    const links: Links = { self: link(offset) };
    if (offset > 0) {
      links.first = link(0);
      links.prev = link(Math.max(0, offset - limit));
    }
    if (hasNext) links.next = link(offset + limit);
    return {
      offset,
      limit,
      ...(extra.setId !== undefined ? { setId: extra.setId } : {}),
      ...(extra.totalCount !== undefined ? { totalCount: extra.totalCount } : {}),
      _links: links,
      results,
    };
  }

  /**
   * Session state: the v2/v3 docs list `Starting|Working|Stopping|Stopped`, v1 and v6+ only
   * `Working|Stopped` (HC archive/vbo365/20 restoresessions_id.html), so a transitional state
   * prints as `Working` there. v4/v5 are not documented either way and pass it through.
   */
  private state(state: string): string {
    if ((this.n === 1 || this.n >= 6) && (state === 'Starting' || state === 'Stopping')) return 'Working';
    return state;
  }

  restoreSession(s: VboRestoreSession, organization: VboOrganization): Json {
    // Item links use the lower-case form the docs print: /v4/restoresessions/{id} (veeam-docs/001, 003).
    const self = `${this.prefix}/restoresessions/${s.id}`;
    const links: Links = { self: this.href(self), organization: this.href(`${self}/organization`) };
    const times = { creationTime: formatNetUtc(s.creationTime) };
    if (this.n <= 5) {
      // v1-v5 omit an unset endTime (the v1/v4 docs' running session has none).
      return {
        id: s.id,
        type: s.type,
        ...(this.n === 1 ? { pointInTime: formatNetLocal(s.pointInTime, this.offsetMinutes) } : {}),
        ...times,
        ...(s.endTime !== undefined ? { endTime: formatNetUtc(s.endTime) } : {}),
        state: this.state(s.state),
        result: s.result,
        _links: links,
      };
    }
    // [BEN6]: from v6 every session carries an `events` link.
    links.events = this.href(`${self}/events`);
    // Real v6+ servers send null for "required" strings (Cenvora sdk_patches.py, part 2 section 8);
    // with the quirk on, every 7th session by id hash does, so the choice survives inserts.
    const nulls = this.quirks.nullRequiredFields === true && hashString(s.id) % 7 === 0;
    const str = (v: string): string | null => (nulls ? null : v);
    return {
      id: s.id,
      name: str(s.name),
      organization: organization.name,
      type: s.type,
      ...times,
      endTime: s.endTime !== undefined ? formatNetUtc(s.endTime) : null,
      state: this.state(s.state),
      result: s.result,
      initiatedBy: str(s.initiatedBy),
      details: str(s.details),
      scopeName: str(s.scopeName),
      clientHost: str(s.clientHost),
      reason: str(s.reason),
      ...(this.n >= 8 ? { eTag: s.eTag } : {}),
      _links: links,
    };
  }

  /**
   * `/RestoreSessions/{id}/organization`: `{id, name, type, _links{self}}`. v1 puts the point in
   * time into the name, `veeam.onmicrosoft.com (7/3/2017 3:00:25 PM)` (HC archive/vbo365/15
   * restoresessions_id_organization.html); later versions print the bare name (UNCONFIRMED).
   */
  sessionOrganization(s: VboRestoreSession, org: VboOrganization): Json {
    return {
      id: org.id,
      name: this.n === 1 ? `${org.name} (${formatUsDateTime(s.pointInTime, this.offsetMinutes)})` : org.name,
      type: org.type,
      _links: { self: this.href(`${this.prefix}/restoresessions/${s.id}/organization`) },
    };
  }

  /**
   * An event, fields of [SPEC6] in the order of the v6 docs sample (`itemSizeBytes` first); times
   * in server-local time with offset, as the docs print them (`…0679711+03:00`). v8 adds the
   * organization and item ids. Events before v6 are not specified field by field: the v6 set is used.
   */
  event(e: VboRestoreSessionEvent, s: VboRestoreSession, org: VboOrganization): Json {
    const sessionPath = `${this.prefix}/restoresessions/${s.id}`;
    return {
      itemSizeBytes: e.itemSizeBytes,
      id: e.id,
      type: e.type,
      status: e.status,
      startTime: formatNetLocal(e.startTime, this.offsetMinutes),
      // A running event has no end yet; from v6 the server writes `DateTime.MaxValue` in its local
      // offset ("not yet"), as a non-nullable DateTimeOffset serializes.
      ...(e.endTime !== undefined
        ? { endTime: formatNetLocal(e.endTime, this.offsetMinutes) }
        : this.n >= 6
          ? { endTime: netMaxValue(this.offsetMinutes) }
          : {}),
      duration: e.duration,
      title: e.title,
      message: e.message,
      order: e.order,
      itemName: e.itemName,
      itemType: e.itemType,
      source: e.source,
      target: e.target,
      ...(this.n >= 8 ? this.eventIds(s, org) : {}),
      _links: { self: this.href(`${sessionPath}/events/${e.id}`), restoreSession: this.href(sessionPath) },
    };
  }

  /** v8 event ids: the item the session restores, by session type; derived from the session id so they are stable. */
  private eventIds(s: VboRestoreSession, org: VboOrganization): Json {
    const g = new Random(`event-ids:${s.id}`).guid();
    return {
      organizationId: org.id,
      backedUpOrganizationId: backedUpOrganizationId(org),
      userId: s.type === 'Vex' || s.type === 'Veod' ? g : null,
      groupId: null,
      siteId: s.type === 'Vesp' ? g : null,
      teamId: s.type === 'Vet' ? g : null,
    };
  }

  organization(org: VboOrganization): Json {
    const self = `${this.prefix}/Organizations/${org.id}`;
    const link = (rel: string): Link => this.href(`${self}/${rel}`);
    if (this.n === 1) {
      // Verbatim quirks of the v1 docs sample: lower-case region, `isBackedup` as a string,
      // `username` (HC archive/vbo365/15/rest/organizations.html).
      return {
        type: org.type,
        id: org.id,
        region: org.region.toLowerCase(),
        name: org.name,
        username: adminAccount(org),
        isBackedup: String(org.isBackedUp),
        ...this.backupTimes(org),
        _links: { self: this.href(self), jobs: link('jobs'), mailboxes: link('mailboxes') },
        _actions: {},
      };
    }
    if (this.n <= 5) {
      // v2-v5: v1's field set with real booleans; links per HC archive/vbo365/20. The v2 docs
      // spell the US regions `USgovCommunity`/`USgovDefence`; v3-v5 are assumed alike (UNCONFIRMED).
      return {
        type: org.type,
        id: org.id,
        region: v2Region(org.region),
        name: org.name,
        username: adminAccount(org),
        isBackedup: org.isBackedUp,
        ...this.backupTimes(org),
        _links: { self: this.href(self), jobs: link('jobs'), groups: link('groups'), users: link('users'), sites: link('sites') },
        _actions: {},
      };
    }
    // v6+: RestOrganizationComposed [SPEC6/8]; note `isBackedup`, `firstBackuptime`, `lastBackuptime`.
    return {
      id: org.id,
      name: org.name,
      ...(this.n >= 8 ? { description: org.description, msid: org.msid, backedUpOrganizationId: backedUpOrganizationId(org) } : {}),
      officeName: org.officeName,
      type: org.type,
      region: org.region,
      isBackedup: org.isBackedUp,
      // Non-nullable .NET DateTimes in RestOrganizationComposed [SPEC6/8]: an organization never
      // backed up serializes `DateTime.MinValue`, unzoned, rather than null or nothing.
      firstBackuptime: org.firstBackupTime !== undefined ? formatNetUtc(org.firstBackupTime) : NET_MIN_VALUE,
      lastBackuptime: org.lastBackupTime !== undefined ? formatNetUtc(org.lastBackupTime) : NET_MIN_VALUE,
      isExchangeOnline: org.isExchangeOnline,
      isSharePointOnline: org.isSharePointOnline,
      isTeamsOnline: org.isTeamsOnline,
      isTeamsChatsOnline: false,
      exchangeOnlineSettings: org.type === 'OnPremises' ? null : onlineSettings(org),
      sharePointOnlineSettings: org.type === 'OnPremises' ? null : onlineSettings(org),
      _links: {
        self: this.href(self),
        jobs: link('Jobs'),
        groups: link('Groups'),
        users: link('Users'),
        sites: link('Sites'),
        teams: link('Teams'),
        usedRepositories: link('UsedRepositories'),
        rbacRoles: link('RbacRoles'),
      },
      _actions: {},
    };
  }

  /** v1-v5 omit unset times (docs omit unset properties); the v1 sample shows both for a backed-up org. */
  private backupTimes(org: VboOrganization): Json {
    return {
      ...(org.firstBackupTime !== undefined ? { firstBackuptime: formatNetUtc(org.firstBackupTime) } : {}),
      ...(org.lastBackupTime !== undefined ? { lastBackuptime: formatNetUtc(org.lastBackupTime) } : {}),
    };
  }

  /** RESTRestorePoint [SPEC6]; v8 adds isDeleted, isCopy, eTag, objectsEtag, immutabilityExpiresOn. */
  restorePoint(p: VboRestorePoint, org: VboOrganization): Json {
    const eTag = hashString(`etag:${p.id}`) % 1_000_000;
    return {
      id: p.id,
      repositoryId: p.repositoryId,
      backupTime: formatNetUtc(p.backupTime),
      jobId: p.jobId,
      retrievalId: null,
      organizationId: org.id,
      isExchange: p.isExchange,
      isSharePoint: p.isSharePoint,
      isOneDrive: p.isOneDrive,
      isTeams: p.isTeams,
      isLongTermCopy: p.isLongTermCopy,
      isRetrieved: p.isRetrieved,
      ...(this.n >= 8 ? { isDeleted: false, isCopy: p.isCopy, eTag, objectsEtag: eTag + 1, immutabilityExpiresOn: null } : {}),
      // Link keys from [SUI]'s types; not seen in a raw capture.
      _links: {
        self: this.href(`${this.prefix}/RestorePoints/${p.id}`),
        organization: this.href(`${this.prefix}/Organizations/${org.id}`),
        backupRepository: this.href(`${this.prefix}/BackupRepositories/${p.repositoryId}`),
      },
    };
  }
}

/** v8 `backedUpOrganizationId`: a second id per organization, stable per org id. */
export function backedUpOrganizationId(org: VboOrganization): string {
  return new Random(`backed-up-organization:${org.id}`).guid();
}

function adminAccount(org: VboOrganization): string {
  return `Admin@${org.officeName}`;
}

function v2Region(region: VboRegion): string {
  if (region === 'USGovernment') return 'USgovCommunity';
  if (region === 'USDefence') return 'USgovDefence';
  return region;
}

/**
 * `exchangeOnlineSettings` / `sharePointOnlineSettings`: the spec has a settings object here; its
 * full field list is not in docs/veeam-wire.md, so this is a plausible subset (UNCONFIRMED).
 */
function onlineSettings(org: VboOrganization): Json {
  return {
    useApplicationOnlyAuth: true,
    officeOrganizationName: org.officeName,
    account: adminAccount(org),
    grantAdminAccess: false,
    useMfa: true,
    applicationId: new Random(`application:${org.id}`).guid(),
  };
}

/** .NET `DateTime.MinValue` as the JSON serializer writes an unzoned DateTime. */
const NET_MIN_VALUE = '0001-01-01T00:00:00';

/** .NET `DateTime.MaxValue` with the server's offset, as a DateTimeOffset serializes it. */
function netMaxValue(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `9999-12-31T23:59:59.9999999${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
