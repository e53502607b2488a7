import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseEmDate } from '../../src/sim/em/compileFilter.js';
import { FilterSyntaxError, parseFilter } from '../../src/sim/em/parseFilter.js';
import type { FilterNode } from '../../src/sim/em/parseFilter.js';
import { docWorld, session } from './emDocWorld.js';
import { startEm, xmlBody } from './emHarness.js';
import type { EmHarness } from './emHarness.js';

/** A compact rendering of the AST: `(a|b)` OR, `[a&b]` AND, `field op "value"`. */
function show(n: FilterNode): string {
  if (n.kind === 'or') return `(${n.items.map(show).join('|')})`;
  if (n.kind === 'and') return `[${n.items.map(show).join('&')}]`;
  return `${n.field}${n.op}${JSON.stringify(n.value)}`;
}

describe('parseFilter grammar', () => {
  it('parses every operator', () => {
    for (const op of ['==', '!=', '<', '>', '<=', '>=']) expect(show(parseFilter(`Name${op}x`))).toBe(`Name${op}"x"`);
  });

  it('binds ; (AND) tighter than , (OR)', () => {
    expect(show(parseFilter('a==1;b==2,c==3'))).toBe('([a=="1"&b=="2"]|c=="3")');
    expect(show(parseFilter('a==1,b==2;c==3'))).toBe('(a=="1"|[b=="2"&c=="3"])');
  });

  it('lets parentheses override precedence and nest', () => {
    expect(show(parseFilter('a==1;(b==2,c==3)'))).toBe('[a=="1"&(b=="2"|c=="3")]');
    expect(show(parseFilter('(jobtype==replica;scheduleconfigured==false),(jobtype==backup;scheduleconfigured==true)'))).toBe(
      '([jobtype=="replica"&scheduleconfigured=="false"]|[jobtype=="backup"&scheduleconfigured=="true"])',
    );
    expect(show(parseFilter('((a==1))'))).toBe('a=="1"');
  });

  it('keeps hostile characters inside quotes and undoubles inner quotes', () => {
    expect(show(parseFilter('Name=="a;b,c==d"'))).toBe('Name=="a;b,c==d"');
    expect(show(parseFilter('Name=="x""y"'))).toBe('Name=="x\\"y"');
    expect(show(parseFilter('Name=="(z)"'))).toBe('Name=="(z)"');
    expect(show(parseFilter('Name==" spaced "'))).toBe('Name==" spaced "');
    expect(show(parseFilter('Name=="say ""hi"""'))).toBe('Name=="say \\"hi\\""');
    expect(show(parseFilter('Name==""'))).toBe('Name==""');
    expect(show(parseFilter('( Name == "a" ; State == Stopped )'))).toBe('[Name=="a"&State=="Stopped"]');
  });

  it('drops whitespace inside bare values ("else spaces are ignored") and reads bare dates and GUIDs', () => {
    expect(show(parseFilter('Name==File server'))).toBe('Name=="Fileserver"');
    expect(show(parseFilter('CreationTime>2025-08-14T12:31:30Z'))).toBe('CreationTime>"2025-08-14T12:31:30Z"');
    expect(show(parseFilter('UID==f7d731be-0c49-4b8e-9f8b-1b7e4f2d6a10'))).toBe('UID=="f7d731be-0c49-4b8e-9f8b-1b7e4f2d6a10"');
  });

  it.each([
    ['Name==', 'missing value'],
    ['Name=x', 'comparison operator'],
    ['Name', 'comparison operator'],
    ['==x', 'field name'],
    ['Name=="abc', 'unterminated'],
    ['(Name==a', 'missing ")"'],
    ['Name==a)', 'unbalanced ")"'],
    ['Name=="a"b', 'after the quoted value'],
    ['Name==a"b', 'quote inside an unquoted value'],
    ['Name==a;', 'field name'],
    [',Name==a', 'field name'],
    ['Name=<a', 'comparison operator'],
    ['Name==a b"c', 'quote inside an unquoted value'],
  ])('rejects %s', (text, message) => {
    expect(() => parseFilter(text)).toThrow(FilterSyntaxError);
    expect(() => parseFilter(text)).toThrow(message);
  });

  it('parses UTC dates with 0-7 fraction digits, refuses offsets and garbage', () => {
    expect(parseEmDate('2025-08-14T12:31:30.389954Z')).toEqual({ ms: Date.parse('2025-08-14T12:31:30.389Z'), subMs: 0.954 });
    expect(parseEmDate('2025-08-14T12:31:30.0000001Z')).toEqual({ ms: Date.parse('2025-08-14T12:31:30Z'), subMs: 0.0001 });
    expect(parseEmDate('2025-08-14T12:31:30Z')).toEqual({ ms: Date.parse('2025-08-14T12:31:30Z'), subMs: 0 });
    expect(parseEmDate('2025-08-14')).toEqual({ ms: Date.parse('2025-08-14T00:00:00Z'), subMs: 0 });
    expect(parseEmDate('2025-08-14T12:31:30+02:00')).toBeUndefined();
    expect(parseEmDate('2025-02-30T00:00:00Z')).toBeUndefined();
    expect(parseEmDate('yesterday')).toBeUndefined();
  });
});

