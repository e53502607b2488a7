import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { parse, type OperationDefinitionNode } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { exampleQueries, type ExampleQuery } from '../../src/server/graphiql/exampleQueries.js';
import { ManualScheduler } from '../../src/sources/Scheduler.js';
import { generateEmWorld } from '../../src/sim/world/generateWorld.js';
import { collect, until } from '../live/liveHarness.js';
import { startHarness, type Harness } from './gatewayHarness.js';

let h: Harness;
/** The gateway's pollers run on it: a subscription's next poll comes when the test says. */
let scheduler: ManualScheduler;

beforeAll(async () => {
  scheduler = new ManualScheduler(Date.parse('2026-11-01T12:00:00Z'));
  h = await startHarness({ sims: { em: 1, vbo: [] }, gateway: { scheduler } });
});
afterAll(async () => {
  await h.close();
});

/** Every URL a page or script refers to by src/href/url()/new Worker/string path. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
}

interface PageConfig {
  endpoint: string;
  subscriptionsEndpoint: string;
  tabs: { query: string; variables?: string }[];
}

/** The `graphiql-config` JSON block of the page. */
function pageConfig(html: string): PageConfig {
  const m = /<script id="graphiql-config" type="application\/json">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('no graphiql-config block');
  return JSON.parse(m[1]!) as PageConfig;
}

function operationType(e: ExampleQuery): string {
  return (parse(e.query).definitions[0] as OperationDefinitionNode).operation;
}

/** The VM the demo preloads in the "Sessions of one VM" tab: as `demoVm` in src/cli/runDemo.ts (seed 1, 300 sessions). */
function demoVmName(): string {
  return generateEmWorld('em-1', { seed: 1, sessionsPerServer: 300 }).restoreSessions.at(-1)!.vmDisplayName;
}

