import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';

/**
 * `/graphql` over plain HTTP runs queries only: a subscription there is refused at validation
 * (`GRAPHQL_VALIDATION_FAILED`, HTTP 400) with where to send it instead, rather than failing in
 * Apollo Server's execution.
 */
export function subscriptionsOverHttpRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (node.operation !== 'subscription') return;
      context.reportError(
        new GraphQLError(
          'Subscriptions run over WebSocket (graphql-transport-ws) on /graphql, or Server-Sent Events (graphql-sse) on /graphql/stream; not over HTTP POST or GET.',
          { nodes: node },
        ),
      );
    },
  };
}
