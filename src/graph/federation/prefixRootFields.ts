import { Kind, visit, type DocumentNode } from 'graphql';

/** Root fields whose names are generic enough to clash with another subgraph's in a supergraph. */
export const GENERIC_ROOT_FIELDS = ['node', 'nodes', 'sources'] as const;

/** `veeam` + `node` → `veeamNode`. */
export function prefixedName(prefix: string, field: string): string {
  return `${prefix}${field.charAt(0).toUpperCase()}${field.slice(1)}`;
}

/**
 * Renames the generic root fields (`node`, `nodes`, `sources`) to `<prefix><Field>` in the SDL and
 * the resolver map, for a supergraph where another subgraph has a field of that name (Relay's
 * `node` is the usual one). Types keep their names; only `Query`'s fields change.
 */
export function prefixRootFields<R extends Record<string, unknown>>(
  typeDefs: DocumentNode,
  resolvers: R,
  prefix: string,
): { typeDefs: DocumentNode; resolvers: R } {
  const generic = new Set<string>(GENERIC_ROOT_FIELDS);
  const renamedTypeDefs = visit(typeDefs, {
    enter(node) {
      if ((node.kind === Kind.OBJECT_TYPE_DEFINITION || node.kind === Kind.OBJECT_TYPE_EXTENSION) && node.name.value === 'Query') {
        return {
          ...node,
          fields: node.fields?.map((f) => (generic.has(f.name.value) ? { ...f, name: { ...f.name, value: prefixedName(prefix, f.name.value) } } : f)),
        };
      }
      return undefined;
    },
  });
  const query = resolvers.Query as Record<string, unknown> | undefined;
  if (query === undefined) return { typeDefs: renamedTypeDefs, resolvers };
  const renamedQuery: Record<string, unknown> = {};
  for (const [field, resolver] of Object.entries(query)) renamedQuery[generic.has(field) ? prefixedName(prefix, field) : field] = resolver;
  return { typeDefs: renamedTypeDefs, resolvers: { ...resolvers, Query: renamedQuery } };
}
