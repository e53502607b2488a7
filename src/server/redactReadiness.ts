import { redactedSourceMessage } from '../graph/errors/upstreamGraphQLError.js';
import type { ReadinessReport } from './Readiness.js';

/**
 * `/readyz` for a caller who is not an admin (a load balancer, anyone on the network): statuses,
 * latencies and error codes stay, the error texts (method, path, the server's own words) go.
 */
export function redactReadiness(report: ReadinessReport): ReadinessReport {
  return {
    ...report,
    sources: report.sources.map((s) => ({
      ...s,
      lastError: s.lastError && { code: s.lastError.code, message: redactedSourceMessage(s.name, s.lastError.code) },
    })),
  };
}
