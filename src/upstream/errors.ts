import { redactSecrets, safePath } from './redactSecrets.js';

/** Stable machine-readable codes of upstream failures (design.md section 7). */
export type UpstreamErrorCode =
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_HTTP_ERROR'
  | 'UPSTREAM_AUTH_FAILED'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_TLS_ERROR'
  | 'UPSTREAM_CIRCUIT_OPEN';

/** What every upstream error knows about the call that failed. */
export interface UpstreamErrorInit {
  /** Configured server name (`em-hq`), never a URL with credentials. */
  source: string;
  /** HTTP method, upper case. */
  method: string;
  /** Path and query relative to the server origin; secret-looking query values are masked again here. */
  path: string;
  /** HTTP status when a response arrived. */
  status?: number;
  /** Whether trying again later may succeed (the graph exposes it as `extensions.retryable`). */
  retryable?: boolean;
  /** The upstream's own error text (EM `Message`, VB365 `message`, OAuth `error_description`). */
  upstreamMessage?: string;
  /** The upstream's own error code (VB365 `errorCode`, OAuth `error`, EM `StatusCode`). */
  upstreamCode?: string;
  /** Delay the server asked for (`Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** The underlying failure; stored only in sanitised form (see {@link sanitizeCause}). */
  cause?: unknown;
  /** Extra secrets to scrub from message and properties (token, password, session id). */
  secrets?: ReadonlyArray<string | undefined>;
  /** Human detail after the arrow when there is no HTTP status, e.g. `connection refused`. */
  detail?: string;
}

/** Safe, JSON-ready view of an {@link UpstreamError}: what logs and GraphQL extensions may carry. */
export interface UpstreamErrorJson {
  name: string;
  code: UpstreamErrorCode;
  message: string;
  source: string;
  method: string;
  path: string;
  status?: number;
  retryable: boolean;
  upstreamMessage?: string;
  upstreamCode?: string;
  retryAfterMs?: number;
  cause?: { name: string; code?: string; message: string };
}

/** Statuses a later attempt may answer differently (overload, gateway trouble). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Longest upstream message we quote; a proxy's HTML error page is not a message. */
const MAX_UPSTREAM_MESSAGE = 500;
/** Longest path we quote in a message (EM batch filters can be 2 kB). */
const MAX_PATH_IN_MESSAGE = 300;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/**
 * Turn any thrown value into a plain `Error` that keeps only name, code and a scrubbed message.
 * got's `RequestError` carries `options` (with the `Authorization` header) and the request; none of
 * that may ride along as `cause` into a log serializer.
 *
 * @param cause anything thrown
 * @param secrets values to scrub from the message
 * @returns a new `Error` (never the original object), or undefined for undefined input
 */
export function sanitizeCause(cause: unknown, secrets: ReadonlyArray<string | undefined> = []): Error | undefined {
  if (cause === undefined || cause === null) return undefined;
  const src = cause as { name?: unknown; message?: unknown; code?: unknown };
  const message = typeof src.message === 'string' ? src.message : String(cause);
  const safe = new Error(redactSecrets(clip(message, 1000), secrets));
  safe.name = typeof src.name === 'string' ? src.name : 'Error';
  if (typeof src.code === 'string') (safe as Error & { code?: string }).code = src.code;
  return safe;
}

/**
 * Base class of every failure the upstream layer reports. The message reads
 * `em-hq: GET /api/query?type=RestoreSession -> HTTP 503: <upstream message>` and, like every
 * property, never contains a password, token, session id or Basic header.
 */
export class UpstreamError extends Error {
  /** Stable code, see {@link UpstreamErrorCode}. */
  readonly code: UpstreamErrorCode;
  readonly source: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly upstreamMessage: string | undefined;
  readonly upstreamCode: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: UpstreamErrorCode, init: UpstreamErrorInit, defaultRetryable: boolean) {
    const secrets = init.secrets ?? [];
    const path = safePath(init.path);
    const upstreamMessage = init.upstreamMessage === undefined ? undefined : redactSecrets(clip(init.upstreamMessage, MAX_UPSTREAM_MESSAGE), secrets);
    const what =
      init.status !== undefined
        ? `HTTP ${init.status}${upstreamMessage ? `: ${upstreamMessage}` : ''}`
        : (init.detail ?? code.toLowerCase().replace(/_/g, ' '));
    const message = redactSecrets(`${init.source}: ${init.method} ${clip(path, MAX_PATH_IN_MESSAGE)} -> ${what}`, secrets);
    super(message, { cause: sanitizeCause(init.cause, secrets) });
    this.name = new.target.name;
    this.code = code;
    this.source = init.source;
    this.method = init.method;
    this.path = redactSecrets(path, secrets);
    this.status = init.status;
    this.retryable = init.retryable ?? defaultRetryable;
    this.upstreamMessage = upstreamMessage;
    this.upstreamCode = init.upstreamCode === undefined ? undefined : redactSecrets(init.upstreamCode, secrets);
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Safe serialisation (also what `JSON.stringify` and pino use). */
  toJSON(): UpstreamErrorJson {
    const cause = this.cause as (Error & { code?: string }) | undefined;
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      source: this.source,
      method: this.method,
      path: this.path,
      ...(this.status !== undefined && { status: this.status }),
      retryable: this.retryable,
      ...(this.upstreamMessage !== undefined && { upstreamMessage: this.upstreamMessage }),
      ...(this.upstreamCode !== undefined && { upstreamCode: this.upstreamCode }),
      ...(this.retryAfterMs !== undefined && { retryAfterMs: this.retryAfterMs }),
      ...(cause && { cause: { name: cause.name, ...(cause.code !== undefined && { code: cause.code }), message: cause.message } }),
    };
  }
}

