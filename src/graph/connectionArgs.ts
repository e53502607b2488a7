import { badUserInput } from './badUserInput.js';

/** Page size limits; the gateway config's `limits.defaultPageSize` and `limits.maxPageSize`. */
export interface ConnectionLimits {
  /** `first` when the client gives none. Default 50. */
  defaultFirst: number;
  /** Largest `first` accepted. Default 1000: a page costs `first + 1` items per server, and the cost analysis assumes a bound. */
  maxFirst: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { defaultFirst: 50, maxFirst: 1000 };

/** Cursors this gateway issues are well under this; a longer `after` is rejected before decoding. */
const MAX_AFTER_LENGTH = 1024;

/** The raw `first`/`after` arguments of a connection field. */
export interface RawConnectionArgs {
  first?: number | null;
  after?: string | null;
}

/** Validated arguments: `after` is still opaque here; the cursor codec decodes it against the list's fingerprint. */
export interface ConnectionArgs {
  first: number;
  after: string | null;
}

/**
 * Validates `first` and `after` of a connection field, failing with `BAD_USER_INPUT` that names the
 * argument and the limit. The schema declares no default for `first` on purpose: the default is
 * configurable, and a default in the SDL would always win over the configured one.
 */
export function parseConnectionArgs(args: RawConnectionArgs, limits: Partial<ConnectionLimits> = {}): ConnectionArgs {
  const { defaultFirst, maxFirst } = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  const first = args.first ?? Math.min(defaultFirst, maxFirst);
  if (!Number.isSafeInteger(first) || first < 0 || first > maxFirst) {
    throw badUserInput(`Argument "first" must be an integer from 0 to ${maxFirst}, got ${first}.`, { argumentName: 'first', max: maxFirst });
  }
  const after = args.after ?? null;
  if (after !== null && (after.length === 0 || after.length > MAX_AFTER_LENGTH)) {
    throw badUserInput('Argument "after" must be a cursor taken from `pageInfo.endCursor` or an edge\'s `cursor`.', { argumentName: 'after' });
  }
  return { first, after };
}
