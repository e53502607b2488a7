/**
 * `npm run bench -- replicas`: 1, 2 and 4 gateway replicas sharing one Redis (config
 * `store.redis`), each a `veeam-graph serve` child process, behind a round-robin load generator in
 * this process: `--clients` concurrent clients send the GraphiQL example queries
 * (src/server/graphiql/exampleQueries.ts, the subscription left out) in turn, each query to the
 * next replica in turn. The simulators run in their own process (bench/simProcess.ts), redis-server
 * is started as in the tests (test/support/startRedis.ts).
 *
 * For each replica count, after `--warmup` seconds of the same load (logons, JIT, the cache filled):
 * throughput (queries/s), latency p50/p95/p99, upstream requests per 1,000 queries and per second
 * (counted by the simulators, `/_sim/stats`, logons apart: with the cache shared, list refreshes
 * happen once per key and TTL whatever the replica count, so per second they stay flat), logons, errors (an HTTP status other than 200, an
 * `errors` entry, no `data`, or no answer) and the CPU the replicas used per query. Every replica
 * count starts with an empty cache (its own key prefix in Redis).
 *
 *   npm run bench -- replicas [--replicas 1,2,4] [--seconds 20] [--warmup 3] [--clients 16]
 *                             [--latency 20] [--sessions 300] [--seed bench-replicas]
 *
 * Writes bench/results/replicas.json. The load generator, the simulators, Redis and every replica
 * share the machine: on a 2-core machine 4 replicas cannot scale linearly (they compete for the
 * same 2 cores with everything else), what the numbers show there is the cost of coordination.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exampleQueries } from '../src/server/graphiql/exampleQueries.js';
import { startRedis } from '../test/support/startRedis.js';
import { procCpuMs, simConfigServers, spawnServe } from './serveProcess.js';
import { startSimProcess, sum, type SimDescriptor } from './simProcess.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    replicas: { type: 'string', default: '1,2,4' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    clients: { type: 'string', default: '16' },
    latency: { type: 'string', default: '20' },
    sessions: { type: 'string', default: '300' },
    seed: { type: 'string', default: 'bench-replicas' },
  },
});
const int = (name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer from ${min} to ${max}, got ${v}`);
  return n;
};
const COUNTS = (values.replicas ?? '').split(',').map((v) => int('replicas', v.trim(), 1, 16));
const SECONDS = int('seconds', values.seconds, 1);
const WARMUP = int('warmup', values.warmup, 0);
const CLIENTS = int('clients', values.clients, 1);
const LATENCY = int('latency', values.latency, 0);
const CURSOR_SECRET = 'bench-replicas-cursor-secret-0123456789';

// ------------------------------------------------------------------ replicas

interface ReplicaProcess {
  pid: number;
  origin: string;
  graphqlUrl: string;
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

/** The config every replica of one run shares: the simulators (passwords as `{ env }`), Redis, one cursorSecret. */
async function writeReplicaConfig(
  dir: string,
  servers: readonly SimDescriptor[],
  redisUrl: string,
  keyPrefix: string,
): Promise<{ file: string; env: NodeJS.ProcessEnv }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_CURSOR_SECRET: CURSOR_SECRET };
  for (const k of ['PORT', 'HOST', 'LOG_LEVEL', 'LOG_FORMAT']) delete env[k];
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    servers: simConfigServers(servers, env),
    store: { redis: { url: redisUrl, keyPrefix } },
    cursorSecret: { env: 'BENCH_CURSOR_SECRET' },
  };
  const file = path.join(dir, `${keyPrefix.replace(/\W/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return { file, env };
}

/** `veeam-graph serve --config FILE --port 0` as a child; resolves once it listens and reports the store up. */
async function startReplica(file: string, env: NodeJS.ProcessEnv): Promise<ReplicaProcess> {
  const args = ['--config', file, '--port', '0', '--log-level', 'warn', '--log-format', 'json'];
  const serve = await spawnServe(args, { env, timeoutMs: 90_000, what: 'a replica' });
  const { child, url } = serve;
  const origin = new URL(url).origin;
  for (let i = 0; ; i++) {
    const body = (await (await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(10_000) })).json()) as { ready: boolean; store?: { status: string } };
    if (body.ready && body.store?.status === 'up') break;
    if (i > 300) throw new Error(`replica ${origin} not ready with the store up: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    origin,
    graphqlUrl: `${origin}/graphql`,
    cpuMs: async () => (await procCpuMs(child.pid!)) ?? Number.NaN,
    close: () => serve.stop(),
  };
}

// ------------------------------------------------------------------ load

const QUERIES = exampleQueries({ vmName: 'srv04' }).filter((q) => !/^\s*subscription\b/m.test(q.query));

interface Sample {
  ms: number;
  ok: boolean;
}

