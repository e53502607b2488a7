import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * `trace_id` and `span_id` of the active span, for every log line written while one is active (a
 * pino `mixin`): a line of a resolver, of the memory layer or of an upstream call carries the ids
 * of its operation or upstream span, so a trace and its log lines find each other. Nothing when
 * no span is active; with tracing off no context manager is registered and this is one lookup in
 * the root context. Always a new object: pino merges the line's own fields into it.
 */
export function traceLogFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const ids = span.spanContext();
  if (!isSpanContextValid(ids)) return {};
  return { trace_id: ids.traceId, span_id: ids.spanId };
}
