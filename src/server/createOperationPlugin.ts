import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse, BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import type { GatewayMetrics, OperationOutcome } from './GatewayMetrics.js';
import { REQUEST_ID_HEADER } from './requestId.js';

/** Error codes of a response, deduplicated, for one log field. */
function errorCodes(errors: ReadonlyArray<{ extensions?: Record<string, unknown> }> | undefined): string[] {
  return [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN')))];
}

function outcomeOf(ctx: GraphQLRequestContextWillSendResponse<BaseContext>, executed: boolean): { outcome: OperationOutcome; codes: string[] } {
  const body = ctx.response.body;
  const result = body.kind === 'single' ? body.singleResult : body.initialResult;
  const codes = errorCodes(result.errors);
  if (!result.errors?.length) return { outcome: 'success', codes };
  // Parse, validation, cost and variable errors stop a request before execution: the caller's to fix.
  if (!executed) return { outcome: 'rejected', codes };
  return { outcome: result.data ? 'partial' : 'error', codes };
}

/**
 * One log line and one metrics sample per GraphQL operation, labelled with the operation name and
 * its outcome: `success`, `partial` (data and errors: typically a Veeam server down), `error`
 * (no data) or `rejected` (never executed: parse, validation, cost, variables).
 */
export function createOperationPlugin(options: {
  logger: Logger;
  metrics: GatewayMetrics;
  principalOf?: (context: BaseContext) => string | undefined;
}): ApolloServerPlugin {
  return {
    async requestDidStart({ request }) {
      const started = performance.now();
      const requestId = request.http?.headers.get(REQUEST_ID_HEADER) ?? undefined;
      let executed = false;
      return {
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse(ctx) {
          const seconds = (performance.now() - started) / 1000;
          const { outcome, codes } = outcomeOf(ctx, executed);
          const operation = ctx.operationName ?? request.operationName ?? undefined;
          options.metrics.recordOperation(operation, outcome, seconds);
          const principal = options.principalOf?.(ctx.contextValue);
          const line = {
            requestId,
            ...(principal !== undefined && { principal }),
            operation: operation ?? null,
            outcome,
            ms: Math.round(seconds * 1000),
            ...(codes.length ? { errors: codes } : {}),
          };
          if (outcome === 'error') options.logger.warn(line, 'graphql operation failed');
          else options.logger.info(line, 'graphql operation');
        },
      };
    },
  };
}
