import { GraphQLError } from 'graphql';

/**
 * The one way the graph reports a caller mistake (design.md section 7): a `GraphQLError` with
 * `extensions.code = 'BAD_USER_INPUT'`, which Apollo Server passes through unmasked.
 */
export function badUserInput(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code: 'BAD_USER_INPUT' } });
}
