/**
 * `npm run bench -- tracing [--quick] [--rounds 3] [--queries 2000] [--concurrency 8]`: what
 * OpenTelemetry tracing costs the gateway, in CPU per query, off against on (100% sampling,
 * OTLP/HTTP JSON to a local receiver in its own process that counts the spans and drops them).
 *
 * The simulators run in their own process (bench/simProcess.ts), so does the receiver; CPU is
 * `process.cpuUsage()` of this process (gateway + the load generator's fetch, the same in both
 * modes; its share is measured alone against a canned-response server, as bench/compare.ts does,
 * and subtracted for the "gateway only" ratio). The export itself is measured: the "on" window
 * ends with a flush of every span. Two workloads, the merged query of the tracing test:
 * - warm: answered by the memory layer (per query: the operation span and one merge-step span);
 * - uncached: `cache.enabled: false`, every query goes upstream (plus one span per upstream call).
 * Three modes (off; context: the SDK's context propagation, no span; on), a fresh gateway per round and mode,
 * the order rotating per round. The machine is shared (other processes come and go), so each
 * mode's MINIMUM over the rounds (its least disturbed round) is compared, and the medians and the
 * median of the per-round ratios are shown beside it. Then the per-call cost of the hooks with
 * tracing off (no SDK, no context manager), against the CPU of a query. Goals: on <= +10% CPU per
 * query; off: 0 (no SDK loaded, hooks in ns).
 */
import { spawn } from 'node:child_process';
import { context } from '@opentelemetry/api';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { recordCacheOutcome } from '../src/observability/cacheSpans.js';
import { traceLogFields } from '../src/observability/logFields.js';
import { startMergeStep } from '../src/observability/mergeSpans.js';
import { startTracing } from '../src/observability/startTracing.js';
import { recordUpstreamAttempt, startUpstreamSpan } from '../src/observability/upstreamSpan.js';
import { createGateway } from '../src/server/createGateway.js';
import { createLogger } from '../src/server/createLogger.js';
import { simGatewayConfig, startSimProcess } from './simProcess.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    queries: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    sessions: { type: 'string', default: '300' },
  },
});
const QUICK = values.quick;
const ROUNDS = Number(values.rounds ?? (QUICK ? 3 : 8));
const QUERIES = Number(values.queries ?? (QUICK ? 500 : 1000));
const CONCURRENCY = Number(values.concurrency);
const UNCACHED_QUERIES = Math.max(100, Math.round(QUERIES / 2));

const QUERY = `query MergedPage {
  restoreSessions(first: 5) { nodes { name ... on EnterpriseManagerRestoreSession { backupServer { name } } } }
}`;

/**
 * `off`: no tracing; `context`: the SDK registered and its AsyncLocalStorage context manager
 * propagating (every promise pays for it), but no span started: what context propagation alone
 * costs; `on`: tracing, every request traced.
 */
type Mode = 'off' | 'context' | 'on';
const MODES: readonly Mode[] = ['off', 'context', 'on'];
type Workload = 'warm' | 'uncached';

