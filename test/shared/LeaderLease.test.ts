import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualScheduler, realScheduler } from '../../src/sources/Scheduler.js';
import type { RedisConnection } from '../../src/sources/shared/RedisConnection.js';
import { LeaderLease, type LeaseLoss } from '../../src/sources/shared/LeaderLease.js';
import { startRedis, type TestRedis } from '../support/startRedis.js';
import { closeAll, connect, until } from './sharedHarness.js';

let redis: TestRedis;
let seq = 0;
const prefix = () => `lease${++seq}:`;
const leases: LeaderLease[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()));
  await closeAll();
});
afterAll(() => redis.stop());

/** A lease with its events; `acquired` resolves at the first onAcquired. */
function lease(connection: RedisConnection, ttlMs: number, scheduler = realScheduler, retryMs?: number) {
  const events: string[] = [];
  let resolveAcquired!: () => void;
  const acquired = new Promise<void>((r) => (resolveAcquired = r));
  const l = new LeaderLease(connection, 'poller', {
    ttlMs,
    scheduler,
    ...(retryMs !== undefined && { retryMs }),
    onAcquired: () => {
      events.push('acquired');
      resolveAcquired();
    },
    onLost: (reason: LeaseLoss) => events.push(`lost:${reason}`),
  });
  leases.push(l);
  return { lease: l, events, acquired };
}

/** Resolves with the first of the two to become leader. */
const first = (a: ReturnType<typeof lease>, b: ReturnType<typeof lease>) => Promise.race([a.acquired.then(() => a), b.acquired.then(() => b)]);

describe('LeaderLease', () => {
  it('elects exactly one leader of two, which keeps the lease by renewing it', async () => {
    const p = prefix();
    const a = lease(await connect(redis.url, p), 500);
    const b = lease(await connect(redis.url, p), 500);
    a.lease.start();
    b.lease.start();
    const leader = await first(a, b);
    const follower = leader === a ? b : a;
    expect(leader.lease.isLeader).toBe(true);
    expect(leader.lease.role).toBe('leader');
    expect(follower.lease.isLeader).toBe(false);
    expect(follower.lease.role).toBe('follower');
    // After seven renewals (more than two TTLs) and as many follower attempts, nothing has changed.
    await until(() => leader.lease.renewals >= 7 && follower.lease.attempts >= 7, 10_000, 'renewals and follower attempts');
    expect(leader.events).toEqual(['acquired']);
    expect(follower.events).toEqual([]);
    expect(leader.lease.isLeader).toBe(true);
  });

  it('is taken over within the TTL when the leader dies without releasing', async () => {
    const p = prefix();
    const a = lease(await connect(redis.url, p), 300, realScheduler, 50);
    const b = lease(await connect(redis.url, p), 300, realScheduler, 50);
    a.lease.start();
    await a.acquired;
    b.lease.start();
    await b.lease.settled();
    expect(b.lease.isLeader).toBe(false);

    const died = Date.now();
    await a.lease.stop({ release: false }); // a crash: the key stays until its PX
    await b.acquired;
    const took = Date.now() - died;
    expect(took).toBeLessThan(300 + 50 + 300); // ttl + one retry, plus slack for a loaded machine
    expect(b.lease.isLeader).toBe(true);
  });

  it('is taken over when the leader loses its connection, and the old leader is told', async () => {
    const p = prefix();
    const leaderConnection = await connect(redis.url, p);
    const a = lease(leaderConnection, 300, realScheduler, 50);
    const b = lease(await connect(redis.url, p), 300, realScheduler, 50);
    a.lease.start();
    await a.acquired;
    b.lease.start();
    await leaderConnection.close();
    await b.acquired;
    expect(a.events).toEqual(['acquired', 'lost:unavailable']);
    expect(a.lease.isLeader).toBe(false);
  });

  it('hands over at once when the leader stops (releases its lease)', async () => {
    const p = prefix();
    const a = lease(await connect(redis.url, p), 10_000, realScheduler, 50);
    const b = lease(await connect(redis.url, p), 10_000, realScheduler, 50);
    a.lease.start();
    await a.acquired;
    b.lease.start();
    const stopped = Date.now();
    await a.lease.stop();
    expect(a.events).toEqual(['acquired', 'lost:stopped']);
    await b.acquired; // long before the 10 s TTL
    expect(Date.now() - stopped).toBeLessThan(1000);
    expect(b.lease.isLeader).toBe(true);
  });

  it('never releases another holder’s lease on stop', async () => {
    const connection = await connect(redis.url, prefix());
    const a = lease(connection, 10_000);
    a.lease.start();
    await a.acquired;
    // Taken meanwhile (a's lease expired during a pause, say), before a's next renewal noticed.
    await connection.client.set('lease:poller', 'another-token', 'PX', 10_000);
    await a.lease.stop();
    expect(await connection.client.get('lease:poller')).toBe('another-token');
  });

  it('loses the lease when the key holds another token (renewal finds it taken)', async () => {
    const p = prefix();
    const connection = await connect(redis.url, p);
    const scheduler = new ManualScheduler(0);
    const a = lease(connection, 30_000, scheduler);
    a.lease.start();
    await a.acquired;
    await connection.client.set('lease:poller', 'someone-else', 'PX', 30_000);
    scheduler.advance(10_000);
    await a.lease.settled();
    expect(a.events).toEqual(['acquired', 'lost:taken']);
    expect(await connection.client.get('lease:poller')).toBe('someone-else');
  });

  it('renews every ttl/3 on the injected scheduler with compare-and-extend', async () => {
    const connection = await connect(redis.url, prefix());
    const scheduler = new ManualScheduler(0);
    const a = lease(connection, 30_000, scheduler);
    a.lease.start();
    await a.acquired;
    expect(await connection.client.get('lease:poller')).toBe(a.lease.token);
    await connection.client.pexpire('lease:poller', 5000); // as if time had passed on Redis
    scheduler.advance(9_999); // not yet due
    await a.lease.settled();
    expect(await connection.client.pttl('lease:poller')).toBeLessThanOrEqual(5000);
    scheduler.advance(1); // 10 000 = ttl / 3
    await a.lease.settled();
    expect(await connection.client.pttl('lease:poller')).toBeGreaterThan(29_000);
    expect(a.lease.isLeader).toBe(true);

    // A stalled process: the clock jumps past the TTL of the last renewal (sent at 10 000) before
    // the due renewal could run. Locally that is no leadership, whatever Redis says...
    scheduler.advance(35_000);
    expect(a.lease.isLeader).toBe(false);
    // ...until the renewal succeeds (the key still holds our token).
    await a.lease.settled();
    expect(a.lease.isLeader).toBe(true);
    expect(a.events).toEqual(['acquired']);
  });

  it('is standalone while Redis is down, and leader again once it is back', async () => {
    const own = await startRedis();
    try {
      const connection = await connect(own.url, prefix());
      const a = lease(connection, 300, realScheduler, 50);
      a.lease.start();
      await a.acquired;
      await own.kill();
      await until(() => a.events.includes('lost:unavailable'), 3000, 'lease lost');
      expect(a.lease.role).toBe('standalone');
      await own.restart();
      await until(() => a.lease.isLeader, 5000, 'leader again');
      expect(a.events).toEqual(['acquired', 'lost:unavailable', 'acquired']);
    } finally {
      await own.stop();
    }
  });
});
