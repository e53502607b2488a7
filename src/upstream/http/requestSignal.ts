import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The abort signal of the read in progress, carried through the async call chain so that a
 * caller far above the clients (the memory layer, when the last GraphQL request waiting for a
 * read goes away) can cancel the idempotent HTTP requests of that read without every client
 * method taking a signal. Logons and other POSTs ignore it: they are shared and not idempotent.
 */
const storage = new AsyncLocalStorage<AbortSignal>();

/** Runs `read` with `signal` as the abort signal of its idempotent HTTP requests. */
export function withRequestSignal<T>(signal: AbortSignal, read: () => Promise<T>): Promise<T> {
  return storage.run(signal, read);
}

/** The abort signal of the read in progress, if any. */
export function currentRequestSignal(): AbortSignal | undefined {
  return storage.getStore();
}
