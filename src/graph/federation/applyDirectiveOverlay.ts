import { Kind, type ConstDirectiveNode, type DefinitionNode, type DocumentNode } from 'graphql';

/**
 * The base SDL with the directives of an overlay's `extend type X @d` / `extend interface X @d`
 * moved onto X's own definition; `extend schema` entries are kept as they are. Folding them in
 * makes the printed subgraph SDL say `type X implements Node @key(fields: "id") {` in one place,
 * instead of a separate `extend type X` that Federation 1 tooling reads as "X is owned by another
 * subgraph".
 *
 * @throws when the overlay adds fields or interfaces, or names a type the base does not define:
 *   the overlay may only annotate, so the plain schema and the generated types stay the truth.
 */
export function applyDirectiveOverlay(base: DocumentNode, overlay: DocumentNode): DocumentNode {
  const directives = new Map<string, ConstDirectiveNode[]>();
  const kept: DefinitionNode[] = [];
  for (const def of overlay.definitions) {
    if (def.kind === Kind.SCHEMA_EXTENSION) {
      kept.push(def);
      continue;
    }
    if (def.kind !== Kind.OBJECT_TYPE_EXTENSION && def.kind !== Kind.INTERFACE_TYPE_EXTENSION)
      throw new Error(`federation overlay: only \`extend schema\`, \`extend type\` and \`extend interface\` are allowed, got ${def.kind}`);
    if ((def.fields?.length ?? 0) > 0 || (def.interfaces?.length ?? 0) > 0)
      throw new Error(`federation overlay: \`extend ${def.name.value}\` may only add directives, not fields or interfaces`);
    directives.set(def.name.value, [...(directives.get(def.name.value) ?? []), ...(def.directives ?? [])]);
  }
  const definitions = base.definitions.map((def) => {
    if ((def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) || !directives.has(def.name.value)) return def;
    const extra = directives.get(def.name.value) ?? [];
    directives.delete(def.name.value);
    return { ...def, directives: [...(def.directives ?? []), ...extra] };
  });
  if (directives.size > 0) throw new Error(`federation overlay: no type definition for ${[...directives.keys()].join(', ')} in the base schema`);
  return { kind: Kind.DOCUMENT, definitions: [...definitions, ...kept] };
}
