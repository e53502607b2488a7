/**
 * A tiny seeded generator for property-style tests (Numerical Recipes LCG constants): the same seed
 * gives the same cases on every run and machine, so a failure is reproducible from its seed.
 */
export function lcg(seed: number): { next(): number; int(n: number): number; pick<T>(items: readonly T[]): T; shuffle<T>(items: T[]): T[] } {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: (items) => items[int(items.length)]!,
    shuffle: (items) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    },
  };
}
