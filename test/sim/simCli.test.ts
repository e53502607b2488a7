import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { parseConfig } from '../../src/config/loadConfig.js';

const main = path.resolve('src/main.ts');
const tsx = ['--import', 'tsx', main];
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Starts `veeam-graph sim` and resolves with its first stdout line. */
function firstLine(args: string[]): Promise<{ line: string; child: ChildProcessWithoutNullStreams }> {
  const child = spawn(process.execPath, [...tsx, 'sim', ...args], { stdio: 'pipe' });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ line: out.slice(0, nl), child });
    });
    child.on('exit', (code) => reject(new Error(`sim exited with ${code} before printing`)));
  });
}

describe('veeam-graph sim', () => {
  it('prints one JSON line first, writes a config the gateway accepts, serves, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vg-sim-'));
    dirs.push(dir);
    const file = path.join(dir, 'x.yaml');
    const { line, child } = await firstLine(['--em', '1', '--vbo', '2', '--sessions', '20', '--seed', '3', '--write-config', file]);
    const described = JSON.parse(line) as { servers: { name: string; kind: string; url: string; apiVersion?: string; username: string; password: string }[] };
    expect(described.servers.map((s) => s.name)).toEqual(['em-1', 'm365-1', 'm365-2']);
    expect(described.servers[1]).toMatchObject({ kind: 'microsoft365', apiVersion: 'v8' });
    expect(described.servers[2]!.apiVersion).not.toBe('v8');
    const em = described.servers[0]!;
    const res = await fetch(`${em.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<EnterpriseManager');

    // The config file appears before the server list on stderr; wait for it by reading stderr.
    await new Promise<void>((resolve) => {
      let err = '';
      const onData = (d: Buffer): void => {
        err += d.toString();
        if (err.includes('wrote gateway config')) resolve();
      };
      child.stderr.on('data', onData);
    });
    const raw: unknown = YAML.parse(await readFile(file, 'utf8'));
    const config = await parseConfig(raw, { file, env: {} });
    expect(config.servers.map((s) => [s.name, s.url])).toEqual(described.servers.map((s) => [s.name, s.url]));

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('--write-config puts each password in a 0600 file under FILE.secrets/, referenced relative to the config; SIGHUP stops it gracefully', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vg-sim-'));
    dirs.push(dir);
    const file = path.join(dir, 'veeam-graph.yaml');
    const child = spawn(process.execPath, [...tsx, 'sim', '--em', '1', '--vbo-versions', 'v8', '--sessions', '2', '--write-config', file], { stdio: 'pipe' });
    children.push(child);
    // 'close': the exit code once stdout and stderr are drained.
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('wrote gateway config')) resolve();
      });
      void exited.then((code) => reject(new Error(`sim exited with ${code}: ${err}`)));
    });
    const described = JSON.parse(out.split('\n')[0]!) as { servers: { name: string; password: string }[] };
    expect(err).toContain(`wrote gateway config to ${file} (passwords in ${path.join(dir, 'veeam-graph.secrets')}/)`);

    const raw = YAML.parse(await readFile(file, 'utf8')) as { servers: { name: string; password: unknown }[] };
    expect(raw.servers.map((s) => s.password)).toEqual([{ file: 'veeam-graph.secrets/em-1' }, { file: 'veeam-graph.secrets/m365-1' }]);
    expect(await readFile(file, 'utf8')).not.toContain(described.servers[0]!.password);
    expect((await stat(path.join(dir, 'veeam-graph.secrets'))).mode & 0o777).toBe(0o700);
    for (const s of described.servers) {
      const secret = path.join(dir, 'veeam-graph.secrets', s.name);
      expect((await stat(secret)).mode & 0o777).toBe(0o600);
      expect(await readFile(secret, 'utf8')).toBe(`${s.password}\n`);
    }
    // The gateway reads them as { file: PATH } secrets: no plain-text warning, the same passwords.
    const config = await parseConfig(raw, { file, env: {} });
    expect(config.servers.map((s) => s.password)).toEqual(described.servers.map((s) => s.password));
    expect(config.warnings.join('\n')).not.toContain('plain-text');

    child.kill('SIGHUP');
    expect(await exited).toBe(0);
    expect(err).toContain('SIGHUP: shutting down');
  });

  it('explains unknown flags and bad values with exit code 2', () => {
    const unknown = spawnSync(process.execPath, [...tsx, 'sim', '--emm', '2'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--emm'");
    expect(unknown.stderr).toContain('Usage: veeam-graph sim');
    const bad = spawnSync(process.execPath, [...tsx, 'sim', '--em', 'two'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--em: expected an integer >= 0, got "two"');
    const help = spawnSync(process.execPath, [...tsx, 'sim', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--write-config FILE');
    const cmd = spawnSync(process.execPath, [...tsx, 'frobnicate'], { encoding: 'utf8' });
    expect(cmd.status).toBe(2);
    expect(cmd.stderr).toContain('unknown command "frobnicate"');
  });
});
