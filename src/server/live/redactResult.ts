import type { GraphQLError, GraphQLFormattedError } from 'graphql';

/** One result as a subscription transport sends it. */
export interface FormattedResult {
  data?: unknown;
  errors?: readonly (GraphQLError | GraphQLFormattedError)[];
  extensions?: Record<string, unknown>;
}
