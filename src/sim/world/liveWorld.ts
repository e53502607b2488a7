import { ManualClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { Random } from '../Random.js';
import { SimControlError } from '../SimServer.js';
import type { SimWorldControl } from '../SimServer.js';
import { REASONS, USERS, VboEventTimeline, emNameTime, insertSorted } from './generateWorld.js';
import type { EmRestoreSession, EmServerWorld, LiveWorldOptions, VboRestoreSession, VboServerWorld, WorldQuirks } from './types.js';

/**
 * A world that moves with its clock: new restore sessions start at a seeded rate, running ones progress
 * and finish with a seeded result. Nothing runs in the background: the world is brought up to the
 * clock's now lazily, before every API request and control call (SimServer calls `advance`).
 *
 * Determinism: the world at instant T is a function of the seed, the anchor, T and the control calls
 * made, never of how often it was advanced. Arrivals are drawn per fixed minute of the clock (slot
 * `floor(t / 60 s)`, a Poisson count and uniform instants from that slot's own generator), and the
 * state of a running session is a pure function of its plan (start, end, result) and T.
 */

/** The defaults of LiveWorldOptions (documented there). */
export const LIVE_DEFAULTS = { sessionsPerHour: 15, meanDurationMs: 120_000 } as const;

/** Above this the per-slot Poisson draw gets slow; ten sessions a second per server is plenty. */
const MAX_SESSIONS_PER_HOUR = 36_000;
const MAX_DURATION_MS = 30 * 86_400_000;
const MAX_ADVANCE_MS = 366 * 86_400_000;
const SLOT_MS = 60_000;
/** EM shows a new session as `Starting` for its first 10 s (a quarter of it when shorter). */
const STARTING_MS = 10_000;

export type LiveResult = 'Success' | 'Warning' | 'Failed';
const LIVE_RESULTS: readonly LiveResult[] = ['Success', 'Warning', 'Failed'];

export interface ResolvedLiveOptions {
  /** Whether the clock drives the world: sessions start, progress and finish by themselves. */
  enabled: boolean;
  sessionsPerHour: number;
  meanDurationMs: number;
}

/** `live` of WorldOptions with the defaults filled in; throws for a bad value. */
export function resolveLiveOptions(live: boolean | LiveWorldOptions | undefined, enabledByDefault: boolean): ResolvedLiveOptions {
  if (live === undefined || typeof live === 'boolean') return { enabled: live ?? enabledByDefault, ...LIVE_DEFAULTS };
  if (typeof live !== 'object' || live === null) throw new Error('world.live: expected true, false or { sessionsPerHour, meanDurationMs }');
  for (const key of Object.keys(live)) if (key !== 'sessionsPerHour' && key !== 'meanDurationMs') throw new Error(`world.live.${key}: unknown option`);
  const rate = live.sessionsPerHour ?? LIVE_DEFAULTS.sessionsPerHour;
  const mean = live.meanDurationMs ?? LIVE_DEFAULTS.meanDurationMs;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > MAX_SESSIONS_PER_HOUR) {
    throw new Error(`world.live.sessionsPerHour: expected a number from 0 to ${MAX_SESSIONS_PER_HOUR}`);
  }
  if (typeof mean !== 'number' || !Number.isFinite(mean) || mean < 1 || mean > MAX_DURATION_MS) {
    throw new Error(`world.live.meanDurationMs: expected a number of ms from 1 to ${MAX_DURATION_MS}`);
  }
  return { enabled: true, sessionsPerHour: rate, meanDurationMs: mean };
}

/** What both kinds of session share, for the engine. */
interface LiveSession {
  id: string;
  creationTime: number;
  endTime?: number;
  state: string;
  result: string;
}

/** How a running session goes on: it ends at `end` with `result`. */
interface Plan {
  end: number;
  result: LiveResult;
}

