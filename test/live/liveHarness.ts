import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import WebSocket from 'ws';
import { ManualScheduler } from '../../src/sources/Scheduler.js';
import { ManualClock } from '../../src/sim/clock.js';
import { startHarness, type Harness } from '../server/gatewayHarness.js';
import type { StartSimulatorsOptions } from '../../src/sim/startSimulators.js';

/** A gateway whose pollers run on a manual scheduler, over simulators on a manual clock. */
export interface LiveHarness extends Harness {
  scheduler: ManualScheduler;
  simClock: ManualClock;
  /** Advances the gateway's scheduler by `ms` and waits until the polls it fired are done. */
  tick(ms: number): Promise<void>;
  wsUrl: string;
  streamUrl: string;
}

export const START = Date.parse('2026-11-01T12:00:00Z');

export async function startLive(
  options: { sims?: StartSimulatorsOptions; config?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {},
): Promise<LiveHarness> {
  const scheduler = new ManualScheduler(START);
  const simClock = new ManualClock(START);
  const h = await startHarness({ sims: { clock: simClock, ...options.sims }, config: options.config ?? {}, env: options.env ?? {}, gateway: { scheduler } });
  return Object.assign(h, {
    scheduler,
    simClock,
    async tick(ms: number) {
      scheduler.advance(ms);
      await h.gateway.live.settled();
    },
    wsUrl: h.gateway.graphqlUrl.replace(/^http/, 'ws'),
    streamUrl: `${h.gateway.graphqlUrl}/stream`,
  });
}

/**
 * Resolves once `condition()` holds, checking after each turn of the event loop. Bounded by turns,
 * not by a time budget: a slow machine only makes each turn longer.
 */
export async function until(condition: () => boolean, what: string, turns = 20_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise((resolve) => (i % 100 === 99 ? setTimeout(resolve, 1) : setImmediate(resolve)));
  }
  throw new Error(`never happened: ${what}`);
}

export function wsClient(h: LiveHarness, connectionParams: Record<string, unknown> = {}): WsClient {
  return createWsClient({ url: h.wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
}

export function sseClient(h: LiveHarness, headers: Record<string, string> = {}): SseClient {
  return createSseClient({ url: h.streamUrl, headers, retryAttempts: 0 });
}

/** The events of one subscription, collected as they come. */
export interface Collected {
  results: { data?: Record<string, unknown> | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[];
  /** Resolves with the `n`th result (1-based) once it arrived. */
  nth(n: number): Promise<Collected['results'][number]>;
  done: Promise<void>;
  stop(): Promise<void>;
}

export function collect(iterator: AsyncIterableIterator<unknown>): Collected {
  const results: Collected['results'] = [];
  const waiters: { n: number; resolve: (r: Collected['results'][number]) => void }[] = [];
  const done = (async () => {
    for await (const r of iterator) {
      results.push(r as Collected['results'][number]);
      for (const w of waiters.filter((w) => results.length >= w.n)) w.resolve(results[w.n - 1]!);
    }
  })().catch(() => undefined);
  return {
    results,
    nth: (n) => (results.length >= n ? Promise.resolve(results[n - 1]!) : new Promise((resolve) => waiters.push({ n, resolve }))),
    done,
    async stop() {
      await iterator.return?.();
      await done;
    },
  };
}
