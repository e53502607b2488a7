import { GraphQLError, Kind, type ASTVisitor, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';

/**
 * Counts are summed without bound (fragments spreading fragments twice double at every level), so
 * they saturate here rather than lose precision or become `Infinity` in the error message.
 */
const saturatingAdd = (a: number, b: number): number => Math.min(a + b, Number.MAX_SAFE_INTEGER);

/**
 * Directive usages of a selection set, fragments included: on fields, inline fragments, fragment
 * spreads and the definitions of spread fragments. A fragment counts once per spread, as
 * execution sees it. Each fragment's count is computed once (`counted`), so a fan-out of
 * fragments costs linear time; a fragment met again while its own count is under way (a cycle,
 * which graphql-js reports by its own rule) counts 0.
 */
export function directiveCount(context: ValidationContext, set: SelectionSetNode | undefined, counted: Map<string, number> = new Map()): number {
  if (!set) return 0;
  let count = 0;
  for (const sel of set.selections) {
    count = saturatingAdd(count, sel.directives?.length ?? 0);
    if (sel.kind !== Kind.FRAGMENT_SPREAD) {
      count = saturatingAdd(count, directiveCount(context, sel.selectionSet, counted));
      continue;
    }
    const name = sel.name.value;
    let inFragment = counted.get(name);
    if (inFragment === undefined) {
      const fragment = context.getFragment(name);
      counted.set(name, 0);
      inFragment = fragment ? saturatingAdd(fragment.directives?.length ?? 0, directiveCount(context, fragment.selectionSet, counted)) : 0;
      counted.set(name, inFragment);
    }
    count = saturatingAdd(count, inFragment);
  }
  return count;
}

/** Directive usages of an operation: on the operation, its variable definitions and its selections. */
export function operationDirectiveCount(context: ValidationContext, node: OperationDefinitionNode, counted: Map<string, number> = new Map()): number {
  let count = node.directives?.length ?? 0;
  for (const variable of node.variableDefinitions ?? []) count = saturatingAdd(count, variable.directives?.length ?? 0);
  return saturatingAdd(count, directiveCount(context, node.selectionSet, counted));
}

/**
 * Validation rule rejecting operations with more than `maxDirectives` directive usages, counted
 * over the operation and every fragment it spreads (once per spread). Directive overloading
 * (`@include(if: true)` thousands of times, on one field or spread over many) costs the gateway
 * validation and execution work per usage, from a request that stays within the body limit and
 * adds nothing to its `limits.maxCost` estimate. Apollo Server reports it as
 * `GRAPHQL_VALIDATION_FAILED` with HTTP 400; nothing runs.
 *
 * Default 50 (config `limits.maxDirectives`), graphql-armor's: the graph defines no executable
 * directive of its own, so only `@include` / `@skip` count, and a client toggling every optional
 * column of a view stays well under it; GraphiQL's examples, the introspection query and
 * federation's `_entities` fetches (which carry only the client's own `@include` / `@skip`) use none.
 *
 * @param maxDirectives most directive usages an operation may have (config `limits.maxDirectives`)
 */
export function createDirectiveLimitRule(maxDirectives: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    // Fragment counts do not depend on the operation: shared by the document's operations.
    const counted = new Map<string, number>();
    return {
      OperationDefinition(node) {
        const directives = operationDirectiveCount(context, node, counted);
        if (directives > maxDirectives) {
          const name = node.name ? ` "${node.name.value}"` : '';
          context.reportError(
            new GraphQLError(
              `Operation${name} has ${directives} directives, over the maximum of ${maxDirectives} (limits.maxDirectives). One @include or @skip on a fragment or inline fragment covers every field inside it.`,
              {
                nodes: [node],
                extensions: { directives, maxDirectives },
              },
            ),
          );
        }
      },
    };
  };
}
