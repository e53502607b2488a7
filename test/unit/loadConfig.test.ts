import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_HTTP, closestMatch, loadConfig, parseConfig } from '../../src/config/loadConfig.js';
import { HTTP_DEFAULTS } from '../../src/upstream/http/httpDefaults.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vg-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const em = { name: 'em-hq', kind: 'enterprise-manager', url: 'https://em-hq.corp:9398/api', username: 'CORP\\svc', password: { env: 'EM_PW' } };
const vbo = { name: 'm365-eu', kind: 'microsoft365', url: 'https://vbo-eu.corp:4443', apiVersion: 'v7', username: 'svc@corp', password: { env: 'VBO_PW' } };

describe('loadConfig', () => {
  it('loads the design.md YAML shape, resolves secrets and applies defaults and overrides', async () => {
    await writeFile(path.join(dir, 'em.secret'), 's3cret-file\n');
    const file = path.join(dir, 'veeam-graph.yaml');
    await writeFile(
      file,
      `listen: { host: 0.0.0.0, port: 4100 }
defaults: { timeouts: { totalMs: 20000 } }
servers:
  - name: em-hq
    kind: enterprise-manager
    url: https://em-hq.corp:9398/api/
    username: CORP\\svc-graph
    password: { file: ./em.secret }
    tls: { insecure: true }
    timeouts: { connectMs: 1000 }
  - name: m365-eu
    kind: microsoft365
    url: https://vbo-eu.corp:4443
    username: svc-graph@corp.onmicrosoft.com
    password: { env: VBO_EU_PASSWORD }
`,
    );
    const config = await loadConfig(file, { VBO_EU_PASSWORD: 'from-env' });
    expect(config.cursorSecret).toBeUndefined();
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 4100 });
    const [a, b] = config.servers;
    expect(a).toMatchObject({
      kind: 'enterprise-manager',
      url: 'https://em-hq.corp:9398/api',
      password: 's3cret-file',
      format: 'xml',
      tls: { insecure: true },
    });
    expect(a!.timeouts).toEqual({ connectMs: 1000, responseMs: 15000, totalMs: 20000 });
    expect(b).toMatchObject({ kind: 'microsoft365', apiVersion: 'v8', password: 'from-env' });
    expect(a).not.toHaveProperty('maxUrlLength');
    expect(config.warnings).toEqual([]);
    const redacted = JSON.stringify(config.redacted());
    expect(redacted).not.toContain('s3cret-file');
    expect(redacted).not.toContain('from-env');
  });

  it('reports every problem at once with key path and file name', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        servers: [em, { ...vbo, apiVersion: 'v9' }, { ...em, url: 'ftp://x' }, { ...em, name: 'EM-HQ' }, { ...em, name: 'x', kind: 'tape' }],
        listne: {},
      }),
    );
    const problems = await problemsOf(loadConfig(file, { EM_PW: 'a', VBO_PW: 'b' }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^servers\[1\]\.apiVersion: .*\(bad\.json\)$/),
        'servers[2].url: expected https or http URL without credentials, got "ftp://x" (bad.json)',
        expect.stringMatching(/^servers\[3\]\.name: duplicate server name "EM-HQ" \(also servers\[0\]\.name\) \(bad\.json\)$/),
        expect.stringMatching(/^servers\[4\]\.kind: .*\(bad\.json\)$/),
        '(root): unknown key "listne" (did you mean "listen"?) (bad.json)',
      ]),
    );
  });

  it('names missing environment secrets and unreadable files, never their values', async () => {
    const problems = await problemsOf(parseConfig({ servers: [em, { ...vbo, password: { file: 'nope.txt' } }] }, { file: path.join(dir, 'x.yaml'), env: {} }));
    expect(problems).toEqual([
      'servers[0].password: environment variable EM_PW is not set (x.yaml)',
      'servers[1].password: cannot read secret file nope.txt: ENOENT (x.yaml)',
    ]);
  });

  it('warns about plain-text passwords and plain http, and lets PORT/HOST override listen', async () => {
    const config = await parseConfig(
      { listen: { port: 1 }, servers: [{ ...em, url: 'http://em:9399/api', password: 'hunter2' }] },
      { env: { PORT: '5123', HOST: '::1' } },
    );
    expect(config.listen).toEqual({ host: '::1', port: 5123 });
    expect(config.warnings.join('\n')).toContain('servers[0].password: plain-text secret');
    expect(config.warnings.join('\n')).toContain('servers[0].url: plain http');
    expect(config.warnings.join('\n')).not.toContain('hunter2');
  });

  it('rejects credentials in the URL and a CA file that is not PEM', async () => {
    await writeFile(path.join(dir, 'not.pem'), 'hello');
    const problems = await problemsOf(
      parseConfig(
        {
          servers: [
            { ...em, url: 'https://u:p@em/api' },
            { ...vbo, name: 'v', tls: { ca: 'not.pem' } },
          ],
        },
        { file: path.join(dir, 'c.yaml'), env: { EM_PW: 'a', VBO_PW: 'b' } },
      ),
    );
    expect(problems).toEqual(['servers[0].url: expected https or http URL without credentials, got "https://***@em/api" (c.yaml)']);
    const problems2 = await problemsOf(
      parseConfig({ servers: [{ ...vbo, tls: { ca: 'not.pem' } }] }, { file: path.join(dir, 'c.yaml'), env: { VBO_PW: 'b' } }),
    );
    expect(problems2).toEqual(['servers[0].tls.ca: not.pem is not a PEM certificate (c.yaml)']);
  });

  it('circuitBreaker: defaults, then `defaults.circuitBreaker`, then the server; an unset ceiling follows a raised cooldown', async () => {
    const env = { EM_PW: 'a', VBO_PW: 'b' };
    const plain = await parseConfig({ servers: [em] }, { env });
    expect(plain.servers[0]!.circuitBreaker).toEqual({ failureThreshold: 5, cooldownMs: 2_000, maxCooldownMs: 60_000 });
    const config = await parseConfig(
      {
        defaults: { circuitBreaker: { failureThreshold: 3, cooldownMs: 10_000 } },
        servers: [
          { ...em, circuitBreaker: { cooldownMs: 600_000 } },
          { ...vbo, circuitBreaker: { maxCooldownMs: 60_000 } },
          { ...vbo, name: 'm365-us', circuitBreaker: { failureThreshold: 10, cooldownMs: 5_000, maxCooldownMs: 5_000 } },
        ],
      },
      { env },
    );
    expect(config.servers.map((s) => s.circuitBreaker)).toEqual([
      { failureThreshold: 3, cooldownMs: 600_000, maxCooldownMs: 600_000 },
      { failureThreshold: 3, cooldownMs: 10_000, maxCooldownMs: 60_000 },
      { failureThreshold: 10, cooldownMs: 5_000, maxCooldownMs: 5_000 },
    ]);
  });

  it('circuitBreaker: reports bad values and unknown keys with their paths', async () => {
    const env = { EM_PW: 'a', VBO_PW: 'b' };
    const problems = await problemsOf(
      parseConfig(
        {
          defaults: { circuitBreaker: { threshold: 3 } },
          servers: [
            { ...em, circuitBreaker: { failureThreshold: 0 } },
            { ...vbo, circuitBreaker: { cooldownMs: -1, maxCooldownMs: 1.5 } },
          ],
        },
        { file: path.join(dir, 'cb.yaml'), env },
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'defaults.circuitBreaker: unknown key "threshold" (cb.yaml)',
        expect.stringMatching(/^servers\[0\]\.circuitBreaker\.failureThreshold: .*\(cb\.yaml\)$/),
        'servers[1].circuitBreaker.cooldownMs: cooldownMs: expected a positive number of milliseconds (cb.yaml)',
        'servers[1].circuitBreaker.maxCooldownMs: maxCooldownMs: expected whole milliseconds (cb.yaml)',
      ]),
    );
    expect(problems).toHaveLength(4);
    const order = await problemsOf(
      parseConfig(
        { defaults: { circuitBreaker: { maxCooldownMs: 20_000 } }, servers: [{ ...em, circuitBreaker: { cooldownMs: 60_000 } }] },
        { file: path.join(dir, 'cb.yaml'), env },
      ),
    );
    expect(order).toEqual(['servers[0].circuitBreaker.maxCooldownMs: must be >= cooldownMs (60000) (cb.yaml)']);
  });

  it('takes its HTTP defaults from the HTTP layer: one frozen object, the config names', async () => {
    expect(DEFAULT_HTTP).toBe(HTTP_DEFAULTS);
    expect(Object.isFrozen(HTTP_DEFAULTS)).toBe(true);
    for (const part of Object.values(HTTP_DEFAULTS)) expect(Object.isFrozen(part)).toBe(true);
    const config = await parseConfig({ servers: [em], defaults: { retry: { limit: 1 } } }, { env: { EM_PW: 'a' } });
    const server = config.servers[0]!;
    expect(server.retry).toEqual({ ...HTTP_DEFAULTS.retry, limit: 1 });
    expect(server.concurrency).toEqual(HTTP_DEFAULTS.concurrency);
    expect(server.timeouts).toEqual(HTTP_DEFAULTS.timeouts);
  });

  it('takes an EM maxUrlLength within bounds and rejects a silly one', async () => {
    const ok = await parseConfig({ servers: [{ ...em, maxUrlLength: 2048 }] }, { env: { EM_PW: 'a' } });
    expect(ok.servers[0]).toMatchObject({ maxUrlLength: 2048 });
    const problems = await problemsOf(parseConfig({ servers: [{ ...em, maxUrlLength: 10 }] }, { file: 'u.yaml', env: { EM_PW: 'a' } }));
    expect(problems[0]).toMatch(/^servers\[0\]\.maxUrlLength: .*\(u\.yaml\)$/);
  });

  it('resolves a cursor secret like a password and redacts it', async () => {
    const config = await parseConfig({ servers: [em], cursorSecret: { env: 'CURSOR' } }, { env: { EM_PW: 'a', CURSOR: 'cursor-key-1' } });
    expect(config.cursorSecret).toBe('cursor-key-1');
    expect(JSON.stringify(config.redacted())).not.toContain('cursor-key-1');
  });

  it('reports unparseable YAML and a missing file with the file name', async () => {
    const file = path.join(dir, 'broken.yaml');
    await writeFile(file, 'servers: [\n  - name: "x\n');
    expect((await problemsOf(loadConfig(file)))[0]).toMatch(/\(broken\.yaml\)$/);
    expect((await problemsOf(loadConfig(path.join(dir, 'missing.yaml'))))[0]).toMatch(/ENOENT/);
  });
});

