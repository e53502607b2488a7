import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { isUpstreamError } from '../../upstream/errors.js';
import type { SourceErrorParent } from '../mappers.js';
import type { GraphSource } from '../sources/createSources.js';

/** Message of every masked error: the details are in the gateway log, never in the response. */
export const INTERNAL_MESSAGE = 'Internal server error';

/**
 * The in-band description of one server's failure (`SourceError`). An `UpstreamError` keeps its
 * code, message (already free of secrets), status and retryability; anything else is a gateway
 * bug, masked to INTERNAL_SERVER_ERROR and logged in full here, once.
 */
export function sourceErrorOf(source: GraphSource, error: unknown, logger: Logger): SourceErrorParent {
  if (isUpstreamError(error)) {
    // UPSTREAM_TLS_ERROR is not in the schema's SourceErrorCode: to a client it is an unreachable server.
    const code = error.code === 'UPSTREAM_TLS_ERROR' ? 'UPSTREAM_UNREACHABLE' : error.code;
    return { source, code, message: error.message, httpStatus: error.status ?? null, retryable: error.retryable };
  }
  logger.error({ err: error, source: source.name }, 'unexpected error while querying a source');
  return { source, code: 'INTERNAL_SERVER_ERROR', message: `${source.name}: ${INTERNAL_MESSAGE}`, httpStatus: null, retryable: false };
}

/** The standard-errors-array form of a `SourceError`, with `extensions { code, source, httpStatus, retryable }`. */
export function graphQLErrorOf(error: SourceErrorParent, path?: readonly (string | number)[]): GraphQLError {
  return new GraphQLError(error.message, {
    ...(path !== undefined && { path }),
    extensions: { code: error.code, source: error.source.name, httpStatus: error.httpStatus, retryable: error.retryable },
  });
}

/**
 * What a link or lookup resolver throws when its server failed: the field becomes null and the
 * response's `errors` carries this with the field's path (graphql-js adds the path).
 */
export function toGraphQLError(source: GraphSource, error: unknown, logger: Logger): GraphQLError {
  if (error instanceof GraphQLError) return error;
  source.recordFailure(error);
  return graphQLErrorOf(sourceErrorOf(source, error, logger));
}
