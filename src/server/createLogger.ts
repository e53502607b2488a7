import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { UPSTREAM_REDACT_PATHS } from '../upstream/http/upstreamLogger.js';
import { traceLogFields } from '../observability/logFields.js';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** pino level: fatal, error, warn, info, debug, trace or silent. Default `info`. */
  level?: string;
  /** Where lines go. Default stdout: pretty when it is a TTY, JSON lines otherwise. */
  destination?: DestinationStream;
  /** Force pretty (true) or JSON (false) output (`--log-format`, `LOG_FORMAT`); default: pretty only on a TTY. */
  pretty?: boolean;
}

/**
 * Paths censored in every gateway log line. Client request headers are logged on errors, and a
 * browser's cookie or an `Authorization` header meant for a federation router must not reach logs;
 * the upstream paths cover credentials and tokens wherever a logged object carries them.
 */
export const GATEWAY_REDACT_PATHS: readonly string[] = [
  ...UPSTREAM_REDACT_PATHS,
  'req.headers.authorization',
  'req.headers.cookie',
  'cursorSecret',
  '*.cursorSecret',
];

/**
 * pino's error serializer for real errors (type, message, stack, own fields), without an empty
 * `stack`; anything else logged as `err` (an upstream error's `toJSON()`, say) as it is. pino would
 * give such a plain object `type: "Object"` and `stack: ""`, which pino-pretty prints as an empty
 * stack block.
 */
export function serializeErr(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = pino.stdSerializers.err(err) as { stack?: string };
  if (!out.stack?.trim()) delete out.stack;
  return out;
}

/**
 * The gateway's root logger. Pretty output is for people at a terminal; anything else (a
 * container log collector, a file, a pipe) gets one JSON object per line. pino-pretty runs in
 * process (not as a worker transport) so the CLI works the same from tsx and from dist.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: [...GATEWAY_REDACT_PATHS], censor: '[REDACTED]' },
    base: { name: 'veeam-graph' },
    serializers: { err: serializeErr },
    // `trace_id`/`span_id` while a span is active (tracing on); nothing otherwise.
    mixin: traceLogFields,
  };
  if (options.destination) return pino(base, options.destination);
  const tty = process.stdout.isTTY === true;
  if (options.pretty ?? tty) {
    // Only `err` gets pino-pretty's multi-line error block (with its stack); `{ code, message }`
    // objects such as a source's `error` stay on the line. Colours only on a terminal.
    const stream = pretty({
      colorize: tty,
      sync: true,
      singleLine: true,
      errorLikeObjectKeys: ['err'],
      ignore: 'pid,hostname,name',
      translateTime: 'SYS:HH:MM:ss.l',
    });
    return pino(base, stream);
  }
  return pino(base);
}
