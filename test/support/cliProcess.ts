import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The CLI from source, as `npm start` runs it. */
const tsx = ['--import', 'tsx', path.resolve('src/main.ts')];
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

/** Kills every CLI child still running and removes every temporary directory (call in `afterAll`). */
export async function cleanUpCli(): Promise<void> {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

/** A fresh temporary directory, removed by {@link cleanUpCli}. */
export async function tempDir(prefix = 'vg-cli-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Runs the CLI to completion (for commands that exit by themselves). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [...tsx, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

const LISTENING = /^veeam-graph listening on (https?:\/\/\S+) \(GraphiQL: (https?:\/\/\S+)\)$/m;

/** One JSON log line of a CLI child, and its raw text. */
export interface LogHit {
  line: string;
  entry: Record<string, unknown>;
}

/**
 * Spawns the CLI with `args` and resolves once it printed its "listening on" line (on stderr, at
 * every log level). `stdout()` and `stderr()` are what it printed so far; `stdoutHas(text)`
 * resolves once stdout contains `text`; `logLine(msg, after)` resolves with the first complete JSON
 * log line on stdout whose `msg` is `msg`, skipping the first `after` such lines.
 */
export async function startListening(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [...tsx, ...args], { stdio: 'pipe', env: { ...process.env, ...env } });
  children.push(child);
  // 'close': the exit code once stdout and stderr are drained, so the last lines are in.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = LISTENING.exec(err);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${out}${err}`)));
  });
  const waitFor = <T>(found: () => T | undefined, what: string) =>
    new Promise<T>((resolve, reject) => {
      const look = (): void => {
        const hit = found();
        if (hit !== undefined) {
          child.stdout.off('data', look);
          resolve(hit);
        }
      };
      child.stdout.on('data', look);
      look();
      void exited.then(() => reject(new Error(`exited before printing ${what}: ${out}`)));
    });
  const logLines = (msg: string): LogHit[] =>
    out
      .split('\n')
      .filter((line) => line.startsWith('{') && line.endsWith('}'))
      .map((line) => ({ line, entry: JSON.parse(line) as Record<string, unknown> }))
      .filter((hit) => hit.entry.msg === msg);
  return {
    child,
    exited,
    url,
    stdout: () => out,
    stderr: () => err,
    stdoutHas: (text: string) => waitFor(() => (out.includes(text) ? true : undefined), text),
    logLine: (msg: string, after = 0) => waitFor(() => logLines(msg)[after], msg),
  };
}
