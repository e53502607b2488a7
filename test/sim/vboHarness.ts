import { readFileSync } from 'node:fs';
import { RequestLog } from '../../src/sim/RequestLog.js';
import { SimServer } from '../../src/sim/SimServer.js';
import { ManualClock } from '../../src/sim/clock.js';
import { VboSimulator } from '../../src/sim/vbo/VboSimulator.js';
import type { VboApiVersion, VboSimulatorOptions } from '../../src/sim/vbo/VboSimulator.js';
import type { VboOrganization, VboRestoreSession, VboServerWorld } from '../../src/sim/world/types.js';

export const USER = 'tech\\administrator';
export const PASSWORD = 'PassWord1';

/** One simulator behind a real HTTP server on 127.0.0.1:0, with a ManualClock. */
export interface VboHarness {
  server: SimServer;
  sim: VboSimulator;
  log: RequestLog;
  clock: ManualClock;
  base: string;
  version: VboApiVersion;
  /** Password grant (form body); returns the access token. */
  login(): Promise<string>;
  /** GET with a bearer token; path may be absolute, root-relative, or relative to `/vN/`. */
  get(path: string, token?: string): Promise<Response>;
  getJson<T = unknown>(path: string, token: string): Promise<T>;
  postToken(body: string | Record<string, string>, contentType?: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startVbo(
  version: VboApiVersion,
  world: VboServerWorld,
  extra: Partial<Omit<VboSimulatorOptions, 'world' | 'log' | 'apiVersion'>> = {},
  clock = new ManualClock('2026-11-01T00:00:00Z'),
): Promise<VboHarness> {
  const log = new RequestLog();
  const sim = new VboSimulator({ world, log, apiVersion: version, username: USER, password: PASSWORD, clock, ...extra });
  const server = new SimServer({ handler: sim, log, onExpireAll: () => sim.expireAll() });
  const base = await server.listen();
  const url = (path: string): string => (/^https?:/.test(path) ? path : path.startsWith('/') ? `${base}${path}` : `${base}/${version}/${path}`);
  const postToken = (body: string | Record<string, string>, contentType?: string): Promise<Response> => {
    const text = typeof body === 'string' ? body : new URLSearchParams(body).toString();
    return fetch(`${base}/${version}/token`, {
      method: 'POST',
      headers: { 'content-type': contentType ?? 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: text,
    });
  };
  const h: VboHarness = {
    server,
    sim,
    log,
    clock,
    base,
    version,
    async login() {
      const res = await postToken({ grant_type: 'password', username: USER, password: PASSWORD });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    get(path, token) {
      return fetch(url(path), { headers: token ? { authorization: `Bearer ${token}`, accept: 'application/json' } : { accept: 'application/json' } });
    },
    async getJson<T>(path: string, token: string): Promise<T> {
      const res = await h.get(path, token);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    postToken,
    close: () => server.close(),
  };
  return h;
}

export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/vbo/${name}`, import.meta.url), 'utf8')) as T;
}

export function org(partial: Partial<VboOrganization> & { id: string; name: string }): VboOrganization {
  return {
    officeName: partial.name,
    type: 'Office365',
    region: 'Worldwide',
    description: '',
    isBackedUp: true,
    firstBackupTime: Date.parse('2017-05-14T09:17:45.849Z'),
    lastBackupTime: Date.parse('2017-07-14T09:20:11.337Z'),
    isExchangeOnline: true,
    isSharePointOnline: true,
    isTeamsOnline: false,
    msid: '11111111-2222-4333-8444-555555555555',
    ...partial,
  };
}

export function session(partial: Partial<VboRestoreSession> & { id: string; creationTime: number }): VboRestoreSession {
  return {
    name: 'Exchange restore',
    organization: 0,
    type: 'Vex',
    state: partial.endTime === undefined ? 'Working' : 'Stopped',
    result: 'Success',
    initiatedBy: 'jdoe@contoso.onmicrosoft.com',
    details: '1 items processed (1 success)',
    scopeName: 'jdoe@contoso.onmicrosoft.com',
    clientHost: 'WS-1001',
    reason: 'User request',
    pointInTime: partial.creationTime - 86_400_000,
    eventCount: 3,
    eTag: 7,
    ...partial,
  };
}

export function world(organizations: VboOrganization[], restoreSessions: VboRestoreSession[]): VboServerWorld {
  return {
    name: 'docs',
    installationId: '0b7c5a9e-1f2d-4e3c-8b4a-6d5e4f3a2b1c',
    version: '8.1.0.305',
    organizations,
    restorePoints: [],
    restoreSessions: [...restoreSessions].sort((a, b) => a.creationTime - b.creationTime),
  };
}

/** A page object as the simulator sends it. */
export interface Page<T = Record<string, unknown>> {
  offset: number;
  limit: number;
  setId?: string;
  totalCount?: number;
  results: T[];
  _links: Record<string, { href: string }>;
}
