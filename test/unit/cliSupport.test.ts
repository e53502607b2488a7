import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CliError, UsageError, configFileOf, logFormatOf, parseLogLevelFlag, parsePortFlag } from '../../src/cli/cliSupport.js';
import { packageVersion } from '../../src/cli/version.js';
import { createLogger, serializeErr } from '../../src/server/createLogger.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('packageVersion', () => {
  it('is the version of package.json, from src/ and from a dist/src/ layout', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(packageVersion()).toBe(version);
    expect(packageVersion(path.resolve('src/cli'))).toBe(version);

    // A built tree: dist/src/cli/version.js, with an unrelated package.json in between (e.g. {"type":"module"}).
    const root = await mkdtemp(path.join(os.tmpdir(), 'vg-version-'));
    dirs.push(root);
    await mkdir(path.join(root, 'dist', 'src', 'cli'), { recursive: true });
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'veeam-graph', version: '9.8.7' }));
    await writeFile(path.join(root, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));
    expect(packageVersion(path.join(root, 'dist', 'src', 'cli'))).toBe('9.8.7');
    expect(packageVersion(os.tmpdir())).toBe('unknown');
  });
});

describe('CLI flag helpers', () => {
  it('--log-format wins over LOG_FORMAT; neither means "decide by the terminal"', () => {
    expect(logFormatOf('json', { LOG_FORMAT: 'pretty' })).toBe(false);
    expect(logFormatOf('pretty', {})).toBe(true);
    expect(logFormatOf(undefined, { LOG_FORMAT: 'json' })).toBe(false);
    expect(logFormatOf(undefined, { LOG_FORMAT: '' })).toBeUndefined();
    expect(logFormatOf(undefined, {})).toBeUndefined();
    expect(() => logFormatOf('xml', {})).toThrow(UsageError);
    expect(() => logFormatOf(undefined, { LOG_FORMAT: 'xml' })).toThrow(CliError);
  });

  it('--port takes 0..65535, --log-level the logger levels (with a suggestion)', () => {
    expect(parsePortFlag('--port', '0')).toBe(0);
    expect(parsePortFlag('--port', '65535')).toBe(65535);
    expect(() => parsePortFlag('--port', '65536')).toThrow('--port: expected a port number 0..65535, got "65536"');
    expect(() => parsePortFlag('--port', 'http')).toThrow('--port: expected an integer >= 0, got "http"');
    expect(parseLogLevelFlag('silent')).toBe('silent');
    expect(() => parseLogLevelFlag('warning')).toThrow(UsageError);
    expect(() => parseLogLevelFlag('eror')).toThrow('got "eror" (did you mean "error"?)');
  });

  it('--config wins over VEEAM_GRAPH_CONFIG; an empty variable counts as unset', () => {
    expect(configFileOf('a.yaml', { VEEAM_GRAPH_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(configFileOf(undefined, { VEEAM_GRAPH_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(() => configFileOf(undefined, { VEEAM_GRAPH_CONFIG: '' })).toThrow('--config FILE is required (or set VEEAM_GRAPH_CONFIG)');
  });
});

describe('createLogger: errors', () => {
  function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    return {
      stream,
      lines: () =>
        text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  }

  it('logs a plain error object as it is (no type "Object", no empty stack) and a real error with its stack', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ destination: stream });
    logger.warn({ err: { name: 'UpstreamUnreachableError', code: 'UPSTREAM_UNREACHABLE', message: 'em: down' } }, 'upstream request failed');
    const bare = new Error('no stack');
    bare.stack = '';
    logger.error({ err: bare }, 'bare');
    logger.error({ err: new TypeError('boom') }, 'real');
    const [plain, noStack, real] = lines().map((l) => l.err as Record<string, unknown>);
    expect(plain).toEqual({ name: 'UpstreamUnreachableError', code: 'UPSTREAM_UNREACHABLE', message: 'em: down' });
    expect(noStack).toEqual({ type: 'Error', message: 'no stack' });
    expect(real).toMatchObject({ type: 'TypeError', message: 'boom', stack: expect.stringContaining('TypeError: boom') });
    expect(serializeErr('text')).toBe('text');
  });
});
