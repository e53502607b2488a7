import { UpstreamHttpError } from './errors.js';
import { extractUpstreamMessage } from './extractUpstreamMessage.js';
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
 * message (EM `<Error Message>`, VB365 `message`/`errorCode`, OAuth `error_description`) is quoted,
 * redacted; retryable for 429/502/503/504; `Retry-After` carried as `retryAfterMs`.
 *
 * @param source configured server name
 * @param method HTTP method
 * @param response the response
 * @param secrets values to scrub (password, token, session id)
 * @param nowMs current time in epoch ms for a `Retry-After` date; default `Date.now()`
 */
export function httpErrorFromResponse(
  source: string,
  method: string,
  response: ErrorResponseLike,
  secrets: readonly string[] = [],
  nowMs: number = Date.now(),
): UpstreamHttpError {
  const { message, code } = extractUpstreamMessage(response.body);
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
