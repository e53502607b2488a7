import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleepMs } from 'node:timers/promises';
import got, { type Got, type Method } from 'got';
import { currentRequestSignal } from './requestSignal.js';
import { isLogonRequest, recordUpstreamAttempt, startUpstreamSpan } from '../../observability/upstreamSpan.js';
import pino, { type Logger } from 'pino';
import { RETRYABLE_STATUSES, UpstreamCircuitOpenError, type UpstreamError } from '../errors.js';
import { redactSecrets, safePath } from '../redactSecrets.js';
import { CircuitBreaker, type CircuitOutcome, type CircuitState, type CircuitTransition, type RemoteCircuit } from './CircuitBreaker.js';
import { HTTP_DEFAULTS, type HttpSettings } from './httpDefaults.js';
import { RetryBudget } from './RetryBudget.js';
import { isRetryableNetworkError, mapRequestError } from './mapRequestError.js';
import { backoffDelay, parseRetryAfter } from './retryDelay.js';
import { createUpstreamLogger } from './upstreamLogger.js';
import { userAgent } from './userAgent.js';

/** TLS settings of one server (design.md section 8). */
export interface HttpTlsOptions {
  /** PEM content (not a path) of the CA(s) to trust instead of the system store. */
  ca?: string;
  /** Skip certificate verification. Explicit, per server, and logged once at warn. */
  insecure?: boolean;
}

/**
 * Retry options of {@link createHttpClient}: the config's `retry` names, each missing one from
 * `HTTP_DEFAULTS.retry`, plus a knob for tests.
 */
export interface HttpRetryOptions extends Partial<HttpSettings['retry']> {
  /** Uniform random source in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
}

/** One finished attempt, for metrics and tests. */
export interface HttpRequestEvent {
  server: string;
  method: string;
  /** Safe path (no secrets), relative to the origin. */
  path: string;
  /** HTTP status; absent when no response arrived. */
  status?: number;
  /** Attempt duration in milliseconds. */
  ms: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** Upstream error code when the attempt failed without a response. */
  errorCode?: string;
  /** Whether another attempt follows. */
  willRetry: boolean;
}

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /** Configured server name; appears in logs, metrics and errors. */
  name: string;
  /** API base, e.g. `https://em-hq.corp:9398/api` or `https://vbo-eu.corp:4443`. */
  baseUrl: string;
  tls?: HttpTlsOptions;
  /** Per-phase timeouts in ms; each missing one from `HTTP_DEFAULTS.timeouts` (connectMs 5000, responseMs 15000, totalMs 30000). */
  timeouts?: Partial<HttpSettings['timeouts']>;
  /** GET/HEAD retry policy; each missing field from `HTTP_DEFAULTS.retry`. */
  retry?: HttpRetryOptions;
  /** Socket pool; `maxSockets` default 8 (`HTTP_DEFAULTS.concurrency`). */
  concurrency?: Partial<HttpSettings['concurrency']>;
  /** Parent logger; a child with `server` and redaction is derived. Default: silent. */
  logger?: Logger;
  /** Called after every attempt; exceptions thrown by it are ignored. */
  onRequest?: (event: HttpRequestEvent) => void;
  /** Called on every change of the circuit breaker (replicas share them). */
  onCircuit?: (transition: CircuitTransition) => void;
  /** Known secrets (password...) to scrub from errors; more can be added with `addSecret`. */
  secrets?: readonly string[];
  /** Clock in epoch ms, for deadlines and `Retry-After` dates. Default `Date.now`. */
  now?: () => number;
  /** Sleep between retries. Default a timer; tests inject a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /** Version in the User-Agent. Default from package.json. */
  version?: string;
  /**
   * Circuit breaker of this server; each missing field from `HTTP_DEFAULTS.circuitBreaker` (5
   * consecutive outage failures, 2 s cooldown doubling up to 60 s; an unset ceiling never sits
   * below a raised cooldown).
   */
  circuitBreaker?: Partial<HttpSettings['circuitBreaker']>;
}

type SearchParamsInit = URLSearchParams | Record<string, string | number | boolean | undefined>;

