import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { exampleQueries } from '../../src/server/graphiql/exampleQueries.js';
import { generateEmWorld } from '../../src/sim/world/generateWorld.js';
import { startHarness, type Harness } from './gatewayHarness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sims: { em: 1, vbo: [] } });
});
afterAll(async () => {
  await h.close();
});

/** Every URL a page or script refers to by src/href/url()/new Worker/string path. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
}

/** The `graphiql-config` JSON block of the page. */
function pageConfig(html: string): { endpoint: string; tabs: { query: string; variables?: string }[] } {
  const m = /<script id="graphiql-config" type="application\/json">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('no graphiql-config block');
  return JSON.parse(m[1]!) as { endpoint: string; tabs: { query: string; variables?: string }[] };
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

  it('every example tab runs as is: data, no errors', async () => {
    for (const e of exampleQueries()) {
      const { status, body } = await h.gql(e.query, e.variables);
      expect([e.title, status, body.errors]).toEqual([e.title, 200, undefined]);
      expect(body.data).toBeTruthy();
    }
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
