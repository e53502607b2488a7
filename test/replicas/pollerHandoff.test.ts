import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGateway, type Gateway } from '../../src/server/createGateway.js';
import { ManualScheduler } from '../../src/sources/Scheduler.js';
import { LIVE_DEFAULTS } from '../../src/sources/live/liveDefaults.js';
import { ManualClock } from '../../src/sim/clock.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';
import type { LiveEvent } from '../../src/upstream/Source.js';
import { captureLogger, simConfig } from '../server/gatewayHarness.js';
import { startRedis } from '../support/startRedis.js';

const START = Date.parse('2026-11-01T12:00:00Z');

/** Two replicas over one Redis whose pollers run on manual schedulers: a poll happens only when a test says so. */
describe('the live poller lease passing between replicas', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let sims: Simulators;
  const schedulers = [new ManualScheduler(START), new ManualScheduler(START)];
  const logs = [captureLogger(), captureLogger()];
  let replicas: Gateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 5, clock: new ManualClock(START) });
    // A short lease: the follower tries for it every 500 ms.
    const config = await simConfig(sims, { store: { redis: { url: redis.url, keyPrefix: 'vg-handoff:' } }, live: { leaseMs: 1500 } });
    replicas = await Promise.all(schedulers.map((scheduler, i) => createGateway(config, { logger: logs[i]!.logger, scheduler, defaultMetrics: false })));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(replicas.map((g) => g.close()));
    await sims?.close();
    await redis?.stop();
  });

  /** Waits on real time for what Redis decides (the lease), bounded by turns. */
  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`never happened: ${what}`);
  }
  const role = (g: Gateway) => g.live.stats()[0]!.role;
  const sessionEvents = (events: LiveEvent[]) => events.flatMap((e) => ('session' in e ? [[e.type, e.session.nativeId]] : []));

  it('loses nothing: the next leader resumes from the last poll of the one before', async () => {
    const [a, b] = replicas as [Gateway, Gateway];
    const em = sims.em[0]!;
    const heardA: LiveEvent[] = [];
    const heardB: LiveEvent[] = [];
    const stopA = a.live.listen(['em-1'], (e) => heardA.push(e));
    await until(() => role(a) === 'leader' && a.live.stats()[0]!.polls >= 1, 'A leads and has primed');
    const stopB = b.live.listen(['em-1'], (e) => heardB.push(e));
    // A follower hears the leader once its channel subscription is confirmed.
    await until(() => role(b) === 'follower' && b.live.stats()[0]!.channelReady, 'B follows and listens');

    const s1 = em.live.startSession({ vmDisplayName: 'handoff-1' });
    schedulers[0]!.advance(LIVE_DEFAULTS.slowPollMs);
    await until(() => sessionEvents(heardB).length === 1, 'B hears of s1 from A');
    expect(sessionEvents(heardB)).toEqual([['STARTED', s1.id]]);

    // A polls no more (its scheduler stands still); then s1 finishes and s2 starts; then A leaves.
    em.live.finish(s1.id, 'Success');
    const s2 = em.live.startSession({ vmDisplayName: 'handoff-2' });
    stopA();
    await until(() => role(b) === 'leader' && b.live.stats()[0]!.polls >= 1, 'B leads and has polled');
    await b.live.settled();
    // B's first poll resumed from A's checkpoint; B's clock moves past the memory's freshness for the next.
    schedulers[1]!.advance(LIVE_DEFAULTS.fastPollMs);
    await until(() => sessionEvents(heardB).length >= 3, 'B reports what happened in between');
    expect(sessionEvents(heardB)).toEqual([
      ['STARTED', s1.id],
      ['STARTED', s2.id],
      ['FINISHED', s1.id],
    ]);
    expect(logs[1]!.lines.some((l) => l.msg === 'live poller resumed from the previous poller checkpoint')).toBe(true);
    stopB();
  });
});
