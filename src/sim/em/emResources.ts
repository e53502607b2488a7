import type { EmBackupServer, EmRestorePoint, EmRestoreSession, EmServerWorld, EmVmRestorePoint } from '../world/types.js';
import type { FieldDef } from './compileFilter.js';
import { formatEmDate } from './formatEmDate.js';
import { leaf, link, links } from './renderEm.js';
import type { EmNode } from './renderEm.js';

/** What a representation needs: the API root (`${baseUrl}/api`, hrefs are absolute on it) and the world. */
export interface EmContext {
  api: string;
  world: EmServerWorld;
}

/**
 * One key resource of EM as both the query service and the plain routes see it: query type, filter/sort
 * fields, and its two representations, reference and entity ([D:resource_representation_for_ke]).
 */
export interface EmResourceKind<T> {
  /** The query-service type, canonical case ([D:query_type]). */
  queryType: string;
  /** Entity-list element, also the JSON property of the list (`<RestoreSessions>`, `{"RestoreSessions":[…]}`). */
  plural: string;
  /** The collection path segment, documented camelCase (`restoreSessions`). */
  path: string;
  records(world: EmServerWorld): readonly T[];
  id(record: T): string;
  /** Filter and sort fields keyed by lower-case name. */
  fields(world: EmServerWorld): ReadonlyMap<string, FieldDef<T>>;
  /** The reference representation; `element` is `EntityRef` for a single resource, `Ref` inside lists. */
  ref(ctx: EmContext, record: T, element: 'EntityRef' | 'Ref'): EmNode;
  entity(ctx: EmContext, record: T): EmNode;
}

const urn = (type: string, id: string): string => `urn:veeam:${type}:${id}`;

function fieldMap<T>(defs: FieldDef<T>[]): ReadonlyMap<string, FieldDef<T>> {
  return new Map(defs.map((d) => [d.name.toLowerCase(), d]));
}

/** Field tables depend on the world (a session's BackupServerName lives on the server record): built once per world. */
function perWorld<T>(build: (world: EmServerWorld) => FieldDef<T>[]): (world: EmServerWorld) => ReadonlyMap<string, FieldDef<T>> {
  const cache = new WeakMap<EmServerWorld, ReadonlyMap<string, FieldDef<T>>>();
  return (world) => {
    let m = cache.get(world);
    if (!m) {
      m = fieldMap(build(world));
      cache.set(world, m);
    }
    return m;
  };
}

function backupServerUp(ctx: EmContext, index: number): EmNode[] {
  const bs = ctx.world.backupServers[index];
  return bs ? [link('Up', `${ctx.api}/backupServers/${bs.id}`, 'BackupServerReference', bs.name)] : [];
}

/** Attributes of every key resource, in the docs' order: `Type Href Name UID` ([D:restoresessions_id]). */
function resourceAttrs(type: string, href: string, name: string, uid: string): [string, string][] {
  return [
    ['Type', type],
    ['Href', href],
    ['Name', name],
    ['UID', uid],
  ];
}

// Enum declaration orders ([D:get_query_restoresession], [D:get_vmrestorepoints_id]). `None` for a running
// session's Result is not in the docs' list; it is declared first (EM's session result enum is
// None < Success < Warning < Failed as far as clients show; UNCONFIRMED), so `Result>=Warning` never
// returns running sessions.
const JOB_TYPES = ['FileLevelRestore', 'RestoreVm'] as const;
const STATES = ['Starting', 'Stopping', 'Working', 'Stopped'] as const;
const RESULTS = ['None', 'Success', 'Warning', 'Failed'] as const;
const ALGORITHMS = ['Full', 'ReversedIncremental', 'Incremental', 'SyntheticFull'] as const;
const POINT_TYPES = ['Full', 'Increment', 'ReverseIncrement'] as const;

/**
 * RestoreSession ([D:restoresessions_id], ../shared/veeam-docs/002 and 004). Entity element order per the
 * XSD (docs/veeam-wire.md Part 1 section 6): `Links, JobType, CreationTimeUTC, EndTimeUTC?, State, Result, Progress,
 * RestoredObjRef?`, attribute `VmDisplayName`. While the session runs EndTimeUTC is `1753-01-01T00:00:00Z`,
 * SQL Server's smallest datetime, the "never" value EM shows (UNCONFIRMED for this field).
 */