/** One request. Non-2xx statuses are returned, not thrown, so clients handle auth themselves. */
export interface HttpRequest {
  /** Default GET. Only GET and HEAD are retried. */
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * Path relative to the base URL (`query`, `sessionMngr/`), root-relative (`/v6/RestoreSessions`,
   * VB365 links from v6 on), or an absolute href from the server. An absolute href is re-based onto
   * the configured origin: credentials are never sent to a host that was not configured, and EM
   * hrefs name the host as EM sees itself (`https://localhost:9398/...` in Veeam's own samples).
   */
  path: string;
  /** Added to (and overriding) the query string of `path`. */
  searchParams?: SearchParamsInit;
  headers?: Record<string, string | undefined>;
  body?: string | Buffer;
  /** `application/x-www-form-urlencoded` body (VB365 `/token`). */
  form?: Record<string, string>;
  json?: unknown;
  /** Default `text`. */
  responseType?: 'text' | 'buffer';
  signal?: AbortSignal;
}

export interface HttpResponse<B> {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: B;
  /** Safe path of the final request (for errors). */
  path: string;
  /** Attempts made (1 = no retry). */
  attempts: number;
  /** Wall time of the whole call in ms, retries included. */
  ms: number;
}

/** The typed HTTP surface the EM and VB365 clients stand on. One per configured server. */
export interface HttpClient {
  readonly name: string;
  /** Normalised base (always ends with `/`). */
  readonly baseUrl: URL;
  request(req: HttpRequest & { responseType?: 'text' }): Promise<HttpResponse<string>>;
  request(req: HttpRequest & { responseType: 'buffer' }): Promise<HttpResponse<Buffer>>;
  /**
   * Absolute URL for a path as {@link HttpRequest.path} describes.
   *
   * @throws {TypeError} when the path cannot be parsed
   */
  resolve(path: string, searchParams?: SearchParamsInit): URL;
  /**
   * Register a secret to scrub from errors and logs. Rotating ones (tokens, session ids) are kept
   * in a bounded set (the newest 32); `permanent` ones (credentials) are never dropped.
   */
  addSecret(secret: string | undefined, permanent?: boolean): void;
  /** Current secrets, for errors built by the caller. */
  secrets(): readonly string[];
  /** State of this server's circuit breaker (health reports). */
  circuit(): CircuitState;
  /** Adopts another replica's breaker state of this server (`CircuitBreaker.adopt`). */
  adoptCircuit(remote: RemoteCircuit): void;
  /** Close pooled sockets. */
  close(): void;
}

/** The part of got's response we use (got types the body by `responseType`, which varies here). */
interface RawResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string | Buffer;
}

/** Secrets remembered per server; tokens rotate, old ones may still appear in late errors. */
const MAX_SECRETS = 32;
/**
 * Statuses that mean "the server is not answering" for the circuit breaker: a proxy or load
 * balancer in front of a dead or restarting server. 429 and 500 are the server itself answering.
 */
const OUTAGE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);
/** Error codes that mean the same when no response came. A TLS failure is configuration, not an outage. */
const OUTAGE_CODES: ReadonlySet<string> = new Set(['UPSTREAM_UNREACHABLE', 'UPSTREAM_TIMEOUT']);

function assertPem(ca: string, name: string): void {
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TypeError(`${name}: tls.ca must be PEM content (-----BEGIN CERTIFICATE-----), not a path or DER`);
  }
}

