import { describe, expect, it } from '@jest/globals';
import { EmQueryService } from '../../src/sim/em/EmQueryService.js';
import { renderJson, renderXml } from '../../src/sim/em/renderEm.js';
import { generateEmWorld } from '../../src/sim/world/generateWorld.js';
import { EmDecodeError } from '../../src/upstream/em/EmDecodeError.js';
import { decodeEmXml, unescapeXml } from '../../src/upstream/em/decodeEmXml.js';
import {
  decodeBackupServer,
  decodeEntityReferences,
  decodeError,
  decodeLogonSession,
  decodeQueryResult,
  decodeRestoreSession,
  decodeVmRestorePoint,
  findPagingHref,
  isInteger,
  isoDateForm,
} from '../../src/upstream/em/emDecoders.js';
import type { EmEntityKind, EmRestoreSession } from '../../src/upstream/em/types.js';
import { lcg } from './lcg.js';

const NS = 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.veeam.com/ent/v1.0"';
const API = 'https://em:9398/api';
const G1 = '676dc837-1111-4119-b789-5c0367c6c565';
const G2 = '0b0ab0e1-2222-4a2b-9c3d-4e5f60718293';
const BS = 'ce15a8c7-aa49-495e-b05b-ee3398c91018';
const BOM = '\ufeff';

function rethrow(fn: () => unknown): EmDecodeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EmDecodeError) return e;
    throw e;
  }
  throw new Error('expected an EmDecodeError');
}

/** Two sessions: real attribute orders, an unknown element, a single Link, the 1753 date, hostile names. */
const sessionsXml = `<?xml version="1.0" encoding="utf-8"?>
<QueryResult ${NS}>
  <Entities>
    <RestoreSessions>
      <RestoreSession Href="${API}/restoreSessions/${G1}?format=Entity" Type="RestoreSession" Name="0123" UID="urn:veeam:RestoreSession:${G1}" VmDisplayName="a&amp;amp;b &lt;c&gt; &#39;d&#39;&#x2F;">
        <Links>
          <Link Rel="Up" Type="BackupServerReference" Href="${API}/backupServers/${BS}" Name="srv02.tech.local" />
          <Link Href="${API}/restoreSessions/${G1}" Name="0123" Type="RestoreSessionReference" Rel="Alternate" />
          <Link Href="${API}/vmRestorePoints/fb87163e" Name="srv04@2014-10-19 05:25:15" Type="VmRestorePointReference" Rel="Related" />
        </Links>
        <JobType>FileLevelRestore</JobType>
        <CreationTimeUTC>2014-10-19T05:59:18.22142Z</CreationTimeUTC>
        <EndTimeUTC>1753-01-01T00:00:00Z</EndTimeUTC>
        <State>Working</State>
        <Result>None</Result>
        <Progress>42</Progress>
        <FailureMessage />
        <SomethingNew Flag="x"><Nested>1</Nested></SomethingNew>
        <RestoredObjRef>urn:VMware:Vm:7f5e.vm-123</RestoredObjRef>
      </RestoreSession>
      <RestoreSession UID="urn:veeam:RestoreSession:${G2}" Name="true" Href="${API}/restoreSessions/${G2}?format=Entity" Type="RestoreSession">
        <Links>
          <Link Rel="Up" Type="BackupServerReference" Href="${API}/backupServers/${BS}" Name="srv02.tech.local" />
        </Links>
        <JobType>InstantRecovery2030</JobType>
        <CreationTimeUTC>2014-10-19T04:00:00Z</CreationTimeUTC>
        <EndTimeUTC>2014-10-19T06:28:24Z</EndTimeUTC>
        <State>Stopped</State>
        <Result>Success</Result>
        <Progress>100</Progress>
      </RestoreSession>
    </RestoreSessions>
  </Entities>
  <PagingInfo PageNum="2" PageSize="2" PagesCount="3">
    <Links>
      <Link Rel="First" Href="${API}/query?type=RestoreSession&amp;format=Entities&amp;pageSize=2&amp;page=1" />
      <Link Rel="Prev" Href="${API}/query?type=RestoreSession&amp;format=Entities&amp;pageSize=2&amp;page=1" />
      <Link Rel="Next" Href="${API}/query?type=RestoreSession&amp;format=Entities&amp;pageSize=2&amp;page=3" />
      <Link Rel="Last" Href="${API}/query?type=RestoreSession&amp;format=Entities&amp;pageSize=2&amp;page=3" />
    </Links>
  </PagingInfo>
</QueryResult>`;

