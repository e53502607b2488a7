import { isUpstreamError, UpstreamTimeoutError } from '../../upstream/errors.js';
import { withRequestSignal } from '../../upstream/http/requestSignal.js';
import { recordCacheOutcome } from '../../observability/cacheSpans.js';
import type {
  EntityRecord,
  Freshness,
  ListQuery,
  ListResult,
  LookupKind,
  OrganizationRecord,
  PointCondition,
  PointConditions,
  ReadPolicy,
  RecordOf,
  RequestScope,
  RestorePointRecord,
  RestoreSessionRecord,
  SessionCondition,
  SessionConditions,
  SessionEventRecord,
  SmallListKind,
  Source,
  SourceEvent,
  RemoteCircuit,
} from '../../upstream/Source.js';
import type { Scheduler } from '../Scheduler.js';
import type { CacheEntry, CacheStore } from './CacheStore.js';
import type { MemorySettings } from './memoryDefaults.js';

/** Options of {@link MemorySource}. */
export interface MemorySourceOptions {
  store: CacheStore;
  settings: MemorySettings;
  scheduler: Scheduler;
  /** Cross-replica coalescing of list reads (a shared store's short locks); none: this process only. */
  lock?: ReplicaLock;
}

/**
 * A short lock per key shared by the replicas (`SharedLock` of src/sources/shared): who holds it
 * reads, the others wait briefly for its answer in the shared store.
 */
export interface ReplicaLock {
  /** The lock, or undefined when another replica holds it (a lock that cannot be shared is held locally). */
  tryAcquire(key: string, ttlMs: number): Promise<{ release(): Promise<boolean> } | undefined>;
  waitFor(key: string, options: { timeoutMs: number }): Promise<'released' | 'timeout' | 'unavailable'>;
}

/** Longest a replica waits for another replica's read of the same list before reading itself, ms. */
export const REPLICA_WAIT_MS = 1000;

/** A list as the store keeps it: plain data (a shared store serializes it). */
interface StoredList<T> {
  items: T[];
  complete: boolean;
  unapplied: string[];
}

/** Upstream calls in progress, shared by every request that needs the same read. */
interface Group {
  controller: AbortController;
  /** Requests still waiting; when the last one leaves because its client went away, the call is cancelled. */
  waiters: number;
}

interface Flight<T> {
  promise: Promise<CacheEntry<T>>;
  group: Group;
  /** When the call started (scheduler time). */
  startedAt: number;
}

const TTL_KIND: { readonly [K in LookupKind | SmallListKind]: keyof MemorySettings['ttlMs'] } = {
  BackupServer: 'backupServer',
  Organization: 'organization',
  RestorePoint: 'restorePoint',
  RestoreSession: 'restoreSession',
};

const stamp = <R extends EntityRecord>(record: R, freshness: Freshness): R => ({ ...record, freshness });

/** Canonical text of a value for cache keys: sets sorted, object keys in order. */
function keyOf(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Set) return [...(v as Set<unknown>)].map(String).sort();
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/**
 * The memory layer (docs/architecture.md, "Memory across requests"): a `Source` wrapping any
 * `Source`, knowing no kind.
 * - Records (backup servers, organizations, restore points, sessions by id, the organization of a
 *   session) are cached by (source, kind, id) for their kind's TTL; lists for `listTtlMs`.
 * - Identical reads of concurrent requests share one upstream call (single flight by key).
 * - Every answer says when it was read (`freshness.asOf`).
 * - A read that fails, or does not answer within the request's latency budget, is
 *   answered with the last good data, marked stale with the failure as its cause, when that data
 *   is at most `maxStaleMs` old; otherwise the failure (a budget miss is UPSTREAM_TIMEOUT) is thrown.
 *   A late read finishes in the background (bounded by the HTTP timeouts) and refreshes the store.
 * - `Cache-Control: no-cache` (policy `noCache`) reads live and serves nothing stale;
 *   `max-age=N` (policy `maxAgeMs`) accepts data up to N seconds old instead of the TTL.
 * - When the last request waiting for a read goes away (its client disconnected), the read's
 *   HTTP requests are cancelled.
 */
