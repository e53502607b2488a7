import { markFailed, traceBackground } from '../../observability/backgroundSpans.js';
import type { Logger } from 'pino';
import {
  createRequestScope,
  wireTimeMs,
  type Freshness,
  type LiveEvent,
  type RequestScope,
  type RestoreSessionRecord,
  type Source,
} from '../../upstream/Source.js';
import type { Scheduler } from '../Scheduler.js';
import type { LiveSettings } from './liveDefaults.js';

/** How many of the newest sessions the first poll reads, to know what is running already. */
export const PRIME_LIMIT = 200;
/** Most new sessions one poll takes in; more are taken by the next polls, from the new watermark. */
export const NEW_LIMIT = 500;

/** Record fields that are no session data: never reported as changed. */
const NOT_DATA = new Set(['links', 'freshness', 'nativeId', 'entity']);

const keyOf = (id: string): string => id.toLowerCase();

/**
 * Data the memory layer served stale (stale-if-error) is no news: the server failed. The poller
 * reports that as the server being down, with the failure the memory layer kept, and learns
 * nothing from the old data.
 */
function freshOrThrow(freshness: Freshness | undefined): void {
  if (freshness?.stale) throw freshness.cause ?? new Error('served stale: the server did not answer');
}
const finished = (s: RestoreSessionRecord): boolean => s.state === 'STOPPED' || s.endTime !== null;
const createdMs = (s: RestoreSessionRecord): number => {
  const ms = wireTimeMs(s.creationTime);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
};

/** The fields of `next` whose values differ from `prev`, by the record's own names (the schema's). */
export function changedFields(prev: RestoreSessionRecord, next: RestoreSessionRecord): string[] {
  const out: string[] = [];
  for (const key of Object.keys(next)) {
    if (NOT_DATA.has(key)) continue;
    const a = (prev as unknown as Record<string, unknown>)[key];
    const b = (next as unknown as Record<string, unknown>)[key];
    if (a !== b && JSON.stringify(a) !== JSON.stringify(b)) out.push(key);
  }
  return out;
}

/** Where a poller stands, for the replica that polls the server next (plain JSON). */
export interface PollerCheckpoint {
  /** The creation-time watermark, ms; null for "before any session". */
  watermark: number | null;
  atWatermark: string[];
  running: RestoreSessionRecord[];
  down: boolean;
  /** When it was written (the scheduler's clock), ms. */
  at: number;
}

/** A store of one server's {@link PollerCheckpoint} shared by the replicas (src/sources/shared). */
export interface PollerCheckpoints {
  load(): Promise<PollerCheckpoint | undefined>;
  save(checkpoint: PollerCheckpoint): Promise<void>;
}

export interface SessionPollerOptions {
  scheduler: Scheduler;
  settings: LiveSettings;
  logger: Logger;
  emit(event: LiveEvent): void;
  /**
   * With replicas: written after every poll and read by a poller that starts, so a new leader
   * resumes where the old one stopped (the sessions that started, changed or finished between the
   * two are reported) instead of learning the server afresh and missing them.
   */
  checkpoints?: PollerCheckpoints | undefined;
}

/**
 * How old a checkpoint may be and still be resumed from: the longest a polling leader goes
 * between two (its slowest interval or longest backoff) plus a lease handover. An older one means
 * nobody polled meanwhile (no subscriber anywhere): replaying what happened since would flood new
 * subscribers with old news, so the poller learns the server afresh.
 */
export function checkpointMaxAgeMs(settings: LiveSettings): number {
  return settings.leaseMs + Math.max(settings.slowPollMs, settings.maxBackoffMs) + settings.fastPollMs;
}

/**
 * The one poller of one server's restore sessions, shared by every subscriber of that server.
 * Neither Veeam API pushes events (docs/veeam-wire.md), so it polls, cheaply:
 * - a creation-time **watermark**: each poll lists only the sessions created at or after the
 *   newest one seen (oldest first, at most {@link NEW_LIMIT}), which are `STARTED`;
 * - the **running set**: sessions not finished yet, re-read by id in one batched `lookup` per poll;
 *   a changed field is `UPDATED`, a stop is `FINISHED`.
 *
 * It polls every `fastPollMs` while sessions run, every `slowPollMs` when nothing does, and backs
 * off (doubling up to `maxBackoffMs`) while the server fails; the first failure is `SOURCE_DOWN`,
 * the first success after it `SOURCE_UP`. The running set survives an outage, so a session that
 * finished meanwhile arrives as `FINISHED` when the server is back.
 *
 * Reads go through the source as the graph's do (the memory layer: coalescing with queries, and
 * a record fresher than half the fast interval is not read again).
 */
