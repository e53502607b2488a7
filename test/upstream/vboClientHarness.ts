import { Writable } from 'node:stream';
import pino from 'pino';
import { RequestLog } from '../../src/sim/RequestLog.js';
import { SimServer } from '../../src/sim/SimServer.js';
import type { SimHandler, SimRequest, SimResponse } from '../../src/sim/SimServer.js';
import { ManualClock } from '../../src/sim/clock.js';
import { VboSimulator } from '../../src/sim/vbo/VboSimulator.js';
import type { VboSimulatorOptions } from '../../src/sim/vbo/VboSimulator.js';
import { generateVboWorld } from '../../src/sim/world/generateWorld.js';
import type { VboServerWorld } from '../../src/sim/world/types.js';
import { VboClient, type VboClientOptions } from '../../src/upstream/vbo/VboClient.js';
import type { VboApiVersion } from '../../src/upstream/vbo/types.js';

export const START = '2026-11-01T00:00:00Z';
export const USER = 'graph-reader@sim.onmicrosoft.com';
export const PASSWORD = 'vbo-S3cret-Pa55word';

/** What the recording handler saw of `/token` traffic, as the server observed it (not the client's own account). */
export interface TokenTraffic {
  /** `grant_type` of every `/token` request, in order. */
  grants: string[];
  /** Every access and refresh token the server handed out. */
  issued: string[];
}

/**
 * Wraps the simulator (test side only; src/sim stays untouched) to record the grant type of each
 * token request and every token issued, and optionally to rewrite the token response.
 */
export function recordingHandler(
  sim: VboSimulator,
  traffic: TokenTraffic,
  rewriteToken?: (body: Record<string, unknown>) => Record<string, unknown>,
): SimHandler {
  return {
    template: (req) => sim.template(req),
    errorResponse: (req, status, message) => sim.errorResponse(req, status, message),
    setBaseUrl: (base) => sim.setBaseUrl(base),
    handle(req: SimRequest): SimResponse {
      const isToken = req.method === 'POST' && /^\/v\d\/token$/i.test(req.path);
      if (isToken) traffic.grants.push(new URLSearchParams(req.body.toString('utf8')).get('grant_type') ?? '?');
      const res = sim.handle(req) as SimResponse;
      if (isToken && res.status === 200 && typeof res.body === 'string') {
        let body = JSON.parse(res.body) as Record<string, unknown>;
        traffic.issued.push(String(body.access_token), String(body.refresh_token));
        if (rewriteToken) body = rewriteToken(body);
        return { ...res, body: JSON.stringify(body) };
      }
      return res;
    },
  };
}

/** One VB365 simulator built directly (for options `startSimulators` does not expose), with a recording handler. */
export interface DirectVbo {
  server: SimServer;
  sim: VboSimulator;
  log: RequestLog;
  clock: ManualClock;
  url: string;
  world: VboServerWorld;
  traffic: TokenTraffic;
  close(): Promise<void>;
}

export async function startDirectVbo(
  apiVersion: VboApiVersion,
  extra: Partial<Omit<VboSimulatorOptions, 'world' | 'log' | 'apiVersion' | 'clock'>> = {},
  rewriteToken?: (body: Record<string, unknown>) => Record<string, unknown>,
  sessionsPerServer = 40,
): Promise<DirectVbo> {
  const clock = new ManualClock(START);
  const log = new RequestLog();
  const world = generateVboWorld('m365-direct', { seed: 7, sessionsPerServer, now: START });
  const sim = new VboSimulator({ world, log, apiVersion, username: USER, password: PASSWORD, clock, ...extra });
  const traffic: TokenTraffic = { grants: [], issued: [] };
  const server = new SimServer({ handler: recordingHandler(sim, traffic, rewriteToken), log, onExpireAll: () => sim.expireAll() });
  const url = await server.listen();
  return { server, sim, log, clock, url, world, traffic, close: () => server.close() };
}

/** A pino logger at trace level writing into an array. */
export function captureLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

/** Clients made by a test, closed after it. */
export const openClients: VboClient[] = [];

export function makeClient(options: Partial<VboClientOptions> & Pick<VboClientOptions, 'url' | 'apiVersion' | 'username' | 'password'>): {
  client: VboClient;
  sleeps: number[];
} {
  const sleeps: number[] = [];
  const client = new VboClient({
    name: 'm365-test',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    retry: { random: () => 0.5, baseDelayMs: 10 },
    ...options,
  });
  openClients.push(client);
  return { client, sleeps };
}

export async function closeClients(): Promise<void> {
  await Promise.all(openClients.splice(0).map((c) => c.close()));
}

/** Collects every item of an async page iterator. */
export async function collect<T>(pages: AsyncIterable<{ items: T[] }>): Promise<T[]> {
  const out: T[] = [];
  for await (const p of pages) out.push(...p.items);
  return out;
}

/** Resolves with the rejection of a promise (fails if it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}