describe('loadConfig: messages a newcomer can act on', () => {
  const env = { EM_PW: 'a', VBO_PW: 'b' };

  async function errorOf(promise: Promise<unknown>): Promise<ConfigError> {
    try {
      await promise;
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a ConfigError');
  }

  it('a mistyped key says "did you mean" with the closest known key, at every level', async () => {
    const problems = await problemsOf(
      parseConfig(
        {
          listne: { port: 1 },
          servers: [
            { ...em, fromat: 'json', tls: { insecur: true } },
            { ...vbo, apiVersoin: 'v8', password: { evn: 'VBO_PW' }, Timeouts: { totalMs: 1 } },
          ],
          cache: { ttlMs: { backupServr: 1 } },
          defaults: { retry: { limt: 1 } },
          cursorSecret: { fiel: 'x' },
          logLevel: 'debgu',
          colour: 'blue',
        },
        { file: path.join(dir, 'typo.yaml'), env },
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        '(root): unknown keys "listne" (did you mean "listen"?), "colour" (typo.yaml)',
        'servers[0]: unknown key "fromat" (did you mean "format"?) (typo.yaml)',
        'servers[0].tls: unknown key "insecur" (did you mean "insecure"?); expected { ca: PATH } or { insecure: true } (typo.yaml)',
        // The server's own kind decides which keys it knows: apiVersion is a VB365 key.
        'servers[1]: unknown keys "apiVersoin" (did you mean "apiVersion"?), "Timeouts" (did you mean "timeouts"?) (typo.yaml)',
        'servers[1].password: unknown key "evn" (did you mean "env"?); expected a string, { env: NAME } or { file: PATH } (typo.yaml)',
        'cache.ttlMs: unknown key "backupServr" (did you mean "backupServer"?) (typo.yaml)',
        'defaults.retry: unknown key "limt" (did you mean "limit"?) (typo.yaml)',
        'cursorSecret: unknown key "fiel" (did you mean "file"?); expected a string, { env: NAME } or { file: PATH } (typo.yaml)',
        expect.stringMatching(/^logLevel: expected one of .*"silent", got "debgu" \(did you mean "debug"\?\) \(typo\.yaml\)$/),
      ]),
    );
    const kind = await problemsOf(parseConfig({ servers: [{ ...em, kind: 'enterprise-manger' }] }, { file: 'k.yaml', env }));
    expect(kind).toEqual([
      'servers[0].kind: expected "enterprise-manager" or "microsoft365", got "enterprise-manger" (did you mean "enterprise-manager"?) (k.yaml)',
    ]);
  });

  it('closestMatch: within a third of the word in edits, transpositions count once, short words only by case', () => {
    expect(closestMatch('listne', ['listen', 'limits'])).toBe('listen');
    expect(closestMatch('PASSWORD', ['username', 'password'])).toBe('password');
    expect(closestMatch('colour', ['name', 'kind', 'url', 'format', 'tls'])).toBeUndefined();
    expect(closestMatch('v9', ['v1', 'v8'])).toBeUndefined();
    expect(closestMatch('uri', ['url', 'tls'])).toBe('url');
  });

  it('names the file as given, relative or absolute, in the heading; each problem keeps the base name', async () => {
    const file = path.join(dir, 'given.yaml');
    await writeFile(file, 'servers: []\n');
    const relative = path.relative(process.cwd(), file);
    const err = await errorOf(loadConfig(relative, {}));
    expect(err.file).toBe(relative);
    expect(err.message).toBe(`invalid configuration in ${relative}:\n  - servers: expected at least one server (given.yaml)`);
    expect(err.toJSON()).toEqual({
      code: 'CONFIG_INVALID',
      message: err.message,
      file: relative,
      problems: ['servers: expected at least one server (given.yaml)'],
    });
    expect((await errorOf(loadConfig(file, {}))).message).toContain(`invalid configuration in ${file}:`);
  });

  it('echoes a bad URL, with any user:password masked', async () => {
    const urls = ['ftp://em-hq:9398/api', 'em-hq.corp:9398/api', 'https://admin:hunter2@em-hq/api', 'admin:hunter2@em-hq/api', 'https://:hunter2@em-hq/api'];
    const problems = await problemsOf(parseConfig({ servers: urls.map((url, i) => ({ ...em, name: `em-${i}`, url })) }, { file: 'u.yaml', env }));
    expect(problems).toEqual([
      'servers[0].url: expected https or http URL without credentials, got "ftp://em-hq:9398/api" (u.yaml)',
      'servers[1].url: expected https or http URL without credentials, got "em-hq.corp:9398/api" (u.yaml)',
      'servers[2].url: expected https or http URL without credentials, got "https://***@em-hq/api" (u.yaml)',
      'servers[3].url: expected https or http URL without credentials, got "***@em-hq/api" (u.yaml)',
      'servers[4].url: expected https or http URL without credentials, got "https://***@em-hq/api" (u.yaml)',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('a YAML syntax error shows its line number and the offending line, never a secret on it', async () => {
    const file = path.join(dir, 'syntax.yaml');
    // One space short: YAML reads a sequence item without its "-".
    await writeFile(file, ['servers:', '  - name: em-hq', '   kind: enterprise-manager', ''].join('\n'));
    const err = await errorOf(loadConfig(file, env));
    expect(err.problems).toEqual(['YAML syntax error at line 3, column 1: Sequence item without - indicator (syntax.yaml)']);
    expect(err.message).toContain('\n      3 |    kind: enterprise-manager\n        | ^');

    const secret = path.join(dir, 'secret.yaml');
    await writeFile(secret, ['servers:', '  - name: em-hq', '    password: "hunter2', ''].join('\n'));
    const leak = await errorOf(loadConfig(secret, env));
    expect(leak.problems[0]).toMatch(/^YAML syntax error at line 3, column \d+: Missing closing "quote \(secret\.yaml\)$/);
    expect(leak.message).toContain('3 |     password: [redacted]');
    expect(leak.message).not.toContain('hunter2');
    // A parser message that would quote the value is masked too.
    await writeFile(secret, ['servers:', '  - name: em-hq', '    password: |hunter2', '      x', ''].join('\n'));
    expect((await errorOf(loadConfig(secret, env))).message).not.toContain('hunter2');
  });

  it('a JSON syntax error shows its line and column too', async () => {
    const file = path.join(dir, 'syntax.json');
    await writeFile(file, '{\n  "servers": []\n  "listen": {}\n}\n');
    const err = await errorOf(loadConfig(file, env));
    expect(err.problems).toEqual([expect.stringMatching(/^JSON syntax error at line 3, column 3: .+ \(syntax\.json\)$/)]);
    expect(err.message).toContain('3 |   "listen": {}\n');
    const secret = path.join(dir, 'secret.json');
    await writeFile(secret, '{\n  "servers": [{ "name": "em", "password": hunter2 }]\n}\n');
    const leak = await errorOf(loadConfig(secret, env));
    expect(leak.problems).toEqual(['JSON syntax error at line 2, column 43: Unexpected token (secret.json)']);
    expect(leak.message).toContain('"password": [redacted]');
    expect(leak.message).not.toContain('hunter2');
  });

  it('reports a LOG_LEVEL the logger would not know, instead of crashing on it', async () => {
    const problems = await problemsOf(parseConfig({ servers: [em] }, { env: { ...env, LOG_LEVEL: 'inf' } }));
    expect(problems).toEqual(['LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "inf" (did you mean "info"?) (environment)']);
  });
});
