/**
 * Defensive secret scrubbing for anything that leaves the upstream layer as text: error messages,
 * log lines, serialised errors. Two passes:
 * 1. well-known credential shapes are masked even when nobody registered them (an EM
 *    `X-RestSvcSessionId` echoed in an upstream message, a bearer token in a URL, an OAuth
 *    `access_token` in a JSON body we are quoting);
 * 2. every known secret (password, token, session id, Basic header value...) is replaced verbatim,
 *    longest first so a secret that contains another is not half-replaced.
 */

/** Replacement for a redacted value. */
export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not replaced verbatim: masking "a" would shred every message. */
const MIN_SECRET_LENGTH = 4;

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Authorization headers: `Basic dXNlcjpwYXNz`, `Bearer AQAAANCMnd8...`
  [/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+/gi, `$1 ${REDACTED}`],
  // EM session header or cookie, any case (docs/veeam-wire.md Part 1 section 2)
  [/(X-RestSvcSessionId["']?\s*[:=]\s*["']?)[^\s"';,&]+/gi, `$1${REDACTED}`],
  // key=value in query strings and form bodies
  [/\b(access_token|refresh_token|password|passwd|pwd|client_secret|assertion|integration_token|sessionid|session_id|token)=([^&\s"']+)/gi, `$1=${REDACTED}`],
  // "key": "value" in JSON bodies
  [/("(?:access_token|refresh_token|password|client_secret|assertion|integration_token|SessionId|sessionId)"\s*:\s*")(?:[^"\\]|\\.)*"/g, `$1${REDACTED}"`],
];

/**
 * Remove secrets from a text.
 *
 * @param text the text to scrub (any length; returned unchanged when it holds nothing secret)
 * @param secrets known secret values; empty, undefined and values shorter than 4 characters are
 *   ignored. Each secret is also matched in its base64 and URL-encoded forms, the forms in which
 *   EM tokens and Basic credentials travel.
 * @returns the scrubbed text
 */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  // Shapes first: a whole `Basic <base64>` goes as one unit even when the base64 of a registered
  // password happens to sit inside it.
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  for (const v of variantsOf(secrets)) {
    if (out.includes(v)) out = out.split(v).join(REDACTED);
  }
  return out;
}

/**
 * The forms to replace, longest first, computed once per secrets array: the HTTP client hands the
 * same array to every request until a secret is added, so each GET does not re-encode every token.
 */
const compiled = new WeakMap<ReadonlyArray<string | undefined>, readonly string[]>();

function variantsOf(secrets: ReadonlyArray<string | undefined>): readonly string[] {
  let out = compiled.get(secrets);
  if (out === undefined) {
    const variants = new Set<string>();
    for (const s of secrets) {
      if (!s || s.length < MIN_SECRET_LENGTH) continue;
      variants.add(s);
      variants.add(Buffer.from(s, 'utf8').toString('base64'));
      variants.add(encodeURIComponent(s));
    }
    out = [...variants].sort((a, b) => b.length - a.length);
    // Only frozen arrays are safe to remember: a caller may push to a mutable one later.
    if (Object.isFrozen(secrets)) compiled.set(secrets, out);
  }
  return out;
}

/** Query parameter names whose values never appear in a path we log or put in an error. */
const SECRET_PARAM = /token|password|passwd|pwd|secret|session|assertion|key|sig/i;

/**
 * A request path safe to log: pathname plus query string, without user-info and with the values of
 * secret-looking parameters (`access_token`, `password`, `sessionId`...) masked.
 *
 * @param url an absolute URL or a root-relative path (resolved against a dummy origin)
 * @returns `pathname?query` with masked values, e.g. `/api/query?type=RestoreSession`
 */
export function safePath(url: string | URL): string {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url, 'http://invalid.local') : url;
  } catch {
    return redactSecrets(String(url));
  }
  // Work on the raw query so everything else stays byte-for-byte as sent (EM filters are long).
  const search = u.search.replace(/([?&])([^=&]*)=([^&]*)/g, (whole, sep: string, key: string) => {
    let name = key;
    try {
      name = decodeURIComponent(key);
    } catch {
      // a malformed escape is still a name we can test
    }
    return SECRET_PARAM.test(name) ? `${sep}${key}=${REDACTED}` : whole;
  });
  return redactSecrets(`${u.pathname}${search}`);
}
