/**
 * Our gateway against a hand-written one (bench/baselineGateway.ts: Apollo Server 5 +
 * @apollo/datasource-rest, no DataLoader, one GET per link), over HTTP, against the SAME
 * simulator process (3 EM + VB365 v8 and v6, bench/simProcess.ts), one gateway at a time:
 *
 * - ours-xml / ours-json: `createGateway` of src/server (EM `format: xml` / `json`), listening on
 *   127.0.0.1:0, queried with POST /graphql; the merged first page with every link selected;
 * - baseline: the same data in its own minimal schema.
 *
 * Per gateway: upstream requests per query at N=50 and N=500 (counted on the simulators through
 * `/_sim/stats`, logons apart; cold = first query of a fresh instance, warm = the same query
 * again); p50/p95 latency at 20 ms simulator latency, cold (each sample a fresh instance: empty
 * caches, no tokens) and warm (repeated on one instance); throughput with 16 concurrent clients at
 * 0 ms latency, N=50, for a bounded duration and count; CPU ms per query of this process
 * (`process.cpuUsage()`, gateway plus the load generator's fetch, the same for all three; the
 * simulators' CPU is read from /proc apart; the load generator's own share is measured against a
 * canned-response server) and RSS after the throughput phase. Then the goals as ratios, against a
 * wave floor: one direct GET to one simulator (the first-page list call). Before measuring, each
 * gateway runs a few throwaway instances (`--warmup`), so "cold" is a cold instance, not cold JIT.
 *
 *   npm run bench -- compare [--quick] [--cold-runs 10] [--warm-runs 40] [--duration 15] [--queries 3000]
 *                            [--concurrency 16] [--latency 20] [--warmup 5] [--sessions 300]
 *                            [--only ours-xml,ours-json,baseline] [--baseline-dedupe]
 *
 * `--quick` (under 2 minutes): 3 cold runs, 8 warm runs, 3 warm-up instances, throughput 4 s or
 * 1500 queries; explicit flags win.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createGateway } from '../src/server/createGateway.js';
import { BASELINE_QUERY, startBaselineGateway } from './baselineGateway.js';
import { countRequests, isAuthTemplate, isLogonTemplate, simGatewayConfig, startSimProcess, sum, type SimDescriptor, type SimStats } from './simProcess.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string', default: '300' },
    'cold-runs': { type: 'string' },
    'warm-runs': { type: 'string' },
    duration: { type: 'string' },
    queries: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    latency: { type: 'string', default: '20' },
    warmup: { type: 'string' },
    only: { type: 'string', default: 'ours-xml,ours-json,baseline' },
    'baseline-dedupe': { type: 'boolean', default: false },
  },
});
const QUICK = values.quick;
const num = (flag: string | undefined, full: number, quick: number): number => {
  const n = flag === undefined ? (QUICK ? quick : full) : Number(flag);
  if (!Number.isFinite(n) || n < 0) throw new Error(`bad numeric flag: ${flag}`);
  return n;
};
const SESSIONS = num(values.sessions, 300, 300);
const COLD_RUNS = Math.max(1, num(values['cold-runs'], 10, 3));
const WARM_RUNS = Math.max(1, num(values['warm-runs'], 40, 8));
const DURATION_S = num(values.duration, 15, 4);
const MAX_QUERIES = num(values.queries, 3000, 1500);
const CONCURRENCY = Math.max(1, num(values.concurrency, 16, 16));
const LATENCY_MS = num(values.latency, 20, 20);
const WARMUP_INSTANCES = num(values.warmup, 5, 3);
const SIZES = [50, 500] as const;
const THROUGHPUT_FIRST = 50;
const NAMES = ['ours-xml', 'ours-json', 'baseline'] as const;
type Name = (typeof NAMES)[number];
const ONLY = values.only.split(',').map((s) => s.trim());
for (const n of ONLY) if (!(NAMES as readonly string[]).includes(n)) throw new Error(`--only: unknown gateway ${n} (expected ${NAMES.join(', ')})`);

const OURS_QUERY = `query Page($first: Int) {
  restoreSessions(first: $first) {
    edges { node { __typename id creationTime
      ... on EnterpriseManagerRestoreSession { backupServer { name } restorePoint { creationTime } }
      ... on Microsoft365RestoreSession { organization { name } } } }
  }
}`;

interface Row {
  creationTime: string;
  backupServer?: { name: string } | null;
  restorePoint?: { creationTime: string | null } | null;
  organization?: { name: string } | null;
}
interface Running {
  url: string;
  close(): Promise<void>;
}
interface Candidate {
  name: Name;
  /** `metrics`: prom-client's process metrics (timers per registry that close() never stops, so off for throwaway instances). */
  start(options: { metrics: boolean }): Promise<Running>;
  query: string;
  rows(data: unknown): Row[];
}