export class MemorySource implements Source {
  readonly name: string;
  readonly kind: Source['kind'];
  readonly url: string;
  private readonly flights = new Map<string, Flight<unknown>>();
  /**
   * Since when the server has left a read of each kind (`what`: a list kind, an entity kind)
   * unanswered past its budget, until a read of that kind succeeds again. Per kind: EM's query
   * service can be slow for sessions while backup servers answer.
   */
  private readonly slowSince = new Map<string, number>();
  private readonly listeners = new Set<(event: SourceEvent) => void>();
  private readonly stampedLists = new WeakMap<object, { asOf: number | undefined; items: EntityRecord[] }>();

  constructor(
    private readonly inner: Source,
    private readonly options: MemorySourceOptions,
  ) {
    this.name = inner.name;
    this.kind = inner.kind;
    this.url = inner.url;
  }

  // ------------------------------------------------------------------ pass-through

  describe() {
    return this.inner.describe();
  }
  resolveApiVersion() {
    return this.inner.resolveApiVersion();
  }
  ping() {
    return this.inner.ping();
  }
  check() {
    return this.inner.check();
  }
  circuit() {
    return this.inner.circuit();
  }
  adoptCircuit(remote: RemoteCircuit) {
    this.inner.adoptCircuit(remote);
  }
  grantStats() {
    return this.inner.grantStats();
  }
  close() {
    return this.inner.close();
  }
  subscribe(listener: (event: SourceEvent) => void): () => void {
    const off = this.inner.subscribe(listener);
    this.listeners.add(listener);
    return () => {
      off();
      this.listeners.delete(listener);
    };
  }

  // ------------------------------------------------------------------ lists

  async listRestoreSessions(query: ListQuery<SessionConditions>, scope: RequestScope): Promise<ListResult<RestoreSessionRecord, SessionCondition>> {
    return this.list('RestoreSessionList', `sessions\u0000${keyOf(query)}`, scope, 'listRestoreSessions', 'RestoreSession', () =>
      this.inner.listRestoreSessions(query, scope),
    ) as Promise<ListResult<RestoreSessionRecord, SessionCondition>>;
  }

  async listRestorePoints(query: ListQuery<PointConditions>, scope: RequestScope): Promise<ListResult<RestorePointRecord, PointCondition>> {
    return this.list('RestorePointList', `points\u0000${keyOf(query)}`, scope, 'listRestorePoints', 'RestorePoint', () =>
      this.inner.listRestorePoints(query, scope),
    ) as Promise<ListResult<RestorePointRecord, PointCondition>>;
  }

  async listAll<K extends SmallListKind>(kind: K, scope: RequestScope): Promise<RecordOf[K][]> {
    const ttl = this.options.settings.ttlMs[TTL_KIND[kind]];
    const { value, freshness } = await this.read(`${kind}List`, this.key(`all\u0000${kind}`), ttl, scope, `listAll ${kind}`, async () => {
      const all = await this.inner.listAll(kind, scope);
      // A whole list answers lookups by id too.
      await Promise.all(all.map((r) => this.put(this.entityKey(kind, r.nativeId), r)));
      return all;
    });
    return value.map((r) => stamp(r, freshness));
  }

  async listSessionEvents(sessionId: string, page: { offset: number; limit: number }, scope: RequestScope) {
    const key = this.key(`events\u0000${sessionId.toLowerCase()}\u0000${page.offset}\u0000${page.limit}`);
    const ttl = this.options.settings.ttlMs.restoreSession;
    const { value, freshness } = await this.read('SessionEventPage', key, ttl, scope, 'listSessionEvents', () =>
      this.inner.listSessionEvents(sessionId, page, scope),
    );
    return { items: value.items.map((e) => stamp(e, freshness)), hasMore: value.hasMore, freshness };
  }

