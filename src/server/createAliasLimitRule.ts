import { GraphQLError, Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';

/**
 * Counts are summed without bound (fragments spreading fragments twice double at every level), so
 * they saturate here rather than lose precision or become `Infinity` in the error message.
 */
const saturatingAdd = (a: number, b: number): number => Math.min(a + b, Number.MAX_SAFE_INTEGER);

/**
 * Aliased fields of a selection set, fragments included: `{ a: x b: x y }` has 2. A fragment
 * counts once per spread, so spreading a fragment of 10 aliases 10 times is 100, as execution
 * sees it. Each fragment's count is computed once (`counted`), so a fan-out of fragments costs
 * linear time; a fragment met again while its own count is under way (a cycle, which graphql-js
 * reports by its own rule) counts 0.
 */
export function aliasCount(context: ValidationContext, set: SelectionSetNode | undefined, counted: Map<string, number> = new Map()): number {
  if (!set) return 0;
  let count = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      // `__typename` included: thousands of aliased `__typename`s reach no resolver but still
      // cost the gateway its validation, execution and response (graphql-armor's #738).
      if (sel.alias) count = saturatingAdd(count, 1);
      count = saturatingAdd(count, aliasCount(context, sel.selectionSet, counted));
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      count = saturatingAdd(count, aliasCount(context, sel.selectionSet, counted));
    } else {
      const name = sel.name.value;
      let inFragment = counted.get(name);
      if (inFragment === undefined) {
        const fragment = context.getFragment(name);
        counted.set(name, 0);
        inFragment = fragment ? aliasCount(context, fragment.selectionSet, counted) : 0;
        counted.set(name, inFragment);
      }
      count = saturatingAdd(count, inFragment);
    }
  }
  return count;
}

/**
 * Validation rule rejecting operations with more than `maxAliases` aliased fields, counted over
 * the operation and every fragment it spreads (once per spread). Aliases are how one request asks
 * for the same field many times (`a1: restoreSessions(first: 1) ... a500: restoreSessions(first: 1)`):
 * each copy is another fan-out to every Veeam server, and cheap copies add up to little against
 * `limits.maxCost`, so batching would multiply upstream load (or brute-force arguments) in one
 * request that a per-request rate limit counts once. Apollo Server reports it as
 * `GRAPHQL_VALIDATION_FAILED` with HTTP 400; nothing runs.
 *
 * Default 30 (config `limits.maxAliases`): twice graphql-armor's 15, room for a hand-written
 * dashboard comparing a few dozen servers or VMs side by side, while GraphiQL's examples, the
 * introspection query and federation's `_entities` fetches use none.
 *
 * @param maxAliases most aliased fields an operation may have (config `limits.maxAliases`)
 */
export function createAliasLimitRule(maxAliases: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    // Fragment counts do not depend on the operation: shared by the document's operations.
    const counted = new Map<string, number>();
    return {
      OperationDefinition(node) {
        const aliases = aliasCount(context, node.selectionSet, counted);
        if (aliases > maxAliases) {
          const name = node.name ? ` "${node.name.value}"` : '';
          context.reportError(
            new GraphQLError(
              `Operation${name} has ${aliases} aliases, over the maximum of ${maxAliases} (limits.maxAliases). Ask for the same field fewer times per request: split the batch into several requests.`,
              {
                nodes: [node],
                extensions: { aliases, maxAliases },
              },
            ),
          );
        }
      },
    };
  };
}
