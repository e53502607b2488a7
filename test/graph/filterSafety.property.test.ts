import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_NAME_FILTER_LENGTH } from '../../src/graph/inputBounds.js';
import { EmQueryService } from '../../src/sim/em/EmQueryService.js';
import { parseFilter } from '../../src/sim/em/parseFilter.js';
import type { SimulatedEm } from '../../src/sim/startSimulators.js';
import { startGraph, type GraphHarness } from './graphHarness.js';

/**
 * User text reaching an Enterprise Manager filter is data, never filter syntax: a `vmName` travels
 * through the graph and the EM client (src/upstream/em/emFilter.ts: always quoted, inner `"`
 * doubled, URL-encoded) into the EM simulator's own filter parser (src/sim/em/parseFilter.ts), and
 * must come back as the sessions with exactly that name, compared as EM compares it
 * (case-insensitive, schema/restore.graphql `vmName`), or as nothing: never a 400, never another VM.
 * Text that is not well-formed UTF-16 (a lone surrogate) cannot travel intact (URL encoding makes it
 * U+FFFD), so it never travels: `BAD_USER_INPUT` (src/graph/inputBounds.ts), no server asked.
 */

const QUERY = `query Q($vm: String!) {
  restoreSessions(first: 200, filter: { vmName: $vm }) {
    edges { node { nativeId source { name } ... on EnterpriseManagerRestoreSession { vmDisplayName } } }
    pageInfo { hasNextPage }
    outcomes { source { name } status }
  }
}`;

interface Conn {
  edges: { node: { nativeId: string; source: { name: string }; vmDisplayName?: string | null } }[];
  pageInfo: { hasNextPage: boolean };
  outcomes: { source: { name: string }; status: string }[];
}

/** Names the world gets on purpose, so the "exact match" branch is exercised with hostile text. */
const NASTY = [
  'a;b,c==d',
  'x"y',
  '"',
  '""',
  '"quoted"',
  '%3B%2C%22',
  'UID=="',
  'VmDisplayName!=""',
  'p(q)r',
  ')),((',
  "it's",
  'back\\slash\\',
  'amp&amp;lt;&',
  '<vm name="x"/>',
  '+plus+ =eq= ?q#h',
  '  both  ',
  ' leading',
  'trailing ',
  'Ünïcödé-虚拟机-🚀',
  'tab\tand\nnewline',
];

/** Filter metacharacters (and near misses) that the arbitrary names are built from, mostly. */
const META = [
  ';',
  ',',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '=',
  '"',
  '""',
  "'",
  '\\',
  '%',
  '%3B',
  '%22',
  '%2C',
  '&',
  '&amp;',
  '(',
  ')',
  ' ',
  '  ',
  '\t',
  '\n',
  '+',
  '#',
  '?',
  '/',
  '*',
  'VmDisplayName',
  'UID',
  'urn:veeam:',
];

const SESSIONS_PER_SERVER = 60;

const lower = (s: string) => s.toLowerCase();
const codePoints = (s: string) => [...s].length;
/**
 * Well-formed UTF-16 (no lone surrogate), by the engine's own `String.prototype.isWellFormed`
 * (ES2024: Node 20 has it, the TS lib is ES2023), not by the graph's regex.
 */
const wellFormed = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

