import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError, type GatewayConfig } from '../../src/config/loadConfig.js';
import { simConfig } from './gatewayHarness.js';
import { collect, startLive, until, wsClient, type LiveHarness } from '../live/liveHarness.js';
import { LIVE_DEFAULTS } from '../../src/sources/live/liveDefaults.js';

let h: LiveHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SESSIONS = `{
  restoreSessions(first: 500) {
    nodes { source { name } }
    sourceErrors { source { name } code }
  }
}`;

interface SessionsBody {
  data?: { restoreSessions: { nodes: { source: { name: string } }[]; sourceErrors: { source: { name: string }; code: string }[] } };
}

/** The servers whose sessions a page holds, with their counts. */
function bySource(body: SessionsBody): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of body.data!.restoreSessions.nodes) counts[n.source.name] = (counts[n.source.name] ?? 0) + 1;
  return counts;
}

/** The harness's config with only the named servers (the same server objects: unchanged servers compare equal). */
function withServers(config: GatewayConfig, names: string[]): GatewayConfig {
  return { ...config, servers: config.servers.filter((s) => names.includes(s.name)) };
}

async function start(): Promise<LiveHarness> {
  h = await startLive({ sims: { em: 2, vbo: ['v8'], sessionsPerServer: 12 } });
  return h;
}

/** The `digest` labels of `veeam_graph_config_info`. */
function digests(metrics: string): string[] {
  return [...metrics.matchAll(/^veeam_graph_config_info\{digest="([0-9a-f]+)"\} 1$/gm)].map((m) => m[1]!);
}

function emSim(harness: LiveHarness, name: string) {
  return harness.sims.em.find((e) => e.name === name)!;
}

