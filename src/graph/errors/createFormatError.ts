import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { isUpstreamError } from '../../upstream/errors.js';
import { INTERNAL_MESSAGE, PUBLIC_SOURCE_CODES, PUBLIC_UPSTREAM_CODE } from './upstreamGraphQLError.js';

/**
 * Codes that pass to the client unmasked: caller mistakes, Apollo's own request errors, and the
 * upstream failures the graph already describes safely (design.md section 7; the one code table).
 */
const PUBLIC_CODES = new Set([
  'BAD_USER_INPUT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  // The serving layer's trusted documents (src/server/operations): a document outside the allowlist.
  'PERSISTED_QUERY_NOT_IN_LIST',
  ...PUBLIC_SOURCE_CODES,
]);

/**
 * Apollo Server's `formatError`: known errors pass, an `UpstreamError` that escaped a resolver gets
 * its extensions, and anything unrecognised is masked to INTERNAL_SERVER_ERROR for the client and
 * logged in full (stack included) for the operator.
 */
export function createFormatError(logger: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (isUpstreamError(original)) {
      return {
        message: original.message,
        ...(formatted.locations && { locations: formatted.locations }),
        ...(formatted.path && { path: formatted.path }),
        extensions: { code: PUBLIC_UPSTREAM_CODE[original.code], source: original.source, httpStatus: original.status ?? null, retryable: original.retryable },
      };
    }
    // Our own GraphQLErrors (BAD_USER_INPUT, masked source errors) and Apollo's request errors carry a
    // public code of their own; a plain Error thrown anywhere is a bug and is masked. The code is read
    // from the error as raised, not from `formatted`: Apollo fills a missing code in as
    // INTERNAL_SERVER_ERROR (itself public, for the source errors the graph masked already), and an
    // error graphql-js raised without a code is never known to be safe to show.
    const code = error instanceof GraphQLError ? error.extensions.code : undefined;
    if (original instanceof GraphQLError && typeof code === 'string' && PUBLIC_CODES.has(code)) return formatted;
    // Apollo Server raises a few request errors with an HTTP 4xx status but no code (an APQ hash that
    // does not match its query, an unsupported APQ version): caller mistakes, BAD_REQUEST as Apollo's others.
    if (error instanceof GraphQLError && code === undefined && isClientStatus(error.extensions.http)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_REQUEST' } };
    }
    return mask(formatted, error, logger);
  };
}

/** An Apollo `extensions.http` head with a 4xx status. */
function isClientStatus(http: unknown): boolean {
  const status = typeof http === 'object' && http !== null ? (http as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function mask(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  logger.error({ err: original, path: formatted.path }, 'unexpected error, masked for the client');
  return {
    message: INTERNAL_MESSAGE,
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
