/**
 * The simulated world: plain records that the EM and VB365 simulators render on demand. Times are
 * epoch milliseconds (UTC); rendering to the wire format happens per request, per page only.
 */

export interface EmBackupServer {
  id: string;
  name: string;
  description: string;
  port: number;
  version: string;
}

export interface EmBackup {
  id: string;
  name: string;
  backupServer: number;
  platform: 'VMware' | 'HyperV';
}

export interface EmRestorePoint {
  id: string;
  /** EM prints these like SQL Server's default datetime: `Oct  6 2016  1:59PM`. */
  name: string;
  backupDate: number;
  backupServer: number;
  backup: number;
}

export interface EmVmRestorePoint {
  id: string;
  name: string;
  vmName: string;
  creationTime: number;
  algorithm: 'Full' | 'ReversedIncremental' | 'Incremental' | 'SyntheticFull';
  pointType: 'Full' | 'Increment' | 'ReverseIncrement';
  hierarchyObjRef: string;
  backupServer: number;
  restorePoint: number;
  backupFileId: string;
  backupFileName: string;
}

export interface EmRestoreSession {
  id: string;
  name: string;
  jobType: 'FileLevelRestore' | 'RestoreVm' | string;
  vmDisplayName: string;
  creationTime: number;
  /** Absent while the session runs. */
  endTime?: number;
  state: 'Starting' | 'Stopping' | 'Working' | 'Stopped' | string;
  result: 'None' | 'Success' | 'Warning' | 'Failed' | string;
  progress: number;
  restoredObjRef: string;
  backupServer: number;
  vmRestorePoint: number;
}

export interface EmServerWorld {
  name: string;
  backupServers: EmBackupServer[];
  backups: EmBackup[];
  restorePoints: EmRestorePoint[];
  vmRestorePoints: EmVmRestorePoint[];
  /** Sorted by creationTime ascending (ties keep insertion order). */
  restoreSessions: EmRestoreSession[];
}

export type VboRegion = 'Worldwide' | 'Germany' | 'China' | 'USDefence' | 'USGovernment';

export interface VboOrganization {
  id: string;
  name: string;
  officeName: string;
  type: 'Office365' | 'OnPremises' | 'Hybrid';
  region: VboRegion;
  description: string;
  isBackedUp: boolean;
  firstBackupTime?: number;
  lastBackupTime?: number;
  isExchangeOnline: boolean;
  isSharePointOnline: boolean;
  isTeamsOnline: boolean;
  msid: string;
}

export interface VboRestorePoint {
  id: string;
  organization: number;
  repositoryId: string;
  jobId: string;
  backupTime: number;
  isExchange: boolean;
  isSharePoint: boolean;
  isOneDrive: boolean;
  isTeams: boolean;
  isLongTermCopy: boolean;
  isRetrieved: boolean;
  isCopy: boolean;
}

export interface VboRestoreSession {
  id: string;
  name: string;
  organization: number;
  type: 'Vex' | 'Veod' | 'Vesp' | 'Vet' | string;
  creationTime: number;
  endTime?: number;
  state: 'Working' | 'Stopped' | string;
  result: 'Success' | 'Warning' | 'Failed' | string;
  initiatedBy: string;
  details: string;
  scopeName: string;
  clientHost: string;
  reason: string;
  /** The restore point time the session browses (v1 `pointInTime`). */
  pointInTime: number;
  /** Events are generated on demand from the session's seed; this is how many it has. */
  eventCount: number;
  eTag: number;
  /**
   * Set on sessions the live world drives (src/sim/world/liveWorld.ts): the instant their events are
   * seen at. An event still going at it is `Running` while the session works; once the session has
   * stopped, an event ends at the latest at this instant. Absent: the last event of a working
   * session is `Running` (the static world).
   */
  eventsAsOf?: number;
}

export interface VboRestoreSessionEvent {
  id: string;
  type: 'None' | 'Save' | 'Export' | 'Send' | 'Restore' | 'View';
  status: 'Running' | 'Success' | 'Warning' | 'Failed' | 'Cancelled' | 'Skipped';
  startTime: number;
  endTime?: number;
  duration: string;
  title: string;
  message: string;
  order: number;
  itemName: string;
  itemType: string;
  itemSizeBytes: number;
  source: string;
  target: string;
}

export interface VboServerWorld {
  name: string;
  installationId: string;
  version: string;
  organizations: VboOrganization[];
  /** Sorted by backupTime ascending. */
  restorePoints: VboRestorePoint[];
  /** Sorted by creationTime ascending. */
  restoreSessions: VboRestoreSession[];
}

/** Real-world deviations from the docs that a simulator can be asked to reproduce. */
export interface WorldQuirks {
  /** Send `null` for optional-looking "required" VB365 fields (name, details, initiatedBy...). docs/veeam-wire.md Part 2 section 8. */
  nullRequiredFields?: boolean;
  /** Teams (`Vet`) restore sessions have an empty name (jorgedlcruz grafana issue #10). */
  emptyTeamsNames?: boolean;
}

/** How a simulated world moves as its clock moves (src/sim/world/liveWorld.ts). */
export interface LiveWorldOptions {
  /**
   * New restore sessions per hour and server, started at seeded instants (a Poisson process drawn per
   * fixed minute of the clock). Default 15 (the demo's five servers: one new session every ~48 s).
   * 0: no session starts by itself; running ones still progress and finish.
   */
  sessionsPerHour?: number;
  /** Mean planned duration of a session, ms; each is uniform in 0.5..1.5 times it. Default 120_000 (1-3 minutes). */
  meanDurationMs?: number;
}

export interface WorldOptions {
  seed?: number | string;
  /** Restore sessions per server. Default 300. */
  sessionsPerServer?: number;
  /**
   * The world's anchor, "now" at generation: the history ends at it (no session starts or ends after it)
   * and the newest sessions, some still running, start shortly before it. Default for generate*World
   * 2026-11-01T00:00:00Z; `startSimulators` defaults it to its clock's now at start.
   */
  now?: number | string;
  /** How far back sessions go, in days. Default 180. */
  spanDays?: number;
  /** VM names mixed into the EM worlds in addition to generated ones (hostile names for escaping tests). */
  extraVmNames?: string[];
  quirks?: WorldQuirks;
  /**
   * Read by `startSimulators` only (the generators ignore it): `true` or options to let the world move with
   * the clock; `false`, the default, keeps it still. See LiveWorldOptions for the rates.
   */
  live?: boolean | LiveWorldOptions;
}