/** Fields of a session start that both kinds take. */
interface StartCommon {
  /** How long the session runs, ms (default: seeded, 0.5..1.5 times `meanDurationMs`). */
  durationMs?: number;
  /** How it ends when it ends by itself (default: seeded, mostly Success). */
  result?: LiveResult;
}

/** Body of `POST /_sim/world/sessions` on an EM server, and of `live.startSession` on a SimulatedEm. */
export interface EmStartSession extends StartCommon {
  /** Default: the VM of a seeded VM restore point; a VM of the world also picks its restore point and backup server. */
  vmDisplayName?: string;
  /** Default: seeded, 60% FileLevelRestore. */
  jobType?: 'FileLevelRestore' | 'RestoreVm';
  /** A backup server's name or UID (GUID or `urn:veeam:BackupServer:…`). Default: seeded. */
  backupServer?: string;
}

/** Body of `POST /_sim/world/sessions` on a VB365 server, and of `live.startSession` on a SimulatedVbo. */
export interface VboStartSession extends StartCommon {
  /** An organization's name or id. Default: a seeded backed-up organization. */
  organization?: string;
  /** Default: seeded (Vex 50%, Veod 25%, Vesp 15%, Vet 10%). */
  type?: 'Vex' | 'Veod' | 'Vesp' | 'Vet';
  initiatedBy?: string;
}

interface LiveSessionInfoCommon {
  /** The id as the API prints it in paths: EM `/api/restoreSessions/{id}`, VB365 `/vN/RestoreSessions/{id}`. */
  id: string;
  name: string;
  state: string;
  result: string;
  creationTime: string;
  endTime: string | null;
  /** When a running session the clock drives ends by itself; null once stopped or when the world is still. */
  plannedEndTime: string | null;
  plannedResult: LiveResult | null;
  /** The session on the API, relative to the server root. */
  href: string;
}

export interface EmLiveSessionInfo extends LiveSessionInfoCommon {
  /** The `UID` attribute and the query service's `UID==` filter value: `urn:veeam:RestoreSession:<id>`. */
  uid: string;
  vmDisplayName: string;
  jobType: string;
  backupServer: string | null;
  progress: number;
}

export interface VboLiveSessionInfo extends LiveSessionInfoCommon {
  organization: string | null;
  type: string;
  eventCount: number;
  eTag: number;
}

/** `GET /_sim/world`. */
export interface LiveWorldState<I> {
  /** The clock's now. */
  now: string;
  /** Where the generated history ends. */
  anchor: string;
  /** Whether `POST /_sim/world/advance` works (the simulator runs on a ManualClock). */
  manualClock: boolean;
  live: ResolvedLiveOptions;
  counts: {
    sessions: number;
    running: number;
    /** Sessions started after the anchor: by the rate and by control calls. */
    started: number;
    /** Sessions that stopped after the anchor: by their plan and by control calls. */
    finished: number;
  };
  /** Every running session, oldest first. */
  running: I[];
}

export interface LiveWorldSetup {
  clock: Clock;
  seed: number | string;
  /** The instant the world's history ends at; the clock drives it from there. */
  anchor: number;
  live: ResolvedLiveOptions;
  /** Called after sessions were added or changed state, result or end (the simulator drops its caches). */
  onChange: () => void;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function isRunning(s: LiveSession): boolean {
  return s.endTime === undefined && s.state !== 'Stopped';
}

/** A Poisson-distributed count (Knuth); `mean` stays far below where exp underflows (see MAX_SESSIONS_PER_HOUR). */
function poisson(r: Random, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let p = r.next();
  while (p > limit) {
    k++;
    p *= r.next();
  }
  return k;
}

function object(body: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SimControlError(400, `${what}: expected a JSON object`);
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key))
      throw new SimControlError(400, `${what}.${key}: unknown field (${allowed.length ? `expected ${allowed.join(', ')}` : 'none is taken'})`);
  }
  return o;
}

function optionalString(o: Record<string, unknown>, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > 256)
    throw new SimControlError(400, `${what}.${key}: expected a non-empty string of at most 256 characters`);
  return v;
}

