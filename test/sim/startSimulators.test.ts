import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { startSimulators } from '../../src/sim/startSimulators.js';
import type { Simulators } from '../../src/sim/startSimulators.js';

describe('startSimulators', () => {
  let sims: Simulators;
  const clock = new ManualClock('2026-11-01T00:00:00Z');
  beforeAll(async () => {
    sims = await startSimulators({ em: 2, vbo: ['v8', 'v1'], sessionsPerServer: 40, seed: 5, clock, emSessionTimeoutMs: 60_000 });
  });
  afterAll(async () => {
    await sims.close();
  });

  it('starts each server on its own loopback port and describes it', () => {
    const d = sims.describe();
    expect(d.servers.map((s) => [s.name, s.kind, s.apiVersion])).toEqual([
      ['em-1', 'enterprise-manager', undefined],
      ['em-2', 'enterprise-manager', undefined],
      ['m365-1', 'microsoft365', 'v8'],
      ['m365-2', 'microsoft365', 'v1'],
    ]);
    expect(new Set(sims.servers.map((s) => s.baseUrl)).size).toBe(4);
    expect(sims.em[0]!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(sims.vbo[0]!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('gives each server its own log and credentials, and wires /_sim/expire to the API', async () => {
    const em = sims.em[0]!;
    const auth = `Basic ${Buffer.from(`${em.username}:${em.password}`).toString('base64')}`;
    const logon = await fetch(`${em.url}/sessionMngr/?v=latest`, { method: 'POST', headers: { authorization: auth } });
    expect(logon.status).toBe(201);
    const token = logon.headers.get('x-restsvcsessionid')!;
    await logon.text();
    expect((await fetch(`${em.url}/backupServers`, { headers: { 'x-restsvcsessionid': token } })).status).toBe(200);
    expect(em.log.stats().logons).toBe(1);
    expect(sims.em[1]!.log.count()).toBe(0);
    // Wrong credentials of another server are refused.
    const other = sims.em[1]!;
    const cross = await fetch(`${em.url}/sessionMngr/?v=latest`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${other.username}:${other.password}`).toString('base64')}` },
    });
    expect(cross.status).toBe(401);
    await fetch(`${em.baseUrl}/_sim/expire`, { method: 'POST' });
    expect((await fetch(`${em.url}/backupServers`, { headers: { 'x-restsvcsessionid': token } })).status).toBe(401);
    const stats = (await (await fetch(`${em.baseUrl}/_sim/stats`)).json()) as { activeSessions: number; logons: number };
    expect(stats).toMatchObject({ activeSessions: 0, logons: 1 });
  });

  it('drives EM idle expiry with the injected clock', async () => {
    const em = sims.em[1]!;
    const logon = await fetch(`${em.url}/sessionMngr/?v=latest`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${em.username}:${em.password}`).toString('base64')}` },
    });
    const token = logon.headers.get('x-restsvcsessionid')!;
    await logon.text();
    clock.advance(59_000);
    expect((await fetch(`${em.url}/backupServers`, { headers: { 'x-restsvcsessionid': token } })).status).toBe(200);
    clock.advance(61_000);
    expect((await fetch(`${em.url}/backupServers`, { headers: { 'x-restsvcsessionid': token } })).status).toBe(401);
  });

  it('serves the same world, byte for byte but for its own address, for the same seed and clock', async () => {
    // The world is anchored at its clock's now at start: two starts on the system clock differ by the ms between them.
    const a = await startSimulators({ em: 1, vbo: ['v8'], sessionsPerServer: 40, seed: 5, clock: new ManualClock('2026-11-01T00:00:00Z') });
    const b = await startSimulators({ em: 1, vbo: ['v8'], sessionsPerServer: 40, seed: 5, clock: new ManualClock('2026-11-01T00:00:00Z') });
    try {
      expect(a.anchor).toBe(Date.parse('2026-11-01T00:00:00Z'));
      expect(JSON.stringify(b.em[0]!.world)).toBe(JSON.stringify(a.em[0]!.world));
      const emPage = async (s: typeof a): Promise<string> => {
        const em = s.em[0]!;
        const logon = await fetch(`${em.url}/sessionMngr/?v=latest`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${em.username}:${em.password}`).toString('base64')}` },
        });
        const token = logon.headers.get('x-restsvcsessionid')!;
        await logon.text();
        const body = await (
          await fetch(`${em.url}/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=10`, { headers: { 'x-restsvcsessionid': token } })
        ).text();
        return body.split(em.baseUrl).join('BASE');
      };
      const vboPage = async (s: typeof a): Promise<string> => {
        const vbo = s.vbo[0]!;
        const res = await fetch(`${vbo.url}/v8/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'password', username: vbo.username, password: vbo.password }),
        });
        const { access_token: token } = (await res.json()) as { access_token: string };
        const body = await (await fetch(`${vbo.url}/v8/Organizations`, { headers: { authorization: `Bearer ${token}` } })).text();
        // setId is a fresh id per response by design (docs/veeam-wire.md Part 2 section 7).
        return body.replace(/"setId":"[^"]+"/, '');
      };
      const [pa, pb] = [await emPage(a), await emPage(b)];
      expect(pa).toContain('<RestoreSession ');
      expect(pb).toBe(pa);
      const [va, vb] = [await vboPage(a), await vboPage(b)];
      expect(va).toContain('onmicrosoft.com');
      expect(vb).toBe(va);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('serves HTTPS with a self-signed certificate when asked', async () => {
    const tls = await startSimulators({ em: 0, vbo: ['v8'], sessionsPerServer: 5, tls: true });
    try {
      expect(tls.vbo[0]!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(tls.ca).toContain('BEGIN CERTIFICATE');
      // Node's fetch refuses the unknown certificate: verification is on.
      await expect(fetch(`${tls.vbo[0]!.url}/v8/ServiceInstance`)).rejects.toThrow();
    } finally {
      await tls.close();
    }
  });
});

describe('VB365 product builds', () => {
  it('each simulated server reports (ServiceInstance) a build of the product its API version belongs to', async () => {
    const sims = await startSimulators({ em: 0, vbo: ['v6', 'v7', 'v8'], sessionsPerServer: 5, seed: 'builds' });
    try {
      for (const s of sims.vbo) {
        const token = (await (
          await fetch(`${s.url}/${s.apiVersion}/token`, {
            method: 'POST',
            body: new URLSearchParams({ grant_type: 'password', username: s.username, password: s.password }),
          })
        ).json()) as { access_token: string };
        const instance = (await (
          await fetch(`${s.url}/${s.apiVersion}/ServiceInstance`, { headers: { authorization: `Bearer ${token.access_token}` } })
        ).json()) as {
          version: string;
        };
        expect(instance.version.split('.')[0]).toBe(s.apiVersion.slice(1));
      }
    } finally {
      await sims.close();
    }
  });
});
