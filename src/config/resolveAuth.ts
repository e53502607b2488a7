import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { JWT_DEFAULTS, OPEN_ANONYMOUS_SCOPES, UNSET_AUTH, type AuthSettings, type JwtSettings } from '../server/auth/authSettings.js';
import type { RawConfig, Secret } from './configSchema.js';

/** What resolving the `auth` key needs from `parseConfig`. */
export interface AuthResolveContext {
  /** The config file's base name, for messages. */
  label: string;
  /** Directory relative paths are resolved from. */
  dir: string;
  resolveSecret(secret: Secret, at: string): Promise<string>;
  problems: string[];
  warnings: string[];
  /** The files read (absolute paths), for `--watch-config`. */
  files: Set<string>;
}

/** Keys shorter than this are guessable by brute force over the network. */
const MIN_API_KEY_LENGTH = 16;

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The `auth` key resolved: API keys reduced to their SHA-256 digests (the key itself is dropped
 * here), a JWKS file read and checked, and the combinations that make no sense reported.
 */
export async function resolveAuth(raw: RawConfig['auth'], ctx: AuthResolveContext): Promise<AuthSettings> {
  if (raw === undefined) return UNSET_AUTH;
  const { label, problems } = ctx;
  const hasCredentials = (raw.apiKeys?.length ?? 0) > 0 || raw.jwt !== undefined;
  const mode = raw.mode ?? (hasCredentials ? 'required' : undefined);
  if (mode === undefined) {
    problems.push(`auth: expected apiKeys or jwt, or mode: none to serve without authentication on purpose (${label})`);
    return UNSET_AUTH;
  }
  if (mode === 'none' && hasCredentials) problems.push(`auth.mode: none cannot be combined with apiKeys or jwt (${label})`);
  if (mode === 'required' && !hasCredentials) problems.push(`auth.mode: required needs apiKeys or jwt (${label})`);
  if (mode === 'required' && raw.anonymousScopes !== undefined) problems.push(`auth.anonymousScopes: only with auth.mode: none (${label})`);

  const apiKeys: { name: string; sha256: string; scopes: AuthSettings['anonymousScopes'] }[] = [];
  const names = new Map<string, number>();
  const digests = new Map<string, number>();
  for (const [i, k] of (raw.apiKeys ?? []).entries()) {
    const at = `auth.apiKeys[${i}]`;
    const first = names.get(k.name);
    if (first !== undefined) problems.push(`${at}.name: duplicate key name "${k.name}" (also auth.apiKeys[${first}].name) (${label})`);
    names.set(k.name, i);
    let sha256 = k.sha256?.toLowerCase();
    if (k.key !== undefined) {
      const key = await ctx.resolveSecret(k.key, `${at}.key`);
      if (key !== '' && key.length < MIN_API_KEY_LENGTH) problems.push(`${at}.key: at least ${MIN_API_KEY_LENGTH} characters (${label})`);
      sha256 = sha256Hex(key);
    }
    const same = digests.get(sha256!);
    if (same !== undefined) problems.push(`${at}: the same key as auth.apiKeys[${same}] (${label})`);
    digests.set(sha256!, i);
    apiKeys.push({ name: k.name, sha256: sha256!, scopes: k.scopes });
  }

  let jwt: JwtSettings | undefined;
  if (raw.jwt !== undefined) {
    const j = raw.jwt;
    let jwks: JwtSettings['jwks'] = { keys: { keys: [] } };
    if (j.jwksFile !== undefined) {
      ctx.files.add(path.resolve(ctx.dir, j.jwksFile));
      try {
        const parsed = JSON.parse(await readFile(path.resolve(ctx.dir, j.jwksFile), 'utf8')) as JSONWebKeySet;
        if (!Array.isArray(parsed?.keys) || parsed.keys.length === 0) problems.push(`auth.jwt.jwksFile: ${j.jwksFile} holds no "keys" array (${label})`);
        else if (parsed.keys.some((key) => 'd' in key))
          problems.push(`auth.jwt.jwksFile: ${j.jwksFile} holds a private key; give only the public keys (${label})`);
        jwks = { keys: parsed };
      } catch (err) {
        const reason = err instanceof SyntaxError ? 'not JSON' : ((err as NodeJS.ErrnoException).code ?? 'error');
        problems.push(`auth.jwt.jwksFile: cannot read ${j.jwksFile}: ${reason} (${label})`);
      }
    } else {
      jwks = { url: j.jwksUrl! };
      if (new URL(j.jwksUrl!).protocol === 'http:') ctx.warnings.push(`auth.jwt.jwksUrl: plain http; signing keys can be swapped on the way (${label})`);
    }
    jwt = {
      issuer: j.issuer,
      audience: j.audience,
      jwks,
      algorithms: j.algorithms ?? [...JWT_DEFAULTS.algorithms],
      scopesClaim: j.scopesClaim ?? JWT_DEFAULTS.scopesClaim,
      clockToleranceS: j.clockToleranceS ?? JWT_DEFAULTS.clockToleranceS,
      jwksCooldownS: j.jwksCooldownS ?? JWT_DEFAULTS.jwksCooldownS,
      jwksMaxStaleS: j.jwksMaxStaleS ?? JWT_DEFAULTS.jwksMaxStaleS,
    };
    if (j.ca !== undefined) {
      ctx.files.add(path.resolve(ctx.dir, j.ca));
      try {
        const pem = await readFile(path.resolve(ctx.dir, j.ca), 'utf8');
        if (!pem.includes('-----BEGIN CERTIFICATE-----')) problems.push(`auth.jwt.ca: ${j.ca} holds no PEM certificate (${label})`);
        else jwt.ca = pem;
      } catch (err) {
        problems.push(`auth.jwt.ca: cannot read ${j.ca}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (${label})`);
      }
    }
  }
  return {
    mode,
    apiKeys,
    jwt,
    metricsPublic: raw.metricsPublic ?? false,
    anonymousScopes: mode === 'none' ? (raw.anonymousScopes ?? OPEN_ANONYMOUS_SCOPES) : [],
  };
}
