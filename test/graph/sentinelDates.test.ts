import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGraph, type GraphHarness } from './graphHarness.js';

/**
 * The simulators write "never" as Veeam servers do (EM: SQL Server's smallest datetime for a
 * running session's end; VB365 v6+: `DateTime.MinValue` for an organization never backed up,
 * `DateTime.MaxValue` in the server's offset for a running event's end); the gateway answers null.
 */
describe('sentinel dates reach clients as null', () => {
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({ sims: { em: 1, vbo: ['v8', 'v6'], sessionsPerServer: 40 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a running EM session has no endTime', async () => {
    const r = (await h.run('{ restoreSessions(first: 50, filter: { states: [WORKING], sources: ["em-1"] }) { nodes { state endTime } } }')) as {
      data: { restoreSessions: { nodes: { state: string; endTime: string | null }[] } };
    };
    expect(r.data.restoreSessions.nodes.length).toBeGreaterThan(0);
    for (const n of r.data.restoreSessions.nodes) expect(n.endTime).toBeNull();
  });

  it('an organization never backed up has no first or last backup time', async () => {
    const never = h.sims.vbo.flatMap((s) => s.world.organizations.filter((o) => o.firstBackupTime === undefined).map((o) => o.id.toLowerCase()));
    expect(never.length).toBeGreaterThan(0);
    const r = (await h.run('{ organizations(first: 100) { nodes { nativeId firstBackupTime lastBackupTime } } }')) as {
      errors?: unknown;
      data: { organizations: { nodes: { nativeId: string; firstBackupTime: string | null; lastBackupTime: string | null }[] } };
    };
    expect(r.errors).toBeUndefined();
    const nodes = r.data.organizations.nodes.filter((n) => never.includes(n.nativeId.toLowerCase()));
    expect(nodes.length).toBe(never.length);
    for (const n of nodes) expect([n.firstBackupTime, n.lastBackupTime]).toEqual([null, null]);
  });

  it('a running VB365 event has no endTime', async () => {
    const r = (await h.run(
      '{ restoreSessions(first: 30, filter: { states: [WORKING], sources: ["m365-1"] }) { nodes { ... on Microsoft365RestoreSession { events(first: 100) { nodes { status endTime } } } } } }',
    )) as { errors?: unknown; data: { restoreSessions: { nodes: { events: { nodes: { status: string; endTime: string | null }[] } }[] } } };
    expect(r.errors).toBeUndefined();
    const running = r.data.restoreSessions.nodes.flatMap((n) => n.events.nodes).filter((e) => e.status === 'Running');
    expect(running.length).toBeGreaterThan(0);
    for (const e of running) expect(e.endTime).toBeNull();
  });
});