describe('filter safety: vmName is data in the EM query-service filter', () => {
  let h: GraphHarness;
  /** The generated VM names (srv04-win...), the ones the property mixes in to hit real sessions. */
  let worldNames: string[];

  beforeAll(async () => {
    // No `memory` option: the memory layer is off, so every query reaches the simulators.
    h = await startGraph({ sims: { em: 2, vbo: ['v8'], sessionsPerServer: SESSIONS_PER_SERVER } });
    worldNames = [...new Set(h.sims.em.flatMap((em) => em.world.restoreSessions.map((s) => s.vmDisplayName)))].sort();
    // Every hostile name on one session of each EM server; one name in two casings.
    NASTY.forEach((name, i) => {
      h.sims.em[0]!.world.restoreSessions[2 * i]!.vmDisplayName = name;
      h.sims.em[1]!.world.restoreSessions[2 * i + 1]!.vmDisplayName = name;
    });
    h.sims.em[0]!.world.restoreSessions[50]!.vmDisplayName = 'MiXeD;Case,Name';
    h.sims.em[1]!.world.restoreSessions[50]!.vmDisplayName = 'mixed;CASE,name';
    for (const em of h.sims.em) em.sim.changed();
    // Log on once, so the per-query request counts below see query-service calls only.
    expect((await h.run(QUERY, { vm: 'warm-up' })).errors).toBeUndefined();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The ground truth: `source/id` of every EM session whose name EM would call equal to `vm`. */
  const expected = (vm: string): string[] =>
    h.sims.em
      .flatMap((em) => em.world.restoreSessions.filter((s) => lower(s.vmDisplayName) === lower(vm)).map((s) => `${em.name}/${s.id.toLowerCase()}`))
      .sort();

  /** The single query-service request `em` received since the last reset (logons aside). */
  const queryRequest = (em: SimulatedEm) => {
    const calls = em.log.all().filter((l) => /^\/api\/query$/i.test(l.path));
    expect(h.requests()[em.name]).toBe(calls.length);
    expect(calls).toHaveLength(1);
    return calls[0]!;
  };

  /**
   * Asks for `vm`; checks that the answer has no error at all, that each EM server got one query
   * with status 200 whose filter the simulator parses back to exactly `VmDisplayName == vm` (a
   * single quoted comparison, not split, not re-grouped), that VB365 was not asked, and that the
   * sessions are exactly the ground truth. Returns the keys and the names as the graph sent them.
   */
  async function ask(vm: string): Promise<{ keys: string[]; names: Map<string, string | null | undefined> }> {
    h.resetLogs();
    const r = await h.run(QUERY, { vm });
    expect(r.errors).toBeUndefined();
    const c = (r.data as { restoreSessions: Conn }).restoreSessions;
    expect(c.pageInfo.hasNextPage).toBe(false);
    expect(c.outcomes).toEqual([
      { source: { name: 'em-1' }, status: 'OK' },
      { source: { name: 'em-2' }, status: 'OK' },
      { source: { name: 'm365-1' }, status: 'SKIPPED' },
    ]);
    for (const em of h.sims.em) {
      const call = queryRequest(em);
      expect(call.status).toBe(200);
      const filter = EmQueryService.params(new URLSearchParams(call.query)).filter;
      expect(filter).toBeDefined();
      expect(parseFilter(filter!)).toEqual({ kind: 'cmp', field: 'VmDisplayName', op: '==', value: vm, quoted: true, position: 0 });
    }
    for (const vbo of h.sims.vbo) expect(h.requests()[vbo.name]).toBe(0);
    const keys = c.edges.map((e) => `${e.node.source.name}/${e.node.nativeId.toLowerCase()}`);
    expect(new Set(keys).size).toBe(keys.length);
    keys.sort();
    expect(keys).toEqual(expected(vm));
    return { keys, names: new Map(c.edges.map((e) => [`${e.node.source.name}/${e.node.nativeId.toLowerCase()}`, e.node.vmDisplayName])) };
  }

  it.each(NASTY)('hostile name %j comes back as its own sessions, name intact', async (vm) => {
    const got = await ask(vm);
    // One session per EM server holds it (unless a generated name differs only in case, which none does).
    expect(got.keys).toHaveLength(2);
    expect([...got.names.values()]).toEqual([vm, vm]);
  });

  it('names compare as EM compares them: case-insensitively, and nothing else', async () => {
    const got = await ask('MIXED;case,NAME');
    expect(got.keys).toHaveLength(2);
    expect([...got.names.values()].sort()).toEqual(['MiXeD;Case,Name', 'mixed;CASE,name']);
    expect((await ask('MiXeD;Case')).keys).toEqual([]);
    expect((await ask('Name')).keys).toEqual([]);
  });

  it('a name that would split or break out of the quotes if unescaped matches no other VM', async () => {
    // A generated name with sessions on the world: what an injection would leak.
    const victim = worldNames.map((n) => [n, expected(n).length] as const).sort((a, b) => b[1] - a[1])[0]![0];
    expect((await ask(victim)).keys.length).toBeGreaterThan(0);
    for (const vm of [
      `nosuchvm,VmDisplayName==${victim}`, // unquoted: `,` is OR, so the victim would match
      `nosuchvm",VmDisplayName=="${victim}`, // quotes not doubled: breaks out of the value
      `${victim}",VmDisplayName!="`, // breaks out and matches everything
      `nosuchvm");(VmDisplayName==${victim}`, // breaks out into a group
      `${victim};State=="Stopped`, // AND glued onto the value
      ` ${victim} `, // unquoted, EM drops the spaces of a bare value
      `${victim}%2C`, // decoded twice, `%2C` would be a comma
    ]) {
      expect((await ask(vm)).keys).toEqual([]);
    }
  });

  it(`bounds: ${MAX_NAME_FILTER_LENGTH} characters (code points) of metacharacters go through; one more is BAD_USER_INPUT and asks nobody`, async () => {
    const at = '";,==)(🚀'.repeat(MAX_NAME_FILTER_LENGTH / 8);
    expect(codePoints(at)).toBe(MAX_NAME_FILTER_LENGTH);
    expect((await ask(at)).keys).toEqual([]);
    h.resetLogs();
    const over = await h.run(QUERY, { vm: `${at}"` });
    expect(over.data).toBeNull();
    expect(over.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(Object.values(h.requests()).every((n) => n === 0)).toBe(true);
  });

  /**
   * Asks for a name holding a lone surrogate: `BAD_USER_INPUT` naming `filter.vmName`, and no
   * server asked at all. Sent, URLSearchParams would turn the surrogate into U+FFFD and match
   * another VM's name.
   */
  async function refused(vm: string): Promise<void> {
    h.resetLogs();
    const r = await h.run(QUERY, { vm });
    expect(r.data).toBeNull();
    expect(r.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^filter\.vmName holds a lone UTF-16 surrogate/),
        path: ['restoreSessions'],
        extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter.vmName' },
      }),
    ]);
    expect(h.requests()).toEqual({ 'em-1': 0, 'em-2': 0, 'm365-1': 0 });
    expect(h.logons()).toEqual({ 'em-1': 0, 'em-2': 0, 'm365-1': 0 });
  }

  it('property: any name is data, never syntax; a name that is not well-formed text asks nobody (fast-check)', async () => {
    const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u));
    const piece = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...META) },
      { weight: 3, arbitrary: fc.string({ maxLength: 6 }) },
      // Any code point, controls included, and now and then a lone surrogate (`binary` alone excludes
      // them): high or low, so pieces side by side also make reversed pairs and, by chance, valid ones.
      {
        weight: 2,
        arbitrary: fc.string({
          unit: fc.oneof({ weight: 7, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: loneSurrogate }),
          maxLength: 4,
        }),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 3 }) },
      { weight: 2, arbitrary: fc.constantFrom(...worldNames, ...NASTY) },
    );
    const composed = fc.array(piece, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(''));
    const name = fc
      .oneof(
        { weight: 8, arbitrary: composed },
        // A whole existing name, sometimes in another case: the "exact match" branch without renaming.
        { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...worldNames, ...NASTY), fc.boolean()).map(([n, up]) => (up ? n.toUpperCase() : n)) },
        // Long names, up to the schema's bound.
        { weight: 1, arbitrary: fc.array(piece, { minLength: 40, maxLength: 120 }).map((parts) => parts.join('')) },
      )
      .map((s) => [...s].slice(0, MAX_NAME_FILTER_LENGTH).join(''))
      .filter((s) => s.length > 0);

    let matched = 0;
    let malformed = 0;
    await fc.assert(
      fc.asyncProperty(name, fc.nat(), fc.nat(), async (vm, serverPick, sessionPick) => {
        const em = h.sims.em[serverPick % h.sims.em.length]!;
        const session = em.world.restoreSessions[sessionPick % em.world.restoreSessions.length]!;
        const before = session.vmDisplayName;
        if (!wellFormed(vm)) {
          malformed++;
          // Refused, and still refused with a session named as the EM client would have spelled it
          // (each lone surrogate as U+FFFD): the VM the bug answered with.
          await refused(vm);
          session.vmDisplayName = vm.replace(/\p{Cs}/gu, '\ufffd');
          em.sim.changed();
          try {
            await refused(vm);
          } finally {
            session.vmDisplayName = before;
            em.sim.changed();
          }
          return;
        }
        // As the world is: the sessions of that name (usually none), nothing else.
        if ((await ask(vm)).keys.length > 0) matched++;
        // With one session renamed to it: that session is among the answer, and nothing else is.
        session.vmDisplayName = vm;
        em.sim.changed();
        try {
          expect((await ask(vm)).keys).toContain(`${em.name}/${session.id.toLowerCase()}`);
        } finally {
          session.vmDisplayName = before;
          em.sim.changed();
        }
      }),
      { seed: 42, numRuns: 180 },
    );
    // The unrenamed branch hit real sessions too, not only "nothing"; both kinds of names were tried.
    expect(matched).toBeGreaterThan(0);
    expect(malformed).toBeGreaterThan(10);
    expect(malformed).toBeLessThan(75);
  });
});