function optionalEnum<T extends string>(o: Record<string, unknown>, key: string, values: readonly T[], what: string): T | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T)) throw new SimControlError(400, `${what}.${key}: expected one of ${values.join(', ')}`);
  return v as T;
}

function optionalInteger(o: Record<string, unknown>, key: string, min: number, max: number, what: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new SimControlError(400, `${what}.${key}: expected an integer from ${min} to ${max}`);
  return v;
}

function startCommon(o: Record<string, unknown>, what: string): StartCommon {
  const durationMs = optionalInteger(o, 'durationMs', 1, MAX_DURATION_MS, what);
  const result = optionalEnum(o, 'result', LIVE_RESULTS, what);
  return { ...(durationMs !== undefined ? { durationMs } : {}), ...(result !== undefined ? { result } : {}) };
}

/** `{ "result": "Success" | "Warning" | "Failed" }`, result optional (default Success). */
function finishBody(body: unknown): LiveResult {
  const o = object(body, 'finish', ['result']);
  return optionalEnum(o, 'result', LIVE_RESULTS, 'finish') ?? 'Success';
}

/** Strips what clients put around a GUID: braces, a `urn:veeam:<Type>:` prefix; lower case. */
function normalizeId(id: string): string {
  return id
    .trim()
    .replace(/^urn:veeam:[a-z]+:/i, '')
    .replace(/^\{(.*)\}$/, '$1')
    .toLowerCase();
}

/**
 * The engine both kinds share. A subclass supplies the records (world.restoreSessions), how a new
 * session looks, and how a planned session looks at an instant.
 */
abstract class LiveWorld<S extends LiveSession, P extends Plan, O extends StartCommon, I> {
  readonly options: ResolvedLiveOptions;
  readonly anchor: number;
  /** The `/_sim/world` routes' view of this world (SimServer calls it). */
  readonly control: SimWorldControl;
  protected readonly clock: Clock;
  private readonly seed: string;
  private readonly onChange: () => void;
  /** Running sessions the clock drives, in the order they were registered. */
  private readonly plans = new Map<S, P>();
  private advancedTo: number;
  private manualCount = 0;
  private startedCount = 0;
  private finishedCount = 0;
  private lastSlot?: { slot: number; arrivals: { time: number; random: Random }[] };

  protected constructor(
    private readonly kind: 'em' | 'vbo',
    private readonly name: string,
    setup: LiveWorldSetup,
  ) {
    this.clock = setup.clock;
    this.seed = String(setup.seed);
    this.anchor = setup.anchor;
    this.options = setup.live;
    this.onChange = setup.onChange;
    this.advancedTo = setup.anchor;
    this.control = {
      advance: () => this.advance(),
      describe: () => this.describe(),
      startSession: (body) => this.startSession(this.parseStart(body)),
      finish: (id, body) => this.finish(id, finishBody(body)),
      advanceClock: (body) => {
        const o = object(body, 'advance', ['ms']);
        if (!(this.clock instanceof ManualClock)) {
          throw new SimControlError(
            409,
            'POST /_sim/world/advance needs a manual clock: this simulator runs on the system clock, whose time passes by itself (start it with startSimulators({ clock: new ManualClock() }) to step time)',
          );
        }
        const ms = optionalInteger(o, 'ms', 0, MAX_ADVANCE_MS, 'advance');
        if (ms === undefined) throw new SimControlError(400, 'advance.ms: required, the milliseconds to move the clock forward');
        this.clock.advance(ms);
        return this.describe();
      },
    };
  }

