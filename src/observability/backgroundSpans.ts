import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { gatewayTracer } from './upstreamSpan.js';

/**
 * Runs `work` as the root span of a trace of its own: work no GraphQL operation asked for (a live
 * poll, a circuit probe), so that its upstream calls, logons included, are traced as its children
 * and an operator sees what the gateway sends while nobody queries. The sampler decides as for any
 * root span. Tracing off: the API's no-op tracer and context manager, nothing recorded, a few
 * function calls. `work` may add attributes to the span; a throw marks it failed and is rethrown.
 */
export async function traceBackground<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  const span = gatewayTracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes, root: true });
  try {
    return await context.with(trace.setSpan(ROOT_CONTEXT, span), () => work(span));
  } catch (err) {
    markFailed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span failed with the error's code (`error.type`), for work that handles its failure itself. */
export function markFailed(span: Span, err: unknown): void {
  const code = (err as { code?: unknown } | undefined)?.code;
  span.setAttributes({ 'error.type': typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown' });
  span.setStatus({ code: SpanStatusCode.ERROR });
}
