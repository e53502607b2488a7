/**
 * GraphiQL in a real browser (Debian's Chromium, driven by playwright-core): the demo gateway on a
 * free port, every request to a non-loopback host blocked and recorded, a restore-sessions query
 * typed and run, and the result pane checked for data from several servers. A screenshot lands
 * in test-results/. Run with `npm run test:browser`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

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

let demo: ChildProcessWithoutNullStreams | undefined;
let browser: Browser | undefined;
let base = '';

/** Starts `veeam-graph demo --port 0` and resolves with the GraphQL URL it prints. */
function startDemo(): Promise<string> {
  demo = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/main.ts'), 'demo', '--port', '0'], {
    stdio: 'pipe',
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    demo!.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /GraphQL\s+(http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(out);
      if (m) resolve(m[1]!);
    });
    demo!.on('exit', (code) => reject(new Error(`demo exited with ${code}: ${out}`)));
  });
}

function isLocal(url: string): boolean {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (.ci/run does)`);
  base = await startDemo();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  demo?.kill('SIGTERM');
});

describe('GraphiQL served by the gateway', () => {
  it('runs a restore-sessions query offline and shows data from several servers', async () => {
    const page: Page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const blocked: string[] = [];
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (isLocal(url)) return route.continue();
      blocked.push(url);
      return route.abort('blockedbyclient');
    });

    await page.goto(`${base}/graphiql`, { waitUntil: 'load' });
    const editor = page.locator('.graphiql-query-editor .monaco-editor, .graphiql-query-editor .cm-editor, .graphiql-query-editor textarea').first();
    await editor.waitFor({ state: 'visible', timeout: 30_000 });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    // Typed key by key; Monaco types over the closing braces it auto-inserted.
    await page.keyboard.type('query Browser { restoreSessions(first: 20) { outcomes { source { name } status } nodes { name source { name } } } }', {
      delay: 5,
    });
    await page.keyboard.press('Control+Enter');
    const result = page.locator('.graphiql-response, .result-window').first();
    // Wait through a locator: the page's strict CSP forbids the eval a string predicate would need.
    await page.locator('.graphiql-response, .result-window', { hasText: 'm365-' }).first().waitFor({ timeout: 30_000 });
    const shown = await result.innerText();

    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/graphiql.png', fullPage: false });

    const servers = new Set([...shown.matchAll(/"(em-\d|m365-\d)"/g)].map((m) => m[1]));
    expect(servers.size).toBeGreaterThanOrEqual(3);
    expect([...servers].some((s) => s!.startsWith('em-'))).toBe(true);
    expect([...servers].some((s) => s!.startsWith('m365-'))).toBe(true);
    // The per-server outcomes come first in the response, so they are on screen whatever Monaco virtualises.
    expect((shown.match(/"OK"/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(shown).not.toContain('"errors"');
    expect(blocked).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e))).toEqual([]);
    await page.close();
  }, 90_000);
});