  /** world.restoreSessions: sorted by creationTime ascending, kept so. */
  protected abstract sessions(): S[];
  /** A new running session at `time`, its details drawn from `r`, `options` winning over the draws. */
  protected abstract create(time: number, r: Random, options: O): S;
  protected abstract makePlan(session: S, end: number, result: LiveResult): P;
  /** Sets the session's fields to what they are at `now` under `plan` (Stopped from `plan.end` on). A pure function of both. */
  protected abstract apply(session: S, plan: P, now: number): void;
  /** Sets a session that will not move (the world is still) to its look as a started session. */
  protected abstract freeze(session: S): void;
  protected abstract info(session: S, plan: P | undefined): I;
  protected abstract parseStart(body: unknown): O;
  protected abstract readonly resultWeights: readonly (readonly [LiveResult, number])[];

  /** Registers the sessions running at the anchor and brings the world to the clock's now; call at the end of a subclass constructor. */
  protected begin(): void {
    if (!this.options.enabled) return;
    for (const s of this.sessions()) {
      if (!isRunning(s)) continue;
      // Running at the anchor: each ends soon after it, so a live view sees them finish.
      const r = new Random(`${this.seed}:live-plan:${this.kind}:${this.name}:${s.id}`);
      const end = Math.max(s.creationTime, this.anchor) + Math.round(this.options.meanDurationMs * (0.25 + 1.25 * r.next()));
      const plan = this.makePlan(s, end, r.weighted(this.resultWeights));
      this.plans.set(s, plan);
      this.apply(s, plan, this.anchor);
    }
    this.advance();
  }

  /** Brings the world to the clock's now: starts the sessions due since the last call, moves the running ones on. */
  advance(): void {
    if (!this.options.enabled) return;
    const now = this.clock.now();
    const from = this.advancedTo;
    if (now <= from) return;
    this.advancedTo = now;
    let changed = false;
    if (this.options.sessionsPerHour > 0) {
      const mean = (this.options.sessionsPerHour * SLOT_MS) / 3_600_000;
      for (let slot = Math.floor(from / SLOT_MS); slot <= Math.floor(now / SLOT_MS); slot++) {
        for (const a of this.arrivals(slot, mean)) {
          if (a.time <= from || a.time > now || a.time <= this.anchor) continue;
          this.add(a.time, a.random, {} as O);
          changed = true;
        }
      }
    }
    for (const [s, plan] of this.plans) {
      const before = `${s.state}|${s.result}|${s.endTime}`;
      this.apply(s, plan, now);
      if (!isRunning(s)) {
        this.plans.delete(s);
        this.finishedCount++;
      }
      if (`${s.state}|${s.result}|${s.endTime}` !== before) changed = true;
    }
    if (changed) this.onChange();
  }

  /**
   * The sessions that start in one minute of the clock: a Poisson count, uniform instants, and a fork
   * per arrival so what it looks like does not depend on where a step ended. The last slot is kept:
   * on the system clock most requests fall into the minute of the one before.
   */
  private arrivals(slot: number, mean: number): { time: number; random: Random }[] {
    if (this.lastSlot?.slot === slot) return this.lastSlot.arrivals;
    const r = new Random(`${this.seed}:live:${this.kind}:${this.name}:${slot}`);
    const count = poisson(r, mean);
    const times = Array.from({ length: count }, () => slot * SLOT_MS + Math.floor(r.next() * SLOT_MS)).sort((a, b) => a - b);
    const arrivals = times.map((time, j) => ({ time, random: r.fork(`arrival:${j}`) }));
    this.lastSlot = { slot, arrivals };
    return arrivals;
  }

  /** Starts a restore session now (after advancing); it runs to its plan, or until `finish`. */
  startSession(options: O = {} as O): I {
    const checked = this.parseStart(options);
    this.advance();
    const r = new Random(`${this.seed}:live-manual:${this.kind}:${this.name}:${++this.manualCount}`);
    const s = this.add(this.clock.now(), r, checked);
    this.onChange();
    return this.info(s, this.plans.get(s));
  }

