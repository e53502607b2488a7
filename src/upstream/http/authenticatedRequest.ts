/**
 * Why {@link authenticatedRequest} refuses a response: `forbidden` for a 403 (the credential is
 * valid but not allowed), `refused-after-renewal` for a 401 to the replay right after a fresh
 * credential (renewing again would not help, and would hammer the auth endpoint).
 */
export type AuthRefusal = 'forbidden' | 'refused-after-renewal';

/** What {@link authenticatedRequest} needs: the request and the client's credential holder. */
export interface AuthenticatedRequest<C, R extends { status: number }> {
  /** The credential to send, obtaining one when there is none (the holder's single flight). */
  current(): Promise<C>;
  /** Send the request once with this credential; any status resolves (non-2xx is not thrown). */
  send(credential: C): Promise<R>;
  /**
   * A replacement for `stale`, which just got a 401. The holder renews once however many callers
   * saw the 401 with the same credential (single flight stays in the session / token manager).
   */
  renew(stale: C): Promise<C>;
  /** The error to throw for an auth refusal. */
  authError(res: R, why: AuthRefusal): Error;
  /** Called with the first 401, before renewing (a log line). */
  onUnauthorized?(res: R): void;
  /** Called with the new credential once renewed, before the replay. */
  onRenewed?(credential: C): void;
}

/**
 * An authenticated request with renew-on-401 and one replay, shared by the EM and VB365 clients:
 * send with the current credential; on 401 renew once and replay once. A 401 to the replay and a
 * 403 to either attempt are the client's auth error; every other response is returned for the
 * caller to judge (2xx, or its own `httpErrorFromResponse`). Errors of `current`, `renew` and
 * `send` propagate unchanged.
 *
 * @param request credential accessors, sender and error factory
 * @returns the response, neither 401 nor 403
 */
export async function authenticatedRequest<C, R extends { status: number }>(request: AuthenticatedRequest<C, R>): Promise<R> {
  let credential = await request.current();
  let res = await request.send(credential);
  if (res.status === 401) {
    request.onUnauthorized?.(res);
    credential = await request.renew(credential);
    request.onRenewed?.(credential);
    res = await request.send(credential);
    if (res.status === 401) throw request.authError(res, 'refused-after-renewal');
  }
  if (res.status === 403) throw request.authError(res, 'forbidden');
  return res;
}
