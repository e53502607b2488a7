/**
 * `npm run bench -- live`: the cost of live updates (subscriptions), with the simulators in their
 * own process (bench/simProcess.ts, world live but quiet: no session starts by itself, the running
 * ones of the history are finished first) and the gateway in ANOTHER child process
 * (`node --import tsx src/main.ts serve --config <tmp file>`), so what its `/metrics` report
 * (`process_resident_memory_bytes`, `nodejs_heap_size_used_bytes`, `veeam_graph_subscriptions`)
 * is the gateway's alone. The subscribers run here, over WebSocket (graphql-ws) and SSE (graphql-sse).
 *
 * 1. Memory per idle subscription: window A with 1 subscription, window B with `--connections` x
 *    `--per-connection` (default 100 x 10 = 1000, the first one included), window C back to the one
 *    (after the latency phase: is the memory given back?); heap used and RSS sampled from `/metrics`
 *    every `--sample` ms in each window, per subscription = (mean B - mean A) / (B - A subscriptions).
 *    Also the minimum of the samples, and (`--gc inspector`, the default) heap used after a forced GC
 *    at the end of each window (each window also starts with one): the gateway is started with
 *    `--inspect=127.0.0.1:0` and this process sends `HeapProfiler.collectGarbage` over the inspector
 *    protocol (nothing is added to the product). One long-running "keeper" session per server keeps
 *    every poller at the fast interval in all windows (and one session started and finished at once
 *    per server makes the newest session a finished one, so each poll is a list plus a lookup of the
 *    running set, in every window alike); the subscriptions are near idle (a keeper's rare UPDATED is
 *    counted).
 * 2. Upstream requests per minute in the same windows (`/_sim/stats` reset at the start, read at the
 *    end, logons apart, scaled to a minute): one poller per server, so they should be equal.
 * 3. Event latency at the default poll interval: `--rounds` times (one worker per server, in parallel)
 *    wait a random part of `fastPollMs` (so the control call falls at a random phase of the poll),
 *    `POST /_sim/world/sessions`, wait until every subscriber got its STARTED, wait again, `POST
 *    .../finish`, wait for FINISHED. Latency = from the control call's start to the first subscriber
 *    (and to the last of all of them), per transport; `--sse` SSE subscribers join for this phase.
 *
 *   npm run bench -- live [--connections 100] [--per-connection 10] [--window 30] [--settle 5]
 *                         [--rounds 40] [--sse 5] [--sample 1000] [--gc inspector|off]
 *                         [--rate 0] [--sessions 300] [--seed bench-live]
 *
 * Writes bench/results/live.json. About 3 minutes with the defaults.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { LIVE_DEFAULTS } from '../src/sources/live/liveDefaults.js';
import { procCpuMs, simConfigServers, spawnServe } from './serveProcess.js';
import { countRequests, isAuthTemplate, isLogonTemplate, startSimProcess, sum, type SimDescriptor, type SimStats } from './simProcess.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    connections: { type: 'string', default: '100' },
    'per-connection': { type: 'string', default: '10' },
    window: { type: 'string', default: '30' },
    settle: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '40' },
    sse: { type: 'string', default: '5' },
    sample: { type: 'string', default: '1000' },
    gc: { type: 'string', default: 'inspector' },
    rate: { type: 'string', default: '0' },
    sessions: { type: 'string', default: '300' },
    seed: { type: 'string', default: 'bench-live' },
  },
});
const int = (name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer from ${min} to ${max}, got ${v}`);
  return n;
};
const CONNECTIONS = int('connections', values.connections, 1);
const PER_CONNECTION = int('per-connection', values['per-connection'], 1, LIVE_DEFAULTS.maxSubscriptionsPerConnection);
const SUBSCRIBERS = CONNECTIONS * PER_CONNECTION;
const SSE_SUBSCRIBERS = int('sse', values.sse, 0, 50);
if (SUBSCRIBERS + SSE_SUBSCRIBERS > LIVE_DEFAULTS.maxSubscriptions)
  throw new Error(`more than live.maxSubscriptions (${LIVE_DEFAULTS.maxSubscriptions}) subscriptions`);
if (SUBSCRIBERS < 2) throw new Error('--connections x --per-connection: at least 2 (window A holds one)');
const WINDOW_MS = int('window', values.window, 1) * 1000;
const SETTLE_MS = int('settle', values.settle, 0) * 1000;
const ROUNDS = int('rounds', values.rounds, 0);
const SAMPLE_MS = int('sample', values.sample, 100);
const RATE = Number(values.rate);
const SESSIONS = int('sessions', values.sessions, 1);
if (values.gc !== 'inspector' && values.gc !== 'off') throw new Error('--gc: inspector or off');
const FORCE_GC = values.gc === 'inspector';
const FAST_MS = LIVE_DEFAULTS.fastPollMs;
const SLOW_MS = LIVE_DEFAULTS.slowPollMs;
/** A session this bench starts runs this long unless finished: it never ends by itself during a run. */
const HOUR_MS = 3_600_000;
/** How long an event may take before it counts as missing: two slow polls and some. */
const EVENT_TIMEOUT_MS = 2 * SLOW_MS + 10_000;

