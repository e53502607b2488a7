/**
 * GraphiQL in a real browser (Debian's Chromium, driven by playwright-core): the demo gateway on a
 * free port; each test in a new browser context (empty localStorage, as a new user's browser),
 * every request to a non-loopback host blocked and recorded. The page is used as it loads, with
 * no query typed: each preloaded tab is selected and run with the run button, and the answer
 * (on the wire and in the result pane) checked. The subscription tab is run with an
 * `Authorization` typed into the Headers tab (the one thing typed): it must open `POST /graphql/stream` (GraphQL over
 * SSE) carrying it, and show the events a simulated server failing and coming back causes. A
 * screenshot of the first tab, run, lands in test-results/graphiql.png. A second test reloads with
 * the tabs in localStorage. Run with `npm run test:browser`.
 *
 * Every wait is for a selector, a text, a network response or a value GraphiQL stores in
 * localStorage; none is a fixed sleep. Monaco draws only the lines in view, so the editors are
 * checked for text near their top.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parse, print } from 'graphql';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { exampleQueries } from '../../src/server/graphiql/exampleQueries.js';

/** The page's localStorage, for the functions evaluated in the page (this project has no DOM typings). */
declare const localStorage: { getItem(key: string): string | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The flags this workplace's closed network needs (design.md section 10). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WAIT = { timeout: 30_000 };

let demo: ChildProcessWithoutNullStreams | undefined;
let browser: Browser | undefined;
let base = '';
/** Root URLs of the demo's simulated servers by name (their `/_sim/*` control routes live there). */
let sims = new Map<string, string>();

/**
 * Starts `veeam-graph demo --port 0 --still` and resolves with the gateway's base URL and the
 * simulators' URLs it prints. A still world: the subscription tab's pane shows the newest event
 * only, and a moving world's UPDATED events would replace the ones the test waits for.
 */
function startDemo(): Promise<{ base: string; sims: Map<string, string> }> {
  demo = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/main.ts'), 'demo', '--port', '0', '--still'], {
    stdio: 'pipe',
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    demo!.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /GraphQL\s+(http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(out);
      if (m && out.includes('Press Ctrl+C to stop.')) {
        const servers = [...out.matchAll(/^ {2}((?:em|m365)-\d+)\s+\S+\s+(http:\/\/127\.0\.0\.1:\d+)/gm)].map((s) => [s[1]!, s[2]!] as const);
        resolve({ base: m[1]!, sims: new Map(servers) });
      }
    });
    demo!.on('exit', (code) => reject(new Error(`demo exited with ${code}: ${out}`)));
  });
}

function isLocal(url: string): boolean {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** A tab as the page hands it to GraphiQL (its `graphiql-config` block). */
interface PageTab {
  query: string;
  variables?: string;
}

/** The tabs the served page preloads, read from the page itself. */
async function servedTabs(): Promise<PageTab[]> {
  const html = await (await fetch(`${base}/graphiql`)).text();
  const m = /<script id="graphiql-config" type="application\/json">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('no graphiql-config block in the page');
  return (JSON.parse(m[1]!) as { tabs: PageTab[] }).tabs;
}

/** The operation name GraphiQL titles a tab with. */
function operationName(query: string): string {
  return operation(query).name;
}

/** The operation's type and name, and how its first line reads (`query MergedRestoreSessions`). */
function operation(query: string): { type: string; name: string; head: string } {
  const m = /^(?!#).*\b(query|mutation|subscription)\s+(\w+)/m.exec(query);
  if (!m) throw new Error(`no operation name in ${query}`);
  return { type: m[1]!, name: m[2]!, head: `${m[1]} ${m[2]}` };
}

interface GqlResult {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** The first string leaf of a value in JSON order: what the result pane shows near its top. */
function firstString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) {
      const s = firstString(v);
      if (s !== undefined) return s;
    }
  }
  return undefined;
}