  async allSessionEvents(sessionId: string, scope: RequestScope): Promise<SessionEventRecord[]> {
    const ttl = this.options.settings.ttlMs.restoreSession;
    const { value, freshness } = await this.read('SessionEvents', this.key(`allEvents\u0000${sessionId.toLowerCase()}`), ttl, scope, 'allSessionEvents', () =>
      this.inner.allSessionEvents(sessionId, scope),
    );
    return value.map((e) => stamp(e, freshness));
  }

  // ------------------------------------------------------------------ lookups

  async lookup<K extends LookupKind>(kind: K, ids: readonly string[], scope: RequestScope): Promise<Map<string, RecordOf[K] | Error>> {
    const keys = ids.map((id) => this.entityKey(kind, id));
    const ttl = this.options.settings.ttlMs[TTL_KIND[kind]];
    const found = await this.readMany<RecordOf[K]>(kind, keys, ttl, scope, `lookup ${kind}`, async (missing) => {
      const map = await this.inner.lookup(
        kind,
        missing.map((i) => ids[i]!),
        scope,
      );
      return missing.map((i) => map.get(ids[i]!.toLowerCase()) ?? null);
    });
    const out = new Map<string, RecordOf[K] | Error>();
    ids.forEach((id, i) => {
      const v = found[i];
      if (v !== null && v !== undefined) out.set(id.toLowerCase(), v);
    });
    return out;
  }

  async sessionOrganizations(sessions: readonly RestoreSessionRecord[], scope: RequestScope): Promise<(OrganizationRecord | null | Error)[]> {
    const keys = sessions.map((s) => this.key(`sessionOrganization\u0000${s.nativeId.toLowerCase()}`));
    const ttl = this.options.settings.ttlMs.organization;
    return this.readMany<OrganizationRecord>(
      'SessionOrganization',
      keys,
      ttl,
      scope,
      'sessionOrganizations',
      (missing) =>
        this.inner.sessionOrganizations(
          missing.map((i) => sessions[i]!),
          scope,
        ),
      // "This session has no organization" is an answer worth keeping too.
      true,
    );
  }

  // ------------------------------------------------------------------ machinery

  /**
   * Keys are per server name and URL: a config reload that points a name at another server (a
   * moved EM) must not serve the old server's records, while replicas with the same config share.
   */
  private key(rest: string): string {
    return `${this.name}\u0000${this.url}\u0000${rest}`;
  }

  private entityKey(kind: LookupKind, id: string): string {
    return this.key(`entity\u0000${kind}\u0000${id.toLowerCase()}`);
  }

  private emit(what: string, outcome: 'hit' | 'miss' | 'stale' | 'coalesced' | 'revalidate'): void {
    const event: SourceEvent = { type: 'cache', source: this.name, what, outcome };
    for (const l of this.listeners) l(event);
    // Tracing: on the span of the operation that asked (a no-op when tracing is off).
    recordCacheOutcome(this.name, what, outcome);
  }

  private put<T>(key: string, value: T, at = this.options.scheduler.now()): Promise<void> {
    return this.options.store.set(key, { value, at }, this.options.settings.maxStaleMs);
  }

  private fresh(entry: CacheEntry | undefined, ttlMs: number, policy: ReadPolicy): boolean {
    return entry !== undefined && !policy.noCache && this.options.scheduler.now() - entry.at <= (policy.maxAgeMs ?? ttlMs);
  }

  /** Past its TTL, within the stale-while-revalidate window, and the request did not ask for a live or younger read. */
  private revalidating(entry: CacheEntry, ttlMs: number, policy: ReadPolicy): boolean {
    return !policy.noCache && policy.maxAgeMs === undefined && this.options.scheduler.now() - entry.at <= ttlMs + this.options.settings.revalidateMs;
  }

  private usableStale(entry: CacheEntry | undefined, error: unknown, policy: ReadPolicy): boolean {
    return entry !== undefined && !policy.noCache && isUpstreamError(error) && this.options.scheduler.now() - entry.at <= this.options.settings.maxStaleMs;
  }