/**
 * Create the HTTP client of one upstream server: one `got.extend` instance with keep-alive agents
 * capped at `concurrency.maxSockets`, TLS verification on by default, per-phase timeouts, and
 * retries for idempotent requests only (GET/HEAD on connection failures, 429, 502, 503, 504), with
 * exponential backoff and full jitter, `Retry-After` honoured up to a cap, and a per-server retry
 * budget. POST is never retried: an EM logon or VB365 token request must not run twice.
 *
 * A per-server {@link CircuitBreaker} sits in front: after consecutive outage failures (no answer,
 * timeout, 502/503/504 after retries) calls fail at once with `UPSTREAM_CIRCUIT_OPEN` without
 * touching the network until a single probe, sent without retries, finds the server back.
 *
 * Every policy option takes the config file's names ({@link HttpSettings}); what is not given comes
 * from `HTTP_DEFAULTS`, the only defaults.
 *
 * @param options server name, base URL, TLS, timeouts (ms), retry policy, pool size, circuit breaker, logging hooks
 * @returns the client; call `close()` when the server is removed
 * @throws {TypeError} on an invalid base URL or a `tls.ca` that is not PEM
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const name = options.name;
  const baseUrl = new URL(options.baseUrl);
  if (!baseUrl.pathname.endsWith('/')) baseUrl.pathname = `${baseUrl.pathname}/`;
  baseUrl.search = '';
  baseUrl.hash = '';
  baseUrl.username = '';
  baseUrl.password = '';

  const logger = createUpstreamLogger(options.logger ?? pino({ level: 'silent' }), name);
  const timeouts = withDefaults(HTTP_DEFAULTS.timeouts, options.timeouts);
  const { random = Math.random, ...retryGiven } = options.retry ?? {};
  const retry = withDefaults(HTTP_DEFAULTS.retry, retryGiven);
  const budget = new RetryBudget({ ratio: retry.budgetRatio, capacity: retry.budgetCapacity });
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => sleepMs(ms).then(() => undefined));
  const { maxSockets } = withDefaults(HTTP_DEFAULTS.concurrency, options.concurrency);
  // The breaker fills in its own defaults (from HTTP_DEFAULTS): an unset ceiling follows a raised cooldown.
  const breaker = new CircuitBreaker(options.circuitBreaker ?? {}, now, (transition) => {
    options.onCircuit?.(transition);
    const { from, to, state } = transition;
    const at = {
      openedAt: iso(state.openedAt),
      until: iso(state.until),
      lastFailureCode: state.lastFailureCode,
      ...(transition.remote && { adoptedFromReplica: true }),
    };
    if (to === 'open')
      logger.warn(
        { circuit: to, from, ...at, consecutiveFailures: state.consecutiveFailures },
        'circuit opened: calls to this server fail fast until the cooldown ends',
      );
    else if (to === 'half-open') logger.info({ circuit: to, ...at }, 'circuit half-open: the next call probes the server');
    else logger.info({ circuit: to, from }, 'circuit closed: the server answers again');
  });
  // Secrets given at construction (the password) are permanent; rotating ones (tokens, session ids)
  // live in a bounded set, so a long-running gateway neither grows without end nor forgets the password.
  const permanentSecrets = new Set<string>((options.secrets ?? []).filter((s) => s.length > 0));
  const secretSet = new Set<string>();

  const tls = options.tls ?? {};
  if (tls.ca !== undefined) assertPem(tls.ca, name);
  if (tls.insecure) {
    logger.warn({ server: name }, 'TLS certificate verification is DISABLED for this server (tls.insecure: true); traffic can be intercepted');
  }
  const rejectUnauthorized = !tls.insecure;
  // Node >= 19 agents honour the server's `Keep-Alive: timeout=N` hint and retire idle sockets
  // before the server closes them, which avoids most ECONNRESETs on reused sockets (POSTs are not retried).
  const agent = {
    http: new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, rejectUnauthorized, ...(tls.ca !== undefined && { ca: tls.ca }) }),
  };

  const instance: Got = got.extend({
    agent,
    https: { rejectUnauthorized, ...(tls.ca !== undefined && { certificateAuthority: tls.ca }) },
    headers: { 'user-agent': userAgent(options.version) },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    decompress: true,
    timeout: { lookup: timeouts.connectMs, connect: timeouts.connectMs, secureConnect: timeouts.connectMs, response: timeouts.responseMs },
  });
  /** Timeout per got phase, for error messages. */
  const phaseTimeouts: Record<string, number> = {
    lookup: timeouts.connectMs,
    connect: timeouts.connectMs,
    secureConnect: timeouts.connectMs,
    response: timeouts.responseMs,
    request: timeouts.totalMs,
  };

  // Every request redacts its path with the secrets: the list is built when addSecret changes it, not per call.
  let secretList: readonly string[] | undefined;
  function secrets(): readonly string[] {
    return (secretList ??= Object.freeze([...permanentSecrets, ...secretSet]));
  }

  function resolve(path: string, searchParams?: SearchParamsInit): URL {
    const target = new URL(path, baseUrl);
    // Re-basing parses again; a target already on the configured origin with nothing to drop (user-info,
    // fragment, an empty `?`) and no `//` path (which re-basing would read as a host) is that URL already.
    const last = target.href.charCodeAt(target.href.length - 1);
    const url =
      target.origin === baseUrl.origin &&
      baseUrl.origin !== 'null' &&
      target.username === '' &&
      target.password === '' &&
      target.hash === '' &&
      last !== 35 /* # */ &&
      last !== 63 /* ? */ &&
      !target.pathname.startsWith('//')
        ? target
        : new URL(`${target.pathname}${target.search}`, baseUrl.origin);
    if (target.origin !== baseUrl.origin) {
      logger.debug({ hrefOrigin: target.origin }, 'absolute href from another origin re-based onto the configured server');
    }
    if (searchParams !== undefined) {
      const entries = searchParams instanceof URLSearchParams ? [...searchParams.entries()] : Object.entries(searchParams);
      for (const [k, v] of entries) if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url;
  }

  function observe(event: HttpRequestEvent): void {
    recordUpstreamAttempt(event);
    if (!options.onRequest) return;
    try {
      options.onRequest(event);
    } catch {
      // a metrics hook must never break a request
    }
  }

  // Tracing: whether this client logged on before (a later logon is a re-logon on its span).
  let loggedOn = false;

  /** One call, in the span of its own when the operation calling it is traced (src/observability/upstreamSpan.ts). */
  async function request(req: HttpRequest): Promise<HttpResponse<string | Buffer>> {
    const method = req.method ?? 'GET';
    const url = resolve(req.path, req.searchParams);
    const traced = startUpstreamSpan({ server: name, method, url, form: req.form, loggedOnBefore: loggedOn, secrets: secrets() });
    const res = await (traced === undefined ? call(req, method, url) : traced.run(() => call(req, method, url)));
    if (!loggedOn && res.status >= 200 && res.status < 300 && isLogonRequest(method, url, req.form)) loggedOn = true;
    return res;
  }

  async function call(req: HttpRequest, method: string, url: URL): Promise<HttpResponse<string | Buffer>> {
    // Registered secrets are scrubbed from the path too: EM's logoff URL carries the logon-session
    // id (`DELETE /api/logonSessions/{id}`), and the token is often base64 of that id (docs/veeam-wire.md Part 1 section 2).
    const path = redactSecrets(safePath(url), secrets());
    const idempotent = method === 'GET' || method === 'HEAD';
    // A read the memory layer may cancel carries its signal here (idempotent requests only).
    const signal = req.signal ?? (idempotent ? currentRequestSignal() : undefined);
    const permit = breaker.tryAcquire();
    if (permit === undefined) throw circuitOpen(method, path);
    // The probe is one request: retrying it would send several to a server that just failed.
    const retryLimit = permit.probe ? 0 : retry.limit;
    let outcome: CircuitOutcome = { kind: 'neutral' };
    try {
      const res = await send(signal === req.signal ? req : { ...req, signal }, method, url, path, idempotent, retryLimit);
      outcome = OUTAGE_STATUSES.has(res.status) ? { kind: 'failure', code: 'UPSTREAM_HTTP_ERROR' } : { kind: 'success' };
      return res;
    } catch (err) {
      const code = (err as Partial<UpstreamError> | undefined)?.code;
      if (!signal?.aborted && code !== undefined && OUTAGE_CODES.has(code)) outcome = { kind: 'failure', code };
      throw err;
    } finally {
      breaker.record(permit, outcome);
    }
  }

  function circuitOpen(method: string, path: string): UpstreamCircuitOpenError {
    const state = breaker.snapshot();
    return new UpstreamCircuitOpenError({
      source: name,
      method,
      path,
      secrets: secrets(),
      openedAt: iso(state.openedAt) ?? '?',
      until: iso(state.until) ?? '?',
      lastCauseCode: state.lastFailureCode,
      probeInFlight: state.probeInFlight,
    });
  }

  async function send(
    req: HttpRequest,
    method: string,
    url: URL,
    path: string,
    idempotent: boolean,
    retryLimit: number,
  ): Promise<HttpResponse<string | Buffer>> {
    const signal = req.signal;
    const start = now();
    const deadline = start + timeouts.totalMs;
    const headers: Record<string, string> = {};
    const given = req.headers;
    if (given !== undefined) {
      for (const k of Object.keys(given)) {
        const v = given[k];
        if (v !== undefined) headers[k] = v;
      }
    }
    budget.deposit();

    for (let attempt = 1; ; attempt++) {
      const attemptStart = now();
      const remaining = Math.max(1, deadline - attemptStart);
      let response: RawResponse;
      try {
        response = (await instance(url, {
          method: method as Method,
          headers,
          responseType: req.responseType ?? 'text',
          timeout: { request: remaining },
          ...(req.body !== undefined && { body: req.body }),
          ...(req.form !== undefined && { form: req.form }),
          ...(req.json !== undefined && { json: req.json }),
          ...(signal !== undefined && { signal }),
        })) as RawResponse;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const ms = now() - attemptStart;
        const error: UpstreamError = mapRequestError(err, { source: name, method, path, timeouts: phaseTimeouts, secrets: secrets() });
        const delay =
          idempotent && attempt <= retryLimit && isRetryableNetworkError(err) ? backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs, random) : undefined;
        const willRetry = delay !== undefined && now() + delay < deadline && budget.tryWithdraw();
        observe({ server: name, method, path, ms, attempt, errorCode: error.code, willRetry });
        if (willRetry) {
          logger.info({ method, path, ms, attempt, delayMs: delay, code: error.code }, 'upstream request failed, retrying');
          await sleep(delay as number);
          continue;
        }
        logger.warn({ method, path, ms, attempt, err: error.toJSON() }, 'upstream request failed');
        throw error;
      }

      const ms = now() - attemptStart;
      const status = response.statusCode;
      let delay: number | undefined;
      if (idempotent && attempt <= retryLimit && RETRYABLE_STATUSES.has(status)) {
        const retryAfter = parseRetryAfter(response.headers['retry-after'], now());
        delay =
          retryAfter === undefined
            ? backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs, random)
            : retryAfter <= retry.maxRetryAfterMs
              ? retryAfter
              : undefined;
      }
      const willRetry = delay !== undefined && now() + delay < deadline && budget.tryWithdraw();
      observe({ server: name, method, path, status, ms, attempt, willRetry });
      if (willRetry) {
        logger.info({ method, path, status, ms, attempt, delayMs: delay }, 'upstream answered with a retryable status, retrying');
        await sleep(delay as number);
        continue;
      }
      logger.debug({ method, path, status, ms, attempt }, 'upstream request');
      return { status, headers: response.headers, body: response.body, path, attempts: attempt, ms: now() - start };
    }
  }

  return {
    name,
    baseUrl,
    request: request as HttpClient['request'],
    resolve,
    addSecret(secret, permanent = false) {
      if (!secret || permanentSecrets.has(secret)) return;
      secretList = undefined;
      if (permanent) {
        secretSet.delete(secret);
        permanentSecrets.add(secret);
        return;
      }
      secretSet.delete(secret);
      secretSet.add(secret);
      while (secretSet.size > MAX_SECRETS) secretSet.delete(secretSet.values().next().value as string);
    },
    secrets,
    circuit: () => breaker.snapshot(),
    adoptCircuit: (remote) => breaker.adopt(remote),
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

/** `defaults` with every field `given` sets (an explicit `undefined` keeps the default). */
function withDefaults<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined): T {
  const out = { ...defaults } as T;
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  return out;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
