import { randomUUID } from 'node:crypto';
import {
  createSourceEventStream,
  execute,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { LiveSettings } from '../../sources/live/liveDefaults.js';
import type { Authenticator } from '../auth/createAuthenticator.js';
import { hasScope, withPrincipal, type Principal } from '../auth/Principal.js';
import type { TokenBucketLimiter } from '../TokenBucket.js';

/** A subscription transport's connection, as the gate sees it. */
export interface GateConnection {
  /** Operations this connection holds now. */
  operations: number;
  /** Closes the connection with a reason the client can read (the slow-consumer cut-off). */
  close(reason: string): void;
}

/** What one GraphQL-over-WebSocket/SSE operation carries. */
export interface OperationPayload {
  query: string;
  variables?: Record<string, unknown> | null | undefined;
  operationName?: string | null | undefined;
}

export interface SubscriptionGateOptions {
  schema: GraphQLSchema;
  authenticator: Authenticator;
  /** The same validation rules as `/graphql` (depth, aliases, directives). */
  validationRules: readonly ValidationRule[];
  /** `limits.maxTokens`. */
  maxTokens: number;
  settings: LiveSettings;
  rateLimit: TokenBucketLimiter | undefined;
  logger: Logger;
  /** The graph's context for one operation. */
  createContext(init: { requestId: string; logger: Logger; revealUpstream: boolean; stream: { queueSize: number; onOverflow(reason: string): void } }): object;
  /** Refuses a document outside the allowlist (trusted documents), or undefined when there is none. */
  allowlisted?: (query: string, principal: Principal) => boolean;
  /**
   * Errors the graph collected beside an event's result while resolving it (servers that failed
   * inside a merged connection, stale answers): appended to the event's `errors`, as the graph's
   * Apollo plugin does for queries.
   */
  eventErrors?: (contextValue: unknown) => readonly GraphQLError[];
  /** Counts an event resolved for a subscriber, executed or shared (`veeam_graph_subscription_event_executions_total`). */
  onExecution?: (shared: boolean) => void;
  /** Counts a refusal (`veeam_graph_access_denied_total`). */
  onDenied?: (reason: 'forbidden' | 'rate_limited' | 'invalid_credentials' | 'not_in_allowlist') => void;
}

const refusal = (message: string, code: string): GraphQLError[] => [new GraphQLError(message, { extensions: { code } })];

/**
 * The door of both subscription transports, per operation: the credential is checked again (a
 * token may have expired since the connection was made), the `read` scope, the rate limit, the
 * limits per connection and per gateway, the allowlist, the same validation rules as `/graphql`;
 * then the graph's context for the operation, whose queue overflow closes the connection.
 */
export class SubscriptionGate {
  private active = 0;
  /** What makes two operations' events execute alike, by context: document, operation, variables, visibility. */
  private readonly shareKeys = new WeakMap<object, string>();
  /** Executions of one event (a root value) in progress or done, by share key; gone with the event. */
  private readonly executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  constructor(private readonly options: SubscriptionGateOptions) {}

  /**
   * Parsed and validated documents by their text. A dashboard's thousand subscribers send the same
   * few documents: each is parsed and validated once and the (immutable) AST shared, instead of a
   * copy per subscription (bench/live measured ~22 KB per idle subscription, much of it its own AST).
   */
  private readonly documents = new LRUCache<string, { ok: true; document: DocumentNode } | { ok: false; errors: GraphQLError[] }>({ max: 500 });

  private checkDocument(query: string): { ok: true; document: DocumentNode } | { ok: false; errors: GraphQLError[] } {
    const cached = this.documents.get(query);
    if (cached !== undefined) return cached;
    let result: { ok: true; document: DocumentNode } | { ok: false; errors: GraphQLError[] };
    try {
      const document = parse(query, { maxTokens: this.options.maxTokens });
      const invalid = validate(this.options.schema, document, [...specifiedRules, ...this.options.validationRules]);
      result =
        invalid.length > 0
          ? { ok: false, errors: invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) }
          : { ok: true, document };
    } catch (err) {
      result = { ok: false, errors: [new GraphQLError((err as GraphQLError).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
    }
    // Long documents are not kept: the cache is for the few a fleet of clients shares.
    if (query.length <= 16_384) this.documents.set(query, result);
    return result;
  }

  /** Operations held by every connection of both transports. */
  get operations(): number {
    return this.active;
  }

  /**
   * Prepares one operation: its execution arguments, or the errors that refuse it. Call `release`
   * exactly once when an accepted operation ends.
   */
  async prepare(
    credential: string | undefined,
    payload: OperationPayload,
    connection: GateConnection,
  ): Promise<{ ok: true; args: ExecutionArgs; principal: Principal; release(): void } | { ok: false; errors: GraphQLError[] }> {
    const o = this.options;
    const outcome = await o.authenticator.authenticate(credential);
    if (!outcome.ok) {
      o.onDenied?.('invalid_credentials');
      return { ok: false, errors: refusal('Invalid or expired credentials.', 'UNAUTHENTICATED') };
    }
    const principal = outcome.principal;
    if (!hasScope(principal, 'read')) {
      o.onDenied?.('forbidden');
      return { ok: false, errors: refusal('These credentials lack the "read" scope.', 'FORBIDDEN') };
    }
    if (o.rateLimit !== undefined) {
      const key = principal.via === 'anonymous' ? 'anonymous' : principal.id;
      const decision = o.rateLimit.take(key);
      if (!decision.allowed) {
        o.onDenied?.('rate_limited');
        return {
          ok: false,
          errors: [
            new GraphQLError(`Too many requests; retry after ${decision.retryAfterS} s.`, {
              extensions: { code: 'RATE_LIMITED', retryAfterS: decision.retryAfterS },
            }),
          ],
        };
      }
    }
    if (connection.operations >= o.settings.maxSubscriptionsPerConnection) {
      return {
        ok: false,
        errors: refusal(
          `At most ${o.settings.maxSubscriptionsPerConnection} operations per connection (live.maxSubscriptionsPerConnection).`,
          'TOO_MANY_SUBSCRIPTIONS',
        ),
      };
    }
    if (this.active >= o.settings.maxSubscriptions) {
      return {
        ok: false,
        errors: refusal(
          `The gateway holds its maximum of ${o.settings.maxSubscriptions} subscriptions (live.maxSubscriptions); retry later.`,
          'TOO_MANY_SUBSCRIPTIONS',
        ),
      };
    }
    if (o.allowlisted !== undefined && !o.allowlisted(payload.query, principal)) {
      o.onDenied?.('not_in_allowlist');
      return { ok: false, errors: refusal('Operation not in the allowlist (operations.allowlist).', 'PERSISTED_QUERY_NOT_IN_LIST') };
    }
    const checked = this.checkDocument(payload.query);
    if (!checked.ok) return checked;
    const document = checked.document;

    const requestId = randomUUID();
    const logger = o.logger.child({ requestId, principal: principal.id });
    const contextValue = withPrincipal(
      o.createContext({
        requestId,
        logger,
        revealUpstream: hasScope(principal, 'admin'),
        stream: { queueSize: o.settings.queueSize, onOverflow: (reason) => connection.close(reason) },
      }),
      principal,
    );
    // Results differ only by what the graph may reveal (the `admin` scope), never by who asks.
    this.shareKeys.set(contextValue, JSON.stringify([hasScope(principal, 'admin'), payload.operationName ?? null, payload.query, payload.variables ?? null]));
    this.active++;
    let released = false;
    return {
      ok: true,
      principal,
      args: { schema: o.schema, document, contextValue, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined },
      release: () => {
        if (released) return;
        released = true;
        this.active--;
      },
    };
  }

  /**
   * graphql-js `subscribe` for both transports, with one difference: the execution of an event is
   * shared by every subscription of the same document, operation name, variables and visibility
   * (a dashboard open in a thousand browsers executes each event once, not a thousand times). The
   * event stream stays each subscription's own (its filter, queue and slow-consumer cut-off); only
   * the result of resolving an event is reused, and formatted and redacted per subscriber after.
   */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const key = this.shareKeys.get(args.contextValue as object);
    const iterator = stream[Symbol.asyncIterator]();
    const run = (payload: unknown): Promise<ExecutionResult> => {
      if (key === undefined || typeof payload !== 'object' || payload === null) return this.executeEvent(args, payload);
      let byKey = this.executions.get(payload);
      if (byKey === undefined) this.executions.set(payload, (byKey = new Map()));
      const running = byKey.get(key);
      if (running !== undefined) {
        this.options.onExecution?.(true);
        return running;
      }
      const started = this.executeEvent(args, payload);
      byKey.set(key, started);
      return started;
    };
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        const step = await iterator.next();
        if (step.done === true) return { done: true, value: undefined };
        return { done: false, value: await run(step.value) };
      },
      async return() {
        await iterator.return?.();
        return { done: true, value: undefined };
      },
      async throw(err: unknown) {
        await iterator.return?.();
        throw err;
      },
      [Symbol.asyncIterator]() {
        return mapped;
      },
    };
    return mapped;
  };

  private async executeEvent(args: ExecutionArgs, payload: unknown): Promise<ExecutionResult> {
    this.options.onExecution?.(false);
    const result = await execute({ ...args, rootValue: payload });
    const extra = this.options.eventErrors?.(args.contextValue) ?? [];
    return extra.length === 0 ? result : { ...result, errors: [...(result.errors ?? []), ...extra] };
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
