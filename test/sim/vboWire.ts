/**
 * Compares a simulator response with a docs sample and lists every difference, so a failing test
 * names the field. `values` mode: same keys, same values (dates equal to the millisecond, the
 * simulator's precision; hrefs equal after swapping hosts). `shape` mode: same keys and nesting,
 * same JSON types, same date form (`Z` vs offset) and href form (absolute vs root-relative).
 */
export interface WireOptions {
  mode: 'values' | 'shape';
  /** The simulator's base URL, swapped for the sample's host in `values` mode. */
  base: string;
  /** Keys the simulator may add (documented fields absent from a sample), anywhere. */
  extraKeys?: string[];
  /** Keys whose value differs by nature (random ids, tokens): compared by type only. */
  anyValue?: string[];
}

const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$/;
const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

export function wireDiff(actual: unknown, expected: unknown, options: WireOptions, path = '$'): string[] {
  const diffs: string[] = [];
  const key = path.split('.').pop() ?? '';
  if (kind(actual) !== kind(expected))
    return [`${path}: expected ${kind(expected)} ${JSON.stringify(expected)}, got ${kind(actual)} ${JSON.stringify(actual)}`];
  if (Array.isArray(expected)) {
    const a = actual as unknown[];
    if (options.mode === 'values' && a.length !== expected.length) diffs.push(`${path}: expected ${expected.length} items, got ${a.length}`);
    const n = options.mode === 'values' ? Math.min(a.length, expected.length) : Math.min(1, a.length, expected.length);
    for (let i = 0; i < n; i++) diffs.push(...wireDiff(a[i], expected[i], options, `${path}[${i}]`));
    return diffs;
  }
  if (typeof expected === 'object' && expected !== null) {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (!(k in a)) diffs.push(`${path}.${k}: missing`);
      else diffs.push(...wireDiff(a[k], e[k], options, `${path}.${k}`));
    }
    for (const k of Object.keys(a)) if (!(k in e) && !(options.extraKeys ?? []).includes(k)) diffs.push(`${path}.${k}: unexpected key`);
    return diffs;
  }
  if (typeof expected === 'string' && typeof actual === 'string') {
    if (key === 'href') {
      const eAbs = /^https?:\/\//.test(expected);
      const aAbs = /^https?:\/\//.test(actual);
      if (eAbs !== aAbs) return [`${path}: href form differs: expected ${expected}, got ${actual}`];
      if (options.mode === 'values') {
        const strip = (h: string): string => h.replace(/^https?:\/\/[^/]+/, '');
        if (strip(actual) !== strip(expected)) diffs.push(`${path}: expected ${expected}, got ${actual}`);
      }
      return diffs;
    }
    if (DATE.test(expected) || RFC1123.test(expected)) {
      const zone = (s: string): string => (RFC1123.test(s) ? 'rfc1123' : s.endsWith('Z') ? 'Z' : 'offset');
      if (!(DATE.test(actual) || RFC1123.test(actual)) || zone(actual) !== zone(expected))
        return [`${path}: date form differs: expected ${expected}, got ${actual}`];
      if (zone(expected) === 'offset' && actual.slice(-6) !== expected.slice(-6) && options.mode === 'values')
        diffs.push(`${path}: offset differs: ${expected} vs ${actual}`);
      if (options.mode === 'values' && Math.abs(Date.parse(actual) - Date.parse(expected)) >= 1) diffs.push(`${path}: expected ${expected}, got ${actual}`);
      return diffs;
    }
  }
  if (options.mode === 'values' && !(options.anyValue ?? []).includes(key) && actual !== expected)
    diffs.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  return diffs;
}