const QUERY = `subscription Changes {
  restoreSessionChanged { type changedFields at source { name } session { nativeId name state result endTime } }
}`;
interface Change {
  type: string;
  at: string;
  source: { name: string };
  session: { nativeId: string } | null;
}
type Transport = 'ws' | 'sse';

// ------------------------------------------------------------------ the gateway in its own process

interface GatewayMetricsSample {
  at: number;
  heapUsed: number;
  rss: number;
  subscriptions: number;
  connections: number;
  pollers: number;
}

interface GatewayProcess {
  pid: number;
  graphqlUrl: string;
  metrics(): Promise<GatewayMetricsSample>;
  /** Two full GCs through the inspector; false when the gateway runs without one. */
  forceGc(): Promise<boolean>;
  cpuMs(): Promise<number | undefined>;
  close(): Promise<void>;
}

const metricValue = (text: string, name: string): number => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
};

/** `veeam-graph serve` as a child, on a config file written for the simulators (passwords as `{ env }` secrets). */
async function startGatewayProcess(servers: readonly SimDescriptor[], inspect: boolean): Promise<GatewayProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'veeam-graph-bench-live-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PORT;
  delete env.HOST;
  delete env.LOG_LEVEL;
  const config = { listen: { host: '127.0.0.1', port: 0 }, servers: simConfigServers(servers, env) };
  const file = path.join(dir, 'gateway.json');
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  const args = ['--config', file, '--log-level', 'warn', '--log-format', 'json'];
  const serve = await spawnServe(args, { env, inspect, timeoutMs: 60_000, what: 'the gateway' }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const { child, url, inspectorUrl } = serve;
  const origin = new URL(url).origin;
  let closing: Promise<void> | undefined;
  return {
    pid: child.pid!,
    graphqlUrl: `${origin}/graphql`,
    async metrics() {
      const res = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`GET /metrics -> HTTP ${res.status}: ${text.slice(0, 200)}`);
      return {
        at: performance.now(),
        heapUsed: metricValue(text, 'nodejs_heap_size_used_bytes'),
        rss: metricValue(text, 'process_resident_memory_bytes'),
        subscriptions: metricValue(text, 'veeam_graph_subscriptions'),
        connections: metricValue(text, 'veeam_graph_subscription_connections'),
        pollers: metricValue(text, 'veeam_graph_live_pollers'),
      };
    },
    async forceGc() {
      if (inspectorUrl === undefined) return false;
      const socket = new WebSocket(inspectorUrl);
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      const call = (id: number, method: string) =>
        new Promise<void>((resolve) => {
          const onMessage = (data: WebSocket.RawData): void => {
            if ((JSON.parse(String(data)) as { id?: number }).id === id) {
              socket.off('message', onMessage);
              resolve();
            }
          };
          socket.on('message', onMessage);
          socket.send(JSON.stringify({ id, method }));
        });
      await call(1, 'HeapProfiler.collectGarbage');
      await call(2, 'HeapProfiler.collectGarbage');
      socket.close();
      return true;
    },
    cpuMs: () => procCpuMs(child.pid!),
    close() {
      closing ??= (async () => {
        await serve.stop();
        await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

// ------------------------------------------------------------------ helpers

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
function pct(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const spread = (xs: readonly number[]) => ({ n: xs.length, mean: mean(xs), p50: pct(xs, 50), p95: pct(xs, 95), max: xs.length ? Math.max(...xs) : Number.NaN });
/** The id as both APIs and the graph print it, compared: no `urn:veeam:…:` prefix, no braces, lower case. */
const normalizeId = (id: string): string =>
  id
    .trim()
    .replace(/^urn:veeam:[a-z]+:/i, '')
    .replace(/^\{(.*)\}$/, '$1')
    .toLowerCase();

async function until(condition: () => boolean, timeoutMs: number, pollMs = 5): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) return false;
    await sleep(pollMs);
  }
  return true;
}

// ------------------------------------------------------------------ start

const log = (msg: string): void => console.log(`[live ${(performance.now() / 1000).toFixed(1)} s] ${msg}`);
const sims = await startSimProcess({
  em: 3,
  vboVersions: ['v8', 'v6'],
  sessions: SESSIONS,
  seed: values.seed,
  latencyMs: 0,
  world: { live: { sessionsPerHour: RATE, meanDurationMs: HOUR_MS } },
});
const servers = sims.servers.map((s) => s.name);
const control = async (name: string, method: string, route: string, body?: unknown): Promise<unknown> => {
  const res = await fetch(`${sims.controlUrl(name)}${route}`, {
    method,
    signal: AbortSignal.timeout(10_000),
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${sims.controlUrl(name)}${route} -> HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
};
// Quiet: what runs at the end of the generated history is finished now, so only this bench's sessions move.
let quieted = 0;
for (const name of servers) {
  const world = (await control(name, 'GET', '/world')) as { running: { id: string }[] };
  for (const s of world.running) {
    await control(name, 'POST', `/world/sessions/${encodeURIComponent(s.id)}/finish`, { result: 'Success' });
    quieted++;
  }
}
log(`simulators: ${servers.join(', ')} (pid ${sims.pid}); finished ${quieted} sessions running at the start`);

const gateway = await startGatewayProcess(sims.servers, FORCE_GC);
const wsUrl = gateway.graphqlUrl.replace(/^http/, 'ws');
const streamUrl = `${gateway.graphqlUrl}/stream`;
log(`gateway: ${gateway.graphqlUrl} (pid ${gateway.pid}${FORCE_GC ? ', inspector for forced GC' : ''})`);

// ------------------------------------------------------------------ subscribers and what they saw

interface Arrival {
  first: number;
  last: number;
  count: number;
}
/** STARTED / FINISHED arrivals of every session, by `TYPE:id`: when the first and the last subscriber of each transport got it. */
const arrivals = new Map<string, { gatewayAt: number; ws?: Arrival; sse?: Arrival }>();
const received: Record<Transport, Record<string, number>> = { ws: {}, sse: {} };
const errors: string[] = [];

function onChange(transport: Transport, change: Change | undefined): void {
  if (!change) return;
  received[transport][change.type] = (received[transport][change.type] ?? 0) + 1;
  if (!change.session || (change.type !== 'STARTED' && change.type !== 'FINISHED')) return;
  const now = performance.now();
  const key = `${change.type}:${normalizeId(change.session.nativeId)}`;
  let a = arrivals.get(key);
  if (!a) {
    a = { gatewayAt: Date.parse(change.at) };
    arrivals.set(key, a);
  }
  const t = a[transport];
  if (t) {
    t.last = now;
    t.count++;
  } else a[transport] = { first: now, last: now, count: 1 };
}
const totalReceived = (transport: Transport): number => Object.values(received[transport]).reduce((a, b) => a + b, 0);

const wsClients: WsClient[] = [];
const sseClients: SseClient[] = [];
const unsubscribes: (() => void)[] = [];
const wsClient = (): WsClient => {
  const c = createWsClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, onNonLazyError: () => undefined });
  wsClients.push(c);
  return c;
};
function subscribeWs(c: WsClient): void {
  unsubscribes.push(
    c.subscribe<{ restoreSessionChanged: Change }>(
      { query: QUERY },
      {
        next: (r) => onChange('ws', r.data?.restoreSessionChanged),
        error: (err) => errors.push(`ws: ${err instanceof Error ? err.message : JSON.stringify(err)}`.slice(0, 300)),
        complete: () => undefined,
      },
    ),
  );
}
function subscribeSse(): void {
  const c = createSseClient({ url: streamUrl, retryAttempts: 0 });
  sseClients.push(c);
  unsubscribes.push(
    c.subscribe<{ restoreSessionChanged: Change }>(
      { query: QUERY },
      {
        next: (r) => onChange('sse', r.data?.restoreSessionChanged),
        error: (err) => errors.push(`sse: ${err instanceof Error ? err.message : JSON.stringify(err)}`.slice(0, 300)),
        complete: () => undefined,
      },
    ),
  );
}
async function waitForSubscriptions(n: number, what: string): Promise<GatewayMetricsSample> {
  let m = await gateway.metrics();
  const end = performance.now() + 60_000;
  while (m.subscriptions !== n) {
    if (performance.now() > end)
      throw new Error(`${what}: the gateway reports ${m.subscriptions} subscriptions, expected ${n}; errors: ${errors.slice(0, 3).join(' | ')}`);
    await sleep(100);
    m = await gateway.metrics();
  }
  return m;
}

// Warm-up: the subscription path's code runs once (compiled, JIT-warmed) before anything is measured.
{
  const warmConnections = Math.min(5, CONNECTIONS);
  const warm = Array.from({ length: warmConnections }, () =>
    createWsClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, onNonLazyError: () => undefined }),
  );
  const offs = warm.flatMap((c) =>
    Array.from({ length: Math.min(10, PER_CONNECTION) }, () =>
      c.subscribe({ query: QUERY }, { next: () => undefined, error: () => undefined, complete: () => undefined }),
    ),
  );
  await waitForSubscriptions(offs.length, 'warm-up');
  await sleep(2 * FAST_MS);
  for (const off of offs) off();
  await Promise.all(warm.map((c) => c.dispose()));
  await waitForSubscriptions(0, 'warm-up closed');
  log(`warm-up: ${offs.length} subscriptions opened and closed`);
}