const logger = pino({ level: 'silent' });

/** The gateway config of the simulators, built in code like src/cli/runDemo.ts does (passwords as `{ env }` secrets). */
async function startOurs(servers: readonly SimDescriptor[], format: 'xml' | 'json', metrics: boolean): Promise<Running> {
  const config = await simGatewayConfig(servers, { format, extra: { logLevel: 'silent' } });
  const gateway = await createGateway(config, { logger, defaultMetrics: metrics });
  return { url: gateway.graphqlUrl, close: () => gateway.close() };
}

/** One GraphQL POST; the data, and the raw body (the load-generator floor replays it). */
async function graphqlRaw(url: string, query: string, first: number): Promise<{ data: unknown; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
    body: JSON.stringify({ query, variables: { first } }),
  });
  const text = await res.text();
  const body = JSON.parse(text) as { data?: unknown; errors?: unknown[] };
  if (!res.ok || (body.errors && body.errors.length > 0)) throw new Error(`${url}: HTTP ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 600)}`);
  return { data: body.data, text };
}
const graphql = async (url: string, query: string, first: number): Promise<unknown> => (await graphqlRaw(url, query, first)).data;

interface Load {
  done: number;
  errors: number;
  firstError?: string;
  seconds: number;
  cpuMs: number;
}
/** CONCURRENCY clients querying until `seconds` or `max` queries, whichever comes first; CPU of this process over it. */
async function load(url: string, query: string, first: number, seconds: number, max: number): Promise<Load> {
  let issued = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (issued < max && performance.now() < deadline) {
        issued++;
        try {
          await graphql(url, query, first);
          done++;
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  return { done, errors, ...(firstError !== undefined && { firstError }), seconds: (performance.now() - t0) / 1000, cpuMs: cpuMsSince(cpu) };
}

/**
 * The load generator alone: the same clients against a plain node:http server in this process
 * that answers every POST with a recorded response of the gateway (same bytes). Its CPU per query
 * is what the throughput phase spends outside the gateway; its q/s the ceiling of this client.
 */
async function loadGeneratorFloor(body: string, query: string, seconds: number, max: number): Promise<Load> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await load(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, query, THROUGHPUT_FIRST, seconds, max);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};
const mb = (bytes: number) => bytes / 2 ** 20;
const nonAuth = (template: string) => !isAuthTemplate(template);

/** What both gateways must agree on: the page's creation times and link values, order-free (ties may order differently). */
function signature(rows: Row[]): string[] {
  const time = (t: string | null | undefined) => (t ? String(Date.parse(t)) : '');
  return rows.map((r) => `${time(r.creationTime)}|${r.backupServer?.name ?? ''}|${time(r.restorePoint?.creationTime)}|${r.organization?.name ?? ''}`).sort();
}

const sims = await startSimProcess({ em: 3, vboVersions: ['v8', 'v6'], sessions: SESSIONS, seed: 'bench-compare', latencyMs: 0 });
const allCandidates: Candidate[] = [
  ...(['xml', 'json'] as const).map((format): Candidate => ({
    name: `ours-${format}`,
    start: ({ metrics }) => startOurs(sims.servers, format, metrics),
    query: OURS_QUERY,
    rows: (data) => (data as { restoreSessions: { edges: { node: Row }[] } }).restoreSessions.edges.map((e) => e.node),
  })),
  {
    name: 'baseline',
    start: async () => {
      const g = await startBaselineGateway(sims.servers, { dedupe: values['baseline-dedupe'] });
      return { url: g.url, close: g.close };
    },
    query: BASELINE_QUERY,
    rows: (data) => (data as { restoreSessions: Row[] }).restoreSessions,
  },
];
const candidates = allCandidates.filter((c) => ONLY.includes(c.name));

/** The wave floor: one direct GET of the first-page list call (pageSize N+1) to em-1, at the phase latency. */
async function waveFloor(first: number, runs: number): Promise<number[]> {
  const em = sims.servers.find((s) => s.kind === 'enterprise-manager')!;
  const logon = await fetch(`${em.url}/sessionMngr/?v=latest`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${em.username}:${em.password}`).toString('base64')}` },
  });
  await logon.arrayBuffer();
  const headers = { 'x-restsvcsessionid': logon.headers.get('x-restsvcsessionid') ?? '' };
  const url = `${em.url}/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=${first + 1}`;
  const out: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`wave floor: HTTP ${res.status}`);
    if (i > 0) out.push(performance.now() - t); // the first opens the connection
  }
  return out;
}

