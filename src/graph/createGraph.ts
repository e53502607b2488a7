import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApolloServerPlugin } from '@apollo/server';
import { parse, type DocumentNode, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { Resolvers } from './__generated__/resolvers.generated.js';
import { createCursorCodec } from './cursor.js';
import { createFormatError } from './errors/createFormatError.js';
import { graphQLErrorOf, sourceErrorOf } from './errors/upstreamGraphQLError.js';
import type { GraphContext, StreamLimits } from './GraphContext.js';
import { createLoaders, type LoaderFactory } from './loaders/createLoaders.js';
import { createPartialErrorsPlugin } from './createPartialErrorsPlugin.js';
import { createRedactUpstreamPlugin } from './errors/createRedactUpstreamPlugin.js';
import { connectionResolvers } from './resolvers/connectionResolvers.js';
import { dateTimeScalar } from './resolvers/dateTimeScalar.js';
import { entityResolvers } from './resolvers/entityResolvers.js';
import { queryResolvers } from './resolvers/queryResolvers.js';
import { subscriptionResolvers } from './resolvers/subscriptionResolvers.js';
import { createRequestScope, type LiveFeed, type ReadPolicy, type RequestScope, type Source, type SourceHealth } from '../upstream/Source.js';

export interface CreateGraphOptions {
  sources: readonly Source[];
  /** A source's health now (`SourceSet.health` of src/sources). */
  health(name: string): SourceHealth;
  limits: { defaultPageSize: number; maxPageSize: number };
  /** Cursor signing secret (config `cursorSecret`); without it each instance signs with a random key. */
  cursorSecret?: string;
  logger: Logger;
  /** The loaders of each request. Default {@link createLoaders}; the benchmark passes its unbatched ones. */
  loaders?: LoaderFactory;
  /** Clock, epoch ms (`requestedAt`). Default `Date.now`. */
  now?: () => number;
  /** Called once per executed loader batch with its key count (metrics). */
  onLoaderBatch?: (loader: string, size: number) => void;
  /** Live session changes for `Subscription`; without it a subscription fails at once. */
  live?: LiveFeed;
}

/** What the serving layer knows of a request. */
export interface ContextInit {
  requestId?: string;
  logger?: Logger;
  policy?: ReadPolicy;
  /** The caller may see upstream URLs and error details (`GraphContext.revealUpstream`). Default true. */
  revealUpstream?: boolean;
  /** For a subscription: its transport's queue bound and overflow action. */
  stream?: StreamLimits;
}

export interface Graph {
  typeDefs: DocumentNode;
  resolvers: Resolvers;
  /** Fresh per request: new loaders, an empty list of partial errors. */
  createContext(init?: ContextInit): GraphContext;
  /**
   * Install in Apollo Server (`plugins`): puts the errors of failing servers, collected while a
   * merged connection still answered, into the response's `errors` array.
   */
  plugins: ApolloServerPlugin<GraphContext>[];
  /** For subscriptions, what `plugins` do for queries: the partial errors of the context an event was resolved in. */
  eventErrors: (contextValue: unknown) => readonly GraphQLError[];
  /** Apollo Server's `formatError`: upstream errors get their extensions, anything unrecognised is masked and logged. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/**
 * schema/ file holding only Apollo Federation directives: read in subgraph mode alone
 * (`buildGraphSubgraphSchema`), never by the plain schema, where they would be unknown directives.
 */
export const FEDERATION_OVERLAY_FILE = 'federation.graphql';

/** Finds schema/ from this module whether it runs from src/graph (tsx, jest) or dist/src/graph (build). */
export function schemaDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'schema');
    if (existsSync(join(candidate, 'base.graphql'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('createGraph: schema/ directory not found');
}

/** The SDL of schema/*.graphql except the federation overlay, one document (files in name order, base first by name). */
export function loadTypeDefs(): DocumentNode {
  const dir = schemaDir();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql') && f !== FEDERATION_OVERLAY_FILE)
    .sort();
  return parse(files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n'));
}

/**
 * The graph layer (design.md section 2): schema, resolvers, and the per-request context the
 * serving layer hands to Apollo. Knows nothing of HTTP or of any one API: sources are the source
 * contract's (`src/upstream/Source.ts`), built by `src/sources/createSources.ts`.
 */
export function createGraph(options: CreateGraphOptions): Graph {
  const names = new Set<string>();
  for (const s of options.sources) {
    if (names.has(s.name)) throw new Error(`createGraph: duplicate source name ${s.name}`);
    names.add(s.name);
  }
  const sourceByName = new Map(options.sources.map((s) => [s.name, s]));
  const cursors = createCursorCodec(options.cursorSecret !== undefined ? { secret: options.cursorSecret } : {});
  const limits = { defaultFirst: options.limits.defaultPageSize, maxFirst: options.limits.maxPageSize };
  const resolvers: Resolvers = {
    DateTime: dateTimeScalar,
    ...queryResolvers,
    ...entityResolvers,
    ...connectionResolvers,
    ...subscriptionResolvers,
  };
  return {
    typeDefs: loadTypeDefs(),
    resolvers,
    createContext: (init = {}) => {
      const logger = init.logger ?? options.logger;
      const now = options.now ?? Date.now;
      // What one request (or one event of a subscription) reads and reports; `renew` starts anew.
      const freshState = () => {
        const partialErrors: GraphQLError[] = [];
        const staleReported = new Set<string>();
        const scopes = new Map<string, RequestScope>();
        const scope = (source: Source): RequestScope => {
          let s = scopes.get(source.name);
          if (s === undefined) {
            s = createRequestScope(init.policy);
            scopes.set(source.name, s);
          }
          return s;
        };
        const loaders = (options.loaders ?? createLoaders)({
          scope,
          ...(options.onLoaderBatch !== undefined && { onLoaderBatch: options.onLoaderBatch }),
        });
        return { requestedAt: now(), partialErrors, staleReported, scope, loaders };
      };
      let state = freshState();
      // Getters, so `renew` reaches resolvers holding the context. (Apollo copies the context per
      // operation, reading them once: fine for queries, which never renew.)
      return {
        requestId: init.requestId,
        get requestedAt() {
          return state.requestedAt;
        },
        logger,
        revealUpstream: init.revealUpstream ?? true,
        sources: options.sources,
        sourceByName,
        health: (source) => options.health(source.name),
        scope: (source) => state.scope(source),
        get loaders() {
          return state.loaders;
        },
        limits,
        cursors,
        get partialErrors() {
          return state.partialErrors;
        },
        reportStale: (source, cause, path) => {
          if (state.staleReported.has(source.name)) return;
          state.staleReported.add(source.name);
          state.partialErrors.push(graphQLErrorOf(sourceErrorOf(source, cause, logger), path, true));
        },
        live: options.live,
        stream: init.stream,
        renew: () => {
          state = freshState();
        },
      };
    },
    // A subscription event's own: the partial errors of the context it was resolved in.
    eventErrors: (contextValue: unknown) => (contextValue as GraphContext).partialErrors,
    // Redaction runs last: it also covers the partial errors appended before it.
    plugins: [createPartialErrorsPlugin(), createRedactUpstreamPlugin()],
    formatError: createFormatError(options.logger),
  };
}
