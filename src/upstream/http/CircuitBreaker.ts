import { HTTP_DEFAULTS, type HttpSettings } from './httpDefaults.js';

/**
 * Tuning of a {@link CircuitBreaker}, in the config's `circuitBreaker` names; each missing field
 * from `HTTP_DEFAULTS.circuitBreaker` (failureThreshold 5, cooldownMs 2000, maxCooldownMs 60000,
 * but never below a raised cooldownMs).
 */
export type CircuitBreakerOptions = Partial<HttpSettings['circuitBreaker']>;

/** Name of a circuit state. */
export type CircuitStateName = 'closed' | 'open' | 'half-open';

/** A snapshot of a breaker, for health reports and error messages. */
export interface CircuitState {
  circuit: CircuitStateName;
  /** When the current outage opened the circuit (epoch ms); kept through failed probes. Absent while closed. */
  openedAt?: number;
  /** When the current cooldown ends (epoch ms): the first call after it is the probe. Absent while closed. */
  until?: number;
  /** Outage failures in a row (reset by any success). */
  consecutiveFailures: number;
  /** Code of the last outage failure (`UPSTREAM_TIMEOUT`...), if any since the last success. */
  lastFailureCode?: string;
  /** Whether the one probe request of the half-open state is in flight. */
  probeInFlight: boolean;
}

/** Leave to send one request; hand it back through {@link CircuitBreaker.record}. */
export interface CircuitPermit {
  /** This request is the half-open probe: send it once, without retries. */
  readonly probe: boolean;
  /** The breaker generation it was issued in; results of an older generation do not move the state. */
  readonly generation: number;
}

/**
 * How a request ended, for the breaker: `success` (the server answered, whatever the status, as
 * long as it is not a gateway/overload 5xx), `failure` (the server is not answering: unreachable,
 * timeout, 502/503/504 after retries), `neutral` (says nothing about the server: the caller
 * aborted, a TLS configuration problem).
 */
export type CircuitOutcome = { kind: 'success' } | { kind: 'failure'; code: string } | { kind: 'neutral' };

/** What a state change looked like, for logging by the owner. */
export interface CircuitTransition {
  from: CircuitStateName;
  to: CircuitStateName;
  state: CircuitState;
  /** True when the change was adopted from another replica's breaker (`adopt`), not found by this one. */
  remote: boolean;
}

/**
 * Another replica's breaker of the same server, as it travels between replicas: open for
 * `remainingMs` more (a duration, so the replicas' clocks need not agree), or closed again.
 */
export type RemoteCircuit = { circuit: 'open'; remainingMs: number; lastFailureCode?: string } | { circuit: 'closed' };

const DEFAULTS = HTTP_DEFAULTS.circuitBreaker;

/**
 * Per-server circuit breaker. After `failureThreshold` consecutive outage failures the circuit
 * opens and calls fail at once for `cooldownMs`, so a dead server costs the gateway nothing (no
 * sockets, no timeouts waited out, no retry budget) and is not hammered while it restarts. After
 * the cooldown exactly one probe is let through (half-open) while every other caller still fails
 * fast; its success closes the circuit, its failure re-opens it with a doubled cooldown (capped
 * at `maxCooldownMs`), so a long outage is probed less and less often.
 *
 * Time comes only from the injected clock; the state moves lazily when asked (no timers), which
 * keeps it deterministic in tests and free of handles that would keep a process alive.
 *
 * Results of requests issued before the last state change are ignored: the requests that were in
 * flight when the circuit opened fail late, and must neither extend the cooldown nor close it.
 */
export class CircuitBreaker {
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly maxCooldownMs: number;
  private state: CircuitStateName = 'closed';
  private failures = 0;
  private lastCode: string | undefined;
  private openedAt: number | undefined;
  private until: number | undefined;
  /** Failed probes in this outage: the cooldown is `cooldownMs * 2^reopens`, capped. */
  private reopens = 0;
  private probing = false;
  private generation = 0;

