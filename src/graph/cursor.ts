import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { badUserInput } from './badUserInput.js';
import { bytesFromBase64url, fromBase64url, toBase64url } from './base64url.js';

/** What a cursor carries: the last item's sort key as a tuple, and the tie count of `PagePosition`. */
export interface CursorPosition {
  key: (string | number)[];
  ties: number;
}

export interface CursorCodec {
  /** An opaque cursor for `position` in the list identified by `fingerprint`. */
  encode(fingerprint: string, position: CursorPosition): string;
  /** The position of a cursor from `encode` with the same fingerprint, or `BAD_USER_INPUT`. */
  decode(cursor: string, fingerprint: string): CursorPosition;
}

export interface CursorCodecOptions {
  /**
   * Secret the signing key is derived from. Give every gateway instance behind one endpoint the
   * same secret so their cursors work on each other and survive restarts. Without it each instance
   * signs with a random key of its own: cursors then fail with `BAD_USER_INPUT` after a restart or
   * on another instance, and clients start over from the first page.
   */
  secret?: string | Uint8Array;
}

const VERSION = 1;
/** 128 bits of HMAC-SHA256 is far beyond guessing range and keeps cursors short. */
const MAC_BYTES = 16;
/** No cursor this codec issues comes near this; longer input is rejected before any work. */
const MAX_CURSOR_LENGTH = 1024;

const FOREIGN = 'Invalid cursor: it was not issued by this gateway, was altered, or was issued before the gateway restarted. Start again without `after`.';
const OTHER_LIST =
  'Invalid cursor: it belongs to a different filter, order or list. Pass the same `filter` and `orderBy` as for the page it came from, or start again without `after`.';

/**
 * Opaque, tamper-checked keyset cursors (design.md section 5): `<payload>.<mac>`, both unpadded
 * base64url, where payload is JSON `{v, f, k, t}` (version, list fingerprint, sort key tuple, tie
 * count) and mac an HMAC-SHA256 over the encoded payload. Signing matters because a cursor steers
 * the upstream requests (time bounds and limits): a forged one must not reach a server. The
 * fingerprint is inside the signed payload so a cursor replayed against another filter or order is
 * told apart from a forged one and gets its own message.
 */
export function createCursorCodec(options: CursorCodecOptions = {}): CursorCodec {
  if (options.secret !== undefined && options.secret.length === 0) throw new Error('createCursorCodec: the secret must not be empty');
  // HKDF so that a human-chosen secret is never used as a key directly and the key is bound to this use.
  const key =
    options.secret === undefined
      ? randomBytes(32)
      : Buffer.from(
          hkdfSync(
            'sha256',
            typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret,
            Buffer.alloc(0),
            'veeam-graph cursor v1',
            32,
          ),
        );
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);

  return {
    encode(fingerprint, position) {
      const payload = toBase64url(JSON.stringify({ v: VERSION, f: fingerprint, k: position.key, t: position.ties }));
      return `${payload}.${mac(payload).toString('base64url')}`;
    },

    decode(cursor, fingerprint) {
      if (cursor.length > MAX_CURSOR_LENGTH) throw badUserInput(FOREIGN);
      const dot = cursor.indexOf('.');
      if (dot < 0) throw badUserInput(FOREIGN);
      const payload = cursor.slice(0, dot);
      const given = bytesFromBase64url(cursor.slice(dot + 1));
      // The MAC is checked before the payload is parsed: nothing unauthenticated is interpreted.
      if (given === null || given.length !== MAC_BYTES || !timingSafeEqual(given, mac(payload))) throw badUserInput(FOREIGN);
      const json = fromBase64url(payload);
      const data: unknown = json === null ? null : JSON.parse(json);
      if (!isPayload(data)) throw badUserInput(FOREIGN);
      if (data.f !== fingerprint) throw badUserInput(OTHER_LIST);
      return { key: data.k, ties: data.t };
    },
  };
}

function isPayload(data: unknown): data is { v: number; f: string; k: (string | number)[]; t: number } {
  if (typeof data !== 'object' || data === null) return false;
  const { v, f, k, t } = data as Record<string, unknown>;
  return (
    v === VERSION &&
    typeof f === 'string' &&
    Array.isArray(k) &&
    k.every((part) => typeof part === 'string' || typeof part === 'number') &&
    typeof t === 'number' &&
    Number.isSafeInteger(t) &&
    t >= 0
  );
}

/**
 * Stable hash identifying a list: the connection (e.g. `Query.restoreSessions`, or
 * `BackupServer.restoreSessions:<id>` for a nested one), its filter and its order. Pass the filter
 * after parsing (DateTime as epoch ms, ids decoded) so equivalent spellings hash alike. Null, absent
 * and empty-object fields are the same; lists are treated as sets (sorted, deduplicated); object keys are
 * sorted. 72 bits: a collision would only let a cursor cross to an equivalent-looking list, and the
 * MAC still rules out forgery.
 */
export function cursorFingerprint(connection: string, filter: unknown, order: string | null): string {
  const canonical = JSON.stringify(canonicalize({ connection, filter, order }));
  return createHash('sha256').update(canonical).digest().subarray(0, 9).toString('base64url');
}

function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.filter((v) => v !== undefined && v !== null).map(canonicalize);
    if (items.every((v) => typeof v !== 'object')) {
      // Sets of scalars: order and repetition carry no meaning in a filter.
      const unique = [...new Map(items.map((v) => [`${typeof v}:${String(v)}`, v])).entries()];
      return unique.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    }
    return items;
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || v === null) continue;
      const c = canonicalize(v);
      // An empty input object restricts nothing, like an absent one; an empty list does (it matches nothing).
      if (typeof c === 'object' && c !== null && !Array.isArray(c) && Object.keys(c).length === 0) continue;
      out[key] = c;
    }
    return out;
  }
  return value;
}
