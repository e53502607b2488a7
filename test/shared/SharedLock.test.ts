import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SharedLock } from '../../src/sources/shared/SharedLock.js';
import { startRedis, type TestRedis } from '../support/startRedis.js';
import { closeAll, connect, until } from './sharedHarness.js';

let redis: TestRedis;
let seq = 0;
const prefix = () => `lock${++seq}:`;

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(() => closeAll());
afterAll(() => redis.stop());

describe('SharedLock', () => {
  it('is exclusive between two connections (replicas)', async () => {
    const p = prefix();
    const a = new SharedLock(await connect(redis.url, p));
    const b = new SharedLock(await connect(redis.url, p));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).tryAcquire('em1:sessions', 5000)));
    const held = results.filter((l) => l !== undefined);
    expect(held).toHaveLength(1);
    expect(held[0]!.shared).toBe(true);
    expect(await b.tryAcquire('em1:sessions', 5000)).toBeUndefined();
    // Another key is another lock.
    expect((await b.tryAcquire('em1:points', 5000))?.shared).toBe(true);
    // Under the prefix: another gateway on the same Redis has its own locks.
    const bare = await connect(redis.url, '');
    expect(await bare.client.get(`${p}lock:em1:sessions`)).toBe(held[0]!.token);
    expect((await new SharedLock(await connect(redis.url, prefix())).tryAcquire('em1:sessions', 5000))?.shared).toBe(true);
  });

  it('is released only by its owner, and expires by PX', async () => {
    const p = prefix();
    const connection = await connect(redis.url, p);
    const a = new SharedLock(connection);
    const b = new SharedLock(await connect(redis.url, p));
    const first = (await a.tryAcquire('k', 80))!;
    expect(first.shared).toBe(true);
    expect(await connection.client.pttl('lock:k')).toBeGreaterThan(0);
    // It expires; b takes it; the late owner's release must not free b's lock.
    await until(async () => (await connection.client.exists('lock:k')) === 0, 2000, 'PX expiry');
    const second = (await b.tryAcquire('k', 5000))!;
    expect(second.shared).toBe(true);
    expect(await first.release()).toBe(false);
    expect(await connection.client.get('lock:k')).toBe(second.token);
    expect(await a.tryAcquire('k', 5000)).toBeUndefined();
    expect(await second.release()).toBe(true);
    expect(await second.release()).toBe(false);
    expect((await a.tryAcquire('k', 5000))?.shared).toBe(true);
  });

  it('waitFor resolves when the holder releases, or after a bounded wait', async () => {
    const p = prefix();
    const a = new SharedLock(await connect(redis.url, p));
    const b = new SharedLock(await connect(redis.url, p));
    const lock = (await a.tryAcquire('k', 10_000))!;

    let started = Date.now();
    expect(await b.waitFor('k', { timeoutMs: 150, pollMs: 10 })).toBe('timeout');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(400);

    started = Date.now();
    const waiting = b.waitFor('k', { timeoutMs: 5000, pollMs: 10 });
    setTimeout(() => void lock.release(), 50);
    expect(await waiting).toBe('released');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await b.waitFor('free', { timeoutMs: 5000 })).toBe('released');
  });

  it('with Redis down hands out a local lock (proceed alone) and waitFor does not wait', async () => {
    const own = await startRedis();
    try {
      const connection = await connect(own.url, prefix());
      const locks = new SharedLock(connection);
      await own.kill();
      await until(() => connection.state() === 'down', 3000, 'down');
      const one = await locks.tryAcquire('k', 5000);
      const two = await locks.tryAcquire('k', 5000);
      expect(one?.shared).toBe(false);
      expect(two?.shared).toBe(false);
      expect(await one!.release()).toBe(false);
      const started = Date.now();
      expect(await locks.waitFor('k', { timeoutMs: 5000 })).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(100);
    } finally {
      await own.stop();
    }
  });
});