export const restoreSessionKind: EmResourceKind<EmRestoreSession> = {
  queryType: 'RestoreSession',
  plural: 'RestoreSessions',
  path: 'restoreSessions',
  records: (w) => w.restoreSessions,
  id: (r) => r.id,
  fields: perWorld((w) => [
    { name: 'UID', kind: 'uid', uidType: 'RestoreSession', get: (r) => r.id },
    { name: 'Name', kind: 'string', get: (r) => r.name },
    { name: 'Type', kind: 'enum', enumValues: JOB_TYPES, get: (r) => r.jobType },
    { name: 'CreationTime', kind: 'date', get: (r) => r.creationTime },
    { name: 'EndTime', kind: 'date', get: (r) => r.endTime },
    { name: 'State', kind: 'enum', enumValues: STATES, get: (r) => r.state },
    { name: 'Result', kind: 'enum', enumValues: RESULTS, get: (r) => r.result },
    { name: 'BackupServerUid', kind: 'uid', uidType: 'BackupServer', get: (r) => w.backupServers[r.backupServer]?.id },
    { name: 'BackupServerName', kind: 'string', get: (r) => w.backupServers[r.backupServer]?.name },
    { name: 'VmDisplayName', kind: 'string', get: (r) => r.vmDisplayName },
  ]),
  ref(ctx, r, element) {
    const href = `${ctx.api}/restoreSessions/${r.id}`;
    return {
      name: element,
      attrs: resourceAttrs('RestoreSessionReference', href, r.name, urn('RestoreSession', r.id)),
      children: [links([...backupServerUp(ctx, r.backupServer), link('Alternate', `${href}?format=Entity`, 'RestoreSession', r.name)])],
    };
  },
  entity(ctx, r) {
    const href = `${ctx.api}/restoreSessions/${r.id}`;
    const point = ctx.world.vmRestorePoints[r.vmRestorePoint];
    return {
      name: 'RestoreSession',
      attrs: [...resourceAttrs('RestoreSession', `${href}?format=Entity`, r.name, urn('RestoreSession', r.id)), ['VmDisplayName', r.vmDisplayName]],
      children: [
        links([
          ...backupServerUp(ctx, r.backupServer),
          link('Alternate', href, 'RestoreSessionReference', r.name),
          ...(point ? [link('Related', `${ctx.api}/vmRestorePoints/${point.id}`, 'VmRestorePointReference', point.name)] : []),
        ]),
        leaf('JobType', r.jobType),
        leaf('CreationTimeUTC', formatEmDate(r.creationTime)),
        // A running session's end is EM's SQL "never": the smallest SQL Server datetime (docs/veeam-wire.md Part 1 section 4).
        leaf('EndTimeUTC', r.endTime === undefined ? SQL_NEVER : formatEmDate(r.endTime)),
        leaf('State', r.state),
        leaf('Result', r.result),
        leaf('Progress', r.progress),
        leaf('RestoredObjRef', r.restoredObjRef ? r.restoredObjRef : null),
      ],
    };
  },
};

/**
 * BackupServer ([D:backupservers_id], docs/veeam-wire.md Part 1 section 6): entity body `Description, Port, Version`.
 * The reference form's links follow the QueryResult sample of [D:pagesize_and_page] (Down jobs, Alternate).
 */