/** A page in a new browser context: no storage, non-loopback requests blocked and recorded. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page; blocked: string[]; consoleErrors: string[]; pageErrors: string[] }> {
  const context = await browser!.newContext({ viewport: { width: 1400, height: 900 }, serviceWorkers: 'block' });
  const blocked: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  // Also what the router does not see (a worker's own requests, say).
  context.on('request', (r) => {
    if (!isLocal(r.url()) && !blocked.includes(r.url())) blocked.push(r.url());
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return { context, page, blocked, consoleErrors, pageErrors };
}

const queryEditor = (page: Page, text: string | RegExp) => page.locator('.graphiql-query-editor .view-lines', { hasText: text });
const variablesEditor = (page: Page, text: string) => page.locator('.graphiql-editor-tool .view-lines', { hasText: text });
const resultPane = (page: Page, text: string) => page.locator('.graphiql-response .view-lines', { hasText: text });
const tab = (page: Page, name: string) => page.locator('.graphiql-tab', { has: page.locator('.graphiql-tab-button', { hasText: name }) });
const activeTab = (page: Page) => page.locator('.graphiql-tab.graphiql-tab-active');

/**
 * Clicks a tab and waits until GraphiQL has taken it in. The editors change at once, but GraphiQL
 * reads the operation name Run sends from the editor 100 ms later (a debounced change handler,
 * which also stores the query as `graphiql:query`); run before that, it sends the previous tab's
 * operation name with this tab's document ("Cannot infer operation ..."). So the wait is for the
 * stored query, after which the operation name is this tab's.
 */
async function selectTab(page: Page, t: PageTab): Promise<void> {
  const { name, head } = operation(t.query);
  await tab(page, name).locator('.graphiql-tab-button').click();
  await tab(page, name).and(activeTab(page)).waitFor(WAIT);
  await queryEditor(page, head).waitFor(WAIT);
  await page.waitForFunction((query) => localStorage.getItem('graphiql:query') === query, t.query, WAIT);
}

/**
 * Presses the run button of the open tab and resolves with the answer to its operation, once the
 * result pane shows it. The request must carry the tab's document and variables unchanged.
 */
async function runOpenTab(page: Page, t: PageTab): Promise<{ result: GqlResult; pane: string }> {
  const name = operationName(t.query);
  const answered = page.waitForResponse((r) => {
    const req = r.request();
    return req.method() === 'POST' && new URL(r.url()).pathname === '/graphql' && (req.postData() ?? '').includes(`query ${name}`);
  }, WAIT);
  await page.locator('.graphiql-execute-button').click();
  const response = await answered;
  const sent = response.request().postDataJSON() as { query: string; variables?: Record<string, unknown> | null };
  // The fetcher sends the document printed compactly, without comments: compare the documents.
  expect(print(parse(sent.query))).toBe(print(parse(t.query)));
  expect(sent.variables ?? {}).toEqual(t.variables ? JSON.parse(t.variables) : {});
  expect(response.status()).toBe(200);
  const result = (await response.json()) as GqlResult;
  // The pane shows this answer (pretty-printed JSON): wait for its opening and its first value.
  const first = firstString(result.data) ?? '"data"';
  const shown = resultPane(page, '"data"').filter({ hasText: first });
  await shown.waitFor(WAIT);
  return { result, pane: await shown.innerText() };
}