describe('config reload', () => {
  it('adds a server: its sessions merge into the next query, and the unchanged servers keep their session', async () => {
    const harness = await start();
    await harness.gql(SESSIONS);
    const startDigest = digests(await (await fetch(`${harness.gateway.url}/metrics`)).text())[0];
    expect(startDigest).toMatch(/^[0-9a-f]{16}$/);
    const reduced = await harness.gateway.reload(withServers(harness.config, ['em-1', 'm365-1']));
    expect(reduced).toMatchObject({ applied: true, removed: ['em-2'], kept: ['em-1', 'm365-1'], added: [] });
    const before = await harness.gql(SESSIONS);
    expect(bySource(before.body as SessionsBody)).toEqual({ 'em-1': 12, 'm365-1': 12 });
    expect(digests(await (await fetch(`${harness.gateway.url}/metrics`)).text())).not.toEqual([startDigest]);
    const em2Requests = emSim(harness, 'em-2').log.all().length;

    const added = await harness.gateway.reload(harness.config);
    expect(added).toMatchObject({ applied: true, added: ['em-2'], removed: [], changed: [], kept: ['em-1', 'm365-1'], restartNeeded: [] });
    // Past the memory (which still holds em-2's list from before): the added source reads.
    const after = await harness.gql(SESSIONS, undefined, { 'cache-control': 'no-cache' });
    expect(bySource(after.body as SessionsBody)).toEqual({ 'em-1': 12, 'em-2': 12, 'm365-1': 12 });
    expect(emSim(harness, 'em-2').log.all().length).toBeGreaterThan(em2Requests);
    const sources = await harness.gql('{ sources { name } }');
    expect((sources.body.data!.sources as { name: string }[]).map((s) => s.name)).toEqual(['em-1', 'em-2', 'm365-1']);
    // em-1 was never logged off or on again: the reload kept its source.
    expect([emSim(harness, 'em-1').log.stats().logons, emSim(harness, 'em-1').log.stats().logoffs]).toEqual([1, 0]);
    expect(harness.sims.vbo[0]!.log.stats().tokens).toBe(1);
    // em-2 was logged off when it was removed, and on again when it came back.
    await until(() => emSim(harness, 'em-2').log.stats().logoffs === 1, 'em-2 logged off');
    expect(emSim(harness, 'em-2').log.stats().logons).toBe(2);
    const reloaded = harness.lines.filter((l) => l.msg === 'config reloaded');
    expect(reloaded.at(-1)).toMatchObject({ added: ['em-2'], kept: ['em-1', 'm365-1'] });
    const metrics = await (await fetch(`${harness.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^veeam_graph_config_reloads_total\{result="applied"\} 2$/m);
    // Back to the first config: back to its digest (and one digest at a time).
    expect(digests(metrics)).toEqual([startDigest]);
    expect(metrics).toMatch(/^veeam_graph_source_up\{source="em-2",kind="enterprise-manager"\} 1$/m);
  });

  it('removes a server while a query reads it: that query finishes on the old set, new ones skip it, then it is logged off', async () => {
    const harness = await start();
    const em2 = emSim(harness, 'em-2');
    await harness.gql(SESSIONS);
    expect(em2.log.stats().logons).toBe(1);
    // em-2 holds its next list read: the query waits for it until the latency budget ends.
    em2.faults.set({ rules: [{ match: '^GET /api/query', action: { hang: true } }] });
    const inFlight = harness.gql(SESSIONS, undefined, { 'cache-control': 'no-cache' });
    await until(() => em2.hangingRequests() === 1, 'the em-2 read in flight');

    const outcome = await harness.gateway.reload(withServers(harness.config, ['em-1', 'm365-1']));
    expect(outcome).toMatchObject({ applied: true, removed: ['em-2'], kept: ['em-1', 'm365-1'] });
    // A new query is served by the new set: no em-2 at all, and not one request to it.
    const seen = em2.log.all().length;
    const fresh = await harness.gql(SESSIONS);
    expect(bySource(fresh.body as SessionsBody)).toEqual({ 'em-1': 12, 'm365-1': 12 });
    expect((fresh.body as SessionsBody).data!.restoreSessions.sourceErrors).toEqual([]);
    expect(em2.log.all().length).toBe(seen);
    // The query that began before the reload still runs on the old set, so em-2 is not logged off yet.
    expect(em2.log.stats().logoffs).toBe(0);

    harness.scheduler.advance(harness.config.cache.budgetMs);
    const old = (await inFlight).body as SessionsBody;
    expect(old.data!.restoreSessions.sourceErrors).toEqual([{ source: { name: 'em-2' }, code: 'UPSTREAM_TIMEOUT' }]);
    expect(bySource(old)).toEqual({ 'em-1': 12, 'm365-1': 12 });
    await until(() => em2.log.stats().logoffs === 1, 'em-2 logged off once the old set is idle');
    await until(() => harness.lines.some((l) => l.msg === 'server removed: its session is closed' && l.source === 'em-2'), 'the removal logged');
    // The servers that stayed were not touched.
    expect(emSim(harness, 'em-1').log.stats().logoffs).toBe(0);
  });

  it('a changed server gets a new source (new logon), and the old session is logged off', async () => {
    const harness = await start();
    await harness.gql(SESSIONS);
    const next = {
      ...harness.config,
      servers: harness.config.servers.map((s) => (s.name === 'em-1' ? { ...s, concurrency: { maxSockets: s.concurrency.maxSockets + 1 } } : s)),
    };
    const outcome = await harness.gateway.reload(next);
    expect(outcome).toMatchObject({ applied: true, changed: ['em-1'], kept: ['em-2', 'm365-1'], added: [], removed: [] });
    // Past the memory (it is kept by server name): the new source reads, so it logs on.
    const res = await harness.gql(SESSIONS, undefined, { 'cache-control': 'no-cache' });
    expect(bySource(res.body as SessionsBody)).toEqual({ 'em-1': 12, 'em-2': 12, 'm365-1': 12 });
    const em1 = emSim(harness, 'em-1');
    await until(() => em1.log.stats().logoffs === 1, 'the old em-1 session logged off');
    expect(em1.log.stats().logons).toBe(2);
    expect(emSim(harness, 'em-2').log.stats()).toMatchObject({ logons: 1, logoffs: 0 });
  });

  it('a server pointed at another URL is not answered from the memory of the old one', async () => {
    const harness = await start();
    const ids = async (source: string, headers: Record<string, string> = {}) => {
      const res = await harness.gql(`{ restoreSessions(first: 50, filter: { sources: ["${source}"] }) { nodes { nativeId } } }`, undefined, headers);
      return ((res.body.data!.restoreSessions as { nodes: { nativeId: string }[] }).nodes ?? []).map((n) => n.nativeId).sort();
    };
    const em1 = await ids('em-1');
    const em2 = await ids('em-2');
    expect(em1).toHaveLength(12);
    expect(em1).not.toEqual(em2);
    // em-1 moves to em-2's address (a replaced server under the same name); within the list TTL.
    const target = harness.config.servers.find((s) => s.name === 'em-2')!;
    const next = {
      ...harness.config,
      servers: harness.config.servers.map((s) => (s.name === 'em-1' ? { ...s, url: target.url, username: target.username, password: target.password } : s)),
    };
    expect(await harness.gateway.reload(next)).toMatchObject({ applied: true, changed: ['em-1'] });
    expect(await ids('em-1')).toEqual(em2);
  });

  it('the same config again is no reload: nothing swapped, no subscriber disconnected, no session touched', async () => {
    const harness = await start();
    await harness.gql(SESSIONS);
    const client = wsClient(harness);
    let closed = false;
    client.on('closed', () => (closed = true));
    client.subscribe(
      { query: 'subscription { restoreSessionChanged { type } }' },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    await until(() => harness.gateway.subscriptions() === 1, 'subscribed');
    const live = harness.gateway.live;
    // What a config tool's SIGHUP or an unchanged save gives: the same file, loaded again.
    const again = await simConfig(harness.sims);
    const digestBefore = digests(await (await fetch(`${harness.gateway.url}/metrics`)).text());
    expect(await harness.gateway.reload(again)).toMatchObject({ applied: true, unchanged: true, kept: ['em-1', 'em-2', 'm365-1'] });
    expect(digests(await (await fetch(`${harness.gateway.url}/metrics`)).text())).toEqual(digestBefore);
    expect(harness.gateway.live).toBe(live);
    expect(harness.gateway.subscriptions()).toBe(1);
    expect(closed).toBe(false);
    for (const em of harness.sims.em) expect(em.log.stats()).toMatchObject({ logons: 1, logoffs: 0 });
    const metrics = await (await fetch(`${harness.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^veeam_graph_config_reloads_total\{result="unchanged"\} 1$/m);
    await client.dispose();
  });

  it('a config that does not validate is logged and ignored: the running one keeps serving', async () => {
    const harness = await start();
    const outcome = await harness.gateway.reload(async () => {
      throw new ConfigError(['servers[1].url: expected http:// or https:// (gateway.yaml)'], { file: 'gateway.yaml' });
    });
    expect(outcome).toMatchObject({ applied: false, added: [], removed: [], error: expect.stringContaining('servers[1].url') });
    const res = await harness.gql(SESSIONS);
    expect(bySource(res.body as SessionsBody)).toEqual({ 'em-1': 12, 'em-2': 12, 'm365-1': 12 });
    const line = harness.lines.find((l) => l.msg === 'config not reloaded: it is invalid; the running config keeps serving');
    expect(line).toMatchObject({ level: 50, problems: ['servers[1].url: expected http:// or https:// (gateway.yaml)'] });
    const metrics = await (await fetch(`${harness.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^veeam_graph_config_reloads_total\{result="invalid"\} 1$/m);
    expect(metrics).toMatch(/^veeam_graph_config_last_reload_successful 0$/m);
    // Nothing was closed or opened upstream.
    for (const em of harness.sims.em) expect(em.log.stats()).toMatchObject({ logons: 1, logoffs: 0 });
  });

  it('listen changes need a restart: the rest applies, the listener stays where it is', async () => {
    const harness = await start();
    const outcome = await harness.gateway.reload({
      ...harness.config,
      listen: { ...harness.config.listen, port: 1 },
      limits: { ...harness.config.limits, maxDepth: 3 },
    });
    expect(outcome).toMatchObject({ applied: true, restartNeeded: ['listen.port'] });
    // Served on the same URL, under the new limits.
    const deep = await harness.gql('{ restoreSessions(first: 1) { nodes { source { backupServer { name } } } } }');
    expect(deep.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(harness.lines.find((l) => l.msg === 'these changes need a restart; their running values stay')).toMatchObject({ keys: ['listen.port'] });
  });

  it('subscriptions are closed with 1012 (service restart) and a reconnect subscribes on the new config', async () => {
    const harness = await start();
    const client = wsClient(harness);
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    const events: unknown[] = [];
    const ended = new Promise<void>((resolve) => {
      client.subscribe(
        { query: 'subscription { restoreSessionChanged { type } }' },
        { next: (e) => events.push(e), error: () => resolve(), complete: () => resolve() },
      );
    });
    await until(() => harness.gateway.subscriptions() === 1, 'subscribed');
    await harness.gateway.reload(withServers(harness.config, ['em-1']));
    expect(await closed).toBe(1012);
    await ended;
    await client.dispose();
    expect(harness.gateway.subscriptions()).toBe(0);

    const again = wsClient(harness);
    again.subscribe({ query: 'subscription { restoreSessionChanged { type } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    await until(() => harness.gateway.subscriptions() === 1, 'subscribed again');
    // The new live feed polls the one server left.
    expect(harness.gateway.live.stats().map((s) => [s.source, s.listeners])).toEqual([['em-1', 1]]);
    await again.dispose();
  });

  it('nothing is lost across a reload: the next poller resumes where the last one stopped', async () => {
    const harness = await start();
    const em = emSim(harness, 'em-1');
    const query = 'subscription { restoreSessionChanged(filter: { sources: ["em-1"] }) { type session { nativeId } } }';
    const before = wsClient(harness);
    const first = collect(before.iterate({ query }));
    await until(() => harness.gateway.subscriptions() === 1, 'subscribed');
    await harness.gateway.live.settled();
    const s1 = em.live.startSession({ vmDisplayName: 'across-reload' });
    await harness.tick(LIVE_DEFAULTS.fastPollMs);
    expect((await first.nth(1)).data?.restoreSessionChanged).toEqual({ type: 'STARTED', session: { nativeId: s1.id } });

    // Any change makes a new generation (and closes the subscriptions, 1012).
    await harness.gateway.reload({ ...harness.config, limits: { ...harness.config.limits, maxDepth: harness.config.limits.maxDepth + 1 } });
    await first.done;
    await before.dispose();
    // While the client reconnects: s1 finishes, s2 starts.
    em.live.finish(s1.id, 'Success');
    const s2 = em.live.startSession({ vmDisplayName: 'during-reload' });
    const after = wsClient(harness);
    const second = collect(after.iterate({ query }));
    await until(() => harness.gateway.subscriptions() === 1, 'subscribed again');
    await harness.gateway.live.settled();
    await harness.tick(LIVE_DEFAULTS.fastPollMs);
    await second.nth(2);
    expect(second.results.map((r) => r.data?.restoreSessionChanged)).toEqual([
      { type: 'STARTED', session: { nativeId: s2.id } },
      { type: 'FINISHED', session: { nativeId: s1.id } },
    ]);
    expect(harness.lines.some((l) => l.msg === 'live poller resumed from the previous poller checkpoint' && l.source === 'em-1')).toBe(true);
    await second.stop();
    await after.dispose();
  });

  it('a key the reload removes is refused at once: its queries get 401, its subscriptions are closed and cannot come back', async () => {
    const KEEP = 'kept-key-0123456789abcdef';
    const DROP = 'revoked-key-0123456789abcdef';
    const keys = (names: string[]) => ({
      auth: { apiKeys: names.map((name) => ({ name, key: { env: name === 'keep' ? 'K_KEEP' : 'K_DROP' }, scopes: ['read'] })) },
    });
    h = await startLive({ sims: { em: 1, vbo: [], sessionsPerServer: 3 }, config: keys(['keep', 'drop']), env: { K_KEEP: KEEP, K_DROP: DROP } });
    const harness = h;
    const auth = (key: string) => ({ authorization: `Bearer ${key}` });
    expect((await harness.gql('{ sources { name } }', undefined, auth(DROP))).status).toBe(200);
    const revoked = wsClient(harness, { Authorization: `Bearer ${DROP}` });
    const closed = new Promise<number>((resolve) => revoked.on('closed', (event) => resolve((event as { code: number }).code)));
    revoked.subscribe(
      { query: 'subscription { restoreSessionChanged { type } }' },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    await until(() => harness.gateway.subscriptions() === 1, 'subscribed');

    // The same config but for the revoked key (built as the CLI would, from the raw config).
    const next = await simConfig(harness.sims, keys(['keep']), { K_KEEP: KEEP });
    expect(await harness.gateway.reload(next)).toMatchObject({ applied: true });
    expect(await closed).toBe(1012);
    expect((await harness.gql('{ sources { name } }', undefined, auth(DROP))).status).toBe(401);
    expect((await harness.gql('{ sources { name } }', undefined, auth(KEEP))).status).toBe(200);
    // The reconnect with the revoked key is refused at connection_init (4403).
    const again = wsClient(harness, { Authorization: `Bearer ${DROP}` });
    const refused = new Promise<number>((resolve) => again.on('closed', (event) => resolve((event as { code: number }).code)));
    again.subscribe({ query: 'subscription { restoreSessionChanged { type } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    expect(await refused).toBe(4403);
    await revoked.dispose();
    await again.dispose();
  });
});
