import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphContext } from './GraphContext.js';

/**
 * Appends the errors of failing servers that merged connections collected (GraphContext
 * `partialErrors`) to the response's standard `errors` array. A resolver cannot return data and
 * an error for the same field, so these bypass graphql-js; they are built safe already (an
 * upstream error's message and code, or a masked INTERNAL_SERVER_ERROR).
 */
export function createPartialErrorsPlugin(): ApolloServerPlugin<GraphContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const extra = contextValue.partialErrors;
          if (extra.length === 0 || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.errors = [...(result.errors ?? []), ...extra.map((e) => e.toJSON())];
        },
      };
    },
  };
}
