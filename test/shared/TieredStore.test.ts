import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryStore } from '../../src/sources/memory/CacheStore.js';
import { RedisStore, TieredStore } from '../../src/sources/shared/RedisStore.js';
import { startRedis, type TestRedis } from '../support/startRedis.js';
import { captureLogs, closeAll, connect, until } from './sharedHarness.js';

const servers: TestRedis[] = [];
afterEach(async () => {
  await closeAll();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function setup(prefix = 'vg:') {
  const redis = await startRedis();
  servers.push(redis);
  const { logger, lines } = captureLogs();
  const connection = await connect(redis.url, prefix, {}, logger);
  const memory = new MemoryStore({ maxEntries: 1000, now: Date.now });
  const store = new TieredStore(new RedisStore(connection), memory);
  return { redis, connection, memory, store, lines };
}

describe('TieredStore', () => {
  it('writes both tiers while Redis is up and reads Redis first', async () => {
    const { connection, memory, store } = await setup();
    await store.set('k', { value: 'v1', at: 100 }, 10_000);
    expect(await memory.get('k')).toEqual({ value: 'v1', at: 100 });
    expect(JSON.parse((await connection.client.get('cache:k'))!)).toEqual({ value: 'v1', at: 100 });

    // Another replica refreshed the key: Redis' newer entry wins and is copied into memory.
    await connection.client.set('cache:k', JSON.stringify({ value: 'v2', at: 200 }), 'PX', 10_000);
    expect(await store.get('k')).toEqual({ value: 'v2', at: 200 });
    expect(await memory.get('k')).toEqual({ value: 'v2', at: 200 });

    // An entry only another replica wrote is served, and kept locally for an outage.
    await connection.client.set('cache:other', JSON.stringify({ value: 'o', at: 300 }), 'PX', 10_000);
    expect(await store.get('other')).toEqual({ value: 'o', at: 300 });
    expect(await memory.get('other')).toEqual({ value: 'o', at: 300 });
  });

  it('prefers memory when its entry is newer, and falls back to it on a Redis miss', async () => {
    const { connection, memory, store } = await setup();
    await connection.client.set('cache:k', JSON.stringify({ value: 'old', at: 100 }), 'PX', 10_000);
    await memory.set('k', { value: 'new', at: 200 }, 10_000);
    expect(await store.get('k')).toEqual({ value: 'new', at: 200 });
    await memory.set('only-local', { value: 'l', at: 1 }, 10_000);
    expect(await store.get('only-local')).toEqual({ value: 'l', at: 1 });
    expect(await store.get('nowhere')).toBeUndefined();
  });

  it('keeps serving from memory when Redis is killed mid-way (no error thrown) and uses Redis again after a restart', async () => {
    const { redis, connection, store, lines } = await setup();
    const keys = Array.from({ length: 50 }, (_, i) => `key${i}`);
    let errors = 0;
    let served = 0;
    let running = true;
    // A steady load of reads and writes across the outage.
    const load = (async () => {
      let round = 0;
      while (running) {
        round++;
        await Promise.all(
          keys.map(async (key, i) => {
            try {
              if ((round + i) % 3 === 0) await store.set(key, { value: { key, round }, at: Date.now() }, 60_000);
              else if ((await store.get(key)) !== undefined) served++;
            } catch {
              errors++;
            }
          }),
        );
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    await until(() => served > 200, 5000, 'reads served before the outage');
    await redis.kill();
    await until(() => connection.state() === 'down', 3000, 'down');
    const servedBefore = served;
    const fromMemoryBefore = store.stats().memoryOnlyReads;
    await until(() => store.stats().memoryOnlyReads > fromMemoryBefore + 200 && served > servedBefore + 150, 5000, 'reads served from memory');

    await redis.restart(); // an empty Redis (nothing persisted)
    expect(await connection.whenUp(5000)).toBe(true);
    // Writes reach Redis again.
    await until(async () => (await connection.client.dbsize()) >= 10, 5000, 'writes in Redis after the restart');
    running = false;
    await load;

    expect(errors).toBe(0);
    await store.set('after', { value: 'a', at: 1 }, 10_000);
    expect(JSON.parse((await connection.client.get('cache:after'))!)).toEqual({ value: 'a', at: 1 });
    expect(lines.filter((l) => l.level >= 30).map((l) => l.msg)).toEqual([
      'redis store connected',
      'redis store unavailable; serving from memory',
      'redis store back',
    ]);
    expect(store.stats().memoryOnlyWrites).toBeGreaterThan(0);
  });
});
