import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A real `redis-server` child process for one test, on 127.0.0.1 and a free port. */
export interface TestRedis {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** SIGTERM and wait for exit (SIGKILL after 2 s). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: an outage, connections drop without a goodbye. */
  kill(): Promise<void>;
  /** Starts it again on the same port (stopping it first if it runs), empty (nothing is saved), and waits for PING. */
  restart(): Promise<void>;
  /** SIGSTOP: the process keeps its sockets but answers nothing (a frozen server). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Extra server arguments, e.g. `['--requirepass', 'secret']`. */
  args?: readonly string[];
  /** Password for the readiness PING when `--requirepass` is among `args`. */
  password?: string;
  /** The server binary. Default `$REDIS_SERVER`, else `redis-server` on PATH. */
  binary?: string;
}

const DEFAULT_BINARY = process.env.REDIS_SERVER ?? 'redis-server';
/** Longest wait for a started server to answer PING. */
const READY_TIMEOUT_MS = 10_000;

const running = new Set<ChildProcess>();
// A test that fails before its afterEach must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const installed = new Set<string>();
function assertInstalled(binary: string): void {
  if (installed.has(binary)) return;
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `${binary} is not installed (or not on PATH): the shared-store tests need a real Redis. ` +
        "Install Debian's redis-server (apt-get install redis-server); .ci/run installs it. " +
        'REDIS_SERVER=/path/to/redis-server overrides the binary.',
    );
  }
  installed.add(binary);
}

/** A port nobody listens on now: bind port 0 on 127.0.0.1, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * PING (after AUTH when a password is given) and INFO over a raw socket: true when the answer is
 * `+PONG` from the process `pid` (not from another server that took the port meanwhile).
 */
function ping(port: number, pid: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => {
      socket.write(`${password !== undefined ? `AUTH ${password}\r\n` : ''}PING\r\nINFO server\r\n`);
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (/^-/m.test(answer)) done(false);
      else if (answer.includes('+PONG') && answer.includes(`process_id:${pid}\r\n`)) done(true);
      else if (answer.includes('+PONG') && /process_id:\d+\r\n/.test(answer)) done(false);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `redis-server` (Debian's, or `$REDIS_SERVER`) on a free port of 127.0.0.1, without
 * persistence, in the foreground, and resolves once it answers PING (polled every 20 ms, at most
 * 10 s; fails at once if the process exits, with its output). The port is found by binding port 0
 * and closing it (redis-server refuses `--port 0`); if another process takes it in between, the
 * start is retried on a new port (3 tries). Stop it in `afterEach`.
 *
 * @throws Error saying how to install redis-server when it is missing
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const binary = options.binary ?? DEFAULT_BINARY;
  assertInstalled(binary);
  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await spawnReady(binary, port, options);
    } catch (err) {
      lastError = err;
    }
  }
  if (child === undefined) throw lastError;

  let current: ChildProcess | undefined = child;
  const signal = async (sig: NodeJS.Signals) => {
    const c = current;
    if (c === undefined) return;
    current = undefined;
    if (c.exitCode === null && c.signalCode === null) {
      c.kill(sig);
      c.kill('SIGCONT'); // a paused server gets its SIGTERM only once it runs again
    }
    if (sig === 'SIGTERM') {
      const timer = setTimeout(() => c.kill('SIGKILL'), 2000);
      await exited(c);
      clearTimeout(timer);
    } else {
      await exited(c);
    }
    running.delete(c);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM');
      current = await spawnReady(binary, port, options);
    },
    pause() {
      current?.kill('SIGSTOP');
    },
    resume() {
      current?.kill('SIGCONT');
    },
  };
}

async function spawnReady(binary: string, port: number, options: StartRedisOptions): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.args ?? []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitedEarly = false;
  child.once('exit', () => {
    exitedEarly = true;
    running.delete(child);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitedEarly) throw new Error(`redis-server on port ${port} exited during startup (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`);
    if (await ping(port, child.pid!, options.password)) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
