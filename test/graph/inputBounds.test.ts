import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { encodeGlobalId, MAX_ID_LENGTH } from '../../src/graph/globalId.js';
import { MAX_NAME_FILTER_LENGTH, MAX_SOURCE_NAME_LENGTH } from '../../src/graph/inputBounds.js';
import { startGraph, type GraphHarness } from './graphHarness.js';

type Result = Awaited<ReturnType<GraphHarness['run']>>;
const codes = (r: Result) => (r.errors ?? []).map((e) => e.extensions?.code);

describe('input bounds: BAD_USER_INPUT before any upstream call', () => {
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({ sims: { em: 2, vbo: ['v8'], sessionsPerServer: 20 } });
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.resetLogs());
  /** Every request every simulated server received since the last reset, logons included. */
  const sent = () => h.sims.servers.reduce((n, s) => n + s.log.count(), 0);

  const SESSIONS = 'query($f: RestoreSessionFilter) { restoreSessions(first: 5, filter: $f) { nodes { id } } }';
  const POINTS = 'query($f: RestorePointFilter) { restorePoints(first: 5, filter: $f) { nodes { pointInTime } } }';

  it.each([
    ['restoreSessions', SESSIONS],
    ['restorePoints', POINTS],
  ])('%s: a vmName of 100,000 characters', async (_field, query) => {
    const r = await h.run(query, { f: { vmName: 'x'.repeat(100_000) } });
    expect(r.data).toBeNull();
    expect(r.errors).toEqual([
      expect.objectContaining({
        message: `filter.vmName is 100000 characters long, over the maximum of ${MAX_NAME_FILTER_LENGTH}: "${'x'.repeat(80)}...".`,
        extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter.vmName', maxLength: MAX_NAME_FILTER_LENGTH },
      }),
    ]);
    expect(sent()).toBe(0);
  });

  it('a vmName of exactly 256 characters is asked upstream (and matches nothing); 257 is refused; characters are code points', async () => {
    const at = await h.run(SESSIONS, { f: { vmName: 'v'.repeat(MAX_NAME_FILTER_LENGTH) } });
    expect(at).toEqual({ data: { restoreSessions: { nodes: [] } } });
    expect(sent()).toBeGreaterThan(0);
    h.resetLogs();
    // 256 astral characters are 512 UTF-16 code units: still 256 characters.
    const astral = await h.run(SESSIONS, { f: { vmName: '\u{1F5A5}'.repeat(MAX_NAME_FILTER_LENGTH) } });
    expect(astral.errors).toBeUndefined();
    h.resetLogs();
    const over = await h.run(SESSIONS, { f: { vmName: 'v'.repeat(MAX_NAME_FILTER_LENGTH + 1) } });
    expect(codes(over)).toEqual(['BAD_USER_INPUT']);
    expect(sent()).toBe(0);
  });

  it('a filter on a nested list is bounded too: the nested list asks nothing', async () => {
    const r = await h.run('query($v: String) { backupServers(first: 1) { nodes { restoreSessions(first: 2, filter: { vmName: $v }) { nodes { id } } } } }', {
      v: 'x'.repeat(MAX_NAME_FILTER_LENGTH + 1),
    });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.path).toEqual(['backupServers', 'nodes', 0, 'restoreSessions']);
    for (const em of h.sims.em) expect(em.log.count(/^GET \/api\/query\?type=RestoreSession/)).toBe(0);
  });

  it(`sources names longer than ${MAX_SOURCE_NAME_LENGTH} characters, in every filter; unknown names are echoed briefly`, async () => {
    const long = 's'.repeat(MAX_SOURCE_NAME_LENGTH + 1);
    for (const [query, variables] of [
      [SESSIONS, { f: { sources: ['em-1', long] } }],
      [POINTS, { f: { sources: [long] } }],
      ['query($s: [String!]) { backupServers(filter: { sources: $s }) { nodes { id } } }', { s: [long] }],
      ['query($s: [String!]) { organizations(filter: { sources: $s }) { nodes { id } } }', { s: [long] }],
    ] as const) {
      const r = await h.run(query, variables);
      expect(r.errors).toEqual([
        expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter.sources', maxLength: MAX_SOURCE_NAME_LENGTH } }),
      ]);
    }
    // Many unknown names of allowed length: the message lists five and counts the rest.
    const unknown = Array.from({ length: 500 }, (_, i) => `nope-${i}`);
    const r = await h.run(SESSIONS, { f: { sources: unknown } });
    expect(r.errors![0]!.message).toBe(
      'Unknown source "nope-0", "nope-1", "nope-2", "nope-3", "nope-4" and 495 more in filter.sources; configured: em-1, em-2, m365-1.',
    );
    expect(sent()).toBe(0);
  });

  it(`ids in filters longer than ${MAX_ID_LENGTH} characters`, async () => {
    const r = await h.run(SESSIONS, { f: { backupServer: 'A'.repeat(MAX_ID_LENGTH + 1) } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.message.length).toBeLessThan(200);
    expect(sent()).toBe(0);
  });

  describe('lone UTF-16 surrogates: not text, so never sent (URLSearchParams would send U+FFFD)', () => {
    const NAMED =
      'query($f: RestoreSessionFilter) { restoreSessions(first: 5, filter: $f) { nodes { ... on EnterpriseManagerRestoreSession { vmDisplayName } } } }';
    /** A VM named as the EM client would have sent a lone surrogate: what the bug answered with. */
    const REPLACED = 'a\ufffd';
    let renamed: { vmDisplayName: string };
    let before: string;
    beforeAll(() => {
      renamed = h.sims.em[0]!.world.restoreSessions[0]!;
      before = renamed.vmDisplayName;
      renamed.vmDisplayName = REPLACED;
      h.sims.em[0]!.sim.changed();
    });
    afterAll(() => {
      renamed.vmDisplayName = before;
      h.sims.em[0]!.sim.changed();
    });

    it.each([
      ['a lone high surrogate', 'A\ud83d', 'D83D'],
      ['a lone low surrogate', 'A\udfff', 'DFFF'],
      ['a reversed pair', 'A\ude80\ud83d', 'DE80'],
      ['a pair followed by a lone high surrogate', '\ud83d\ude80\ud83d', 'D83D'],
      ['a lone low surrogate first', '\udc00A', 'DC00'],
    ])('%s in filter.vmName is BAD_USER_INPUT naming the argument, in every filter, before any call', async (_what, vmName, unit) => {
      for (const query of [SESSIONS, NAMED, POINTS]) {
        const r = await h.run(query, { f: { vmName } });
        expect(r.data).toBeNull();
        expect(r.errors).toEqual([
          expect.objectContaining({
            message: `filter.vmName holds a lone UTF-16 surrogate (U+${unit}), which is not text: ${JSON.stringify(vmName)}.`,
            extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter.vmName' },
          }),
        ]);
        // The message itself is well-formed: the surrogate is escaped (`\udfff`), not echoed raw.
        expect(r.errors![0]!.message).not.toMatch(/\p{Cs}/u);
      }
      expect(sent()).toBe(0);
    });

    it('the VM whose name the replaced text spells is found by that name, never by the lone surrogate', async () => {
      const r = await h.run(NAMED, { f: { vmName: 'A\udfff' } });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(sent()).toBe(0);
      const own = await h.run(NAMED, { f: { vmName: 'A\ufffd' } });
      expect(own).toEqual({ data: { restoreSessions: { nodes: [{ vmDisplayName: REPLACED }] } } });
    });

    it('on a nested list too: the field fails, nothing is asked', async () => {
      const r = await h.run('query($v: String) { backupServers(first: 1) { nodes { restoreSessions(first: 2, filter: { vmName: $v }) { nodes { id } } } } }', {
        v: 'A\udfff',
      });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0]!.path).toEqual(['backupServers', 'nodes', 0, 'restoreSessions']);
      for (const em of h.sims.em) expect(em.log.count(/^GET \/api\/query\?type=RestoreSession/)).toBe(0);
    });

    it('in filter.sources of every filter', async () => {
      for (const [query, variables] of [
        [SESSIONS, { f: { sources: ['em-1', 'em-1\udfff'] } }],
        [POINTS, { f: { sources: ['\ud800em-1'] } }],
        ['query($s: [String!]) { backupServers(filter: { sources: $s }) { nodes { id } } }', { s: ['em-1\udfff'] }],
        ['query($s: [String!]) { organizations(filter: { sources: $s }) { nodes { id } } }', { s: ['m365-1\udfff'] }],
      ] as const) {
        const r = await h.run(query, variables);
        expect(r.errors).toEqual([
          expect.objectContaining({
            message: expect.stringMatching(/^filter\.sources holds a lone UTF-16 surrogate/),
            extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter.sources' },
          }),
        ]);
      }
      expect(sent()).toBe(0);
    });

    it('well-formed pairs are text: an emoji name is asked upstream and matches its VM', async () => {
      const none = await h.run(SESSIONS, { f: { vmName: 'A\ud83d\ude80' } });
      expect(none).toEqual({ data: { restoreSessions: { nodes: [] } } });
      expect(sent()).toBeGreaterThan(0);
      renamed.vmDisplayName = 'vm-\u{1F680}-\u{1F5A5}';
      h.sims.em[0]!.sim.changed();
      try {
        const own = await h.run(NAMED, { f: { vmName: 'VM-\ud83d\ude80-\u{1F5A5}' } });
        expect(own).toEqual({ data: { restoreSessions: { nodes: [{ vmDisplayName: 'vm-\u{1F680}-\u{1F5A5}' }] } } });
      } finally {
        renamed.vmDisplayName = REPLACED;
        h.sims.em[0]!.sim.changed();
      }
    });
  });

  it('nodes(ids:) takes at most limits.maxPageSize ids: one more fails the field, before any call', async () => {
    // Ids of a server that is not configured resolve to null without a call.
    const ids = (n: number) => Array.from({ length: n }, (_, i) => encodeGlobalId('BackupServer', 'gone', `id-${i}`));
    const at = await h.run('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: ids(1000) });
    expect(at.errors).toBeUndefined();
    expect((at.data as { nodes: unknown[] }).nodes).toEqual(Array.from({ length: 1000 }, () => null));

    const over = await h.run('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: ids(1001) });
    expect(over.data).toBeNull();
    expect(over.errors).toEqual([
      expect.objectContaining({
        message: 'Argument "ids" holds 1001 ids, over the maximum of 1000 (limits.maxPageSize): ask in several requests.',
        path: ['nodes'],
        extensions: { code: 'BAD_USER_INPUT', argumentName: 'ids', max: 1000 },
      }),
    ]);
    expect(sent()).toBe(0);
  });
});

