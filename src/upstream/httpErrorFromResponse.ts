import { UpstreamAuthError, UpstreamHttpError } from './errors.js';
import { extractUpstreamMessage, type UpstreamMessage, type UpstreamMessageExtractor } from './extractUpstreamMessage.js';
import { parseRetryAfter } from './http/retryDelay.js';

/** What {@link httpErrorFromResponse} needs of a response. */
export interface ErrorResponseLike {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string | Buffer;
  /** Safe path, as `HttpResponse.path`. */
  path: string;
}

/**
 * Build the `UpstreamHttpError` for a non-success response the client does not handle itself
 * (401/403 are the client's: it re-logs on or raises `UpstreamAuthError`). The upstream's own
 * message, as the client's `extractMessage` reads it (EM `<Error Message>` with `extractEmMessage`;
 * VB365 `message`/`errorCode` and OAuth `error_description` with the default), is quoted,
 * redacted; retryable for 429/502/503/504; `Retry-After` carried as `retryAfterMs`.
 *
 * @param source configured server name
 * @param method HTTP method
 * @param response the response
 * @param secrets values to scrub (password, token, session id)
 * @param nowMs current time in epoch ms for a `Retry-After` date; default `Date.now()`
 * @param extractMessage reads the upstream's message and code from the body; default the shared
 *   JSON-only {@link extractUpstreamMessage}
 */
export function httpErrorFromResponse(
  source: string,
  method: string,
  response: ErrorResponseLike,
  secrets: readonly string[] = [],
  nowMs: number = Date.now(),
  extractMessage: UpstreamMessageExtractor = extractUpstreamMessage,
): UpstreamHttpError {
  const { message, code } = extractMessage(response.body);
  const retryAfterMs = parseRetryAfter(response.headers['retry-after'], nowMs);
  return new UpstreamHttpError({
    source,
    method,
    path: response.path,
    status: response.status,
    secrets,
    ...(message !== undefined && { upstreamMessage: message }),
    ...(code !== undefined && { upstreamCode: code }),
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });
}

/**
 * The `UpstreamAuthError` of a GET the server refused (a `401` to the replay after a renewal, or a
 * `403`), quoting the server's own message and code, redacted.
 *
 * @param upstream the message and code the client extracted from the body, plus its own note
 */
export function authErrorFromResponse(
  source: string,
  response: Pick<ErrorResponseLike, 'status' | 'path'>,
  secrets: readonly string[],
  upstream: UpstreamMessage,
): UpstreamAuthError {
  return new UpstreamAuthError({
    source,
    method: 'GET',
    path: response.path,
    status: response.status,
    secrets,
    ...(upstream.message !== undefined && { upstreamMessage: upstream.message }),
    ...(upstream.code !== undefined && { upstreamCode: upstream.code }),
  });
}