/** The OTLP receiver, in a child process: counts spans, answers 200, keeps nothing. */
async function startReceiver(): Promise<{ url: string; count(): Promise<{ spans: number; requests: number; bytes: number }>; close(): void }> {
  const code = `
    const http = require('node:http');
    let spans = 0, requests = 0, bytes = 0;
    const server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/count') { res.end(JSON.stringify({ spans, requests, bytes })); return; }
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        requests++;
        const body = Buffer.concat(chunks);
        bytes += body.length;
        try { for (const rs of JSON.parse(body).resourceSpans || []) for (const ss of rs.scopeSpans || []) spans += (ss.spans || []).length; } catch {}
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
    process.on('SIGTERM', () => process.exit(0));`;
  const child = spawn(process.execPath, ['--input-type=commonjs', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`receiver exited (${c})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    count: async () => (await (await fetch(`${url}/count`)).json()) as { spans: number; requests: number; bytes: number },
    close: () => child.kill('SIGTERM'),
  };
}

async function graphql(url: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
  const body = (await res.json()) as { errors?: unknown[] };
  if (!res.ok || body.errors?.length) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
}

/** `count` queries by CONCURRENCY clients. */
async function load(url: string, count: number): Promise<void> {
  let issued = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (issued < count) {
        issued++;
        await graphql(url);
      }
    }),
  );
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sink = new Writable({ write: (_c, _e, cb) => cb() });

const sims = await startSimProcess({ em: 2, vboVersions: ['v8'], sessions: Number(values.sessions), seed: 'bench-tracing', latencyMs: 0 });
const receiver = await startReceiver();

interface Sample {
  cpuMsPerQuery: number;
  spansPerQuery?: number;
  exportedBytesPerQuery?: number;
  seconds: number;
}

/** One fresh gateway in one mode: warm up, then `count` queries measured (with the final flush when on). */
async function run(mode: Mode, workload: Workload, count: number): Promise<Sample> {
  const config = await simGatewayConfig(sims.servers, { extra: { ...(workload === 'uncached' && { cache: { enabled: false } }) } });
  const tracing =
    mode !== 'off'
      ? await startTracing({
          endpoint: `${receiver.url}/v1/traces`,
          serviceName: 'veeam-graph-bench',
          resourceAttributes: {},
          sampler: { kind: 'parentbased_always_on' },
          headers: {},
          protocol: 'http/json',
          from: 'config',
        })
      : undefined;
  // The context manager's AsyncLocalStorage starts propagating at its first use: make it.
  if (mode === 'context') context.with(context.active(), () => undefined);
  const gateway = await createGateway(config, {
    logger: createLogger({ level: 'info', destination: sink }),
    defaultMetrics: false,
    ...(tracing && mode === 'on' && { tracing }),
  });
  try {
    await load(gateway.graphqlUrl, Math.min(200, count));
    await tracing?.flush();
    // No forced gc() here: it flushes compiled code, and the re-compilation then counts in the
    // window (it made "off" 50% dearer in this benchmark); the rounds are long enough instead.
    const before = await receiver.count();
    const t0 = performance.now();
    const cpu = process.cpuUsage();
    await load(gateway.graphqlUrl, count);
    await tracing?.flush();
    const used = cpuMs(cpu);
    const seconds = (performance.now() - t0) / 1000;
    const after = await receiver.count();
    return {
      cpuMsPerQuery: used / count,
      ...(mode === 'on' && { spansPerQuery: (after.spans - before.spans) / count, exportedBytesPerQuery: (after.bytes - before.bytes) / count }),
      seconds,
    };
  } finally {
    await gateway.close();
    await tracing?.shutdown();
  }
}

/** The load generator alone: the same clients against a canned answer (its CPU is in both modes). */
async function loadGeneratorAlone(count: number): Promise<number> {
  const body = JSON.stringify({ data: { restoreSessions: { nodes: [] } } });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    await load(url, 200);
    const cpu = process.cpuUsage();
    await load(url, count);
    return cpuMs(cpu) / count;
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** ns per call of each tracing hook with tracing off (what every query pays then). */
function hooksOff(): Record<string, number> {
  const N = 1_000_000;
  const url = new URL('http://127.0.0.1:9398/api/query?type=RestoreSession&filter=x');
  const time = (fn: () => void) => {
    for (let i = 0; i < 10_000; i++) fn();
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    return Number(process.hrtime.bigint() - t) / N;
  };
  return {
    startUpstreamSpan: time(() => void startUpstreamSpan({ server: 'em-1', method: 'GET', url, loggedOnBefore: true, secrets: [] })),
    recordUpstreamAttempt: time(() => recordUpstreamAttempt({ attempt: 1, willRetry: false })),
    recordCacheOutcome: time(() => recordCacheOutcome('em-1', 'RestoreSessionList', 'hit')),
    startMergeStep: time(() => startMergeStep('Query.restoreSessions', 0, []).end([])),
    traceLogFields: time(() => void traceLogFields()),
  };
}

const started = performance.now();
const samples: Record<Workload, Record<Mode, Sample[]>> = { warm: { off: [], context: [], on: [] }, uncached: { off: [], context: [], on: [] } };
let offHooks: Record<string, number>;
let generatorMsPerQuery: number;
try {
  // Measured first, before any SDK was registered in this process: the "off" state of production.
  offHooks = hooksOff();
  // JIT warm-up of every path.
  for (const mode of MODES) await run(mode, 'warm', 300);
  generatorMsPerQuery = await loadGeneratorAlone(QUERIES);
  for (const workload of ['warm', 'uncached'] as const) {
    const count = workload === 'warm' ? QUERIES : UNCACHED_QUERIES;
    for (let r = 0; r < ROUNDS; r++) {
      // The order rotates (off, context, on; context, on, off; ...): no mode always runs first.
      for (const mode of [...MODES.slice(r % 3), ...MODES.slice(0, r % 3)]) {
        const s = await run(mode, workload, count);
        samples[workload][mode].push(s);
        process.stderr.write(
          `[${((performance.now() - started) / 1000).toFixed(1)} s] ${workload} ${mode} round ${r + 1}: ${s.cpuMsPerQuery.toFixed(3)} ms CPU/query` +
            `${s.spansPerQuery === undefined ? '' : `, ${s.spansPerQuery.toFixed(2)} spans/query`}\n`,
        );
      }
    }
  }
} finally {
  receiver.close();
  await sims.close();
}

interface Stat {
  min: number;
  median: number;
}
const stat = (xs: readonly Sample[]): Stat => ({ min: Math.min(...xs.map((x) => x.cpuMsPerQuery)), median: median(xs.map((x) => x.cpuMsPerQuery)) });
interface Summary {
  cpuMsPerQuery: Record<Mode, Stat>;
  /** on against off: of the minimums (the goal), of the medians, and the median of the per-round ratios. */
  overhead: { min: number; median: number; pairedMedian: number };
  /** context only against off (minimums): what propagating the context costs without any span. */
  contextOnly: number;
  /** on against off (minimums), over the gateway's CPU alone (the load generator's subtracted). */
  overheadOfGatewayCpu: number | null;
  spansPerQuery: number;
  exportedBytesPerQuery: number;
  met: boolean;
}
const summary = Object.fromEntries(
  (['warm', 'uncached'] as const).map((w): [Workload, Summary] => {
    const [off, context, on] = MODES.map((m) => stat(samples[w][m])) as [Stat, Stat, Stat];
    const gatewayOff = off.min - generatorMsPerQuery!;
    const overhead = on.min / off.min - 1;
    return [
      w,
      {
        cpuMsPerQuery: { off, context, on },
        overhead: {
          min: overhead,
          median: on.median / off.median - 1,
          pairedMedian: median(samples[w].on.map((s, i) => s.cpuMsPerQuery / samples[w].off[i]!.cpuMsPerQuery - 1)),
        },
        contextOnly: context.min / off.min - 1,
        overheadOfGatewayCpu: gatewayOff > 0 ? (on.min - off.min) / gatewayOff : null,
        spansPerQuery: median(samples[w].on.map((s) => s.spansPerQuery ?? 0)),
        exportedBytesPerQuery: median(samples[w].on.map((s) => s.exportedBytesPerQuery ?? 0)),
        met: overhead <= 0.1,
      },
    ];
  }),
) as Record<Workload, Summary>;
const hooksPerQueryNs =
  // Per uncached query: ~5 upstream calls (span + 1 attempt each), ~5 cache decisions, 2 merge steps, ~8 log lines.
  5 * (offHooks!.startUpstreamSpan! + offHooks!.recordUpstreamAttempt!) +
  5 * offHooks!.recordCacheOutcome! +
  2 * offHooks!.startMergeStep! +
  8 * offHooks!.traceLogFields!;

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const ms = (x: Stat) => `${x.min.toFixed(3)} / ${x.median.toFixed(3)}`;
console.log(
  `tracing: 2 EM + VB365 v8 (${values.sessions} sessions each) in their own process, receiver in its own; ${CONCURRENCY} clients; ` +
    `${ROUNDS} rounds per mode, ${QUERIES} (warm) / ${UNCACHED_QUERIES} (uncached) queries per round; ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
console.table(
  Object.fromEntries(
    (['warm', 'uncached'] as const).map((w) => [
      w,
      {
        'CPU ms/query off (min / median)': ms(summary[w].cpuMsPerQuery.off),
        'context only': ms(summary[w].cpuMsPerQuery.context),
        on: ms(summary[w].cpuMsPerQuery.on),
        'on vs off: min / median / paired': `${pct(summary[w].overhead.min)} / ${pct(summary[w].overhead.median)} / ${pct(summary[w].overhead.pairedMedian)}`,
        'context only vs off': pct(summary[w].contextOnly),
        'gateway CPU only': pct(summary[w].overheadOfGatewayCpu),
        'spans/query': summary[w].spansPerQuery.toFixed(2),
        'export B/query': summary[w].exportedBytesPerQuery.toFixed(0),
        'goal <= 10%': summary[w].met ? 'met' : 'NOT met',
      },
    ]),
  ),
);
console.log(`load generator alone: ${generatorMsPerQuery!.toFixed(3)} ms CPU/query (in every mode)`);
const hookList = Object.entries(offHooks!)
  .map(([k, v]) => `${k} ${v.toFixed(1)}`)
  .join(', ');
console.log(
  `off: no SDK loaded; hooks ns/call ${hookList}; ~${(hooksPerQueryNs / 1000).toFixed(2)} µs per uncached query = ` +
    `${pct(hooksPerQueryNs / 1e6 / summary.uncached.cpuMsPerQuery.off.min)} of its CPU`,
);

await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('./results/tracing.json', import.meta.url),
  `${JSON.stringify(
    {
      setup: {
        em: 2,
        vbo: ['v8'],
        sessionsPerServer: Number(values.sessions),
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        queries: { warm: QUERIES, uncached: UNCACHED_QUERIES },
        modes: 'off; context (SDK registered, no span); on (parentbased_always_on: 100%)',
        exporter: 'OTLP/HTTP JSON to a counting receiver in its own process',
        simulators: 'own process',
        quick: QUICK,
      },
      summary,
      loadGeneratorAloneCpuMsPerQuery: generatorMsPerQuery!,
      off: { sdkLoaded: false, hookNsPerCall: offHooks!, hooksPerUncachedQueryUs: hooksPerQueryNs / 1000 },
      samples,
    },
    null,
    2,
  )}\n`,
);