const link = (Rel: string, Href: string, Type: string | null = null, Name: string | null = null) => ({ Rel, Href, Name, Type });
const q = (page: number) => `${API}/query?type=RestoreSession&format=Entities&pageSize=2&page=${page}`;

/** The same page as EM JSON: BOM, doubled plural, numbers as numbers, nulls printed. */
const sessionsJson =
  BOM +
  JSON.stringify({
    Refs: null,
    Entities: {
      BackupServers: null,
      RestoreSessions: {
        RestoreSessions: [
          {
            JobType: 'FileLevelRestore',
            CreationTimeUTC: '2014-10-19T05:59:18.22142Z',
            EndTimeUTC: '1753-01-01T00:00:00Z',
            State: 'Working',
            Result: 'None',
            Progress: 42,
            FailureMessage: null,
            SomethingNew: { Flag: 'x', Nested: 1 },
            RestoredObjRef: 'urn:VMware:Vm:7f5e.vm-123',
            VmDisplayName: "a&amp;b <c> 'd'/",
            Links: [
              link('Up', `${API}/backupServers/${BS}`, 'BackupServerReference', 'srv02.tech.local'),
              link('Alternate', `${API}/restoreSessions/${G1}`, 'RestoreSessionReference', '0123'),
              link('Related', `${API}/vmRestorePoints/fb87163e`, 'VmRestorePointReference', 'srv04@2014-10-19 05:25:15'),
            ],
            UID: `urn:veeam:RestoreSession:${G1}`,
            Name: '0123',
            Href: `${API}/restoreSessions/${G1}?format=Entity`,
            Type: 'RestoreSession',
          },
          {
            JobType: 'InstantRecovery2030',
            CreationTimeUTC: '2014-10-19T04:00:00Z',
            EndTimeUTC: '2014-10-19T06:28:24Z',
            State: 'Stopped',
            Result: 'Success',
            Progress: 100,
            VmDisplayName: null,
            Links: [link('Up', `${API}/backupServers/${BS}`, 'BackupServerReference', 'srv02.tech.local')],
            UID: `urn:veeam:RestoreSession:${G2}`,
            Name: 'true',
            Href: `${API}/restoreSessions/${G2}?format=Entity`,
            Type: 'RestoreSession',
          },
        ],
      },
    },
    PagingInfo: { Links: [link('First', q(1)), link('Previous', q(1)), link('Next', q(3)), link('Last', q(3))], PageNum: 2, PageSize: 2, PagesCount: 3 },
    Links: null,
  });

const expectedFirst: EmRestoreSession = {
  uid: `urn:veeam:RestoreSession:${G1}`,
  id: G1,
  name: '0123',
  href: `${API}/restoreSessions/${G1}?format=Entity`,
  vmDisplayName: "a&amp;b <c> 'd'/",
  jobType: 'FileLevelRestore',
  creationTime: '2014-10-19T05:59:18.22142Z',
  state: 'Working',
  result: 'None',
  progress: 42,
  restoredObjRef: 'urn:VMware:Vm:7f5e.vm-123',
  links: [
    { rel: 'Up', type: 'BackupServerReference', href: `${API}/backupServers/${BS}`, name: 'srv02.tech.local' },
    { rel: 'Alternate', type: 'RestoreSessionReference', href: `${API}/restoreSessions/${G1}`, name: '0123' },
    { rel: 'Related', type: 'VmRestorePointReference', href: `${API}/vmRestorePoints/fb87163e`, name: 'srv04@2014-10-19 05:25:15' },
  ],
};

