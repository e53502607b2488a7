import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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
