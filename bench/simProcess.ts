/**
 * The simulators in their own process, as real Veeam servers would be: `veeam-graph sim` started
 * as a child (node with tsx's loader, exactly what `npm run sim` runs), its one JSON line read
 * from stdout, and its `/_sim` control routes driven over HTTP. A benchmark that uses this
 * measures only the gateway in its own process (CPU, RSS), never the simulators.
 *
 *   const sims = await startSimProcess({ em: 3, vboVersions: ['v8', 'v6'], sessions: 300, seed: 'x', latencyMs: 20 });
 *   await sims.resetStats(); ...; const counts = await sims.requestsPerServer(); await sims.close();
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseConfig, type GatewayConfig } from '../src/config/loadConfig.js';
import type { FaultOptions } from '../src/sim/Faults.js';
import type { RequestStats } from '../src/sim/RequestLog.js';
import type { SimulatorsDescription, StartSimulatorsOptions } from '../src/sim/startSimulators.js';
import { procCpuMs, simConfigServers } from './serveProcess.js';

/** One simulated server as `veeam-graph sim` describes it (`{name, kind, url, apiVersion?, username, password}`). */
export type SimDescriptor = SimulatorsDescription['servers'][number];

/** `GET /_sim/stats` of one server: the request log's counters plus the API's own extras. */
export type SimStats = RequestStats & { activeSessions?: number; activeTokens?: number };

export interface SimProcessOptions {
  /** Enterprise Manager servers (`--em`). Default 3. */
  em?: number;
  /** VB365 API versions, one server each (`--vbo-versions`). Default `['v8', 'v6']`. */
  vboVersions?: string[];
  /** Restore sessions per server (`--sessions`). Default 300. */
  sessions?: number;
  seed?: string | number;
  /** Initial latency of every server (`--latency`); change it later with {@link SimProcess.setFaults}. */
  latencyMs?: number;
  jitterMs?: number;
  /** Bound on the start (tsx compile + world generation), ms. Default 60000. */
  startTimeoutMs?: number;
  /**
   * World options (`world.live`...), which `veeam-graph sim` has no flag for: when given, the child
   * runs a few lines of `--eval` that call `startSimulators` with the same options and print the
   * same JSON line (see {@link simEvalEntry}); without it the child is `veeam-graph sim` as always.
   */
  world?: StartSimulatorsOptions['world'];
}

export interface SimProcess {
  /** Pid of the simulator process (node itself, no wrapper). */
  readonly pid: number;
  readonly servers: readonly SimDescriptor[];
  /** `http://127.0.0.1:PORT/_sim` of a server. */
  controlUrl(name: string): string;
  /** `GET /_sim/stats` of every server, by name. */
  stats(): Promise<Record<string, SimStats>>;
  /** `POST /_sim/stats/reset` on every server. */
  resetStats(): Promise<void>;
  /** `POST /_sim/faults` on one server, or on every server with `'*'`; knobs left out keep their value. */
  setFaults(name: string, faults: FaultOptions): Promise<void>;
  /** `DELETE /_sim/faults` on every server: no latency, no rules. */
  clearFaults(): Promise<void>;
  /** Requests since the last reset, logons and logoffs excluded ({@link isAuthTemplate}), by server. */
  requestsPerServer(): Promise<Record<string, number>>;
  /** Logon requests since the last reset (EM `POST /api/sessionMngr` + `GET /api/`, VB365 `POST /vN/token`), by server. */
  logonsPerServer(): Promise<Record<string, number>>;
  /** CPU time the simulator process has used so far (user + system, ms), from /proc; undefined where there is none. */
  cpuMs(): Promise<number | undefined>;
  /** SIGTERM, then wait for the exit (SIGKILL after `boundMs`). Idempotent. */
  close(boundMs?: number): Promise<void>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The logon traffic of a route template (`METHOD template` as `/_sim/stats` keys it): EM
 * `POST /api/sessionMngr` and the unauthenticated `GET /api/` version probe, VB365
 * `POST /vN/token`. Logoff / logout (`DELETE /api/logonSessions/{id}`, `POST /vN/token/logout`)
 * count as logon traffic too: they only happen when a gateway closes. This is what bench/graph.ts
 * has always excluded (it excluded every POST and `GET /api/`; the gateway sends no other POST).
 */
export function isAuthTemplate(template: string): boolean {
  return /^POST \/api\/sessionMngr$|^GET \/api\/$|^POST \/v\d+\/token(\/logout)?$|^DELETE \/api\/logonSessions\/\{id\}$/.test(template);
}

/** Only the logons themselves (what a cold query pays once per server). */
export function isLogonTemplate(template: string): boolean {
  return /^POST \/api\/sessionMngr$|^GET \/api\/$|^POST \/v\d+\/token$/.test(template);
}

/** Requests whose template matches, by server. */
export function countRequests(stats: Record<string, SimStats>, match: (template: string) => boolean): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stats).map(([name, s]) => [name, Object.entries(s.byTemplate).reduce((n, [template, count]) => n + (match(template) ? count : 0), 0)]),
  );
}

export const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * The child's code when {@link SimProcessOptions.world} is given: what `veeam-graph sim` does
 * (start, print `describe()` as one line, close on a stop signal), with the options as JSON.
 */