/** The README's "Example queries" section, up to the next `## ` heading. */
function readmeExamplesSection(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Example queries\n');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

const CDN = /unpkg\.com|jsdelivr|cdnjs|esm\.sh|fonts\.googleapis|fonts\.gstatic|skypack|cdn\.apollographql|embeddable-sandbox/i;

describe('offline GraphiQL', () => {
  it('serves the page at /graphiql with a same-origin-only CSP and only same-origin URLs', async () => {
    const res = await fetch(`${h.gateway.url}/graphiql`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
    const html = await res.text();
    const urls = referencedUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const u of urls) expect(u).toMatch(/^(\/(?!\/)|data:)/);
    // No inline script: the only <script> without src is the JSON data block.
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!);
    for (const attrs of scripts) expect(attrs).toMatch(/\bsrc="|type="application\/json"/);
    // The examples are preloaded as tabs.
    expect(html).toContain('MergedRestoreSessions');
    expect(html).toContain('SessionsOfVm');
    expect(html).toContain('SourcesAndOutcomes');
    expect(html).toContain('LiveSessions');
  });

  it('preloads exactly the example tabs, in order, with their variables as GraphiQL shows them', async () => {
    const config = pageConfig(await (await fetch(`${h.gateway.url}/graphiql`)).text());
    expect(config.endpoint).toBe('/graphql');
    expect(config.tabs).toEqual(exampleQueries().map((e) => ({ query: e.query, ...(e.variables ? { variables: JSON.stringify(e.variables, null, 2) } : {}) })));
    // The first tab's values are handed to GraphiQL's editors too (see GRAPHIQL_INIT_JS): without them the
    // Yoga wrapper's welcome comment took the first tab's editor.
    const init = await (await fetch(`${h.gateway.url}/graphiql/assets/init.js`)).text();
    expect(init).toMatch(/initialQuery = first\.query/);
    expect(init).toMatch(/initialVariables = first\.variables/);
  });

  it('hands GraphiQL GraphQL over SSE for subscriptions: POSTs to /graphql/stream, queries to /graphql', async () => {
    const html = await (await fetch(`${h.gateway.url}/graphiql`)).text();
    expect(pageConfig(html).subscriptionsEndpoint).toBe('/graphql/stream');
    // init.js run as the page runs it, with the bundle's renderYogaGraphiQL replaced by a spy.
    const init = await (await fetch(`${h.gateway.url}/graphiql/assets/init.js`)).text();
    const configBlock = { textContent: /<script id="graphiql-config" type="application\/json">([^<]*)<\/script>/.exec(html)![1]! };
    const rendered: Record<string, unknown>[] = [];
    const page = {
      document: { getElementById: (id: string) => (id === 'graphiql-config' ? configBlock : {}) },
      location: { href: `${h.gateway.url}/graphiql` },
      URL,
      Promise,
      setTimeout: () => undefined,
      YogaGraphiQL: { renderYogaGraphiQL: (_el: unknown, options: Record<string, unknown>) => rendered.push(options) },
    };
    runInNewContext(init, Object.assign(page, { self: page, window: page }));
    await until(() => rendered.length === 1, 'GraphiQL rendered');
    const options = rendered[0]!;
    expect(options).toMatchObject({ subscriptionsProtocol: 'GRAPHQL_SSE', subscriptionsEndpoint: `${h.gateway.graphqlUrl}/stream`, method: 'POST' });
    // The executor asks `endpoint` per request; the Yoga wrapper reads it as a string (see GRAPHIQL_INIT_JS).
    const endpoint = options.endpoint as (request: object) => string;
    expect(String(endpoint)).toBe(h.gateway.graphqlUrl);
    const live = exampleQueries().at(-1)!;
    expect(endpoint({ operationType: 'subscription' })).toBe(`${h.gateway.graphqlUrl}/stream`);
    expect(endpoint({ document: parse(live.query), operationName: 'LiveSessions' })).toBe(`${h.gateway.graphqlUrl}/stream`);
    expect(endpoint({ operationType: 'query' })).toBe(h.gateway.graphqlUrl);
    expect(endpoint({ document: parse(exampleQueries()[0]!.query) })).toBe(h.gateway.graphqlUrl);
  });

  it('every example tab runs as is: data, no errors (queries over HTTP, the subscription over SSE)', async () => {
    const examples = exampleQueries();
    expect(examples.map(operationType)).toEqual(['query', 'query', 'query', 'subscription']);
    for (const e of examples.filter((e) => operationType(e) === 'query')) {
      const { status, body } = await h.gql(e.query, e.variables);
      expect([e.title, status, body.errors]).toEqual([e.title, 200, undefined]);
      expect(body.data).toBeTruthy();
    }

    // The subscription, where GraphiQL sends it. Events come only when something changes: em-1 fails.
    const [live] = examples.filter((e) => operationType(e) === 'subscription');
    const sse = createSseClient({ url: `${h.gateway.graphqlUrl}/stream`, retryAttempts: 0 });
    const events = collect(sse.iterate({ query: live!.query, ...(live!.variables && { variables: live!.variables }) }));
    try {
      await until(() => h.gateway.subscriptions() === 1, 'the subscription');
      await h.gateway.live.settled();
      h.sims.em[0]!.faults.set({ rules: [{ action: { status: 503 } }] });
      scheduler.advance(10_000);
      await h.gateway.live.settled();
      const first = await events.nth(1);
      expect([live!.title, first.errors]).toEqual([live!.title, undefined]);
      expect(first.data?.restoreSessionChanged).toMatchObject({
        type: 'SOURCE_DOWN',
        changedFields: [],
        source: { name: 'em-1' },
        session: null,
        error: { code: 'UPSTREAM_HTTP_ERROR' },
      });
    } finally {
      h.sims.em[0]!.faults.clear();
      await events.stop();
      sse.dispose();
    }
    await until(() => h.gateway.subscriptions() === 0, 'the subscription ended');
  });

  it("the README's Example queries section shows exactly the preloaded tabs, in order, with the demo's variables", () => {
    const section = readmeExamplesSection();
    const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]!, at: m.index }));
    const graphql = blocks.filter((b) => b.lang === 'graphql');
    const examples = exampleQueries({ vmName: demoVmName() });
    expect(graphql.map((b) => b.text)).toEqual(examples.map((e) => e.query));
    examples.forEach((e, i) => {
      if (!e.variables) return;
      // The first JSON block after the query is its variables, as GraphiQL's variables editor shows them.
      const variables = blocks.find((b) => b.lang === 'json' && b.at > graphql[i]!.at);
      expect([e.title, variables?.text]).toEqual([e.title, `${JSON.stringify(e.variables, null, 2)}\n`]);
    });
  });

  it('serves the same page at GET /graphql to a browser, and GraphQL to anything else', async () => {
    const browser = await fetch(h.gateway.graphqlUrl, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(browser.status).toBe(200);
    expect(await browser.text()).toContain('graphiql-config');
    const script = await fetch(`${h.gateway.graphqlUrl}?query=%7B__typename%7D`, { headers: { accept: 'application/json', 'apollo-require-preflight': '1' } });
    expect(await script.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('serves the bundle, CSS, init script and Monaco workers from the gateway, none pointing at a CDN', async () => {
    const html = await (await fetch(`${h.gateway.url}/graphiql`)).text();
    const assets = referencedUrls(html).filter((u) => u.startsWith('/graphiql/assets/'));
    const init = await (await fetch(`${h.gateway.url}/graphiql/assets/init.js`)).text();
    const workers = [...init.matchAll(/'([\w.]+\.bundle\.js)'/g)].map((m) => `/graphiql/assets/monacoeditorwork/${m[1]}`);
    expect(workers).toHaveLength(3);
    const expected: Record<string, RegExp> = { '.js': /javascript/, '.css': /text\/css/ };
    for (const path of [...assets, ...workers]) {
      const res = await fetch(`${h.gateway.url}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('content-type')).toMatch(expected[path.slice(path.lastIndexOf('.'))]!);
      const body = await res.text();
      expect(body.length).toBeGreaterThan(100);
      expect([path, CDN.exec(body)?.[0]]).toEqual([path, undefined]);
      // CSS may only load data: URIs (fonts, icons are inlined).
      if (path.endsWith('.css')) expect(body.match(/url\((?!["']?data:)[^)]*\)/g)).toBeNull();
    }
  });

  it('serves nothing else under /graphiql/assets', async () => {
    for (const path of ['/graphiql/assets/../../package.json', '/graphiql/assets/yoga-graphiql.es.js', '/graphiql/assets/%2e%2e/%2e%2e/package.json']) {
      expect((await fetch(`${h.gateway.url}${path}`)).status).toBe(404);
    }
  });
});
