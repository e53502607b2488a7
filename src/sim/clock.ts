/** A source of "now" in epoch milliseconds. Simulators read time only through it, so tests can drive expiry. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: tests advance it to expire sessions and tokens. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | string = '2026-11-01T00:00:00Z') {
    this.current = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.current;
  }

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.current += ms;
  }

  set(epochMs: number): void {
    this.current = epochMs;
  }
}
