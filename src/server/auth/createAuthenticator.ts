import { createHash, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { SCOPES, type AuthSettings, type Scope } from './authSettings.js';
import type { Principal } from './Principal.js';
import { createRemoteKeySet, JwksUnavailableError } from './createRemoteKeySet.js';

/** The outcome of reading a request's credentials. */
export type AuthOutcome =
  | { ok: true; principal: Principal }
  /** `missing`: no credential where one is required; `invalid`: a credential that does not verify; `unavailable`: the JWKS could not be fetched. */
  | { ok: false; reason: 'missing' | 'invalid' | 'unavailable' };

export interface Authenticator {
  /** Whether a request without credentials is let in (as `anonymous`). */
  readonly open: boolean;
  /** Checks an `Authorization` header value. Never logs or returns the credential. */
  authenticate(authorization: string | undefined): Promise<AuthOutcome>;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function scopesOf(claim: unknown): Set<Scope> {
  const values = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  return new Set(values.filter((v): v is Scope => typeof v === 'string' && (SCOPES as readonly string[]).includes(v)));
}

/**
 * Client authentication (config `auth`): `Authorization: Bearer <credential>`, where the
 * credential is one of the API keys (compared as SHA-256 digests, in constant time, against every
 * key so the time says nothing about which one came close) or a JWT verified with `jose`
 * (signature against the JWKS, `iss`, `aud`, `exp` required, `nbf`, clock skew bounded).
 *
 * A remote JWKS is fetched on first use, kept for 10 minutes, and fetched again at once when a
 * token names an unknown `kid` (a rotated key), at most once per `jwksCooldownS`, on the gateway's
 * clock and with `auth.jwt.ca` (see createRemoteKeySet).
 *
 * @param now the clock `exp`/`nbf` are checked against (default `Date.now`)
 */
export function createAuthenticator(settings: AuthSettings, options: { logger: Logger; now?: () => number }): Authenticator {
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'auth' });
  const anonymous: Principal = { id: 'anonymous', via: 'anonymous', scopes: new Set(settings.anonymousScopes) };
  const keys = settings.apiKeys.map((k) => ({
    digest: Buffer.from(k.sha256, 'hex'),
    principal: { id: `key:${k.name}`, via: 'api-key', scopes: new Set(k.scopes) } as Principal,
  }));
  const jwt = settings.jwt;
  let getKey: JWTVerifyGetKey | undefined;
  if (jwt !== undefined) {
    getKey =
      'url' in jwt.jwks
        ? createRemoteKeySet(new URL(jwt.jwks.url), {
            now,
            maxAgeMs: 600_000,
            maxStaleMs: jwt.jwksMaxStaleS * 1000,
            cooldownMs: jwt.jwksCooldownS * 1000,
            timeoutMs: 5000,
            ca: jwt.ca,
            logger: log,
          })
        : createLocalJWKSet(jwt.jwks.keys);
  }

  const byApiKey = (credential: string): Principal | undefined => {
    const digest = sha256(credential);
    let found: Principal | undefined;
    for (const k of keys) if (timingSafeEqual(digest, k.digest) && found === undefined) found = k.principal;
    return found;
  };

  const byJwt = async (token: string): Promise<AuthOutcome> => {
    try {
      const { payload } = await jwtVerify(token, getKey!, {
        issuer: jwt!.issuer,
        audience: jwt!.audience,
        algorithms: jwt!.algorithms,
        clockTolerance: jwt!.clockToleranceS,
        currentDate: new Date(now()),
        requiredClaims: ['exp'],
      });
      return { ok: true, principal: principalOf(payload) };
    } catch (err) {
      // The IdP's failure (no answer, a JWKS that is no key set) is not the caller's: 503, not 401.
      if (
        err instanceof JwksUnavailableError ||
        !(err instanceof joseErrors.JOSEError) ||
        err instanceof joseErrors.JWKSTimeout ||
        err instanceof joseErrors.JWKSInvalid
      ) {
        log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'JWKS unavailable; token not verified');
        return { ok: false, reason: 'unavailable' };
      }
      // The reason, never the token: `ERR_JWT_EXPIRED`, `ERR_JWT_CLAIM_VALIDATION_FAILED` (aud, iss), `ERR_JWKS_NO_MATCHING_KEY`...
      log.info({ reason: err.code, ...(err instanceof joseErrors.JWTClaimValidationFailed && { claim: err.claim }) }, 'JWT rejected');
      return { ok: false, reason: 'invalid' };
    }
  };

  const principalOf = (payload: JWTPayload): Principal => ({
    id: `jwt:${typeof payload.sub === 'string' ? payload.sub.slice(0, 128) : 'unknown'}`,
    via: 'jwt',
    scopes: scopesOf(payload[jwt!.scopesClaim]),
  });

  return {
    open: settings.mode !== 'required',
    async authenticate(authorization) {
      // Open modes have no credentials to check (the config refuses keys with mode none): a header is ignored.
      if (settings.mode !== 'required') return { ok: true, principal: anonymous };
      if (authorization === undefined || authorization.trim() === '') return { ok: false, reason: 'missing' };
      const credential = BEARER.exec(authorization)?.[1];
      if (credential === undefined) return { ok: false, reason: 'invalid' };
      const keyPrincipal = byApiKey(credential);
      if (keyPrincipal !== undefined) return { ok: true, principal: keyPrincipal };
      if (getKey !== undefined && JWT_SHAPE.test(credential)) return byJwt(credential);
      return { ok: false, reason: 'invalid' };
    },
  };
}
