import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RemoteCircuit, Source } from '../../upstream/Source.js';
import type { SharedState } from './createSharedState.js';

/** One replica's breaker change, as it travels (see `RemoteCircuit`). */
interface CircuitMessage {
  replica: string;
  source: string;
  circuit: RemoteCircuit;
}

const CHANNEL = 'circuits';

/**
 * Shares the servers' circuit breakers among replicas: when one replica's breaker opens (it found
 * the server down), the others open theirs for the rest of its cooldown, so the server is skipped
 * by all instead of being hammered by each until its own threshold; when one closes (a probe
 * succeeded), the others close too. Adopted changes are not passed on again. Pub/sub carries
 * hints: a replica that missed one (Redis down) simply finds the server's state itself.
 *
 * @returns the stop function
 */
export function shareCircuits(sources: readonly Source[], shared: SharedState, options: { now: () => number; logger: Logger }): () => void {
  const replica = randomUUID();
  const byName = new Map(sources.map((s) => [s.name, s]));
  const offs = sources.map((source) =>
    source.subscribe((event) => {
      if (event.type !== 'circuit' || event.transition.remote) return;
      const { to, state } = event.transition;
      let circuit: RemoteCircuit | undefined;
      if (to === 'open' && state.until !== undefined) {
        circuit = {
          circuit: 'open',
          remainingMs: Math.max(0, state.until - options.now()),
          ...(state.lastFailureCode !== undefined && { lastFailureCode: state.lastFailureCode }),
        };
      } else if (to === 'closed') circuit = { circuit: 'closed' };
      if (circuit === undefined) return;
      void shared.pubsub.publish(CHANNEL, { replica, source: source.name, circuit } satisfies CircuitMessage);
    }),
  );
  const sub = shared.pubsub.subscribe<CircuitMessage>(CHANNEL, (message) => {
    if (message.replica === replica) return;
    const source = byName.get(message.source);
    if (source === undefined) return;
    options.logger.debug({ source: message.source, circuit: message.circuit.circuit }, 'circuit state adopted from another replica');
    source.adoptCircuit(message.circuit);
  });
  return () => {
    for (const off of offs) off();
    void sub.unsubscribe();
  };
}
