import type { LoaderFactory } from '../src/graph/loaders/createLoaders.js';
import { createRequestScope } from '../src/upstream/Source.js';

/**
 * The benchmark's comparison: what a gateway without DataLoader does. Every link is its own
 * `Source.lookup` of one id, each with a fresh request scope, so nothing is batched or shared:
 * one upstream call per link (EM: one query-service call each; VB365: the organization list each).
 * It walks links through the source contract itself, so it needs no code of its own in the graph.
 */
export const naiveLoaders: LoaderFactory = () => ({
  async entity(source, kind, id) {
    const value = (await source.lookup(kind, [id], createRequestScope())).get(id.toLowerCase());
    if (value instanceof Error) throw value;
    return value ?? null;
  },
  async sessionOrganization(source, session) {
    const [value] = await source.sessionOrganizations([session], createRequestScope());
    if (value instanceof Error) throw value;
    return value ?? null;
  },
});
