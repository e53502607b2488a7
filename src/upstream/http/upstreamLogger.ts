import type { Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they sit in a logged object. */
const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'x-restsvcsessionid',
  'X-RestSvcSessionId',
  'password',
  'access_token',
  'refresh_token',
  'assertion',
  'token',
];

function keyPath(prefix: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${prefix}${prefix ? '.' : ''}${key}` : `${prefix}["${key}"]`;
}

/**
 * pino redaction paths for upstream logging: the secret keys at the top level and up to three
 * levels deep (`headers.authorization`, `req.headers.authorization`, `options.headers.cookie`...).
 * pino's redaction has no recursive wildcard, hence the explicit depths.
 */
export const UPSTREAM_REDACT_PATHS: readonly string[] = ['', '*', '*.*', '*.*.*'].flatMap((prefix) => SECRET_KEYS.map((key) => keyPath(prefix, key)));

/**
 * Child logger for one upstream server: binds `server` and adds the redaction paths.
 *
 * @param parent application logger
 * @param server configured server name
 */
export function createUpstreamLogger(parent: Logger, server: string): Logger {
  return parent.child({ server }, { redact: { paths: [...UPSTREAM_REDACT_PATHS], censor: '[REDACTED]' } });
}
