/**
 * `veeam-graph serve` as a child process of a bench (bench/live.ts, bench/replicas.ts), so what
 * the bench measures of it (memory, CPU, `/metrics`) is the gateway's alone and not shared with the
 * load generator. Not a benchmark itself: the benches import it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { SimulatorsDescription } from '../src/sim/startSimulators.js';

/** The repository root: `src/main.ts` and the `tsx` loader are resolved from there, wherever the bench was started. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * CPU time of a process so far (user + system, ms), from /proc; undefined where there is none
 * (not Linux, or the process is gone). In /proc/PID/stat the second field (the command) is in
 * parentheses and may hold spaces, so the fields are counted from the last `)`: utime and stime
 * (fields 14 and 15) are then at 11 and 12, in clock ticks (USER_HZ, 100 on Linux).
 */
export async function procCpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/**
 * The `servers` of a config for the simulators (`SimDescriptor`s of bench/simProcess.ts, typed
 * from src/sim so that this module imports nothing of simProcess). Passwords go in as
 * `{ env: VAR }` secrets, each variable set in `env` (the child's environment), so the config file
 * on disk holds none and the gateway resolves them as it would in production. `format`, when
 * given, is every EM server's; left out, the entries have none (the gateway's default, xml).
 */
export function simConfigServers(servers: readonly SimulatorsDescription['servers'][number][], env: NodeJS.ProcessEnv, format?: 'xml' | 'json') {
  return servers.map((s) => {
    const variable = `SIM_${s.name.replace(/\W/g, '_').toUpperCase()}_PASSWORD`;
    env[variable] = s.password;
    const common = { name: s.name, kind: s.kind, url: s.url, username: s.username, password: { env: variable } };
    return s.kind === 'enterprise-manager' ? { ...common, ...(format && { format }) } : { ...common, apiVersion: s.apiVersion ?? 'v8' };
  });
}

export interface ServeProcess {
  child: ChildProcessByStdio<null, null, Readable>;
  /** What the child printed in its `veeam-graph listening on URL` line. */
  url: string;
  /** The inspector's WebSocket URL (`Debugger listening on ws://…`), when the child runs with one. */
  inspectorUrl?: string;
  /** Resolves when the child has exited. */
  exited: Promise<void>;
  /** SIGTERM, SIGKILL if it has not exited 20 s later; resolves once it has exited. Called again, the same promise. */
  stop(): Promise<void>;
}

/**
 * Spawns `node [--inspect=127.0.0.1:0] --import tsx src/main.ts serve ARGS` and resolves once it
 * prints `veeam-graph listening on URL` on stderr (at every log level). Rejects, after a SIGKILL,
 * if it exits first or does not listen within `timeoutMs`; the message starts with `what` ("the
 * gateway", "a replica") and ends with the last 4,000 characters of its stderr, the reason it failed.
 */
export async function spawnServe(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; inspect?: boolean; timeoutMs: number; what: string },
): Promise<ServeProcess> {
  // Port 0 for the inspector too: several children (and the tests) may run at once.
  const argv = [...(options.inspect ? ['--inspect=127.0.0.1:0'] : []), '--import', 'tsx', 'src/main.ts', 'serve', ...args];
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });
  // A bench that throws or is interrupted must not leave a gateway running (and holding its port).
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderrTail = '';
  let inspectorUrl: string | undefined;
  // Read to the end, not only until it listens: a stderr pipe nobody drains fills up and blocks the child.
  const lines = createInterface({ input: child.stderr });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.what} did not listen within ${options.timeoutMs / 1000} s:\n${stderrTail}`)), options.timeoutMs);
    lines.on('line', (line) => {
      stderrTail = `${stderrTail}${line}\n`.slice(-4000);
      const debug = /Debugger listening on (ws:\/\/\S+)/.exec(line);
      if (debug) inspectorUrl = debug[1];
      const listening = /veeam-graph listening on (\S+)/.exec(line);
      if (listening) {
        clearTimeout(timer);
        resolve(listening[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${options.what} exited before listening:\n${stderrTail}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw err;
  });
  let stopping: Promise<void> | undefined;
  return {
    child,
    url,
    ...(inspectorUrl !== undefined && { inspectorUrl }),
    exited,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          // SIGTERM first: in-flight queries finish and EM sessions are logged off; SIGKILL only if that hangs.
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          await exited;
          clearTimeout(timer);
        }
        process.off('exit', killOnExit);
      })();
      return stopping;
    },
  };
}