export const backupServerKind: EmResourceKind<EmBackupServer> = {
  queryType: 'BackupServer',
  plural: 'BackupServers',
  path: 'backupServers',
  records: (w) => w.backupServers,
  id: (r) => r.id,
  fields: perWorld(() => [
    { name: 'UID', kind: 'uid', uidType: 'BackupServer', get: (r) => r.id },
    { name: 'Name', kind: 'string', get: (r) => r.name },
    { name: 'Description', kind: 'string', get: (r) => r.description },
    // The server is added by DNS name or IP and EM shows that as its Name (docs/veeam-wire.md Part 1 section 6).
    { name: 'IpOrDnsName', kind: 'string', get: (r) => r.name },
    { name: 'Port', kind: 'number', get: (r) => r.port },
    { name: 'Version', kind: 'string', get: (r) => r.version },
  ]),
  ref(ctx, r, element) {
    const href = `${ctx.api}/backupServers/${r.id}`;
    return {
      name: element,
      attrs: resourceAttrs('BackupServerReference', href, r.name, urn('BackupServer', r.id)),
      children: [
        links([
          link('Down', `${href}/jobs`, 'JobReferenceList'),
          link('Down', `${href}/managedServers`, 'ManagedServerReferenceList'),
          link('Down', `${href}/repositories`, 'RepositoryReferenceList'),
          link('Alternate', `${href}?format=Entity`, 'BackupServer', r.name),
        ]),
      ],
    };
  },
  entity(ctx, r) {
    const href = `${ctx.api}/backupServers/${r.id}`;
    return {
      name: 'BackupServer',
      attrs: resourceAttrs('BackupServer', `${href}?format=Entity`, r.name, urn('BackupServer', r.id)),
      children: [
        // Verbatim link list of [D:backupservers_id] (13.0.1).
        links([
          link('Alternate', href, 'BackupServerReference', r.name),
          link('Edit', href, 'BackupServerReference'),
          link('Delete', href, 'BackupServerReference'),
          link('Down', `${href}/jobs`, 'JobReferenceList'),
          link('Down', `${href}/managedServers`, 'ManagedServerReferenceList'),
          link('Down', `${href}/repositories`, 'RepositoryReferenceList'),
          link('Down', `${href}/credentials`, 'CredentialsList'),
          link('Create', `${href}/credentials?action=create`),
          link('Down', `${href}/passwords`, 'PasswordKeyList'),
          link('Create', `${href}/passwords?action=create`),
          link('VeeamZip', `${href}?action=veeamzip`),
          link('QuickBackup', `${href}?action=quickbackup`),
          link('Start', `${href}?action=collect`),
        ]),
        leaf('Description', r.description),
        leaf('Port', r.port),
        leaf('Version', r.version),
      ],
    };
  },
};

function vmPointUps(ctx: EmContext, r: EmVmRestorePoint): EmNode[] {
  const rp = ctx.world.restorePoints[r.restorePoint];
  return [
    ...backupServerUp(ctx, r.backupServer),
    ...(rp ? [link('Up', `${ctx.api}/restorePoints/${rp.id}`, 'RestorePointReference', rp.name)] : []),
    link('Up', `${ctx.api}/backupFiles/${r.backupFileId}`, 'BackupFileReference', r.backupFileName),
  ];
}

/**
 * VmRestorePoint ([D:vmrestorepoints_id], docs/veeam-wire.md Part 1 section 6). XSD order `CreationTimeUTC, VmName,
 * Algorithm, PointType, HierarchyObjRef` plus attribute `VmDisplayName` ([GO VmRestorePointEntityType]);
 * the docs' sample omits VmName and VmDisplayName, the schema (and [CS]) have them.
 */
export const vmRestorePointKind: EmResourceKind<EmVmRestorePoint> = {
  queryType: 'VmRestorePoint',
  plural: 'VmRestorePoints',
  path: 'vmRestorePoints',
  records: (w) => w.vmRestorePoints,
  id: (r) => r.id,
  fields: perWorld((w) => [
    { name: 'UID', kind: 'uid', uidType: 'VmRestorePoint', get: (r) => r.id },
    { name: 'Name', kind: 'string', get: (r) => r.name },
    { name: 'CreationTime', kind: 'date', get: (r) => r.creationTime },
    { name: 'Type', kind: 'enum', enumValues: POINT_TYPES, get: (r) => r.pointType },
    { name: 'Algorithm', kind: 'enum', enumValues: ALGORITHMS, get: (r) => r.algorithm },
    { name: 'VmName', kind: 'string', get: (r) => r.vmName },
    { name: 'VmDisplayName', kind: 'string', get: (r) => r.vmName },
    { name: 'BackupServerUid', kind: 'uid', uidType: 'BackupServer', get: (r) => w.backupServers[r.backupServer]?.id },
    { name: 'BackupServerName', kind: 'string', get: (r) => w.backupServers[r.backupServer]?.name },
    { name: 'RestorePointId', kind: 'uid', uidType: 'RestorePoint', get: (r) => w.restorePoints[r.restorePoint]?.id },
    { name: 'RestorePointName', kind: 'string', get: (r) => w.restorePoints[r.restorePoint]?.name },
    { name: 'HierarchyObjRef', kind: 'string', get: (r) => r.hierarchyObjRef },
  ]),
  ref(ctx, r, element) {
    const href = `${ctx.api}/vmRestorePoints/${r.id}`;
    return {
      name: element,
      attrs: resourceAttrs('VmRestorePointReference', href, r.name, urn('VmRestorePoint', r.id)),
      children: [links([...vmPointUps(ctx, r), link('Alternate', `${href}?format=Entity`, 'VmRestorePoint', r.name)])],
    };
  },
  entity(ctx, r) {
    const href = `${ctx.api}/vmRestorePoints/${r.id}`;
    return {
      name: 'VmRestorePoint',
      attrs: [...resourceAttrs('VmRestorePoint', `${href}?format=Entity`, r.name, urn('VmRestorePoint', r.id)), ['VmDisplayName', r.vmName]],
      children: [
        links([
          link('Restore', `${href}?action=restore`),
          ...vmPointUps(ctx, r),
          link('Alternate', href, 'VmRestorePointReference', r.name),
          link('Down', `${href}/mounts`, 'VmRestorePointMountList'),
          link('Create', `${href}/mounts`, 'VmRestorePointMount'),
        ]),
        leaf('CreationTimeUTC', formatEmDate(r.creationTime)),
        leaf('VmName', r.vmName),
        leaf('Algorithm', r.algorithm),
        leaf('PointType', r.pointType),
        leaf('HierarchyObjRef', r.hierarchyObjRef ? r.hierarchyObjRef : null),
      ],
    };
  },
};

