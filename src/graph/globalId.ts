import { badUserInput } from './badUserInput.js';
import { fromBase64url, toBase64url } from './base64url.js';

/**
 * Short codes of the GraphQL types that have global ids. The codes keep ids short; they are part of
 * every id ever handed out, so a code is never reused or changed, only added.
 */
const TYPE_CODES = {
  EnterpriseManagerRestoreSession: 'ers',
  Microsoft365RestoreSession: 'mrs',
  Microsoft365RestoreSessionEvent: 'mre',
  BackupServer: 'bs',
  VmRestorePoint: 'vrp',
  Microsoft365RestorePoint: 'mrp',
  Organization: 'org',
  Source: 'src',
} as const;

/** A GraphQL type name that can be behind a global id. */
export type GlobalIdType = keyof typeof TYPE_CODES;

const TYPES_BY_CODE = new Map<string, GlobalIdType>(Object.entries(TYPE_CODES).map(([type, code]) => [code, type as GlobalIdType]));

/** What a global id stands for: Veeam's own id, on one configured server, as one GraphQL type. */
export interface GlobalIdParts {
  type: GlobalIdType;
  /** Configured server name (`Source.name`). */
  source: string;
  /** Veeam's own id on that server, verbatim. */
  nativeId: string;
}

/** Ids longer than this are rejected before decoding: no real id comes close, and it caps the work a hostile input causes. */
export const MAX_ID_LENGTH = 2048;

/**
 * Opaque global id: unpadded base64url of `<typeCode>:<source>:<nativeId>`. The source name is part
 * of the id because Veeam ids are only unique per server (two EMs can know the same backup server
 * under different GUIDs, and nothing stops two servers from reusing one). Source names never hold
 * `:` (the config allows letters, digits, `.`, `_`, `-`), so the first two colons delimit the parts
 * and the native id may contain anything.
 */
export function encodeGlobalId(type: GlobalIdType, source: string, nativeId: string): string {
  // Programming errors, not caller mistakes: they surface as INTERNAL_SERVER_ERROR.
  if (source === '' || source.includes(':')) throw new Error(`encodeGlobalId: invalid source name ${JSON.stringify(source)}`);
  if (nativeId === '') throw new Error(`encodeGlobalId: empty native id for ${type} on ${source}`);
  return toBase64url(`${TYPE_CODES[type]}:${source}:${nativeId}`);
}

/**
 * Decodes a global id, failing with `BAD_USER_INPUT` for anything this gateway did not produce:
 * not base64url, not UTF-8, missing parts, unknown type, or (when `expected` is given) a type the
 * field does not accept. Whether the source is configured and the object exists is for the caller.
 */
export function decodeGlobalId(id: string, expected?: readonly GlobalIdType[]): GlobalIdParts {
  const invalid = (why: string) => badUserInput(`Invalid id ${JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}...` : id)}: ${why}.`);
  if (id.length === 0 || id.length > MAX_ID_LENGTH) throw invalid('not an id returned by this API');
  const text = fromBase64url(id);
  if (text === null) throw invalid('not an id returned by this API');
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  if (second < 0) throw invalid('not an id returned by this API');
  const code = text.slice(0, first);
  const source = text.slice(first + 1, second);
  const nativeId = text.slice(second + 1);
  const type = TYPES_BY_CODE.get(code);
  if (type === undefined || source === '' || nativeId === '') throw invalid('not an id returned by this API');
  if (expected !== undefined && !expected.includes(type)) throw invalid(`it is the id of a ${type}, expected ${expected.join(' or ')}`);
  return { type, source, nativeId };
}
