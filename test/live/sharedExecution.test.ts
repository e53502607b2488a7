import { afterEach, describe, expect, it } from '@jest/globals';
import { collect, sseClient, startLive, until, wsClient, type Collected, type LiveHarness } from './liveHarness.js';
import { LIVE_DEFAULTS } from '../../src/sources/live/liveDefaults.js';

const CHANGES = `subscription Changes($filter: RestoreSessionFilter) {
  restoreSessionChanged(filter: $filter) {
    type source { name url }
    session { nativeId name ... on EnterpriseManagerRestoreSession { vmDisplayName backupServer { name } } }
  }
}`;

const READ_KEY = 'reader-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789abcdef';

/** `veeam_graph_subscription_event_executions_total` by `execution`. */
async function executions(h: LiveHarness): Promise<{ executed: number; shared: number }> {
  const text = await (await fetch(`${h.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  const of = (label: string) =>
    Number(new RegExp(`^veeam_graph_subscription_event_executions_total\\{execution="${label}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { executed: of('executed'), shared: of('shared') };
}

describe('shared execution of subscription events', () => {
  let h: LiveHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('an event is executed once per distinct document, variables and visibility, however many subscribe', async () => {
    h = await startLive({
      sims: { em: 1, vbo: [], sessionsPerServer: 5 },
      config: {
        auth: {
          apiKeys: [
            { name: 'dash', key: { env: 'K_READ' }, scopes: ['read'] },
            { name: 'ops', key: { env: 'K_ADMIN' }, scopes: ['admin'] },
          ],
        },
      },
      env: { K_READ: READ_KEY, K_ADMIN: ADMIN_KEY },
    });
    const live = h;
    const reader = { Authorization: `Bearer ${READ_KEY}` };
    // 50 readers over WebSocket and 1 over SSE with the same document: one execution.
    const clients = Array.from({ length: 5 }, () => wsClient(live, reader));
    const same: Collected[] = clients.flatMap((c) => Array.from({ length: 10 }, () => collect(c.iterate({ query: CHANGES }))));
    const sse = sseClient(live, { authorization: `Bearer ${READ_KEY}` });
    same.push(collect(sse.iterate({ query: CHANGES })));
    // Other variables: an execution of their own, and so does an admin, who may see more.
    const filtered = collect(clients[0]!.iterate({ query: CHANGES, variables: { filter: { vmName: 'shared-vm' } } }));
    const admin = wsClient(live, { Authorization: `Bearer ${ADMIN_KEY}` });
    const asAdmin = collect(admin.iterate({ query: CHANGES }));
    await until(() => live.gateway.subscriptions() === 53, '53 subscriptions');
    await live.gateway.live.settled();

    const started = live.sims.em[0]!.live.startSession({ vmDisplayName: 'shared-vm' });
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    const results = await Promise.all([...same, filtered, asAdmin].map((c) => c.nth(1)));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.data?.restoreSessionChanged).toMatchObject({
        type: 'STARTED',
        session: { nativeId: started.id, vmDisplayName: 'shared-vm', backupServer: { name: expect.any(String) } },
      });
    }
    // Visibility is part of the key: the readers' shared result holds no URL, the admin's does.
    const sourceOf = (r: (typeof results)[number]) => (r.data?.restoreSessionChanged as { source: { url: string | null } }).source;
    expect(new Set(results.slice(0, 52).map((r) => sourceOf(r).url))).toEqual(new Set([null]));
    expect(sourceOf(results[52]!).url).toEqual(expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+/));
    // 53 subscribers, 3 executions: readers, readers with the filter, the admin.
    expect(await executions(live)).toEqual({ executed: 3, shared: 50 });

    for (const c of [...same, filtered, asAdmin]) await c.stop();
    await Promise.all([...clients, admin].map((c) => c.dispose()));
    sse.dispose();
  });

  it("an event's partial errors (a link served stale because its server failed) are in that event's errors", async () => {
    h = await startLive({ sims: { em: 1, vbo: [], sessionsPerServer: 5 } });
    const live = h;
    // The backup servers are in memory once a query read them.
    const filled = await live.gql('{ restoreSessions(first: 5) { nodes { ... on EnterpriseManagerRestoreSession { backupServer { name } } } } }');
    expect(filled.body.errors).toBeUndefined();
    const ws = wsClient(live);
    const events = collect(ws.iterate({ query: CHANGES }));
    await until(() => live.gateway.subscriptions() === 1, 'subscribed');
    await live.gateway.live.settled();
    // Past their TTL, and the server now fails to list backup servers: the link is served stale.
    await live.tick(live.config.cache.ttlMs.backupServer + live.config.cache.revalidateMs + 1000);
    await live.gateway.live.settled();
    live.sims.em[0]!.faults.set({ rules: [{ match: '^GET /api/query\\?type=BackupServer', action: { status: 503, message: 'busy' } }] });
    const started = live.sims.em[0]!.live.startSession({ vmDisplayName: 'stale-vm' });
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await until(
      () => events.results.some((r) => (r.data?.restoreSessionChanged as { session?: { nativeId?: string } } | undefined)?.session?.nativeId === started.id),
      'the STARTED event',
    );
    const event = events.results.find((r) => (r.data?.restoreSessionChanged as { session?: { nativeId?: string } }).session?.nativeId === started.id)!;
    expect(event.data?.restoreSessionChanged).toMatchObject({ type: 'STARTED', session: { backupServer: { name: expect.any(String) } } });
    expect(event.errors).toEqual([
      expect.objectContaining({
        path: ['restoreSessionChanged', 'session', 'backupServer'],
        extensions: expect.objectContaining({ source: 'em-1', code: 'UPSTREAM_HTTP_ERROR' }),
      }),
    ]);
    await events.stop();
    await ws.dispose();
  });
});
