import { Random } from '../Random.js';
import type {
  EmBackup,
  EmBackupServer,
  EmRestorePoint,
  EmRestoreSession,
  EmServerWorld,
  EmVmRestorePoint,
  VboOrganization,
  VboRestorePoint,
  VboRestoreSession,
  VboRestoreSessionEvent,
  VboServerWorld,
  WorldOptions,
} from './types.js';

const DAY = 86_400_000;
export const DEFAULT_WORLD_NOW = Date.parse('2026-11-01T00:00:00Z');

const VM_PREFIXES = ['srv', 'sql', 'web', 'app', 'dc', 'exch', 'file', 'oracle', 'virt', 'k8s-node', 'erp', 'crm', 'print', 'jump', 'mon'];
const VM_SUFFIXES = ['', '-ubuntu', '-win', '-rhel', '-prod', '-test', '-dr'];
const EM_VERSIONS = ['12.3.0.310', '12.2.0.334', '11.0.1.1261', '13.0.1.180'];
const ORG_NAMES = [
  'contoso',
  'fabrikam',
  'northwind',
  'adatum',
  'tailspin',
  'wingtip',
  'litware',
  'woodgrove',
  'proseware',
  'lucernepublishing',
  'alpineski',
  'cohovineyard',
];
export const USERS = ['jdoe', 'asmith', 'mgarcia', 'lchen', 'pkowalski', 'svc-restore', 'administrator', 'okeefe'];
export const REASONS = ['User request', 'Accidental deletion', 'Ticket INC-20431', 'Legal hold review', 'Mailbox migration check', '', 'Ransomware drill'];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `2014-10-19 05:59:18`, the local-looking time EM puts into names. */
export function emNameTime(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `Oct  6 2016  1:59PM`: SQL Server's default datetime text, as EM names RestorePoints. */
export function sqlServerTime(t: number): string {
  const d = new Date(t);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.getUTCFullYear()} ${String(h12).padStart(2, ' ')}:${pad(d.getUTCMinutes())}${h < 12 ? 'AM' : 'PM'}`;
}

/** Sorted creation times: spread over the span, some whole seconds, some with ms, a few exact ties. */
function sessionTimes(random: Random, count: number, now: number, spanDays: number, recent: Random): number[] {
  const times: number[] = new Array(count);
  const start = now - spanDays * DAY;
  for (let i = 0; i < count; i++) {
    const t = start + Math.floor(random.next() * (spanDays * DAY - 60_000));
    times[i] = random.bool(0.5) ? t - (t % 1000) : t;
  }
  times.sort((a, b) => a - b);
  // Exact ties inside one server: the merge must order them by (source, nativeId).
  for (let i = 1; i < count; i++) if (random.bool(0.02)) times[i] = times[i - 1]!;
  // Every world has sessions still running: the newest 1% (at least 2) started in the last 3 hours.
  // A stream of its own, so the rest of the world is the same as without this step.
  const newest = Math.min(count, Math.max(2, Math.round(count / 100)));
  const lastHours = Array.from({ length: newest }, () => now - 60_000 - Math.floor(recent.next() * (3 * 3_600_000 - 120_000))).sort((a, b) => a - b);
  for (let k = 0; k < newest; k++) times[count - newest + k] = Math.max(times[count - newest + k]!, lastHours[k]!);
  return times;
}

function resolvedNow(options: WorldOptions): number {
  if (options.now === undefined) return DEFAULT_WORLD_NOW;
  return typeof options.now === 'number' ? options.now : Date.parse(options.now);
}

/** One Enterprise Manager's world: backup servers, backups, restore points, VM restore points, restore sessions. */
export function generateEmWorld(name: string, options: WorldOptions = {}): EmServerWorld {
  const root = new Random(`${options.seed ?? 1}:em:${name}`);
  const now = resolvedNow(options);
  const count = options.sessionsPerServer ?? 300;
  const spanDays = options.spanDays ?? 180;

  const r = root.fork('servers');
  const site = name.replace(/[^a-z0-9]+/gi, '').toLowerCase() || 'em';
  const backupServers: EmBackupServer[] = [];
  const serverCount = r.int(2, 4);
  for (let i = 0; i < serverCount; i++) {
    const asIp = r.bool(0.25);
    backupServers.push({
      id: r.guid(),
      name: asIp ? `172.17.${r.int(1, 250)}.${r.int(2, 250)}` : `vbr-${site}-${pad(i + 1)}.corp.local`,
      description: r.bool(0.5) ? '' : `Backup server ${i + 1} of ${name}`,
      port: 9392,
      version: r.pick(EM_VERSIONS),
    });
  }

  const backups: EmBackup[] = [];
  const vmsByServer: string[][] = [];
  const platformByServer: ('VMware' | 'HyperV')[] = [];
  const rootIdByServer: string[] = [];
  const rv = root.fork('vms');
  const extra = options.extraVmNames ?? [];
  for (let s = 0; s < serverCount; s++) {
    const platform = rv.bool(0.8) ? 'VMware' : 'HyperV';
    platformByServer.push(platform);
    rootIdByServer.push(rv.guid());
    const vms = new Set<string>();
    const vmCount = rv.int(8, 30);
    while (vms.size < vmCount) vms.add(`${rv.pick(VM_PREFIXES)}${pad(rv.int(1, 40))}${rv.pick(VM_SUFFIXES)}`);
    const list = [...vms];
    // Hostile names go to the first backup server so tests know where to look.
    if (s === 0) list.push(...extra);
    vmsByServer.push(list);
    for (const job of ['Daily VMs', 'SQL Servers', 'File Servers']) {
      backups.push({ id: rv.guid(), name: `${job} (${backupServers[s]!.name})`, backupServer: s, platform });
    }
  }

  const restorePoints: EmRestorePoint[] = [];
  const restorePointByKey = new Map<string, number>();
  const vmRestorePoints: EmVmRestorePoint[] = [];
  const lastPointByVm = new Map<string, number>();
  const vmRefs = new Map<string, string>();
  const restoreSessions: EmRestoreSession[] = new Array(count);

  const rs = root.fork('sessions');
  const times = sessionTimes(rs, count, now, spanDays, root.fork('recent'));
  for (let i = 0; i < count; i++) {
    const t = times[i]!;
    const s = rs.int(0, serverCount - 1);
    const vms = vmsByServer[s]!;
    const vm = s === 0 && extra.length > 0 && rs.bool(0.2) ? rs.pick(extra) : rs.pick(vms);
    const vmKey = `${s}/${vm}`;
    let vmRef = vmRefs.get(vmKey);
    if (!vmRef) {
      vmRef =
        platformByServer[s] === 'VMware' ? `urn:VMware:Vm:${rootIdByServer[s]}.vm-${rs.int(100, 99_999)}` : `urn:HyperV:Vm:${rootIdByServer[s]}.${rs.guid()}`;
      vmRefs.set(vmKey, vmRef);
    }

    // Several sessions often restore from the same point; otherwise a newer point exists.
    let pointIndex = lastPointByVm.get(vmKey);
    if (pointIndex === undefined || rs.bool(0.6)) {
      const previous = pointIndex === undefined ? t - 14 * DAY : vmRestorePoints[pointIndex]!.creationTime;
      const pt = Math.max(previous + 1000, t - rs.int(3_600_000, 7 * DAY));
      const pointTime = Math.min(pt, t - 60_000) - (rs.bool(0.5) ? 0 : rs.int(0, 999));
      const backupIndex = s * 3 + rs.int(0, 2);
      const rpKey = `${backupIndex}/${Math.floor(pointTime / DAY)}`;
      let rpIndex = restorePointByKey.get(rpKey);
      if (rpIndex === undefined) {
        rpIndex = restorePoints.length;
        const backupDate = pointTime - (pointTime % 60_000);
        restorePoints.push({ id: rs.guid(), name: sqlServerTime(backupDate), backupDate, backupServer: s, backup: backupIndex });
        restorePointByKey.set(rpKey, rpIndex);
      }
      const full = rs.bool(0.15);
      const id = rs.guid();
      vmRestorePoints.push({
        id,
        name: `${vm}@${emNameTime(pointTime)}`,
        vmName: vm,
        creationTime: pointTime,
        algorithm: full ? rs.pick(['Full', 'SyntheticFull'] as const) : rs.pick(['Incremental', 'Incremental', 'ReversedIncremental'] as const),
        pointType: full ? 'Full' : rs.bool(0.85) ? 'Increment' : 'ReverseIncrement',
        hierarchyObjRef: vmRef,
        backupServer: s,
        restorePoint: rpIndex,
        backupFileId: rs.guid(),
        backupFileName: `${backups[backupIndex]!.name.split(' (')[0]!.replace(/\s+/g, '')}D${emNameTime(pointTime)
          .replace(/[- :]/g, '')
          .replace(/^(\d{8})/, '$1T')}.${full ? 'vbk' : 'vib'}`,
      });
      pointIndex = vmRestorePoints.length - 1;
      lastPointByVm.set(vmKey, pointIndex);
    }

    const flr = rs.bool(0.6);
    const running = now - t < 3 * 3_600_000 && (i === count - 1 || rs.bool(0.7));
    const result = running
      ? 'None'
      : rs.weighted([
          ['Success', 85],
          ['Warning', 9],
          ['Failed', 6],
        ] as const);
    const session: EmRestoreSession = {
      id: rs.guid(),
      name: flr ? `FLR_[${vm}]@${emNameTime(t)}` : `${vm}@${emNameTime(t)}`,
      jobType: flr ? 'FileLevelRestore' : 'RestoreVm',
      vmDisplayName: vm,
      creationTime: t,
      ...(running ? {} : { endTime: t + rs.int(20_000, 4 * 3_600_000) }),
      state: running
        ? rs.weighted([
            ['Working', 90],
            ['Starting', 5],
            ['Stopping', 5],
          ] as const)
        : 'Stopped',
      result,
      progress: running ? rs.int(1, 99) : flr ? 0 : 100,
      restoredObjRef: vmRef,
      backupServer: s,
      vmRestorePoint: pointIndex,
    };
    // The history ends at the anchor: a session whose drawn end lies after it is still running then
    // (decided after all draws, so the random stream, and with it the rest of the world, is unchanged).
    if (session.endTime !== undefined && session.endTime > now) {
      const end = session.endTime;
      delete session.endTime;
      session.state = 'Working';
      session.result = 'None';
      session.progress = Math.min(99, Math.max(1, Math.floor((100 * (now - t)) / (end - t))));
    }
    restoreSessions[i] = session;
  }

  return { name, backupServers, backups, restorePoints, vmRestorePoints, restoreSessions };
}

/** One VB365 server's world: organizations, restore points, restore sessions (events on demand). */
/**
 * Product builds a VB365 server of each API version runs (docs/veeam-wire.md Part 2 section 1:
 * v7 is VB365 7.0, build 7.0.0.2911; v8 is VB365 8.0, build 8.0.2.159, and 8.1 still serves v8).
 * `ServiceInstance`, which reports the build, exists from v6; older versions report none.
 */
const PRODUCT_BUILDS: Record<string, readonly string[]> = {
  v6: ['6.1.0.254'],
  v7: ['7.0.0.2911'],
  v8: ['8.0.2.159', '8.1.0.305'],
};

export function generateVboWorld(name: string, options: WorldOptions & { apiVersion?: string } = {}): VboServerWorld {
  const root = new Random(`${options.seed ?? 1}:vbo:${name}`);
  const now = resolvedNow(options);
  const count = options.sessionsPerServer ?? 300;
  const spanDays = options.spanDays ?? 180;
  const quirks = options.quirks ?? {};

  const ro = root.fork('orgs');
  const orgCount = ro.int(3, 7);
  const names = [...ORG_NAMES];
  const organizations: VboOrganization[] = [];
  for (let i = 0; i < orgCount; i++) {
    const base = names.splice(ro.int(0, names.length - 1), 1)[0]!;
    const backedUp = i === 0 || ro.bool(0.85);
    const first = now - spanDays * DAY - ro.int(1, 400) * DAY;
    organizations.push({
      id: ro.guid(),
      name: `${base}.onmicrosoft.com`,
      officeName: `${base}.onmicrosoft.com`,
      type: ro.weighted([
        ['Office365', 85],
        ['Hybrid', 10],
        ['OnPremises', 5],
      ] as const),
      region: ro.weighted([
        ['Worldwide', 90],
        ['Germany', 5],
        ['USGovernment', 5],
      ] as const),
      description: ro.bool(0.5) ? '' : `${base[0]!.toUpperCase()}${base.slice(1)} tenant`,
      isBackedUp: backedUp,
      ...(backedUp ? { firstBackupTime: first + ro.int(0, 86_399_999), lastBackupTime: now - ro.int(60_000, DAY) } : {}),
      isExchangeOnline: true,
      isSharePointOnline: ro.bool(0.9),
      isTeamsOnline: ro.bool(0.7),
      msid: ro.guid(),
    });
  }

  const rp = root.fork('points');
  const repositoryIds = [rp.guid(), rp.guid()];
  const restorePoints: VboRestorePoint[] = [];
  const pointsByOrg: number[][] = organizations.map(() => []);
  organizations.forEach((org, o) => {
    if (!org.isBackedUp) return;
    const jobId = rp.guid();
    for (let day = spanDays + 14; day >= 0; day--) {
      const t = now - day * DAY - rp.int(0, 6 * 3_600_000);
      restorePoints.push({
        id: rp.guid(),
        organization: o,
        repositoryId: rp.pick(repositoryIds),
        jobId,
        backupTime: t,
        isExchange: true,
        isSharePoint: org.isSharePointOnline,
        isOneDrive: rp.bool(0.8),
        isTeams: org.isTeamsOnline,
        isLongTermCopy: day % 30 === 0,
        isRetrieved: false,
        isCopy: false,
      });
    }
  });
  restorePoints.sort((a, b) => a.backupTime - b.backupTime);
  restorePoints.forEach((p, i) => pointsByOrg[p.organization]!.push(i));

  const rs = root.fork('sessions');
  const times = sessionTimes(rs, count, now, spanDays, root.fork('recent'));
  const backedUp = organizations.map((o, i) => (o.isBackedUp ? i : -1)).filter((i) => i >= 0);
  const restoreSessions: VboRestoreSession[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t = times[i]!;
    const o = rs.pick(backedUp);
    const org = organizations[o]!;
    const type = rs.weighted([
      ['Vex', 50],
      ['Veod', 25],
      ['Vesp', 15],
      ['Vet', 10],
    ] as const);
    const running = now - t < 3 * 3_600_000 && (i === count - 1 || rs.bool(0.7));
    const points = pointsByOrg[o]!;
    let pointInTime = t - rs.int(3_600_000, 30 * DAY);
    if (points.length) {
      const candidate = restorePoints[points[rs.int(0, points.length - 1)]!]!.backupTime;
      if (candidate < t) pointInTime = candidate;
    }
    const user = rs.pick(USERS);
    const items = rs.int(1, 400);
    const failed = rs.bool(0.1) ? rs.int(1, Math.max(1, Math.floor(items / 10))) : 0;
    const kind = { Vex: 'Exchange', Veod: 'OneDrive', Vesp: 'SharePoint', Vet: 'Teams' }[type];
    const sessionName = type === 'Vet' && quirks.emptyTeamsNames ? '' : `${kind} restore ${org.name} ${emNameTime(t)}`;
    const session: VboRestoreSession = {
      id: rs.guid(),
      name: sessionName,
      organization: o,
      type,
      creationTime: t,
      ...(running ? {} : { endTime: t + rs.int(5_000, 2 * 3_600_000) }),
      state: running ? 'Working' : 'Stopped',
      // The v1 docs show a running session with result "Success" and no endTime.
      result: running
        ? 'Success'
        : failed > 0
          ? rs.weighted([
              ['Warning', 70],
              ['Failed', 30],
            ] as const)
          : 'Success',
      initiatedBy: rs.bool(0.15) ? org.name : `${user}@${org.name}`,
      details: `${items} items processed (${items - failed} success${failed ? `, ${failed} failed` : ''})`,
      scopeName:
        type === 'Vesp'
          ? `https://${org.name.split('.')[0]}.sharepoint.com/sites/${rs.pick(['hr', 'finance', 'it', 'legal'])}`
          : `${rs.pick(USERS)}@${org.name}`,
      clientHost: rs.bool(0.3) ? `BXYDEV${pad(rs.int(1, 20))} (via: 10.${rs.int(0, 255)}.${rs.int(0, 255)}.${rs.int(1, 254)})` : `WS-${rs.int(1000, 9999)}`,
      reason: rs.pick(REASONS),
      pointInTime,
      eventCount: rs.int(1, 40),
      eTag: rs.int(1, 1_000_000),
    };
    // The history ends at the anchor (see generateEmWorld); decided after all draws.
    if (session.endTime !== undefined && session.endTime > now) {
      delete session.endTime;
      session.state = 'Working';
      session.result = 'Success';
    }
    // A running session has the events that started by the anchor, none from after it.
    if (session.state === 'Working') session.eventCount = new VboEventTimeline(session.id, t).startedBy(now);
    restoreSessions[i] = session;
  }

  const rsv = root.fork('service');
  return {
    name,
    installationId: rsv.guid(),
    version: rsv.pick(PRODUCT_BUILDS[options.apiVersion ?? 'v8'] ?? PRODUCT_BUILDS.v8!),
    organizations,
    restorePoints,
    restoreSessions,
  };
}

