import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { createHash } from 'node:crypto';
import pino from 'pino';
import {
  allowlistAsApqCache,
  createAllowlistPlugin,
  NOT_IN_ALLOWLIST_CODE,
  type AllowlistMode,
  type RejectedOperation,
} from '../../src/server/operations/createAllowlistPlugin.js';
import { createAllowlist, type Allowlist } from '../../src/server/operations/loadAllowlist.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const typeDefs = 'type Query { hello: String, echo(text: String): String }';
const resolvers = { Query: { hello: () => 'world', echo: (_: unknown, args: { text?: string }) => args.text ?? null } };

const LISTED = 'query Hello { hello }';
const LISTED_ECHO = 'query Echo($text: String) { echo(text: $text) }';
const UNLISTED = 'query Sneaky { echo(text: "x") }';

interface Ctx {
  admin: boolean;
}

interface LogLine {
  level: number;
  msg: string;
  hash?: string;
  operation?: string | null;
  mode?: string;
  document?: string;
}

interface Started {
  url: string;
  logs: LogLine[];
  rejected: Array<[AllowlistMode, RejectedOperation]>;
  stop(): Promise<void>;
}

/** A real Apollo Server on an ephemeral port, the allowlist plugin and APQ cache wired as the gateway wires them. */
async function start(mode: AllowlistMode, allowlist: Allowlist): Promise<Started> {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const rejected: Started['rejected'] = [];
  const server = new ApolloServer<Ctx>({
    typeDefs,
    resolvers,
    persistedQueries: { cache: allowlistAsApqCache(allowlist, { mode }) },
    plugins: [
      createAllowlistPlugin<Ctx>({
        allowlist,
        mode,
        logger,
        bypass: (ctx) => (ctx as Ctx).admin,
        onRejected: (m, op) => void rejected.push([m, op]),
      }),
    ],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ admin: req.headers['x-test-admin'] === 'yes' }),
  });
  return { url, logs, rejected, stop: () => server.stop() };
}

interface GqlResult {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<GqlResult> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as GqlResult['body'] };
}

const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

const allowlist = createAllowlist([LISTED, LISTED_ECHO], 'test.json');