/** Sets a simulated server's fault rules (its `/_sim/faults` control route); `[]` clears them. */
async function setFaults(server: string, rules: unknown[]): Promise<void> {
  const res = await fetch(`${sims.get(server)}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules }),
  });
  expect([server, res.status]).toEqual([server, 200]);
}

/** What the subscription tab sends in its Headers tab (the demo has no auth, so any key passes). */
const HEADERS = { Authorization: 'Bearer graphiql-headers-tab' };
const executeButton = (page: Page, state: 'Execute' | 'Stop') => page.locator(`.graphiql-execute-button[aria-label^="${state} query"]`);

/**
 * Runs the open subscription tab with {@link HEADERS} typed into the Headers tab. It must open
 * `POST /graphql/stream` (GraphQL over SSE) on this origin with the tab's document and those
 * headers, and stream: the run button turns into a stop button. The demo's servers are healthy,
 * so events are made: `em-2` fails (its poller reports `SOURCE_DOWN` at its next poll, within
 * `live.slowPollMs`) and comes back (`SOURCE_UP` at the next poll after its backoff), and the
 * result pane shows each event as it arrives. Then the stop button ends the subscription.
 */
async function runSubscriptionTab(page: Page, t: PageTab): Promise<void> {
  await page.locator('.graphiql-editor-tools button[data-name="headers"]').click();
  const headersEditor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden)');
  await headersEditor.locator('.view-lines').click();
  // insertText, not typing: Monaco would close the braces and quotes typed one by one.
  await page.keyboard.insertText(JSON.stringify(HEADERS));
  await headersEditor.locator('.view-lines', { hasText: 'graphiql-headers-tab' }).waitFor(WAIT);

  const isStream = (url: string, method: string) => method === 'POST' && new URL(url).pathname === '/graphql/stream';
  const opened = page.waitForRequest((r) => isStream(r.url(), r.method()), WAIT);
  const answered = page.waitForResponse((r) => isStream(r.url(), r.request().method()), WAIT);
  await executeButton(page, 'Execute').click();
  const request = await opened;
  expect(new URL(request.url()).origin).toBe(base);
  const headers = await request.allHeaders();
  expect(headers.authorization).toBe(HEADERS.Authorization);
  expect(headers.accept).toBe('text/event-stream');
  expect(headers['content-type']).toBe('application/json');
  const sent = request.postDataJSON() as { query: string; variables?: Record<string, unknown> | null };
  expect(print(parse(sent.query))).toBe(print(parse(t.query)));
  expect(sent.variables ?? {}).toEqual(t.variables ? JSON.parse(t.variables) : {});
  const response = await answered;
  expect([response.status(), response.headers()['content-type']]).toEqual([200, expect.stringMatching(/^text\/event-stream/)]);
  await executeButton(page, 'Stop').waitFor(WAIT);

  await setFaults('em-2', [{ action: { status: 503 } }]);
  try {
    await resultPane(page, '"SOURCE_DOWN"').filter({ hasText: '"em-2"' }).waitFor(WAIT);
  } finally {
    await setFaults('em-2', []);
  }
  // Back: the poller's next poll (within its backoff) is SOURCE_UP, and nothing replaces it.
  await resultPane(page, '"SOURCE_UP"').filter({ hasText: '"em-2"' }).waitFor(WAIT);
  const pane = await page.locator('.graphiql-response .view-lines').innerText();
  expect(pane).not.toMatch(/"errors"/);

  await executeButton(page, 'Stop').click();
  await executeButton(page, 'Execute').waitFor(WAIT);
}

/** What each demo tab must answer, beyond `data` with no `errors`. */
const TAB_CHECKS: Record<string, (data: Record<string, unknown>, tab: PageTab) => void> = {
  MergedRestoreSessions(data) {
    const { nodes, pageInfo } = data.restoreSessions as { nodes: { __typename: string; source: { name: string } }[]; pageInfo: { hasNextPage: boolean } };
    expect(nodes).toHaveLength(10);
    expect(pageInfo.hasNextPage).toBe(true);
    // Merged over both kinds and several servers.
    expect(new Set(nodes.map((n) => n.__typename))).toEqual(new Set(['EnterpriseManagerRestoreSession', 'Microsoft365RestoreSession']));
    const servers = new Set(nodes.map((n) => n.source.name));
    expect(servers.size).toBeGreaterThanOrEqual(3);
    expect([...servers].some((s) => s.startsWith('em-'))).toBe(true);
    expect([...servers].some((s) => s.startsWith('m365-'))).toBe(true);
  },
  SessionsOfVm(data, t) {
    const { vm } = JSON.parse(t.variables!) as { vm: string };
    const { nodes } = data.restoreSessions as { nodes: { name: string; source: { name: string } }[] };
    expect(nodes.length).toBeGreaterThan(0);
    for (const n of nodes) {
      expect(n.name).toContain(vm);
      expect(n.source.name).toMatch(/^em-/);
    }
  },
  SourcesAndOutcomes(data) {
    const sources = data.sources as { name: string; status: string }[];
    const { outcomes, sourceErrors } = data.restoreSessions as { outcomes: { source: { name: string }; status: string }[]; sourceErrors: unknown[] };
    expect(sources.map((s) => s.name)).toEqual(['em-1', 'em-2', 'em-3', 'm365-1', 'm365-2']);
    expect(sources.every((s) => s.status === 'UP')).toBe(true);
    // The demo's servers are all healthy: every one answered, no partial result.
    expect(outcomes.map((o) => [o.source.name, o.status])).toEqual(sources.map((s) => [s.name, 'OK']));
    expect(sourceErrors).toEqual([]);
  },
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (.ci/run does)`);
  ({ base, sims } = await startDemo());
  expect([...sims.keys()]).toEqual(['em-1', 'em-2', 'em-3', 'm365-1', 'm365-2']);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  demo?.kill('SIGTERM');
});

