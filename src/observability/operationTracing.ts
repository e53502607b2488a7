import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { currentOperation, flushCacheOutcomes, OPERATION, type OperationState } from './cacheSpans.js';
import { gatewayTracer } from './upstreamSpan.js';

/** A GraphQL name, bounded: anything else a client sends as `operationName` is not recorded. */
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;
const MAX_CODES = 20;

function endOnce(op: OperationState): void {
  if (op.ended) return;
  flushCacheOutcomes(op);
  op.ended = true;
  op.span.end();
}

/**
 * Express middleware in front of Apollo's: starts the operation's SERVER span, continuing the
 * caller's W3C `traceparent` (and `tracestate`) when there is one, and runs the rest of the request
 * with that span active. Everything Apollo runs from here on (parse, validation, resolvers,
 * DataLoader batches, the memory layer's single flights, got) sees it as the active span through
 * AsyncLocalStorage. It sits after the body parser: a body parser's stream callbacks would run in
 * the socket's context, not this one. The span is named and given its attributes by
 * {@link createOperationTracingPlugin}, and ended when the response is ready (or the connection
 * closes before that).
 */
export function createOperationTracingMiddleware(): RequestHandler {
  const propagator = new W3CTraceContextPropagator();
  return (req: Request, res: Response, next: NextFunction) => {
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const span = gatewayTracer().startSpan(
      'graphql.operation',
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': req.baseUrl || '/graphql' } },
      parent,
    );
    const op: OperationState = { span, ended: false };
    res.once('close', () => endOnce(op));
    context.with(trace.setSpan(parent, span).setValue(OPERATION, op), next);
  };
}

function outcomeOf(ctx: GraphQLRequestContextWillSendResponse<BaseContext>): { outcome: string; codes: string[]; count: number } {
  const body = ctx.response.body;
  const result = body.kind === 'single' ? body.singleResult : body.initialResult;
  const errors = result.errors ?? [];
  const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN').slice(0, 64)))].sort().slice(0, MAX_CODES);
  if (errors.length === 0) return { outcome: 'success', codes, count: 0 };
  // Parse, validation, cost and variable errors stop a request before execution: no `data` at all.
  if (result.data === undefined) return { outcome: 'rejected', codes, count: errors.length };
  return { outcome: result.data ? 'partial' : 'error', codes, count: errors.length };
}

/**
 * Names and describes the operation span of {@link createOperationTracingMiddleware}, once, as
 * the response is ready (`willSendResponse`, one hook: every hook is a promise per request):
 * `graphql.operation <name>` (or `graphql.operation <type>` for an anonymous one), with
 * `graphql.operation.name`, `graphql.operation.type`, `graphql.document.sha256` (Apollo's
 * `queryHash`: the SHA-256 of the document, the same hash APQ and the allowlist use; never the
 * document or its variables), `graphql.outcome` (success, partial, error, rejected),
 * `graphql.error.codes` and `graphql.error.count`, `http.response.status_code`, and the memory
 * layer's `veeam.cache.*` totals. Then ends it. A request without such a span costs one lookup.
 */
export function createOperationTracingPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      const op = currentOperation();
      if (op === undefined) return undefined;
      const span = op.span;
      return {
        async willSendResponse(ctx) {
          const type = ctx.operation?.operation;
          const name = typeof ctx.operationName === 'string' && NAME.test(ctx.operationName) ? ctx.operationName : undefined;
          const { outcome, codes, count } = outcomeOf(ctx);
          span.updateName(`graphql.operation ${name ?? type ?? 'unknown'}`);
          span.setAttributes({
            ...(type !== undefined && { 'graphql.operation.type': type }),
            ...(name !== undefined && { 'graphql.operation.name': name }),
            'graphql.document.sha256': ctx.queryHash,
            'graphql.outcome': outcome,
            'http.response.status_code': ctx.response.http.status ?? 200,
            ...(count > 0 && { 'graphql.error.codes': codes, 'graphql.error.count': count }),
          });
          if (outcome === 'error' || outcome === 'rejected') span.setStatus({ code: SpanStatusCode.ERROR });
          endOnce(op);
        },
      };
    },
  };
}
