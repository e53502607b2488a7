import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { FEDERATION_OVERLAY_FILE, schemaDir } from '../createGraph.js';
import { applyDirectiveOverlay } from './applyDirectiveOverlay.js';
import { referenceResolvers } from './referenceResolvers.js';
import { prefixRootFields } from './prefixRootFields.js';

/** The plain schema annotated with schema/federation.graphql (`@link`, `@key`, `@shareable`). */
export function subgraphTypeDefs(typeDefs: DocumentNode): DocumentNode {
  return applyDirectiveOverlay(typeDefs, parse(readFileSync(join(schemaDir(), FEDERATION_OVERLAY_FILE), 'utf8')));
}

/**
 * The graph as an Apollo Federation v2 subgraph schema: the same types and resolvers as the plain
 * schema, plus `_service`, `_entities` and a `__resolveReference` per entity type that resolves
 * through the request's batched loaders. Built with `@apollo/subgraph` rather than by hand so
 * `_service.sdl` and `_entities` follow the spec version the overlay's `@link` names.
 *
 * @param graph the graph's SDL and resolvers (`createGraph`'s `typeDefs` and `resolvers`), and
 *   optionally the prefix of the generic root fields (`node` → `veeamNode`, see `prefixRootFields`)
 */
export function buildGraphSubgraphSchema(graph: { typeDefs: DocumentNode; resolvers: object; rootFieldPrefix?: string | undefined }): GraphQLSchema {
  const named =
    graph.rootFieldPrefix === undefined
      ? { typeDefs: graph.typeDefs, resolvers: graph.resolvers as Record<string, object> }
      : prefixRootFields(graph.typeDefs, graph.resolvers as Record<string, object>, graph.rootFieldPrefix);
  const resolvers: Record<string, object> = { ...named.resolvers };
  for (const [typename, reference] of Object.entries(referenceResolvers)) resolvers[typename] = { ...resolvers[typename], ...reference };
  // The resolver map's field type does not describe `__resolveReference(reference, context)`; the runtime does.
  return buildSubgraphSchema({ typeDefs: subgraphTypeDefs(named.typeDefs), resolvers: resolvers as never });
}