export class SessionPoller {
  private readonly running = new Map<string, RestoreSessionRecord>();
  /** Ids of the sessions created at the watermark exactly: the next `>=` list returns them again. */
  private atWatermark = new Set<string>();
  private watermark: number | undefined;
  private down = false;
  private failures = 0;
  private cancelTimer: (() => void) | undefined;
  private current: Promise<void> | undefined;
  private active = false;
  /** Polls finished since the start (for tests and metrics). */
  polls = 0;

  constructor(
    readonly source: Source,
    private readonly options: SessionPollerOptions,
  ) {}

  /** Sessions known to be running. */
  get runningCount(): number {
    return this.running.size;
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Starts polling now (the first poll learns what runs already and reports nothing). */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.runPoll();
  }

  /** Stops polling and forgets the state: the next start learns the server afresh. */
  stop(): void {
    this.active = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.running.clear();
    this.atWatermark.clear();
    this.watermark = undefined;
    this.down = false;
    this.failures = 0;
  }

  /** Resolves once no poll is in flight. */
  async settled(): Promise<void> {
    while (this.current !== undefined) await this.current;
  }

  private schedule(ms: number): void {
    this.cancelTimer = this.options.scheduler.setTimer(ms, () => {
      this.cancelTimer = undefined;
      this.runPoll();
    });
  }

  private runPoll(): void {
    const run = this.poll().finally(() => {
      if (this.current === run) this.current = undefined;
    });
    this.current = run;
  }

  /** The wait before the next poll. */
  private nextDelay(): number {
    const s = this.options.settings;
    if (this.failures > 0) return Math.min(s.maxBackoffMs, s.fastPollMs * 2 ** Math.min(this.failures - 1, 20));
    return this.running.size > 0 ? s.fastPollMs : s.slowPollMs;
  }

  private async poll(): Promise<void> {
    const scope = createRequestScope({ noCache: false, maxAgeMs: Math.floor(this.options.settings.fastPollMs / 2) });
    const emitted: LiveEvent[] = [];
    if (this.watermark === undefined) await this.resume();
    // A trace of its own per poll (src/observability): its list and lookup calls are its children.
    const priming = this.watermark === undefined;
    await traceBackground(`live poll ${this.source.name}`, { 'veeam.server': this.source.name, 'veeam.live.priming': priming }, async (span) => {
      try {
        if (priming) await this.prime(scope);
        else {
          await this.readNew(scope, emitted);
          await this.rereadRunning(scope, emitted);
        }
        // Back first, then what happened meanwhile.
        if (this.down) emitted.unshift({ type: 'SOURCE_UP', source: this.source.name, at: this.options.scheduler.now() });
        this.down = false;
        this.failures = 0;
      } catch (err) {
        this.failures++;
        if (!this.down) emitted.push({ type: 'SOURCE_DOWN', source: this.source.name, error: err as Error, at: this.options.scheduler.now() });
        this.down = true;
        this.options.logger.debug({ source: this.source.name, err: { message: (err as Error).message } }, 'live poll failed');
        markFailed(span, err);
      }
      span.setAttributes({ 'veeam.live.events': emitted.length, 'veeam.live.running': this.running.size });
    });
    this.polls++;
    // Stopped while polling: the subscribers are gone, and so is the state this poll built on.
    if (!this.active) return;
    this.checkpoint();
    for (const event of emitted) this.options.emit(event);
    this.schedule(this.nextDelay());
  }

  /** Takes over a recent checkpoint of the replica that polled before (see {@link SessionPollerOptions.checkpoints}). */
  private async resume(): Promise<void> {
    const store = this.options.checkpoints;
    if (store === undefined) return;
    let saved: PollerCheckpoint | undefined;
    try {
      saved = await store.load();
    } catch (err) {
      this.options.logger.debug({ source: this.source.name, err: { message: (err as Error).message } }, 'live poller checkpoint not read');
      return;
    }
    if (saved === undefined || this.options.scheduler.now() - saved.at > checkpointMaxAgeMs(this.options.settings)) return;
    this.watermark = saved.watermark ?? Number.NEGATIVE_INFINITY;
    this.atWatermark = new Set(saved.atWatermark);
    for (const s of saved.running) this.running.set(keyOf(s.nativeId), s);
    this.down = saved.down;
    this.options.logger.info(
      { source: this.source.name, running: this.running.size, ageMs: this.options.scheduler.now() - saved.at },
      'live poller resumed from the previous poller checkpoint',
    );
  }

