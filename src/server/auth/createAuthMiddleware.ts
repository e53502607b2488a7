import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Scope } from './authSettings.js';
import type { AuthOutcome, Authenticator } from './createAuthenticator.js';
import { hasScope, type Principal } from './Principal.js';

/** The principal of a request that passed {@link createAuthMiddleware} (`res.locals.principal`). */
export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

const REALM = 'Bearer realm="veeam-graph"';

/** A GraphQL-shaped error body, so GraphQL clients show the message. */
function fail(res: Response, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res
    .status(status)
    .set({ 'cache-control': 'no-store', ...headers })
    .json({ errors: [{ message, extensions: { code } }] });
}

/**
 * Answers a failed authentication. Neither answer says which keys exist or why a token failed
 * (expired, wrong audience): the gateway log says that.
 */
export function rejectUnauthenticated(res: Response, outcome: Extract<AuthOutcome, { ok: false }>): void {
  if (outcome.reason === 'unavailable') {
    fail(res, 503, 'AUTH_UNAVAILABLE', 'Credentials cannot be verified right now (the identity provider did not answer); retry later.', { 'retry-after': '5' });
  } else if (outcome.reason === 'missing') {
    fail(res, 401, 'UNAUTHENTICATED', 'Authentication required: send "Authorization: Bearer <API key or token>".', { 'www-authenticate': REALM });
  } else {
    fail(res, 401, 'UNAUTHENTICATED', 'Invalid credentials.', { 'www-authenticate': `${REALM}, error="invalid_token"` });
  }
}

/**
 * What the middleware calls when it refuses a request: the failed-attempt limit (true: it
 * answered already) and the metrics. `forbidden`: valid credentials without the scope.
 */
export type OnAuthFailure = (req: Request, res: Response, reason: Extract<AuthOutcome, { ok: false }>['reason'] | 'forbidden') => boolean;

/**
 * Express middleware: authenticates the request (`Authorization: Bearer`), answers 401/503 when
 * that fails and 403 (`FORBIDDEN`) when the principal lacks `scope`; otherwise puts the principal
 * in `res.locals.principal` for the routes after it. CORS preflights (`OPTIONS`) pass: they carry
 * no credentials by definition, and answer nothing.
 */
export function createAuthMiddleware(authenticator: Authenticator, scope: Scope, onFailure?: OnAuthFailure): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'OPTIONS') return next();
    authenticator.authenticate(req.headers.authorization).then(
      (outcome) => {
        if (!outcome.ok) {
          if (onFailure?.(req, res, outcome.reason)) return;
          return rejectUnauthenticated(res, outcome);
        }
        if (!hasScope(outcome.principal, scope)) {
          onFailure?.(req, res, 'forbidden');
          return fail(res, 403, 'FORBIDDEN', `These credentials lack the "${scope}" scope.`);
        }
        res.locals.principal = outcome.principal;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}

/**
 * The principal of a request on an open route (`/readyz`), or undefined when it has no valid
 * credentials: such a route answers anyway, with less detail.
 */
export async function identify(authenticator: Authenticator, req: Request): Promise<Principal | undefined> {
  const outcome = await authenticator.authenticate(req.headers.authorization);
  return outcome.ok ? outcome.principal : undefined;
}