  private budgetError(operation: string): UpstreamTimeoutError {
    return new UpstreamTimeoutError({
      source: this.name,
      method: 'GET',
      path: `(${operation})`,
      detail: 'no answer within the request latency budget',
      phase: 'budget',
    });
  }

  /**
   * The call in progress for `key` when it is young enough to wait for: one that has run longer
   * than a budget is left to finish in the background, and a new request starts a fresh call, so a
   * server that hung and came back is read again within a budget, not after the socket timeout.
   */
  private running<T>(key: string): Flight<T> | undefined {
    const flight = this.flights.get(key) as Flight<T> | undefined;
    return flight !== undefined && this.options.scheduler.now() - flight.startedAt < this.options.settings.budgetMs ? flight : undefined;
  }

  /** One upstream call per key at a time, whoever asks; the answer is stored when it comes. */
  private flight<T>(what: string, key: string, load: () => Promise<T>, group?: Group, keep: (value: T) => boolean = () => true): Flight<T> {
    const running = this.running<T>(key);
    if (running !== undefined) {
      this.emit(what, 'coalesced');
      return running;
    }
    this.emit(what, 'miss');
    const g = group ?? { controller: new AbortController(), waiters: 0 };
    const promise = withRequestSignal(g.controller.signal, load)
      .then(async (value) => {
        this.slowSince.delete(what);
        const entry = { value, at: this.options.scheduler.now() };
        if (keep(value)) await this.options.store.set(key, entry, this.options.settings.maxStaleMs);
        return entry;
      })
      .finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
    // A late call may finish after every waiter left (budget): that is no unhandled failure.
    promise.catch(() => undefined);
    const flight: Flight<T> = { promise, group: g, startedAt: this.options.scheduler.now() };
    this.flights.set(key, flight as Flight<unknown>);
    return flight;
  }

  /**
   * The budget of a read that could be answered stale: none while the server is known to be slow
   * (a read went past its budget and none has succeeded since), so that a hung server costs one
   * budget, not one per query; the read still goes out and refreshes the memory when it lands.
   */
  private budgetFor(what: string, policy: ReadPolicy, staleAvailable: boolean): ReadPolicy {
    return staleAvailable && this.slowSince.has(what) ? { ...policy, budgetMs: 0 } : policy;
  }

  private missedBudget(what: string): void {
    if (!this.slowSince.has(what)) this.slowSince.set(what, this.options.scheduler.now());
  }

  /**
   * Waits for flights for the request's latency budget, or until it is aborted. Returns what settled in time; the
   * rest is `undefined`. When the request was aborted and nobody else waits, the calls are cancelled.
   */
  private async waitFor<T>(flights: Flight<T>[], policy: ReadPolicy): Promise<(PromiseSettledResult<CacheEntry<T>> | undefined)[]> {
    const groups = new Set(flights.map((f) => f.group));
    for (const g of groups) g.waiters++;
    const settled: (PromiseSettledResult<CacheEntry<T>> | undefined)[] = flights.map(() => undefined);
    try {
      await new Promise<void>((resolve) => {
        let left = flights.length;
        let cancelTimer = () => {};
        const done = () => {
          cancelTimer();
          policy.signal?.removeEventListener('abort', done);
          resolve();
        };
        if (left === 0 || policy.signal?.aborted) return done();
        policy.signal?.addEventListener('abort', done, { once: true });
        if (policy.budgetMs !== undefined && policy.budgetMs <= 0) return done();
        if (policy.budgetMs !== undefined) cancelTimer = this.options.scheduler.setTimer(policy.budgetMs, done);
        const settle = (i: number, result: PromiseSettledResult<CacheEntry<T>>) => {
          settled[i] = result;
          if (--left === 0) done();
        };
        flights.forEach((f, i) => {
          f.promise.then(
            (value) => settle(i, { status: 'fulfilled', value }),
            (reason: unknown) => settle(i, { status: 'rejected', reason }),
          );
        });
      });
    } finally {
      for (const g of groups) {
        g.waiters--;
        if (g.waiters === 0 && policy.signal?.aborted) g.controller.abort(policy.signal.reason);
      }
    }
    if (policy.signal?.aborted) throw policy.signal.reason instanceof Error ? policy.signal.reason : new Error('request aborted');
    return settled;
  }

