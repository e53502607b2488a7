import type { CircuitState } from '../upstream/http/CircuitBreaker.js';
import type { Source, SourceEvent, SourceHealth } from '../upstream/Source.js';

/**
 * Tracks a source's health from its outcome events and returns a snapshot reader. Every HTTP
 * attempt updates it: an answer below 500 means the server is UP (a 404 for a deleted entity or a
 * 401 before re-logon is the API working); no answer or a 5xx means DOWN; a refused logon (403,
 * or 401 to a POST) is DOWN with UPSTREAM_AUTH_FAILED. A contract call that failed with an
 * `UpstreamError` the HTTP layer could not see (a body that does not decode, a refused logon) is
 * DOWN with that error. A fast failure of an open circuit is no call to the server: the record
 * keeps the real one.
 *
 * @param now clock in epoch ms for the timestamps
 */
export function trackHealth(source: Source, now: () => number): () => SourceHealth {
  const health: Omit<SourceHealth, 'circuit'> = { status: 'UNKNOWN' };
  const stamp = () => (health.lastCheckedAt = new Date(now()).toISOString());
  source.subscribe((event: SourceEvent) => {
    if (event.type === 'http') {
      const e = event.request;
      health.lastLatencyMs = e.ms;
      const at = stamp();
      if (e.status !== undefined && e.status < 500) {
        if (e.status === 403 || (e.status === 401 && e.method === 'POST')) {
          health.status = 'DOWN';
          health.lastError = {
            code: 'UPSTREAM_AUTH_FAILED',
            message: `${source.name}: ${e.method} ${e.path} -> HTTP ${e.status}`,
            at,
            httpStatus: e.status,
            retryable: false,
          };
        } else if (e.status < 400 || e.status === 404 || e.status === 401) {
          health.status = 'UP';
          delete health.lastError;
        }
      } else {
        health.status = 'DOWN';
        const code = e.errorCode ?? 'UPSTREAM_HTTP_ERROR';
        const what = e.status !== undefined ? `HTTP ${e.status}` : code.toLowerCase().replace(/_/g, ' ');
        health.lastError = {
          code,
          message: `${source.name}: ${e.method} ${e.path} -> ${what}`,
          at,
          ...(e.status !== undefined && { httpStatus: e.status }),
          retryable: e.status === undefined || e.status >= 500,
        };
      }
    } else if (event.type === 'failure') {
      const error = event.error;
      if (error.source !== source.name || error.code === 'UPSTREAM_CIRCUIT_OPEN') return;
      health.status = 'DOWN';
      const at = stamp();
      health.lastError = {
        code: error.code,
        message: error.message,
        at,
        ...(error.status !== undefined && { httpStatus: error.status }),
        retryable: error.retryable,
      };
    }
  });
  return () => withCircuit(source.name, health, source.circuit());
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/**
 * The health record seen through the circuit breaker. While the circuit is not closed no request
 * reaches the server, so the record would keep showing the failure that opened it; the breaker's
 * state is the truer answer: DOWN, UPSTREAM_CIRCUIT_OPEN, since when and until when.
 */
function withCircuit(name: string, record: Omit<SourceHealth, 'circuit'>, state: CircuitState): SourceHealth {
  const openedAt = iso(state.openedAt);
  const until = iso(state.until);
  const circuit = { state: state.circuit, ...(openedAt !== undefined && { openedAt }), ...(until !== undefined && { until }) };
  if (state.circuit === 'closed' || openedAt === undefined || until === undefined) return { ...record, circuit };
  const last = state.lastFailureCode === undefined ? '' : ` (last failure: ${state.lastFailureCode})`;
  const message =
    state.circuit === 'open'
      ? `${name}: circuit open since ${openedAt} until ${until}${last}; calls fail fast`
      : `${name}: circuit half-open since ${until} (open since ${openedAt})${last}; the next call probes the server`;
  return { ...record, status: 'DOWN', lastError: { code: 'UPSTREAM_CIRCUIT_OPEN', message, at: openedAt, retryable: true }, circuit };
}
