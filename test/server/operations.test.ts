import { afterEach, describe, expect, it } from '@jest/globals';
import { METRIC_NAMES } from '../../src/server/GatewayMetrics.js';
import { readyz, startHarness, type Harness } from './gatewayHarness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('health, readiness and metrics', () => {
  it('/healthz answers 200 while the process lives', async () => {
    h = await startHarness({ sims: { em: 1, vbo: [] } });
    const res = await fetch(`${h.gateway.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz probes servers nobody asked yet, stays ready with one down, and answers 503 with all down', async () => {
    h = await startHarness({ sims: { em: 2, vbo: ['v8'] } });
    const first = await readyz(h);
    expect(first.status).toBe(200);
    expect(first.body.sources.map((s) => [s.name, s.kind, s.status])).toEqual([
      ['em-1', 'enterprise-manager', 'UP'],
      ['em-2', 'enterprise-manager', 'UP'],
      ['m365-1', 'microsoft365', 'UP'],
    ]);
    expect(first.body.sources.every((s) => typeof s.lastLatencyMs === 'number')).toBe(true);

    await h.sims.em[0]!.close();
    // Health within staleAfterMs (10 s by the injected clock) is trusted; past it, probed again.
    expect((await readyz(h)).body.sources[0]!.status).toBe('UP');
    h.clock.advance(10_000);
    const oneDown = await readyz(h);
    expect(oneDown.status).toBe(200);
    expect(oneDown.body.ready).toBe(true);
    expect(oneDown.body.sources[0]).toMatchObject({ name: 'em-1', status: 'DOWN', lastError: { code: 'UPSTREAM_UNREACHABLE' } });
    expect(oneDown.body.sources.slice(1).map((s) => s.status)).toEqual(['UP', 'UP']);

    await h.sims.em[1]!.close();
    await h.sims.vbo[0]!.close();
    h.clock.advance(10_000);
    const allDown = await readyz(h);
    expect(allDown.status).toBe(503);
    expect(allDown.body).toMatchObject({ ready: false, reason: 'none of the 3 configured servers is reachable' });
    expect(allDown.body.sources.map((s) => s.status)).toEqual(['DOWN', 'DOWN', 'DOWN']);
  });

  it('/metrics lists operation, upstream, logon, loader, source and process metrics after a query', async () => {
    h = await startHarness({ sims: { em: 1, vbo: ['v8'] }, gateway: { defaultMetrics: true } });
    const q = await h.gql('query Recent { restoreSessions(first: 5) { nodes { name ... on EnterpriseManagerRestoreSession { backupServer { name } } } } }');
    expect(q.status).toBe(200);
    const res = await fetch(`${h.gateway.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of Object.values(METRIC_NAMES)) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toMatch(/^veeam_graph_graphql_operations_total\{operation="Recent",outcome="success"\} 1$/m);
    expect(text).toMatch(/^veeam_graph_graphql_operation_duration_seconds_count\{operation="Recent",outcome="success"\} 1$/m);
    expect(text).toMatch(/^veeam_graph_upstream_requests_total\{source="em-1",method="GET",status="200"\} \d+$/m);
    // By route template: the list and the query-service type, never an id.
    expect(text).toMatch(/^veeam_graph_upstream_request_duration_seconds_count\{source="m365-1",route="\/v8\/RestoreSessions",status="200"\} \d+$/m);
    expect(text).toMatch(/^veeam_graph_upstream_request_duration_seconds_count\{source="em-1",route="\/api\/query\?type=RestoreSession",status="200"\} \d+$/m);
    const routes = [...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]!);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route).not.toMatch(/[0-9a-f]{8}-|urn:|\d{3,}/i);
    expect(text).toMatch(/^veeam_graph_config_last_reload_successful 1$/m);
    expect(text).toMatch(/^veeam_graph_upstream_logons_total\{source="em-1",kind="em_logon",outcome="success"\} 1$/m);
    expect(text).toMatch(/^veeam_graph_upstream_logons_total\{source="m365-1",kind="vbo_token",outcome="success"\} 1$/m);
    expect(text).toMatch(/^veeam_graph_vbo_token_grants_total\{source="m365-1",grant="password"\} 1$/m);
    expect(text).toMatch(/^veeam_graph_loader_batch_size_count\{loader="[^"]+"\} \d+$/m);
    expect(text).toMatch(/^veeam_graph_source_up\{source="em-1",kind="enterprise-manager"\} 1$/m);
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('counts upstream failures by source and code', async () => {
    h = await startHarness({ sims: { em: 2, vbo: [] } });
    await h.sims.em[1]!.close();
    const q = await h.gql('{ restoreSessions(first: 3) { nodes { name } sourceErrors { code } } }');
    expect(q.status).toBe(200);
    const text = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(text).toMatch(/^veeam_graph_upstream_errors_total\{source="em-2",code="UPSTREAM_UNREACHABLE"\} \d+$/m);
    expect(text).toMatch(/^veeam_graph_graphql_operations_total\{operation="anonymous",outcome="partial"\} 1$/m);
  });
});

describe('graceful close', () => {
  it('lets an in-flight query finish, refuses new connections, then logs off every EM session', async () => {
    const harness = await startHarness({ sims: { em: 2, vbo: ['v8'] } });
    // Slow EM answers keep the query in flight while close() starts.
    for (const em of harness.sims.em) em.faults.set({ latencyMs: 150 });
    const arrived = new Promise<void>((resolve) => harness.gateway.server.once('request', () => resolve()));
    const inFlight = harness.gql('{ restoreSessions(first: 5) { nodes { name } } }');
    await arrived;
    const closed = harness.gateway.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((res.body.data?.restoreSessions as { nodes: unknown[] }).nodes).toHaveLength(5);
    await closed;
    await expect(fetch(`${harness.gateway.url}/healthz`)).rejects.toThrow();
    for (const em of harness.sims.em) {
      const stats = em.log.stats();
      expect([em.name, stats.logons]).toEqual([em.name, 1]);
      expect([em.name, stats.logoffs]).toEqual([em.name, 1]);
    }
    await harness.sims.close();
  });
});

describe('introspection', () => {
  it('can be switched off in the config', async () => {
    h = await startHarness({ sims: { em: 1, vbo: [] }, config: { introspection: false } });
    const res = await h.gql('{ __schema { queryType { name } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await h.gql('{ sources { name } }')).status).toBe(200);
  });
});
