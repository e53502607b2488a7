import got from 'got';
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';

/** The identity provider's key set could not be had (no answer, too slow, not a key set): the gateway's problem, not the caller's. */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
}

export interface RemoteKeySetOptions {
  /** The gateway's clock (epoch ms): the key set's age and the refetch cooldown run on it, as token expiry does. */
  now: () => number;
  /** Refetched when older than this, ms. */
  maxAgeMs: number;
  /** An unknown `kid` refetches at most this often, ms: a stream of made-up kids cannot hammer the IdP. */
  cooldownMs: number;
  /** Bound on one fetch, ms. */
  timeoutMs: number;
  /** How long past `maxAgeMs` the keys fetched before still verify while refetches fail, ms (`auth.jwt.jwksMaxStaleS`). */
  maxStaleMs: number;
  /** PEM of the CA that signed the IdP's certificate (`auth.jwt.ca`), for a private PKI. */
  ca?: string | undefined;
  logger: Logger;
}

/**
 * jose's `getKey` over a remote JWKS (`auth.jwt.jwksUrl`). jose's own `createRemoteJWKSet` keeps
 * its cache on `Date.now` and fetches with Node's `fetch`, which takes no CA; this one keeps the
 * gateway's clock (testable) and fetches with got (TLS verification on, `ca` honoured). Keys are
 * chosen by jose (`createLocalJWKSet` over the fetched set).
 *
 * - Fetched on first use, again once older than `maxAgeMs`, and at once for a token whose `kid`
 *   is unknown (a rotated key) unless the last fetch is younger than `cooldownMs`.
 * - Concurrent needs share one fetch.
 * - A refetch that fails keeps the keys it has for at most `maxStaleMs` past their age (an IdP
 *   blip does not lock every user out); without keys, or past that, {@link JwksUnavailableError}.
 */
export function createRemoteKeySet(url: URL, options: RemoteKeySetOptions): JWTVerifyGetKey & { fetches(): number } {
  let keys: JWTVerifyGetKey | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  let fetches = 0;

  const load = async (): Promise<void> => {
    fetches++;
    attemptedAt = options.now();
    let body: unknown;
    try {
      body = await got(url, {
        headers: { accept: 'application/json' },
        timeout: { request: options.timeoutMs },
        retry: { limit: 0 },
        ...(options.ca !== undefined && { https: { certificateAuthority: options.ca } }),
      }).json();
    } catch (err) {
      throw new JwksUnavailableError(`JWKS ${url.origin}${url.pathname}: ${(err as Error).message}`);
    }
    const set = body as Partial<JSONWebKeySet> | null;
    if (set === null || typeof set !== 'object' || !Array.isArray(set.keys))
      throw new JwksUnavailableError(`JWKS ${url.origin}${url.pathname}: no "keys" array`);
    keys = createLocalJWKSet(set as JSONWebKeySet);
    fetchedAt = options.now();
  };
  const refresh = async (): Promise<void> => {
    inFlight ??= load().finally(() => (inFlight = undefined));
    try {
      await inFlight;
    } catch (err) {
      // Past the stale bound a signing key the IdP may have revoked is not trusted any longer.
      if (keys === undefined || options.now() - fetchedAt > options.maxAgeMs + options.maxStaleMs) throw err;
      options.logger.warn({ err: { message: (err as Error).message } }, 'JWKS refetch failed; verifying with the keys fetched before');
    }
  };

  const getKey = (async (header, token) => {
    if (keys === undefined || (options.now() - fetchedAt >= options.maxAgeMs && options.now() - attemptedAt >= options.cooldownMs)) await refresh();
    try {
      return await keys!(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || options.now() - attemptedAt < options.cooldownMs) throw err;
      await refresh();
      return keys!(header, token);
    }
  }) as JWTVerifyGetKey & { fetches(): number };
  getKey.fetches = () => fetches;
  return getKey;
}
