import type { ApolloServerPlugin, BaseContext, PersistedQueryOptions } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER } from '../requestId.js';
import type { Allowlist } from './loadAllowlist.js';

/** Config `operations.mode`: `enforce` rejects unlisted operations, `log` lets them through and logs them. */
export type AllowlistMode = 'enforce' | 'log';

/** Error code of a rejected operation: the name Apollo GraphOS safelisting gives it. */
export const NOT_IN_ALLOWLIST_CODE = 'PERSISTED_QUERY_NOT_IN_LIST';

/** Message of a rejected operation. */
export const NOT_IN_ALLOWLIST_MESSAGE = 'Operation not in the allowlist (operations.allowlist).';

/** Apollo's `KeyValueCache<string>`, as `new ApolloServer({ persistedQueries: { cache } })` takes it. */
export type ApqCache = NonNullable<PersistedQueryOptions['cache']>;

/** What {@link AllowlistPluginOptions.onRejected} learns of an unlisted operation. */
export interface RejectedOperation {
  /** SHA-256 of the document as sent. */
  hash: string;
  operationName: string | null;
}

/** Options of {@link createAllowlistPlugin}. */
export interface AllowlistPluginOptions {
  allowlist: Allowlist;
  mode: AllowlistMode;
  logger: Logger;
  /**
   * Whether the request's principal may run any operation (the `admin` scope: GraphiQL,
   * introspection, ad-hoc queries). Called with Apollo's `contextValue`, only for unlisted documents.
   */
  bypass(contextValue: unknown): boolean;
  /**
   * Called for every unlisted operation not bypassed: in `enforce` mode it is rejected, in `log`
   * mode it would have been (a metric's increment, say).
   */
  onRejected?: (mode: AllowlistMode, operation: RejectedOperation) => void;
  /** Distinct unlisted hashes remembered so each is logged once. Default 1000. */
  maxReported?: number;
}

/** Characters of an unlisted document logged at debug level. */
const MAX_LOGGED_DOCUMENT = 2000;

/**
 * Apollo plugin of config `operations` (trusted documents): an operation whose document is not
 * in the allowlist (exact text or normalized form, see {@link Allowlist}) and whose principal is
 * not bypassed fails in `enforce` mode with `PERSISTED_QUERY_NOT_IN_LIST` and HTTP 403, and in
 * `log` mode runs but is logged, once per distinct document hash (a bounded set, so distinct
 * documents cannot grow memory; past it a hash may be logged again).
 *
 * It checks in `didResolveOperation`: that hook sees the final text of every request, APQ
 * hash-only ones included (Apollo resolves the hash from the APQ cache before `didResolveSource`),
 * and an error thrown there goes through Apollo's normal error path (formatError, the other
 * plugins' `didEncounterErrors`/`willSendResponse`, so the operation metrics count it as
 * rejected). An error thrown from `didResolveSource` would not. The cost: an unlisted document is
 * parsed and validated first, so a syntax or validation error (with its "Did you mean" hints)
 * still answers an unlisted document; see the wiring note on `hideSchemaDetailsFromClientErrors`.
 * It also runs before Apollo stores an APQ registration, so a rejected document is never
 * registered whatever the APQ cache.
 */
