import type { Logger } from 'pino';
import { createHttpClient, type HttpClient } from './http/createHttpClient.js';
import type { UpstreamClientOptions } from './UpstreamClientOptions.js';

/**
 * The HTTP client of one upstream client: the configured server's base URL, TLS, timeouts,
 * retries, socket cap and circuit breaker (passed through under the same names, defaults filled in
 * by `createHttpClient` from `HTTP_DEFAULTS`), with the password registered as a permanent secret.
 *
 * @param options the upstream client's options
 * @param resolved what the client resolved itself: its clock and parent logger, and optionally its
 *   sleep and the version for the User-Agent
 */
export function createUpstreamHttpClient(
  options: UpstreamClientOptions,
  resolved: { now: () => number; logger: Logger; sleep?: (ms: number) => Promise<void>; version?: string },
): HttpClient {
  return createHttpClient({
    name: options.name,
    baseUrl: options.url,
    logger: resolved.logger,
    now: resolved.now,
    secrets: [options.password],
    ...(resolved.sleep !== undefined && { sleep: resolved.sleep }),
    ...(resolved.version !== undefined && { version: resolved.version }),
    ...(options.tls !== undefined && { tls: options.tls }),
    ...(options.timeouts !== undefined && { timeouts: options.timeouts }),
    ...(options.retry !== undefined && { retry: options.retry }),
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    ...(options.circuitBreaker !== undefined && { circuitBreaker: options.circuitBreaker }),
    ...(options.onRequest !== undefined && { onRequest: options.onRequest }),
    ...(options.onCircuit !== undefined && { onCircuit: options.onCircuit }),
  });
}
