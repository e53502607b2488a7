import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';

const ROOT_TYPE_NAME = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const;

/**
 * Validation rule rejecting an operation whose type the schema has no root type for
 * (`mutation { ... }` or `subscription { ... }` against this read-only schema). graphql-js 16 checks
 * this only at execution ("Schema is not configured to execute mutation operation."), where Apollo
 * Server reports it as an execution error without a code: HTTP 200 and `INTERNAL_SERVER_ERROR`,
 * although it is the caller's mistake. As a validation rule (graphql-js 17 has it as
 * `KnownOperationTypesRule`) it is `GRAPHQL_VALIDATION_FAILED` with HTTP 400, like any other
 * document the schema cannot run, and nothing executes.
 */
export function knownOperationTypesRule(context: ValidationContext): ASTVisitor {
  const schema = context.getSchema();
  return {
    OperationDefinition(node) {
      if (schema.getRootType(node.operation)) return;
      context.reportError(
        new GraphQLError(
          `The ${node.operation} operation is not supported by the schema: it has no ${ROOT_TYPE_NAME[node.operation]} type (this API is read-only; use a query).`,
          { nodes: node },
        ),
      );
    },
  };
}
