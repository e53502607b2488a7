import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGraph, type GraphHarness } from './graphHarness.js';
import { naiveLoaders } from '../../bench/naiveLoaders.js';

/** The 500-session query of issue 5, every link of the page selected. */
export const PAGE_500 = `query Page($after: String) {
  restoreSessions(first: 500, after: $after) {
    edges { cursor node { __typename id creationTime source { name }
      ... on EnterpriseManagerRestoreSession { backupServer { name } restorePoint { creationTime } }
      ... on Microsoft365RestoreSession { organization { name } } } }
    pageInfo { hasNextPage endCursor }
    outcomes { source { name } status contributed }
  }
}`;

interface Page {
  restoreSessions: {
    edges: {
      node: {
        __typename: string;
        backupServer?: { name: string } | null;
        restorePoint?: { creationTime: string } | null;
        organization?: { name: string } | null;
      };
    }[];
    outcomes: { status: string; contributed: number }[];
  };
}

describe('request budget (issue 5)', () => {
  let h: GraphHarness;
  let naive: GraphHarness;
  beforeAll(async () => {
    // One anchor for both worlds: they are compared page for page.
    const world = { now: '2026-11-01T00:00:00Z' };
    h = await startGraph({ sims: { world } });
    naive = await startGraph({ sims: { world }, graph: { loaders: naiveLoaders } });
  });
  afterAll(async () => {
    await h?.close();
    await naive?.close();
  });

  it('first 500 merged sessions with backupServer, restorePoint and organization: <= 3 requests per EM, <= 2 per VB365, one logon each (cold)', async () => {
    h.resetLogs();
    const r = await h.run(PAGE_500);
    expect(r.errors).toBeUndefined();
    const page = (r.data as unknown as Page).restoreSessions;
    expect(page.edges).toHaveLength(500);
    expect(page.outcomes.every((o) => o.status === 'OK' && o.contributed > 0)).toBe(true);
    for (const { node } of page.edges) {
      if (node.__typename === 'EnterpriseManagerRestoreSession') {
        expect(node.backupServer?.name).toEqual(expect.any(String));
        expect(node.restorePoint?.creationTime).toMatch(/Z$/);
      } else {
        expect(node.organization?.name).toEqual(expect.any(String));
      }
    }
    const requests = h.requests();
    const logons = h.logons();
    for (const s of h.sims.servers) {
      expect(requests[s.name]).toBeLessThanOrEqual(s.kind === 'enterprise-manager' ? 3 : 2);
      expect(logons[s.name]).toBe(1);
    }
    for (const em of h.sims.em) {
      expect(em.log.count(/^POST \/api\/sessionMngr/)).toBe(1);
      expect(em.log.count(/^GET \/api\/$/)).toBe(0);
    }
    // The link lookups are one query-service call per (server, type).
    for (const em of h.sims.em) {
      expect(em.log.count('GET /api/query?type=BackupServer')).toBe(1);
      expect(em.log.count('GET /api/query?type=VmRestorePoint')).toBe(1);
      expect(em.log.count('GET /api/query?type=RestoreSession')).toBe(1);
    }
  });

  it('a warm second run costs the same without logons', async () => {
    h.resetLogs();
    const r = await h.run(PAGE_500);
    expect(r.errors).toBeUndefined();
    expect(Object.values(h.logons()).every((n) => n === 0)).toBe(true);
    const requests = h.requests();
    for (const s of h.sims.servers) expect(requests[s.name]).toBeLessThanOrEqual(s.kind === 'enterprise-manager' ? 3 : 2);
  });

  it('naive mode (loaders bypassed) returns the same page with one call per link', async () => {
    naive.resetLogs();
    const r = await naive.run(PAGE_500);
    expect(r.errors).toBeUndefined();
    const batched = (await h.run(PAGE_500)).data as unknown as Page;
    expect(JSON.stringify((r.data as unknown as Page).restoreSessions.edges.map((e) => e.node))).toBe(
      JSON.stringify(batched.restoreSessions.edges.map((e) => e.node)),
    );
    const total = Object.values(naive.requests()).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(500);
  });
});