const EVENT_ITEMS = ['Inbox', 'Q3 report.xlsx', 'Project plan.docx', 'General', 'Calendar', 'Contracts', 'IMG_2041.jpg'] as const;

/** One event's draws, before the session's state decides its status and end. */
interface RawEvent {
  start: number;
  ms: number;
  item: string;
  id: string;
  type: VboRestoreSessionEvent['type'];
  status: VboRestoreSessionEvent['status'];
  itemType: string;
  itemSizeBytes: number;
}

/**
 * The endless, seeded sequence of a session's events: event i is the same whatever the session's
 * state or event count, so an event, once emitted, stays what it was (only a running one ends).
 */
class VboEventStream {
  private readonly r: Random;
  private t: number;

  constructor(sessionId: string, creationTime: number) {
    this.r = new Random(`events:${sessionId}`);
    this.t = creationTime + 2_000;
  }

  next(): RawEvent {
    const r = this.r;
    const ms = r.int(40, 90_000);
    const item = r.pick(EVENT_ITEMS);
    const event: RawEvent = {
      start: this.t,
      ms,
      item,
      id: r.guid(),
      type: r.weighted([
        ['Restore', 50],
        ['View', 20],
        ['Save', 15],
        ['Export', 10],
        ['Send', 5],
      ] as const),
      status: r.weighted([
        ['Success', 88],
        ['Warning', 6],
        ['Failed', 4],
        ['Skipped', 2],
      ] as const),
      itemType: r.pick(['Folder', 'Item', 'Document', 'Channel']),
      itemSizeBytes: r.int(0, 50_000_000),
    };
    this.t += ms + r.int(0, 5_000);
    return event;
  }
}