export function createAllowlistPlugin<TContext extends BaseContext = BaseContext>(options: AllowlistPluginOptions): ApolloServerPlugin<TContext> {
  const { allowlist, mode, logger } = options;
  const reported = new LRUCache<string, true>({ max: options.maxReported ?? 1000 });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(ctx) {
          if (allowlist.match(ctx.source, ctx.document) !== undefined) {
            ctx.metrics.registeredOperation = true;
            return;
          }
          if (options.bypass(ctx.contextValue)) return;
          const hash = allowlist.hashOf(ctx.source);
          const operationName = ctx.operationName ?? ctx.request.operationName ?? null;
          options.onRejected?.(mode, { hash, operationName });
          if (!reported.has(hash)) {
            reported.set(hash, true);
            const requestId = ctx.request.http?.headers.get(REQUEST_ID_HEADER) ?? undefined;
            const line = { requestId, operation: operationName, hash, mode };
            logger.warn(
              line,
              mode === 'enforce'
                ? 'operation not in the allowlist: rejected (operations.allowlist)'
                : 'operation not in the allowlist: let through (operations.mode log)',
            );
            const document = ctx.source.length > MAX_LOGGED_DOCUMENT ? `${ctx.source.slice(0, MAX_LOGGED_DOCUMENT)}…` : ctx.source;
            logger.debug({ requestId, hash, document, length: ctx.source.length }, 'unlisted operation document');
          }
          if (mode === 'enforce') {
            ctx.metrics.forbiddenOperation = true;
            throw new GraphQLError(NOT_IN_ALLOWLIST_MESSAGE, { extensions: { code: NOT_IN_ALLOWLIST_CODE, http: { status: 403 } } });
          }
        },
      };
    },
  };
}

/** Apollo Server prefixes its APQ cache keys (`APQ_CACHE_PREFIX` of its requestPipeline, not exported). */
const APQ_KEY_PREFIX = 'apq:';

/** Options of {@link allowlistAsApqCache}. */
export interface AllowlistApqCacheOptions {
  mode: AllowlistMode;
  /**
   * `log` mode only: where APQ registrations of unlisted documents go, so APQ keeps working for
   * them as it did without an allowlist (keys arrive with Apollo's `apq:` prefix and are passed on
   * as they are). Default: a bounded in-memory LRU (1000 documents, 16 MiB). Ignored in `enforce`
   * mode, where nothing is ever registered.
   */
  fallback?: ApqCache;
}

/**
 * An APQ cache answering from the allowlist, for `new ApolloServer({ persistedQueries: { cache } })`:
 * a client sending only `extensions.persistedQuery.sha256Hash` of a listed document (Apollo
 * Client's persisted query link with the manifest's ids) gets that document.
 *
 * Registration (Apollo's `set` after a request carrying both query and hash) never adds to the
 * allowlist: in `enforce` mode it is dropped, so an unlisted hash always misses
 * (`PERSISTED_QUERY_NOT_FOUND`), and the client's retry with the full text meets the plugin (403);
 * in `log` mode an unlisted document goes to `fallback`, and a later hash-only request for it is
 * still checked, and logged, by {@link createAllowlistPlugin}, which judges the resolved text
 * whatever cache it came from. Listed documents cannot be deleted.
 */
export function allowlistAsApqCache(allowlist: Allowlist, options: AllowlistApqCacheOptions): ApqCache {
  const fallback: ApqCache | undefined = options.mode === 'log' ? (options.fallback ?? boundedCache()) : undefined;
  const hashOf = (key: string): string => (key.startsWith(APQ_KEY_PREFIX) ? key.slice(APQ_KEY_PREFIX.length) : key);
  return {
    async get(key) {
      return allowlist.documentOf(hashOf(key)) ?? (await fallback?.get(key));
    },
    async set(key, value, setOptions) {
      if (!fallback || allowlist.has(hashOf(key))) return;
      await fallback.set(key, value, setOptions);
    },
    async delete(key) {
      if (allowlist.has(hashOf(key))) return false;
      return (await fallback?.delete(key)) ?? false;
    },
  };
}

/** The default `log`-mode fallback: bounded by count and by total characters. */
function boundedCache(): ApqCache {
  const lru = new LRUCache<string, string>({ max: 1000, maxSize: 16 * 1024 * 1024, sizeCalculation: (v) => Math.max(1, v.length) });
  return {
    async get(key) {
      return lru.get(key);
    },
    async set(key, value, setOptions) {
      const ttl = setOptions?.ttl;
      lru.set(key, value, typeof ttl === 'number' && ttl > 0 ? { ttl: ttl * 1000 } : {});
    },
    async delete(key) {
      return lru.delete(key);
    },
  };
}
