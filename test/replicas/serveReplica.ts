import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

/** One JSON log line of a `serve` child (pino), with when this process read it. */
export interface LogLine {
  msg: string;
  /** `performance.now()` of this process when the line was read. */
  readAt: number;
  [key: string]: unknown;
}

/** A `veeam-graph serve` child process. */
export interface Replica {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly graphqlUrl: string;
  readonly wsUrl: string;
  /** Every JSON log line so far, in order. */
  readonly lines: LogLine[];
  /** Resolves with the first line at index `from` or later for which `match` holds (rejects if the child exits first). */
  waitForLine(match: (line: LogLine) => boolean, from?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal) once the child is gone. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** SIGKILL (an outage: no graceful stop) and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after `boundMs`). */
  stop(boundMs?: number): Promise<void>;
}

const MAIN = path.resolve('src/main.ts');

/**
 * Spawns `node --import tsx src/main.ts serve --config FILE --port 0` with JSON logs at
 * `logLevel`, and resolves once it logged "gateway listening" (its URL).
 */
export async function startReplica(name: string, configFile: string, options: { logLevel?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Replica> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--config', configFile, '--port', '0', '--log-format', 'json'], {
    stdio: 'pipe',
    env: { ...process.env, ...options.env, LOG_LEVEL: options.logLevel ?? 'info' },
  });
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; from: number; resolve: (l: LogLine) => void }>();
  let pending = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    const readAt = performance.now();
    for (const text of parts) {
      if (!text.startsWith('{')) continue;
      let line: LogLine;
      try {
        line = { ...(JSON.parse(text) as { msg: string }), readAt };
      } catch {
        continue;
      }
      lines.push(line);
      const index = lines.length - 1;
      for (const w of [...waiters]) {
        if (index >= w.from && w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const waitForLine = (match: (l: LogLine) => boolean, from = 0): Promise<LogLine> => {
    const found = lines.slice(from).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      waiters.add({ match, from, resolve });
      void exited.then((code) => reject(new Error(`replica ${name} exited (${code}) while waiting for a log line:\n${stderr}`)));
    });
  };
  const listening = await waitForLine((l) => l.msg === 'gateway listening');
  const url = String(listening.url);
  const graphqlUrl = `${url}/graphql`;
  const gone = async (signal: NodeJS.Signals, boundMs: number) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
      await exited;
      clearTimeout(timer);
    }
  };
  return {
    name,
    child,
    url,
    graphqlUrl,
    wsUrl: graphqlUrl.replace(/^http/, 'ws'),
    lines,
    waitForLine,
    exited,
    kill: () => gone('SIGKILL', 0),
    stop: (boundMs = 5000) => gone('SIGTERM', boundMs),
  };
}

/** The answer of one GraphQL POST, with its HTTP status. */
export interface GqlAnswer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export async function gql(replica: Pick<Replica, 'graphqlUrl'>, query: string, variables?: Record<string, unknown>): Promise<GqlAnswer> {
  const res = await fetch(replica.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, ...(variables !== undefined && { variables }) }),
  });
  const body = (await res.json()) as Omit<GqlAnswer, 'status'>;
  return { status: res.status, ...body };
}

/** `/readyz` of a replica. */
export async function readyz(replica: Pick<Replica, 'url'>): Promise<{ ready: boolean; store?: { kind: string; status: string } }> {
  return (await (await fetch(`${replica.url}/readyz`)).json()) as { ready: boolean; store?: { kind: string; status: string } };
}

/** One gauge of `/metrics` (the sum of its series). */
export async function gauge(replica: Pick<Replica, 'url'>, name: string): Promise<number> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

/**
 * Resolves once `check()` holds; checked every `everyMs`, at most `tries` times (a bound in
 * tries, not a sleep: it returns as soon as the condition holds).
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, tries = 1000, everyMs = 10): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`never happened: ${what}`);
}
