/**
 * What every resolver receives as its context, built fresh for each request (design.md section 2).
 * The graph layer only declares the shape here; the upstream client layer supplies the values, so
 * both members stay `unknown` until those types exist and the compiler forces a narrowing at use.
 */
export interface GraphContext {
  /** Per-request DataLoaders keyed by (source, entity, id), filled by the client layer (design.md section 6). */
  readonly loaders: unknown;
  /** The configured servers with their clients and health, by name, filled by the client layer. */
  readonly sources: unknown;
}