function simEvalEntry(options: StartSimulatorsOptions): string {
  const module = new URL('../src/sim/startSimulators.ts', import.meta.url).href;
  return [
    `const { startSimulators } = await import(${JSON.stringify(module)});`,
    `const sims = await startSimulators(${JSON.stringify(options)});`,
    `process.stdout.write(JSON.stringify(sims.describe()) + '\\n');`,
    `let closing = false;`,
    `for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {`,
    `  if (closing) return; closing = true;`,
    `  sims.close().finally(() => process.exit(0));`,
    `});`,
  ].join('\n');
}

/** Starts `veeam-graph sim` as a child process and resolves once it printed its servers. */
export async function startSimProcess(options: SimProcessOptions = {}): Promise<SimProcess> {
  const evalArgs = (world: NonNullable<SimProcessOptions['world']>): string[] => [
    '--import',
    'tsx',
    '--input-type=module',
    '--eval',
    simEvalEntry({
      em: options.em ?? 3,
      vbo: (options.vboVersions ?? ['v8', 'v6']) as NonNullable<StartSimulatorsOptions['vbo']>,
      sessionsPerServer: options.sessions ?? 300,
      seed: options.seed ?? 1,
      faults: { latencyMs: options.latencyMs ?? 0, jitterMs: options.jitterMs ?? 0 },
      host: '127.0.0.1',
      world,
    }),
  ];
  const simArgs = [
    '--import',
    'tsx',
    'src/main.ts',
    'sim',
    '--em',
    String(options.em ?? 3),
    '--vbo-versions',
    (options.vboVersions ?? ['v8', 'v6']).join(','),
    '--sessions',
    String(options.sessions ?? 300),
    '--seed',
    String(options.seed ?? 1),
    '--latency',
    String(options.latencyMs ?? 0),
    '--jitter',
    String(options.jitterMs ?? 0),
    '--host',
    '127.0.0.1',
  ];
  const args = options.world === undefined ? simArgs : evalArgs(options.world);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // If the benchmark dies (an uncaught error ends the process), the simulators die with it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const lines = createInterface({ input: child.stdout });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`simulators did not start within ${options.startTimeoutMs ?? 60_000} ms`)),
      options.startTimeoutMs ?? 60_000,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`simulator process exited (${code}) before describing its servers:\n${stderrTail}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw err;
  });
  // Later stdout lines (none expected) are drained so the pipe never fills.
  lines.on('line', () => undefined);

  let servers: SimDescriptor[];
  try {
    servers = (JSON.parse(firstLine) as SimulatorsDescription).servers;
  } catch {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw new Error(`simulator process printed no JSON first line: ${firstLine.slice(0, 200)}`);
  }
  const byName = new Map(servers.map((s) => [s.name, s]));
  const controlUrl = (name: string): string => {
    const s = byName.get(name);
    if (!s) throw new Error(`no simulated server named ${name}`);
    return `${new URL(s.url).origin}/_sim`;
  };
  const control = async (name: string, method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${controlUrl(name)}${path}`, {
      method,
      signal: AbortSignal.timeout(10_000),
      ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${controlUrl(name)}${path} -> HTTP ${res.status}: ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  const each = (fn: (name: string) => Promise<unknown>) => Promise.all(servers.map((s) => fn(s.name)));
  const stats = async (): Promise<Record<string, SimStats>> => {
    const all = await each((name) => control(name, 'GET', '/stats'));
    return Object.fromEntries(servers.map((s, i) => [s.name, all[i] as SimStats]));
  };

  let closing: Promise<void> | undefined;
  return {
    pid: child.pid!,
    servers,
    controlUrl,
    stats,
    resetStats: async () => {
      await each((name) => control(name, 'POST', '/stats/reset'));
    },
    setFaults: async (name, faults) => {
      if (name === '*') await each((n) => control(n, 'POST', '/faults', faults));
      else await control(name, 'POST', '/faults', faults);
    },
    clearFaults: async () => {
      await each((name) => control(name, 'DELETE', '/faults'));
    },
    requestsPerServer: async () => countRequests(await stats(), (t) => !isAuthTemplate(t)),
    logonsPerServer: async () => countRequests(await stats(), isLogonTemplate),
    cpuMs: () => procCpuMs(child.pid!),
    close: (boundMs = 15_000) => {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
          await exited;
          clearTimeout(timer);
        }
        process.off('exit', killOnExit);
      })();
      return closing;
    },
  };
}

/**
 * A gateway config for simulated servers, built in code as `src/cli/runDemo.ts` does (passwords as
 * `{ env }` secrets, by `simConfigServers` of bench/serveProcess.ts), listening on a free loopback
 * port; `extra` adds top-level keys (`cache`...). The plain-http warnings are dropped: loopback
 * simulators are http by design.
 */
export async function simGatewayConfig(
  servers: readonly SimDescriptor[],
  options: { format?: 'xml' | 'json'; extra?: Record<string, unknown> } = {},
): Promise<GatewayConfig> {
  const env: NodeJS.ProcessEnv = {};
  const config = await parseConfig(
    {
      listen: { host: '127.0.0.1', port: 0 },
      ...options.extra,
      servers: simConfigServers(servers, env, options.format),
    },
    { env },
  );
  config.warnings.splice(0);
  return config;
}
