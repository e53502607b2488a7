import type { DocumentNode, GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { LiveFeed, ReadPolicy, Source, SourceHealth } from '../upstream/Source.js';

/** What the graph layer hands the server (the contract of `src/graph/createGraph.ts`). */
export interface GatewayGraph {
  typeDefs: DocumentNode;
  resolvers: unknown;
  createContext(init?: {
    requestId?: string;
    logger?: Logger;
    policy?: ReadPolicy;
    revealUpstream?: boolean;
    stream?: { queueSize: number; onOverflow(reason: string): void };
  }): object;
  /** Apollo plugins of the graph (partial-result errors), installed before the server's own. */
  plugins?: readonly unknown[];
  /**
   * The errors the graph collected beside one subscription event's result (`partialErrors` of the
   * context it was resolved in): the transports append them, as `plugins` do for queries.
   */
  eventErrors?: (contextValue: unknown) => readonly GraphQLError[];
  /** Apollo `formatError`; default the graph's `createFormatError`. */
  formatError?: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/** Builds the graph over the sources; `createGraph` of `src/graph` in production, a stand-in in tests. */
export type GraphFactory = (options: {
  sources: readonly Source[];
  health(name: string): SourceHealth;
  now?: () => number;
  limits: { defaultPageSize: number; maxPageSize: number };
  cursorSecret?: string;
  logger: Logger;
  onLoaderBatch?: (loader: string, size: number) => void;
  live?: LiveFeed;
}) => GatewayGraph;
