import type { Request, RequestHandler, Response } from 'express';
import { createHandler } from 'graphql-sse/lib/use/express';
import type { Logger } from 'pino';
import type { SubscriptionGate } from './subscriptionGate.js';
import type { FormattedResult } from './redactResult.js';

/**
 * GraphQL over Server-Sent Events (`graphql-sse`, its distinct-connections mode: one operation per
 * `POST` with `Accept: text/event-stream`), for clients and proxies where WebSockets do not pass.
 * The route's auth middleware has checked the credential already; the gate checks it again with
 * the operation's limits. graphql-sse sends a `:` comment every 12 s (its fixed heartbeat).
 */
export function createSseHandler(options: {
  gate: SubscriptionGate;
  formatResult(result: FormattedResult, contextValue: unknown): FormattedResult;
  logger: Logger;
}): { handle: RequestHandler; close(reason: string): void } {
  const releases = new WeakMap<Request, () => void>();
  const open = new Set<Response>();
  const handler = createHandler({
    // One execution per event for all subscriptions of the same document and variables.
    subscribe: (args) => options.gate.subscribe(args),
    onSubscribe: async (req, params) => {
      const raw = req.raw as Request;
      const res = req.context.res as Response;
      const prepared = await options.gate.prepare(
        raw.headers.authorization,
        { query: String(params.query), variables: params.variables, operationName: params.operationName },
        {
          operations: 0,
          close: (reason) => {
            options.logger.warn({ reason }, 'SSE subscriber cut off');
            if (!res.writableEnded) res.end(`: ${reason}\n\n`);
            res.socket?.destroy();
          },
        },
      );
      if (!prepared.ok) return { errors: prepared.errors };
      releases.set(raw, prepared.release);
      open.add(res);
      res.once('close', () => {
        open.delete(res);
        prepared.release();
      });
      return prepared.args as never;
    },
    // The operation's context is graphql-sse's `ctx` here.
    onNext: (ctx, _req, result) => options.formatResult(result as FormattedResult, ctx) as never,
    onComplete: (_ctx, req) => releases.get(req.raw as Request)?.(),
  });
  return {
    handle: (req, res) => {
      void handler(req, res).catch((err: unknown) => {
        options.logger.error({ err }, 'SSE handler failed');
        if (!res.headersSent) res.status(500).end();
      });
    },
    // Ends every stream (shutdown, config reload); graphql-sse clients retry a stream that ends without `complete`.
    close: (reason) => {
      for (const res of open) {
        if (!res.writableEnded) res.end(`: ${reason}\n\n`);
      }
    },
  };
}
