import { afterEach, describe, expect, it } from '@jest/globals';
import { reconnectDelayMs, REDIS_TIMEOUTS, redisClientOptions, safeRedisUrl, type RedisState } from '../../src/sources/shared/RedisConnection.js';
import { RedisStore } from '../../src/sources/shared/RedisStore.js';
import { startRedis, type TestRedis } from '../support/startRedis.js';
import { captureLogs, closeAll, connection, until } from './sharedHarness.js';

const PASSWORD = 'S3cret-Pa55word!';
const servers: TestRedis[] = [];

afterEach(async () => {
  await closeAll();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function server(args?: string[], password?: string): Promise<TestRedis> {
  const s = await startRedis({ ...(args !== undefined && { args }), ...(password !== undefined && { password }) });
  servers.push(s);
  return s;
}

describe('redisClientOptions', () => {
  it('fails fast: no offline queue, no retry of a command, a command timeout far below the request budget', () => {
    const o = redisClientOptions({ url: 'redis://cache.local:6380/2', keyPrefix: 'vg:' });
    expect(o).toMatchObject({
      host: 'cache.local',
      port: 6380,
      db: 2,
      keyPrefix: 'vg:',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: 250,
      connectTimeout: 1000,
      socketTimeout: 1000,
    });
    expect(o.tls).toBeUndefined();
    expect(o.password).toBeUndefined();
    expect(REDIS_TIMEOUTS.commandTimeoutMs * 4).toBeLessThan(2500);
  });

  it('takes credentials from the URL, the settings winning; TLS from rediss:// or tls', () => {
    expect(redisClientOptions({ url: 'redis://u1:p%40ss@h:1', keyPrefix: '' })).toMatchObject({ username: 'u1', password: 'p@ss' });
    expect(redisClientOptions({ url: 'redis://u1:p1@h:1', keyPrefix: '', username: 'u2', password: 'p2' })).toMatchObject({ username: 'u2', password: 'p2' });
    expect(redisClientOptions({ url: 'rediss://h', keyPrefix: '' })).toMatchObject({ tls: {}, port: 6379 });
    expect(redisClientOptions({ url: 'redis://h', keyPrefix: '', tls: true }).tls).toEqual({});
    expect(redisClientOptions({ url: 'redis://h', keyPrefix: '', tls: { ca: 'PEM' } }).tls).toEqual({ ca: 'PEM' });
  });

  it('rejects another scheme without echoing the password', () => {
    expect(() => redisClientOptions({ url: `http://user:${PASSWORD}@h:1`, keyPrefix: '' })).toThrow(/unsupported url scheme http: in http:\/\/h:1/);
    expect(() => redisClientOptions({ url: `http://user:${PASSWORD}@h:1`, keyPrefix: '' })).not.toThrow(new RegExp(PASSWORD));
    expect(safeRedisUrl(`redis://user:${PASSWORD}@h:1/0`)).toBe('redis://h:1/0');
  });

  it('reconnects after 100 ms doubling to 5 s, forever', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => reconnectDelayMs(n))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });
});

describe('RedisConnection', () => {
  it('logs each state transition once, however many reconnect attempts fail, and never the password', async () => {
    const redis = await server(['--requirepass', PASSWORD], PASSWORD);
    const { logger, lines, raw } = captureLogs();
    const c = connection(`redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`, 'vg:', logger);
    const states: RedisState[] = [];
    c.onStateChange((s) => states.push(s));
    expect(await c.whenUp(5000)).toBe(true);
    expect(c.state()).toBe('up');

    await redis.kill();
    await until(() => c.state() === 'down', 3000, 'down');
    // Several failed reconnect attempts (each an error event), still one warning.
    await until(() => lines.filter((l) => l.msg === 'redis connection error').length >= 4, 5000, 'reconnect attempts');
    expect(c.state()).toBe('down');

    await redis.restart();
    expect(await c.whenUp(5000)).toBe(true);
    await c.close();

    const transitions = lines.filter((l) => l.level >= 30).map((l) => `${l.level}:${l.msg}`);
    expect(transitions).toEqual(['30:redis store connected', '40:redis store unavailable; serving from memory', '30:redis store back']);
    expect(states).toEqual(['up', 'down', 'up']);
    expect(lines[0]!.redis).toBe(`redis://127.0.0.1:${redis.port}`);
    const all = raw.join('');
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(PASSWORD).toString('base64')]) expect(all).not.toContain(form);
  });

  it('stays down with a wrong password, warns once, and logs neither password', async () => {
    const redis = await server(['--requirepass', PASSWORD], PASSWORD);
    const { logger, lines, raw } = captureLogs();
    const wrong = 'Wr0ng-Pa55word?';
    const c = connection(`redis://127.0.0.1:${redis.port}`, 'vg:', logger, { password: wrong });
    await until(() => lines.filter((l) => l.msg === 'redis connection error').length >= 2, 5000, 'auth errors');
    expect(c.state()).toBe('down');
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual(['redis store unavailable; serving from memory']);
    expect(raw.join('')).not.toContain(wrong);
    expect(raw.join('')).not.toContain(PASSWORD);
  });

  it('a frozen Redis costs a command at most its timeout, then the connection goes down, and comes back', async () => {
    const redis = await server();
    const { logger, lines } = captureLogs();
    const c = connection(redis.url, 'vg:', logger);
    expect(await c.whenUp(5000)).toBe(true);
    const store = new RedisStore(c);
    await store.set('k', { value: 1, at: 1 }, 60_000);

    redis.pause();
    const started = Date.now();
    expect(await store.get('k')).toBeUndefined();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(600);
    expect(store.stats().errors).toBe(1);
    // No byte for socketTimeoutMs while a command waits: the socket is declared dead.
    await until(() => c.state() === 'down', 3000, 'down after the socket timeout');
    const whileDown = Date.now();
    expect(await store.get('k')).toBeUndefined();
    expect(Date.now() - whileDown).toBeLessThan(100); // no command sent, no timeout paid

    redis.resume();
    expect(await c.whenUp(5000)).toBe(true);
    expect(await store.get('k')).toEqual({ value: 1, at: 1 });
    expect(lines.filter((l) => l.level >= 30).map((l) => l.msg)).toEqual([
      'redis store connected',
      'redis store unavailable; serving from memory',
      'redis store back',
    ]);
  });
});
