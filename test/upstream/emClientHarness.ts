import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { ManualClock } from '../../src/sim/clock.js';
import type { SimulatedEm } from '../../src/sim/startSimulators.js';
import { EmClient, type EmClientOptions } from '../../src/upstream/em/EmClient.js';
import type { UpstreamError } from '../../src/upstream/errors.js';
import type { HttpRequestEvent } from '../../src/upstream/http/createHttpClient.js';

/** Every log line of every client a test file creates (pino at trace, into memory). */
export interface LogCapture {
  logger: Logger;
  lines: string[];
}

export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

export interface TestClient {
  client: EmClient;
  /** Backoff sleeps requested by the retry logic, in ms (never actually slept). */
  sleeps: number[];
  events: HttpRequestEvent[];
}

/**
 * An EmClient on a simulator with test-friendly defaults: captured logs, the simulator's clock,
 * recorded (instant) retry sleeps, deterministic jitter. Registered for closing in `clients`.
 */
export function emClient(em: SimulatedEm, capture: LogCapture, clock: ManualClock, clients: EmClient[], extra: Partial<EmClientOptions> = {}): TestClient {
  const sleeps: number[] = [];
  const events: HttpRequestEvent[] = [];
  const client = new EmClient({
    name: em.name,
    url: em.url,
    username: em.username,
    password: em.password,
    logger: capture.logger,
    now: () => clock.now(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRequest: (e) => events.push(e),
    ...extra,
    retry: { random: () => 0.5, baseDelayMs: 10, ...extra.retry },
  });
  clients.push(client);
  return { client, sleeps, events };
}

/** The rejection of a promise (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    return err as UpstreamError;
  }
  throw new Error('expected a rejection');
}

/** Basic header value and its base64 part for these credentials. */
export function basicOf(username: string, password: string): { header: string; credentials: string } {
  const credentials = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  return { header: `Basic ${credentials}`, credentials };
}

/** Secrets of a simulated server that must never appear anywhere: password and Basic credentials. */
export function staticSecrets(em: SimulatedEm): string[] {
  const { header, credentials } = basicOf(em.username, em.password);
  return [em.password, header, credentials];
}

/** Which of `secrets` occur in `texts` (empty when none leaked). */
export function leaks(texts: readonly string[], secrets: readonly string[]): string[] {
  return secrets.filter((s) => texts.some((t) => t.includes(s)));
}

/** Message, JSON and cause of an error as text, for leak checks. */
export function errorTexts(err: UpstreamError): string[] {
  const cause = err.cause as Error | undefined;
  return [err.message, JSON.stringify(err), String(err.stack), cause ? `${cause.message} ${String(cause.stack)}` : ''];
}
