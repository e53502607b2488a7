import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGraph, type GraphHarness } from './graphHarness.js';

interface SourcesResult {
  sources: { name: string; kind: string; apiVersion: string | null }[];
}

describe('Source.apiVersion', () => {
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({ sims: { sessionsPerServer: 10 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const versions = async () => {
    const r = await h.run('{ sources { name kind apiVersion } }');
    expect(r.errors).toBeUndefined();
    return Object.fromEntries((r.data as unknown as SourcesResult).sources.map((s) => [s.name, s.apiVersion]));
  };

  it('EM: read on demand with one unauthenticated GET /api/ per server (no logon); VB365: as configured', async () => {
    h.resetLogs();
    expect(await versions()).toEqual({ 'em-1': 'v1_7', 'em-2': 'v1_7', 'em-3': 'v1_7', 'm365-1': 'v8', 'm365-2': 'v6' });
    for (const em of h.sims.em) {
      expect(em.log.count(/^GET \/api\/$/)).toBe(1);
      expect(em.log.count(/^POST \/api\/sessionMngr/)).toBe(0);
    }
    for (const vbo of h.sims.vbo) expect(vbo.log.count()).toBe(0);
  });

  it('costs nothing once known, and queries that do not ask never pay for it', async () => {
    h.resetLogs();
    for (let i = 0; i < 3; i++) await h.run('{ restoreSessions(first: 5) { edges { node { id } } } sources { apiVersion } }');
    for (const em of h.sims.em) expect(em.log.count(/^GET \/api\/$/)).toBe(0);
  });
});