  private checkpoint(): void {
    if (this.options.checkpoints === undefined || this.watermark === undefined) return;
    const checkpoint: PollerCheckpoint = {
      watermark: Number.isFinite(this.watermark) ? this.watermark : null,
      atWatermark: [...this.atWatermark],
      running: [...this.running.values()],
      down: this.down,
      at: this.options.scheduler.now(),
    };
    // Best effort: without it a new leader learns the server afresh, as without replicas.
    this.options.checkpoints.save(checkpoint).catch((err: unknown) => {
      this.options.logger.debug({ source: this.source.name, err: { message: (err as Error).message } }, 'live poller checkpoint not written');
    });
  }

  private async prime(scope: RequestScope): Promise<void> {
    const { items, freshness } = await this.source.listRestoreSessions(
      { window: { fromMs: null, toMs: null }, order: 'NEWEST_FIRST', limit: PRIME_LIMIT, conditions: {} },
      scope,
    );
    freshOrThrow(freshness);
    this.watermark = Number.NEGATIVE_INFINITY;
    this.advanceWatermark(items);
    for (const s of items) if (!finished(s)) this.running.set(keyOf(s.nativeId), s);
  }

  private advanceWatermark(items: readonly RestoreSessionRecord[]): void {
    for (const s of items) {
      const at = createdMs(s);
      if (at > this.watermark!) {
        this.watermark = at;
        this.atWatermark = new Set();
      }
      if (at === this.watermark) this.atWatermark.add(keyOf(s.nativeId));
    }
  }

  private async readNew(scope: RequestScope, out: LiveEvent[]): Promise<void> {
    const fromMs = Number.isFinite(this.watermark) ? this.watermark! : null;
    const { items, freshness } = await this.source.listRestoreSessions(
      { window: { fromMs, toMs: null }, order: 'OLDEST_FIRST', limit: NEW_LIMIT, conditions: {} },
      scope,
    );
    freshOrThrow(freshness);
    const fresh = items.filter((s) => !this.atWatermark.has(keyOf(s.nativeId)) && !this.running.has(keyOf(s.nativeId)));
    this.advanceWatermark(items);
    const at = this.options.scheduler.now();
    for (const s of fresh) {
      out.push({ type: 'STARTED', source: this.source.name, session: s, changed: [], at });
      if (finished(s)) out.push({ type: 'FINISHED', source: this.source.name, session: s, changed: [], at });
      else this.running.set(keyOf(s.nativeId), s);
    }
  }

  private async rereadRunning(scope: RequestScope, out: LiveEvent[]): Promise<void> {
    // Sessions that STARTED in this very poll were just read; the others are read again.
    const started = new Set(out.map((e) => ('session' in e ? keyOf(e.session.nativeId) : '')));
    const ids = [...this.running.values()].filter((s) => !started.has(keyOf(s.nativeId))).map((s) => s.nativeId);
    if (ids.length === 0) return;
    const found = await this.source.lookup('RestoreSession', ids, scope);
    const at = this.options.scheduler.now();
    for (const id of ids) {
      const key = keyOf(id);
      const prev = this.running.get(key)!;
      const next = found.get(key);
      if (next === undefined) {
        // Gone from the server (deleted, or aged out of its retention): nothing more will come.
        this.running.delete(key);
        this.options.logger.debug({ source: this.source.name, session: id }, 'running session no longer on the server');
        continue;
      }
      if (next instanceof Error) throw next;
      freshOrThrow(next.freshness);
      const changed = changedFields(prev, next);
      if (finished(next)) {
        this.running.delete(key);
        out.push({ type: 'FINISHED', source: this.source.name, session: next, changed, at });
      } else if (changed.length > 0) {
        this.running.set(key, next);
        out.push({ type: 'UPDATED', source: this.source.name, session: next, changed, at });
      }
    }
  }
}