describe('decodeQueryResult (RestoreSession)', () => {
  const fromXml = decodeQueryResult('RestoreSession', sessionsXml, 'xml');
  const fromJson = decodeQueryResult('RestoreSession', sessionsJson, 'json');

  it('decodes XML to exact wire values', () => {
    expect(fromXml.items).toHaveLength(2);
    expect(fromXml.items[0]).toStrictEqual(expectedFirst);
    expect(fromXml.refs).toBeUndefined();
  });

  it('gives the same wire values from XML and from JSON', () => {
    expect(fromJson).toStrictEqual(fromXml);
  });

  it('keeps ids and names as strings, never coerced', () => {
    expect(fromXml.items[0]?.name).toBe('0123');
    expect(fromXml.items[1]?.name).toBe('true');
    expect(typeof fromXml.items[1]?.name).toBe('string');
  });

  it('unescapes entities exactly once (&amp;amp; -> &amp;) and decodes numeric references', () => {
    expect(fromXml.items[0]?.vmDisplayName).toBe("a&amp;b <c> 'd'/");
  });

  it('maps the 1753 "never" date to absent and keeps unknown enum values', () => {
    expect('endTime' in (fromXml.items[0] as object)).toBe(false);
    expect(fromXml.items[1]?.endTime).toBe('2014-10-19T06:28:24Z');
    expect(fromXml.items[1]?.jobType).toBe('InstantRecovery2030');
  });

  it.each([
    '0001-01-01T00:00:00',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59.9999999',
    '9999-12-31T23:59:59.9999999Z',
    '9999-12-31T23:59:59.9999999+02:00',
    '1753-01-01T00:00:00',
    '1753-01-01T00:00:00.000Z',
    '/Date(-62135596800000)/',
    '/Date(253402300799999)/',
  ])('maps the sentinel date %s in an optional field (EndTimeUTC) to absent, in XML and JSON', (sentinel) => {
    const xml = sessionsXml.replace('<EndTimeUTC>1753-01-01T00:00:00Z</EndTimeUTC>', `<EndTimeUTC>${sentinel}</EndTimeUTC>`);
    expect(xml).not.toBe(sessionsXml);
    expect('endTime' in (decodeQueryResult('RestoreSession', xml, 'xml').items[0] as object)).toBe(false);
    const json = JSON.stringify(JSON.parse(sessionsJson.slice(BOM.length)), (k, v: unknown) =>
      k === 'EndTimeUTC' && v === '1753-01-01T00:00:00Z' ? sentinel : v,
    );
    expect('endTime' in (decodeQueryResult('RestoreSession', json, 'json').items[0] as object)).toBe(false);
  });

  it('forces a single Link to an array', () => {
    expect(fromXml.items[1]?.links).toEqual([{ rel: 'Up', type: 'BackupServerReference', href: `${API}/backupServers/${BS}`, name: 'srv02.tech.local' }]);
  });

  it('decodes paging with hrefs unescaped once and Prev normalised to Previous', () => {
    expect(fromXml.paging).toMatchObject({ pageNum: 2, pageSize: 2, pagesCount: 3 });
    expect(findPagingHref(fromXml.paging, 'Next')).toBe(q(3));
    expect(findPagingHref(fromXml.paging, 'Previous')).toBe(q(1));
    expect(findPagingHref(fromJson.paging, 'Previous')).toBe(q(1));
    expect(findPagingHref(undefined, 'Next')).toBeUndefined();
  });

  it('decodes a namespace-prefixed document the same', () => {
    const prefixed = sessionsXml
      .replace(`<QueryResult ${NS}>`, '<v:QueryResult xmlns:v="http://www.veeam.com/ent/v1.0">')
      .replace(/<(\/?)(?!\?)([A-Za-z])/g, '<$1v:$2')
      .replace('<v:v:QueryResult', '<v:QueryResult');
    expect(prefixed).toContain('</v:RestoreSession>');
    expect(decodeQueryResult('RestoreSession', prefixed, 'xml')).toStrictEqual(fromXml);
  });

  it('accepts a UTF-8 BOM and a Buffer body', () => {
    expect(decodeQueryResult('RestoreSession', Buffer.from(BOM + sessionsXml, 'utf8'), 'xml')).toStrictEqual(fromXml);
    expect(decodeQueryResult('RestoreSession', Buffer.from(sessionsJson, 'utf8'), 'json')).toStrictEqual(fromXml);
  });
});

