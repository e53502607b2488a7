import { Random } from './Random.js';

/** What a fault does to a matching request. */
export type FaultAction =
  /** Answer with this HTTP status and the API's own error body (EM `<Error>`, VB365 `{"message"}`). */
  | { status: number; message?: string; retryAfter?: number }
  /** Destroy the socket with a TCP reset before any byte of the response. */
  | { reset: true }
  /** Never answer (until the simulator closes). */
  | { hang: true }
  /** Answer the real status and headers but cut the body in half and append garbage. */
  | { malformed: true }
  /** Send the real response in chunks of `chunkBytes`, waiting `chunkDelayMs` between chunks. */
  | { slowBody: { chunkBytes: number; chunkDelayMs: number } };

/** A fault rule: which requests it hits, what it does, how often. */
export interface FaultRule {
  /** Regular expression source tested against `METHOD /path?query` (e.g. `^POST /api/sessionMngr`). Default: every request. */
  match?: string;
  /** Fire on the Nth matching request only (1-based, counted from when the rule was set), then on the next `times - 1`. */
  nth?: number;
  /** How many times the rule fires in all; default unlimited (or 1 when `nth` is given). */
  times?: number;
  action: FaultAction;
}

/** The knobs of one simulator instance. Settable at start, in code, and over HTTP (`POST /_sim/faults`). */
export interface FaultOptions {
  /** Fixed latency added before every response, in ms. */
  latencyMs?: number;
  /** Extra random latency in [0, jitterMs), from a seeded generator. */
  jitterMs?: number;
  rules?: FaultRule[];
}

interface ActiveRule {
  rule: FaultRule;
  regex: RegExp | undefined;
  seen: number;
  fired: number;
}

/** Per-instance fault state. Never global: two simulators in one process fail independently. */
export class Faults {
  latencyMs = 0;
  jitterMs = 0;
  private rules: ActiveRule[] = [];
  private readonly random: Random;

  constructor(options: FaultOptions = {}, seed: number | string = 1) {
    this.random = new Random(`faults:${seed}`);
    this.set(options);
  }

  /** Replaces every knob given; a knob left out keeps its value, `rules` replaces the rule list. */
  set(options: FaultOptions): void {
    validateFaultOptions(options);
    if (options.latencyMs !== undefined) this.latencyMs = options.latencyMs;
    if (options.jitterMs !== undefined) this.jitterMs = options.jitterMs;
    if (options.rules !== undefined) this.rules = options.rules.map(activate);
  }

  /** Adds one rule after the existing ones. */
  add(rule: FaultRule): void {
    validateRule(rule, 'rule');
    this.rules.push(activate(rule));
  }

  clear(): void {
    this.latencyMs = 0;
    this.jitterMs = 0;
    this.rules = [];
  }

  describe(): FaultOptions {
    return { latencyMs: this.latencyMs, jitterMs: this.jitterMs, rules: this.rules.map((r) => r.rule) };
  }

  /** The delay to apply to the next response, in ms. */
  delay(): number {
    return this.latencyMs + (this.jitterMs > 0 ? this.random.next() * this.jitterMs : 0);
  }

  /** The action for this request, if a rule fires; counts the request against every matching rule. */
  pick(method: string, pathAndQuery: string): FaultAction | undefined {
    const subject = `${method} ${pathAndQuery}`;
    let chosen: FaultAction | undefined;
    for (const active of this.rules) {
      if (active.regex && !active.regex.test(subject)) continue;
      active.seen++;
      if (chosen) continue;
      const { nth } = active.rule;
      const limit = active.rule.times ?? (nth !== undefined ? 1 : Infinity);
      if (active.fired >= limit) continue;
      if (nth !== undefined && active.seen < nth) continue;
      active.fired++;
      chosen = active.rule.action;
    }
    return chosen;
  }
}

function activate(rule: FaultRule): ActiveRule {
  return { rule, regex: rule.match ? new RegExp(rule.match, 'i') : undefined, seen: 0, fired: 0 };
}

/** Validates knobs that arrive as JSON over HTTP; throws an Error naming the bad key. */
export function validateFaultOptions(options: unknown): asserts options is FaultOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new Error('faults: expected a JSON object');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['latencyMs', 'jitterMs', 'rules'].includes(key)) throw new Error(`faults.${key}: unknown knob`);
  }
  for (const key of ['latencyMs', 'jitterMs'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new Error(`faults.${key}: expected a number >= 0`);
  }
  if (o.rules !== undefined) {
    if (!Array.isArray(o.rules)) throw new Error('faults.rules: expected an array');
    o.rules.forEach((r, i) => validateRule(r, `faults.rules[${i}]`));
  }
}

function validateRule(rule: unknown, at: string): asserts rule is FaultRule {
  if (typeof rule !== 'object' || rule === null) throw new Error(`${at}: expected an object`);
  const r = rule as Record<string, unknown>;
  if (r.match !== undefined) {
    if (typeof r.match !== 'string') throw new Error(`${at}.match: expected a regular expression string`);
    try {
      new RegExp(r.match);
    } catch {
      throw new Error(`${at}.match: not a valid regular expression`);
    }
  }
  for (const key of ['nth', 'times'] as const) {
    const v = r[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) throw new Error(`${at}.${key}: expected an integer >= 1`);
  }
  const a = r.action as Record<string, unknown> | undefined;
  if (typeof a !== 'object' || a === null) throw new Error(`${at}.action: expected an object`);
  const ok =
    (typeof a.status === 'number' && Number.isInteger(a.status) && a.status >= 100 && a.status <= 599) ||
    a.reset === true ||
    a.hang === true ||
    a.malformed === true ||
    (typeof a.slowBody === 'object' && a.slowBody !== null);
  if (!ok) throw new Error(`${at}.action: expected one of {status}, {reset:true}, {hang:true}, {malformed:true}, {slowBody:{chunkBytes,chunkDelayMs}}`);
}