  /** Finishes a running session now with `result` (default Success). 404 for an unknown id, 409 when it is not running. */
  finish(id: string, result: LiveResult = 'Success'): I {
    if (!LIVE_RESULTS.includes(result)) throw new SimControlError(400, `finish.result: expected one of ${LIVE_RESULTS.join(', ')}`);
    this.advance();
    const s = this.find(id);
    if (!s) throw new SimControlError(404, `restore session ${id} does not exist on ${this.name}`);
    if (!isRunning(s)) throw new SimControlError(409, `restore session ${id} is not running (state ${s.state}, result ${s.result})`);
    const end = Math.max(this.clock.now(), s.creationTime);
    // A session the clock does not drive (the world is still, or it was added by addRestoreSession) gets a plan to end by.
    const plan = this.plans.get(s) ?? this.makePlan(s, end, result);
    plan.end = end;
    plan.result = result;
    this.apply(s, plan, end);
    this.plans.delete(s);
    this.finishedCount++;
    this.onChange();
    return this.info(s, undefined);
  }

  /** The clock, counts and every running session (after advancing). */
  describe(): LiveWorldState<I> {
    this.advance();
    const running = this.sessions()
      .filter(isRunning)
      .map((s) => this.info(s, this.plans.get(s)));
    return {
      now: iso(this.clock.now()),
      anchor: iso(this.anchor),
      manualClock: this.clock instanceof ManualClock,
      live: { ...this.options },
      counts: { sessions: this.sessions().length, running: running.length, started: this.startedCount, finished: this.finishedCount },
      running,
    };
  }

  protected planInfo(plan: P | undefined): { plannedEndTime: string | null; plannedResult: LiveResult | null } {
    return { plannedEndTime: plan ? iso(plan.end) : null, plannedResult: plan ? plan.result : null };
  }

  private add(time: number, r: Random, options: O): S {
    // Drawn first and always, so the rest of the draws do not depend on which options were given.
    const duration = Math.max(1, Math.round(this.options.meanDurationMs * (0.5 + r.next())));
    const result = r.weighted(this.resultWeights);
    const s = this.create(time, r, options);
    insertSorted(this.sessions(), s, (x) => x.creationTime);
    this.startedCount++;
    const plan = this.makePlan(s, time + (options.durationMs ?? duration), options.result ?? result);
    this.apply(s, plan, time);
    if (this.options.enabled) this.plans.set(s, plan);
    else this.freeze(s);
    return s;
  }

  private find(id: string): S | undefined {
    const wanted = normalizeId(id);
    const list = this.sessions();
    // Newest first: a control call is almost always about a recent session.
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.id.toLowerCase() === wanted) return list[i];
    return undefined;
  }
}

// ------------------------------------------------------------------ Enterprise Manager

/**
 * An EM world on the move. A session is `Starting` (Progress 0) for its first 10 s, then `Working`
 * with Progress rising 1..99 in proportion to its planned duration, `Result` `None` and no end time
 * (EndTimeUTC prints SQL's "never"); at its end `Stopped` with `EndTimeUTC` and its result, Progress
 * 100 for a RestoreVm and 0 for a FileLevelRestore (as the documented sample and the history show).
 */
export class EmLiveWorld extends LiveWorld<EmRestoreSession, Plan, EmStartSession, EmLiveSessionInfo> {
  protected readonly resultWeights = [
    ['Success', 85],
    ['Warning', 9],
    ['Failed', 6],
  ] as const;
  private readonly pointsByServer: number[][];

  constructor(
    readonly world: EmServerWorld,
    setup: LiveWorldSetup,
  ) {
    super('em', world.name, setup);
    this.pointsByServer = world.backupServers.map(() => []);
    world.vmRestorePoints.forEach((p, i) => this.pointsByServer[p.backupServer]?.push(i));
    this.begin();
  }

  protected sessions(): EmRestoreSession[] {
    return this.world.restoreSessions;
  }

