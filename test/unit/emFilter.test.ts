import { describe, expect, it } from '@jest/globals';
import {
  and,
  anyOf,
  buildQueryUrl,
  chunkByUrlLength,
  emDate,
  eq,
  ge,
  gt,
  le,
  lt,
  ne,
  or,
  quoteEmValue,
  renderEmFilter,
  unescapePagingHref,
} from '../../src/upstream/em/emFilter.js';

/**
 * An independent reading of EM's filter grammar (docs/veeam-wire.md Part 1 section 5), written without
 * looking at the builder: tokenise, then parse with `;` binding tighter than `,`. Returns the tree
 * with values unquoted, so a test can assert that hostile values come back as the same data.
 */
type Parsed = { cmp: [string, string, string] } | { and: Parsed[] } | { or: Parsed[] };

function tokenize(s: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= s.length) throw new Error(`unterminated string at ${i}`);
        if (s[j] === '"') {
          if (s[j + 1] === '"') {
            value += '"';
            j += 2;
            continue;
          }
          break;
        }
        value += s[j];
        j++;
      }
      tokens.push(`V${value}`);
      i = j + 1;
    } else if ('(),;'.includes(c)) {
      tokens.push(c);
      i++;
    } else if ('=!<>'.includes(c)) {
      const two = s.slice(i, i + 2);
      const op = ['==', '!=', '<=', '>='].includes(two) ? two : c;
      if (op === '=' || op === '!') throw new Error(`bad operator at ${i}`);
      tokens.push(`O${op}`);
      i += op.length;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (j < s.length && /[A-Za-z0-9_]/.test(s[j] as string)) j++;
      tokens.push(`F${s.slice(i, j)}`);
      i = j;
    } else {
      throw new Error(`unexpected ${JSON.stringify(c)} at ${i}: values must be quoted`);
    }
  }
  return tokens;
}

function parseFilter(s: string): Parsed {
  const t = tokenize(s);
  let p = 0;
  const orExpr = (): Parsed => {
    const items = [andExpr()];
    while (t[p] === ',') {
      p++;
      items.push(andExpr());
    }
    return items.length === 1 ? (items[0] as Parsed) : { or: items };
  };
  const andExpr = (): Parsed => {
    const items = [atom()];
    while (t[p] === ';') {
      p++;
      items.push(atom());
    }
    return items.length === 1 ? (items[0] as Parsed) : { and: items };
  };
  const atom = (): Parsed => {
    if (t[p] === '(') {
      p++;
      const inner = orExpr();
      if (t[p++] !== ')') throw new Error('missing )');
      return inner;
    }
    const [f, o, v] = [t[p], t[p + 1], t[p + 2]];
    if (!f?.startsWith('F') || !o?.startsWith('O') || !v?.startsWith('V')) throw new Error(`bad comparison at token ${p}: ${f} ${o} ${v}`);
    p += 3;
    return { cmp: [f.slice(1), o.slice(1), v.slice(1)] };
  };
  const tree = orExpr();
  if (p !== t.length) throw new Error(`trailing tokens from ${p}`);
  return tree;
}

const HOSTILE = ['a;b,c==d', 'x"y', '(z)', ' spaced ', '""', '', 'UID=="x"', 'a)(b', ';', ',', '\\', 'ünï©ødé', '%3B%2C', 'tab\there', 'x"";y'];