// The first subscriber: the pollers start (one per server) and learn what runs.
const first = wsClient();
subscribeWs(first);
await waitForSubscriptions(1, 'first subscriber');
{
  const end = performance.now() + 30_000;
  while ((await gateway.metrics()).pollers !== servers.length && performance.now() < end) await sleep(100);
}
// Give the first polls (prime) time to finish before the keepers start, so they come as STARTED.
await sleep(1500);

// One keeper per server: a session that runs through the whole bench, so every poller polls at the fast interval.
const keepers: { server: string; id: string }[] = [];
for (const name of servers) {
  const s = (await control(name, 'POST', '/world/sessions', { durationMs: HOUR_MS })) as { id: string };
  keepers.push({ server: name, id: normalizeId(s.id) });
}
if (!(await until(() => keepers.every((k) => arrivals.get(`STARTED:${k.id}`)?.ws !== undefined), EVENT_TIMEOUT_MS, 20))) {
  throw new Error('the keepers never arrived as STARTED');
}
// Then one session started and finished at once per server: the newest session is a finished one (as it is after any
// finished session), so each poll's list (from the creation-time watermark) no longer re-reads a keeper, and the
// running set's lookup is a request of its own, in every window alike.
const markers: string[] = [];
for (const name of servers) {
  const s = (await control(name, 'POST', '/world/sessions', { durationMs: HOUR_MS })) as { id: string };
  await control(name, 'POST', `/world/sessions/${encodeURIComponent(s.id)}/finish`, { result: 'Success' });
  markers.push(normalizeId(s.id));
}
if (!(await until(() => markers.every((id) => arrivals.get(`FINISHED:${id}`)?.ws !== undefined), EVENT_TIMEOUT_MS, 20))) {
  throw new Error('the marker sessions never arrived as FINISHED');
}
log(`keepers started on every server; the pollers are at the fast interval (${FAST_MS} ms)`);
await sleep(SETTLE_MS);

