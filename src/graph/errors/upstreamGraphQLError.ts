import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { isUpstreamError, type UpstreamErrorCode } from '../../upstream/errors.js';
import type { Source } from '../../upstream/Source.js';
import type { SourceErrorCode } from '../__generated__/resolvers.generated.js';
import type { GraphContext } from '../GraphContext.js';
import type { SourceErrorParent } from '../mappers.js';

/** Message of every masked error: the details are in the gateway log, never in the response. */
export const INTERNAL_MESSAGE = 'Internal server error';

/**
 * THE code table: each upstream code as a client sees it (the schema's `SourceErrorCode` and the
 * `extensions.code` of errors). A mapped type over `UpstreamErrorCode`, so a new upstream code
 * must be given its public code here. TLS failures read as an unreachable server to a client.
 */
export const PUBLIC_UPSTREAM_CODE: { readonly [C in UpstreamErrorCode]: SourceErrorCode } = {
  UPSTREAM_UNREACHABLE: 'UPSTREAM_UNREACHABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_HTTP_ERROR: 'UPSTREAM_HTTP_ERROR',
  UPSTREAM_AUTH_FAILED: 'UPSTREAM_AUTH_FAILED',
  UPSTREAM_BAD_RESPONSE: 'UPSTREAM_BAD_RESPONSE',
  UPSTREAM_TLS_ERROR: 'UPSTREAM_UNREACHABLE',
  UPSTREAM_CIRCUIT_OPEN: 'UPSTREAM_CIRCUIT_OPEN',
};

/** Codes an error reaching the client may carry for a source's failure (the table's values and the masked one). */
export const PUBLIC_SOURCE_CODES: ReadonlySet<string> = new Set<string>([...Object.values(PUBLIC_UPSTREAM_CODE), 'INTERNAL_SERVER_ERROR']);

/** A code of the schema's `SourceErrorCode` for any code a health record or error holds. */
export function publicSourceCode(code: string): SourceErrorCode {
  return (PUBLIC_UPSTREAM_CODE as Record<string, SourceErrorCode | undefined>)[code] ?? 'INTERNAL_SERVER_ERROR';
}

/**
 * A source error's message for a caller without the `admin` scope: the server's name and the
 * code, nothing of the failed call's method, path or the server's own text.
 */
export function redactedSourceMessage(source: string, code: string): string {
  return `${source}: ${code}`;
}

/**
 * The in-band description of one server's failure (`SourceError`). An `UpstreamError` keeps its
 * code, message (already free of secrets), status and retryability; anything else is a gateway
 * bug, masked to INTERNAL_SERVER_ERROR and logged in full here, once.
 */
export function sourceErrorOf(source: Source, error: unknown, logger: Logger): SourceErrorParent {
  if (isUpstreamError(error)) {
    return { source, code: PUBLIC_UPSTREAM_CODE[error.code], message: error.message, httpStatus: error.status ?? null, retryable: error.retryable };
  }
  logger.error({ err: error, source: source.name }, 'unexpected error while querying a source');
  return { source, code: 'INTERNAL_SERVER_ERROR', message: `${source.name}: ${INTERNAL_MESSAGE}`, httpStatus: null, retryable: false };
}

/**
 * The standard-errors-array form of a `SourceError`, with `extensions { code, source, httpStatus,
 * retryable }`, plus `stale: true` when the source's last good data was served instead.
 */
export function graphQLErrorOf(error: SourceErrorParent, path?: readonly (string | number)[], stale = false): GraphQLError {
  return new GraphQLError(error.message, {
    ...(path !== undefined && { path }),
    extensions: { code: error.code, source: error.source.name, httpStatus: error.httpStatus, retryable: error.retryable, ...(stale && { stale: true }) },
  });
}

/**
 * What a link or lookup resolver throws when its server failed: the field becomes null and the
 * response's `errors` carries this with the field's path (graphql-js adds the path).
 */
export function toGraphQLError(source: Source, error: unknown, logger: Logger): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return graphQLErrorOf(sourceErrorOf(source, error, logger));
}

/**
 * THE wrapper of every field that reads another record of its parent's source (links, lookups,
 * nested lists of one source): a failure nulls that field alone, with the source's error.
 */
export async function onSource<T>(context: GraphContext, source: Source, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw toGraphQLError(source, err, context.logger);
  }
}