/** Connection refused, reset, DNS failure, broken pipe: the server could not be talked to. Retryable. */
export class UpstreamUnreachableError extends UpstreamError {
  constructor(init: UpstreamErrorInit) {
    super('UPSTREAM_UNREACHABLE', init, true);
  }
}

/** A connect, first-byte or total timeout elapsed. Retryable. */
export class UpstreamTimeoutError extends UpstreamError {
  /** Timeout that fired, in milliseconds. */
  readonly timeoutMs: number | undefined;
  /** Phase that timed out (`connect`, `response`, `request` = total...). */
  readonly phase: string | undefined;

  constructor(init: UpstreamErrorInit & { timeoutMs?: number; phase?: string }) {
    super('UPSTREAM_TIMEOUT', init, true);
    this.timeoutMs = init.timeoutMs;
    this.phase = init.phase;
  }
}

/** A non-success HTTP status other than an authentication failure. Retryable for 429/502/503/504 by default. */
export class UpstreamHttpError extends UpstreamError {
  constructor(init: UpstreamErrorInit & { status: number }) {
    super('UPSTREAM_HTTP_ERROR', { ...init, retryable: init.retryable ?? RETRYABLE_STATUSES.has(init.status) }, false);
  }
}

/** Logon refused or the session could not be (re)established. Not retryable without operator action. */
export class UpstreamAuthError extends UpstreamError {
  constructor(init: UpstreamErrorInit) {
    super('UPSTREAM_AUTH_FAILED', init, false);
  }
}

/** A body that does not decode: bad XML/JSON, wrong root element, missing required field. */
export class UpstreamBadResponseError extends UpstreamError {
  constructor(init: UpstreamErrorInit) {
    super('UPSTREAM_BAD_RESPONSE', init, false);
  }
}

/** Certificate not trusted, expired, or for another host. Not retryable: it needs configuration. */
export class UpstreamTlsError extends UpstreamError {
  constructor(init: UpstreamErrorInit) {
    super('UPSTREAM_TLS_ERROR', init, false);
  }
}

/** When and why a server's circuit is open, as {@link UpstreamCircuitOpenError} reports it. */
export interface CircuitOpenInfo {
  /** When the outage opened the circuit, ISO 8601. */
  openedAt: string;
  /** When the current cooldown ends, ISO 8601 (the first call after it probes the server). */
  until: string;
  /** Code of the failure that last (re)opened it, e.g. `UPSTREAM_TIMEOUT`. */
  lastCauseCode: string | undefined;
  /** Whether the one half-open probe is in flight (the cooldown has ended). */
  probeInFlight: boolean;
}

/** The breaker for this server is open; the call was not attempted. Retryable (later). */
export class UpstreamCircuitOpenError extends UpstreamError {
  readonly openedAt: string;
  readonly until: string;
  readonly lastCauseCode: string | undefined;

  constructor(init: Omit<UpstreamErrorInit, 'detail'> & CircuitOpenInfo) {
    const last = init.lastCauseCode === undefined ? '' : ` (last failure: ${init.lastCauseCode})`;
    const detail = init.probeInFlight
      ? `circuit half-open since ${init.until} (open since ${init.openedAt})${last}: a probe request is in flight; not sent`
      : `circuit open since ${init.openedAt} until ${init.until}${last}; not sent`;
    super('UPSTREAM_CIRCUIT_OPEN', { ...init, detail }, true);
    this.openedAt = init.openedAt;
    this.until = init.until;
    this.lastCauseCode = init.lastCauseCode;
  }
}

/**
 * Type guard for any upstream error.
 *
 * @param value anything caught
 * @returns true for instances of {@link UpstreamError} and its subclasses
 */
/**
 * An `UpstreamError` again from its `toJSON()` form (an error that crossed a process, e.g. a
 * live poller's SOURCE_DOWN published by another replica): the same code, message and fields.
 */
export function upstreamErrorFromJson(json: UpstreamErrorJson): UpstreamError {
  const error = new UpstreamError(
    json.code,
    {
      source: json.source,
      method: json.method,
      path: json.path,
      ...(json.status !== undefined && { status: json.status }),
      retryable: json.retryable,
      ...(json.upstreamMessage !== undefined && { upstreamMessage: json.upstreamMessage }),
      ...(json.upstreamCode !== undefined && { upstreamCode: json.upstreamCode }),
      ...(json.retryAfterMs !== undefined && { retryAfterMs: json.retryAfterMs }),
    },
    json.retryable,
  );
  Object.defineProperty(error, 'message', { value: json.message, enumerable: false, writable: true, configurable: true });
  Object.defineProperty(error, 'name', { value: json.name, enumerable: false, writable: true, configurable: true });
  return error;
}

export function isUpstreamError(value: unknown): value is UpstreamError {
  return value instanceof UpstreamError;
}
