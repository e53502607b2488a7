/**
 * The graph benchmark of issue 5, on 3 EM + 2 VB365 simulators (v8, v6):
 * - upstream requests of the 500-session page (backupServer, restorePoint, organization selected),
 *   batched vs naive (loaders bypassed);
 * - its p50/p95 latency at 20 ms simulated latency against the floor: two sequential upstream waves
 *   measured with the clients directly (one list call per server, then one batched lookup per
 *   server and kind, each wave in parallel across servers);
 * - page 1 vs page 50 (requests and latency);
 * - throughput and RSS over many queries at 0 ms latency.
 *
 * The simulators run in their own process (bench/simProcess.ts, `veeam-graph sim`); requests are
 * counted on them through `GET /_sim/stats`, so the RSS is the gateway's alone.
 *
 *   npm run bench -- graph [--sessions 300] [--runs 40] [--queries 10000] [--throughput-first 50] [--concurrency 8]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ApolloServer } from '@apollo/server';
import pino from 'pino';
import { DEFAULT_HTTP, type ServerConfig } from '../src/config/loadConfig.js';
import { createGraph } from '../src/graph/createGraph.js';
import type { GraphContext } from '../src/graph/GraphContext.js';
import { createRequestScope } from '../src/upstream/Source.js';
import { createSources } from '../src/sources/createSources.js';
import type { Source } from '../src/upstream/Source.js';
import { naiveLoaders } from './naiveLoaders.js';
import { countRequests, isAuthTemplate, startSimProcess, sum as total, type SimDescriptor, type SimProcess } from './simProcess.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    sessions: { type: 'string', default: '300' },
    runs: { type: 'string', default: '40' },
    queries: { type: 'string', default: '10000' },
    'throughput-first': { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '8' },
  },
});
const SESSIONS = Number(values.sessions);
const RUNS = Number(values.runs);
const QUERIES = Number(values.queries);
const THROUGHPUT_FIRST = Number(values['throughput-first']);
const CONCURRENCY = Number(values.concurrency);
const LATENCY_MS = 20;

const PAGE = `query Page($first: Int, $after: String) {
  restoreSessions(first: $first, after: $after) {
    edges { cursor node { __typename id creationTime
      ... on EnterpriseManagerRestoreSession { backupServer { name } restorePoint { creationTime } }
      ... on Microsoft365RestoreSession { organization { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const logger = pino({ level: 'silent' });

function configs(servers: readonly SimDescriptor[]): ServerConfig[] {
  return servers.map((s): ServerConfig => {
    const common = { name: s.name, url: s.url, username: s.username, password: s.password, tls: { insecure: false }, ...DEFAULT_HTTP };
    return s.kind === 'enterprise-manager'
      ? { ...common, kind: 'enterprise-manager', format: 'xml' }
      : { ...common, kind: 'microsoft365', apiVersion: s.apiVersion ?? 'v8' };
  });
}

async function gateway(sims: SimProcess, naive: boolean) {
  const set = createSources(configs(sims.servers), { logger });
  const sources = set.list;
  const graph = createGraph({
    sources,
    health: set.health,
    limits: { defaultPageSize: 50, maxPageSize: 1000 },
    logger,
    ...(naive && { loaders: naiveLoaders }),
  });
  const server = new ApolloServer<GraphContext>({
    typeDefs: graph.typeDefs,
    resolvers: graph.resolvers as never,
    plugins: graph.plugins,
    formatError: graph.formatError,
  });
  await server.start();
  const run = async (variables: Record<string, unknown>) => {
    const res = await server.executeOperation({ query: PAGE, variables }, { contextValue: graph.createContext() });
    if (res.body.kind !== 'single' || res.body.singleResult.errors) throw new Error(`query failed: ${JSON.stringify(res.body)}`);
    return res.body.singleResult.data as { restoreSessions: { edges: unknown[]; pageInfo: { endCursor: string } } };
  };
  return { sources, run, close: async () => (await server.stop(), await set.close()) };
}

/** The list calls of the page walk: EM `GET /api/query?type=RestoreSession`, VB365 `GET /vN/RestoreSessions`. */
const isListTemplate = (template: string) => /^GET (\/api\/query\?type=RestoreSession|\/v\d+\/RestoreSessions)$/.test(template);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * The floor: wave 1 lists sessions on every server (first + 1 each, in parallel); wave 2 resolves
 * the links of the merged page only (the newest 500 across servers), one batched call per server
 * and kind, in parallel. The same work the gateway must do, with no merge bookkeeping of its own.
 */
async function floorOnce(sources: Source[]): Promise<void> {
  const window = { fromMs: null, toMs: null };
  const lists = await Promise.all(
    sources.map(async (s) => {
      const result = await s.listRestoreSessions({ window, order: 'NEWEST_FIRST', limit: 501, conditions: {} }, createRequestScope());
      return { s, items: result.items };
    }),
  );
  const page = lists
    .flatMap(({ s, items }) => items.map((item) => ({ s, item, t: Date.parse(item.creationTime) })))
    .sort((a, b) => b.t - a.t)
    .slice(0, 500);
  await Promise.all(
    sources.flatMap((s): Promise<unknown>[] => {
      const items = page.filter((p) => p.s === s).map((p) => p.item);
      if (items.length === 0) return [];
      const scope = createRequestScope();
      const ids = (key: 'backupServerId' | 'restorePointId') =>
        items.flatMap((i) => (key in i && i[key as keyof typeof i] ? [String(i[key as keyof typeof i])] : []));
      const calls: Promise<unknown>[] = [];
      if (items.some((i) => i.entity === 'Microsoft365RestoreSession')) calls.push(s.listAll('Organization', scope));
      const servers = ids('backupServerId');
      const points = ids('restorePointId');
      if (servers.length > 0) calls.push(s.lookup('BackupServer', servers, scope));
      if (points.length > 0) calls.push(s.lookup('RestorePoint', points, scope));
      return calls;
    }),
  );
}