describe('allowlist plugin, enforce mode', () => {
  let s: Started;
  beforeAll(async () => {
    s = await start('enforce', allowlist);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('rejects an unlisted document with 403 and PERSISTED_QUERY_NOT_IN_LIST, logging it once', async () => {
    const before = s.rejected.length;
    for (let i = 0; i < 2; i++) {
      const r = await post(s.url, { query: UNLISTED });
      expect(r.status).toBe(403);
      expect(r.body.data).toBeUndefined();
      expect(r.body.errors).toEqual([{ message: 'Operation not in the allowlist (operations.allowlist).', extensions: { code: NOT_IN_ALLOWLIST_CODE } }]);
    }
    expect(s.rejected.slice(before)).toEqual([
      ['enforce', { hash: sha256(UNLISTED), operationName: 'Sneaky' }],
      ['enforce', { hash: sha256(UNLISTED), operationName: 'Sneaky' }],
    ]);
    expect(s.logs.filter((l) => l.level === 40 && l.hash === sha256(UNLISTED))).toEqual([expect.objectContaining({ operation: 'Sneaky', mode: 'enforce' })]);
  });

  it('runs a listed document, and a re-printed one (normalized match)', async () => {
    expect(await post(s.url, { query: LISTED })).toEqual({ status: 200, body: { data: { hello: 'world' } } });
    const reprinted = 'query Echo( $text : String ) {\n  echo(text: $text)\n}\n';
    expect(await post(s.url, { query: reprinted, variables: { text: 'hi' } })).toEqual({ status: 200, body: { data: { echo: 'hi' } } });
  });

  it('answers a hash-only APQ request for a listed document from the allowlist', async () => {
    const r = await post(s.url, { extensions: apq(sha256(LISTED_ECHO)), variables: { text: 'by hash' } });
    expect(r).toEqual({ status: 200, body: { data: { echo: 'by hash' } } });
    // The hash in either case: clients differ.
    expect((await post(s.url, { extensions: apq(sha256(LISTED).toUpperCase()) })).body).toEqual({ data: { hello: 'world' } });
  });

  it('refuses APQ registration of an unlisted document: 403, and its hash stays unknown', async () => {
    const doc = 'query Register { echo(text: "registered?") }';
    const register = await post(s.url, { query: doc, extensions: apq(sha256(doc)) });
    expect(register.status).toBe(403);
    expect(register.body.errors?.[0]?.extensions?.code).toBe(NOT_IN_ALLOWLIST_CODE);
    const byHash = await post(s.url, { extensions: apq(sha256(doc)) });
    expect(byHash.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(byHash.body.data).toBeUndefined();
  });

  it('does not register even what a bypassed principal ran with APQ', async () => {
    const doc = 'query AdminAdHoc { echo(text: "admin") }';
    const admin = { 'x-test-admin': 'yes' };
    expect(await post(s.url, { query: doc, extensions: apq(sha256(doc)) }, admin)).toEqual({ status: 200, body: { data: { echo: 'admin' } } });
    const byHash = await post(s.url, { extensions: apq(sha256(doc)) });
    expect(byHash.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('lets a bypassed principal (admin scope) run anything, introspection included, without logging it', async () => {
    const before = { rejected: s.rejected.length, logs: s.logs.length };
    const admin = { 'x-test-admin': 'yes' };
    expect(await post(s.url, { query: '{ echo(text: "ad hoc") }' }, admin)).toEqual({ status: 200, body: { data: { echo: 'ad hoc' } } });
    const intro = await post(s.url, { query: '{ __schema { queryType { name } } }' }, admin);
    expect(intro).toEqual({ status: 200, body: { data: { __schema: { queryType: { name: 'Query' } } } } });
    expect(s.rejected.length).toBe(before.rejected);
    expect(s.logs.length).toBe(before.logs);
    // The same introspection without the scope is refused.
    expect((await post(s.url, { query: '{ __schema { queryType { name } } }' })).status).toBe(403);
  });

  it('leaves parse and validation errors of an unlisted document to Apollo (they come first)', async () => {
    const r = await post(s.url, { query: '{ nope }' });
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('allowlist plugin, log mode', () => {
  let s: Started;
  beforeAll(async () => {
    s = await start('log', allowlist);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('runs an unlisted document and logs it once per distinct hash, the text only at debug level', async () => {
    for (let i = 0; i < 3; i++) expect(await post(s.url, { query: UNLISTED })).toEqual({ status: 200, body: { data: { echo: 'x' } } });
    const mine = s.logs.filter((l) => l.hash === sha256(UNLISTED));
    expect(mine.filter((l) => l.level >= 30)).toEqual([expect.objectContaining({ level: 40, operation: 'Sneaky', mode: 'log' })]);
    expect(mine.filter((l) => l.level >= 30 && l.document !== undefined)).toEqual([]);
    expect(mine.filter((l) => l.level === 20)).toEqual([expect.objectContaining({ document: UNLISTED })]);
    expect(s.rejected.filter(([, op]) => op.hash === sha256(UNLISTED))).toHaveLength(3);
    expect(s.rejected.every(([m]) => m === 'log')).toBe(true);
  });

  it('does not log listed documents', async () => {
    const before = s.logs.length;
    expect((await post(s.url, { query: LISTED })).status).toBe(200);
    expect((await post(s.url, { extensions: apq(sha256(LISTED)) })).status).toBe(200);
    expect(s.logs.length).toBe(before);
  });

  it('keeps APQ working for unlisted documents (registered in the fallback), still logging them', async () => {
    const doc = 'query LogRegister { echo(text: "kept") }';
    const first = await post(s.url, { extensions: apq(sha256(doc)) });
    expect(first.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await post(s.url, { query: doc, extensions: apq(sha256(doc)) })).toEqual({ status: 200, body: { data: { echo: 'kept' } } });
    expect(await post(s.url, { extensions: apq(sha256(doc)) })).toEqual({ status: 200, body: { data: { echo: 'kept' } } });
    expect(s.logs.filter((l) => l.level === 40 && l.hash === sha256(doc))).toHaveLength(1);
    expect(s.rejected.filter(([, op]) => op.hash === sha256(doc))).toHaveLength(2);
  });
});

describe('allowlistAsApqCache', () => {
  it("answers Apollo's apq:-prefixed keys and bare keys from the allowlist", async () => {
    const cache = allowlistAsApqCache(allowlist, { mode: 'enforce' });
    expect(await cache.get(`apq:${sha256(LISTED)}`)).toBe(LISTED);
    expect(await cache.get(sha256(LISTED))).toBe(LISTED);
    expect(await cache.get(`apq:${sha256(UNLISTED)}`)).toBeUndefined();
  });

  it('drops every registration in enforce mode, and never deletes a listed document', async () => {
    const cache = allowlistAsApqCache(allowlist, { mode: 'enforce' });
    await cache.set(`apq:${sha256(UNLISTED)}`, UNLISTED);
    expect(await cache.get(`apq:${sha256(UNLISTED)}`)).toBeUndefined();
    expect(await cache.delete(`apq:${sha256(LISTED)}`)).toBe(false);
    expect(await cache.get(`apq:${sha256(LISTED)}`)).toBe(LISTED);
  });

  it('in log mode stores unlisted documents in the given fallback, keys unchanged, with its ttl', async () => {
    const stored = new Map<string, [string, unknown]>();
    const fallback = {
      get: async (k: string) => stored.get(k)?.[0],
      set: async (k: string, v: string, o?: unknown) => void stored.set(k, [v, o]),
      delete: async (k: string) => stored.delete(k),
    };
    const cache = allowlistAsApqCache(allowlist, { mode: 'log', fallback });
    await cache.set(`apq:${sha256(UNLISTED)}`, UNLISTED, { ttl: 60 });
    await cache.set(`apq:${sha256(LISTED)}`, LISTED);
    expect([...stored]).toEqual([[`apq:${sha256(UNLISTED)}`, [UNLISTED, { ttl: 60 }]]]);
    expect(await cache.get(`apq:${sha256(UNLISTED)}`)).toBe(UNLISTED);
    expect(await cache.delete(`apq:${sha256(UNLISTED)}`)).toBe(true);
    expect(await cache.get(`apq:${sha256(UNLISTED)}`)).toBeUndefined();
  });
});
