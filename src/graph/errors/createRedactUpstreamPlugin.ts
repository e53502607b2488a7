import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { GraphContext } from '../GraphContext.js';
import { PUBLIC_SOURCE_CODES, redactedSourceMessage } from './upstreamGraphQLError.js';

/** A response error that describes a source's failure (its message may hold the call's method and path). */
function isSourceError(error: GraphQLFormattedError): error is GraphQLFormattedError & { extensions: { source: string; code: string } } {
  const ext = error.extensions;
  return typeof ext?.source === 'string' && typeof ext.code === 'string' && PUBLIC_SOURCE_CODES.has(ext.code);
}

/** The errors of a response with every source error's message reduced to `<server>: <code>`. */
export function redactSourceErrors<E extends GraphQLFormattedError>(errors: readonly E[]): E[] {
  return errors.map((e) => (isSourceError(e) ? { ...e, message: redactedSourceMessage(e.extensions.source, e.extensions.code) } : e));
}

/**
 * For a caller that may not see upstream details (`GraphContext.revealUpstream` false), rewrites
 * the message of every source error in the response's `errors` to `<server>: <code>`. The
 * extensions (code, source, httpStatus, retryable, stale) stay: they are what clients switch on.
 * Installed after the partial-errors plugin, so the errors it appends are covered too.
 */
export function createRedactUpstreamPlugin(): ApolloServerPlugin<GraphContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (contextValue.revealUpstream !== false || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (!result.errors?.length) return;
          result.errors = redactSourceErrors(result.errors);
        },
      };
    },
  };
}