// ------------------------------------------------------------------ windows: memory and upstream requests

interface WindowResult {
  label: string;
  subscriptions: number;
  connections: number;
  windowMs: number;
  samples: number;
  heapUsedMean: number;
  heapUsedMin: number;
  rssMean: number;
  rssMin: number;
  heapUsedAfterGc?: number;
  rssAfterGc?: number;
  requests: Record<string, number>;
  requestsTotal: number;
  requestsPerMinute: number;
  logons: number;
  byTemplate: Record<string, number>;
  gatewayCpuMsPerMinute?: number;
  /** Events each subscriber got during the window (keepers' UPDATED...), per transport total / subscribers. */
  eventsPerSubscriber: number;
}

async function measureWindow(label: string): Promise<WindowResult> {
  // Each window starts right after a full GC (when there is an inspector), so the heap's sawtooth starts from the same floor.
  if (FORCE_GC) await gateway.forceGc();
  const before = await gateway.metrics();
  await sims.resetStats();
  const cpu0 = await gateway.cpuMs();
  const got0 = totalReceived('ws');
  const t0 = performance.now();
  const samples: GatewayMetricsSample[] = [];
  for (let i = 0; performance.now() - t0 < WINDOW_MS; i++) {
    samples.push(await gateway.metrics());
    const next = t0 + (i + 1) * SAMPLE_MS;
    await sleep(Math.max(0, Math.min(next, t0 + WINDOW_MS) - performance.now()));
  }
  const stats: Record<string, SimStats> = await sims.stats();
  const windowMs = performance.now() - t0;
  const cpu1 = await gateway.cpuMs();
  const requests = countRequests(stats, (t) => !isAuthTemplate(t));
  const byTemplate: Record<string, number> = {};
  for (const s of Object.values(stats)) {
    for (const [template, n] of Object.entries(s.byTemplate)) if (!isAuthTemplate(template)) byTemplate[template] = (byTemplate[template] ?? 0) + n;
  }
  let gc: { heapUsedAfterGc: number; rssAfterGc: number } | undefined;
  if (FORCE_GC && (await gateway.forceGc())) {
    const m = await gateway.metrics();
    gc = { heapUsedAfterGc: m.heapUsed, rssAfterGc: m.rss };
  }
  const heap = samples.map((s) => s.heapUsed);
  const rss = samples.map((s) => s.rss);
  return {
    label,
    subscriptions: before.subscriptions,
    connections: before.connections,
    windowMs,
    samples: samples.length,
    heapUsedMean: mean(heap),
    heapUsedMin: Math.min(...heap),
    rssMean: mean(rss),
    rssMin: Math.min(...rss),
    ...gc,
    requests,
    requestsTotal: sum(requests),
    requestsPerMinute: (sum(requests) * 60_000) / windowMs,
    logons: sum(countRequests(stats, isLogonTemplate)),
    byTemplate,
    ...(cpu0 !== undefined && cpu1 !== undefined && { gatewayCpuMsPerMinute: ((cpu1 - cpu0) * 60_000) / windowMs }),
    eventsPerSubscriber: (totalReceived('ws') - got0) / before.subscriptions,
  };
}

