/**
 * Decoder throughput on the gateway's hot path: one query-service page of 500 RestoreSessions
 * (`GET /api/query?type=RestoreSession&format=Entities&pageSize=500`), about 0.5 MB of XML.
 *
 * Run: `npx tsx bench/decode.ts` (optional argument: measuring time per case in ms, default 1500).
 * Prints MB/s, entities/s and ms per page for each case and writes bench/results/decode.json.
 *
 * Cases:
 * - `xml parse: untuned`      fast-xml-parser with the options most code starts from ("before");
 * - `xml parse: tuned, removeNSPrefix` first tuning: jPath off, no value parsing, own entity
 *                             decoder, but fast-xml-parser's `removeNSPrefix` (the intermediate step);
 * - `xml parse: production`   EM_XML_PARSER_OPTIONS, parse only ("after");
 * - `xml parse: no entities`  production minus entity decoding: what correct entity handling costs;
 * - `xml parse: + validator`  production preceded by XMLValidator: what full well-formedness checking costs;
 * - `xml decode (production)` decodeQueryResult: parse + map to EmRestoreSession[];
 * - `json decode`             decodeQueryResult on the EM JSON form of the same page;
 * - `JSON.parse (floor)`      raw JSON.parse of that JSON, the floor everything is compared with.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser';
import { EM_XML_LIST_ELEMENTS, EM_XML_PARSER_OPTIONS } from '../src/upstream/em/decodeEmXml.js';
import { decodeQueryResult } from '../src/upstream/em/emDecoders.js';

const SESSIONS = 500;
const BASE = 'https://em-hq.corp.local:9398/api';

/** Deterministic pseudo-random numbers (mulberry32) so every run decodes the same bytes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Session {
  id: string;
  name: string;
  vm: string;
  jobType: string;
  created: string;
  ended: string | undefined;
  state: string;
  result: string;
  progress: number;
  server: string;
  serverName: string;
  point: string;
  pointName: string;
  objRef: string;
}

function makeSessions(count: number): Session[] {
  const r = rng(42);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  const guid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const servers = Array.from({ length: 3 }, (_, i) => ({ id: guid(), name: `vbr0${i + 1}.corp.local` }));
  const out: Session[] = [];
  let t = Date.UTC(2025, 7, 16, 5, 0, 0);
  for (let i = 0; i < count; i++) {
    t -= Math.floor(r() * 600_000);
    const vm = r() < 0.1 ? `sql&${i}` : `srv${String(i).padStart(3, '0')}`;
    const created = new Date(t).toISOString().replace('.000Z', `.${String(Math.floor(r() * 1e5)).padStart(5, '0')}Z`);
    const working = r() < 0.05;
    const flr = r() < 0.7;
    const server = servers[i % 3] as { id: string; name: string };
    const stamp = created.slice(0, 19).replace('T', ' ');
    out.push({
      id: guid(),
      name: `${flr ? 'FLR' : 'VMR'}_[${vm}]@${stamp}`,
      vm,
      jobType: flr ? 'FileLevelRestore' : 'RestoreVm',
      created,
      ended: working ? undefined : new Date(t + 1_800_000).toISOString(),
      state: working ? 'Working' : 'Stopped',
      result: working ? 'None' : r() < 0.9 ? 'Success' : 'Failed',
      progress: working ? Math.floor(r() * 100) : 100,
      server: server.id,
      serverName: server.name,
      point: guid(),
      pointName: `${vm}@${stamp}`,
      objRef: `urn:VMware:Vm:${server.id}.vm-${1000 + i}`,
    });
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** The XML page, attribute order as real EM output (`Href Name Type Rel`, `UID Name Href Type`). */
function toXml(sessions: Session[]): string {
  const parts: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>\r\n<QueryResult xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.veeam.com/ent/v1.0">\r\n  <Entities>\r\n    <RestoreSessions>\r\n',
  ];
  for (const s of sessions) {
    parts.push(
      `      <RestoreSession UID="urn:veeam:RestoreSession:${s.id}" Name="${esc(s.name)}" Href="${BASE}/restoreSessions/${s.id}?format=Entity" Type="RestoreSession" VmDisplayName="${esc(s.vm)}">\r\n`,
      '        <Links>\r\n',
      `          <Link Href="${BASE}/backupServers/${s.server}" Name="${s.serverName}" Type="BackupServerReference" Rel="Up" />\r\n`,
      `          <Link Href="${BASE}/restoreSessions/${s.id}" Name="${esc(s.name)}" Type="RestoreSessionReference" Rel="Alternate" />\r\n`,
      `          <Link Href="${BASE}/vmRestorePoints/${s.point}" Name="${esc(s.pointName)}" Type="VmRestorePointReference" Rel="Related" />\r\n`,
      '        </Links>\r\n',
      `        <JobType>${s.jobType}</JobType>\r\n`,
      `        <CreationTimeUTC>${s.created}</CreationTimeUTC>\r\n`,
      `        <EndTimeUTC>${s.ended ?? '1753-01-01T00:00:00Z'}</EndTimeUTC>\r\n`,
      `        <State>${s.state}</State>\r\n`,
      `        <Result>${s.result}</Result>\r\n`,
      `        <Progress>${s.progress}</Progress>\r\n`,
      `        <RestoredObjRef>${s.objRef}</RestoredObjRef>\r\n`,
      '      </RestoreSession>\r\n',
    );
  }
  const q = `${BASE}/query?type=RestoreSession&amp;format=Entities&amp;sortDesc=CreationTime&amp;pageSize=${SESSIONS}&amp;page=`;
  parts.push(
    '    </RestoreSessions>\r\n  </Entities>\r\n',
    `  <PagingInfo PageNum="1" PageSize="${SESSIONS}" PagesCount="20">\r\n    <Links>\r\n`,
    `      <Link Href="${q}1" Rel="First" />\r\n      <Link Href="${q}2" Rel="Next" />\r\n      <Link Href="${q}20" Rel="Last" />\r\n`,
    '    </Links>\r\n  </PagingInfo>\r\n</QueryResult>\r\n',
  );
  return parts.join('');
}

