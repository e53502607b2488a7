import { traceBackground } from '../observability/backgroundSpans.js';
import type { Logger } from 'pino';
import type { Source, SourceEvent } from '../upstream/Source.js';
import type { Scheduler } from './Scheduler.js';

/** What {@link probeOpenCircuits} needs. */
export interface ProbeOpenCircuitsOptions {
  /**
   * Timers, and the same time source as the sources' circuit breakers (the `now` given to
   * `createSources`): a timer set for a breaker's `until` must fire when that breaker reads its
   * cooldown as over.
   */
  scheduler: Scheduler;
  /** Probe outcomes are logged at debug (the breaker itself logs its state changes). */
  logger: Logger;
}

/** The running background probes. */
export interface CircuitProber {
  /** Cancels every timer and unsubscribes from every source; a probe in flight finishes unobserved. Idempotent. */
  stop(): void;
}

/**
 * Delay of a re-check when a timer fired but the breaker still reads its circuit as open with a
 * cooldown not over (a timer a millisecond early, or a scheduler on another clock than the
 * breaker): late enough never to spin, early enough not to matter next to a cooldown of seconds.
 */
const EARLY_RECHECK_MS = 20;

/**
 * Re-read interval of a half-open circuit that this prober cannot probe now: while a user's call
 * is the probe (should its outcome move nothing, say it was aborted), or after a probe of ours that
 * said nothing about the server (a TLS configuration problem leaves the circuit half-open); it
 * doubles after each such probe of ours, up to {@link MAX_RECHECK_MS}, so nothing is hammered.
 */
const RECHECK_MS = 1_000;
const MAX_RECHECK_MS = 60_000;

/**
 * Probes open circuits in the background, so that a server that comes back is used again as soon
 * as its breaker's cooldown ends, not when a user's query happens to arrive after it (and fails
 * partially until then).
 *
 * For each source: after every `failure` event (and every failed HTTP attempt), and once at start,
 * it reads `circuit()`; while the circuit is not closed it keeps exactly one timer, set for the
 * breaker's own cooldown end (`until`; at once when that is past). When the timer fires and the
 * circuit is half-open with no probe out (no user call has taken the probe), it calls
 * `source.ping()`: through the breaker, that is the one probe request, without retries. Its
 * success closes the circuit; its failure re-opens it with a longer cooldown (the breaker doubles
 * it up to `maxCooldownMs`) and the next timer is set for that. If a user call probed first, the
 * circuit is closed (nothing to do) or open again (the timer moves to the new cooldown end), or
 * its probe is still out (its outcome event brings the prober back; meanwhile the circuit is
 * re-read every {@link RECHECK_MS}). A probe of ours that says nothing about the server (the
 * circuit stays half-open) is repeated after 1 s, 2 s, 4 s... up to a minute.
 *
 * At most one timer and one background probe per source at any time. Probe errors are logged at
 * debug, never thrown; nothing here throws into a source's event emitter.
 *
 * @param sources the sources to watch (each is subscribed to once)
 * @param options scheduler (same clock as the breakers) and logger
 * @returns a handle whose `stop()` cancels every timer and unsubscribes
 */
export function probeOpenCircuits(sources: readonly Source[], options: ProbeOpenCircuitsOptions): CircuitProber {
  const { scheduler, logger } = options;
  let stopped = false;
  const stops = sources.map((source) => watch(source));
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const stop of stops) stop();
    },
  };

  function watch(source: Source): () => void {
    /** Cancels the armed timer; undefined when none is armed. */
    let cancel: (() => void) | undefined;
    let probing = false;
    /** Probes of ours in a row that left the circuit half-open (neutral outcomes). */
    let quiet = 0;

    /**
     * Keeps the invariant: while the circuit is not closed, one timer is armed or our probe is out.
     * Never throws.
     */
    function check(afterEarlyFire = false, afterProbe = false): void {
      if (stopped || cancel !== undefined || probing) return;
      try {
        const state = source.circuit();
        if (afterProbe) quiet = state.circuit === 'half-open' && !state.probeInFlight ? quiet + 1 : 0;
        if (state.circuit === 'closed') return;
        if (state.circuit === 'half-open') {
          // A user's call is probing: its outcome event comes back here; the timer is the fallback.
          if (state.probeInFlight) arm(RECHECK_MS);
          else arm(quiet === 0 ? 0 : Math.min(MAX_RECHECK_MS, RECHECK_MS * 2 ** (quiet - 1)));
          return;
        }
        const wait = state.until === undefined ? EARLY_RECHECK_MS : state.until - scheduler.now();
        arm(afterEarlyFire ? Math.max(wait, EARLY_RECHECK_MS) : Math.max(0, wait));
      } catch (err) {
        logger.debug({ source: source.name, err }, 'circuit probe: could not read the circuit');
      }
    }

    function arm(ms: number): void {
      cancel = scheduler.setTimer(ms, fire);
    }

    function fire(): void {
      cancel = undefined;
      if (stopped) return;
      try {
        const state = source.circuit();
        if (state.circuit === 'closed') return; // a user's call found the server back
        if (state.circuit === 'open') {
          // A user's probe failed first (a longer cooldown), or the timer was early.
          check(true);
        } else if (state.probeInFlight) {
          check(); // a user's call is the probe
        } else {
          probe();
        }
      } catch (err) {
        logger.debug({ source: source.name, err }, 'circuit probe: could not read the circuit');
      }
    }

    function probe(): void {
      probing = true;
      logger.debug({ source: source.name }, 'circuit probe: pinging a server whose cooldown has ended');
      // A trace of its own (src/observability): the ping and any logon it needs are its children.
      const done = traceBackground(`circuit probe ${source.name}`, { 'veeam.server': source.name }, () => source.ping());
      done
        .then(
          () => logger.debug({ source: source.name, circuit: source.circuit().circuit }, 'circuit probe: the server answered'),
          (err: unknown) => logger.debug({ source: source.name, err }, 'circuit probe failed'),
        )
        .catch(() => undefined)
        .finally(() => {
          probing = false;
          // A failed probe re-opened the circuit with a longer cooldown: arm for its end.
          check(false, true);
        });
    }

    const unsubscribe = source.subscribe((event: SourceEvent) => {
      if (event.type === 'failure' || (event.type === 'http' && (event.request.errorCode !== undefined || (event.request.status ?? 0) >= 500))) check();
    });
    check();
    return () => {
      unsubscribe();
      cancel?.();
      cancel = undefined;
    };
  }
}
