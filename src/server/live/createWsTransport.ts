import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SubscriptionGate } from './subscriptionGate.js';
import type { FormattedResult } from './redactResult.js';

/** What the WebSocket transport needs besides the gate. */
export interface WsTransportOptions {
  path: string;
  gate: SubscriptionGate;
  /** Ping interval, ms (`live.heartbeatMs`); a peer that misses a pong is dropped. */
  heartbeatMs: number;
  /** Whether a browser page of this origin may connect (WebSockets know no CORS). */
  originAllowed(origin: string | undefined, host: string | undefined): boolean;
  /** The gateway's error formatting and redaction of one result, as for `/graphql`. */
  formatResult(result: FormattedResult, contextValue: unknown): FormattedResult;
  logger: Logger;
}

/** Close code and reason of a client cut off for not reading its events (RFC 6455 1008: policy violation). */
export const SLOW_CONSUMER_CLOSE = 1008;

/** The WebSocket side of the gateway: the HTTP server hands it its `upgrade` requests. */
export interface WsTransport {
  /** One `upgrade` request of the HTTP server (another path is refused). */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  connections(): number;
  /**
   * Closes every connection with `code` (1001 going away at shutdown, 1012 service restart at a
   * config reload: graphql-ws clients reconnect after both) and stops the server.
   */
  close(code?: number, reason?: string): Promise<void>;
}

/**
 * GraphQL over WebSocket (`graphql-transport-ws`, the `graphql-ws` library on `ws`) on the
 * gateway's own HTTP server and path (its `upgrade` requests), so Apollo Client, urql, Relay and GraphiQL subscribe
 * without custom code. The credential comes in `connection_init`'s payload (`Authorization`,
 * browsers cannot set headers on a WebSocket) or the upgrade request's header; a connection
 * without a valid one is closed (4403), and every operation passes the gate again.
 */
export function createWsTransport(options: WsTransportOptions): WsTransport {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== options.path) return void socket.destroy();
    // A page of another origin could otherwise read the gateway through the user's browser (no CORS for WebSockets).
    if (!options.originAllowed(req.headers.origin, req.headers.host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };

  type Extra = {
    socket: WebSocket;
    request: http.IncomingMessage;
    credential?: string;
    operations?: Map<string, () => void>;
  };
  const credentialOf = (params: Readonly<Record<string, unknown>> | undefined, request: http.IncomingMessage): string | undefined => {
    const fromParams = params?.Authorization ?? params?.authorization;
    if (typeof fromParams === 'string') return fromParams;
    return request.headers.authorization;
  };

  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      onConnect: async (ctx) => {
        const extra = ctx.extra as Extra;
        const credential = credentialOf(ctx.connectionParams, extra.request);
        const probe = await options.gate.prepare(credential, { query: '{ __typename }' }, { operations: 0, close: () => undefined });
        if (!probe.ok) {
          options.logger.info({ reason: probe.errors[0]?.extensions.code }, 'WebSocket connection refused');
          return false;
        }
        probe.release();
        extra.credential = credential;
        extra.operations = new Map();
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const extra = ctx.extra as Extra;
        const prepared = await options.gate.prepare(extra.credential, payload, {
          operations: extra.operations!.size,
          close: (reason) => {
            options.logger.warn({ reason }, 'WebSocket subscriber cut off');
            extra.socket.close(SLOW_CONSUMER_CLOSE, reason);
          },
        });
        if (!prepared.ok) return prepared.errors as readonly GraphQLError[];
        extra.operations!.set(id, prepared.release);
        return prepared.args;
      },
      // One execution per event for all subscriptions of the same document and variables.
      subscribe: (args) => options.gate.subscribe(args),
      onNext: (_ctx, _id, _payload, args, result) => options.formatResult(result as FormattedResult, args.contextValue) as never,
      onComplete: (ctx, id) => {
        const extra = ctx.extra as Extra;
        extra.operations?.get(id)?.();
        extra.operations?.delete(id);
      },
      onClose: (ctx) => {
        const extra = ctx.extra as Extra;
        for (const release of extra.operations?.values() ?? []) release();
        extra.operations?.clear();
      },
    },
    wss,
    options.heartbeatMs,
  );
  return {
    handleUpgrade: onUpgrade,
    connections: () => wss.clients.size,
    async close(code = 1001, reason = 'server shutting down') {
      for (const client of wss.clients) client.close(code, reason);
      await disposable.dispose();
    },
  };
}
