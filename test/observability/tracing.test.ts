import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import { parseConfig } from '../../src/config/loadConfig.js';
import { startTracing, type GatewayTracing } from '../../src/observability/startTracing.js';
import { createGateway, type Gateway } from '../../src/server/createGateway.js';
import { createLogger } from '../../src/server/createLogger.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';
import { simConfig, startHarness } from '../server/gatewayHarness.js';
import { ManualScheduler } from '../../src/sources/Scheduler.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlpReceiver.js';
import { startRecordingProxy, type RecordingProxy } from './recordingProxy.js';

/**
 * Traces, proven end to end: a gateway on the simulators exports to a small OTLP/HTTP (JSON)
 * receiver; the simulators sit behind recording proxies that collect every credential, token,
 * session id and raw query string on the wire, none of which may appear in any span.
 */

const QUERY = `query MergedPage {
  restoreSessions(first: 5) { nodes { name ... on EnterpriseManagerRestoreSession { backupServer { name } } } }
}`;

const SERVER = 2;
const CLIENT = 3;

/** Every string a span carries: names, attribute values (arrays too), event names and attributes, resource. */
function spanTexts(spans: readonly ReceivedSpan[]): string[] {
  const values = (o: Record<string, unknown>) => Object.entries(o).flatMap(([k, v]) => [k, ...(Array.isArray(v) ? v.map(String) : [String(v)])]);
  return spans.flatMap((s) => [s.name, ...values(s.attributes), ...s.events.flatMap((e) => [e.name, ...values(e.attributes)]), ...values(s.resource)]);
}

function captureLines(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

async function post(url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: unknown[] } };
}

