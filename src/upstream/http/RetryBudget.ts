import { HTTP_DEFAULTS } from './httpDefaults.js';

/** Tuning of a {@link RetryBudget} (config `retry.budgetRatio`; the capacity is no config key). */
export interface RetryBudgetOptions {
  /** Tokens earned per first attempt: retries may be at most this share of requests. Default 0.2 (`HTTP_DEFAULTS.retry.budgetRatio`). */
  ratio?: number;
  /** Bucket size and initial content: the burst of retries allowed before the ratio applies. Default 10 (`HTTP_DEFAULTS.retry.budgetCapacity`). */
  capacity?: number;
}

/**
 * Token bucket that bounds retries per server, so a dead or overloaded upstream receives at most
 * `ratio` extra requests per request plus a small burst (`capacity`), instead of `1 + limit` times
 * the traffic (the retry-storm problem described in Google SRE "Handling Overload" and gRPC's retry
 * throttling, which this follows). Each first attempt deposits `ratio` tokens; each retry
 * withdraws one. No clock: the budget refills with traffic, not with time, which keeps it
 * deterministic in tests and right for a gateway whose traffic is the thing being protected.
 */
export class RetryBudget {
  private readonly ratio: number;
  private readonly capacity: number;
  private tokens: number;

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio ?? HTTP_DEFAULTS.retry.budgetRatio;
    this.capacity = options.capacity ?? HTTP_DEFAULTS.retry.budgetCapacity;
    if (!(this.ratio >= 0) || !(this.capacity >= 0)) throw new RangeError('RetryBudget ratio and capacity must be >= 0');
    this.tokens = this.capacity;
  }

  /** Record a first attempt (not a retry). */
  deposit(): void {
    this.tokens = Math.min(this.capacity, this.tokens + this.ratio);
  }

  /**
   * Take one retry token if there is one.
   *
   * @returns true when the retry may go ahead
   */
  tryWithdraw(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens currently available (fractional). */
  get available(): number {
    return this.tokens;
  }
}