log(`window A: 1 subscription, ${WINDOW_MS / 1000} s`);
const windowA = await measureWindow('1 subscriber');

// Up to SUBSCRIBERS: the first connection takes PER_CONNECTION - 1 more, then CONNECTIONS - 1 new connections.
for (let i = 1; i < PER_CONNECTION; i++) subscribeWs(first);
for (let c = 1; c < CONNECTIONS; c++) {
  const client = wsClient();
  for (let i = 0; i < PER_CONNECTION; i++) subscribeWs(client);
}
const openedAt = performance.now();
const reported = await waitForSubscriptions(SUBSCRIBERS, `${SUBSCRIBERS} subscribers`);
log(
  `${SUBSCRIBERS} subscriptions on ${reported.connections} connections reported after ${(performance.now() - openedAt).toFixed(0)} ms; settling ${SETTLE_MS / 1000} s`,
);
await sleep(SETTLE_MS);
log(`window B: ${SUBSCRIBERS} subscriptions, ${WINDOW_MS / 1000} s`);
const windowB = await measureWindow(`${SUBSCRIBERS} subscribers`);

const added = windowB.subscriptions - windowA.subscriptions;
const perSub = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : (b - a) / added);
const memory = {
  subscriptionsAdded: added,
  connectionsAdded: windowB.connections - windowA.connections,
  heapUsedMeanPerSubscription: perSub(windowA.heapUsedMean, windowB.heapUsedMean)!,
  heapUsedMinPerSubscription: perSub(windowA.heapUsedMin, windowB.heapUsedMin)!,
  heapUsedAfterGcPerSubscription: perSub(windowA.heapUsedAfterGc, windowB.heapUsedAfterGc),
  rssMeanPerSubscription: perSub(windowA.rssMean, windowB.rssMean)!,
  rssAfterGcPerSubscription: perSub(windowA.rssAfterGc, windowB.rssAfterGc),
};