interface Measured {
  requestsPerQuery: Record<
    number,
    { cold: number; coldLogons: number; warm: number; coldByServer: Record<string, number>; warmByServer: Record<string, number> }
  >;
  latencyMs: Record<number, { cold: { p50: number; p95: number; runs: number }; warm: { p50: number; p95: number; runs: number } }>;
  cpuMsPerQuery: { cold: Record<number, number>; warm: Record<number, number>; throughput: number; loadGeneratorAlone: number };
  throughput: {
    first: number;
    concurrency: number;
    queries: number;
    errors: number;
    firstError?: string;
    seconds: number;
    queriesPerSec: number;
    upstreamRequestsPerQuery: number;
    simulatorCpuMsPerQuery: number | null;
    loadGeneratorAloneQueriesPerSec: number;
    responseBytes: number;
  };
  memory: { rssBeforeMb: number; rssAfterMb: number; heapUsedAfterMb: number };
}

const results: Partial<Record<Name, Measured>> = {};
const signatures: Partial<Record<Name, Record<number, string[]>>> = {};
const floorSamples: Record<number, number[]> = {};

const started = performance.now();
try {
  await sims.setFaults('*', { latencyMs: LATENCY_MS });
  for (const n of SIZES) floorSamples[n] = await waveFloor(n, Math.max(10, WARM_RUNS));

  for (const c of candidates) {
    const log = (what: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${c.name}: ${what}\n`);

    // 0. JIT warm-up at 0 ms: a few fresh instances, each queried cold and warm, so that "cold" below
    //    means a fresh gateway instance (empty caches, no tokens) in a warm process, for every gateway
    //    alike, not whichever code this process happened to run first.
    await sims.setFaults('*', { latencyMs: 0 });
    log(`JIT warm-up (${WARMUP_INSTANCES} instances)`);
    for (let i = 0; i < WARMUP_INSTANCES; i++) {
      const w = await c.start({ metrics: false });
      try {
        for (const n of SIZES) for (let k = 0; k < 3; k++) await graphql(w.url, c.query, n);
      } finally {
        await w.close();
      }
    }

    // 1. Upstream requests per query, 0 ms latency: a fresh instance per size (cold), then the same query again (warm).
    log('requests per query');
    const requestsPerQuery: Measured['requestsPerQuery'] = {};
    signatures[c.name] = {};
    for (const n of SIZES) {
      const g = await c.start({ metrics: false });
      try {
        await sims.resetStats();
        const data = await graphql(g.url, c.query, n);
        const cold: Record<string, SimStats> = await sims.stats();
        await sims.resetStats();
        await graphql(g.url, c.query, n);
        const warm = await sims.stats();
        const coldByServer = countRequests(cold, nonAuth);
        const warmByServer = countRequests(warm, nonAuth);
        requestsPerQuery[n] = {
          cold: sum(coldByServer),
          coldLogons: sum(countRequests(cold, isLogonTemplate)),
          warm: sum(warmByServer),
          coldByServer,
          warmByServer,
        };
        const rows = c.rows(data);
        if (rows.length !== n) throw new Error(`${c.name}: asked for ${n} sessions, got ${rows.length}`);
        signatures[c.name]![n] = signature(rows);
      } finally {
        await g.close();
      }
    }

    // 2. Latency at LATENCY_MS: cold (fresh instance per sample; step 1 already ran this code, so JIT is warm) and warm.
    await sims.setFaults('*', { latencyMs: LATENCY_MS });
    log(`cold latency (${COLD_RUNS} fresh instances per size)`);
    const coldMs: Record<number, number[]> = {};
    const coldCpu: Record<number, number[]> = {};
    for (const n of SIZES) {
      const ms: number[] = (coldMs[n] = []);
      const cpuMs: number[] = (coldCpu[n] = []);
      for (let i = 0; i < COLD_RUNS; i++) {
        // No forced gc() here: a forced full GC flushes compiled code, which doubled the cold CPU
        // of the XML path (fast-xml-parser recompiled) in this benchmark, a cost no real gateway pays.
        const g = await c.start({ metrics: false });
        try {
          // A first query arrives after the start has settled (GC sweeping and compile tasks on
          // V8's helper threads count in process.cpuUsage() too).
          await sleep(150);
          const cpu = process.cpuUsage();
          const t = performance.now();
          await graphql(g.url, c.query, n);
          ms.push(performance.now() - t);
          cpuMs.push(cpuMsSince(cpu));
        } finally {
          await g.close();
        }
      }
    }

    log(`warm latency (${WARM_RUNS} runs per size), then throughput`);
    const g = await c.start({ metrics: true });
    try {
      const warmMs: Record<number, number[]> = {};
      const warmCpu: Record<number, number> = {};
      for (const n of SIZES) {
        await graphql(g.url, c.query, n);
        await graphql(g.url, c.query, n);
        warmMs[n] = [];
        const cpu = process.cpuUsage();
        for (let i = 0; i < WARM_RUNS; i++) {
          const t = performance.now();
          await graphql(g.url, c.query, n);
          warmMs[n].push(performance.now() - t);
        }
        warmCpu[n] = cpuMsSince(cpu) / WARM_RUNS;
      }

      // 3. Throughput at 0 ms: CONCURRENCY clients until DURATION_S or MAX_QUERIES, whichever comes first.
      await sims.setFaults('*', { latencyMs: 0 });
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      // Warm-up after the forced GC (which flushes compiled code), one query per client.
      const [sample] = await Promise.all(Array.from({ length: CONCURRENCY }, () => graphqlRaw(g.url, c.query, THROUGHPUT_FIRST)));
      await sims.resetStats();
      const simCpu0 = await sims.cpuMs();
      const run = await load(g.url, c.query, THROUGHPUT_FIRST, DURATION_S, MAX_QUERIES);
      const simCpu1 = await sims.cpuMs();
      const upstream = sum(await sims.requestsPerServer());
      global.gc?.();
      const memory = process.memoryUsage();
      const queries = Math.max(1, run.done + run.errors);
      log('load generator alone');
      const floorRun = await loadGeneratorFloor(sample!.text, c.query, Math.min(DURATION_S, 3), MAX_QUERIES);

      results[c.name] = {
        requestsPerQuery,
        latencyMs: Object.fromEntries(
          SIZES.map((n) => [
            n,
            {
              cold: { p50: percentile(coldMs[n]!, 50), p95: percentile(coldMs[n]!, 95), runs: coldMs[n]!.length },
              warm: { p50: percentile(warmMs[n]!, 50), p95: percentile(warmMs[n]!, 95), runs: warmMs[n]!.length },
            },
          ]),
        ),
        cpuMsPerQuery: {
          cold: Object.fromEntries(SIZES.map((n) => [n, percentile(coldCpu[n]!, 50)])),
          warm: warmCpu,
          throughput: run.cpuMs / queries,
          loadGeneratorAlone: floorRun.cpuMs / Math.max(1, floorRun.done + floorRun.errors),
        },
        throughput: {
          first: THROUGHPUT_FIRST,
          concurrency: CONCURRENCY,
          queries: run.done,
          errors: run.errors,
          ...(run.firstError !== undefined && { firstError: run.firstError }),
          seconds: run.seconds,
          queriesPerSec: run.done / run.seconds,
          upstreamRequestsPerQuery: upstream / queries,
          simulatorCpuMsPerQuery: simCpu0 === undefined || simCpu1 === undefined ? null : (simCpu1 - simCpu0) / queries,
          loadGeneratorAloneQueriesPerSec: floorRun.done / floorRun.seconds,
          responseBytes: Buffer.byteLength(sample!.text),
        },
        memory: { rssBeforeMb: mb(rssBefore), rssAfterMb: mb(memory.rss), heapUsedAfterMb: mb(memory.heapUsed) },
      };
    } finally {
      await g.close();
    }
  }
} finally {
  await sims.close();
}

// Do the gateways return the same page? (Same creation times and link values; the ids differ by design.)
const agreement: Record<string, Record<number, string>> = {};
const reference = signatures.baseline ?? signatures['ours-xml'];
for (const c of candidates) {
  agreement[c.name] = {};
  for (const n of SIZES) {
    const mine = signatures[c.name]![n]!;
    const ref = reference![n]!;
    const differ = mine.filter((s, i) => s !== ref[i]).length;
    agreement[c.name]![n] = differ === 0 ? 'same page' : `${differ} of ${n} rows differ`;
  }
}

const floor = Object.fromEntries(SIZES.map((n) => [n, { p50: percentile(floorSamples[n]!, 50), p95: percentile(floorSamples[n]!, 95) }]));
const f = (n: number, d = 1) => n.toFixed(d);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const ours = candidates.filter((c) => c.name !== 'baseline').map((c) => c.name);
const base = results.baseline;

interface Goal {
  goal: string;
  target: string;
  value: (m: Measured) => number | undefined;
  ok: (v: number) => boolean | undefined;
  unit: string;
}
const goals: Goal[] = [
  ...SIZES.map((n): Goal => ({
    goal: `warm p50 / (wave + 15 ms), N=${n}`,
    target: `<= 1.00 (wave p50 ${f(floor[n]!.p50)} ms)`,
    value: (m) => m.latencyMs[n]!.warm.p50 / (floor[n]!.p50 + 15),
    ok: (v) => v <= 1,
    unit: '',
  })),
  {
    goal: 'throughput ours / baseline',
    target: '>= 5.0x',
    value: (m) => ratio(m.throughput.queriesPerSec, base?.throughput.queriesPerSec),
    ok: (v) => v >= 5,
    unit: 'x',
  },
  { goal: 'throughput ours (q/s)', target: '>= 200', value: (m) => m.throughput.queriesPerSec, ok: (v) => v >= 200, unit: '' },
  ...SIZES.map((n): Goal => ({
    goal: `cold p50 ours / baseline, N=${n}`,
    target: '(lower is better)',
    value: (m) => ratio(m.latencyMs[n]!.cold.p50, base?.latencyMs[n]!.cold.p50),
    ok: () => undefined,
    unit: 'x',
  })),
  ...SIZES.map((n): Goal => ({
    goal: `CPU/query cold ours / baseline, N=${n}`,
    target: '<= 0.7x',
    value: (m) => ratio(m.cpuMsPerQuery.cold[n], base?.cpuMsPerQuery.cold[n]),
    ok: (v) => v <= 0.7,
    unit: 'x',
  })),
  {
    goal: 'CPU/query warm ours / baseline (throughput phase)',
    target: '<= 0.2x',
    value: (m) => ratio(m.cpuMsPerQuery.throughput, base?.cpuMsPerQuery.throughput),
    ok: (v) => v <= 0.2,
    unit: 'x',
  },
];
const goalResults = goals.map((g) => ({
  goal: g.goal,
  target: g.target,
  ...Object.fromEntries(
    ours.map((name) => {
      const v = results[name] ? g.value(results[name]) : undefined;
      return [name, v === undefined ? null : { value: v, met: g.ok(v) ?? null }];
    }),
  ),
}));

const table: Record<string, Record<string, string>> = {};
const row = (label: string, cell: (m: Measured, name: Name) => string) => {
  table[label] = Object.fromEntries(candidates.map((c) => [c.name, results[c.name] ? cell(results[c.name]!, c.name) : '-']));
};
for (const n of SIZES) {
  row(`upstream req/query N=${n} cold (+logons)`, (m) => `${m.requestsPerQuery[n]!.cold} (+${m.requestsPerQuery[n]!.coldLogons})`);
  row(`upstream req/query N=${n} warm`, (m) => `${m.requestsPerQuery[n]!.warm}`);
}
for (const n of SIZES) {
  row(`cold p50/p95 ms N=${n} (${LATENCY_MS} ms)`, (m) => `${f(m.latencyMs[n]!.cold.p50)} / ${f(m.latencyMs[n]!.cold.p95)}`);
  row(`warm p50/p95 ms N=${n} (${LATENCY_MS} ms)`, (m) => `${f(m.latencyMs[n]!.warm.p50)} / ${f(m.latencyMs[n]!.warm.p95)}`);
}
for (const n of SIZES) row(`CPU ms/query cold N=${n}`, (m) => f(m.cpuMsPerQuery.cold[n]!, 2));
for (const n of SIZES) row(`CPU ms/query warm N=${n} (sequential)`, (m) => f(m.cpuMsPerQuery.warm[n]!, 2));
row(
  `throughput q/s (${CONCURRENCY} clients, N=${THROUGHPUT_FIRST}, 0 ms)`,
  (m) => `${f(m.throughput.queriesPerSec)} (${m.throughput.queries} in ${f(m.throughput.seconds)} s, ${m.throughput.errors} err)`,
);
row('CPU ms/query throughput', (m) => f(m.cpuMsPerQuery.throughput, 2));
row('  of which load generator (alone: q/s)', (m) => `${f(m.cpuMsPerQuery.loadGeneratorAlone, 2)} (${f(m.throughput.loadGeneratorAloneQueriesPerSec, 0)} q/s)`);
row('upstream req/query throughput', (m) => f(m.throughput.upstreamRequestsPerQuery, 1));
row('simulator CPU ms/query throughput', (m) => (m.throughput.simulatorCpuMsPerQuery === null ? 'n/a' : f(m.throughput.simulatorCpuMsPerQuery, 2)));
row('RSS MB before/after throughput', (m) => `${f(m.memory.rssBeforeMb)} / ${f(m.memory.rssAfterMb)}`);
for (const n of SIZES) row(`page N=${n} vs ${reference === signatures.baseline ? 'baseline' : 'ours-xml'}`, (_m, name) => agreement[name]![n]!);

console.log(
  `compare: 3 EM + VB365 v8, v6 (${SESSIONS} sessions each) in simulator process ${sims.pid}; wave floor (direct GET, ${LATENCY_MS} ms): ` +
    SIZES.map((n) => `N=${n} p50 ${f(floor[n]!.p50)} ms`).join(', ') +
    `; ${QUICK ? 'quick run' : 'full run'}, ${f((performance.now() - started) / 1000)} s`,
);
console.table(table);
console.table(
  Object.fromEntries(
    goalResults.map((g) => [
      g.goal,
      {
        ...Object.fromEntries(
          ours.map((name) => {
            const r = (g as Record<string, unknown>)[name] as { value: number; met: boolean | null } | null;
            const unit = goals.find((x) => x.goal === g.goal)!.unit;
            return [name, r === null ? 'n/a' : `${f(r.value, 2)}${unit}${r.met === null ? '' : r.met ? ' met' : ' NOT met'}`];
          }),
        ),
        target: g.target,
      },
    ]),
  ),
);
if (values['baseline-dedupe']) console.log('baseline: RESTDataSource in-request GET deduplication ON (--baseline-dedupe)');

await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('./results/compare.json', import.meta.url),
  `${JSON.stringify(
    {
      setup: {
        em: 3,
        vbo: ['v8', 'v6'],
        sessionsPerServer: SESSIONS,
        latencyMs: LATENCY_MS,
        coldRuns: COLD_RUNS,
        warmRuns: WARM_RUNS,
        throughput: { durationS: DURATION_S, maxQueries: MAX_QUERIES, concurrency: CONCURRENCY, first: THROUGHPUT_FIRST },
        quick: QUICK,
        baselineDedupe: values['baseline-dedupe'],
        simulators: 'own process',
      },
      waveFloorMs: floor,
      gateways: results,
      agreement,
      goals: goalResults,
    },
    null,
    2,
  )}\n`,
);
