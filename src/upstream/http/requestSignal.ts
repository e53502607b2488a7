import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The abort signal of the read in progress, carried through the async call chain so that a
 * caller far above the clients (the memory layer, when the last GraphQL request waiting for a
 * read goes away) can cancel the idempotent HTTP requests of that read without every client
 * method taking a signal. Logons and other POSTs ignore it: they are shared and not idempotent.
 */
const storage = new AsyncLocalStorage<AbortSignal>();

/**
 * Reads running in a signal's context. On Node 20 an enabled AsyncLocalStorage puts a hook on
 * every promise the process creates (about 7% of a warm page's CPU, where nothing is read from a
 * server), so the storage is disabled whenever no read is running; the next `run` enables it again.
 */
let running = 0;

/** Runs `read` with `signal` as the abort signal of its idempotent HTTP requests. */
export function withRequestSignal<T>(signal: AbortSignal, read: () => Promise<T>): Promise<T> {
  running++;
  let result: Promise<T>;
  try {
    result = storage.run(signal, read);
  } catch (err) {
    result = Promise.reject(err as Error);
  }
  return result.finally(() => {
    if (--running === 0) storage.disable();
  });
}

/** The abort signal of the read in progress, if any. */
export function currentRequestSignal(): AbortSignal | undefined {
  return storage.getStore();
}
