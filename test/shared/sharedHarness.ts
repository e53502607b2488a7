import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { RedisConnection, type RedisSettings, type RedisTimeouts } from '../../src/sources/shared/RedisConnection.js';

/** One parsed pino line. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger (debug) writing into memory: `raw` holds the exact text written. */
export function captureLogs(): { logger: Logger; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      const text = String(chunk);
      raw.push(text);
      lines.push(JSON.parse(text) as LogLine);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, raw };
}

/** Resolves once `predicate()` holds, polled every 10 ms; rejects after `timeoutMs` with `what`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Test timeouts: the defaults, with the reconnect backoff capped low so a restart is seen quickly. */
export const TEST_TIMEOUTS: Partial<RedisTimeouts> = { reconnectMaxMs: 200 };

/** Connections opened by a test file, closed by {@link closeAll}. */
const open: RedisConnection[] = [];

/** A connection that is up (waits for it, at most 5 s). */
export async function connect(
  url: string,
  keyPrefix: string,
  extra: Partial<RedisSettings> = {},
  logger: Logger = pino({ level: 'silent' }),
): Promise<RedisConnection> {
  const connection = new RedisConnection({ url, keyPrefix, ...extra }, { logger, timeouts: TEST_TIMEOUTS });
  open.push(connection);
  if (!(await connection.whenUp(5000))) throw new Error(`redis at ${url} did not come up`);
  return connection;
}

/** A connection, not waited for. */
export function connection(url: string, keyPrefix: string, logger: Logger = pino({ level: 'silent' }), extra: Partial<RedisSettings> = {}): RedisConnection {
  const c = new RedisConnection({ url, keyPrefix, ...extra }, { logger, timeouts: TEST_TIMEOUTS });
  open.push(c);
  return c;
}

export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((c) => c.close()));
}