// ------------------------------------------------------------------ latency

for (let i = 0; i < SSE_SUBSCRIBERS; i++) subscribeSse();
await waitForSubscriptions(SUBSCRIBERS + SSE_SUBSCRIBERS, `${SSE_SUBSCRIBERS} SSE subscribers`);
log(`latency: ${ROUNDS} rounds (STARTED + FINISHED each), one worker per server, ${SUBSCRIBERS} WebSocket + ${SSE_SUBSCRIBERS} SSE subscribers`);

interface Sample {
  server: string;
  type: 'STARTED' | 'FINISHED';
  controlMs: number;
  /** From the control call's start to the gateway's `at` (wall clocks of one machine): the poll's share. */
  detectMs: number;
  /** To the first / the last subscriber of each transport; undefined when it never came. */
  ws?: { first: number; last: number; count: number };
  sse?: { first: number; last: number; count: number };
}
const samples: Sample[] = [];
let missing = 0;

async function event(server: string, type: Sample['type'], act: () => Promise<string | undefined>, known?: string): Promise<string | undefined> {
  const t0 = performance.now();
  const wall0 = Date.now();
  const id = (await act()) ?? known;
  const controlMs = performance.now() - t0;
  if (id === undefined) return undefined;
  const key = `${type}:${normalizeId(id)}`;
  const complete = () => {
    const a = arrivals.get(key);
    return (a?.ws?.count ?? 0) >= SUBSCRIBERS && (a?.sse?.count ?? 0) >= SSE_SUBSCRIBERS;
  };
  if (!(await until(complete, EVENT_TIMEOUT_MS))) missing++;
  const a = arrivals.get(key);
  const of = (t: Arrival | undefined) => t && { first: t.first - t0, last: t.last - t0, count: t.count };
  samples.push({
    server,
    type,
    controlMs,
    detectMs: a ? a.gatewayAt - wall0 : Number.NaN,
    ...(a?.ws && { ws: of(a.ws) }),
    ...(a?.sse && { sse: of(a.sse) }),
  });
  return normalizeId(id);
}

let taken = 0;
const latencyStart = performance.now();
await Promise.all(
  servers.map(async (server) => {
    while (taken < ROUNDS) {
      taken++;
      await sleep(Math.random() * FAST_MS);
      const id = await event(server, 'STARTED', async () => ((await control(server, 'POST', '/world/sessions', { durationMs: HOUR_MS })) as { id: string }).id);
      if (id === undefined) continue;
      await sleep(Math.random() * FAST_MS);
      await event(server, 'FINISHED', async () => {
        await control(server, 'POST', `/world/sessions/${encodeURIComponent(id)}/finish`, { result: 'Success' });
        return id;
      });
    }
  }),
);
const latencySeconds = (performance.now() - latencyStart) / 1000;

const latency = (transport: Transport, which: 'first' | 'last', type?: Sample['type']) =>
  spread(samples.filter((s) => (type === undefined || s.type === type) && s[transport] !== undefined).map((s) => s[transport]![which]));
