import type { SessionResult as RestoreSessionResult, SessionState as RestoreSessionState } from './Source.js';

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
