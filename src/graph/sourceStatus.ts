import type { SourceStatus } from './__generated__/resolvers.generated.js';
import type { SourceHealth } from '../upstream/Source.js';

/**
 * The one status name of a configured server, as the schema's `SourceStatus` and `/readyz` both
 * report it: the health record's `UNKNOWN` / `UP` / `DOWN`, except `CIRCUIT_OPEN` while the circuit
 * breaker is not closed (the health record says `DOWN` then; metrics keep reading that, so
 * `veeam_graph_source_up` is 0 for an open circuit).
 */
export function sourceStatusOf(health: SourceHealth): SourceStatus {
  return health.circuit.state !== 'closed' ? 'CIRCUIT_OPEN' : health.status;
}
