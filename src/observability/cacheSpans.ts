import { context, createContextKey, type Span } from '@opentelemetry/api';

/** What the memory layer decided for one read (its `SourceEvent` outcome). */
export type CacheOutcome = 'hit' | 'miss' | 'stale' | 'coalesced' | 'revalidate';

/** The traced GraphQL operation of the request in progress, carried in the OpenTelemetry context. */
export interface OperationState {
  readonly span: Span;
  ended: boolean;
  /** Outcome totals (`veeam.cache.<outcome>`) and which (server, what, outcome) already has its event. */
  cache?: Map<string, number>;
}

/** Context key of the {@link OperationState} (set by the operation middleware, src/observability/operationTracing.ts). */
export const OPERATION = createContextKey('veeam-graph.operation');

/** The traced operation of the active context, if any (tracing off: none, one lookup in the root context). */
export function currentOperation(): OperationState | undefined {
  return context.active().getValue(OPERATION) as OperationState | undefined;
}

/** Outcomes worth an event of their own (rare, and what explains a trace); hits and misses are only counted. */
const EVENTS: ReadonlySet<CacheOutcome> = new Set(['stale', 'coalesced', 'revalidate']);

/**
 * Records a memory-layer decision on the span of the GraphQL operation that asked, where the
 * memory layer decides it (src/sources/memory/MemorySource.ts):
 * - a total per outcome, written as the attribute `veeam.cache.<outcome>` (`veeam.cache.hit`: 12)
 *   when the operation span ends ({@link flushCacheOutcomes});
 * - for `stale`, `coalesced` and `revalidate`, one event `cache.<outcome>` per server and kind of
 *   read (`veeam.server`, `veeam.cache.what`: `RestoreSessionList`, `BackupServer`...), the first
 *   time it happens in that operation: a batch of 50 lookups is one event, not 50.
 *
 * A `coalesced` read joined a call another request started: that call's upstream span is a child
 * of the FIRST request's operation span (the flight runs in the context of whoever started it),
 * and this request's span only carries the event. Nothing happens outside a traced operation
 * (tracing off, or a read of no request).
 */
export function recordCacheOutcome(server: string, what: string, outcome: CacheOutcome): void {
  const op = currentOperation();
  if (op === undefined || op.ended) return;
  const tally = (op.cache ??= new Map());
  const total = `veeam.cache.${outcome}`;
  tally.set(total, (tally.get(total) ?? 0) + 1);
  if (!EVENTS.has(outcome)) return;
  const event = `${server}\u0000${what}\u0000${outcome}`;
  if (tally.has(event)) return;
  tally.set(event, 1);
  op.span.addEvent(`cache.${outcome}`, { 'veeam.server': server, 'veeam.cache.what': what });
}

/** Writes the outcome totals of an operation as attributes of its span; called as the span ends. */
export function flushCacheOutcomes(op: OperationState): void {
  if (op.cache === undefined) return;
  for (const [key, n] of op.cache) if (key.startsWith('veeam.cache.')) op.span.setAttribute(key, n);
  op.cache = undefined;
}
