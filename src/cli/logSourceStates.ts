import type { Logger } from 'pino';
import type { ReadinessReport } from '../server/Readiness.js';

/** One log line per configured server after the start-up probe: up ones at info, others at warn. */
export function logSourceStates(logger: Logger, report: ReadinessReport): void {
  for (const s of report.sources) {
    const line = { source: s.name, kind: s.kind, status: s.status, latencyMs: s.lastLatencyMs, ...(s.lastError ? { error: s.lastError } : {}) };
    if (s.status === 'UP') logger.info(line, 'source is up');
    else logger.warn(line, s.status === 'DOWN' ? 'source is down' : 'source did not answer the start-up probe yet');
  }
}
