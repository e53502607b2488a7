import { afterEach, describe, expect, it } from '@jest/globals';
import { collect, sseClient, startLive, until, wsClient, type LiveHarness } from './liveHarness.js';
import { LIVE_DEFAULTS } from '../../src/sources/live/liveDefaults.js';

const CHANGES = `subscription Changes($filter: RestoreSessionFilter) {
  restoreSessionChanged(filter: $filter) { type changedFields source { name } at error { code message } session { id name state result } }
}`;

const upstream = (h: LiveHarness) => h.sims.servers.reduce((n, s) => n + s.log.count(), 0);

describe('subscriptions', () => {
  let h: LiveHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('100 subscribers cost the upstream polls of 1; when the last one leaves, polling stops', async () => {
    h = await startLive({ sims: { em: 1, vbo: ['v8'], sessionsPerServer: 20 } });
    const live = h;
    const one = wsClient(live);
    const first = collect(one.iterate({ query: CHANGES }));
    await until(() => live.gateway.subscriptions() === 1, 'one subscription');
    await live.gateway.live.settled();
    const primed = upstream(live);
    for (let i = 0; i < 3; i++) await live.tick(LIVE_DEFAULTS.slowPollMs);
    const perThreePolls1 = upstream(live) - primed;
    expect(perThreePolls1).toBeGreaterThan(0);

    const clients = Array.from({ length: 10 }, () => wsClient(live));
    const many = clients.flatMap((c) => Array.from({ length: 10 }, () => collect(c.iterate({ query: CHANGES }))));
    await until(() => live.gateway.subscriptions() === 101, '101 subscriptions');
    const before = upstream(live);
    for (let i = 0; i < 3; i++) await live.tick(LIVE_DEFAULTS.slowPollMs);
    expect(upstream(live) - before).toBe(perThreePolls1);
    expect(live.gateway.live.stats().map((s) => [s.source, s.active, s.listeners])).toEqual([
      ['em-1', true, 101],
      ['m365-1', true, 101],
    ]);

    await Promise.all([first, ...many].map((c) => c.stop()));
    await until(() => live.gateway.subscriptions() === 0, 'no subscription');
    expect(live.gateway.live.stats().every((s) => !s.active)).toBe(true);
    const after = upstream(live);
    for (let i = 0; i < 3; i++) await live.tick(LIVE_DEFAULTS.slowPollMs);
    expect(upstream(live)).toBe(after);
    await Promise.all([one, ...clients].map((c) => c.dispose()));
  });

  it('a server going down is SOURCE_DOWN with its error, and SOURCE_UP when it is back, over WebSocket and SSE alike', async () => {
    h = await startLive({ sims: { em: 1, vbo: [], sessionsPerServer: 5 } });
    const live = h;
    const ws = wsClient(live);
    const sse = sseClient(live);
    const viaWs = collect(ws.iterate({ query: CHANGES }));
    const viaSse = collect(sse.iterate({ query: CHANGES }));
    await until(() => live.gateway.subscriptions() === 2, 'two subscriptions');
    await live.gateway.live.settled();
    live.sims.em[0]!.faults.set({ rules: [{ action: { status: 503, message: 'maintenance' } }] });
    await live.tick(LIVE_DEFAULTS.slowPollMs);
    for (const c of [viaWs, viaSse]) {
      const down = await c.nth(1);
      expect(down.errors).toBeUndefined();
      expect(down.data?.restoreSessionChanged).toMatchObject({
        type: 'SOURCE_DOWN',
        source: { name: 'em-1' },
        session: null,
        error: { code: 'UPSTREAM_HTTP_ERROR' },
      });
    }
    live.sims.em[0]!.faults.clear();
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    for (const c of [viaWs, viaSse])
      expect((await c.nth(2)).data?.restoreSessionChanged).toMatchObject({ type: 'SOURCE_UP', source: { name: 'em-1' }, error: null });
    await viaWs.stop();
    await viaSse.stop();
    await ws.dispose();
    sse.dispose();
  });

  it('a bad filter is BAD_USER_INPUT at subscribe time; nothing is polled for it', async () => {
    h = await startLive({ sims: { em: 1, vbo: [], sessionsPerServer: 5 } });
    const ws = wsClient(h);
    const c = collect(ws.iterate({ query: CHANGES, variables: { filter: { sources: ['nope'] } } }));
    await c.done;
    expect(c.results[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(h.gateway.live.stats().every((s) => !s.active)).toBe(true);
    await ws.dispose();
  });

  it('with auth on, a WebSocket without a valid key is refused; with one it subscribes', async () => {
    const KEY = 'live-key-0123456789abcdef';
    h = await startLive({
      sims: { em: 1, vbo: [], sessionsPerServer: 5 },
      config: { auth: { apiKeys: [{ name: 'dash', key: { env: 'K' }, scopes: ['read'] }] } },
      env: { K: KEY },
    });
    const live = h;
    for (const params of [{}, { Authorization: 'Bearer wrong-key-0123456789abcdef' }]) {
      const refused = wsClient(live, params);
      const closed = new Promise<number>((resolve) => refused.on('closed', (e) => resolve((e as { code: number }).code)));
      const c = collect(refused.iterate({ query: CHANGES }));
      expect(await closed).toBe(4403);
      await c.done;
      expect(live.gateway.subscriptions()).toBe(0);
      await refused.dispose();
    }
    const sse = sseClient(live);
    const sseRefused = collect(sse.iterate({ query: CHANGES }));
    await sseRefused.done;
    expect(live.gateway.subscriptions()).toBe(0);
    sse.dispose();

    const ok = wsClient(live, { Authorization: `Bearer ${KEY}` });
    const c = collect(ok.iterate({ query: CHANGES }));
    await until(() => live.gateway.subscriptions() === 1, 'an authenticated subscription');
    await c.stop();
    await ok.dispose();
    expect(live.lines.map((l) => JSON.stringify(l)).join('\n')).not.toContain(KEY);
  });
});