  protected parseStart(body: unknown): EmStartSession {
    const what = 'session';
    const o = object(body, what, ['vmDisplayName', 'jobType', 'backupServer', 'durationMs', 'result']);
    const vmDisplayName = optionalString(o, 'vmDisplayName', what);
    const jobType = optionalEnum(o, 'jobType', ['FileLevelRestore', 'RestoreVm'] as const, what);
    const backupServer = optionalString(o, 'backupServer', what);
    if (backupServer !== undefined && this.serverIndex(backupServer) === undefined) {
      throw new SimControlError(
        400,
        `${what}.backupServer: no backup server "${backupServer}" (known: ${this.world.backupServers.map((b) => b.name).join(', ')})`,
      );
    }
    return {
      ...startCommon(o, what),
      ...(vmDisplayName !== undefined ? { vmDisplayName } : {}),
      ...(jobType !== undefined ? { jobType } : {}),
      ...(backupServer !== undefined ? { backupServer } : {}),
    };
  }

  private serverIndex(nameOrId: string): number | undefined {
    const wanted = normalizeId(nameOrId);
    const i = this.world.backupServers.findIndex((b) => b.id.toLowerCase() === wanted || b.name.toLowerCase() === nameOrId.trim().toLowerCase());
    return i < 0 ? undefined : i;
  }

  protected create(time: number, r: Random, o: EmStartSession): EmRestoreSession {
    const w = this.world;
    const drawnServer = r.int(0, Math.max(0, w.backupServers.length - 1));
    const pointDraw = r.next();
    const flr = r.bool(0.6);
    const id = r.guid();
    let server = o.backupServer !== undefined ? this.serverIndex(o.backupServer)! : drawnServer;
    let pointIndex: number | undefined;
    if (o.vmDisplayName !== undefined) {
      // A VM of the world restores from its newest point (on the given server, if one was given).
      for (let i = w.vmRestorePoints.length - 1; i >= 0 && pointIndex === undefined; i--) {
        const p = w.vmRestorePoints[i]!;
        if (p.vmName === o.vmDisplayName && (o.backupServer === undefined || p.backupServer === server)) pointIndex = i;
      }
      if (pointIndex !== undefined) server = w.vmRestorePoints[pointIndex]!.backupServer;
    }
    if (pointIndex === undefined) {
      const points = this.pointsByServer[server] ?? [];
      if (points.length > 0) pointIndex = points[Math.floor(pointDraw * points.length)];
    }
    const point = pointIndex === undefined ? undefined : w.vmRestorePoints[pointIndex];
    const vm = o.vmDisplayName ?? point?.vmName ?? 'vm01';
    const jobType = o.jobType ?? (flr ? 'FileLevelRestore' : 'RestoreVm');
    return {
      id,
      name: jobType === 'FileLevelRestore' ? `FLR_[${vm}]@${emNameTime(time)}` : `${vm}@${emNameTime(time)}`,
      jobType,
      vmDisplayName: vm,
      creationTime: time,
      state: 'Starting',
      result: 'None',
      progress: 0,
      restoredObjRef: point?.hierarchyObjRef ?? '',
      backupServer: server,
      vmRestorePoint: pointIndex ?? -1,
    };
  }

  protected makePlan(_s: EmRestoreSession, end: number, result: LiveResult): Plan {
    return { end, result };
  }

  protected apply(s: EmRestoreSession, plan: Plan, now: number): void {
    if (now >= plan.end) {
      s.state = 'Stopped';
      s.endTime = plan.end;
      s.result = plan.result;
      s.progress = s.jobType === 'FileLevelRestore' ? 0 : 100;
      return;
    }
    delete s.endTime;
    s.result = 'None';
    const duration = Math.max(1, plan.end - s.creationTime);
    const elapsed = Math.max(0, now - s.creationTime);
    if (elapsed < Math.min(STARTING_MS, duration / 4)) {
      s.state = 'Starting';
      s.progress = 0;
    } else {
      s.state = 'Working';
      s.progress = Math.min(99, Math.max(1, Math.floor((100 * elapsed) / duration)));
    }
  }

  protected freeze(s: EmRestoreSession): void {
    s.state = 'Working';
  }