describe('GraphiQL served by the gateway', () => {
  it('opens fresh on the merged-sessions query and runs every preloaded tab as it loads, offline', async () => {
    const tabs = await servedTabs();
    expect(tabs.map((t) => t.query)).toEqual(exampleQueries().map((e) => e.query));
    const names = tabs.map((t) => operationName(t.query));
    expect(names[0]).toBe('MergedRestoreSessions');

    const { context, page, blocked, consoleErrors, pageErrors } = await freshPage();
    // A new user's browser: nothing stored for any origin yet.
    await expect(context.storageState()).resolves.toEqual({ cookies: [], origins: [] });
    await page.goto(`${base}/graphiql`, { waitUntil: 'load' });

    // On load, before anything is clicked: every tab is there, the first is open, and its editor holds
    // the merged-sessions query (not GraphiQL's welcome comment).
    // (Waited for as any text, then compared, so a wrong text fails at once and shows itself.)
    await queryEditor(page, /\S/).waitFor(WAIT);
    const onLoad = (await page.locator('.graphiql-query-editor .view-lines').innerText()).replace(/\u00a0/g, ' ');
    expect(onLoad).not.toMatch(/Welcome to/);
    expect(onLoad).toContain(tabs[0]!.query.split('\n')[0]);
    expect(onLoad).toContain('query MergedRestoreSessions {');
    expect(onLoad).toContain('restoreSessions(first: 10) {');
    await expect(page.locator('.graphiql-tab').allInnerTexts()).resolves.toEqual(names);
    await expect(activeTab(page).innerText()).resolves.toBe(names[0]);

    expect(tabs.map((t) => operation(t.query).type)).toEqual(['query', 'query', 'query', 'subscription']);
    for (const [i, t] of tabs.entries()) {
      const name = names[i]!;
      if (i > 0) await selectTab(page, t);
      await tab(page, name).and(activeTab(page)).waitFor(WAIT);
      await queryEditor(page, operation(t.query).head).waitFor(WAIT);
      if (t.variables) {
        for (const value of Object.values(JSON.parse(t.variables) as Record<string, unknown>)) await variablesEditor(page, JSON.stringify(value)).waitFor(WAIT);
      }
      if (operation(t.query).type === 'subscription') {
        await runSubscriptionTab(page, t);
        continue;
      }

      const { result, pane } = await runOpenTab(page, t);
      expect([name, result.errors]).toEqual([name, undefined]);
      expect(result.data).toBeTruthy();
      expect(pane).not.toMatch(/"errors"|Syntax Error/);
      TAB_CHECKS[name]?.(result.data!, t);

      if (i === 0) {
        await mkdir('test-results', { recursive: true });
        await page.screenshot({ path: 'test-results/graphiql.png', fullPage: false });
      }
    }

    expect(blocked).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e))).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('after a reload (the tabs now in localStorage) opens on the first example again, editor and tab in step', async () => {
    const tabs = await servedTabs();
    const names = tabs.map((t) => operationName(t.query));
    const { context, page, blocked, pageErrors } = await freshPage();
    await page.goto(`${base}/graphiql`, { waitUntil: 'load' });
    await queryEditor(page, `query ${names[0]}`).waitFor(WAIT);
    // The last tab active and stored as such (GraphiQL writes its tab state 500 ms after a change), then a reload.
    await selectTab(page, tabs.at(-1)!);
    await page.waitForFunction(
      (last) => (JSON.parse(localStorage.getItem('graphiql:tabState') ?? '{}') as { activeTabIndex?: number }).activeTabIndex === last,
      tabs.length - 1,
      WAIT,
    );
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('graphiql:tabState')!) as { tabs: { query: string }[] });
    expect(stored.tabs.map((t) => t.query)).toEqual(tabs.map((t) => t.query));
    await page.reload({ waitUntil: 'load' });

    await queryEditor(page, /\S/).waitFor(WAIT);
    const onLoad = (await page.locator('.graphiql-query-editor .view-lines').innerText()).replace(/\u00a0/g, ' ');
    expect(onLoad).toContain(`query ${names[0]} {`);
    await expect(page.locator('.graphiql-tab').allInnerTexts()).resolves.toEqual(names);
    await expect(activeTab(page).innerText()).resolves.toBe(names[0]);
    const { result } = await runOpenTab(page, tabs[0]!);
    expect(result.errors).toBeUndefined();
    TAB_CHECKS[names[0]!]?.(result.data!, tabs[0]!);

    expect(blocked).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 90_000);
});
