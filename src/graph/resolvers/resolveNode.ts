import { decodeGlobalId } from '../globalId.js';
import { backupServer, emSession, m365RestorePoint, m365Session, organization, vmRestorePoint } from '../entities.js';
import { toGraphQLError } from '../errors/upstreamGraphQLError.js';
import type { GraphContext } from '../GraphContext.js';
import type { NodeParent } from '../mappers.js';

/** Separates the session id from the event id in an event's global id (VB365 reaches events only through their session). */
export const EVENT_ID_SEPARATOR = '/';

/**
 * The object behind a global id, looked up on the server the id names, through the request's
 * loaders (so `nodes(ids:)` batches per server and kind). Null when the server is not configured
 * (any more), is of the other kind, or does not know the id; an unreachable server throws its
 * error. A malformed id throws BAD_USER_INPUT before any call.
 */
export async function resolveNode(context: GraphContext, id: string): Promise<NodeParent | null> {
  const { type, source: name, nativeId } = decodeGlobalId(id);
  const source = context.sourceByName.get(name);
  if (source === undefined) return null;
  if (type === 'Source') return nativeId === name ? source : null;
  try {
    if (source.kind === 'enterprise-manager') {
      const l = context.loaders;
      if (type === 'EnterpriseManagerRestoreSession') return wrap(await l.emEntity(source, 'RestoreSession', nativeId), (v) => emSession(source, v));
      if (type === 'BackupServer') return wrap(await l.emEntity(source, 'BackupServer', nativeId), (v) => backupServer(source, v));
      if (type === 'VmRestorePoint') return wrap(await l.emEntity(source, 'VmRestorePoint', nativeId), (v) => vmRestorePoint(source, v));
      return null;
    }
    if (type === 'Microsoft365RestoreSession') return wrap(await context.loaders.vboSession(source, nativeId), (v) => m365Session(source, v));
    if (type === 'Organization') return wrap((await context.loaders.organizations(source)).byId.get(nativeId.toLowerCase()), (v) => organization(source, v));
    if (type === 'Microsoft365RestorePoint') {
      if (!source.client.capabilities.restorePoints) return null;
      return wrap(
        (await context.loaders.vboAllRestorePoints(source)).find((p) => p.id.toLowerCase() === nativeId.toLowerCase()),
        (v) => m365RestorePoint(source, v),
      );
    }
    if (type === 'Microsoft365RestoreSessionEvent') {
      const at = nativeId.indexOf(EVENT_ID_SEPARATOR);
      if (at < 0) return null;
      const sessionId = nativeId.slice(0, at);
      const eventId = nativeId.slice(at + 1).toLowerCase();
      for await (const page of source.client.iterateRestoreSessionEvents(sessionId)) {
        const value = page.items.find((e) => e.id.toLowerCase() === eventId);
        if (value) return { type, source, value, sessionId };
      }
      return null;
    }
    return null;
  } catch (err) {
    if (typeof err === 'object' && err !== null && (err as { status?: number }).status === 404) return null;
    throw toGraphQLError(source, err, context.logger);
  }
}

function wrap<T, P>(value: T | null | undefined, to: (value: T) => P): P | null {
  return value === null || value === undefined ? null : to(value);
}