async function post(url: string, index: number): Promise<Sample & { error?: string }> {
  const q = QUERIES[index % QUERIES.length]!;
  const t = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: q.query, ...(q.variables && { variables: q.variables }) }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { data?: unknown; errors?: { message: string }[] };
    const ms = performance.now() - t;
    if (res.status !== 200 || body.errors !== undefined || body.data == null) {
      return { ms, ok: false, error: `${q.title}: HTTP ${res.status} ${JSON.stringify(body.errors ?? null).slice(0, 200)}` };
    }
    return { ms, ok: true };
  } catch (err) {
    return { ms: performance.now() - t, ok: false, error: `${q.title}: ${(err as Error).message}` };
  }
}

/** `CLIENTS` clients for `ms`: each sends the next query of the mix to the next replica in turn. */
async function load(replicas: readonly ReplicaProcess[], ms: number): Promise<{ samples: Sample[]; errors: string[]; elapsedMs: number }> {
  const samples: Sample[] = [];
  const errors: string[] = [];
  let turn = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const n = turn++;
        const r = await post(replicas[n % replicas.length]!.graphqlUrl, n);
        samples.push({ ms: r.ms, ok: r.ok });
        if (r.error !== undefined && errors.length < 20) errors.push(r.error);
      }
    }),
  );
  return { samples, errors, elapsedMs: performance.now() - start };
}

// ------------------------------------------------------------------ run

const sims = await startSimProcess({ em: 3, vboVersions: ['v8', 'v6'], sessions: int('sessions', values.sessions, 1), seed: values.seed, latencyMs: LATENCY });
const redis = await startRedis();
const dir = await mkdtemp(path.join(os.tmpdir(), 'veeam-graph-bench-replicas-'));

interface Row {
  replicas: number;
  queries: number;
  qps: number;
  p50: number;
  p95: number;
  p99: number;
  upstreamRequests: number;
  upstreamPer1000: number;
  upstreamPerSecond: number;
  logons: number;
  errors: number;
  cpuMsPerQuery: number;
  errorSamples: string[];
}
const rows: Row[] = [];
try {
  for (const count of COUNTS) {
    const { file, env } = await writeReplicaConfig(dir, sims.servers, redis.url, `bench-replicas-${count}:`);
    const replicas = await Promise.all(Array.from({ length: count }, () => startReplica(file, env)));
    try {
      await sims.resetStats();
      if (WARMUP > 0) await load(replicas, WARMUP * 1000);
      await sims.resetStats();
      const cpuBefore = await Promise.all(replicas.map((r) => r.cpuMs()));
      const run = await load(replicas, SECONDS * 1000);
      const cpuAfter = await Promise.all(replicas.map((r) => r.cpuMs()));
      const upstream = sum(await sims.requestsPerServer());
      const logons = sum(await sims.logonsPerServer());
      const ms = run.samples.map((s) => s.ms).sort((a, b) => a - b);
      const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))] ?? Number.NaN;
      const cpu = cpuAfter.reduce((n, c, i) => n + (c - cpuBefore[i]!), 0);
      rows.push({
        replicas: count,
        queries: run.samples.length,
        qps: run.samples.length / (run.elapsedMs / 1000),
        p50: pct(50),
        p95: pct(95),
        p99: pct(99),
        upstreamRequests: upstream,
        upstreamPer1000: (upstream / Math.max(1, run.samples.length)) * 1000,
        upstreamPerSecond: upstream / (run.elapsedMs / 1000),
        logons,
        errors: run.samples.filter((s) => !s.ok).length,
        cpuMsPerQuery: cpu / Math.max(1, run.samples.length),
        errorSamples: run.errors,
      });
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  }
} finally {
  await sims.close();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}

const f = (n: number, digits = 1) => n.toFixed(digits);
console.log(`${os.cpus().length} CPUs; ${CLIENTS} clients, ${SECONDS} s per replica count after ${WARMUP} s warm-up; simulators at ${LATENCY} ms`);
console.table(
  Object.fromEntries(
    rows.map((r) => [
      `${r.replicas} replica${r.replicas === 1 ? '' : 's'}`,
      {
        'queries/s': f(r.qps),
        'p50 ms': f(r.p50),
        'p95 ms': f(r.p95),
        'p99 ms': f(r.p99),
        'upstream / 1000 q': f(r.upstreamPer1000, 2),
        'upstream / s': f(r.upstreamPerSecond, 2),
        logons: r.logons,
        errors: r.errors,
        'replica CPU ms / q': f(r.cpuMsPerQuery, 2),
      },
    ]),
  ),
);
for (const r of rows) if (r.errorSamples.length > 0) console.log(`errors with ${r.replicas} replicas (first ${r.errorSamples.length}):`, r.errorSamples);
const results = {
  cpus: os.cpus().length,
  clients: CLIENTS,
  seconds: SECONDS,
  warmupSeconds: WARMUP,
  latencyMs: LATENCY,
  queries: QUERIES.map((q) => q.title),
  runs: rows,
};
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/replicas.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
