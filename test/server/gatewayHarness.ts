import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { parseConfig, type GatewayConfig } from '../../src/config/loadConfig.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/createGateway.js';
import { startSimulators, type Simulators, type StartSimulatorsOptions } from '../../src/sim/startSimulators.js';

/** A settable clock for readiness staleness and the clients (never the wall clock in assertions). */
export class TestClock {
  constructor(public ms = Date.parse('2026-11-01T12:00:00Z')) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Log lines captured as parsed JSON objects. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** The simulators' gateway config, passwords as `{ env }` secrets, listening on a free port. */
export async function simConfig(sims: Simulators, extra: Record<string, unknown> = {}, extraEnv: NodeJS.ProcessEnv = {}): Promise<GatewayConfig> {
  const env: NodeJS.ProcessEnv = { ...extraEnv };
  const servers = sims.describe().servers.map((s) => {
    env[`PW_${s.name.replace(/-/g, '_')}`] = s.password;
    return {
      name: s.name,
      kind: s.kind,
      url: s.url,
      ...(s.apiVersion ? { apiVersion: s.apiVersion } : {}),
      username: s.username,
      password: { env: `PW_${s.name.replace(/-/g, '_')}` },
    };
  });
  // No retries: a closed simulator should fail at once, not after backoff.
  return parseConfig({ listen: { host: '127.0.0.1', port: 0 }, servers, defaults: { retry: { limit: 0 } }, ...extra }, { env });
}

export interface Harness {
  sims: Simulators;
  gateway: Gateway;
  clock: TestClock;
  lines: Record<string, unknown>[];
  config: GatewayConfig;
  /** POSTs a GraphQL operation as JSON (what Apollo's CSRF prevention lets through). */
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: GqlBody }>;
  close(): Promise<void>;
}

export interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Simulators plus a gateway on them, on 127.0.0.1:0. */
export async function startHarness(
  options: { sims?: StartSimulatorsOptions; config?: Record<string, unknown>; env?: NodeJS.ProcessEnv; gateway?: Partial<GatewayOptions> } = {},
): Promise<Harness> {
  const sims = await startSimulators({ em: 2, vbo: ['v8'], sessionsPerServer: 30, ...options.sims });
  const clock = new TestClock();
  const { logger, lines } = captureLogger();
  const config = await simConfig(sims, options.config, options.env);
  let gateway: Gateway;
  try {
    gateway = await createGateway(config, { logger, now: clock.now, defaultMetrics: false, ...options.gateway });
  } catch (err) {
    await sims.close();
    throw err;
  }
  return {
    sims,
    gateway,
    clock,
    lines,
    config,
    async gql(query, variables, headers = {}) {
      const res = await fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GqlBody };
    },
    async close() {
      await gateway.close();
      await sims.close();
    },
  };
}

/** The `/readyz` body. */
export interface ReadyBody {
  ready: boolean;
  reason?: string;
  sources: { name: string; kind: string; status: string; lastLatencyMs: number | null; lastError: { code: string; message: string } | null }[];
}

/** `GET /readyz` of a harness's gateway. */
export async function readyz(harness: Harness, headers: Record<string, string> = {}): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${harness.gateway.url}/readyz`, { headers });
  return { status: res.status, body: (await res.json()) as ReadyBody };
}
