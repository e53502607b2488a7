import { ApolloServer } from '@apollo/server';
import pino, { type Logger } from 'pino';
import { Writable } from 'node:stream';
import { DEFAULT_HTTP, type ServerConfig } from '../../src/config/loadConfig.js';
import { createGraph, type CreateGraphOptions, type Graph } from '../../src/graph/createGraph.js';
import type { GraphContext } from '../../src/graph/GraphContext.js';
import { createSources } from '../../src/sources/createSources.js';
import type { ReadPolicy, Source, SourceHealth } from '../../src/upstream/Source.js';
import type { CacheStore } from '../../src/sources/memory/CacheStore.js';
import { MEMORY_DEFAULTS, type MemorySettings } from '../../src/sources/memory/memoryDefaults.js';
import type { Scheduler } from '../../src/sources/Scheduler.js';
import { startSimulators, type Simulators, type StartSimulatorsOptions } from '../../src/sim/startSimulators.js';

/** Config entries for every simulated server, with test-sized HTTP settings. */
export function serverConfigs(sims: Simulators, http: Partial<{ totalMs: number; retries: number }> = {}): ServerConfig[] {
  const settings = {
    timeouts: { ...DEFAULT_HTTP.timeouts, ...(http.totalMs !== undefined && { responseMs: http.totalMs, totalMs: http.totalMs }) },
    retry: { ...DEFAULT_HTTP.retry, limit: http.retries ?? 0 },
    concurrency: DEFAULT_HTTP.concurrency,
    circuitBreaker: DEFAULT_HTTP.circuitBreaker,
  };
  return sims.describe().servers.map((s): ServerConfig => {
    const common = { name: s.name, url: s.url, username: s.username, password: s.password, tls: { insecure: false }, ...settings };
    return s.kind === 'enterprise-manager'
      ? { ...common, kind: 'enterprise-manager', format: 'xml' }
      : { ...common, kind: 'microsoft365', apiVersion: s.apiVersion ?? 'v8' };
  });
}

export interface LogLines {
  logger: Logger;
  lines: string[];
}

export function memoryLogger(): LogLines {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

export interface GraphHarness {
  sims: Simulators;
  sources: Source[];
  /** A source's health now, as `Source.status` and readiness see it. */
  health(name: string): SourceHealth;
  graph: Graph;
  server: ApolloServer<GraphContext>;
  logs: LogLines;
  /** Runs one operation through Apollo with the real wiring; returns the single result. */
  run(
    query: string,
    variables?: Record<string, unknown>,
    policy?: ReadPolicy,
  ): Promise<{
    data?: Record<string, unknown> | null;
    errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[];
  }>;
  /** Resets every simulator's request log. */
  resetLogs(): void;
  /** Requests per server since the last reset, excluding logon/token calls. */
  requests(): Record<string, number>;
  /** Logon/token calls per server since the last reset. */
  logons(): Record<string, number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  sims?: StartSimulatorsOptions;
  http?: Partial<{ totalMs: number; retries: number }>;
  graph?: Partial<Omit<CreateGraphOptions, 'sources' | 'health' | 'logger'>>;
  now?: () => number;
  /** The memory layer (off unless given): its settings over the defaults, and its clock and timers. */
  memory?: { settings?: Partial<MemorySettings>; scheduler: Scheduler; store?: CacheStore };
  /** Edit the generated server configs (e.g. a wrong password) before the sources are built. */
  configs?: (configs: ServerConfig[]) => ServerConfig[];
}

const isLogon = (line: { method: string; path: string }) => (line.method === 'POST' && /sessionMngr|\/token$/i.test(line.path)) || /^\/api\/?$/.test(line.path);

export async function startGraph(options: HarnessOptions = {}): Promise<GraphHarness> {
  const sims = await startSimulators({ em: 3, vbo: ['v8', 'v6'], sessionsPerServer: 300, seed: 5, ...options.sims });
  const logs = memoryLogger();
  const set = createSources((options.configs ?? ((c) => c))(serverConfigs(sims, options.http)), {
    logger: logs.logger,
    ...(options.now && { now: options.now }),
    ...(options.memory && {
      now: options.memory.scheduler.now,
      memory: {
        settings: { ...MEMORY_DEFAULTS, ...options.memory.settings, ttlMs: { ...MEMORY_DEFAULTS.ttlMs, ...options.memory.settings?.ttlMs } },
        scheduler: options.memory.scheduler,
        ...(options.memory.store && { store: options.memory.store }),
      },
    }),
    sleep: async () => {},
  });
  const sources = set.list;
  const graph = createGraph({
    sources,
    health: set.health,
    ...(options.memory && { now: options.memory.scheduler.now }),
    limits: { defaultPageSize: 50, maxPageSize: 1000 },
    cursorSecret: 'test-secret',
    logger: logs.logger,
    ...options.graph,
  });
  const server = new ApolloServer<GraphContext>({
    typeDefs: graph.typeDefs,
    resolvers: graph.resolvers as never,
    plugins: graph.plugins,
    formatError: graph.formatError,
  });
  await server.start();
  const entries = () => sims.servers.map((s) => [s.name, s.log.all()] as const);
  return {
    sims,
    sources,
    health: set.health,
    graph,
    server,
    logs,
    async run(query, variables, policy) {
      const res = await server.executeOperation({ query, ...(variables && { variables }) }, { contextValue: graph.createContext(policy ? { policy } : {}) });
      if (res.body.kind !== 'single') throw new Error('expected a single result');
      return res.body.singleResult as never;
    },
    resetLogs: () => sims.servers.forEach((s) => s.log.reset()),
    requests: () => Object.fromEntries(entries().map(([n, e]) => [n, e.filter((l) => !isLogon(l)).length])),
    logons: () => Object.fromEntries(entries().map(([n, e]) => [n, e.filter(isLogon).length])),
    async close() {
      await server.stop();
      await set.close();
      await sims.close();
    },
  };
}

/** A session as the simulators' worlds hold it, for expected orders. */
export interface WorldSession {
  source: string;
  id: string;
  timeMs: number;
  vm?: string;
  state: string;
  result?: string;
}

/** Every session of every simulator, straight from the worlds (the ground truth). */
export function worldSessions(sims: Simulators): WorldSession[] {
  return sims.servers.flatMap((s): WorldSession[] =>
    s.kind === 'enterprise-manager'
      ? s.world.restoreSessions.map((r) => ({
          source: s.name,
          id: r.id.toLowerCase(),
          timeMs: r.creationTime,
          vm: r.vmDisplayName,
          state: r.state,
          result: r.result,
        }))
      : s.world.restoreSessions.map((r) => ({ source: s.name, id: r.id.toLowerCase(), timeMs: r.creationTime, state: r.state, result: r.result })),
  );
}

/** The merged order of design.md section 5: (time, source, id), all in the list's direction. */
export function sortSessions(list: WorldSession[], order: 'NEWEST_FIRST' | 'OLDEST_FIRST' = 'NEWEST_FIRST'): WorldSession[] {
  const sign = order === 'NEWEST_FIRST' ? -1 : 1;
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...list].sort((a, b) => sign * (a.timeMs - b.timeMs || cmp(a.source, b.source) || cmp(a.id, b.id)));
}