describe('renderEmFilter', () => {
  it('renders each operator with the value always quoted', () => {
    expect([eq, ne, lt, gt, le, ge].map((f) => renderEmFilter(f('Name', 'x')))).toEqual([
      'Name=="x"',
      'Name!="x"',
      'Name<"x"',
      'Name>"x"',
      'Name<="x"',
      'Name>="x"',
    ]);
    expect(renderEmFilter(eq('Port', 9392))).toBe('Port=="9392"');
    expect(renderEmFilter(eq('Flag', false))).toBe('Flag=="false"');
  });

  it('doubles inner quotes', () => {
    expect(quoteEmValue('x"y')).toBe('"x""y"');
    expect(renderEmFilter(eq('Name', '"Backup"'))).toBe('Name=="""Backup"""');
  });

  it('renders dates as ISO UTC with Z', () => {
    expect(renderEmFilter(le('CreationTime', new Date(Date.UTC(2025, 7, 15, 6, 0, 0))))).toBe('CreationTime<="2025-08-15T06:00:00Z"');
    expect(emDate(new Date(Date.UTC(2025, 7, 15, 6, 0, 0, 250)))).toBe('2025-08-15T06:00:00.250Z');
    expect(renderEmFilter(le('CreationTime', '2025-08-16T05:17:38.22142Z'))).toBe('CreationTime<="2025-08-16T05:17:38.22142Z"');
  });

  it.each(HOSTILE)('keeps %j as data: the filter round-trips through an independent parser', (value) => {
    const f = and(eq('Name', value), or(eq('State', value), ne('Result', 'Failed')));
    expect(parseFilter(renderEmFilter(f))).toEqual({
      and: [{ cmp: ['Name', '==', value] }, { or: [{ cmp: ['State', '==', value] }, { cmp: ['Result', '!=', 'Failed'] }] }],
    });
  });

  it('parenthesises OR groups inside AND and AND groups inside OR', () => {
    const f = and(ge('CreationTime', '2025-01-01T00:00:00Z'), or(eq('State', 'Working'), eq('State', 'Stopped')));
    expect(renderEmFilter(f)).toBe('CreationTime>="2025-01-01T00:00:00Z";(State=="Working",State=="Stopped")');
    const g = or(and(eq('JobType', 'Replica'), eq('ScheduleConfigured', false)), and(eq('JobType', 'Backup'), eq('ScheduleConfigured', true)));
    expect(renderEmFilter(g)).toBe('(JobType=="Replica";ScheduleConfigured=="false"),(JobType=="Backup";ScheduleConfigured=="true")');
    // an independent parser where AND binds tighter reads the same tree back
    expect(parseFilter(renderEmFilter(g))).toEqual({
      or: [
        { and: [{ cmp: ['JobType', '==', 'Replica'] }, { cmp: ['ScheduleConfigured', '==', 'false'] }] },
        { and: [{ cmp: ['JobType', '==', 'Backup'] }, { cmp: ['ScheduleConfigured', '==', 'true'] }] },
      ],
    });
  });

  it('flattens same-kind nesting and collapses single operands', () => {
    expect(renderEmFilter(and(eq('A', '1'), and(eq('B', '2'), eq('C', '3'))))).toBe('A=="1";B=="2";C=="3"');
    expect(renderEmFilter(or(eq('A', '1')))).toBe('A=="1"');
  });

  it('rejects hostile field names, empty groups, invalid dates', () => {
    expect(() => eq('Name==x;', 'y')).toThrow(TypeError);
    expect(() => eq('', 'y')).toThrow(TypeError);
    expect(() => and()).toThrow(TypeError);
    expect(() => or()).toThrow(TypeError);
    expect(() => eq('CreationTime', new Date('nope'))).toThrow(TypeError);
    expect(() => eq('Port', Number.NaN)).toThrow(TypeError);
  });
});

describe('buildQueryUrl', () => {
  it('builds path and parameters in EM order, URL-encoding the filter', () => {
    const u = buildQueryUrl({
      type: 'RestoreSession',
      format: 'Entities',
      filter: and(le('CreationTime', '2025-08-16T05:17:38Z'), eq('Name', 'a;b "c" & d')),
      sortDesc: 'CreationTime',
      pageSize: 101,
      page: 1,
    });
    expect(u.path).toBe('query');
    expect([...u.searchParams.keys()]).toEqual(['type', 'format', 'filter', 'sortDesc', 'pageSize', 'page']);
    expect(u.href).toBe(
      'query?type=RestoreSession&format=Entities&filter=CreationTime%3C%3D%222025-08-16T05%3A17%3A38Z%22%3BName%3D%3D%22a%3Bb+%22%22c%22%22+%26+d%22&sortDesc=CreationTime&pageSize=101&page=1',
    );
    // EM decodes before parsing: decoding gives back the exact filter text
    expect(new URLSearchParams(u.href.slice('query?'.length)).get('filter')).toBe('CreationTime<="2025-08-16T05:17:38Z";Name=="a;b ""c"" & d"');
  });

  it('accepts a pre-rendered filter and omits what is not given', () => {
    expect(buildQueryUrl({ type: 'BackupServer', filter: 'Name=="x"' }).href).toBe('query?type=BackupServer&filter=Name%3D%3D%22x%22');
    expect(buildQueryUrl({ type: 'BackupServer' }).href).toBe('query?type=BackupServer');
  });

  it('rejects conflicting sorts and bad paging', () => {
    expect(() => buildQueryUrl({ type: 'RestoreSession', sortAsc: 'Name', sortDesc: 'Name' })).toThrow(/not both/);
    expect(() => buildQueryUrl({ type: 'RestoreSession', pageSize: 0 })).toThrow(/pageSize/);
    expect(() => buildQueryUrl({ type: 'RestoreSession', page: 0 })).toThrow(/1-based/);
    expect(() => buildQueryUrl({ type: 'Restore Session' })).toThrow(/identifier/);
    expect(() => buildQueryUrl({ type: 'RestoreSession', sortAsc: 'Name;x' })).toThrow(/identifier/);
  });
});

