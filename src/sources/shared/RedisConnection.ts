import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { redactSecrets } from '../../upstream/redactSecrets.js';

/**
 * Where the shared store lives (issue 14, "replicas that share Redis"). Every replica of one
 * gateway uses the same `url` and `keyPrefix`; two gateways sharing one Redis use two prefixes.
 */
export interface RedisSettings {
  /** `redis://[user[:password]@]host[:port][/db]` or `rediss://...` (TLS). */
  url: string;
  /** Prepended to every key this process reads or writes (and to pub/sub channels), e.g. `veeam-graph:prod:`. */
  keyPrefix: string;
  /** TLS: `true` for the system CAs, `{ ca }` (PEM text) for a private CA. `rediss://` alone means `true`. */
  tls?: { ca?: string } | true;
  /** ACL user; overrides the URL's. */
  username?: string;
  /** Overrides the URL's. Never logged. */
  password?: string;
}

/**
 * Time limits of one connection. The request budget of the memory layer is 2500 ms and a
 * request may touch the store a few times in sequence (get, then set after the upstream read),
 * so one Redis round trip must cost a small fraction of it even when Redis is sick.
 */
export interface RedisTimeouts {
  /** TCP (and TLS) connect of one attempt. A reconnect attempt, never a request, waits for it. */
  connectTimeoutMs: number;
  /** One command's answer; past it the command fails (the store answers a miss). */
  commandTimeoutMs: number;
  /**
   * No byte received for this long while commands are waiting: the socket is dead (a frozen
   * Redis, a black-holed network), it is destroyed and the connection goes `down` and reconnects.
   */
  socketTimeoutMs: number;
  /** First reconnect delay; doubles on every failed attempt... */
  reconnectInitialMs: number;
  /** ...up to this, then stays there forever. */
  reconnectMaxMs: number;
}

/**
 * Defaults, chosen against the 2500 ms request budget:
 * - command 250 ms: a LAN Redis answers in well under 1 ms; 250 ms is already pathological, and
 *   a get plus a set that both time out still leave 2000 ms of budget for the upstream read;
 * - socket 1000 ms: four command timeouts in a row without any byte means the server is gone;
 *   the connection then reports `down` and the tiered store stops paying even the 250 ms;
 * - connect 1000 ms: enough for a TLS handshake across a data centre; it only bounds one
 *   reconnect attempt (commands never wait for a connection: the offline queue is off);
 * - reconnect 100 ms doubling to 5 s, forever: a restarted Redis is used again within seconds,
 *   a dead one costs one connect attempt per 5 s.
 */
export const REDIS_TIMEOUTS: Readonly<RedisTimeouts> = Object.freeze({
  connectTimeoutMs: 1000,
  commandTimeoutMs: 250,
  socketTimeoutMs: 1000,
  reconnectInitialMs: 100,
  reconnectMaxMs: 5000,
});

/** Health of a connection: `up` once Redis answered the handshake, `down` from the first close until it answers again. */
export type RedisState = 'up' | 'down';

/** The part of a pino logger the shared modules write to. */
export type RedisLogger = Pick<Logger, 'warn' | 'info' | 'debug'>;

/** Options of {@link RedisConnection}. */
export interface RedisConnectionOptions {
  logger: RedisLogger;
  timeouts?: Partial<RedisTimeouts>;
  /** `CLIENT SETNAME` of the connection (shows in `CLIENT LIST`). Default `veeam-graph`. */
  name?: string;
}

/**
 * Reconnect delay of attempt `attempt` (1, 2, ...): `initialMs` doubling, capped at `maxMs`.
 * No jitter: a handful of replicas reconnecting at once is nothing for Redis.
 */
export function reconnectDelayMs(
  attempt: number,
  initialMs: number = REDIS_TIMEOUTS.reconnectInitialMs,
  maxMs: number = REDIS_TIMEOUTS.reconnectMaxMs,
): number {
  const exponent = Math.min(Math.max(0, attempt - 1), 30);
  return Math.min(maxMs, initialMs * 2 ** exponent);
}