/** The same page as EM JSON: BOM, doubled plural, attributes as properties, nulls printed. */
function toJson(sessions: Session[]): string {
  const link = (rel: string, href: string, type: string | null, name: string | null) => ({ Rel: rel, Href: href, Name: name, Type: type });
  const q = `${BASE}/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=${SESSIONS}&page=`;
  const doc = {
    Refs: null,
    Entities: {
      RestoreSessions: {
        RestoreSessions: sessions.map((s) => ({
          JobType: s.jobType,
          CreationTimeUTC: s.created,
          EndTimeUTC: s.ended ?? '1753-01-01T00:00:00Z',
          State: s.state,
          Result: s.result,
          Progress: s.progress,
          FailureMessage: null,
          RestoredObjRef: s.objRef,
          VmDisplayName: s.vm,
          Links: [
            link('Up', `${BASE}/backupServers/${s.server}`, 'BackupServerReference', s.serverName),
            link('Alternate', `${BASE}/restoreSessions/${s.id}`, 'RestoreSessionReference', s.name),
            link('Related', `${BASE}/vmRestorePoints/${s.point}`, 'VmRestorePointReference', s.pointName),
          ],
          UID: `urn:veeam:RestoreSession:${s.id}`,
          Name: s.name,
          Href: `${BASE}/restoreSessions/${s.id}?format=Entity`,
          Type: 'RestoreSession',
        })),
      },
    },
    PagingInfo: {
      Links: [link('First', `${q}1`, null, null), link('Next', `${q}2`, null, null), link('Last', `${q}20`, null, null)],
      PageNum: 1,
      PageSize: SESSIONS,
      PagesCount: 20,
    },
    Links: null,
  };
  return `\ufeff${JSON.stringify(doc)}`;
}

