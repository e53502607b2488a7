import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { ServerCheck } from '../../src/cli/checkServers.js';
import { writeSimConfig } from '../../src/cli/simConfig.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';

const tsx = ['--import', 'tsx', path.resolve('src/main.ts')];
let sims: Simulators;
let dir: string;

beforeAll(async () => {
  sims = await startSimulators({ em: 2, vbo: ['v8', 'v6'], sessionsPerServer: 5 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'vg-check-'));
});
afterAll(async () => {
  await sims.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `check` asynchronously: the simulators live in this process and must keep answering. */
function check(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...tsx, 'check', ...args], { stdio: 'pipe', env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** A config for the simulators, with edits applied to the raw YAML object. */
async function configWith(name: string, edit: (raw: { servers: Record<string, unknown>[] }) => void): Promise<string> {
  const file = path.join(dir, name);
  // Plain-text passwords, so the edits can replace them and the warning about them is seen.
  await writeSimConfig(file, sims, { host: '127.0.0.1', port: 0 }, { passwords: 'inline' });
  const raw = YAML.parse(await readFile(file, 'utf8')) as { servers: Record<string, unknown>[] };
  edit(raw);
  await writeFile(file, YAML.stringify(raw));
  return file;
}

describe('veeam-graph check', () => {
  it('prints a table and exits 0 when every server passes', async () => {
    const file = await configWith('ok.yaml', () => undefined);
    const res = await check(['--config', file]);
    expect(res.status).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(/^SERVER\s+KIND\s+URL\s+REACHABLE\s+TLS\s+LOGON\s+API\s+LATENCY\s+RESULT$/);
    for (const s of sims.servers)
      expect(res.stdout).toMatch(new RegExp(`^${s.name}\\s+${s.kind}\\s+\\S+\\s+yes\\s+n/a\\s+ok\\s+.*\\d+(\\.\\d)? ms\\s+OK$`, 'm'));
    expect(res.stdout).toContain('all 4 servers OK');
    // Plain-text passwords in the file are warned about on stderr; never echoed.
    expect(res.stderr).toContain('plain-text secret');
    for (const s of sims.servers) expect(res.stdout + res.stderr).not.toContain(s.password);
  });

  it('--json: one server down and one wrong password fail the run (exit 1), without printing a secret', async () => {
    const down = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 1, seed: 'down' });
    const downUrl = down.em[0]!.url;
    await down.close();
    const wrong = 'not-the-password-1234';
    const file = await configWith('bad.yaml', (raw) => {
      raw.servers[0]!.password = wrong; // em-1: refused logon
      raw.servers[1]!.url = downUrl; // em-2: nothing listens there any more
      raw.servers[3]!.password = wrong; // m365-2: refused token
    });
    const res = await check(['--config', file, '--json']);
    expect(res.status).toBe(1);
    const report = JSON.parse(res.stdout) as { ok: boolean; servers: ServerCheck[] };
    expect(report.ok).toBe(false);
    const [em1, em2, m1, m2] = report.servers;
    expect(em1).toMatchObject({
      name: 'em-1',
      ok: false,
      reachable: true,
      tls: 'n/a',
      logon: 'failed',
      apiVersion: expect.stringMatching(/^v\d/),
      error: { code: 'UPSTREAM_AUTH_FAILED' },
    });
    expect(em2).toMatchObject({
      name: 'em-2',
      ok: false,
      reachable: false,
      logon: '-',
      apiVersion: null,
      latencyMs: null,
      error: { code: 'UPSTREAM_UNREACHABLE' },
    });
    expect(m1).toMatchObject({ name: 'm365-1', ok: true, reachable: true, logon: 'ok', apiVersion: 'v8', error: null });
    expect(typeof m1!.latencyMs).toBe('number');
    expect(m2).toMatchObject({ name: 'm365-2', ok: false, reachable: true, logon: 'failed', apiVersion: 'v6', error: { code: 'UPSTREAM_AUTH_FAILED' } });
    const printed = res.stdout + res.stderr;
    expect(printed).not.toContain(wrong);
    for (const s of sims.servers) expect(printed).not.toContain(s.password);
  });

  it('exits 2 on a bad config, naming key and file', async () => {
    const file = await configWith('dup.yaml', (raw) => {
      raw.servers[1]!.name = raw.servers[0]!.name;
    });
    const res = await check(['--config', file]);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('servers[1].name: duplicate server name "em-1" (also servers[0].name) (dup.yaml)');
  });
});

describe('veeam-graph check: config errors, VEEAM_GRAPH_CONFIG, secrets files', () => {
  it('--json on an invalid config prints a CONFIG_INVALID error object on stdout and exits 2', async () => {
    const file = await configWith('typo.yaml', (raw) => {
      raw.servers[0]!.usrname = raw.servers[0]!.username;
      delete raw.servers[0]!.username;
      raw.servers[1]!.url = 'https://admin:s3cret-in-url@em-2.corp/api extra';
    });
    const res = await check(['--config', file, '--json']);
    expect(res.status).toBe(2);
    const report = JSON.parse(res.stdout) as { ok: boolean; error: { code: string; file: string; message: string; problems: string[] } };
    expect(report.ok).toBe(false);
    expect(report.error).toMatchObject({ code: 'CONFIG_INVALID', file });
    expect(report.error.problems).toEqual(
      expect.arrayContaining([
        'servers[0]: unknown key "usrname" (did you mean "username"?) (typo.yaml)',
        'servers[1].url: expected https or http URL without credentials, got "https://***@em-2.corp/api extra" (typo.yaml)',
      ]),
    );
    expect(report.error.message).toContain(`invalid configuration in ${file}:`);
    expect(res.stdout + res.stderr).not.toContain('s3cret-in-url');
    // People still read the problems on stderr.
    expect(res.stderr).toContain('did you mean "username"?');
  });

  it('--json on a YAML syntax error names the line and shows it', async () => {
    const file = path.join(dir, 'syntax.yaml');
    await writeFile(file, 'servers:\n  - name: em-1\n    kind: "enterprise-manager\n');
    const res = await check(['--config', file, '--json']);
    expect(res.status).toBe(2);
    const { error } = JSON.parse(res.stdout) as { error: { code: string; message: string; problems: string[] } };
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.problems).toEqual([expect.stringMatching(/^YAML syntax error at line 3, column \d+: .*quote.* \(syntax\.yaml\)$/)]);
    expect(error.message).toContain('3 |     kind: "enterprise-manager');
  });

  it('reads the config named by VEEAM_GRAPH_CONFIG; a sim config with password files passes without plain-text warnings', async () => {
    const file = path.join(dir, 'secrets.yaml');
    await writeSimConfig(file, sims, { host: '127.0.0.1', port: 0 });
    const res = await check(['--json'], { VEEAM_GRAPH_CONFIG: file });
    expect(res.status).toBe(0);
    expect((JSON.parse(res.stdout) as { ok: boolean }).ok).toBe(true);
    expect(res.stderr).not.toContain('plain-text');
    for (const s of sims.servers) expect(res.stdout + res.stderr).not.toContain(s.password);
  });
});

describe('veeam-graph check over TLS', () => {
  it('tells an untrusted certificate (TLS failed) from a trusted one', async () => {
    const tlsSims = await startSimulators({ em: 1, vbo: ['v8'], sessionsPerServer: 2, tls: true });
    try {
      const file = path.join(dir, 'tls.yaml');
      await writeSimConfig(file, tlsSims, { host: '127.0.0.1', port: 0 });
      const raw = YAML.parse(await readFile(file, 'utf8')) as { servers: Record<string, unknown>[] };
      delete raw.servers[1]!.tls; // m365-1: the self-signed CA is not trusted any more
      await writeFile(file, YAML.stringify(raw));
      const res = await check(['--config', file, '--json']);
      expect(res.status).toBe(1);
      const [em, vbo] = (JSON.parse(res.stdout) as { servers: ServerCheck[] }).servers;
      expect(em).toMatchObject({ ok: true, reachable: true, tls: 'ok', logon: 'ok' });
      expect(vbo).toMatchObject({ ok: false, reachable: true, tls: 'failed', logon: '-', error: { code: 'UPSTREAM_TLS_ERROR' } });
    } finally {
      await tlsSims.close();
    }
  });
});
