import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { LiveFeed, RequestScope, Source, SourceHealth } from '../upstream/Source.js';
import type { ConnectionLimits } from './connectionArgs.js';
import type { CursorCodec } from './cursor.js';
import type { Loaders } from './loaders/createLoaders.js';

/** What every resolver receives, built fresh for each request by `Graph.createContext` (design.md section 2). */
export interface GraphContext {
  readonly requestId: string | undefined;
  /** Epoch ms when the request started: the `asOf` of data read during it without a stamp of its own. */
  readonly requestedAt: number;
  readonly logger: Logger;
  /**
   * Whether the caller may see upstream details: server URLs, and the method and path inside
   * source error messages. Without it those read `<server>: <code>` (the `admin` scope).
   */
  readonly revealUpstream: boolean;
  /** Configured servers in configuration order. */
  readonly sources: readonly Source[];
  readonly sourceByName: ReadonlyMap<string, Source>;
  /** A source's health now (status, last latency, last error, circuit). */
  health(source: Source): SourceHealth;
  /** Per-request loaders keyed by (source, entity, id) (design.md section 6). */
  readonly loaders: Loaders;
  /** The request's memory for one source (`RequestScope`): whole collections read once per request. */
  scope(source: Source): RequestScope;
  readonly limits: ConnectionLimits;
  readonly cursors: CursorCodec;
  /**
   * Errors for the response's standard `errors` array that must not null their field: one per
   * server that failed while the merged connection still answered with the others' data. The
   * graph's Apollo plugin appends them to the response (a resolver cannot both return data and
   * report an error for the same field).
   */
  readonly partialErrors: GraphQLError[];
  /**
   * Reports that `source` answered from the gateway's memory because `cause` failed: once per
   * source and request, at the first path that showed stale data (stale data is never silent).
   */
  reportStale(source: Source, cause: Error, path: readonly (string | number)[]): void;
  /** Live session changes (subscriptions); undefined where the gateway runs none. */
  readonly live: LiveFeed | undefined;
  /** The transport of a subscription: how many events may wait for the client, and what to do past that. */
  readonly stream: StreamLimits | undefined;
  /**
   * Starts a new request state (loaders, scopes, partial errors, `requestedAt`): a subscription's
   * context lives for hours, and each event is resolved as a request of its own, so nothing is
   * cached across events.
   */
  renew(): void;
}

/** What the transport of a subscription tells the graph. */
export interface StreamLimits {
  /** Events queued for the client at most. */
  queueSize: number;
  /** Called once when the client falls `queueSize` events behind; the transport closes its connection. */
  onOverflow(reason: string): void;
}