  protected info(s: EmRestoreSession, plan: Plan | undefined): EmLiveSessionInfo {
    return {
      id: s.id,
      uid: `urn:veeam:RestoreSession:${s.id}`,
      name: s.name,
      vmDisplayName: s.vmDisplayName,
      jobType: s.jobType,
      backupServer: this.world.backupServers[s.backupServer]?.name ?? null,
      state: s.state,
      result: s.result,
      progress: s.progress,
      creationTime: iso(s.creationTime),
      endTime: s.endTime === undefined ? null : iso(s.endTime),
      ...this.planInfo(plan),
      href: `/api/restoreSessions/${s.id}?format=Entity`,
    };
  }
}

// ------------------------------------------------------------------ VB365

interface VboPlan extends Plan {
  timeline: VboEventTimeline;
  eTagBase: number;
}

const VBO_KIND: Record<string, string> = { Vex: 'Exchange', Veod: 'OneDrive', Vesp: 'SharePoint', Vet: 'Teams' };

/**
 * A VB365 world on the move. A session is `Working` with `result` `Success` (as the docs' running
 * sessions show) and no `endTime`; its events are the ones that started by now (event i is fixed by the
 * session's seed, so `eventCount` only grows and an emitted event only changes from Running to ended),
 * and `eTag` is its base plus the event count, plus one once stopped. At its end: `Stopped`, `endTime`
 * and its result; `details` counts the items of the ended events.
 */
export class VboLiveWorld extends LiveWorld<VboRestoreSession, VboPlan, VboStartSession, VboLiveSessionInfo> {
  protected readonly resultWeights = [
    ['Success', 85],
    ['Warning', 10],
    ['Failed', 5],
  ] as const;
  private readonly pointsByOrg: number[][];
  private readonly backedUp: number[];

  constructor(
    readonly world: VboServerWorld,
    setup: LiveWorldSetup & { apiVersion: string; quirks?: WorldQuirks },
  ) {
    super('vbo', world.name, setup);
    this.apiVersion = setup.apiVersion;
    this.quirks = setup.quirks ?? {};
    this.pointsByOrg = world.organizations.map(() => []);
    world.restorePoints.forEach((p, i) => this.pointsByOrg[p.organization]?.push(i));
    const backedUp = world.organizations.map((o, i) => (o.isBackedUp ? i : -1)).filter((i) => i >= 0);
    this.backedUp = backedUp.length > 0 ? backedUp : world.organizations.map((_o, i) => i);
    this.begin();
  }

  private readonly apiVersion: string;
  private readonly quirks: WorldQuirks;

  protected sessions(): VboRestoreSession[] {
    return this.world.restoreSessions;
  }

  protected parseStart(body: unknown): VboStartSession {
    const what = 'session';
    const o = object(body, what, ['organization', 'type', 'initiatedBy', 'durationMs', 'result']);
    const organization = optionalString(o, 'organization', what);
    const type = optionalEnum(o, 'type', ['Vex', 'Veod', 'Vesp', 'Vet'] as const, what);
    const initiatedBy = optionalString(o, 'initiatedBy', what);
    if (organization !== undefined && this.orgIndex(organization) === undefined) {
      throw new SimControlError(
        400,
        `${what}.organization: no organization "${organization}" (known: ${this.world.organizations.map((x) => x.name).join(', ')})`,
      );
    }
    if (this.world.organizations.length === 0) throw new SimControlError(409, `${this.world.name} has no organization to restore from`);
    return {
      ...startCommon(o, what),
      ...(organization !== undefined ? { organization } : {}),
      ...(type !== undefined ? { type } : {}),
      ...(initiatedBy !== undefined ? { initiatedBy } : {}),
    };
  }

  private orgIndex(nameOrId: string): number | undefined {
    const wanted = normalizeId(nameOrId);
    const i = this.world.organizations.findIndex((o) => o.id.toLowerCase() === wanted || o.name.toLowerCase() === nameOrId.trim().toLowerCase());
    return i < 0 ? undefined : i;
  }

