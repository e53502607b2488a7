import type { Link, RestoreSessionBase, SessionResult as RestoreSessionResult, SessionState as RestoreSessionState } from './Source.js';

const STATES: Record<string, RestoreSessionState> = { starting: 'STARTING', working: 'WORKING', stopping: 'STOPPING', stopped: 'STOPPED' };
const RESULTS: Record<string, RestoreSessionResult> = { none: 'NONE', success: 'SUCCESS', warning: 'WARNING', failed: 'FAILED' };

/** Both APIs' documented states (EM and VB365 spell them alike); anything else, or none, is UNKNOWN. */
export function normalizeState(raw: string | undefined): RestoreSessionState {
  return (raw !== undefined && STATES[raw.toLowerCase()]) || 'UNKNOWN';
}

/** Null when the server sent no result (VB365 running sessions); UNKNOWN for values not documented. */
export function normalizeResult(raw: string | undefined): RestoreSessionResult | null {
  if (raw === undefined || raw === '') return null;
  return RESULTS[raw.toLowerCase()] ?? 'UNKNOWN';
}

/** The wire spelling of a known state or result (`STOPPED` -> `Stopped`), for pushing a filter down. */
export function wireSpelling(value: string): string {
  return value.charAt(0) + value.slice(1).toLowerCase();
}

/** What every API sends of a session, as its wire value has it (absent = not sent). */
export interface WireSessionCommon {
  id: string;
  name?: string | undefined;
  state?: string | undefined;
  result?: string | undefined;
  creationTime: string;
  endTime?: string | undefined;
}

/** The kind-independent fields of a session record, normalized the same way for every API. */
export function sessionBase(s: WireSessionCommon, links: Link[]): RestoreSessionBase {
  return {
    nativeId: s.id,
    links,
    name: s.name ?? null,
    state: normalizeState(s.state),
    stateRaw: s.state ?? null,
    result: normalizeResult(s.result),
    resultRaw: s.result ?? null,
    creationTime: s.creationTime,
    endTime: s.endTime ?? null,
  };
}