  /**
   * @param options threshold and cooldowns, see {@link CircuitBreakerOptions}
   * @param now clock in epoch ms
   * @param onTransition called on every state change (logging); exceptions are not caught
   * @throws {RangeError} on a threshold below 1 or cooldowns that are not positive or out of order
   */
  constructor(
    options: CircuitBreakerOptions,
    private readonly now: () => number,
    private readonly onTransition?: (t: CircuitTransition) => void,
  ) {
    this.threshold = options.failureThreshold ?? DEFAULTS.failureThreshold;
    this.cooldownMs = options.cooldownMs ?? DEFAULTS.cooldownMs;
    this.maxCooldownMs = options.maxCooldownMs ?? Math.max(DEFAULTS.maxCooldownMs, this.cooldownMs);
    if (!(Number.isInteger(this.threshold) && this.threshold >= 1)) throw new RangeError('circuit breaker failureThreshold must be an integer >= 1');
    if (!(this.cooldownMs > 0) || !(this.maxCooldownMs >= this.cooldownMs)) {
      throw new RangeError('circuit breaker cooldownMs must be > 0 and maxCooldownMs >= cooldownMs');
    }
  }

  /**
   * Leave to send a request, or undefined when the call must fail fast (open, or half-open with
   * the probe already out). The first caller after the cooldown becomes the probe.
   */
  tryAcquire(): CircuitPermit | undefined {
    this.settle();
    if (this.state === 'closed') return { probe: false, generation: this.generation };
    if (this.state === 'open' || this.probing) return undefined;
    this.probing = true;
    return { probe: true, generation: this.generation };
  }

  /**
   * Report how a permitted request ended.
   *
   * @param permit what {@link tryAcquire} returned for it
   * @param outcome see {@link CircuitOutcome}
   */
  record(permit: CircuitPermit, outcome: CircuitOutcome): void {
    if (permit.generation !== this.generation) return;
    if (permit.probe) {
      this.probing = false;
      if (outcome.kind === 'success') this.close();
      else if (outcome.kind === 'failure') this.open(outcome.code, true);
      // neutral: the slot is free again, the next caller probes
      return;
    }
    if (outcome.kind === 'success') {
      this.failures = 0;
      this.lastCode = undefined;
    } else if (outcome.kind === 'failure') {
      this.failures++;
      this.lastCode = outcome.code;
      if (this.failures >= this.threshold) this.open(outcome.code, false);
    }
  }

  /**
   * Takes another replica's finding: a server it found down is skipped here too until its cooldown
   * ends (then this breaker probes as usual), and one it found back is called again. A breaker open
   * on its own evidence keeps the later of the two deadlines.
   */
  adopt(remote: RemoteCircuit): void {
    this.settle();
    if (remote.circuit === 'closed') {
      if (this.state !== 'closed' && !this.probing) this.close(true);
      return;
    }
    const until = this.now() + Math.max(0, remote.remainingMs);
    if (this.state === 'open') {
      this.until = Math.max(this.until ?? 0, until);
      return;
    }
    if (this.probing) return;
    this.openedAt = this.now();
    this.until = until;
    this.lastCode = remote.lastFailureCode ?? this.lastCode;
    this.move('open', true);
  }

  /** The current state (an elapsed cooldown reads as half-open: the next call is the probe). */
  snapshot(): CircuitState {
    this.settle();
    return this.view();
  }

  private view(): CircuitState {
    return {
      circuit: this.state,
      ...(this.openedAt !== undefined && { openedAt: this.openedAt }),
      ...(this.until !== undefined && { until: this.until }),
      consecutiveFailures: this.failures,
      ...(this.lastCode !== undefined && { lastFailureCode: this.lastCode }),
      probeInFlight: this.probing,
    };
  }

  private settle(): void {
    if (this.state === 'open' && this.until !== undefined && this.now() >= this.until) this.move('half-open');
  }

  private open(code: string, afterProbe: boolean): void {
    const at = this.now();
    if (afterProbe) {
      this.reopens++;
      this.failures++;
    } else {
      this.reopens = 0;
      this.openedAt = at;
    }
    this.lastCode = code;
    this.until = at + Math.min(this.maxCooldownMs, this.cooldownMs * 2 ** this.reopens);
    this.move('open');
  }

  private close(remote = false): void {
    this.failures = 0;
    this.lastCode = undefined;
    this.reopens = 0;
    this.openedAt = undefined;
    this.until = undefined;
    this.move('closed', remote);
  }

  private move(to: CircuitStateName, remote = false): void {
    const from = this.state;
    this.state = to;
    this.generation++;
    this.onTransition?.({ from, to, state: this.view(), remote });
  }
}
