import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisPubSub } from '../../src/sources/shared/RedisPubSub.js';
import { startRedis, type TestRedis } from '../support/startRedis.js';
import { closeAll, connect, until } from './sharedHarness.js';

let redis: TestRedis;
let seq = 0;
const prefix = () => `ps${++seq}:`;
const buses: RedisPubSub[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
  await closeAll();
});
afterAll(() => redis.stop());

async function bus(url: string, keyPrefix: string): Promise<RedisPubSub> {
  const b = new RedisPubSub(await connect(url, keyPrefix));
  buses.push(b);
  return b;
}

describe('RedisPubSub', () => {
  it('delivers JSON messages between two connections', async () => {
    const p = prefix();
    const one = await bus(redis.url, p);
    const two = await bus(redis.url, p);
    const got: unknown[] = [];
    const sub = two.subscribe<{ key: string; at: number }>('refreshed', (m) => got.push(m));
    expect(await sub.ready).toBe(true);
    expect(await one.publish('refreshed', { key: 'em1\u0000x', at: 5 })).toBe(1);
    expect(await one.publish('other', { ignored: true })).toBe(0);
    await until(() => got.length === 1, 2000, 'delivery');
    expect(got).toEqual([{ key: 'em1\u0000x', at: 5 }]);

    await sub.unsubscribe();
    expect(await one.publish('refreshed', { key: 'late', at: 6 })).toBe(0);
    expect(one.stats()).toMatchObject({ published: 3, dropped: 0 });
  });

  it('does not cross prefixes', async () => {
    const a = await bus(redis.url, prefix());
    const b = await bus(redis.url, prefix());
    const got: unknown[] = [];
    expect(await b.subscribe('refreshed', (m) => got.push(m)).ready).toBe(true);
    expect(await a.publish('refreshed', 1)).toBe(0);
  });

  it('drops messages while Redis is down and re-subscribes after it is back', async () => {
    const own = await startRedis();
    try {
      const p = prefix();
      const pub = await bus(own.url, p);
      const sub = await bus(own.url, p);
      const got: unknown[] = [];
      expect(await sub.subscribe('refreshed', (m) => got.push(m)).ready).toBe(true);
      await own.kill();
      await until(() => pub['connection'].state() === 'down', 3000, 'down');
      expect(await pub.publish('refreshed', 'lost')).toBeUndefined();
      expect(pub.stats().dropped).toBe(1);

      await own.restart();
      expect(await pub['connection'].whenUp(5000)).toBe(true);
      // The subscriber reconnects and re-subscribes by itself: wait until a publish reaches it.
      await until(async () => ((await pub.publish('refreshed', 'back')) ?? 0) > 0, 5000, 're-subscribed');
      await until(() => got.includes('back'), 2000, 'delivery after the restart');
      expect(got).not.toContain('lost');
    } finally {
      await own.stop();
    }
  });
});