describe('tracing', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('one operation span is the parent of one span per upstream call, with safe attributes only', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const sims: Simulators = await startSimulators({ em: 2, vbo: ['v8'], sessionsPerServer: 30 });
    cleanups.push(() => sims.close());
    const proxies = new Map<string, RecordingProxy>();
    const env: NodeJS.ProcessEnv = {};
    const servers = [];
    for (const s of sims.describe().servers) {
      const proxy = await startRecordingProxy(s.url);
      cleanups.push(() => proxy.close());
      proxies.set(s.name, proxy);
      const variable = `PW_${s.name.replace(/-/g, '_')}`;
      env[variable] = s.password;
      const url = `${proxy.origin}${new URL(s.url).pathname.replace(/\/$/, '')}`;
      servers.push({
        name: s.name,
        kind: s.kind,
        url,
        ...(s.apiVersion ? { apiVersion: s.apiVersion } : {}),
        username: s.username,
        password: { env: variable },
      });
    }
    const config = await parseConfig(
      {
        listen: { host: '127.0.0.1', port: 0 },
        servers,
        defaults: { retry: { limit: 1, baseDelayMs: 0 } },
        tracing: { endpoint: receiver.url, serviceName: 'veeam-graph-test' },
      },
      { env },
    );
    expect(config.tracing).toMatchObject({
      endpoint: `${receiver.url}/v1/traces`,
      serviceName: 'veeam-graph-test',
      sampler: { kind: 'parentbased_always_on' },
    });
    // The test owns the SDK so that it can flush (no sleeps); the gateway would otherwise start it from config.tracing.
    const tracing: GatewayTracing = await startTracing(config.tracing!);
    cleanups.push(() => tracing.shutdown());
    const { stream, lines } = captureLines();
    const gateway: Gateway = await createGateway(config, { logger: createLogger({ level: 'debug', destination: stream }), tracing, defaultMetrics: false });
    cleanups.unshift(() => gateway.close());

    const first = await post(gateway.graphqlUrl, QUERY);
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    const upstreamCalls = [...proxies.values()].reduce((n, p) => n + p.requests.length, 0);
    expect(upstreamCalls).toBeGreaterThan(0);
    await tracing.flush();

    expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);
    const ops = receiver.spans.filter((s) => s.kind === SERVER);
    expect(ops).toHaveLength(1);
    const op = ops[0]!;
    expect(op.name).toBe('graphql.operation MergedPage');
    expect(op.parentSpanId).toBeUndefined();
    expect(op.attributes).toMatchObject({
      'graphql.operation.name': 'MergedPage',
      'graphql.operation.type': 'query',
      'graphql.document.sha256': createHash('sha256').update(QUERY).digest('hex'),
      'graphql.outcome': 'success',
      'http.response.status_code': 200,
      'veeam.cache.miss': expect.any(Number),
    });
    expect(op.resource).toMatchObject({ 'service.name': 'veeam-graph-test', 'service.version': expect.any(String) });

    // One CLIENT span per call that reached a server, every one a direct child of the operation.
    const client = receiver.spans.filter((s) => s.kind === CLIENT);
    expect(client).toHaveLength(upstreamCalls);
    for (const s of client) {
      expect(s.traceId).toBe(op.traceId);
      expect(s.parentSpanId).toBe(op.spanId);
      expect(s.attributes).toMatchObject({
        'veeam.server': expect.stringMatching(/^(em-\d|m365-\d)$/),
        'http.request.method': expect.stringMatching(/^(GET|POST)$/),
        'url.template': expect.any(String),
        'http.response.status_code': expect.any(Number),
        'http.request.resend_count': 0,
      });
      expect(s.name).toBe(`${String(s.attributes['http.request.method'])} ${String(s.attributes['url.template'])}`);
    }
    // The templates are the simulators' own (their request logs name every route).
    const simTemplates = sims.servers.flatMap((s) => s.log.all().map((e) => `${s.name} ${e.template}`)).sort();
    expect(client.map((s) => `${String(s.attributes['veeam.server'])} ${s.name}`).sort()).toEqual(simTemplates);
    // Logons are spans of their own, marked as such: one per server.
    const logons = client.filter((s) => s.attributes['veeam.auth'] !== undefined);
    expect(logons.map((s) => `${String(s.attributes['veeam.server'])} ${s.name} ${String(s.attributes['veeam.auth'])}`).sort()).toEqual([
      'em-1 POST /api/sessionMngr logon',
      'em-2 POST /api/sessionMngr logon',
      'm365-1 POST /v8/token logon',
    ]);
    expect(client.some((s) => s.name === 'GET /api/query?type=RestoreSession')).toBe(true);
    expect(client.some((s) => s.name === 'GET /api/query?type=BackupServer')).toBe(true);

    // One span per merge step (a round: ask the servers, merge), a child of the operation too.
    const steps = receiver.spans.filter((s) => s.name.startsWith('merge '));
    expect(steps.map((s) => s.name)).toEqual(['merge Query.restoreSessions']);
    expect(steps[0]!.parentSpanId).toBe(op.spanId);
    expect(steps[0]!.attributes).toEqual({
      'veeam.connection': 'Query.restoreSessions',
      'veeam.merge.round': 0,
      'veeam.merge.sources': ['em-1', 'em-2', 'm365-1'],
      'veeam.merge.fetched': expect.any(Number),
      'veeam.merge.page': 5,
      'veeam.merge.has_next_page': true,
    });

    // Nothing secret in any span: passwords, Basic values, tokens, session ids, raw queries and filters.
    const forbidden = new Set<string>();
    for (const s of sims.describe().servers) forbidden.add(s.password);
    for (const p of proxies.values()) for (const v of p.secrets) forbidden.add(v);
    expect([...forbidden].some((v) => /filter=/i.test(v))).toBe(true); // the proxies did see raw filters
    const texts = spanTexts(receiver.spans);
    const leaks = [...forbidden].filter((secret) => secret.length >= 4 && texts.some((t) => t.includes(secret)));
    expect(leaks).toEqual([]);
    expect(texts.filter((t) => t.includes('?') && !/\?type=[A-Za-z]+$/.test(t))).toEqual([]);

    // Log lines written during the operation carry its trace id.
    const traced = lines.filter((l) => l.trace_id === op.traceId);
    expect(traced.some((l) => l.msg === 'graphql operation')).toBe(true);
    expect(traced.every((l) => typeof l.span_id === 'string' && /^[0-9a-f]{16}$/.test(l.span_id))).toBe(true);
    expect(lines.some((l) => l.msg === 'gateway listening' && l.trace_id === undefined)).toBe(true);

    // The same query again is answered from memory: an operation span with cache hits, no upstream span.
    receiver.spans.length = 0;
    expect((await post(gateway.graphqlUrl, QUERY)).status).toBe(200);
    await tracing.flush();
    const again = receiver.spans.find((s) => s.kind === SERVER)!;
    expect(again.attributes['veeam.cache.hit']).toEqual(expect.any(Number));
    expect(again.events).toEqual([]); // hits and misses are counted, not one event each
    expect(receiver.spans.filter((s) => s.kind === CLIENT)).toEqual([]);

    // A re-logon (em-1's session expired) and a retry (em-2 answers 503 once) on a live read.
    receiver.spans.length = 0;
    sims.em[0]!.expireAll();
    sims.em[1]!.faults.set({ rules: [{ match: '^GET /api/query', times: 1, action: { status: 503 } }] });
    expect((await post(gateway.graphqlUrl, QUERY, { 'cache-control': 'no-cache' })).body.errors).toBeUndefined();
    await tracing.flush();
    const live = receiver.spans.filter((s) => s.kind === CLIENT);
    const em1 = live.filter((s) => s.attributes['veeam.server'] === 'em-1' && s.name === 'GET /api/query?type=RestoreSession');
    expect(em1.map((s) => s.attributes['http.response.status_code']).sort()).toEqual([200, 401]);
    expect(live.filter((s) => s.attributes['veeam.auth'] === 'relogon').map((s) => `${String(s.attributes['veeam.server'])} ${s.name}`)).toEqual([
      'em-1 POST /api/sessionMngr',
    ]);
    const retried = live.find((s) => s.attributes['veeam.server'] === 'em-2' && s.attributes['http.request.resend_count'] === 1)!;
    expect(retried.name).toBe('GET /api/query?type=RestoreSession');
    expect(retried.attributes['http.response.status_code']).toBe(200);
    expect(retried.events).toEqual([{ name: 'http.retry', attributes: { 'http.request.resend_count': 1, 'http.response.status_code': 503 } }]);
    const liveOp = receiver.spans.find((s) => s.kind === SERVER)!;
    for (const s of live) expect(s.parentSpanId).toBe(liveOp.spanId);
    expect(
      spanTexts(receiver.spans).filter((t) =>
        [...forbidden, ...[...proxies.values()].flatMap((p) => [...p.secrets])].some((f) => f.length >= 4 && t.includes(f)),
      ),
    ).toEqual([]);

    // Coalesced reads: B's list reads join the calls A started, whose spans stay A's children.
    receiver.spans.length = 0;
    for (const s of sims.servers) s.faults.set({ latencyMs: 150 });
    const listCalls = () => [...proxies.values()].reduce((n, p) => n + p.requests.filter((r) => /\/(query|RestoreSessions)$/.test(r.path)).length, 0);
    const before = listCalls();
    const a = post(gateway.graphqlUrl, QUERY.replace('MergedPage', 'PageA'), { 'cache-control': 'no-cache' });
    for (let i = 0; i < 100_000 && listCalls() < before + 3; i++) await new Promise((r) => setImmediate(r));
    expect(listCalls()).toBe(before + 3);
    const b = post(gateway.graphqlUrl, QUERY.replace('MergedPage', 'PageB'), { 'cache-control': 'no-cache' });
    expect((await Promise.all([a, b])).map((r) => r.status)).toEqual([200, 200]);
    for (const s of sims.servers) s.faults.set({ latencyMs: 0 });
    await tracing.flush();
    const opA = receiver.spans.find((s) => s.name === 'graphql.operation PageA')!;
    const opB = receiver.spans.find((s) => s.name === 'graphql.operation PageB')!;
    const lists = receiver.spans.filter((s) => /^GET \/(api\/query\?type=RestoreSession|v8\/RestoreSessions)$/.test(s.name));
    expect(lists).toHaveLength(3);
    for (const s of lists) expect(s.parentSpanId).toBe(opA.spanId);
    expect(opB.attributes['veeam.cache.coalesced']).toBeGreaterThanOrEqual(3);
    expect(
      opB.events
        .filter((e) => e.name === 'cache.coalesced' && e.attributes['veeam.cache.what'] === 'RestoreSessionList')
        .map((e) => e.attributes['veeam.server'])
        .sort(),
    ).toEqual(['em-1', 'em-2', 'm365-1']);
    for (const s of receiver.spans.filter((x) => x.kind === CLIENT)) expect([opA.spanId, opB.spanId]).toContain(s.parentSpanId);
  });

  it("continues the caller's W3C traceparent, and exports what is left when the gateway closes", async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const harness = await startHarness({ config: { tracing: { endpoint: `${receiver.url}/v1/traces` } } });
    let closed = false;
    cleanups.unshift(() => (closed ? Promise.resolve() : harness.close()));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const res = await harness.gql(QUERY, undefined, { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=1' });
    expect(res.status).toBe(200);
    // The gateway owns this SDK: close() flushes and stops it.
    await harness.close();
    closed = true;

    const op = receiver.spans.find((s) => s.kind === SERVER)!;
    expect(op).toBeDefined();
    expect(op.traceId).toBe(traceId);
    expect(op.parentSpanId).toBe(parentId);
    expect(op.resource['service.name']).toBe('veeam-graph');
    const client = receiver.spans.filter((s) => s.kind === CLIENT);
    expect(client.length).toBeGreaterThan(0);
    for (const s of client) {
      expect(s.traceId).toBe(traceId);
      expect(s.parentSpanId).toBe(op.spanId);
    }
    // The SDK is gone with the gateway: the API is back to its no-op tracer.
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false);
  });

  it('a collector that is down costs the spans and a warning, not the shutdown', async () => {
    const { stream, lines } = captureLines();
    // Port 1 on loopback: nothing listens, the export is refused at once.
    const tracing = await startTracing(
      {
        endpoint: 'http://127.0.0.1:1/v1/traces',
        serviceName: 'x',
        resourceAttributes: {},
        sampler: { kind: 'always_on' },
        headers: {},
        protocol: 'http/json',
        from: 'config',
      },
      // The export gives up within the shutdown's bound, so no retry outlives the test.
      { logger: createLogger({ level: 'info', destination: stream }), shutdownTimeoutMs: 2000, exportTimeoutMs: 200 },
    );
    trace.getTracer('test').startSpan('lost').end();
    const t0 = performance.now();
    await expect(tracing.shutdown()).resolves.toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(lines.some((l) => l.level === 40 && /could not be exported|export/i.test(String(l.msg)))).toBe(true);
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false);
  });

  it('a live poll and a circuit probe are traces of their own, their upstream calls (logon included) their children', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 5 });
    cleanups.push(() => sims.close());
    const config = await simConfig(sims, { tracing: { endpoint: receiver.url } });
    const tracing = await startTracing(config.tracing!);
    cleanups.push(() => tracing.shutdown());
    const scheduler = new ManualScheduler(Date.parse('2026-11-01T12:00:00Z'));
    const gateway = await createGateway(config, { logger: createLogger({ level: 'silent' }), tracing, scheduler, defaultMetrics: false });
    cleanups.unshift(() => gateway.close());
    const turns = async (done: () => boolean, what: string) => {
      for (let i = 0; i < 5000 && !done(); i++) await new Promise((r) => setImmediate(r));
      if (!done()) throw new Error(`never happened: ${what}`);
    };

    // The first listener starts the poller, which primes at once.
    const stop = gateway.live.listen(['em-1'], () => undefined);
    await turns(() => gateway.live.stats()[0]!.polls >= 1, 'the first poll');
    stop();
    // The server fails until its circuit opens; after the cooldown a probe (not a query) pings it.
    sims.em[0]!.faults.set({ rules: [{ action: { status: 503, message: 'maintenance' } }] });
    for (let i = 0; i < 10 && gateway.sources[0]!.circuit().circuit !== 'open'; i++) await post(gateway.graphqlUrl, QUERY);
    expect(gateway.sources[0]!.circuit().circuit).toBe('open');
    sims.em[0]!.faults.clear();
    scheduler.advance(config.servers[0]!.circuitBreaker.cooldownMs);
    await turns(() => gateway.sources[0]!.circuit().circuit === 'closed', 'the probe closing the circuit');
    await tracing.flush();

    for (const [name, childNames] of [
      ['live poll em-1', ['POST /api/sessionMngr', 'GET /api/query?type=RestoreSession']],
      ['circuit probe em-1', ['GET /api/']],
    ] as const) {
      const root = receiver.spans.find((s) => s.name === name);
      expect([name, root?.parentSpanId ?? '']).toEqual([name, '']);
      expect(root!.attributes['veeam.server']).toBe('em-1');
      const children = receiver.spans.filter((s) => s.parentSpanId === root!.spanId);
      expect(children.map((c) => c.name)).toEqual(expect.arrayContaining([...childNames]));
      for (const c of children) expect([c.name, c.traceId, c.kind]).toEqual([c.name, root!.traceId, CLIENT]);
    }
    const poll = receiver.spans.find((s) => s.name === 'live poll em-1')!;
    expect(poll.attributes).toMatchObject({ 'veeam.live.priming': true, 'veeam.live.events': 0 });
  });

  it('is off without config or OTEL_* variables: no SDK, no spans, no trace ids in logs', async () => {
    const harness = await startHarness();
    cleanups.push(() => harness.close());
    expect(harness.config.tracing).toBeUndefined();
    const res = await harness.gql(QUERY, undefined, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    expect(res.status).toBe(200);
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false);
    const delegate = (trace.getTracerProvider() as { getDelegate?: () => object }).getDelegate?.();
    expect(delegate?.constructor.name).toBe('NoopTracerProvider');
    expect(harness.lines.some((l) => 'trace_id' in l)).toBe(false);
  });
});
