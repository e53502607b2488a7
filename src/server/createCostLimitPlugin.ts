import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, getNamedType, isListType, getNullableType, type GraphQLOutputType } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

/** Page-size limits the estimator needs (config `limits`). */
export interface CostLimits {
  maxCost: number;
  defaultPageSize: number;
  maxPageSize: number;
}

/**
 * How many items a field can return, as the cost estimator sees it: `first` (clamped to the
 * maximum page size, so a too-large `first` is reported by the graph's clearer `BAD_USER_INPUT`
 * rather than as a cost overrun), the length of `ids`, the default page size for a connection
 * without `first`, the number of `representations` of federation's `_entities`, and 1 for anything else (plain lists such as `links` are small and fetched
 * with their parent).
 */
function fanOut(args: Record<string, unknown>, type: GraphQLOutputType, limits: CostLimits): number {
  if (typeof args.first === 'number') return Math.max(0, Math.min(args.first, limits.maxPageSize));
  if (typeof args.last === 'number') return Math.max(0, Math.min(args.last, limits.maxPageSize));
  if (Array.isArray(args.ids)) return args.ids.length;
  // Federation's `_entities(representations:)`: one entity per representation, like `nodes(ids:)`.
  if (Array.isArray(args.representations)) return args.representations.length;
  if (getNamedType(type).name.endsWith('Connection')) return limits.defaultPageSize;
  return 1;
}

/**
 * Estimator: a field costs 1 plus its children times its fan-out, so
 * `restoreSessions(first: 50) { nodes { backupServer { name } } }` costs 1 + 50 x (1 + 1 + 1).
 * Introspection costs nothing: it never reaches a Veeam server.
 */
export function connectionCostEstimator(limits: CostLimits): ComplexityEstimator {
  return ({ field, args, childComplexity }) => {
    if (field.name.startsWith('__')) return 0;
    const type = getNullableType(field.type);
    const factor = isListType(type) && !Array.isArray(args.ids) && !Array.isArray(args.representations) ? 1 : fanOut(args, field.type, limits);
    return 1 + factor * childComplexity;
  };
}

/**
 * Apollo plugin rejecting operations whose estimated cost exceeds `maxCost`. It runs once the
 * operation and its variables are known (a validation rule sees no variables, and `first: $n`
 * is the usual way to ask for much), and fails with `BAD_USER_INPUT` and HTTP 400, naming the
 * cost and the bound so the caller knows how far to shrink.
 */
export function createCostLimitPlugin(limits: CostLimits): ApolloServerPlugin {
  const estimator = connectionCostEstimator(limits);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operationName }) {
          let cost: number;
          try {
            cost = getComplexity({
              schema,
              query: document,
              estimators: [estimator],
              variables: request.variables ?? {},
              ...(operationName ? { operationName } : {}),
            });
          } catch {
            // Variables that do not coerce: execution reports them precisely (BAD_USER_INPUT), so let it.
            return;
          }
          if (cost > limits.maxCost) {
            throw new GraphQLError(
              `Operation${operationName ? ` "${operationName}"` : ''} costs ${cost}, over the maximum of ${limits.maxCost} (limits.maxCost). The cost multiplies each connection's \`first\` by what is selected inside it: ask for smaller pages or fewer nested connections.`,
              { extensions: { code: 'BAD_USER_INPUT', cost, maxCost: limits.maxCost, http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}
