import { DEFAULT_READ_POLICY, type ReadPolicy, type RequestScope } from '../../upstream/Source.js';

/** A `RequestScope`: one promise per key for the life of one request (failures included, like DataLoader). */
export function createRequestScope(policy: ReadPolicy = DEFAULT_READ_POLICY): RequestScope {
  const memo = new Map<string, Promise<unknown>>();
  return {
    policy,
    once<T>(key: string, load: () => Promise<T>): Promise<T> {
      let p = memo.get(key) as Promise<T> | undefined;
      if (p === undefined) {
        p = load();
        memo.set(key, p);
      }
      return p;
    },
  };
}
