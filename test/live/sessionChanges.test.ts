import { afterEach, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { collect, sseClient, startLive, until, wsClient, type Collected, type LiveHarness } from './liveHarness.js';
import { LIVE_DEFAULTS } from '../../src/sources/live/liveDefaults.js';

const CHANGES = `subscription Changes($filter: RestoreSessionFilter) {
  restoreSessionChanged(filter: $filter) {
    type changedFields source { name } error { code }
    session { nativeId name state result endTime ... on EnterpriseManagerRestoreSession { vmDisplayName progress backupServer { name } } }
  }
}`;

type Change = { type: string; changedFields: string[]; source: { name: string }; session: Record<string, unknown> | null };
const changes = (c: Collected): Change[] => c.results.map((r) => r.data?.restoreSessionChanged as Change);
const sessionEvents = (c: Collected, id: string) => changes(c).filter((e) => (e.session?.nativeId as string | undefined)?.toLowerCase() === id.toLowerCase());

describe('session changes', () => {
  let h: LiveHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a session started and finished through the simulator control reaches a WebSocket and an SSE subscriber within one poll interval; a filtered subscriber sees only its sessions', async () => {
    h = await startLive({ sims: { em: 2, vbo: [], sessionsPerServer: 10 } });
    const live = h;
    const ws = wsClient(live);
    const sse = sseClient(live);
    const viaWs = collect(ws.iterate({ query: CHANGES }));
    const viaSse = collect(sse.iterate({ query: CHANGES }));
    const mine = collect(ws.iterate({ query: CHANGES, variables: { filter: { vmName: 'LIVE-vm-7' } } }));
    const other = collect(ws.iterate({ query: CHANGES, variables: { filter: { sources: ['em-2'] } } }));
    await until(() => live.gateway.subscriptions() === 4, 'four subscriptions');
    await live.gateway.live.settled();
    // Primed: what runs already is known, nothing is reported for it.
    expect(viaWs.results).toEqual([]);

    const started = live.sims.em[0]!.live.startSession({ vmDisplayName: 'live-vm-7' });
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    for (const c of [viaWs, viaSse, mine]) {
      await c.nth(1);
      expect(sessionEvents(c, started.id).map((e) => [e.type, e.session?.state, e.session?.vmDisplayName])).toEqual([['STARTED', 'WORKING', 'live-vm-7']]);
    }
    // Links resolve as fields.
    expect((changes(viaWs)[0]!.session!.backupServer as { name: string }).name).toBeTruthy();

    live.sims.em[0]!.live.finish(started.id, 'Failed');
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    for (const c of [viaWs, viaSse, mine]) {
      const finished = (await c.nth(2)).data?.restoreSessionChanged as Change;
      expect([finished.type, finished.session?.state, finished.session?.result]).toEqual(['FINISHED', 'STOPPED', 'FAILED']);
      expect(finished.changedFields).toEqual(expect.arrayContaining(['state', 'result', 'endTime']));
      expect(finished.session?.endTime).toEqual(expect.any(String));
    }
    // The em-2 subscriber was not told of em-1's session.
    expect(other.results).toEqual([]);
    for (const c of [viaWs, viaSse, mine, other]) await c.stop();
    await ws.dispose();
    sse.dispose();
  });

  it('a subscriber filtering on states hears the FINISHED of a session it saw working (once), and nothing of the others', async () => {
    h = await startLive({ sims: { em: 1, vbo: [], sessionsPerServer: 5 } });
    const live = h;
    const ws = wsClient(live);
    const working = collect(ws.iterate({ query: CHANGES, variables: { filter: { states: ['WORKING'], vmName: 'followed-vm' } } }));
    await until(() => live.gateway.subscriptions() === 1, 'subscribed');
    await live.gateway.live.settled();
    const followed = live.sims.em[0]!.live.startSession({ vmDisplayName: 'followed-vm' });
    const other = live.sims.em[0]!.live.startSession({ vmDisplayName: 'other-vm' });
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await working.nth(1);
    live.sims.em[0]!.live.finish(followed.id, 'Success');
    live.sims.em[0]!.live.finish(other.id, 'Success');
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await working.nth(2);
    // One more poll: nothing else comes (the session left once, the other never matched).
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    expect(changes(working).map((e) => [e.type, e.session?.nativeId, e.session?.state])).toEqual([
      ['STARTED', followed.id, 'WORKING'],
      ['FINISHED', followed.id, 'STOPPED'],
    ]);
    await working.stop();
    await ws.dispose();
  });

  it('a running session that progresses is UPDATED with its changed fields', async () => {
    h = await startLive({ sims: { em: 1, vbo: [], sessionsPerServer: 5, world: { live: { sessionsPerHour: 0 } } } });
    const live = h;
    const ws = wsClient(live);
    const c = collect(ws.iterate({ query: CHANGES }));
    await until(() => live.gateway.subscriptions() === 1, 'one subscription');
    await live.gateway.live.settled();
    const started = live.sims.em[0]!.live.startSession({ vmDisplayName: 'progressing', jobType: 'RestoreVm', durationMs: 120_000, result: 'Success' });
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await until(() => sessionEvents(c, started.id).length === 1, 'STARTED');
    live.simClock.advance(60_000);
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await until(() => sessionEvents(c, started.id).length === 2, 'UPDATED');
    const updated = sessionEvents(c, started.id)[1]!;
    expect(updated.type).toBe('UPDATED');
    expect(updated.changedFields).toEqual(expect.arrayContaining(['progress']));
    expect(updated.session?.progress as number).toBeGreaterThan(0);
    live.simClock.advance(120_000);
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await until(() => sessionEvents(c, started.id).length === 3, 'FINISHED');
    expect(sessionEvents(c, started.id)[2]).toMatchObject({ type: 'FINISHED', session: { state: 'STOPPED', result: 'SUCCESS' } });
    await c.stop();
    await ws.dispose();
  });

  it('nothing is lost while a server is down: a session that finished meanwhile arrives as FINISHED after SOURCE_UP', async () => {
    h = await startLive({ sims: { em: 1, vbo: [], sessionsPerServer: 5 } });
    const live = h;
    const ws = wsClient(live);
    const c = collect(ws.iterate({ query: CHANGES }));
    await until(() => live.gateway.subscriptions() === 1, 'one subscription');
    await live.gateway.live.settled();
    const started = live.sims.em[0]!.live.startSession({ vmDisplayName: 'through-outage' });
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await c.nth(1);
    live.sims.em[0]!.faults.set({ rules: [{ action: { status: 503 } }] });
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await c.nth(2);
    live.sims.em[0]!.live.finish(started.id, 'Warning');
    live.sims.em[0]!.faults.clear();
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await c.nth(4);
    expect(changes(c).map((e) => e.type)).toEqual(['STARTED', 'SOURCE_DOWN', 'SOURCE_UP', 'FINISHED']);
    expect(changes(c)[3]!.session).toMatchObject({ result: 'WARNING', state: 'STOPPED' });
    await c.stop();
    await ws.dispose();
  });

  it('a slow consumer is cut off (close 1008) without touching the other subscribers', async () => {
    h = await startLive({ sims: { em: 0, vbo: ['v8'], sessionsPerServer: 5 }, config: { live: { queueSize: 4 } } });
    const live = h;
    const query = 'subscription { restoreSessionChanged { type session { name ... on Microsoft365RestoreSession { initiatedBy } } } }';
    const healthy = wsClient(live);
    const fast = collect(healthy.iterate({ query }));
    // The slow one speaks graphql-transport-ws by hand, then stops reading its socket.
    const slow = new WebSocket(live.wsUrl, 'graphql-transport-ws');
    const messages: string[] = [];
    slow.on('message', (m) => messages.push(String(m)));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await until(() => messages.some((m) => m.includes('connection_ack')), 'ack');
    slow.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    await until(() => live.gateway.subscriptions() === 2, 'two subscriptions');
    await live.gateway.live.settled();
    (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    // 150 sessions of 128 KiB each: ~19 MiB for each subscriber, more than the kernel buffers hold.
    const big = 'x'.repeat(128 * 1024);
    const vbo = live.sims.vbo[0]!;
    for (let i = 0; i < 150; i++) {
      const info = vbo.live.startSession();
      // The control takes short texts only; the world's record is plain data.
      vbo.world.restoreSessions.find((s) => s.id === info.id)!.initiatedBy = `${i}:${big}`;
    }
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await fast.nth(150);
    expect(changes(fast).filter((e) => e.type === 'STARTED')).toHaveLength(150);
    // One burst is no offence; still holding it when the next poll's events come is.
    expect(live.lines.some((l) => l.msg === 'WebSocket subscriber cut off')).toBe(false);
    vbo.live.startSession();
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await fast.nth(151);
    await until(() => live.lines.some((l) => l.msg === 'WebSocket subscriber cut off'), 'the cut-off', 200_000);
    expect(live.lines.filter((l) => l.msg === 'WebSocket subscriber cut off')).toHaveLength(1);
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    const close = await closed;
    expect(close.code).toBe(1008);
    expect(close.reason).toMatch(/slow consumer: more than 4 events waiting/);
    // The healthy subscriber still gets events.
    vbo.live.startSession();
    await live.tick(LIVE_DEFAULTS.fastPollMs);
    await fast.nth(152);
    await fast.stop();
    await healthy.dispose();
  }, 60_000);
});
