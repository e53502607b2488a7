/**
 * `npm run bench -- reload`: config reloads under load. One `veeam-graph serve` child (its own
 * process, bench/serveProcess.ts) over the simulators (their own process, bench/simProcess.ts);
 * `--clients` concurrent clients query merged sessions without pause. Two phases of `--seconds`
 * each: without reloads, then with a SIGHUP every `--every` ms that alternately removes and adds
 * back the last Enterprise Manager server.
 *
 *   npm run bench -- reload [--seconds 10] [--every 500] [--clients 8] [--latency 20] [--sessions 200]
 *
 * Prints and writes (bench/results/reload.json), per phase: queries/s, latency p50/p95/p99, failed
 * queries (an HTTP status other than 200, an `errors` entry, no `data`, or no answer), and the
 * logons per server (the servers a reload keeps must keep their session: 1 logon each). For the
 * reloads: how long from SIGHUP until `/metrics` counts it applied (p50/max), and how many there were.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { simConfigServers, spawnServe } from './serveProcess.js';
import { startSimProcess } from './simProcess.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    seconds: { type: 'string', default: '10' },
    every: { type: 'string', default: '500' },
    clients: { type: 'string', default: '8' },
    latency: { type: 'string', default: '20' },
    sessions: { type: 'string', default: '200' },
  },
});
const int = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer of at least ${min}, got ${v}`);
  return n;
};
const SECONDS = int('seconds', values.seconds, 1);
const EVERY = int('every', values.every, 50);
const CLIENTS = int('clients', values.clients, 1);
const LATENCY = int('latency', values.latency, 0);

const QUERY = '{ restoreSessions(first: 20) { nodes { id name source { name } } sourceErrors { code } } }';

const sims = await startSimProcess({ em: 3, vboVersions: ['v8'], sessions: int('sessions', values.sessions, 1), latencyMs: LATENCY });
const dir = await mkdtemp(path.join(os.tmpdir(), 'veeam-graph-bench-reload-'));
const env: NodeJS.ProcessEnv = { ...process.env };
for (const k of ['PORT', 'HOST', 'LOG_LEVEL', 'LOG_FORMAT']) delete env[k];
const servers = simConfigServers(sims.servers, env);
const file = path.join(dir, 'gateway.json');
const removable = sims.servers.filter((s) => s.kind === 'enterprise-manager').at(-1)!.name;
const write = (all: boolean) =>
  writeFile(
    file,
    `${JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, servers: all ? servers : servers.filter((s) => s.name !== removable) }, null, 2)}\n`,
  );
await write(true);

interface Phase {
  phase: string;
  queries: number;
  qps: number;
  p50: number;
  p95: number;
  p99: number;
  failed: number;
  failures: string[];
  logons: Record<string, number>;
}

const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function load(graphqlUrl: string, ms: number): Promise<Omit<Phase, 'phase' | 'logons'>> {
  const until = performance.now() + ms;
  const samples: number[] = [];
  const failures: string[] = [];
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        let problem: string | undefined;
        try {
          const res = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
          const body = (await res.json()) as { data?: unknown; errors?: { message: string }[] };
          if (res.status !== 200) problem = `HTTP ${res.status}`;
          else if (body.errors?.length) problem = body.errors[0]!.message;
          else if (!body.data) problem = 'no data';
        } catch (err) {
          problem = (err as Error).message;
        }
        samples.push(performance.now() - t0);
        if (problem !== undefined) {
          failed++;
          if (failures.length < 10) failures.push(problem);
        }
      }
    }),
  );
  const sorted = samples.sort((a, b) => a - b);
  return {
    queries: samples.length,
    qps: samples.length / ((performance.now() - start) / 1000),
    p50: pct(sorted, 50),
    p95: pct(sorted, 95),
    p99: pct(sorted, 99),
    failed,
    failures,
  };
}

async function appliedReloads(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  return Number(/^veeam_graph_config_reloads_total\{result="applied"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

const phases: Phase[] = [];
const reloadMs: number[] = [];
const serve = await spawnServe(['--config', file, '--log-level', 'warn', '--log-format', 'json'], { env, timeoutMs: 60_000, what: 'the gateway' });
try {
  const origin = new URL(serve.url).origin;
  const graphqlUrl = `${origin}/graphql`;
  await load(graphqlUrl, 1000); // logons, JIT
  for (const phase of ['steady', 'reloading'] as const) {
    await sims.resetStats();
    let stop = false;
    const reloader = (async () => {
      if (phase !== 'reloading') return;
      let all = true;
      while (!stop) {
        await new Promise((r) => setTimeout(r, EVERY));
        if (stop) break;
        all = !all;
        await write(all);
        const before = await appliedReloads(origin);
        const t0 = performance.now();
        serve.child.kill('SIGHUP');
        while ((await appliedReloads(origin)) === before) await new Promise((r) => setTimeout(r, 5));
        reloadMs.push(performance.now() - t0);
      }
    })();
    const run = await load(graphqlUrl, SECONDS * 1000);
    stop = true;
    await reloader;
    phases.push({ phase, ...run, logons: await sims.logonsPerServer() });
  }
} finally {
  await serve.stop();
  await sims.close();
  await rm(dir, { recursive: true, force: true });
}

const f = (n: number, digits = 1) => n.toFixed(digits);
const sortedReloads = [...reloadMs].sort((a, b) => a - b);
console.log(
  `${os.cpus().length} CPUs; ${CLIENTS} clients, ${SECONDS} s per phase; simulators at ${LATENCY} ms; a reload every ${EVERY} ms removes or adds back ${removable}`,
);
console.table(
  Object.fromEntries(
    phases.map((p) => [
      p.phase,
      { 'queries/s': f(p.qps), 'p50 ms': f(p.p50), 'p95 ms': f(p.p95), 'p99 ms': f(p.p99), failed: p.failed, logons: JSON.stringify(p.logons) },
    ]),
  ),
);
console.log(`reloads: ${reloadMs.length}, SIGHUP to applied p50 ${f(pct(sortedReloads, 50))} ms, max ${f(sortedReloads.at(-1) ?? Number.NaN)} ms`);
for (const p of phases) if (p.failures.length > 0) console.log(`failures while ${p.phase} (first ${p.failures.length}):`, p.failures);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('./results/reload.json', import.meta.url),
  `${JSON.stringify({ cpus: os.cpus().length, clients: CLIENTS, seconds: SECONDS, everyMs: EVERY, latencyMs: LATENCY, removable, phases, reloads: { count: reloadMs.length, p50Ms: pct(sortedReloads, 50), maxMs: sortedReloads.at(-1) ?? null } }, null, 2)}\n`,
);
