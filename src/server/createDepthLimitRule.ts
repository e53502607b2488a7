import { GraphQLError, Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';

/** Introspection roots: their depth comes from the schema's type nesting, not from data the gateway fetches. */
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/**
 * Deepest field nesting of a selection set: `{ a { b { c } } }` is 3. Fragments are followed
 * (each at most once per path, so a fragment cycle, which graphql-js reports by its own rule,
 * cannot loop here); introspection subtrees count 0 so GraphiQL's schema query always passes.
 */
export function selectionDepth(context: ValidationContext, set: SelectionSetNode | undefined, visiting: ReadonlySet<string> = new Set()): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    let depth: number;
    if (sel.kind === Kind.FIELD) {
      if (INTROSPECTION_ROOTS.has(sel.name.value)) continue;
      depth = 1 + selectionDepth(context, sel.selectionSet, visiting);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      depth = selectionDepth(context, sel.selectionSet, visiting);
    } else {
      const name = sel.name.value;
      const fragment = context.getFragment(name);
      if (!fragment || visiting.has(name)) continue;
      depth = selectionDepth(context, fragment.selectionSet, new Set([...visiting, name]));
    }
    if (depth > max) max = depth;
  }
  return max;
}

/**
 * Validation rule rejecting operations nested deeper than `maxDepth` fields. A depth bound is
 * checked before anything runs: every level of links can fan out to another batch of upstream
 * calls. Apollo Server reports it as `GRAPHQL_VALIDATION_FAILED` with HTTP 400.
 *
 * @param maxDepth deepest allowed field nesting (config `limits.maxDepth`, default 12)
 */
export function createDepthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const depth = selectionDepth(context, node.selectionSet);
      if (depth > maxDepth) {
        const name = node.name ? ` "${node.name.value}"` : '';
        context.reportError(
          new GraphQLError(
            `Operation${name} is nested ${depth} fields deep; the maximum is ${maxDepth} (limits.maxDepth). Split it into several queries or select fewer nested links.`,
            {
              nodes: [node],
              extensions: { depth, maxDepth },
            },
          ),
        );
      }
    },
  });
}