describe('decodeQueryResult: zero results and references', () => {
  const empties: Array<[string, string, 'xml' | 'json']> = [
    ['self-closing root', `<QueryResult ${NS}/>`, 'xml'],
    [
      'empty Entities list',
      `<QueryResult ${NS}><Entities><RestoreSessions /></Entities><PagingInfo PageNum="1" PageSize="100" PagesCount="0"><Links /></PagingInfo></QueryResult>`,
      'xml',
    ],
    ['empty Entities', `<QueryResult ${NS}><Entities/></QueryResult>`, 'xml'],
    ['empty Refs', `<QueryResult ${NS}><Refs></Refs></QueryResult>`, 'xml'],
    ['JSON nulls', '{"Refs":null,"Entities":null,"PagingInfo":null,"Links":null}', 'json'],
    [
      'JSON empty doubled plural',
      `${BOM}{"Entities":{"RestoreSessions":{"RestoreSessions":[]}},"PagingInfo":{"PageNum":1,"PageSize":100,"PagesCount":0,"Links":null}}`,
      'json',
    ],
    ['JSON empty Refs', '{"Refs":[]}', 'json'],
  ];
  it.each(empties)('%s -> no items', (_name, body, format) => {
    const r = decodeQueryResult('RestoreSession', body, format);
    expect(r.items).toEqual([]);
    expect(r.refs).toBeUndefined();
    if (r.paging) expect(r.paging).toEqual({ pageNum: 1, pageSize: 100, pagesCount: 0, links: [] });
  });

  const refsXml = `<QueryResult ${NS}>
    <Refs>
      <Ref Type="BackupServerReference" Href="${API}/backupServers/${BS}" Name="172.17.53.47" UID="urn:veeam:BackupServer:${BS}">
        <Links><Link Rel="Alternate" Type="BackupServer" Href="${API}/backupServers/${BS}?format=Entity" Name="172.17.53.47"/></Links>
      </Ref>
    </Refs>
    <PagingInfo PageNum="1" PageSize="1" PagesCount="2">
      <Links>
        <Link Rel="First" Href="https://localhost:9398/api/query?type=backupServer&amp;pageSize=1&amp;page=1" />
        <Link Rel="Next" Href="https://localhost:9398/api/query?type=backupServer&amp;pageSize=1&amp;page=2" />
      </Links>
    </PagingInfo>
  </QueryResult>`;
  const refsJson = JSON.stringify({
    Refs: [
      {
        Links: [link('Alternate', `${API}/backupServers/${BS}?format=Entity`, 'BackupServer', '172.17.53.47')],
        UID: `urn:veeam:BackupServer:${BS}`,
        Name: '172.17.53.47',
        Href: `${API}/backupServers/${BS}`,
        Type: 'BackupServerReference',
      },
    ],
    Entities: null,
    PagingInfo: {
      PageNum: 1,
      PageSize: 1,
      PagesCount: 2,
      Links: [
        link('First', 'https://localhost:9398/api/query?type=backupServer&pageSize=1&page=1'),
        link('Next', 'https://localhost:9398/api/query?type=backupServer&pageSize=1&page=2'),
      ],
    },
  });

  it('decodes format=References in XML and JSON alike', () => {
    const x = decodeQueryResult('BackupServer', refsXml, 'xml');
    expect(x.items).toEqual([]);
    expect(x.refs).toEqual([
      {
        uid: `urn:veeam:BackupServer:${BS}`,
        id: BS,
        name: '172.17.53.47',
        href: `${API}/backupServers/${BS}`,
        type: 'BackupServerReference',
        links: [{ rel: 'Alternate', type: 'BackupServer', href: `${API}/backupServers/${BS}?format=Entity`, name: '172.17.53.47' }],
      },
    ]);
    expect(decodeQueryResult('BackupServer', refsJson, 'json')).toStrictEqual(x);
    // Refs shapes whose JSON form is UNCONFIRMED: nested like XML, or doubled
    const nested = JSON.parse(refsJson) as Record<string, unknown>;
    expect(decodeQueryResult('BackupServer', JSON.stringify({ ...nested, Refs: { Refs: nested.Refs } }), 'json')).toStrictEqual(x);
    expect(decodeQueryResult('BackupServer', JSON.stringify({ ...nested, Refs: { Ref: nested.Refs } }), 'json')).toStrictEqual(x);
  });

  it('decodes an EntityReferences collection', () => {
    const body = `<EntityReferences ${NS}><Ref UID="urn:veeam:BackupServer:${BS}" Name="localhost" Href="${API}/backupServers/${BS}" Type="BackupServerReference"/></EntityReferences>`;
    expect(decodeEntityReferences(body, 'xml')).toEqual([
      { uid: `urn:veeam:BackupServer:${BS}`, id: BS, name: 'localhost', href: `${API}/backupServers/${BS}`, type: 'BackupServerReference', links: [] },
    ]);
    expect(
      decodeEntityReferences(
        `{"Refs":[{"UID":"urn:veeam:BackupServer:${BS}","Name":"localhost","Href":"${API}/backupServers/${BS}","Type":"BackupServerReference","Links":null}]}`,
        'json',
      ),
    ).toEqual(decodeEntityReferences(body, 'xml'));
  });
});

