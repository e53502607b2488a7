import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { startRedis } from '../support/startRedis.js';

/** RESP `PING` over a raw socket: the answer's first line, or the error's code. */
function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().trim());
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('startRedis (test support)', () => {
  it('starts a server on a free port, kills it and restarts it on the same port', async () => {
    const redis = await startRedis();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await ping(redis.port)).toBe('+PONG');
      await redis.kill();
      expect(await ping(redis.port)).toBe('ECONNREFUSED');
      await redis.restart();
      expect(await ping(redis.port)).toBe('+PONG');
    } finally {
      await redis.stop();
    }
    expect(await ping(redis.port)).toBe('ECONNREFUSED');
  });

  it('says how to get redis-server when it is missing', async () => {
    await expect(startRedis({ binary: '/nonexistent/redis-server' })).rejects.toThrow(/not installed.*\.ci\/run installs it/);
  });
});
