/** One request as the simulator saw it. Never holds a credential: headers are not recorded at all. */
export interface RequestLogEntry {
  seq: number;
  method: string;
  path: string;
  /** The raw query string without the leading `?` (Veeam puts no secret in a query string). */
  query: string;
  /** The route template, e.g. `GET /api/query?type=BackupServer` or `GET /v8/RestoreSessions/{id}`. */
  template: string;
  status: number;
  /** What a fault did to this request, if anything: `status`, `reset`, `hang`, `malformed`, `slow`. */
  fault?: string;
}

/** A snapshot of the counters, also served as JSON by `GET /_sim/stats`. */
export interface RequestStats {
  total: number;
  /** Counts by `METHOD template`. */
  byTemplate: Record<string, number>;
  /** Counts by HTTP status. */
  byStatus: Record<string, number>;
  /** EM logon sessions created (successful `POST /api/sessionMngr`). */
  logons: number;
  /** EM logon sessions deleted. */
  logoffs: number;
  /** VB365 access tokens issued (password and refresh grants). */
  tokens: number;
}

/** Per-instance request log and counters, so tests prove batching by counting, not by reading code. */
export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;
  private counters = { logons: 0, logoffs: 0, tokens: 0 };
  /** Bounded so a long benchmark does not grow memory without end; counters stay exact. */
  private readonly maxEntries: number;
  private total = 0;
  private byTemplate = new Map<string, number>();
  private byStatus = new Map<string, number>();

  constructor(maxEntries = 100_000) {
    this.maxEntries = maxEntries;
  }

  record(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const full: RequestLogEntry = { seq: ++this.seq, ...entry };
    this.entries.push(full);
    if (this.entries.length > this.maxEntries) this.entries.splice(0, this.entries.length - this.maxEntries);
    this.total++;
    this.byTemplate.set(entry.template, (this.byTemplate.get(entry.template) ?? 0) + 1);
    const status = String(entry.status);
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    return full;
  }

  countEvent(kind: 'logons' | 'logoffs' | 'tokens'): void {
    this.counters[kind]++;
  }

  /** All retained entries, oldest first. */
  all(): readonly RequestLogEntry[] {
    return this.entries;
  }

  /**
   * How many requests match. `template` is matched exactly against `METHOD template`;
   * a RegExp is tested against `METHOD path?query`.
   */
  count(match?: string | RegExp): number {
    if (match === undefined) return this.total;
    if (typeof match === 'string') return this.byTemplate.get(match) ?? 0;
    return this.entries.filter((e) => match.test(`${e.method} ${e.path}${e.query ? `?${e.query}` : ''}`)).length;
  }

  stats(): RequestStats {
    return {
      total: this.total,
      byTemplate: Object.fromEntries([...this.byTemplate].sort(([a], [b]) => a.localeCompare(b))),
      byStatus: Object.fromEntries(this.byStatus),
      ...this.counters,
    };
  }

  reset(): void {
    this.entries = [];
    this.total = 0;
    this.byTemplate.clear();
    this.byStatus.clear();
    this.counters = { logons: 0, logoffs: 0, tokens: 0 };
  }
}