describe('filter semantics over HTTP', () => {
  let h: EmHarness;
  const T0 = Date.parse('2026-10-01T00:00:00Z');
  const ids = {
    semi: '10000000-0000-4000-8000-000000000001',
    quote: '10000000-0000-4000-8000-000000000002',
    paren: '10000000-0000-4000-8000-000000000003',
    spaced: '10000000-0000-4000-8000-000000000004',
    hi: '10000000-0000-4000-8000-000000000005',
    running: '10000000-0000-4000-8000-000000000006',
    failed: '10000000-0000-4000-8000-000000000007',
    warning: '10000000-0000-4000-8000-000000000008',
  };

  beforeAll(async () => {
    const w = docWorld();
    w.restoreSessions.push(
      session({ id: ids.semi, creationTime: T0, vmDisplayName: 'a;b,c==d', name: 'semi' }),
      session({ id: ids.quote, creationTime: T0 + 1000, vmDisplayName: 'x"y', name: 'quote' }),
      session({ id: ids.paren, creationTime: T0 + 2000, vmDisplayName: '(z)', name: 'paren' }),
      session({ id: ids.spaced, creationTime: T0 + 3000, vmDisplayName: ' spaced ', name: 'spaced' }),
      session({ id: ids.hi, creationTime: T0 + 4000, vmDisplayName: 'say "hi"', name: 'hi', jobType: 'FileLevelRestore' }),
      session({ id: ids.running, creationTime: T0 + 5000, endTime: undefined, state: 'Working', result: 'None', name: 'running' }),
      session({ id: ids.failed, creationTime: T0 + 6000, result: 'Failed', name: 'failed', backupServer: 2 }),
      session({ id: ids.warning, creationTime: T0 + 7000, result: 'Warning', name: 'warning', state: 'Stopped' }),
    );
    h = await startEm(w);
  });
  afterAll(() => h.close());

  /** Names of the sessions a filter selects, in creation order. */
  async function names(filter: string, extra = ''): Promise<string[]> {
    const res = await h.get(`/api/query?type=RestoreSession&filter=${encodeURIComponent(filter)}${extra}`);
    expect(res.status).toBe(200);
    const body = await xmlBody(res);
    return body.children.find((c) => c.name === 'Refs')!.children.map((r) => r.attrs.Name!);
  }

  async function status400(filter: string): Promise<string> {
    const res = await h.get(`/api/query?type=RestoreSession&filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(400);
    const body = await xmlBody(res);
    expect(body.name).toBe('Error');
    expect(body.attrs.StatusCode).toBe('400');
    return body.attrs.Message!;
  }

  it('matches hostile values exactly when quoted', async () => {
    expect(await names('VmDisplayName=="a;b,c==d"')).toEqual(['semi']);
    expect(await names('VmDisplayName=="x""y"')).toEqual(['quote']);
    expect(await names('VmDisplayName=="(z)"')).toEqual(['paren']);
    expect(await names('VmDisplayName==" spaced "')).toEqual(['spaced']);
    expect(await names('VmDisplayName=="say ""hi"""')).toEqual(['hi']);
    // Unquoted, spaces vanish and no longer match.
    expect(await names('VmDisplayName==spaced')).toEqual([]);
  });

  it('compares strings case-insensitively but exactly (no substring match)', async () => {
    expect(await names('VmDisplayName=="SAY ""HI"""')).toEqual(['hi']);
    expect(await names('vmdisplayname==SRV04')).toEqual(['FLR_[srv04]@2014-10-19 05:59:18']);
    expect(await names('VmDisplayName==srv0')).toEqual([]);
  });

  it('honours precedence and parentheses end to end', async () => {
    // AND first: (Result==Failed AND Name==warning) OR Name==semi -> only semi.
    expect(await names('Result==Failed;Name==warning,Name==semi')).toEqual(['semi']);
    // Grouped OR first: Result==Failed AND (Name==warning OR Name==failed) -> failed.
    expect(await names('Result==Failed;(Name==warning,Name==failed)')).toEqual(['failed']);
  });

  it('matches UID by URN and by bare GUID, case-insensitively; a URN of another type matches nothing', async () => {
    expect(await names(`UID=="urn:veeam:RestoreSession:${ids.quote}"`)).toEqual(['quote']);
    expect(await names(`UID==${ids.quote.toUpperCase()}`)).toEqual(['quote']);
    expect(await names(`uid==URN:VEEAM:RESTORESESSION:${ids.quote}`)).toEqual(['quote']);
    expect(await names(`UID=="urn:veeam:BackupServer:${ids.quote}"`)).toEqual([]);
    expect(await names(`UID=="urn:veeam:RestoreSession:${ids.semi}",UID=="urn:veeam:RestoreSession:${ids.hi}"`)).toEqual(['semi', 'hi']);
    expect(await names('BackupServerUid=="urn:veeam:BackupServer:99f01406-ecdc-428f-ae09-a13de244140a"')).toEqual(['failed']);
    expect(await names('BackupServerUid==99f01406-ecdc-428f-ae09-a13de244140a')).toEqual(['failed']);
    expect(await names('BackupServerName=="SRV02.veeam.local";VmDisplayName==srv04')).toEqual(['FLR_[srv04]@2014-10-19 05:59:18']);
  });

  it('compares enums by declaration order, case-insensitively', async () => {
    // Result: None < Success < Warning < Failed ("Failed value is greater than the Success value").
    expect(await names('Result>Success')).toEqual(['failed', 'warning']);
    expect(await names('Result>=warning')).toEqual(['failed', 'warning']);
    expect(await names('Result<Success')).toEqual(['running']);
    expect(await names('result==FAILED')).toEqual(['failed']);
    // State: Starting < Stopping < Working < Stopped.
    expect(await names('State<Stopped')).toEqual(['running']);
    expect(await names('Type==restorevm;State==Working')).toEqual(['running']);
  });

  it('compares dates as instants, quoted or bare, with any fraction', async () => {
    expect(await names('CreationTime>="2026-10-01T00:00:06Z"')).toEqual(['failed', 'warning']);
    expect(await names('CreationTime>2026-10-01T00:00:06Z')).toEqual(['warning']);
    expect(await names('CreationTime>2026-10-01T00:00:05.9999999Z;CreationTime<2026-10-01T00:00:06.0000001Z')).toEqual(['failed']);
    expect(await names('CreationTime==2025-08-14T12:31:30.389Z')).toEqual(['FLR_[virt03-ubuntu01]@2025-08-14 12:31:30']);
    // A running session has no EndTime: it matches no EndTime comparison, != included.
    const withEnd = await names('EndTime>2026-01-01T00:00:00Z');
    expect(withEnd).not.toContain('running');
    expect(await names('EndTime!=2000-01-01T00:00:00Z')).not.toContain('running');
  });

  it('answers 400 with a useful message for malformed filters, unknown fields and bad values', async () => {
    expect(await status400('Name==')).toMatch(/missing value/);
    expect(await status400('(Name==a')).toMatch(/missing "\)"/);
    expect(await status400('Colour==red')).toMatch(/Unknown filter parameter "Colour".*VmDisplayName/);
    expect(await status400('CreationTime>yesterday')).toMatch(/DateTime/);
    expect(await status400('CreationTime>"2025-08-14T12:31:30+02:00"')).toMatch(/UTC/);
    expect(await status400('Result==Meh')).toMatch(/Valid values: None, Success, Warning, Failed/);
  });

  it('takes + as a space, as URLSearchParams decodes it', async () => {
    const res = await h.get('/api/query?type=RestoreSession&filter=VmDisplayName%3D%3D%22say+%22%22hi%22%22%22');
    const body = await xmlBody(res);
    expect(body.children[0]!.children.map((r) => r.attrs.Name)).toEqual(['hi']);
  });

  it('filters the other types by their documented fields', async () => {
    const bs = await xmlBody(await h.get(`/api/query?type=BackupServer&filter=${encodeURIComponent('Port==9392;Version>="12";Description=="lab & <TEST>"')}`));
    expect(bs.children[0]!.children.map((r) => r.attrs.UID)).toEqual(['urn:veeam:BackupServer:00fd67d9-2b4c-4c56-8a95-0b3dbec7ae43']);
    const vp = await xmlBody(
      await h.get(
        `/api/query?type=VmRestorePoint&filter=${encodeURIComponent('VmName==oracle03;Type==Increment;Algorithm==Incremental;RestorePointId==dc216c04-2e34-478e-8b9b-49a3397ef6f8')}`,
      ),
    );
    expect(vp.children[0]!.children.map((r) => r.attrs.Name)).toEqual(['oracle03@2025-10-06 13:59:50']);
    const vp2 = await xmlBody(
      await h.get(
        `/api/query?type=VmRestorePoint&filter=${encodeURIComponent('HierarchyObjRef=="urn:HyperV:Vm:757baa80-d19b-4607-a592-98e15d45d9b2.e3e47ce3-ace6-4f06-9aaf-f52cf2e11234"')}`,
      ),
    );
    expect(vp2.children[0]!.children).toHaveLength(1);
    const rp = await xmlBody(
      await h.get(
        `/api/query?type=RestorePoint&filter=${encodeURIComponent('BackupDate<2020-01-01T00:00:00Z;BackupServerUid==99f01406-ecdc-428f-ae09-a13de244140a')}`,
      ),
    );
    expect(rp.children[0]!.children.map((r) => r.attrs.Name)).toEqual(['Sep 20 2016  2:59PM']);
    const port = await h.get(`/api/query?type=BackupServer&filter=${encodeURIComponent('Port==abc')}`);
    expect(port.status).toBe(400);
  });
});
