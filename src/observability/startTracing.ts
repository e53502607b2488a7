import { context, diag, DiagLogLevel, trace, type DiagLogger, type TracerProvider } from '@opentelemetry/api';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { packageVersion } from '../upstream/http/userAgent.js';
import { endpointForLog, type TracingSampler, type TracingSettings } from './tracingSettings.js';

/** A running tracing SDK (one per process: it registers the OpenTelemetry API's globals). */
export interface GatewayTracing {
  readonly settings: TracingSettings;
  /** Exports every span that has ended, now (tests; the batch processor otherwise exports every few seconds). */
  flush(): Promise<void>;
  /** Flushes, stops the SDK and unregisters the API's globals (the no-op tracer again). Idempotent; never rejects (a failed export is logged). */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  logger?: Logger;
  /** `service.version`. Default: the package's version. */
  version?: string;
  /** Where spans go instead of the OTLP/HTTP exporter (tests, benchmarks). */
  exporter?: SpanExporter;
  /** Batch processor delay between exports, ms. Default `OTEL_BSP_SCHEDULE_DELAY`, else 5000. */
  scheduledDelayMillis?: number;
  /** How long `shutdown()` waits for the last export, ms (the exporter retries a collector that is down). Default 2000. */
  shutdownTimeoutMs?: number;
  /** How long one export may take, retries included, ms. Default: the exporter's (`OTEL_EXPORTER_OTLP_TIMEOUT`, else 10000). */
  exportTimeoutMs?: number;
}

/** Whether `provider` is the API's global one (the API hands out a proxy; its delegate is the real provider). */
function isRegistered(provider: TracerProvider): boolean {
  const proxy = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  return proxy.getDelegate?.() === provider;
}

/** OpenTelemetry's own diagnostics (export failures...) to pino, warnings and up, without the SDK's stack dumps. */
function diagToPino(logger: Logger): DiagLogger {
  const log = logger.child({ component: 'otel' });
  const text = (message: string, args: unknown[]) =>
    [message, ...args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : ''))].filter(Boolean).join(' ');
  return {
    error: (message, ...args) => log.warn(text(message, args)),
    warn: (message, ...args) => log.warn(text(message, args)),
    info: (message, ...args) => log.debug(text(message, args)),
    debug: () => undefined,
    verbose: () => undefined,
  };
}

/**
 * Starts the tracing SDK: a NodeTracerProvider (AsyncLocalStorage context manager, so the
 * active span follows the request through promises as `requestSignal.ts`'s signal does), a
 * batch span processor and the OTLP/HTTP (JSON) exporter, registered as the API's global
 * provider. The SDK packages are loaded here, on demand: with tracing off none of them is imported.
 *
 * @throws when another tracing SDK is already registered in this process
 */
export async function startTracing(settings: TracingSettings, options: StartTracingOptions = {}): Promise<GatewayTracing> {
  const [
    { NodeTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, AlwaysOnSampler, AlwaysOffSampler },
    resources,
    exporterModule,
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    options.exporter === undefined ? import('@opentelemetry/exporter-trace-otlp-http') : undefined,
  ]);
  const samplerOf = (s: TracingSampler): Sampler => {
    switch (s.kind) {
      case 'always_on':
        return new AlwaysOnSampler();
      case 'always_off':
        return new AlwaysOffSampler();
      case 'traceidratio':
        return new TraceIdRatioBasedSampler(s.ratio);
      case 'parentbased_always_on':
        return new ParentBasedSampler({ root: new AlwaysOnSampler() });
      case 'parentbased_always_off':
        return new ParentBasedSampler({ root: new AlwaysOffSampler() });
      case 'parentbased_traceidratio':
        return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(s.ratio) });
      default: {
        const unhandled: never = s;
        throw new Error(`startTracing: unhandled sampler ${JSON.stringify(unhandled)}`);
      }
    }
  };
  const exporter: SpanExporter =
    options.exporter ??
    new exporterModule!.OTLPTraceExporter({
      url: settings.endpoint,
      headers: { ...settings.headers },
      ...(options.exportTimeoutMs !== undefined && { timeoutMillis: options.exportTimeoutMs }),
    });
  const resource = resources.defaultResource().merge(
    resources.resourceFromAttributes({
      ...settings.resourceAttributes,
      'service.name': settings.serviceName,
      'service.version': options.version ?? packageVersion(),
    }),
  );
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplerOf(settings.sampler),
    // An attribute value is never longer than this (operation names, templates and codes are far shorter).
    spanLimits: { attributeValueLengthLimit: 1024 },
    spanProcessors: [
      new BatchSpanProcessor(exporter, options.scheduledDelayMillis === undefined ? {} : { scheduledDelayMillis: options.scheduledDelayMillis }),
    ],
  });
  // The W3C propagator is used directly by the operation middleware; no global propagator is set.
  provider.register({ propagator: null });
  if (!isRegistered(provider)) {
    await provider.shutdown();
    throw new Error('tracing: another OpenTelemetry tracer provider is already registered in this process');
  }
  if (options.logger !== undefined) {
    diag.setLogger(diagToPino(options.logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    options.logger.info(
      { endpoint: endpointForLog(settings.endpoint), serviceName: settings.serviceName, sampler: settings.sampler, from: settings.from },
      'tracing on: exporting OTLP/HTTP (JSON) spans',
    );
  }

  let stopping: Promise<void> | undefined;
  return {
    settings,
    flush: () => provider.forceFlush(),
    shutdown: () => {
      stopping ??= (async () => {
        try {
          // A collector that is down loses the last spans, not the gateway's shutdown (bounded).
          let timer: NodeJS.Timeout | undefined;
          const bound = new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${options.shutdownTimeoutMs ?? 2000} ms`)), options.shutdownTimeoutMs ?? 2000);
            timer.unref();
          });
          await Promise.race([provider.shutdown(), bound])
            .catch((err: unknown) => {
              options.logger?.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'tracing: the last spans could not be exported');
            })
            .finally(() => clearTimeout(timer));
        } finally {
          if (isRegistered(provider)) {
            trace.disable();
            context.disable();
            diag.disable();
          }
        }
      })();
      return stopping;
    },
  };
}

/**
 * The gateway's own tracing, from its resolved settings: started when there are any, else
 * nothing at all (no SDK loaded). A start that fails (another SDK registered in this process) is
 * logged and the gateway runs untraced.
 */
export async function startConfiguredTracing(settings: TracingSettings | undefined, logger: Logger): Promise<GatewayTracing | undefined> {
  if (settings === undefined) return undefined;
  try {
    return await startTracing(settings, { logger });
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, 'tracing not started; the gateway runs untraced');
    return undefined;
  }
}
