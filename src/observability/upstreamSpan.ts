import { context, createContextKey, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';

/** Instrumentation scope of every span of the gateway. */
export const TRACER_NAME = 'veeam-graph';

let cached: { provider: TracerProvider; tracer: Tracer } | undefined;

/** The gateway's tracer from the API's global provider (its proxy's delegate: a new SDK after a restart gets a new tracer). */
export function gatewayTracer(): Tracer {
  const proxy = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  const provider = proxy.getDelegate?.() ?? proxy;
  if (cached?.provider !== provider) cached = { provider, tracer: provider.getTracer(TRACER_NAME) };
  return cached.tracer;
}

/** What an authentication request is, for the span (`veeam.auth`). */
export type UpstreamAuthKind = 'logon' | 'relogon' | 'refresh' | 'logoff';

const GUID = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;
/** A path segment kept as it is: a resource name (letters, `_`, `-`) or an API version (`v8`). Anything else is an id. */
const STATIC_SEGMENT = /^(?:[A-Za-z][A-Za-z_-]{0,63}|v\d{1,3})$/;
/** The one query value kept: EM's query-service `type` (`RestoreSession`), a type name. */
const TYPE_VALUE = /^[A-Za-z]{1,64}$/;
const MIN_SECRET_LENGTH = 4;

/**
 * The route template of a request URL, as the simulators name theirs (`/api/query?type=RestoreSession`,
 * `/api/backupServers/{id}`, `/v8/RestoreSessions/{id}/Events`): every path segment that is not a
 * plain resource name (GUIDs, URNs, numbers, anything with digits or punctuation) becomes `{id}`,
 * a trailing `/` is dropped (but for a lone `/api/`), and of the query only EM's `type` stays; ids,
 * filters, page sizes and any token in a query never reach a span.
 */
export function routeTemplate(url: URL): string {
  const raw = url.pathname.split('/');
  const segments = raw.map((s, i) => {
    if (s === '' && (i === 0 || i === raw.length - 1)) return s;
    let decoded: string;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      return '{id}';
    }
    return !GUID.test(decoded) && STATIC_SEGMENT.test(decoded) ? decoded : '{id}';
  });
  let path = segments.join('/');
  if (path.length > 1 && path.endsWith('/') && segments.filter((s) => s !== '').length > 1) path = path.slice(0, -1);
  const type = url.searchParams.get('type');
  return type !== null && TYPE_VALUE.test(type) ? `${path}?type=${type}` : path;
}

/**
 * Whether a request is a logon, a token renewal or a logoff, from its method, template and form:
 * EM `POST /api/sessionMngr`, `DELETE /api/logonSessions/{id}`; VB365 `POST /vN/token` (a
 * `refresh_token` grant is a renewal), `POST /vN/token/logout`. A logon after this client already
 * logged on once is a re-logon (an expired or revoked session or token).
 */
export function authKindOf(method: string, template: string, form: Record<string, string> | undefined, loggedOnBefore: boolean): UpstreamAuthKind | undefined {
  const t = template.toLowerCase();
  if (method === 'DELETE' && /\/logonsessions\/\{id\}$/.test(t)) return 'logoff';
  if (method !== 'POST') return undefined;
  if (t.endsWith('/token/logout')) return 'logoff';
  if (t.endsWith('/token')) {
    if (form?.grant_type === 'refresh_token') return 'refresh';
    return loggedOnBefore ? 'relogon' : 'logon';
  }
  if (t.endsWith('/sessionmngr')) return loggedOnBefore ? 'relogon' : 'logon';
  return undefined;
}

/** A logon (EM `POST .../sessionMngr`, VB365 password grant `POST /vN/token`): what makes a later one a re-logon. Cheap for GETs. */
export function isLogonRequest(method: string, url: URL, form: Record<string, string> | undefined): boolean {
  if (method !== 'POST') return false;
  if (/\/sessionmngr\/?$/i.test(url.pathname)) return true;
  return /\/token\/?$/i.test(url.pathname) && form?.grant_type !== 'refresh_token';
}

