/** A mistake in how the CLI was called: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses an integer flag value, naming the flag when it is not one. */
export function parseIntegerFlag(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) throw new UsageError(`${flag}: expected an integer >= ${min}, got "${value}"`);
  return Number(value);
}

/** Resolves after SIGINT or SIGTERM, once `cleanup` has run (bounded, so a stuck close cannot keep the process). */
export function waitForShutdown(cleanup: () => Promise<void>, boundMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stderr.write(`${signal}: shutting down\n`);
      const timer = setTimeout(resolve, boundMs);
      timer.unref();
      cleanup().finally(() => {
        clearTimeout(timer);
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
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
