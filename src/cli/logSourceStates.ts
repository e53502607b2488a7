import type { Logger } from 'pino';
import type { ReadinessReport } from '../server/Readiness.js';

const STATUS_MESSAGE: Partial<Record<string, string>> = {
  DOWN: 'source is down',
  CIRCUIT_OPEN: 'source is down; its circuit is open and it is probed in the background',
};

/** One log line per configured server after the start-up probe: up ones at info, others at warn. */
export function logSourceStates(logger: Logger, report: ReadinessReport): void {
  for (const s of report.sources) {
    const line = { source: s.name, kind: s.kind, status: s.status, latencyMs: s.lastLatencyMs, ...(s.lastError ? { error: s.lastError } : {}) };
    if (s.status === 'UP') logger.info(line, 'source is up');
    else logger.warn(line, STATUS_MESSAGE[s.status] ?? 'source did not answer the start-up probe yet');
  }
}