describe('nodes(ids:): a malformed id nulls its own entry only (Relay)', () => {
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({ sims: { em: 2, vbo: ['v8'], sessionsPerServer: 20 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('[good, good, "bogus"]: both resolved, null at index 2 with its error at ["nodes", 2]', async () => {
    const [a, b] = h.sims.em[0]!.world.restoreSessions;
    const good = [a!, b!].map((s) => encodeGlobalId('EnterpriseManagerRestoreSession', 'em-1', s.id));
    h.resetLogs();
    const r = await h.run('query($ids: [ID!]!) { nodes(ids: $ids) { id ... on RestoreSession { nativeId } } }', { ids: [...good, 'bogus'] });
    expect(r.data).toEqual({
      nodes: [
        { id: good[0], nativeId: expect.stringMatching(new RegExp(a!.id, 'i')) },
        { id: good[1], nativeId: expect.stringMatching(new RegExp(b!.id, 'i')) },
        null,
      ],
    });
    expect(r.errors).toEqual([
      {
        message: 'Invalid id "bogus": not an id returned by this API.',
        locations: [{ line: 1, column: 23 }],
        path: ['nodes', 2],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ]);
    // The good ones are still batched: one query-service call for both sessions.
    expect(h.sims.em[0]!.log.count(/^GET \/api\/query\?type=RestoreSession/)).toBe(1);
  });

  it('malformed ids anywhere in the list (too long, another type code, empty): each one its own error', async () => {
    const good = encodeGlobalId('EnterpriseManagerRestoreSession', 'em-1', h.sims.em[0]!.world.restoreSessions[0]!.id);
    const ids = ['A'.repeat(MAX_ID_LENGTH + 1), good, 'eHl6OmVtLTE6YWJj', '', good];
    const r = await h.run('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids });
    expect(r.data).toEqual({ nodes: [null, { id: good }, null, null, { id: good }] });
    expect((r.errors ?? []).map((e) => [e.path, e.extensions?.code])).toEqual([
      [['nodes', 0], 'BAD_USER_INPUT'],
      [['nodes', 2], 'BAD_USER_INPUT'],
      [['nodes', 3], 'BAD_USER_INPUT'],
    ]);
  });
});

describe('errors graphql-js raises without a code are masked', () => {
  let h: GraphHarness;
  beforeAll(async () => {
    h = await startGraph({ sims: { em: 1, vbo: [], sessionsPerServer: 5 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a mutation run without the gateway validation rule: INTERNAL_SERVER_ERROR with the masked message, logged', async () => {
    // Through the gateway this is GRAPHQL_VALIDATION_FAILED (test/server/clientMistakes.test.ts); the
    // graph alone must still never show a message it cannot vouch for.
    const r = await h.run('mutation { x }');
    expect(r.errors).toEqual([expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    expect(h.logs.lines.some((l) => l.includes('unexpected error, masked for the client') && l.includes('Schema is not configured'))).toBe(true);
  });
});