  protected create(time: number, r: Random, o: VboStartSession): VboRestoreSession {
    const drawnOrg = r.pick(this.backedUp);
    const drawnType = r.weighted([
      ['Vex', 50],
      ['Veod', 25],
      ['Vesp', 15],
      ['Vet', 10],
    ] as const);
    const user = r.pick(USERS);
    const scopeUser = r.pick(USERS);
    const site = r.pick(['hr', 'finance', 'it', 'legal']);
    const viaGateway = r.bool(0.15);
    const clientHost = r.bool(0.3)
      ? `BXYDEV${String(r.int(1, 20)).padStart(2, '0')} (via: 10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)})`
      : `WS-${r.int(1000, 9999)}`;
    const reason = r.pick(REASONS);
    const eTag = r.int(1, 1_000_000);
    const id = r.guid();
    const orgIndex = o.organization !== undefined ? this.orgIndex(o.organization)! : drawnOrg;
    const org = this.world.organizations[orgIndex]!;
    const type = o.type ?? drawnType;
    const points = this.pointsByOrg[orgIndex] ?? [];
    let pointInTime = time - 3_600_000;
    for (let i = points.length - 1; i >= 0; i--) {
      const t = this.world.restorePoints[points[i]!]!.backupTime;
      if (t < time) {
        pointInTime = t;
        break;
      }
    }
    return {
      id,
      name: type === 'Vet' && this.quirks.emptyTeamsNames ? '' : `${VBO_KIND[type] ?? type} restore ${org.name} ${emNameTime(time)}`,
      organization: orgIndex,
      type,
      creationTime: time,
      state: 'Working',
      result: 'Success',
      initiatedBy: o.initiatedBy ?? (viaGateway ? org.name : `${user}@${org.name}`),
      details: '0 items processed (0 success)',
      scopeName: type === 'Vesp' ? `https://${org.name.split('.')[0]}.sharepoint.com/sites/${site}` : `${scopeUser}@${org.name}`,
      clientHost,
      reason,
      pointInTime,
      eventCount: 0,
      eTag,
      eventsAsOf: time,
    };
  }

  protected makePlan(s: VboRestoreSession, end: number, result: LiveResult): VboPlan {
    return { end, result, timeline: new VboEventTimeline(s.id, s.creationTime), eTagBase: s.eTag };
  }

  protected apply(s: VboRestoreSession, plan: VboPlan, now: number): void {
    const at = Math.min(now, plan.end);
    s.eventCount = plan.timeline.startedBy(at);
    s.eventsAsOf = at;
    const done = plan.timeline.endedBy(s.eventCount, at);
    if (now >= plan.end) {
      s.state = 'Stopped';
      s.endTime = plan.end;
      s.result = plan.result;
      const failed = plan.result === 'Success' ? 0 : Math.max(1, Math.ceil(s.eventCount / 10));
      const items = Math.max(s.eventCount, failed);
      s.details = `${items} items processed (${items - failed} success${failed ? `, ${failed} failed` : ''})`;
      s.eTag = plan.eTagBase + s.eventCount + 1;
      return;
    }
    s.state = 'Working';
    delete s.endTime;
    s.result = 'Success';
    s.details = `${done} items processed (${done} success)`;
    s.eTag = plan.eTagBase + s.eventCount;
  }

  protected freeze(): void {}

  protected info(s: VboRestoreSession, plan: VboPlan | undefined): VboLiveSessionInfo {
    return {
      id: s.id,
      name: s.name,
      organization: this.world.organizations[s.organization]?.name ?? null,
      type: s.type,
      state: s.state,
      result: s.result,
      eventCount: s.eventCount,
      eTag: s.eTag,
      creationTime: iso(s.creationTime),
      endTime: s.endTime === undefined ? null : iso(s.endTime),
      ...this.planInfo(plan),
      href: `/${this.apiVersion}/RestoreSessions/${s.id}`,
    };
  }
}