  /** One value by key: fresh from the store, else one shared upstream call, else stale, else the failure. */
  private async read<T>(
    what: string,
    key: string,
    ttlMs: number,
    scope: RequestScope,
    operation: string,
    load: () => Promise<T>,
  ): Promise<{ value: T; freshness: Freshness }> {
    const policy = scope.policy;
    const entry = await this.options.store.get<T>(key);
    if (entry !== undefined && this.fresh(entry, ttlMs, policy)) {
      this.emit(what, 'hit');
      return { value: entry.value, freshness: { asOf: entry.at, stale: false } };
    }
    if (entry !== undefined && this.revalidating(entry, ttlMs, policy)) {
      // Answered now; one background read (joined if already running) refreshes the memory.
      this.emit(what, 'revalidate');
      this.flight(what, key, load);
      return { value: entry.value, freshness: { asOf: entry.at, stale: false } };
    }
    const staleAvailable = entry !== undefined && this.usableStale(entry, this.budgetError(operation), policy);
    const [result] = await this.waitFor([this.flight(what, key, load)], this.budgetFor(what, policy, staleAvailable));
    if (result?.status === 'fulfilled') return { value: result.value.value, freshness: { asOf: result.value.at, stale: false } };
    if (result === undefined) this.missedBudget(what);
    const error = result === undefined ? this.budgetError(operation) : result.reason;
    if (entry !== undefined && this.usableStale(entry, error, policy)) {
      this.emit(what, 'stale');
      return { value: entry.value, freshness: { asOf: entry.at, stale: true, cause: error as Error } };
    }
    throw error;
  }

  private async list<T extends EntityRecord>(
    what: string,
    rest: string,
    scope: RequestScope,
    operation: string,
    kind: 'RestoreSession' | 'RestorePoint',
    load: () => Promise<ListResult<T, string>>,
  ): Promise<ListResult<T, string>> {
    const key = this.key(rest);
    const ttlMs = this.options.settings.listTtlMs;
    const { value, freshness } = await this.read<StoredList<T>>(what, key, ttlMs, scope, operation, () =>
      this.acrossReplicas(
        key,
        (entry) => this.fresh(entry, ttlMs, scope.policy),
        async () => {
          const result = await load();
          // What a list read is also what a lookup by id would read (a `node` refetch of a listed session).
          const at = this.options.scheduler.now();
          await Promise.all(result.items.map((r) => this.put(this.entityKey(kind, r.nativeId), r, at)));
          return { items: result.items, complete: result.complete, unapplied: [...result.unapplied] };
        },
      ),
    );
    return { items: this.stamped(value, freshness), complete: value.complete, unapplied: new Set(value.unapplied), freshness };
  }

  /**
   * The items of a stored list with their freshness. A fresh read of the same stored list stamps
   * the same way every time, so those copies are made once per list and shared (a warm page reads
   * the same lists query after query); a stale read is stamped anew. Each caller gets its own array.
   */
  private stamped<T extends EntityRecord>(value: StoredList<T>, freshness: Freshness): T[] {
    if (freshness.stale) return value.items.map((r) => stamp(r, freshness));
    const memo = this.stampedLists.get(value) as { asOf: number | undefined; items: T[] } | undefined;
    if (memo !== undefined && memo.asOf === freshness.asOf) return memo.items.slice();
    const items = value.items.map((r) => stamp(r, freshness));
    this.stampedLists.set(value, { asOf: freshness.asOf, items });
    return items.slice();
  }

