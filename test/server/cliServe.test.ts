import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeSimConfig } from '../../src/cli/simConfig.js';
import { startSimulators } from '../../src/sim/startSimulators.js';

const tsx = ['--import', 'tsx', path.resolve('src/main.ts')];
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vg-serve-'));
  dirs.push(dir);
  return dir;
}

/** Runs the CLI to completion (for commands that exit by themselves). */
function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [...tsx, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

/** Spawns `veeam-graph serve --config FILE ...` and resolves once it logs the URL it listens on. */
async function startServe(file: string, extra: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [...tsx, 'serve', '--config', file, ...extra], { stdio: 'pipe', env: { ...process.env, ...env } });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"gateway listening"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  /** Everything it printed on stdout so far. */
  const output = () => out;
  return { child, exited, url, output };
}

describe('veeam-graph serve', () => {
  it('reports every config problem with key path and file, exits 2 and starts nothing', async () => {
    const file = path.join(await tempDir(), 'broken.yaml');
    await writeFile(
      file,
      [
        'listen: { port: 4000 }',
        'servers:',
        '  - name: em-hq',
        '    kind: enterprise-manager',
        '    url: ftp://em-hq',
        '    username: u',
        '    password: { env: NOPE_NOT_SET }',
        '    colour: blue',
        '',
      ].join('\n'),
    );
    const res = run(['serve', '--config', file], { PORT: '0' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('servers[0].url: expected https or http URL without credentials (broken.yaml)');
    expect(res.stderr).toContain('servers[0]: unknown key "colour" (broken.yaml)');
    expect(res.stdout).not.toContain('gateway listening');
  });

  it('reports a missing config file and a missing --config as such', async () => {
    const missing = run(['serve', '--config', '/nonexistent/x.yaml']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read config file: ENOENT (/nonexistent/x.yaml)');
    const noFlag = run(['serve']);
    expect(noFlag.status).toBe(2);
    expect(noFlag.stderr).toContain('--config FILE is required');
    expect(noFlag.stderr).toContain('Usage: veeam-graph serve');
  });

  it('--federation serves the schema as an Apollo Federation subgraph', async () => {
    const sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 5 });
    try {
      const file = path.join(await tempDir(), 'fed.yaml');
      await writeSimConfig(file, sims, { host: '127.0.0.1', port: 0 });
      const { child, exited, url } = await startServe(file, ['--federation'], { LOG_LEVEL: 'info' });
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ _service { sdl } }' }),
      });
      const body = (await res.json()) as { data: { _service: { sdl: string } } };
      expect(body.data._service.sdl).toContain('@key(fields: "id")');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await sims.close();
    }
  });

  it('serves a config written by `sim --write-config`, answers a query, and on SIGTERM exits 0 after logging off EM', async () => {
    const sims = await startSimulators({ em: 2, vbo: ['v8'], sessionsPerServer: 20 });
    try {
      const file = path.join(await tempDir(), 'x.yaml');
      await writeSimConfig(file, sims, { host: '127.0.0.1', port: 4000 });
      // PORT overrides the config's listen.port (0: a free port, announced in the log).
      const { child, exited, url, output } = await startServe(file, [], { PORT: '0', LOG_LEVEL: 'info' });
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ restoreSessions(first: 4) { nodes { name source { name } } } }' }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { restoreSessions: { nodes: { source: { name: string } }[] } } };
      expect(body.data.restoreSessions.nodes).toHaveLength(4);
      expect(sims.em.map((em) => em.log.stats().logons)).toEqual([1, 1]);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(sims.em.map((em) => em.log.stats().logoffs)).toEqual([1, 1]);
      // The plain-text simulator passwords are warned about, never printed.
      expect(output()).toContain('plain-text secret in the config');
      for (const s of sims.servers) expect(output()).not.toContain(s.password);
      expect(output()).toContain('"gateway stopped"');
    } finally {
      await sims.close();
    }
  });

  it('demo: starts 5 simulated servers and the gateway, prints URLs and three examples, stops on SIGINT', async () => {
    const child = spawn(process.execPath, [...tsx, 'demo', '--port', '0'], { stdio: 'pipe', env: { ...process.env, LOG_LEVEL: 'warn' } });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Press Ctrl+C to stop.')) resolve();
      });
      void exited.then((code) => reject(new Error(`demo exited with ${code}: ${out}`)));
    });
    const graphql = /GraphQL {3}(http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(out)?.[1];
    expect(graphql).toBeDefined();
    expect(out).toMatch(/GraphiQL {2}http:\/\/127\.0\.0\.1:\d+\/graphiql/);
    expect(out).toMatch(/^1\. Merged restore sessions$/m);
    expect(out).toMatch(/^2\. Sessions of one VM {3}variables: \{"vm":"[^"]+"\}$/m);
    expect(out).toMatch(/^3\. Sources and partial results$/m);
    const res = await fetch(graphql!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ sources { name status } }' }),
    });
    const body = (await res.json()) as { data: { sources: { name: string }[] } };
    expect(body.data.sources.map((s) => s.name)).toEqual(['em-1', 'em-2', 'em-3', 'm365-1', 'm365-2']);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('prints help for every command', () => {
    for (const [command, text] of [
      ['serve', '--config FILE'],
      ['check', '--json'],
      ['demo', '--port N'],
      ['sim', '--write-config FILE'],
    ] as const) {
      const res = run([command, '--help']);
      expect([command, res.status]).toEqual([command, 0]);
      expect(res.stdout).toContain(`Usage: veeam-graph ${command}`);
      expect(res.stdout).toContain(text);
    }
    const top = run(['--help']);
    expect(top.stdout).toMatch(/serve[\s\S]*demo[\s\S]*check[\s\S]*sim/);
    const unknown = run(['check', '--jsn']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--jsn'");
  });
});
