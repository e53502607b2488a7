import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readPolicyOf } from '../../src/server/readPolicyOf.js';
import { startHarness, type Harness } from './gatewayHarness.js';

describe('readPolicyOf: freshness and budget in HTTP words', () => {
  const base = { budgetMs: 2500 };
  it('no header: TTLs apply, the configured budget', () => {
    expect(readPolicyOf({}, base)).toEqual({ noCache: false, budgetMs: 2500 });
  });
  it('Cache-Control no-cache / no-store read live; max-age=N accepts N seconds; unknown directives are ignored', () => {
    expect(readPolicyOf({ 'cache-control': 'no-cache' }, base).noCache).toBe(true);
    expect(readPolicyOf({ 'cache-control': 'private, No-Store' }, base).noCache).toBe(true);
    expect(readPolicyOf({ 'cache-control': 'max-age=30, foo=bar' }, base)).toEqual({ noCache: false, maxAgeMs: 30_000, budgetMs: 2500 });
    expect(readPolicyOf({ 'cache-control': 'max-age=abc' }, base)).toEqual({ noCache: false, budgetMs: 2500 });
  });
  it('Prefer: wait=N sets the budget in seconds, bounded to 60 s', () => {
    expect(readPolicyOf({ prefer: 'wait=1.5' }, base).budgetMs).toBe(1500);
    expect(readPolicyOf({ prefer: 'respond-async, wait=600' }, base).budgetMs).toBe(60_000);
    expect(readPolicyOf({ prefer: 'return=minimal' }, base).budgetMs).toBe(2500);
  });
});

describe('the gateway remembers across requests', () => {
  let h: Harness;
  const Q = '{ restoreSessions(first: 10) { asOf stale nodes { id asOf } } }';
  const listCalls = () => h.sims.em.reduce((n, s) => n + s.log.count('GET /api/query?type=RestoreSession'), 0);
  beforeAll(async () => {
    h = await startHarness({ sims: { em: 2, vbo: ['v8'], sessionsPerServer: 20 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a second query within the list TTL reads nothing; Cache-Control: no-cache reaches the servers', async () => {
    const first = await h.gql(Q);
    expect(first.body.errors).toBeUndefined();
    const before = listCalls();
    const again = await h.gql(Q);
    expect(listCalls()).toBe(before);
    expect(again.body.data).toEqual(first.body.data);
    await h.gql(Q, undefined, { 'cache-control': 'no-cache' });
    expect(listCalls()).toBe(before + 2);
  });

  it('exports cache reads by outcome', async () => {
    const text = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(text).toMatch(/^veeam_graph_cache_reads_total\{source="em-1",what="RestoreSessionList",outcome="hit"\} [1-9]\d*$/m);
    expect(text).toMatch(/^veeam_graph_cache_reads_total\{source="em-1",what="RestoreSessionList",outcome="miss"\} [1-9]\d*$/m);
    expect(text).toMatch(/^veeam_graph_cache_entries [1-9]\d*$/m);
  });
});