const sims = await startSimProcess({ em: 3, vboVersions: ['v8', 'v6'], sessions: SESSIONS, seed: 'bench-graph', latencyMs: LATENCY_MS });
const batched = await gateway(sims, false);
const naive = await gateway(sims, true);

// Requests per query (cold: logons counted separately).
await sims.resetStats();
await batched.run({ first: 500 });
const batchedRequests = await sims.requestsPerServer();
const batchedLogons = await sims.logonsPerServer();
await sims.resetStats();
await naive.run({ first: 500 });
const naiveRequests = await sims.requestsPerServer();

// Latency at 20 ms.
await floorOnce(batched.sources);
const floorMs = await timed(RUNS, () => floorOnce(batched.sources));
const batchedMs = await timed(RUNS, () => batched.run({ first: 500 }));
const naiveMs = await timed(Math.max(3, Math.floor(RUNS / 10)), () => naive.run({ first: 500 }));

// Page 1 vs page 50 (10 per page).
let after: string | null = null;
const pages: { page: number; ms: number; requests: number; listRequests: number }[] = [];
for (let p = 1; p <= 50; p++) {
  await sims.resetStats();
  const t = performance.now();
  const data = await batched.run({ first: 10, after });
  const ms = performance.now() - t;
  if (p === 1 || p === 50) {
    // List calls are the cost of paging; link lookups depend on which servers the page's items come from.
    const stats = await sims.stats();
    pages.push({
      page: p,
      ms,
      requests: total(countRequests(stats, (template) => !isAuthTemplate(template))),
      listRequests: total(countRequests(stats, isListTemplate)),
    });
  }
  after = data.restoreSessions.pageInfo.endCursor;
}

// Throughput at 0 ms latency.
await sims.setFaults('*', { latencyMs: 0 });
global.gc?.();
const rssBefore = process.memoryUsage().rss;
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < QUERIES) {
      next++;
      await batched.run({ first: THROUGHPUT_FIRST });
    }
  }),
);
const throughputSec = (performance.now() - t0) / 1000;
global.gc?.();
const rssAfter = process.memoryUsage().rss;

await batched.close();
await naive.close();
await sims.close();

const p50 = percentile(batchedMs, 50);
const floorP50 = percentile(floorMs, 50);
const results = {
  setup: { em: 3, vbo: ['v8', 'v6'], sessionsPerServer: SESSIONS, latencyMs: LATENCY_MS, runs: RUNS, simulators: 'own process' },
  requestsPerQuery: {
    batched: batchedRequests,
    batchedTotal: total(batchedRequests),
    coldLogons: batchedLogons,
    naive: naiveRequests,
    naiveTotal: total(naiveRequests),
  },
  latencyMs: {
    floor: { p50: floorP50, p95: percentile(floorMs, 95) },
    batched: { p50, p95: percentile(batchedMs, 95), ratioToFloorP50: p50 / floorP50 },
    naive: { p50: percentile(naiveMs, 50), p95: percentile(naiveMs, 95) },
  },
  pages,
  throughput: {
    queries: QUERIES,
    first: THROUGHPUT_FIRST,
    concurrency: CONCURRENCY,
    seconds: throughputSec,
    queriesPerSec: QUERIES / throughputSec,
    rssBeforeMb: rssBefore / 2 ** 20,
    rssAfterMb: rssAfter / 2 ** 20,
  },
};

const f = (n: number) => n.toFixed(1);
console.table({
  'requests/query batched': { value: `${total(batchedRequests)} ${JSON.stringify(batchedRequests)}` },
  'requests/query naive': { value: `${total(naiveRequests)} ${JSON.stringify(naiveRequests)}` },
  'floor p50/p95 ms': { value: `${f(floorP50)} / ${f(percentile(floorMs, 95))}` },
  'batched p50/p95 ms': { value: `${f(p50)} / ${f(percentile(batchedMs, 95))} (p50 = ${(p50 / floorP50).toFixed(2)}x floor)` },
  'naive p50/p95 ms': { value: `${f(percentile(naiveMs, 50))} / ${f(percentile(naiveMs, 95))}` },
  'page 1 (first 10)': { value: `${pages[0]!.requests} requests (${pages[0]!.listRequests} list calls), ${f(pages[0]!.ms)} ms` },
  'page 50 (first 10)': { value: `${pages[1]!.requests} requests (${pages[1]!.listRequests} list calls), ${f(pages[1]!.ms)} ms` },
  [`throughput (first ${THROUGHPUT_FIRST}, 0 ms)`]: { value: `${f(QUERIES / throughputSec)} queries/s over ${QUERIES}` },
  'RSS before/after MB': { value: `${f(rssBefore / 2 ** 20)} / ${f(rssAfter / 2 ** 20)}` },
});
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/graph.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