describe('unescapePagingHref', () => {
  const clean = 'https://em:9398/api/query?type=RestoreSession&pageSize=2&page=2&filter=Name%3d%3d%22a%26amp%3bb%22';
  it('turns escaped separators into & and is idempotent', () => {
    expect(unescapePagingHref('https://em:9398/api/query?type=RestoreSession&amp;pageSize=2&amp;page=2')).toBe(
      'https://em:9398/api/query?type=RestoreSession&pageSize=2&page=2',
    );
    expect(unescapePagingHref('https://em:9398/api/query?type=x&amp;amp;page=2')).toBe('https://em:9398/api/query?type=x&page=2');
    expect(unescapePagingHref(clean)).toBe(clean);
    expect(unescapePagingHref(unescapePagingHref(clean))).toBe(clean);
  });
  it('never touches percent-encoded data', () => {
    const u = new URL(unescapePagingHref(clean));
    expect(u.searchParams.get('filter')).toBe('Name=="a&amp;b"');
  });
});

describe('chunkByUrlLength', () => {
  const uids = Array.from({ length: 100 }, (_, i) => `urn:veeam:RestoreSession:${String(i).padStart(8, '0')}-0325-4119-b789-5c0367c6c565`);
  const baseUrl = 'https://em-hq.corp.example.com:9398/api/';

  it('keeps every URL under the budget, preserves order, loses nothing', () => {
    const chunks = chunkByUrlLength(uids, 2000, { overhead: 0 });
    expect(chunks.flat()).toEqual(uids);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      const { href } = buildQueryUrl({ type: 'RestoreSession', format: 'Entities', filter: anyOf(chunk), sortAsc: 'CreationTime', pageSize: chunk.length });
      const filterLength = new URLSearchParams({ f: renderEmFilter(anyOf(chunk)) }).toString().length - 2;
      expect(filterLength).toBeLessThanOrEqual(2000);
      expect(`${baseUrl}${href}`.length).toBeLessThanOrEqual(2000 + 200);
    }
  });

  it('with the default overhead, full URLs stay under the default 8000 characters', () => {
    for (const chunk of chunkByUrlLength(uids)) {
      const { href } = buildQueryUrl({
        type: 'RestoreSession',
        format: 'Entities',
        filter: anyOf(chunk),
        sortAsc: 'CreationTime',
        pageSize: chunk.length,
        page: 1,
      });
      expect(`${baseUrl}${href}`.length).toBeLessThanOrEqual(8000);
    }
    // ~95 URN terms per request: one call for one server's share of a page of links
    expect(chunkByUrlLength(uids)[0]?.length).toBeGreaterThanOrEqual(80);
  });

  it('handles the edges', () => {
    expect(chunkByUrlLength([])).toEqual([]);
    expect(chunkByUrlLength(['x'.repeat(5000)])).toEqual([['x'.repeat(5000)]]);
    expect(chunkByUrlLength(['a', 'b'], 2000, { field: 'Name' })).toEqual([['a', 'b']]);
  });

  it('renders one chunk as an OR of UID comparisons', () => {
    expect(renderEmFilter(anyOf(['u1', 'u2']))).toBe('UID=="u1",UID=="u2"');
  });
});
