/**
 * Time for the memory layer and the background probes: a clock and timers, injected so that
 * tests drive them (`ManualScheduler`) instead of waiting on real time.
 */
export interface Scheduler {
  /** Epoch ms. */
  now(): number;
  /** Calls `fn` once after `ms`; returns a cancel function. Timers never keep the process alive. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** Real time: `Date.now` and unref'd timers. */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A scheduler whose time moves only when told (`advance`); due timers fire in time order. Methods are bound (pass `scheduler.now` around). */
export class ManualScheduler implements Scheduler {
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(private time = 0) {}

  readonly now = (): number => this.time;

  readonly setTimer = (ms: number, fn: () => void): (() => void) => {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  };

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = until;
  }
}
