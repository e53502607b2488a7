import { afterEach, describe, expect, it } from '@jest/globals';
import { startGraph, type GraphHarness } from './graphHarness.js';

const QUERY = `{
  restoreSessions(first: 30) {
    edges { node { __typename source { name } ... on EnterpriseManagerRestoreSession { backupServer { name } } } }
    sourceErrors { source { name } code message httpStatus retryable }
    outcomes { source { name } status contributed error { code } }
  }
}`;

interface Result {
  data?: {
    restoreSessions: {
      edges: { node: { source: { name: string }; backupServer?: { name: string } | null } }[];
      sourceErrors: { source: { name: string }; code: string; message: string; httpStatus: number | null; retryable: boolean }[];
      outcomes: { source: { name: string }; status: string; contributed: number }[];
    };
  } | null;
  errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[];
}

let h: GraphHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function expectOneFailing(failing: string, code: string, httpStatus: number | null, retryable: boolean): Promise<Result> {
  const r = (await h!.run(QUERY)) as Result;
  const conn = r.data!.restoreSessions;
  expect(conn.edges.length).toBe(30);
  expect(conn.edges.every((e) => e.node.source.name !== failing)).toBe(true);
  expect(conn.sourceErrors).toEqual([expect.objectContaining({ source: { name: failing }, code, httpStatus, retryable })]);
  expect(conn.outcomes.find((o) => o.source.name === failing)?.status).toBe('FAILED');
  expect(conn.outcomes.filter((o) => o.status === 'OK')).toHaveLength(4);
  expect(r.errors).toHaveLength(1);
  expect(r.errors![0]).toEqual(expect.objectContaining({ path: ['restoreSessions'], extensions: { code, source: failing, httpStatus, retryable } }));
  // No secret of the failing server in the answer.
  const server = h!.sims.servers.find((s) => s.name === failing)!;
  expect(JSON.stringify(r)).not.toContain(server.password);
  return r;
}

describe('partial results: one failing server, the others answer', () => {
  it('down (connection refused)', async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40 } });
    await h.sims.em[1]!.close();
    await expectOneFailing('em-2', 'UPSTREAM_UNREACHABLE', null, true);
    const s = await h.run('{ sources { name status lastError { code } } }');
    expect((s.data as { sources: { name: string; status: string; lastError: { code: string } | null }[] }).sources.find((x) => x.name === 'em-2')).toEqual({
      name: 'em-2',
      status: 'DOWN',
      lastError: { code: 'UPSTREAM_UNREACHABLE' },
    });
  });

  it('timeout (a hanging server, small timeout)', async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40 }, http: { totalMs: 300 } });
    h.sims.vbo[0]!.faults.set({ rules: [{ match: 'RestoreSessions', action: { hang: true } }] });
    await expectOneFailing('m365-1', 'UPSTREAM_TIMEOUT', null, true);
  });

  it('5xx', async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40 } });
    h.sims.em[2]!.faults.set({ rules: [{ match: 'type=RestoreSession', action: { status: 503 } }] });
    await expectOneFailing('em-3', 'UPSTREAM_HTTP_ERROR', 503, true);
  });

  it('malformed body', async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40 } });
    h.sims.vbo[1]!.faults.set({ rules: [{ match: 'RestoreSessions', action: { malformed: true } }] });
    await expectOneFailing('m365-2', 'UPSTREAM_BAD_RESPONSE', null, false);
  });

  it('auth rejected (wrong password)', async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40 }, configs: (c) => c.map((s) => (s.name === 'em-1' ? { ...s, password: 'wrong-password' } : s)) });
    const r = await expectOneFailing('em-1', 'UPSTREAM_AUTH_FAILED', 401, false);
    expect(JSON.stringify(r)).not.toContain('wrong-password');
  });

  it('a failing link lookup nulls only that link, each with its error and path', async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40 } });
    h.sims.em[0]!.faults.set({ rules: [{ match: 'type=BackupServer', action: { status: 500 } }] });
    const r = (await h.run(QUERY)) as Result;
    const edges = r.data!.restoreSessions.edges;
    const own = edges.map((e, i) => ({ e, i })).filter(({ e }) => e.node.source.name === 'em-1');
    expect(own.length).toBeGreaterThan(0);
    for (const { e } of own) expect(e.node.backupServer).toBeNull();
    expect(edges.filter((e) => e.node.source.name === 'em-2').every((e) => e.node.backupServer?.name)).toBe(true);
    // GraphQL does not order errors; compare them as a set of paths.
    const byIndex = (a: readonly (string | number)[], b: readonly (string | number)[]) => Number(a[2]) - Number(b[2]);
    expect(r.errors!.map((e) => e.path!).sort(byIndex)).toEqual(own.map(({ i }) => ['restoreSessions', 'edges', i, 'node', 'backupServer']));
    expect(r.errors![0]!.extensions).toEqual({ code: 'UPSTREAM_HTTP_ERROR', source: 'em-1', httpStatus: 500, retryable: false });
    expect(r.data!.restoreSessions.sourceErrors).toEqual([]);
  });

  it('an unexpected error is masked to INTERNAL_SERVER_ERROR and logged in full', async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40 } });
    // A closed VboClient throws a plain Error: not an upstream failure, a gateway bug.
    await h.sources[3]!.close();
    const r = (await h.run(QUERY)) as Result;
    expect(r.data!.restoreSessions.sourceErrors).toEqual([
      { source: { name: 'm365-1' }, code: 'INTERNAL_SERVER_ERROR', message: 'm365-1: Internal server error', httpStatus: null, retryable: false },
    ]);
    expect(r.errors).toEqual([
      expect.objectContaining({
        message: 'm365-1: Internal server error',
        path: ['restoreSessions'],
        extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }),
      }),
    ]);
    expect(JSON.stringify(r)).not.toContain('is closed');
    expect(h.logs.lines.join('\n')).toContain('VboClient is closed');
  });

  it('an error thrown inside a resolver is masked by formatError', async () => {
    h = await startGraph({ sims: { sessionsPerServer: 40 } });
    const bad = h.sources[0]!;
    (bad as { name: string }).name = 'em:1';
    const r = (await h.run('{ sources { id } }')) as Result;
    expect(r.errors).toEqual([expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    expect(h.logs.lines.join('\n')).toContain('encodeGlobalId: invalid source name');
  });
});