interface CaseResult {
  case: string;
  bytes: number;
  iterations: number;
  msPerPage: number;
  mbPerSec: number;
  entitiesPerSec: number;
  timesFloor?: number;
}

function measure(name: string, bytes: number, budgetMs: number, fn: () => unknown): CaseResult {
  for (let i = 0; i < 20; i++) fn();
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    fn();
    iterations++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const msPerPage = elapsed / iterations;
  return {
    case: name,
    bytes,
    iterations,
    msPerPage: +msPerPage.toFixed(3),
    mbPerSec: +(bytes / 1e6 / (msPerPage / 1000)).toFixed(1),
    entitiesPerSec: Math.round(SESSIONS / (msPerPage / 1000)),
  };
}

const untunedOptions: X2jOptions = {
  ignoreAttributes: false,
  removeNSPrefix: true,
  isArray: (name) => EM_XML_LIST_ELEMENTS.has(name),
};

function main(): void {
  const budgetMs = Number(process.argv[2] ?? 1500);
  const sessions = makeSessions(SESSIONS);
  const xml = toXml(sessions);
  const json = toJson(sessions);
  const xmlBytes = Buffer.byteLength(xml);
  const jsonBytes = Buffer.byteLength(json);

  const fromXml = decodeQueryResult('RestoreSession', xml, 'xml');
  const fromJson = decodeQueryResult('RestoreSession', json, 'json');
  if (fromXml.items.length !== SESSIONS || JSON.stringify(fromXml) !== JSON.stringify(fromJson)) {
    throw new Error('XML and JSON decoders disagree on the benchmark page');
  }

  const untuned = new XMLParser(untunedOptions);
  const tunedNs = new XMLParser({ ...EM_XML_PARSER_OPTIONS, removeNSPrefix: true, transformTagName: false, transformAttributeName: false });
  const production = new XMLParser(EM_XML_PARSER_OPTIONS);
  const noEntities = new XMLParser({ ...EM_XML_PARSER_OPTIONS, processEntities: false });
  const jsonText = json.slice(1);

  const results: CaseResult[] = [
    measure('xml parse: untuned (before)', xmlBytes, budgetMs, () => untuned.parse(xml)),
    measure('xml parse: tuned, removeNSPrefix', xmlBytes, budgetMs, () => tunedNs.parse(xml)),
    measure('xml parse: production (after)', xmlBytes, budgetMs, () => production.parse(xml)),
    measure('xml parse: production, no entity decoding', xmlBytes, budgetMs, () => noEntities.parse(xml)),
    measure('xml parse: production + XMLValidator', xmlBytes, budgetMs, () => {
      if (XMLValidator.validate(xml) !== true) throw new Error('invalid');
      return production.parse(xml);
    }),
    measure('xml decode: decodeQueryResult (parse + map)', xmlBytes, budgetMs, () => decodeQueryResult('RestoreSession', xml, 'xml')),
    measure('json decode: decodeQueryResult (parse + map)', jsonBytes, budgetMs, () => decodeQueryResult('RestoreSession', json, 'json')),
    measure('JSON.parse (floor)', jsonBytes, budgetMs, () => JSON.parse(jsonText)),
  ];
  const floor = results[results.length - 1] as CaseResult;
  for (const r of results) r.timesFloor = +(r.msPerPage / floor.msPerPage).toFixed(2);

  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`page: ${SESSIONS} RestoreSessions, XML ${(xmlBytes / 1e6).toFixed(3)} MB, JSON ${(jsonBytes / 1e6).toFixed(3)} MB, node ${process.version}`);
  console.log(`${pad('case', 48)}${pad('MB/s', 9)}${pad('entities/s', 12)}${pad('ms/page', 10)}x floor`);
  for (const r of results) {
    console.log(`${pad(r.case, 48)}${pad(String(r.mbPerSec), 9)}${pad(String(r.entitiesPerSec), 12)}${pad(String(r.msPerPage), 10)}${r.timesFloor}`);
  }

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'decode.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, sessions: SESSIONS, xmlBytes, jsonBytes, budgetMs, results }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
}

main();
