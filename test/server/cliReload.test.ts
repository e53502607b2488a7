import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { writeSimConfig } from '../../src/cli/simConfig.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';
import { cleanUpCli, startListening, tempDir } from '../support/cliProcess.js';

let sims: Simulators;
let full: { servers: { name: string; password: { file: string } }[] } & Record<string, unknown>;

beforeAll(async () => {
  sims = await startSimulators({ em: 1, vbo: ['v8'], sessionsPerServer: 10 });
  const file = path.join(await tempDir('vg-reload-'), 'all.yaml');
  await writeSimConfig(file, sims, { host: '127.0.0.1', port: 0 });
  full = YAML.parse(await readFile(file, 'utf8')) as typeof full;
  // The password files are referenced relative to that config: make them absolute for configs elsewhere.
  for (const server of full.servers) server.password.file = path.resolve(path.dirname(file), server.password.file);
});

afterAll(async () => {
  await cleanUpCli();
  await sims?.close();
});

/** Writes a config of the simulators with only the named servers. */
async function writeConfig(file: string, names: string[]): Promise<void> {
  await writeFile(file, YAML.stringify({ ...full, servers: full.servers.filter((s) => names.includes(s.name)) }));
}

async function sessionsBySource(url: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
    body: JSON.stringify({ query: '{ restoreSessions(first: 100) { nodes { source { name } } } }' }),
  });
  const body = (await res.json()) as { data: { restoreSessions: { nodes: { source: { name: string } }[] } } };
  const counts: Record<string, number> = {};
  for (const n of body.data.restoreSessions.nodes) counts[n.source.name] = (counts[n.source.name] ?? 0) + 1;
  return counts;
}

describe('veeam-graph serve: config reload', () => {
  it('SIGHUP adds a server (its sessions merge); a broken config on SIGHUP is logged and the old one keeps serving', async () => {
    const file = path.join(await tempDir('vg-reload-'), 'gateway.yaml');
    await writeConfig(file, ['em-1']);
    const serve = await startListening(['serve', '--config', file], { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    expect(await sessionsBySource(serve.url)).toEqual({ 'em-1': 10 });

    await writeConfig(file, ['em-1', 'm365-1']);
    serve.child.kill('SIGHUP');
    const reloaded = await serve.logLine('config reloaded');
    expect(reloaded.entry).toMatchObject({ added: ['m365-1'], removed: [], kept: ['em-1'], file });
    expect(await sessionsBySource(serve.url)).toEqual({ 'em-1': 10, 'm365-1': 10 });

    await writeFile(file, (await readFile(file, 'utf8')).replace(/url: http:\/\/127\.0\.0\.1/, 'url: ftp://127.0.0.1'));
    serve.child.kill('SIGHUP');
    const refused = await serve.logLine('config not reloaded: it is invalid; the running config keeps serving');
    expect(refused.entry.problems).toEqual([expect.stringMatching(/^servers\[0\]\.url: .*\(gateway\.yaml\)$/)]);
    expect(await sessionsBySource(serve.url)).toEqual({ 'em-1': 10, 'm365-1': 10 });

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    // No password in any log line (the file secrets and the simulators' own).
    for (const s of sims.servers) expect(serve.stdout()).not.toContain(s.password);
    expect(sims.vbo[0]!.log.stats().tokens).toBe(1);
  });

  it('--watch-config: saving the file reloads it, removing a server logs it off', async () => {
    const file = path.join(await tempDir('vg-reload-'), 'gateway.yaml');
    await writeConfig(file, ['em-1', 'm365-1']);
    const em = sims.em[0]!;
    const logoffs = em.log.stats().logoffs;
    const serve = await startListening(['serve', '--config', file, '--watch-config'], { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    await serve.logLine('watching the config file and the files it refers to: a change reloads it');
    expect(await sessionsBySource(serve.url)).toEqual({ 'em-1': 10, 'm365-1': 10 });

    // Written elsewhere and renamed over the file, as editors save.
    const temp = `${file}.tmp`;
    await writeConfig(temp, ['m365-1']);
    await rename(temp, file);
    const reloaded = await serve.logLine('config reloaded');
    expect(reloaded.entry).toMatchObject({ removed: ['em-1'], kept: ['m365-1'] });
    expect(await sessionsBySource(serve.url)).toEqual({ 'm365-1': 10 });
    await serve.logLine('server removed: its session is closed');
    expect(em.log.stats().logoffs).toBe(logoffs + 1);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });

  it('--watch-config: a rewritten password file is a reload that replaces that server (a rotated credential)', async () => {
    const dir = await tempDir('vg-reload-');
    const file = path.join(dir, 'gateway.yaml');
    const secret = path.join(dir, 'em-1.password');
    const em = full.servers.find((s) => s.name === 'em-1')!;
    const password = await readFile(em.password.file, 'utf8');
    await writeFile(secret, password, { mode: 0o600 });
    await writeFile(file, YAML.stringify({ ...full, servers: [{ ...em, password: { file: secret } }] }));
    const serve = await startListening(['serve', '--config', file, '--watch-config'], { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    await serve.logLine('watching the config file and the files it refers to: a change reloads it');
    expect(await sessionsBySource(serve.url)).toEqual({ 'em-1': 10 });

    // The secrets agent writes a new file and renames it over the old one.
    await writeFile(`${secret}.new`, 'not-the-password', { mode: 0o600 });
    await rename(`${secret}.new`, secret);
    expect((await serve.logLine('config reloaded')).entry).toMatchObject({ changed: ['em-1'], added: [], removed: [] });
    const refused = await fetch(`${serve.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
      body: JSON.stringify({ query: '{ restoreSessions(first: 1) { nodes { name } sourceErrors { source { name } code } } }' }),
    });
    expect(((await refused.json()) as { data: { restoreSessions: { sourceErrors: unknown[] } } }).data.restoreSessions.sourceErrors).toEqual([
      { source: { name: 'em-1' }, code: 'UPSTREAM_AUTH_FAILED' },
    ]);
    await writeFile(`${secret}.new`, password, { mode: 0o600 });
    await rename(`${secret}.new`, secret);
    await serve.logLine('config reloaded', 1);
    expect(await sessionsBySource(serve.url)).toEqual({ 'em-1': 10 });
    expect(serve.stdout()).not.toContain(password.trim());
    expect(serve.stdout()).not.toContain('not-the-password');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });
});