  /**
   * The single flight of `key` across replicas: with a shared lock, one replica reads and the
   * others wait for it (at most {@link REPLICA_WAIT_MS}), then take its answer from the shared
   * store; a replica that waited in vain (the holder was slow or died) reads itself. Without a
   * lock, or when the lock cannot be shared (Redis down), this replica reads.
   */
  private async acrossReplicas<T>(key: string, isFresh: (entry: CacheEntry<T> | undefined) => boolean, load: () => Promise<T>): Promise<T> {
    const lock = this.options.lock;
    if (lock === undefined) return load();
    const held = await lock.tryAcquire(key, this.options.settings.budgetMs);
    if (held !== undefined) {
      try {
        // Another replica may have read, stored and released between our miss and our lock.
        const entry = await this.options.store.get<T>(key);
        if (isFresh(entry)) return entry!.value;
        return await load();
      } finally {
        void held.release();
      }
    }
    const outcome = await lock.waitFor(key, { timeoutMs: Math.min(REPLICA_WAIT_MS, this.options.settings.budgetMs) });
    if (outcome === 'released') {
      const entry = await this.options.store.get<T>(key);
      if (isFresh(entry)) return entry!.value;
    }
    return load();
  }

  /**
   * Values by key, for batched lookups: fresh ones from the store, the others in ONE upstream call
   * (keys another request is already reading join that request's call), each missing one stale if
   * it can be, else its failure. `null` is "does not exist": kept only when `keepNull`.
   */
  private async readMany<V extends EntityRecord>(
    what: string,
    keys: readonly string[],
    ttlMs: number,
    scope: RequestScope,
    operation: string,
    fetch: (missing: number[]) => Promise<(V | null | Error)[]>,
    keepNull = false,
  ): Promise<(V | null | Error)[]> {
    const policy = scope.policy;
    const entries = await Promise.all(keys.map((k) => this.options.store.get<V | null>(k)));
    const out: (V | null | Error)[] = keys.map(() => null);
    const waiting: { index: number; flight: Flight<V | null> }[] = [];
    const toFetch: number[] = [];
    keys.forEach((key, i) => {
      const entry = entries[i];
      if (entry !== undefined && this.fresh(entry, ttlMs, policy)) {
        this.emit(what, 'hit');
        out[i] = entry.value === null ? null : stamp(entry.value, { asOf: entry.at, stale: false });
        return;
      }
      const running = this.running<V | null>(key);
      if (running !== undefined) {
        this.emit(what, 'coalesced');
        waiting.push({ index: i, flight: running });
      } else toFetch.push(i);
    });
    if (toFetch.length > 0) {
      const group: Group = { controller: new AbortController(), waiters: 0 };
      const batch = withRequestSignal(group.controller.signal, () => fetch(toFetch));
      batch.catch(() => undefined);
      toFetch.forEach((index, j) => {
        const flight = this.flight(
          what,
          keys[index]!,
          async () => {
            const value = (await batch)[j] ?? null;
            if (value instanceof Error) throw value;
            return value;
          },
          group,
          // Not-found answers are not kept unless asked: a new entity must be found at once.
          (value) => keepNull || value !== null,
        );
        waiting.push({ index, flight });
      });
    }
    if (waiting.length === 0) return out;
    const staleAll = waiting.every(({ index }) => {
      const entry = entries[index];
      return entry !== undefined && this.usableStale(entry, this.budgetError(operation), policy);
    });
    const settled = await this.waitFor(
      waiting.map((w) => w.flight),
      this.budgetFor(what, policy, staleAll),
    );
    if (settled.some((r) => r === undefined)) this.missedBudget(what);
    waiting.forEach(({ index }, j) => {
      const result = settled[j];
      if (result?.status === 'fulfilled') {
        const { value, at } = result.value;
        out[index] = value === null ? null : stamp(value, { asOf: at, stale: false });
        return;
      }
      const error = result === undefined ? this.budgetError(operation) : result.reason;
      const entry = entries[index];
      if (entry !== undefined && this.usableStale(entry, error, policy)) {
        this.emit(what, 'stale');
        out[index] = entry.value === null ? null : stamp(entry.value, { asOf: entry.at, stale: true, cause: error as Error });
      } else {
        out[index] = error instanceof Error ? error : new Error(String(error));
      }
    });
    return out;
  }
}