/** The URL without user-info, for logs: `redis://host:6379/0`. Unparseable input gives `(invalid redis url)`. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid redis url)';
  }
}

/**
 * The ioredis options of one connection (exported for tests): host, port, db and credentials
 * from the URL (the settings' `username`/`password` win), TLS from `rediss://` or `tls`, and the
 * fail-fast knobs: no offline queue, no retry of a command after a reconnect, a timeout on every
 * command, reconnect forever with backoff.
 *
 * @throws Error (without the URL's user-info) when the URL is not `redis://` or `rediss://`
 */
export function redisClientOptions(settings: RedisSettings, timeouts: Partial<RedisTimeouts> = {}, name = 'veeam-graph'): RedisOptions {
  const t = { ...REDIS_TIMEOUTS, ...timeouts };
  let u: URL;
  try {
    u = new URL(settings.url);
  } catch {
    throw new Error('redis: the url is not a valid URL (expected redis://host:port or rediss://host:port)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`redis: unsupported url scheme ${u.protocol} in ${safeRedisUrl(settings.url)} (expected redis:// or rediss://)`);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`redis: the database in ${safeRedisUrl(settings.url)} is not a number`);
  const username = settings.username ?? (u.username !== '' ? decodeURIComponent(u.username) : undefined);
  const password = settings.password ?? (u.password !== '' ? decodeURIComponent(u.password) : undefined);
  // `tls` given (true or an object) turns TLS on even for redis://; `rediss://` alone means system CAs.
  const tls =
    settings.tls === undefined
      ? u.protocol === 'rediss:'
        ? {}
        : undefined
      : settings.tls === true || settings.tls.ca === undefined
        ? {}
        : { ca: settings.tls.ca };
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port: u.port !== '' ? Number(u.port) : 6379,
    db,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(tls !== undefined && { tls }),
    keyPrefix: settings.keyPrefix,
    connectionName: name,
    connectTimeout: t.connectTimeoutMs,
    commandTimeout: t.commandTimeoutMs,
    socketTimeout: t.socketTimeoutMs,
    // Fail fast: a command on a connection that is not ready fails at once instead of queueing,
    // and a command caught in a dropped connection fails instead of being resent on reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt: number) => reconnectDelayMs(attempt, t.reconnectInitialMs, t.reconnectMaxMs),
    // close() of a connection that is not up ends its socket; ioredis destroys it after this (a
    // timer that would otherwise hold a stopping process for its default 2 s).
    disconnectTimeout: 200,
    // Commands issued in one tick (a batch of lookups) travel in one write.
    enableAutoPipelining: true,
  };
}

/**
 * One connection to Redis, shared by the store, the locks and the lease of a process.
 *
 * - Never queues: while Redis is unreachable every command fails at once (callers treat that as
 *   a miss / no lock / no lease); a command that gets no answer within `commandTimeoutMs` fails.
 * - Reconnects forever (100 ms doubling to 5 s).
 * - {@link state} is `down` until the first handshake succeeds and from every close until the
 *   next successful handshake. Each transition is logged once: `warn` "redis store unavailable;
 *   serving from memory" and `info` "redis store back" (the first success is "redis store
 *   connected"). Logs carry the URL without user-info; the password is never logged (errors are
 *   also passed through {@link redactSecrets}).
 */
export class RedisConnection {
  /** The command connection. Its `keyPrefix` is applied to every key (not to pub/sub channels). */
  readonly client: Redis;
  readonly keyPrefix: string;
  /** The URL without user-info. */
  readonly safeUrl: string;
  private readonly options: RedisOptions;
  private readonly secrets: readonly string[];
  private readonly listeners = new Set<(state: RedisState) => void>();
  private readonly subscribers = new Set<Redis>();
  private readonly scriptNames = new Map<string, string>();
  private current: 'starting' | RedisState = 'starting';
  private closed = false;

  constructor(
    settings: RedisSettings,
    private readonly connectionOptions: RedisConnectionOptions,
  ) {
    this.options = redisClientOptions(settings, connectionOptions.timeouts, connectionOptions.name);
    this.keyPrefix = settings.keyPrefix;
    this.safeUrl = safeRedisUrl(settings.url);
    let urlPassword: string | undefined;
    try {
      urlPassword = decodeURIComponent(new URL(settings.url).password);
    } catch {
      urlPassword = undefined;
    }
    this.secrets = Object.freeze([settings.password, urlPassword, this.options.password].filter((s): s is string => s !== undefined && s !== ''));
    this.client = new Redis(this.options);
    this.client.on('ready', () => this.transition('up'));
    this.client.on('close', () => this.transition('down'));
    this.client.on('end', () => this.transition('down'));
    this.client.on('error', (err: unknown) => this.logError(err));
  }

  /** `up` when commands can be sent now; `down` after {@link close}. */
  state(): RedisState {
    return this.current === 'up' && !this.closed ? 'up' : 'down';
  }

  /** Called on every change of {@link state} (the first connect is one: `up`; a first attempt that fails is none). Returns the unsubscribe function. */
  onStateChange(listener: (state: RedisState) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves `true` as soon as the connection is up, `false` after `timeoutMs` (startup, tests). */
  whenUp(timeoutMs: number): Promise<boolean> {
    if (this.state() === 'up') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const off = this.onStateChange((state) => {
        if (state !== 'up') return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  /**
   * A second connection with the same settings, for subscriber mode (a connection that
   * subscribed serves nothing else). Unlike the command connection it queues commands while
   * disconnected (only SUBSCRIBE/UNSUBSCRIBE go there) and re-subscribes after a reconnect.
   * Closed by {@link close}.
   */
  createSubscriber(): Redis {
    if (this.closed) throw new Error('redis: the connection is closed');
    const sub = new Redis({
      ...this.options,
      connectionName: `${this.options.connectionName ?? 'veeam-graph'}:sub`,
      enableOfflineQueue: true,
      autoResubscribe: true,
      enableAutoPipelining: false,
      // A subscribed connection receives only when someone publishes: silence is no sign of death.
      socketTimeout: undefined,
      commandTimeout: undefined,
    });
    sub.on('error', (err: unknown) => this.logError(err, 'subscriber'));
    sub.on('end', () => this.subscribers.delete(sub));
    this.subscribers.add(sub);
    return sub;
  }

  /**
   * A Lua script as a function (EVALSHA, loaded again after a Redis restart). Keys get the
   * `keyPrefix`. Like every command it fails at once while the connection is down.
   */
  script(lua: string, numberOfKeys: number): (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown> {
    let name = this.scriptNames.get(lua);
    if (name === undefined) {
      name = `vg_${createHash('sha1').update(lua).digest('hex').slice(0, 12)}`;
      this.client.defineCommand(name, { lua, numberOfKeys });
      this.scriptNames.set(lua, name);
    }
    const command = name;
    return (keys, args) => {
      const fn = (this.client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[command]!;
      return fn.call(this.client, ...keys, ...args);
    };
  }

  /** Redacts secrets from an error for a log line. */
  describeError(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    return redactSecrets(message, this.secrets);
  }

  /** Quits (QUIT when connected, else drops the socket) this connection and its subscribers; no log lines after it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await Promise.all([this.client, ...this.subscribers].map((c) => quit(c)));
    this.subscribers.clear();
  }

  private transition(next: RedisState): void {
    if (this.closed || this.current === next) return;
    const previous = this.current;
    this.current = next;
    const { logger } = this.connectionOptions;
    if (next === 'down') {
      logger.warn({ redis: this.safeUrl }, 'redis store unavailable; serving from memory');
    } else {
      logger.info({ redis: this.safeUrl }, previous === 'starting' ? 'redis store connected' : 'redis store back');
    }
    // The initial `down` is no change of state().
    if (previous === 'starting' && next === 'down') return;
    for (const listener of [...this.listeners]) {
      try {
        listener(next);
      } catch (err) {
        logger.warn({ redis: this.safeUrl, err: this.describeError(err) }, 'redis state listener failed');
      }
    }
  }

  private logError(err: unknown, connection = 'command'): void {
    if (this.closed) return;
    // Every failed reconnect attempt emits one: debug only, the transition itself is the warn.
    this.connectionOptions.logger.debug({ redis: this.safeUrl, connection, err: this.describeError(err) }, 'redis connection error');
  }
}

async function quit(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through: drop the socket
    }
  }
  client.disconnect();
}