describe('single-entity decoders', () => {
  it('decodes a BackupServer: Port converted explicitly, Version kept as text, empty Description absent', () => {
    const xml = `<BackupServer ${NS} Type="BackupServer" Href="${API}/backupServers/${BS}?format=Entity" Name="srv02.tech.local" UID="urn:veeam:BackupServer:${BS}">
      <Links><Link Rel="Alternate" Type="BackupServerReference" Href="${API}/backupServers/${BS}" Name="srv02.tech.local" /></Links>
      <Description />
      <Port>9392</Port>
      <Version>8.0</Version>
      <WcfPort>9405</WcfPort>
    </BackupServer>`;
    const json = `${BOM}{"Description":null,"Port":9392,"Version":"8.0","WcfPort":9405,"Links":[{"Rel":"Alternate","Type":"BackupServerReference","Href":"${API}/backupServers/${BS}","Name":"srv02.tech.local"}],"UID":"urn:veeam:BackupServer:${BS}","Name":"srv02.tech.local","Href":"${API}/backupServers/${BS}?format=Entity","Type":"BackupServer"}`;
    const x = decodeBackupServer(xml, 'xml');
    expect(x).toStrictEqual({
      uid: `urn:veeam:BackupServer:${BS}`,
      id: BS,
      name: 'srv02.tech.local',
      href: `${API}/backupServers/${BS}?format=Entity`,
      port: 9392,
      version: '8.0',
      links: [{ rel: 'Alternate', type: 'BackupServerReference', href: `${API}/backupServers/${BS}`, name: 'srv02.tech.local' }],
    });
    expect(decodeBackupServer(json, 'json')).toStrictEqual(x);
  });

  it('decodes a VmRestorePoint, XML and JSON alike, and a RestoreSession entity', () => {
    const xml = `<VmRestorePoint ${NS} Type="VmRestorePoint" Href="${API}/vmRestorePoints/${G1}?format=Entity" Name="oracle03@2016-10-06 13:59:50" UID="urn:veeam:VmRestorePoint:${G1}">
      <Links><Link Rel="Restore" Href="${API}/vmRestorePoints/${G1}?action=restore" /></Links>
      <CreationTimeUTC>2016-10-06T13:59:50.783Z</CreationTimeUTC>
      <VmName>oracle03</VmName>
      <Algorithm>Incremental</Algorithm>
      <PointType>Increment</PointType>
      <HierarchyObjRef>urn:HyperV:Vm:757baa80.e3e47ce3</HierarchyObjRef>
    </VmRestorePoint>`;
    const x = decodeVmRestorePoint(xml, 'xml');
    expect(x).toStrictEqual({
      uid: `urn:veeam:VmRestorePoint:${G1}`,
      id: G1,
      name: 'oracle03@2016-10-06 13:59:50',
      href: `${API}/vmRestorePoints/${G1}?format=Entity`,
      creationTime: '2016-10-06T13:59:50.783Z',
      vmName: 'oracle03',
      algorithm: 'Incremental',
      pointType: 'Increment',
      hierarchyObjRef: 'urn:HyperV:Vm:757baa80.e3e47ce3',
      links: [{ rel: 'Restore', href: `${API}/vmRestorePoints/${G1}?action=restore` }],
    });
    const json = JSON.stringify({
      CreationTimeUTC: '2016-10-06T13:59:50.783Z',
      VmName: 'oracle03',
      Algorithm: 'Incremental',
      PointType: 'Increment',
      HierarchyObjRef: 'urn:HyperV:Vm:757baa80.e3e47ce3',
      SqlInfo: null,
      Links: [{ Rel: 'Restore', Href: `${API}/vmRestorePoints/${G1}?action=restore`, Name: null, Type: null }],
      UID: `urn:veeam:VmRestorePoint:${G1}`,
      Name: 'oracle03@2016-10-06 13:59:50',
      Href: `${API}/vmRestorePoints/${G1}?format=Entity`,
      Type: 'VmRestorePoint',
    });
    expect(decodeVmRestorePoint(json, 'json')).toStrictEqual(x);

    const one = sessionsXml.slice(sessionsXml.indexOf('<RestoreSession '), sessionsXml.indexOf('</RestoreSession>') + '</RestoreSession>'.length);
    expect(decodeRestoreSession(one, 'xml')).toStrictEqual(expectedFirst);
  });

  it('decodes a LogonSession (XML and JSON)', () => {
    const xml = `<LogonSession ${NS} Type="LogonSession" Href="${API}/logonSessions/${G1}"><Links><Link Rel="Delete" Href="${API}/logonSessions/${G1}"/></Links><UserName>SRV12\\Administrator</UserName><SessionId>${G1}</SessionId></LogonSession>`;
    expect(decodeLogonSession(xml, 'xml')).toEqual({ sessionId: G1, userName: 'SRV12\\Administrator' });
    expect(decodeLogonSession(`${BOM}{"UserName":"SRV12\\\\Administrator","SessionId":"${G1}","Links":null,"Type":"LogonSession"}`, 'json')).toEqual({
      sessionId: G1,
      userName: 'SRV12\\Administrator',
    });
  });

  it('decodes EM errors in XML and BOM-prefixed JSON', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<Error Message="Object reference not set to an instance of an object." StatusCode="500" ${NS}>
    <FirstChanceExceptionMessage>Object reference not set to an instance of an object.</FirstChanceExceptionMessage>
</Error>`;
    expect(decodeError(xml, 'xml')).toEqual({ message: 'Object reference not set to an instance of an object.', statusCode: 500 });
    expect(
      decodeError(
        `${BOM}{"FirstChanceExceptionMessage":null,"Message":"Node [root] does not exist.","StackTrace":null,"Status":null,"StatusCode":400}`,
        'json',
      ),
    ).toEqual({ message: 'Node [root] does not exist.', statusCode: 400 });
    expect(decodeError(`<Error ${NS} Message=""><FirstChanceExceptionMessage>inner</FirstChanceExceptionMessage></Error>`, 'xml')).toEqual({
      message: 'inner',
    });
  });
});

describe('malformed bodies throw EmDecodeError naming the problem', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['not XML', () => decodeQueryResult('RestoreSession', 'Service Unavailable', 'xml'), /QueryResult: is not XML/],
    ['empty body', () => decodeQueryResult('RestoreSession', '', 'xml'), /is not XML/],
    ['JSON given to the XML decoder', () => decodeQueryResult('RestoreSession', '{"Refs":null}', 'xml'), /is not XML/],
    ['truncated', () => decodeQueryResult('RestoreSession', sessionsXml.slice(0, 2000), 'xml'), /truncated or malformed/],
    [
      'wrong root (proxy HTML page)',
      () => decodeQueryResult('RestoreSession', '<html><body>502 Bad Gateway</body></html>', 'xml'),
      /expected root element <QueryResult>, got <html>/,
    ],
    [
      'reference where an entity is expected',
      () => decodeRestoreSession(`<EntityRef ${NS} UID="urn:veeam:RestoreSession:${G1}" Name="n" Href="h" Type="RestoreSessionReference"/>`, 'xml'),
      /expected root element <RestoreSession>, got <EntityRef>/,
    ],
    [
      'missing UID',
      () => decodeQueryResult('RestoreSession', sessionsXml.replace(`UID="urn:veeam:RestoreSession:${G2}" `, ''), 'xml'),
      /QueryResult: Entities\.RestoreSessions\[1\]\.UID is missing/,
    ],
    [
      'missing CreationTimeUTC',
      () => decodeQueryResult('RestoreSession', sessionsXml.replace('<CreationTimeUTC>2014-10-19T04:00:00Z</CreationTimeUTC>', ''), 'xml'),
      /Entities\.RestoreSessions\[1\]\.CreationTimeUTC is missing/,
    ],
    [
      'unreadable date',
      () => decodeQueryResult('RestoreSession', sessionsXml.replace('2014-10-19T04:00:00Z', '19/10/2014'), 'xml'),
      /CreationTimeUTC is not an ISO-8601 date: "19\/10\/2014"/,
    ],
    [
      'non-integer Progress',
      () => decodeQueryResult('RestoreSession', sessionsXml.replace('<Progress>100</Progress>', '<Progress>lots</Progress>'), 'xml'),
      /Progress is not an integer/,
    ],
    ['bad UID', () => decodeQueryResult('RestoreSession', sessionsXml.replace(`urn:veeam:RestoreSession:${G2}`, 'nonsense'), 'xml'), /UID is not of the form/],
    [
      'link without Href',
      () =>
        decodeQueryResult(
          'RestoreSession',
          sessionsXml.replace(
            `<Link Rel="Up" Type="BackupServerReference" Href="${API}/backupServers/${BS}" Name="srv02.tech.local" />\n        </Links>\n        <JobType>InstantRecovery2030`,
            '<Link Rel="Up"/></Links><JobType>InstantRecovery2030',
          ),
          'xml',
        ),
      /Entities\.RestoreSessions\[1\]\.Links\[0\]\.Href is missing/,
    ],
    [
      'entities of another kind',
      () => decodeQueryResult('RestoreSession', `<QueryResult ${NS}><Entities><BackupServers><BackupServer/></BackupServers></Entities></QueryResult>`, 'xml'),
      /Entities holds BackupServers, expected RestoreSessions/,
    ],
    ['DOCTYPE', () => decodeQueryResult('RestoreSession', '<!DOCTYPE x [<!ENTITY a "b">]><QueryResult/>', 'xml'), /DOCTYPE/],
    ['bad JSON', () => decodeQueryResult('RestoreSession', `${BOM}{"Entities":`, 'json'), /QueryResult: is not valid JSON/],
    ['JSON array', () => decodeQueryResult('RestoreSession', '[]', 'json'), /is a JSON array, expected an object/],
    ['JSON entity of another type', () => decodeRestoreSession('{"Type":"RestoreSessionReference","UID":"x"}', 'json'), /has Type "RestoreSessionReference"/],
    ['missing SessionId', () => decodeLogonSession(`<LogonSession ${NS}><UserName>u</UserName></LogonSession>`, 'xml'), /LogonSession: SessionId is missing/],
    ['error without message', () => decodeError(`<Error ${NS} StatusCode="500"/>`, 'xml'), /Error: Message is missing/],
  ];
  it.each(cases)('%s', (_name, fn, message) => {
    const err = rethrow(fn);
    expect(err.name).toBe('EmDecodeError');
    expect(err.message).toMatch(message);
  });
});

describe('decodeEmXml and unescapeXml', () => {
  it('unescapes once, left to right', () => {
    expect(unescapeXml('&amp;amp;')).toBe('&amp;');
    expect(unescapeXml('&amp;lt;')).toBe('&lt;');
    expect(unescapeXml('a&lt;b&gt;c&quot;d&apos;e&#39;f&#x2F;g&#65;')).toBe("a<b>c\"d'e'f/gA");
    expect(unescapeXml('&nbsp;&#0;&bogus')).toBe('&nbsp;&#0;&bogus');
    expect(unescapeXml('plain')).toBe('plain');
  });

  it('keeps every value a string and drops namespace prefixes from names', () => {
    const { root, node } = decodeEmXml(
      '<?xml version="1.0"?><a:Root xmlns:a="urn:x" xmlns:xsi="urn:y" Port="9392" Flag="true"><a:N>0123</a:N><a:D xsi:nil="true"/></a:Root>',
    );
    expect(root).toBe('Root');
    expect(node).toMatchObject({ Port: '9392', Flag: 'true', N: '0123', D: { nil: 'true' } });
  });
});

describe('simulated pages: XML and JSON decode to the same values', () => {
  // Hostile VM names reach attributes (VmDisplayName, Name, link names) and element text (VmName).
  // Not among them: names with a carriage return (XML normalises line ends, JSON keeps them) and
  // white-space-only names (as element text they are indistinguishable from indentation).
  const HOSTILE = [' spaced ', 'a&b', 'a&amp;b', '<x>', 'q"uote', "it's", 'tab\there', 'new\nline', 'ünï©ødé', '1753', '0123', 'true', '&#39;'];
  const KINDS: EmEntityKind[] = ['RestoreSession', 'BackupServer', 'VmRestorePoint'];
  const service = new EmQueryService();

  for (const seed of [1, 2, 3]) {
    const world = generateEmWorld(`em-${seed}`, { seed, sessionsPerServer: 400, extraVmNames: HOSTILE });
    const ctx = { api: 'https://em-hq.corp.local:9398/api', world };
    const r = lcg(seed);
    for (const kind of KINDS) {
      it(`seed ${seed}: ${kind} pages (Entities and References, sorted, filtered, paged)`, () => {
        const queries: Record<string, string>[] = [
          { type: kind, format: 'Entities', pageSize: '500' },
          { type: kind, format: 'Entities', sortDesc: 'Name', pageSize: String(1 + r.int(40)), page: String(1 + r.int(3)) },
          { type: kind, format: 'References', sortAsc: 'UID', pageSize: String(1 + r.int(60)) },
          { type: kind, format: 'Entities', filter: 'Name=="no such name"' },
        ];
        if (kind !== 'BackupServer')
          queries.push({ type: kind, format: 'Entities', filter: `CreationTime>="2026-06-01T00:00:00Z"`, sortAsc: 'CreationTime', pageSize: '50' });
        let entities = 0;
        for (const q of queries) {
          const page = service.run(ctx, new URLSearchParams(q));
          const xml = renderXml(page);
          const json = `\ufeff${renderJson(page)}`;
          const fromXml = decodeQueryResult(kind, xml, 'xml');
          expect(decodeQueryResult(kind, json, 'json')).toStrictEqual(fromXml);
          // Real EM (.NET) writes CRLF line ends: the same page with them decodes the same.
          expect(decodeQueryResult(kind, xml.replace(/\n/g, '\r\n'), 'xml')).toStrictEqual(fromXml);
          entities += fromXml.items.length + (fromXml.refs?.length ?? 0);
        }
        expect(entities).toBeGreaterThan(0);
      });
    }
  }
});

describe('character checks agree with the regexes they replace', () => {
  const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
  const INTEGER = /^-?\d{1,15}$/;

  it('isoDateForm on the documented forms and 20000 mutations of them', () => {
    const samples = [
      '2014-10-19T05:59:18Z',
      '2016-10-06T13:59:50.783Z',
      '2025-08-16T05:17:38.22142Z',
      '2025-08-14T12:31:30.389954',
      '2014-10-19T05:59',
      '2014-10-19T05:59+02:00',
      '2014-10-19T05:59:18-0530',
      '1753-01-01T00:00:00Z',
    ];
    const ALPHABET = '0123456789-T:.Z+ x';
    const r = lcg(42);
    const disagree: string[] = [];
    const check = (s: string) => {
      const m = ISO_DATE.exec(s);
      if (isoDateForm(s) !== (m === null ? 0 : m[1] === undefined ? 1 : 2)) disagree.push(s);
    };
    samples.forEach(check);
    expect(samples.map(isoDateForm)).toEqual([2, 2, 2, 1, 1, 2, 2, 2]);
    for (let n = 0; n < 20000; n++) {
      const chars = [...r.pick(samples)];
      for (let k = 1 + r.int(3); k > 0; k--) {
        const at = r.int(chars.length + 1);
        const op = r.int(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, ALPHABET[r.int(ALPHABET.length)] as string);
        else chars[at] = ALPHABET[r.int(ALPHABET.length)] as string;
      }
      check(chars.join(''));
    }
    expect(disagree).toEqual([]);
  });

  it('isInteger on edge cases and 5000 random strings', () => {
    const r = lcg(7);
    const cases = ['0', '-0', '42', '-', '', '--1', '1-', ' 1', '1 ', '+1', '1.0', '123456789012345', '1234567890123456', '-123456789012345', '٣'];
    for (let n = 0; n < 5000; n++) cases.push(Array.from({ length: r.int(18) }, () => r.pick([...'0123456789-+ .a'])).join(''));
    expect(cases.filter((s) => isInteger(s) !== INTEGER.test(s))).toEqual([]);
    expect(cases.slice(0, 15).map(isInteger)).toEqual([true, true, true, false, false, false, false, false, false, false, false, true, false, true, false]);
  });
});