function restorePointUps(ctx: EmContext, r: EmRestorePoint): EmNode[] {
  const backup = ctx.world.backups[r.backup];
  return [...(backup ? [link('Up', `${ctx.api}/backups/${backup.id}`, 'BackupReference', backup.name)] : []), ...backupServerUp(ctx, r.backupServer)];
}

/** RestorePoint ([D:restorepoints_id]): body `BackupDateUTC`; links verbatim from the 13.0.1 sample. */
export const restorePointKind: EmResourceKind<EmRestorePoint> = {
  queryType: 'RestorePoint',
  plural: 'RestorePoints',
  path: 'restorePoints',
  records: (w) => w.restorePoints,
  id: (r) => r.id,
  fields: perWorld((w) => [
    { name: 'UID', kind: 'uid', uidType: 'RestorePoint', get: (r) => r.id },
    { name: 'Name', kind: 'string', get: (r) => r.name },
    { name: 'BackupDate', kind: 'date', get: (r) => r.backupDate },
    // Clients filter restore points by CreationTime like every other time-stamped type; same instant.
    { name: 'CreationTime', kind: 'date', get: (r) => r.backupDate },
    { name: 'BackupUid', kind: 'uid', uidType: 'Backup', get: (r) => w.backups[r.backup]?.id },
    { name: 'BackupName', kind: 'string', get: (r) => w.backups[r.backup]?.name },
    { name: 'BackupServerUid', kind: 'uid', uidType: 'BackupServer', get: (r) => w.backupServers[r.backupServer]?.id },
    { name: 'BackupServerName', kind: 'string', get: (r) => w.backupServers[r.backupServer]?.name },
  ]),
  ref(ctx, r, element) {
    const href = `${ctx.api}/restorePoints/${r.id}`;
    return {
      name: element,
      attrs: resourceAttrs('RestorePointReference', href, r.name, urn('RestorePoint', r.id)),
      children: [links([...restorePointUps(ctx, r), link('Alternate', `${href}?format=Entity`, 'RestorePoint', r.name)])],
    };
  },
  entity(ctx, r) {
    const href = `${ctx.api}/restorePoints/${r.id}`;
    return {
      name: 'RestorePoint',
      attrs: resourceAttrs('RestorePoint', `${href}?format=Entity`, r.name, urn('RestorePoint', r.id)),
      children: [
        links([
          ...restorePointUps(ctx, r),
          link('Alternate', href, 'RestorePointReference', r.name),
          link('Down', `${href}/vmRestorePoints`, 'VmRestorePointReferenceList'),
          link('Down', `${href}/vAppRestorePoints`, 'VAppRestorePointReferenceList'),
          // Sic: the docs' sample types the backupFiles link RestorePointReferenceList.
          link('Related', `${href}/backupFiles`, 'RestorePointReferenceList'),
        ]),
        leaf('BackupDateUTC', formatEmDate(r.backupDate)),
      ],
    };
  },
};

/** Every key resource of the simulator, type-erased for the generic routes and the query service. */
export const emResourceKindList = [restoreSessionKind, backupServerKind, vmRestorePointKind, restorePointKind] as unknown as readonly EmResourceKind<unknown>[];

/** Every key resource, by lower-case query type. */
export const emResourceKinds: ReadonlyMap<string, EmResourceKind<unknown>> = new Map(emResourceKindList.map((k) => [k.queryType.toLowerCase(), k]));

/** SQL Server's smallest `datetime`, which EM writes for a time that has not happened. */
const SQL_NEVER = '1753-01-01T00:00:00Z';
