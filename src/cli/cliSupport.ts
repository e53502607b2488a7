import { LOG_LEVELS, closestMatch } from '../config/loadConfig.js';

/** A mistake in how the CLI was called: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses an integer flag value, naming the flag when it is not one. */
export function parseIntegerFlag(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) throw new UsageError(`${flag}: expected an integer >= ${min}, got "${value}"`);
  return Number(value);
}

/** Parses a port flag: 0 (a free port) to 65535. */
export function parsePortFlag(flag: string, value: string): number {
  const port = parseIntegerFlag(flag, value, 0);
  if (port > 65535) throw new UsageError(`${flag}: expected a port number 0..65535, got "${value}"`);
  return port;
}

/** Parses `--log-level`: one of the config's `logLevel` values. */
export function parseLogLevelFlag(value: string): string {
  if (LOG_LEVELS.includes(value)) return value;
  const suggestion = closestMatch(value, LOG_LEVELS);
  throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${value}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`);
}

/**
 * The log format from `--log-format` (wins) or `LOG_FORMAT`: true for pretty, false for JSON,
 * undefined when neither is set (pretty on a TTY, JSON otherwise).
 */
export function logFormatOf(flag: string | undefined, env: NodeJS.ProcessEnv): boolean | undefined {
  const [value, source] = flag !== undefined ? [flag, '--log-format'] : [env.LOG_FORMAT || undefined, 'LOG_FORMAT'];
  if (value === undefined) return undefined;
  if (value === 'pretty' || value === 'json') return value === 'pretty';
  const message = `${source}: expected json or pretty, got "${value}"`;
  throw flag !== undefined ? new UsageError(message) : new CliError(`${message} (environment)`, 2);
}

/** The config file: `--config`, else `VEEAM_GRAPH_CONFIG`. */
export function configFileOf(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const file = flag ?? (env.VEEAM_GRAPH_CONFIG || undefined);
  if (!file) throw new UsageError('--config FILE is required (or set VEEAM_GRAPH_CONFIG)');
  return file;
}

/**
 * The one line that says where the gateway listens, outside the logger (on stderr, so stdout stays
 * JSON lines), printed at every log level, `silent` included.
 */
export function announceListening(url: string, graphiqlUrl: string): void {
  process.stderr.write(`veeam-graph listening on ${url} (GraphiQL: ${graphiqlUrl})\n`);
}

/** The signals that stop a command gracefully. SIGHUP too (for `demo`): Node's default for it is to exit at once. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The stop signals, caught from the moment {@link trapStopSignals} returns until `release()`. */
export interface StopTrap {
  /** The first stop signal received. */
  received: Promise<NodeJS.Signals>;
  /** Gives the signals back to Node's defaults. */
  release(): void;
}

/**
 * Catches SIGINT, SIGTERM and SIGHUP from now on. Set it before starting anything: a signal that
 * arrives while the command starts (after it printed its URL, say) is then a graceful stop, not
 * Node's default of dying on the spot. Signals after the first one are noted, never fatal.
 */
export function trapStopSignals(signals: readonly NodeJS.Signals[] = STOP_SIGNALS): StopTrap {
  let first: NodeJS.Signals | undefined;
  let resolve!: (signal: NodeJS.Signals) => void;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (first !== undefined) {
      process.stderr.write(`${signal}: already shutting down\n`);
      return;
    }
    first = signal;
    resolve(signal);
  };
  for (const s of signals) process.on(s, onSignal);
  return { received, release: () => signals.forEach((s) => process.off(s, onSignal)) };
}

/**
 * Resolves after SIGINT, SIGTERM or SIGHUP (caught by `trap`, a new one by default), once
 * `cleanup` has run (bounded, so a stuck close cannot keep the process).
 */
export async function waitForShutdown(cleanup: () => Promise<void>, boundMs = 10_000, trap: StopTrap = trapStopSignals()): Promise<void> {
  try {
    const signal = await trap.received;
    process.stderr.write(`${signal}: shutting down\n`);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, boundMs);
      timer.unref();
    });
    const closed = cleanup().catch((err: unknown) => {
      process.stderr.write(`shutdown: ${err instanceof Error ? err.message : String(err)}\n`);
    });
    await Promise.race([closed, bound]);
    clearTimeout(timer);
  } finally {
    trap.release();
  }
}

/** A failure the CLI explains in one line (no stack), with its exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Turns "port in use" and friends into a sentence naming the address and what to do. */
export function listenError(err: unknown, host: string, port: number, hint: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CliError(`cannot listen on ${host}:${port}: the port is in use (${hint})`);
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES') return new CliError(`cannot listen on ${host}:${port}: ${code} (${hint})`);
  return err;
}