/** When a session's events start and end, as vboSessionEvents generates them; extended on demand. */
export class VboEventTimeline {
  private readonly stream: VboEventStream;
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  constructor(sessionId: string, creationTime: number) {
    this.stream = new VboEventStream(sessionId, creationTime);
  }

  /** How many events have started by `time` (inclusive). */
  startedBy(time: number): number {
    while (this.starts.length === 0 || this.starts[this.starts.length - 1]! <= time) {
      const e = this.stream.next();
      this.starts.push(e.start);
      this.ends.push(e.start + e.ms);
    }
    let n = this.starts.length;
    while (n > 0 && this.starts[n - 1]! > time) n--;
    return n;
  }

  /** How many of the first `count` events have ended by `time` (inclusive). */
  endedBy(count: number, time: number): number {
    this.startedBy(time);
    let n = 0;
    for (let i = 0; i < count && i < this.ends.length; i++) if (this.ends[i]! <= time) n++;
    return n;
  }
}

/**
 * The events of one session, generated from its id so they are the same on every call. The last
 * event of a working session is `Running` (with `eventsAsOf`, only while it has not ended by then).
 */
export function vboSessionEvents(session: VboRestoreSession): VboRestoreSessionEvent[] {
  const stream = new VboEventStream(session.id, session.creationTime);
  const asOf = session.eventsAsOf;
  const events: VboRestoreSessionEvent[] = [];
  for (let i = 0; i < session.eventCount; i++) {
    const e = stream.next();
    const running = session.state === 'Working' && i === session.eventCount - 1 && (asOf === undefined || asOf < e.start + e.ms);
    const end = asOf === undefined ? e.start + e.ms : Math.max(e.start, Math.min(e.start + e.ms, asOf));
    const elapsed = running ? (asOf === undefined ? e.ms : Math.max(0, asOf - e.start)) : end - e.start;
    events.push({
      id: e.id,
      type: e.type,
      status: running ? 'Running' : e.status,
      startTime: e.start,
      ...(running ? {} : { endTime: end }),
      duration: formatDuration(elapsed),
      title: `Item ${i + 1}`,
      message: `Processing ${e.item}`,
      order: i,
      itemName: e.item,
      itemType: e.itemType,
      itemSizeBytes: e.itemSizeBytes,
      source: session.scopeName,
      target: session.scopeName,
    });
  }
  return events;
}

/** .NET TimeSpan text, e.g. `00:00:00.0446928`. */
function formatDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad((ms % 1000) * 10_000, 7)}`;
}

/** Inserts keeping ascending order by `key`; equal keys go after existing ones. */
export function insertSorted<T>(list: T[], item: T, key: (t: T) => number): void {
  const k = key(item);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(list[mid]!) <= k) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, item);
}

export type { EmBackup, EmBackupServer, EmRestorePoint, EmVmRestorePoint };
