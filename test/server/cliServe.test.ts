import { afterAll, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeSimConfig } from '../../src/cli/simConfig.js';
import { startSimulators } from '../../src/sim/startSimulators.js';
import { cleanUpCli, runCli as run, startListening, tempDir } from '../support/cliProcess.js';

afterAll(cleanUpCli);

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
    expect(res.stderr).toContain('servers[0].url: expected https or http URL without credentials, got "ftp://em-hq" (broken.yaml)');
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
      const { child, exited, url } = await startListening(['serve', '--config', file, '--federation'], { LOG_LEVEL: 'info' });
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
      // Plain-text passwords in the config, to see them warned about and never printed.
      await writeSimConfig(file, sims, { host: '127.0.0.1', port: 4000 }, { passwords: 'inline' });
      // PORT overrides the config's listen.port (0: a free port, announced in the log).
      const { child, exited, url, stdout: output } = await startListening(['serve', '--config', file], { PORT: '0', LOG_LEVEL: 'info' });
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

  it('demo: starts 5 simulated servers and the gateway, prints URLs and four examples, stops on SIGINT', async () => {
    const { child, exited, stdout, stdoutHas } = await startListening(['demo', '--port', '0'], { LOG_LEVEL: 'warn' });
    await stdoutHas('Press Ctrl+C to stop.');
    const out = stdout();
    const graphql = /GraphQL {3}(http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(out)?.[1];
    expect(graphql).toBeDefined();
    expect(out).toMatch(/GraphiQL {2}http:\/\/127\.0\.0\.1:\d+\/graphiql/);
    expect(out).toMatch(/^1\. Merged restore sessions$/m);
    expect(out).toMatch(/^2\. Sessions of one VM {3}variables: \{"vm":"[^"]+"\}$/m);
    expect(out).toMatch(/^3\. Sources and partial results$/m);
    expect(out).toMatch(/^4\. Live restore sessions$/m);
    expect(out).toMatch(/^ {3}subscription LiveSessions \{$/m);
    expect(out).not.toMatch(/^5\. /m);
    // The subscription runs from a shell too, over SSE: the printed command opens a stream.
    expect(out).toContain(`curl -N ${graphql}/stream -H 'accept: text/event-stream'`);
    const sseBody = /curl -N .*\n\s+-d '([^']+)'/.exec(out)?.[1];
    expect(JSON.parse(sseBody!)).toEqual({ query: expect.stringMatching(/^subscription \{ restoreSessionChanged/) });
    const abort = new AbortController();
    const stream = await fetch(`${graphql}/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: sseBody,
      signal: abort.signal,
    });
    expect([stream.status, stream.headers.get('content-type')]).toEqual([200, expect.stringMatching(/^text\/event-stream/)]);
    abort.abort();
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

describe('veeam-graph serve: flags, environment, logs, signals', () => {
  it('--version prints the package.json version', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const res = run([flag]);
      expect([flag, res.status, res.stdout]).toEqual([flag, 0, `${version}\n`]);
    }
  });

  it('--port/--host/--log-level win over the config and the environment; the URL is printed once even when silent', async () => {
    const sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 3 });
    try {
      const file = path.join(await tempDir(), 'flags.yaml');
      // The config says port 4000 on another address; the environment says nonsense a flag must override.
      await writeSimConfig(file, sims, { host: '192.0.2.1', port: 4000 });
      const env = { PORT: 'not-a-port', HOST: '192.0.2.1', LOG_LEVEL: 'verbose' };
      const serve = await startListening(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent'], env);
      expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(serve.url).not.toMatch(/:4000$/);
      const res = await fetch(`${serve.url}/healthz`);
      expect(res.status).toBe(200);
      expect(serve.stderr()).toContain(`(GraphiQL: ${serve.url}/graphiql)`);
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      // Silent: no log line at all, and the listening line exactly once.
      expect(serve.stdout()).toBe('');
      expect(serve.stderr().match(/^veeam-graph listening on /gm)).toHaveLength(1);
    } finally {
      await sims.close();
    }
  });

  it('explains bad flag values and a bad LOG_FORMAT with exit code 2', () => {
    const port = run(['serve', '--config', 'x.yaml', '--port', '70000']);
    expect(port.status).toBe(2);
    expect(port.stderr).toContain('--port: expected a port number 0..65535, got "70000"');
    const level = run(['serve', '--config', 'x.yaml', '--log-level', 'verbos']);
    expect(level.status).toBe(2);
    expect(level.stderr).toContain('--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbos"');
    const format = run(['serve', '--config', 'x.yaml', '--log-format', 'xml']);
    expect(format.status).toBe(2);
    expect(format.stderr).toContain('--log-format: expected json or pretty, got "xml"');
    expect(format.stderr).toContain('Usage: veeam-graph serve');
    const env = run(['serve', '--config', 'x.yaml'], { LOG_FORMAT: 'text' });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('LOG_FORMAT: expected json or pretty, got "text" (environment)');
  });

  it('takes the config from VEEAM_GRAPH_CONFIG when --config is not given; --config wins', async () => {
    const sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 3 });
    try {
      const file = path.join(await tempDir(), 'env.yaml');
      await writeSimConfig(file, sims, { host: '127.0.0.1', port: 0 });
      const serve = await startListening(['serve'], { VEEAM_GRAPH_CONFIG: file, LOG_LEVEL: 'info' });
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      expect(serve.stdout()).toContain('"gateway listening"');
      const missing = path.join(path.dirname(file), 'missing.yaml');
      const wins = run(['serve', '--config', missing], { VEEAM_GRAPH_CONFIG: file });
      expect(wins.status).toBe(2);
      expect(wins.stderr).toContain(`cannot read config file: ENOENT (${missing})`);
      const neither = run(['serve'], { VEEAM_GRAPH_CONFIG: '' });
      expect(neither.status).toBe(2);
      expect(neither.stderr).toContain('--config FILE is required (or set VEEAM_GRAPH_CONFIG)');
    } finally {
      await sims.close();
    }
  });

  it('shows the config path as given, not only its base name', async () => {
    const file = path.join(await tempDir(), 'typo.yaml');
    await writeFile(file, 'servers: []\nlistne: { port: 1 }\n');
    const given = path.relative(process.cwd(), file);
    const res = run(['serve', '--config', given]);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(`veeam-graph serve: invalid configuration in ${given}:\n`);
    expect(res.stderr).toContain('(root): unknown key "listne" (did you mean "listen"?) (typo.yaml)');
  });

  it('--log-format pretty (or LOG_FORMAT) prints readable lines without an empty stack; json wins back', async () => {
    const down = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 1, seed: 'gone' });
    const downUrl = down.em[0]!.url;
    await down.close();
    const file = path.join(await tempDir(), 'down.yaml');
    await writeFile(
      file,
      [
        'listen: { port: 0 }',
        'servers:',
        '  - name: em-down',
        '    kind: enterprise-manager',
        `    url: ${downUrl}`,
        '    username: u',
        '    password: { env: EM_DOWN_PW }',
        '',
      ].join('\n'),
    );
    const pretty = await startListening(['serve', '--config', file], { EM_DOWN_PW: 'pw', LOG_FORMAT: 'pretty', LOG_LEVEL: 'warn' });
    await pretty.stdoutHas('source is down');
    pretty.child.kill('SIGTERM');
    expect(await pretty.exited).toBe(0);
    const text = pretty.stdout();
    // `[HH:MM:SS.mmm] WARN: message {...}`, no colours off a terminal, the upstream error without a "stack" key.
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: source is down \{"source":"em-down"/m);
    expect(text).toContain('UPSTREAM_UNREACHABLE');
    expect(text).not.toContain('\u001b[');
    expect(text).not.toContain('"stack"');
    expect(text).not.toMatch(/^\{"level"/m);

    const json = await startListening(['serve', '--config', file, '--log-format', 'json'], { EM_DOWN_PW: 'pw', LOG_FORMAT: 'pretty', LOG_LEVEL: 'warn' });
    await json.stdoutHas('source is down');
    json.child.kill('SIGTERM');
    expect(await json.exited).toBe(0);
    const lines = json
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; err?: Record<string, unknown> });
    expect(lines.map((l) => l.msg)).toContain('source is down');
    for (const l of lines) if (l.err) expect(l.err).not.toHaveProperty('stack');
  });

  it('SIGHUP reloads the config instead of stopping (an unchanged one is no reload), SIGTERM then stops (EM logged off, exit 0); a sim config starts without plain-text warnings', async () => {
    const sims = await startSimulators({ em: 1, vbo: ['v8'], sessionsPerServer: 5 });
    try {
      const file = path.join(await tempDir(), 'hup.yaml');
      await writeSimConfig(file, sims, { host: '127.0.0.1', port: 0 });
      const serve = await startListening(['serve', '--config', file], { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
      const query = () =>
        fetch(`${serve.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ restoreSessions(first: 2) { nodes { name } } }' }),
        });
      expect((await query()).status).toBe(200);
      expect(sims.em[0]!.log.stats().logons).toBe(1);
      serve.child.kill('SIGHUP');
      // The same file again: nothing to swap, every server keeps its session (no second logon).
      await serve.logLine('config unchanged: nothing to reload');
      expect((await query()).status).toBe(200);
      expect(sims.em[0]!.log.stats().logons).toBe(1);
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      expect(serve.stderr()).toContain('SIGTERM: shutting down');
      expect(serve.stdout()).toContain('"gateway stopped"');
      expect(sims.em[0]!.log.stats().logoffs).toBe(1);
      expect(serve.stdout()).not.toContain('plain-text secret');
      for (const s of sims.servers) expect(serve.stdout() + serve.stderr()).not.toContain(s.password);
    } finally {
      await sims.close();
    }
  });

  it('refuses a non-loopback listener without auth: exit code 2, a message naming the fix, nothing listens', async () => {
    const sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 1 });
    try {
      const file = path.join(await tempDir(), 'open.yaml');
      await writeSimConfig(file, sims, { host: '0.0.0.0', port: 0 });
      const res = run(['serve', '--config', file]);
      expect(res.status).toBe(2);
      expect(res.stderr).toMatch(/listen\.host: "0\.0\.0\.0" is not a loopback address/);
      expect(res.stderr).toMatch(/auth\.apiKeys or auth\.jwt, or set auth\.mode: none/);
      expect(res.stderr).not.toMatch(/listening on/);
      expect(sims.em[0]!.log.count()).toBe(0);
      // The same with --host on a loopback config.
      const loop = path.join(await tempDir(), 'loop.yaml');
      await writeSimConfig(loop, sims, { host: '127.0.0.1', port: 0 });
      expect(run(['serve', '--config', loop, '--host', '::']).status).toBe(2);
    } finally {
      await sims.close();
    }
  });
});