/** One attempt of a call, as the HTTP client observes it. */
export interface UpstreamAttempt {
  attempt: number;
  status?: number;
  errorCode?: string;
  willRetry: boolean;
}

interface UpstreamSpanState {
  span: Span;
  attempts: number;
}

/** The upstream span of the call in progress (set only inside {@link TracedUpstreamCall.run}). */
const UPSTREAM_SPAN = createContextKey('veeam-graph.upstream-span');

/** A started upstream span. */
export interface TracedUpstreamCall {
  /** Runs the call with the span active (log lines inside carry its span_id), ending it with the outcome. */
  run<T extends { status: number; attempts: number }>(call: () => Promise<T>): Promise<T>;
}

/**
 * Starts the client span of one upstream HTTP call, as a child of the active span (the GraphQL
 * operation). Nothing is started, and nothing costs, when no span is active or it records nothing:
 * tracing off, an unsampled operation, or a call made outside any operation (readiness and circuit
 * probes, live pollers, logoff at shutdown).
 *
 * Attributes: `veeam.server`, `http.request.method`, `url.template` (see {@link routeTemplate};
 * never the URL), `server.address`/`server.port`, `veeam.auth` for logons; on the end
 * `http.response.status_code`, `http.request.resend_count` and `error.type` when it failed.
 *
 * @param secrets the client's known secrets: a template that would contain one is not recorded
 */
export function startUpstreamSpan(request: {
  server: string;
  method: string;
  url: URL;
  form?: Record<string, string>;
  loggedOnBefore: boolean;
  secrets: readonly string[];
}): TracedUpstreamCall | undefined {
  const parentContext = context.active();
  const parent = trace.getSpan(parentContext);
  if (parent === undefined || !parent.isRecording()) return undefined;
  const { method, url } = request;
  let template = routeTemplate(url);
  if (request.secrets.some((s) => s.length >= MIN_SECRET_LENGTH && template.includes(s))) template = '{redacted}';
  const auth = authKindOf(method, template, request.form, request.loggedOnBefore);
  const attributes: Attributes = {
    'veeam.server': request.server,
    'http.request.method': method,
    'url.template': template,
    'server.address': url.hostname,
    'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    ...(auth !== undefined && { 'veeam.auth': auth }),
  };
  const span = gatewayTracer().startSpan(`${method} ${template}`, { kind: SpanKind.CLIENT, attributes }, parentContext);
  const state: UpstreamSpanState = { span, attempts: 0 };
  const active = trace.setSpan(parentContext, span).setValue(UPSTREAM_SPAN, state);
  return {
    async run(call) {
      try {
        const res = await context.with(active, call);
        span.setAttributes({ 'http.response.status_code': res.status, 'http.request.resend_count': res.attempts - 1 });
        if (res.status >= 400) span.setAttributes({ 'error.type': String(res.status) });
        if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
        return res;
      } catch (err) {
        const code = (err as { code?: unknown } | undefined)?.code;
        span.setAttributes({
          'error.type': typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown',
          'http.request.resend_count': Math.max(0, state.attempts - 1),
        });
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },
  };
}

/**
 * Records one attempt on the upstream span of the call in progress, if any: the count for
 * `http.request.resend_count`, and an `http.retry` event (attempt, status or error code) when
 * another attempt follows.
 */
export function recordUpstreamAttempt(attempt: UpstreamAttempt): void {
  const state = context.active().getValue(UPSTREAM_SPAN) as UpstreamSpanState | undefined;
  if (state === undefined) return;
  state.attempts = attempt.attempt;
  if (!attempt.willRetry) return;
  state.span.addEvent('http.retry', {
    'http.request.resend_count': attempt.attempt,
    ...(attempt.status !== undefined && { 'http.response.status_code': attempt.status }),
    ...(attempt.errorCode !== undefined && { 'error.type': attempt.errorCode }),
  });
}
