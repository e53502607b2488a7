import { afterEach, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { Faults } from '../../src/sim/Faults.js';
import { SimServer } from '../../src/sim/SimServer.js';
import type { SimHandler, SimRequest, SimResponse } from '../../src/sim/SimServer.js';

/** A minimal API: GET /items/{id} echoes the id; errors as {"message"}. */
class EchoHandler implements SimHandler {
  expired = 0;
  setBaseUrl(): void {}
  template(req: SimRequest): string {
    return `${req.method} ${req.path.replace(/\/items\/[^/]+$/, '/items/{id}')}`;
  }
  handle(req: SimRequest): SimResponse {
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: req.path, query: req.query, padding: 'x'.repeat(200) }),
    };
  }
  errorResponse(_req: SimRequest, status: number, message: string): SimResponse {
    return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
  }
}

const servers: SimServer[] = [];
async function start(faults = new Faults()): Promise<{ server: SimServer; url: string; handler: EchoHandler }> {
  const handler = new EchoHandler();
  const server = new SimServer({ handler, faults, onExpireAll: () => handler.expired++ });
  servers.push(server);
  return { server, url: await server.listen(), handler };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('SimServer', () => {
  it('listens on a free loopback port and logs requests by template, never headers', async () => {
    const { server, url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await (await fetch(`${url}/items/a?x=1`, { headers: { authorization: 'Bearer secret-token' } })).text();
    await (await fetch(`${url}/items/b`)).text();
    expect(server.log.count('GET /items/{id}')).toBe(2);
    expect(server.log.count(/x=1/)).toBe(1);
    expect(JSON.stringify(server.log.all())).not.toContain('secret-token');
    const stats = (await (await fetch(`${url}/_sim/stats`)).json()) as { total: number; byTemplate: Record<string, number> };
    expect(stats.total).toBe(2);
    expect(stats.byTemplate['GET /items/{id}']).toBe(2);
    await fetch(`${url}/_sim/stats/reset`, { method: 'POST' });
    expect(server.log.count()).toBe(0);
  });

  it('answers the Nth matching request with a status in the API error format, once', async () => {
    const { url } = await start(new Faults({ rules: [{ match: '^GET /items/', nth: 2, action: { status: 503, retryAfter: 3 } }] }));
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${url}/items/${i}`);
      statuses.push(res.status);
      if (res.status === 503) {
        retryAfter = res.headers.get('retry-after');
        expect(await res.json()).toEqual({ message: 'Service Unavailable' });
      } else await res.text();
    }
    expect(statuses).toEqual([200, 503, 200, 200]);
    expect(retryAfter).toBe('3');
  });

  it('sets knobs over HTTP and rejects bad ones naming the key', async () => {
    const { url, server } = await start();
    const bad = await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ rules: [{ action: { status: 42 } }] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('faults.rules[0].action');
    const unknown = await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ latncy: 5 }) });
    expect(((await unknown.json()) as { error: string }).error).toContain('faults.latncy');
    const ok = await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ rules: [{ match: 'boom', action: { status: 500 } }] }) });
    expect(ok.status).toBe(200);
    expect((await fetch(`${url}/items/boom`)).status).toBe(500);
    expect((await fetch(`${url}/items/fine`)).status).toBe(200);
    await fetch(`${url}/_sim/faults`, { method: 'DELETE' });
    expect(server.faults.describe().rules).toEqual([]);
    expect((await fetch(`${url}/items/boom`)).status).toBe(200);
  });

  it('calls the expire hook from POST /_sim/expire', async () => {
    const { url, handler } = await start();
    await fetch(`${url}/_sim/expire`, { method: 'POST' });
    expect(handler.expired).toBe(1);
  });

  it('corrupts the body on a malformed fault', async () => {
    const { url } = await start(new Faults({ rules: [{ action: { malformed: true }, times: 1 }] }));
    const res = await fetch(`${url}/items/a`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(JSON.parse(await (await fetch(`${url}/items/a`)).text())).toMatchObject({ path: '/items/a' });
  });

  it('resets the connection on a reset fault', async () => {
    const { url } = await start(new Faults({ rules: [{ action: { reset: true }, times: 1 }] }));
    await expect(fetch(`${url}/items/a`)).rejects.toThrow();
    expect((await fetch(`${url}/items/a`)).status).toBe(200);
  });

  it('never answers a hung request, and close() still ends it', async () => {
    const { url, server } = await start(new Faults({ rules: [{ action: { hang: true } }] }));
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /items/a HTTP/1.1\r\nHost: x\r\n\r\n');
    // The request is logged as hung once the server has seen it; no response byte arrives.
    await new Promise<void>((resolve) => {
      const check = (): void => (server.log.count() > 0 ? resolve() : void setImmediate(check));
      check();
    });
    expect(server.log.all()[0]!.fault).toBe('hang');
    await server.close();
    await closed;
    expect(Buffer.concat(received).length).toBe(0);
  });

  it('sends a slow body in chunks with the full content', async () => {
    const { url } = await start(new Faults({ rules: [{ action: { slowBody: { chunkBytes: 50, chunkDelayMs: 1 } } }] }));
    const body = (await (await fetch(`${url}/items/slow`)).json()) as { path: string };
    expect(body.path).toBe('/items/slow');
  });

  it('counts a rule per instance: two servers fail independently', async () => {
    const a = await start(new Faults({ rules: [{ nth: 1, action: { status: 500 } }] }));
    const b = await start();
    expect((await fetch(`${b.url}/items/x`)).status).toBe(200);
    expect((await fetch(`${a.url}/items/x`)).status).toBe(500);
  });
});
