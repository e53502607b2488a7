const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text to unpadded base64url. */
export function toBase64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/**
 * Strict decoding of unpadded base64url: null unless `encoded` is the canonical encoding of its
 * bytes. Node's decoder silently skips foreign characters and ignores non-zero trailing bits, so
 * many strings would decode to the same bytes; opaque ids and cursors must have one spelling only.
 */
export function bytesFromBase64url(encoded: string): Buffer | null {
  if (!BASE64URL.test(encoded)) return null;
  const bytes = Buffer.from(encoded, 'base64url');
  return bytes.toString('base64url') === encoded ? bytes : null;
}

/** Strict inverse of `toBase64url`: null for anything that is not canonical base64url of valid UTF-8. */
export function fromBase64url(encoded: string): string | null {
  const bytes = bytesFromBase64url(encoded);
  if (bytes === null) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
