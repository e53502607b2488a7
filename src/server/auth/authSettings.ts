import type { JSONWebKeySet } from 'jose';

/**
 * What a principal may do. `read` runs queries; `admin` also sees upstream URLs, `lastError`
 * details and upstream paths in error messages, and may run documents outside the allowlist
 * (GraphiQL, introspection); `metrics` reads `/metrics`; `operate` is reserved for actions
 * (restores, retries) in a later version. `admin` includes `read` and `metrics`.
 */
export const SCOPES = ['read', 'admin', 'operate', 'metrics'] as const;
export type Scope = (typeof SCOPES)[number];

/** An API key as the gateway keeps it: only the SHA-256 digest of the key, never the key. */
export interface ApiKeySettings {
  name: string;
  /** Lowercase hex SHA-256 of the key as clients send it. */
  sha256: string;
  scopes: readonly Scope[];
}

/** JWT bearer tokens, verified with `jose`. */
export interface JwtSettings {
  issuer: string | string[];
  audience: string | string[];
  /** Keys from a file (read at start) or from a URL (cached; refetched for an unknown `kid`). */
  jwks: { keys: JSONWebKeySet } | { url: string };
  algorithms: string[];
  /** Claim holding the scopes: a space-separated string (`scope`, RFC 8693) or an array (`scp`, `roles`). */
  scopesClaim: string;
  /** Accepted clock difference for `exp`/`nbf`/`iat`, seconds. */
  clockToleranceS: number;
  /** Shortest time between two JWKS fetches caused by unknown `kid`s, seconds. */
  jwksCooldownS: number;
  /** How long past their 10 minutes remote keys still verify while the JWKS cannot be fetched, seconds. */
  jwksMaxStaleS: number;
  /** PEM of the CA that signed the JWKS server's certificate (`auth.jwt.ca`, read at load); default the system's. */
  ca?: string;
}

/**
 * Client authentication of the gateway (config `auth`):
 * - `unset`: no `auth` key. Anyone who reaches the listener may do anything, so the gateway only
 *   listens on a loopback address (the demo, a developer's machine).
 * - `none`: open on purpose (`auth.mode: none`); anonymous callers get `anonymousScopes`. Warned at every start.
 * - `required`: every `/graphql` request carries an API key or a JWT.
 */
export interface AuthSettings {
  mode: 'unset' | 'none' | 'required';
  apiKeys: readonly ApiKeySettings[];
  jwt: JwtSettings | undefined;
  /** `/metrics` without credentials. */
  metricsPublic: boolean;
  /** Scopes of a caller without credentials (all of them when `unset`). */
  anonymousScopes: readonly Scope[];
}

/** The default of `auth.jwt`'s optional keys. */
export const JWT_DEFAULTS = {
  algorithms: ['RS256', 'ES256', 'EdDSA'],
  scopesClaim: 'scope',
  clockToleranceS: 30,
  jwksCooldownS: 30,
  jwksMaxStaleS: 86_400,
} as const;

/** Anonymous scopes with `auth.mode: none` when `anonymousScopes` is not given: queries and metrics, no upstream details. */
export const OPEN_ANONYMOUS_SCOPES: readonly Scope[] = ['read', 'metrics'];

/** No `auth` key: everything, for a loopback listener. */
export const UNSET_AUTH: AuthSettings = { mode: 'unset', apiKeys: [], jwt: undefined, metricsPublic: true, anonymousScopes: SCOPES };
