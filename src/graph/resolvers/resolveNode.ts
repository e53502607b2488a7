import { ENTITY_KIND, type Source } from '../../upstream/Source.js';
import { decodeGlobalId, type GlobalIdParts } from '../globalId.js';
import { onSource } from '../errors/upstreamGraphQLError.js';
import type { GraphContext } from '../GraphContext.js';
import { sourced, type NodeParent } from '../mappers.js';

/** Separates the session id from the event id in an event's global id (events are reached only through their session). */
export const EVENT_ID_SEPARATOR = '/';

const isNotFound = (error: unknown): boolean => typeof error === 'object' && error !== null && (error as { status?: number }).status === 404;

/**
 * The object behind a global id, looked up on the server the id names, through the request's
 * loaders (so `nodes(ids:)` batches per server and kind). Null when the server is not configured
 * (any more), holds no entities of that type, or does not know the id; an unreachable server
 * throws its error. A malformed id throws BAD_USER_INPUT before any call.
 */
export async function resolveNode(context: GraphContext, id: string, path?: readonly (string | number)[]): Promise<NodeParent | null> {
  const parts = decodeGlobalId(id);
  const source = context.sourceByName.get(parts.source);
  if (source === undefined) return null;
  if (parts.type === 'Source') return parts.nativeId === source.name ? source : null;
  const type = parts.type;
  if (!source.describe().entities.has(type)) return null;
  const parent = await onSource(context, source, async () => {
    try {
      const kind = ENTITY_KIND[type];
      if (kind === 'RestoreSessionEvent') return await sessionEvent(context, source, parts);
      const record = await context.loaders.entity(source, kind, parts.nativeId);
      return record !== null && record.entity === type ? (sourced(source, record) as NodeParent) : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  });
  // A record served stale has its source's failure reported (once per request).
  const cause = parent !== null && 'value' in parent ? parent.value.freshness?.cause : undefined;
  if (cause !== undefined && path !== undefined) context.reportStale(source, cause, path);
  return parent;
}

/** An event through the per-request listing of its session: references to many events of a session cost one listing. */
async function sessionEvent(context: GraphContext, source: Source, { nativeId }: GlobalIdParts): Promise<NodeParent | null> {
  const at = nativeId.indexOf(EVENT_ID_SEPARATOR);
  if (at < 0) return null;
  const eventId = nativeId.slice(at + 1).toLowerCase();
  const events = await source.allSessionEvents(nativeId.slice(0, at), context.scope(source));
  const value = events.find((e) => e.nativeId.toLowerCase() === eventId);
  return value === undefined ? null : (sourced(source, value) as NodeParent);
}