const latencyResults = {
  rounds: ROUNDS,
  events: samples.length,
  missing,
  seconds: latencySeconds,
  ws: {
    first: latency('ws', 'first'),
    last: latency('ws', 'last'),
    started: latency('ws', 'first', 'STARTED'),
    finished: latency('ws', 'first', 'FINISHED'),
  },
  ...(SSE_SUBSCRIBERS > 0 && { sse: { first: latency('sse', 'first'), last: latency('sse', 'last') } }),
  detect: spread(samples.map((s) => s.detectMs).filter((x) => Number.isFinite(x))),
  control: spread(samples.map((s) => s.controlMs)),
  /** Delivery after the gateway saw the change: first WebSocket subscriber minus detection. */
  deliveryWsFirst: spread(samples.filter((s) => s.ws && Number.isFinite(s.detectMs)).map((s) => s.ws!.first - s.detectMs)),
};
const endMetrics = await gateway.metrics();

// ------------------------------------------------------------------ back to one subscriber: is the memory given back?

for (const off of unsubscribes.slice(1)) off();
for (const c of sseClients) c.dispose();
await Promise.all(wsClients.slice(1).map((c) => c.dispose()));
await waitForSubscriptions(1, 'back to one subscriber');
{
  const end = performance.now() + 30_000;
  while ((await gateway.metrics()).connections !== 1 && performance.now() < end) await sleep(100);
}
await sleep(SETTLE_MS);
log(`window C: back to 1 subscription, ${WINDOW_MS / 1000} s`);
const windowC = await measureWindow('back to 1 subscriber');
const retained = {
  heapUsedMean: windowC.heapUsedMean - windowA.heapUsedMean,
  heapUsedAfterGc:
    windowC.heapUsedAfterGc === undefined || windowA.heapUsedAfterGc === undefined ? undefined : windowC.heapUsedAfterGc - windowA.heapUsedAfterGc,
  rssMean: windowC.rssMean - windowA.rssMean,
};

// ------------------------------------------------------------------ close

unsubscribes[0]!();
await Promise.all(wsClients.slice(0, 1).map((c) => c.dispose()));
await gateway.close();
await sims.close();

// ------------------------------------------------------------------ report

const MB = 2 ** 20;
const f0 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(0));
const f1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(1));
const mb = (n: number | undefined) => (n === undefined ? '-' : (n / MB).toFixed(1));
const ratio = windowB.requestsPerMinute / windowA.requestsPerMinute;
const row = (s: ReturnType<typeof spread>) => `${f0(s.p50)} / ${f0(s.p95)} / ${f0(s.max)} (mean ${f0(s.mean)}, n ${s.n})`;

