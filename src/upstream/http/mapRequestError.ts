import { type UpstreamError, type UpstreamErrorInit, UpstreamTimeoutError, UpstreamTlsError, UpstreamUnreachableError } from '../errors.js';

/** Node/OpenSSL codes meaning "could not talk to the server at all"; all are marked retryable. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EPIPE: 'broken pipe',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  ECONNABORTED: 'connection aborted',
};

/** Certificate failures (OpenSSL verify codes as Node reports them) and TLS protocol failures. */
const TLS_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** Network failures worth retrying for an idempotent request: the request most likely never reached the application. */
const RETRY_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** Timeouts of phases before the request was sent; a slow answer (`response`, `request`) is not retried. */
const RETRY_TIMEOUT_EVENTS: ReadonlySet<string> = new Set(['lookup', 'connect', 'secureConnect']);

interface GotLikeError {
  name?: string;
  code?: string;
  message?: string;
  event?: string;
}

function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.startsWith('CERT_');
}

/**
 * Whether a failed idempotent request may be sent again.
 *
 * @param err error thrown by got
 */
export function isRetryableNetworkError(err: unknown): boolean {
  const e = err as GotLikeError;
  if (e?.name === 'TimeoutError') return RETRY_TIMEOUT_EVENTS.has(e.event ?? '');
  return typeof e?.code === 'string' && RETRY_CODES.has(e.code);
}

/** Context of the failed call, plus the configured timeouts for the message. */
export interface RequestErrorContext extends Omit<UpstreamErrorInit, 'cause' | 'detail'> {
  /** Timeout per got phase name, in milliseconds. */
  timeouts: Readonly<Record<string, number>>;
}

/** got's phase names, in the words of our options. */
const PHASE: Readonly<Record<string, string>> = { request: 'total', response: 'response', connect: 'connect', secureConnect: 'connect', lookup: 'connect' };

/**
 * Map an error thrown by got (no HTTP status involved) to an {@link UpstreamError}:
 * timeouts to UPSTREAM_TIMEOUT, certificate and TLS failures to UPSTREAM_TLS_ERROR (not
 * retryable: it needs configuration), connection failures to UPSTREAM_UNREACHABLE (retryable).
 * Anything else is reported as unreachable and not retryable.
 *
 * @param err error thrown by got
 * @param ctx the call
 */
export function mapRequestError(err: unknown, ctx: RequestErrorContext): UpstreamError {
  const e = (err ?? {}) as GotLikeError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const base: UpstreamErrorInit = { ...ctx, cause: err };
  if (e.name === 'TimeoutError') {
    const phase = PHASE[e.event ?? ''] ?? e.event ?? 'total';
    const timeoutMs = ctx.timeouts[e.event ?? ''];
    return new UpstreamTimeoutError({
      ...base,
      phase,
      ...(timeoutMs !== undefined && { timeoutMs }),
      detail: `timeout: no ${phase === 'total' ? 'complete answer' : phase === 'response' ? 'first byte' : 'connection'} within ${timeoutMs ?? '?'} ms`,
    });
  }
  if (code !== undefined && isTlsCode(code)) {
    return new UpstreamTlsError({ ...base, detail: `TLS failure (${code}): check tls.ca or the server certificate` });
  }
  if (code !== undefined && UNREACHABLE[code] !== undefined) {
    return new UpstreamUnreachableError({ ...base, detail: `${UNREACHABLE[code]} (${code})` });
  }
  return new UpstreamUnreachableError({ ...base, retryable: false, detail: `request failed (${code ?? e.name ?? 'unknown error'})` });
}
