import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisStore } from '../../src/sources/shared/RedisStore.js';
import { startRedis, type TestRedis } from '../support/startRedis.js';
import { closeAll, connect, until } from './sharedHarness.js';

let redis: TestRedis;
let prefixSeq = 0;
/** A fresh prefix per test: tests share one server. */
const prefix = () => `t${++prefixSeq}:`;

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(() => closeAll());
afterAll(() => redis.stop());

describe('RedisStore', () => {
  it('round-trips entries as JSON under keyPrefix + namespace, with PX keepMs', async () => {
    const p = prefix();
    const c = await connect(redis.url, p);
    const store = new RedisStore(c);
    const value = { items: [{ id: 'a\u0000b', n: 1, nested: { ok: true, none: null } }], complete: false, unapplied: ['x'] };
    await store.set('em1\u0000entity\u0000X', { value, at: 1234 }, 60_000);
    expect(await store.get('em1\u0000entity\u0000X')).toEqual({ value, at: 1234 });
    expect(await store.get('missing')).toBeUndefined();

    const raw = await c.client.get('cache:em1\u0000entity\u0000X'); // keyPrefix added by ioredis
    expect(JSON.parse(raw!)).toEqual({ value, at: 1234 });
    const pttl = await c.client.pttl('cache:em1\u0000entity\u0000X');
    expect(pttl).toBeGreaterThan(59_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(store.stats()).toEqual({ hits: 1, misses: 1, errors: 0, corrupt: 0 });
    // The key as Redis holds it, read without any prefix.
    const bare = await connect(redis.url, '');
    expect(await bare.client.exists(`${p}cache:em1\u0000entity\u0000X`)).toBe(1);
  });

  it('lets Redis expire an entry at keepMs', async () => {
    const c = await connect(redis.url, prefix());
    const store = new RedisStore(c);
    await store.set('short', { value: 'v', at: 1 }, 60);
    expect(await store.get('short')).toEqual({ value: 'v', at: 1 });
    await until(async () => (await store.get('short')) === undefined, 2000, 'PX expiry');
    const ttl = await store.getWithTtl('short');
    expect(ttl).toBeUndefined();
  });

  it('reads the remaining PX with getWithTtl', async () => {
    const c = await connect(redis.url, prefix());
    const store = new RedisStore(c);
    await store.set('k', { value: [1, 2], at: 5 }, 30_000);
    const read = await store.getWithTtl<number[]>('k');
    expect(read?.entry).toEqual({ value: [1, 2], at: 5 });
    expect(read?.ttlMs).toBeGreaterThan(29_000);
  });

  it('answers a corrupt value as a miss and deletes it', async () => {
    const c = await connect(redis.url, prefix());
    const store = new RedisStore(c);
    for (const [key, raw] of [
      ['notjson', '{oops'],
      ['noat', JSON.stringify({ value: 1 })],
      ['novalue', JSON.stringify({ at: 1 })],
      ['array', JSON.stringify([1, 2])],
      ['string', JSON.stringify('x')],
    ] as const) {
      await c.client.set(`cache:${key}`, raw);
      expect(await store.get(key)).toBeUndefined();
      expect(await c.client.exists(`cache:${key}`)).toBe(0);
    }
    expect(store.stats()).toEqual({ hits: 0, misses: 5, errors: 0, corrupt: 5 });
  });

  it('isolates prefixes: two gateways on one Redis do not see each other', async () => {
    const a = new RedisStore(await connect(redis.url, prefix()));
    const b = new RedisStore(await connect(redis.url, prefix()));
    await a.set('same-key', { value: 'from a', at: 1 }, 10_000);
    await b.set('same-key', { value: 'from b', at: 2 }, 10_000);
    expect(await a.get('same-key')).toEqual({ value: 'from a', at: 1 });
    expect(await b.get('same-key')).toEqual({ value: 'from b', at: 2 });
    await a.delete('same-key');
    expect(await a.get('same-key')).toBeUndefined();
    expect(await b.get('same-key')).toEqual({ value: 'from b', at: 2 });
  });

  it('shares entries between replicas with the same prefix', async () => {
    const p = prefix();
    const one = new RedisStore(await connect(redis.url, p));
    const two = new RedisStore(await connect(redis.url, p));
    await one.set('k', { value: { v: 1 }, at: 10 }, 10_000);
    expect(await two.get('k')).toEqual({ value: { v: 1 }, at: 10 });
  });

  it('size() counts the live keys this process wrote', async () => {
    let now = 1000;
    const store = new RedisStore(await connect(redis.url, prefix()), { now: () => now });
    await store.set('a', { value: 1, at: 1 }, 10_000);
    await store.set('a', { value: 2, at: 2 }, 10_000);
    await store.set('b', { value: 1, at: 1 }, 500);
    await store.set('c', { value: 1, at: 1 }, 10_000);
    expect(store.size()).toBe(3);
    await store.delete('c');
    expect(store.size()).toBe(2);
    now += 600; // b's PX has passed by our clock
    expect(store.size()).toBe(1);
  });

  it('never throws while Redis is down: misses and no-ops, counted as errors', async () => {
    const own = await startRedis();
    try {
      const c = await connect(own.url, prefix());
      const store = new RedisStore(c);
      await store.set('k', { value: 1, at: 1 }, 10_000);
      await own.kill();
      await until(() => c.state() === 'down', 3000, 'down');
      await expect(store.get('k')).resolves.toBeUndefined();
      await expect(store.set('k', { value: 2, at: 2 }, 10_000)).resolves.toBeUndefined();
      await expect(store.delete('k')).resolves.toBeUndefined();
      expect(store.stats()).toEqual({ hits: 0, misses: 0, errors: 3, corrupt: 0 });
    } finally {
      await own.stop();
    }
  });
});