const KB = 1024;
const windowRow = (w: WindowResult) => ({
  subscriptions: w.subscriptions,
  connections: w.connections,
  'heap used, mean': `${mb(w.heapUsedMean)} MB`,
  'heap used, min': `${mb(w.heapUsedMin)} MB`,
  'heap after GC': w.heapUsedAfterGc === undefined ? '-' : `${mb(w.heapUsedAfterGc)} MB`,
  'RSS, mean': `${mb(w.rssMean)} MB`,
  'RSS after GC': w.rssAfterGc === undefined ? '-' : `${mb(w.rssAfterGc)} MB`,
});
const kb = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : `${(n / KB).toFixed(1)} KB`);
console.log(
  `\nMemory of the gateway process (/metrics, a sample every ${SAMPLE_MS} ms; ${FORCE_GC ? 'each window starts after a forced GC' : 'no forced GC'}):`,
);
console.table({
  [`A: ${windowA.label}`]: windowRow(windowA),
  [`B: ${windowB.label}`]: windowRow(windowB),
  [`C: ${windowC.label}`]: windowRow(windowC),
  'per subscription, (B - A) / added': {
    subscriptions: added,
    connections: memory.connectionsAdded,
    'heap used, mean': kb(memory.heapUsedMeanPerSubscription),
    'heap used, min': kb(memory.heapUsedMinPerSubscription),
    'heap after GC': kb(memory.heapUsedAfterGcPerSubscription),
    'RSS, mean': kb(memory.rssMeanPerSubscription),
    'RSS after GC': kb(memory.rssAfterGcPerSubscription),
  },
});
console.log(
  `Retained after closing (C - A): heap mean ${kb(retained.heapUsedMean)}, heap after GC ${kb(retained.heapUsedAfterGc)}, RSS mean ${kb(retained.rssMean)}`,
);
console.log(`\nUpstream requests (simulators' /_sim/stats, logons apart, ${WINDOW_MS / 1000} s windows, scaled to a minute):`);
console.table({
  [windowA.label]: {
    'requests / min': f1(windowA.requestsPerMinute),
    'by server': JSON.stringify(windowA.requests),
    logons: windowA.logons,
    'gateway CPU ms / min': f0(windowA.gatewayCpuMsPerMinute),
    'events / subscriber': f1(windowA.eventsPerSubscriber),
  },
  [windowB.label]: {
    'requests / min': f1(windowB.requestsPerMinute),
    'by server': JSON.stringify(windowB.requests),
    logons: windowB.logons,
    'gateway CPU ms / min': f0(windowB.gatewayCpuMsPerMinute),
    'events / subscriber': f1(windowB.eventsPerSubscriber),
  },
  [windowC.label]: {
    'requests / min': f1(windowC.requestsPerMinute),
    'by server': JSON.stringify(windowC.requests),
    logons: windowC.logons,
    'gateway CPU ms / min': f0(windowC.gatewayCpuMsPerMinute),
    'events / subscriber': f1(windowC.eventsPerSubscriber),
  },
  [`ratio ${SUBSCRIBERS} / 1`]: { 'requests / min': ratio.toFixed(3), 'by server': '', logons: '', 'gateway CPU ms / min': '', 'events / subscriber': '' },
});
console.log(`\nEvent latency, ms p50 / p95 / max, from the control call's start (fastPollMs ${FAST_MS}; ${latencyResults.events} events, ${missing} missing):`);
console.table({
  'WebSocket, first subscriber': { value: row(latencyResults.ws.first) },
  [`WebSocket, all ${SUBSCRIBERS}`]: { value: row(latencyResults.ws.last) },
  '  STARTED (first)': { value: row(latencyResults.ws.started) },
  '  FINISHED (first)': { value: row(latencyResults.ws.finished) },
  ...(latencyResults.sse && {
    'SSE, first subscriber': { value: row(latencyResults.sse.first) },
    [`SSE, all ${SSE_SUBSCRIBERS}`]: { value: row(latencyResults.sse.last) },
  }),
  'gateway saw it (event `at`)': { value: row(latencyResults.detect) },
  'delivery after `at` (first WS)': { value: row(latencyResults.deliveryWsFirst) },
  'control call itself': { value: row(latencyResults.control) },
});
if (errors.length) console.log(`subscription errors: ${errors.length}: ${errors.slice(0, 5).join(' | ')}`);

await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('./results/live.json', import.meta.url),
  `${JSON.stringify(
    {
      setup: {
        em: 3,
        vbo: ['v8', 'v6'],
        sessionsPerServer: SESSIONS,
        world: { sessionsPerHour: RATE, meanDurationMs: HOUR_MS, quietedAtStart: quieted },
        connections: CONNECTIONS,
        perConnection: PER_CONNECTION,
        subscribers: SUBSCRIBERS,
        sseSubscribers: SSE_SUBSCRIBERS,
        windowS: WINDOW_MS / 1000,
        settleS: SETTLE_MS / 1000,
        sampleMs: SAMPLE_MS,
        forcedGc: FORCE_GC ? 'inspector HeapProfiler.collectGarbage' : 'off',
        fastPollMs: FAST_MS,
        slowPollMs: SLOW_MS,
        simulators: 'own process',
        gateway: 'own process (veeam-graph serve)',
        query: QUERY,
      },
      memory: { ...memory, retainedAfterClosing: retained },
      windows: { one: windowA, many: windowB, oneAgain: windowC },
      requests: { perMinuteOne: windowA.requestsPerMinute, perMinuteMany: windowB.requestsPerMinute, ratio },
      latency: latencyResults,
      endMetrics,
      received,
      subscriptionErrors: errors.slice(0, 20),
      samples,
    },
    null,
    2,
  )}\n`,
);
