import { badUserInput } from '../badUserInput.js';
import type { RestoreSessionFilter, RestoreSessionResult, RestoreSessionState } from '../__generated__/resolvers.generated.js';
import { decodeGlobalId, type GlobalIdParts } from '../globalId.js';
import { boundedString, echo, echoList, MAX_NAME_FILTER_LENGTH, MAX_SOURCE_NAME_LENGTH } from '../inputBounds.js';
import { holds, type SessionCondition, type SessionConditions, type Source, type TimeWindow } from '../../upstream/Source.js';

/** A validated `RestoreSessionFilter` (or `RestorePointFilter`): times in ms, ids decoded, sets. */
export interface ParsedFilter {
  sources: ReadonlySet<string> | null;
  states: ReadonlySet<RestoreSessionState> | null;
  results: ReadonlySet<RestoreSessionResult | null> | null;
  window: TimeWindow;
  vmName: string | null;
  backupServer: GlobalIdParts | null;
  organization: GlobalIdParts | null;
  /** Set when restrictions contradict (a nested list whose filter names another server): nothing matches. */
  empty: boolean;
}

type AnyFilter = Partial<
  Pick<RestoreSessionFilter, 'sources' | 'states' | 'results' | 'createdAfter' | 'createdBefore' | 'vmName' | 'backupServer' | 'organization'>
>;

/** DateTime input: any ISO 8601 instant with `Z` or an offset (schema/base.graphql). */
export function parseDateTimeInput(value: string, argumentName: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw badUserInput(`${argumentName} must be an ISO 8601 instant with Z or an offset, e.g. 2026-10-31T22:15:04Z; got ${echo(value)}.`, {
      argumentName,
    });
  return ms;
}

/**
 * Validates a filter against the configured servers and the input bounds (`inputBounds.ts`: `vmName`
 * at most 256 characters, `sources` names at most 63, ids at most 2048); every problem is
 * `BAD_USER_INPUT`, raised before any upstream call.
 */
export function parseFilter(filter: AnyFilter | null | undefined, sources: ReadonlyMap<string, Source>): ParsedFilter {
  const f = filter ?? {};
  let names: Set<string> | null = null;
  if (f.sources !== undefined && f.sources !== null) {
    for (const n of f.sources) boundedString(n, 'filter.sources', MAX_SOURCE_NAME_LENGTH);
    const unknown = [...new Set(f.sources.filter((n) => !sources.has(n)))];
    if (unknown.length > 0)
      throw badUserInput(`Unknown source ${echoList(unknown)} in filter.sources; configured: ${[...sources.keys()].join(', ')}.`, {
        argumentName: 'filter.sources',
      });
    names = new Set(f.sources);
  }
  const window: TimeWindow = {
    fromMs: f.createdAfter ? parseDateTimeInput(f.createdAfter, 'filter.createdAfter') : null,
    toMs: f.createdBefore ? parseDateTimeInput(f.createdBefore, 'filter.createdBefore') : null,
  };
  return {
    sources: names,
    states: f.states ? new Set(f.states) : null,
    results: f.results ? new Set(f.results) : null,
    window,
    vmName: f.vmName === undefined || f.vmName === null ? null : boundedString(f.vmName, 'filter.vmName', MAX_NAME_FILTER_LENGTH),
    backupServer: f.backupServer ? decodeGlobalId(f.backupServer, ['BackupServer']) : null,
    organization: f.organization ? decodeGlobalId(f.organization, ['Organization']) : null,
    empty: false,
  };
}

/** The filter of a nested list (`BackupServer.restoreSessions`...): the parent's restriction AND the caller's filter. */
export function restrictFilter(filter: ParsedFilter, to: { source: string; backupServer?: GlobalIdParts; organization?: GlobalIdParts }): ParsedFilter {
  let empty = filter.empty || (filter.sources !== null && !filter.sources.has(to.source));
  const same = (a: GlobalIdParts | null, b: GlobalIdParts | undefined) =>
    a === null || b === undefined || (a.source === b.source && a.nativeId.toLowerCase() === b.nativeId.toLowerCase());
  if (!same(filter.backupServer, to.backupServer) || !same(filter.organization, to.organization)) empty = true;
  return {
    ...filter,
    sources: new Set([to.source]),
    backupServer: to.backupServer ?? filter.backupServer,
    organization: to.organization ?? filter.organization,
    empty,
  };
}

/** The conditions a filter puts on one list, in the source contract's terms (ids as native ids). */
export function conditionsOf(filter: ParsedFilter): SessionConditions {
  return {
    ...(filter.vmName !== null && { vmName: filter.vmName }),
    ...(filter.backupServer !== null && { backupServerId: filter.backupServer.nativeId }),
    ...(filter.organization !== null && { organizationId: filter.organization.nativeId }),
    ...(filter.states !== null && { states: filter.states }),
    ...(filter.results !== null && { results: filter.results }),
  };
}

/**
 * The servers a filter lets through: by name; by what each source's entities can match at all
 * (`SourceDescription.sessionConditions`: a VM name never matches a Microsoft 365 session, an
 * organization never an EM one); an id condition also pins its own server. An empty
 * `states`/`results` list matches nothing, so nobody is asked.
 */
export function askedSources(filter: ParsedFilter, sources: readonly Source[], list: 'RestoreSession' | 'RestorePoint'): Source[] {
  if (filter.empty || filter.states?.size === 0 || filter.results?.size === 0 || filter.sources?.size === 0) return [];
  const wanted = Object.keys(conditionsOf(filter)) as SessionCondition[];
  return sources.filter((s) => {
    const d = s.describe();
    if (!holds(d, list)) return false;
    if (filter.sources !== null && !filter.sources.has(s.name)) return false;
    const possible: ReadonlySet<string> = list === 'RestoreSession' ? d.sessionConditions : d.pointConditions;
    if (wanted.some((c) => !possible.has(c))) return false;
    if (filter.backupServer !== null && filter.backupServer.source !== s.name) return false;
    if (filter.organization !== null && filter.organization.source !== s.name) return false;
    return true;
  });
}

/** The canonical form hashed into cursors (cursorFingerprint sorts and dedupes the lists). */
export function fingerprintOf(filter: ParsedFilter): unknown {
  return {
    sources: filter.sources && [...filter.sources],
    states: filter.states && [...filter.states],
    results: filter.results && [...filter.results],
    fromMs: filter.window.fromMs,
    toMs: filter.window.toMs,
    vmName: filter.vmName,
    backupServer: filter.backupServer && `${filter.backupServer.source}:${filter.backupServer.nativeId.toLowerCase()}`,
    organization: filter.organization && `${filter.organization.source}:${filter.organization.nativeId.toLowerCase()}`,
    empty: filter.empty || null,
  };
}
