import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { ManualClock } from '../../src/sim/clock.js';
import { EmSimulator } from '../../src/sim/em/EmSimulator.js';
import type { EmSimulatorOptions } from '../../src/sim/em/EmSimulator.js';
import { Faults } from '../../src/sim/Faults.js';
import { RequestLog } from '../../src/sim/RequestLog.js';
import { SimServer } from '../../src/sim/SimServer.js';
import type { EmServerWorld } from '../../src/sim/world/types.js';

export const USER = 'CORP\\svc-graph';
export const PASSWORD = 'p@ss:w0rd "x"';
export const NS = 'http://www.veeam.com/ent/v1.0';

export interface EmHarness {
  base: string;
  sim: EmSimulator;
  server: SimServer;
  log: RequestLog;
  clock: ManualClock;
  faults: Faults;
  /** Logs on and returns the X-RestSvcSessionId token. */
  logon(): Promise<string>;
  /** GET with the harness's token (logging on first if needed). */
  get(pathAndQuery: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export async function startEm(world: EmServerWorld, options: Partial<EmSimulatorOptions> = {}): Promise<EmHarness> {
  const log = new RequestLog();
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock('2026-11-01T00:00:00Z');
  const sim = new EmSimulator({ world, log, username: USER, password: PASSWORD, clock, ...options });
  const faults = new Faults();
  const server = new SimServer({ handler: sim, log, faults, onExpireAll: () => sim.expireAll() });
  const base = await server.listen();
  let token: string | undefined;
  const h: EmHarness = {
    base,
    sim,
    server,
    log,
    clock,
    faults,
    async logon() {
      const res = await fetch(`${base}/api/sessionMngr/?v=latest`, { method: 'POST', headers: { authorization: basic(USER, PASSWORD) } });
      if (res.status !== 201) throw new Error(`logon failed: ${res.status}`);
      await res.arrayBuffer();
      return res.headers.get('x-restsvcsessionid')!;
    },
    async get(pathAndQuery, headers = {}) {
      token ??= await h.logon();
      return fetch(`${base}${pathAndQuery}`, { headers: { 'x-restsvcsessionid': token, ...headers } });
    },
    close: () => server.close(),
  };
  return h;
}

// ------------------------------------------------------------------ XML structure

/** An element as the comparison sees it: namespace declarations kept as attributes. */
export interface XNode {
  name: string;
  attrs: Record<string, string>;
  children: XNode[];
  text?: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  preserveOrder: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  commentPropName: '#comment',
});

/** Parses an XML document into its root element, in document order. */
export function parseXml(xml: string): XNode {
  const nodes = parser.parse(xml) as unknown[];
  const roots = nodes.map(toNode).filter((n): n is XNode => n !== undefined);
  if (roots.length !== 1) throw new Error(`expected one root element, got ${roots.length}`);
  return roots[0]!;
}

function toNode(raw: unknown): XNode | undefined {
  const obj = raw as Record<string, unknown>;
  const name = Object.keys(obj).find((k) => k !== ':@' && k !== '#text' && k !== '#comment');
  if (!name) return undefined;
  const attrs = (obj[':@'] ?? {}) as Record<string, string>;
  const kids = obj[name] as unknown[];
  const children: XNode[] = [];
  let text: string | undefined;
  for (const k of kids) {
    const ko = k as Record<string, unknown>;
    if ('#text' in ko) text = (text ?? '') + String(ko['#text']);
    else {
      const c = toNode(k);
      if (c) children.push(c);
    }
  }
  return { name, attrs: { ...attrs }, children, ...(text !== undefined ? { text } : {}) };
}

export interface CompareOptions {
  /** Element or `@Attribute` names the simulator may add (schema elements a doc sample leaves out). */
  allowExtra?: string[];
  /** Treat the expected `Links` as an ordered subsequence of the actual ones (trimmed samples). */
  linksSubset?: boolean;
  /** Attribute values or texts to ignore by name (e.g. generated SessionId). */
  ignoreValues?: string[];
}

/** `https://localhost:9398/api/x` and `http://127.0.0.1:4711/api/x` compare equal: only the path and query matter. */
function normalise(name: string, value: string): string {
  return name === 'Href' ? value.replace(/^https?:\/\/[^/]+/i, '') : value;
}

/** Every structural difference between a documented sample and a simulator response; [] when they agree. */
export function compareXml(expected: XNode, actual: XNode, options: CompareOptions = {}, path = ''): string[] {
  const here = `${path}/${expected.name}`;
  const diffs: string[] = [];
  const extra = new Set(options.allowExtra ?? []);
  const ignore = new Set(options.ignoreValues ?? []);
  if (expected.name !== actual.name) return [`${path}: expected <${expected.name}>, got <${actual.name}>`];
  for (const [k, v] of Object.entries(expected.attrs)) {
    if (k.startsWith('xmlns:')) continue; // the doc samples often leave out xsd/xsi; checked separately
    if (!(k in actual.attrs)) diffs.push(`${here}: missing attribute ${k}`);
    else if (!ignore.has(k) && normalise(k, actual.attrs[k]!) !== normalise(k, v)) diffs.push(`${here}@${k}: expected "${v}", got "${actual.attrs[k]}"`);
  }
  for (const k of Object.keys(actual.attrs)) {
    if (k.startsWith('xmlns')) continue;
    if (!(k in expected.attrs) && !extra.has(`@${k}`)) diffs.push(`${here}: unexpected attribute ${k}="${actual.attrs[k]}"`);
  }
  if (!ignore.has(expected.name) && (expected.text ?? '') !== (actual.text ?? ''))
    diffs.push(`${here}: expected text "${expected.text ?? ''}", got "${actual.text ?? ''}"`);

  if (expected.name === 'Links' && options.linksSubset) {
    let j = 0;
    for (const e of expected.children) {
      while (j < actual.children.length && compareXml(e, actual.children[j]!, options, here).length > 0) j++;
      if (j === actual.children.length) {
        diffs.push(`${here}: link ${e.attrs.Rel} ${e.attrs.Type ?? ''} ${e.attrs.Href} not found in order`);
        break;
      }
      j++;
    }
    return diffs;
  }
  const act = actual.children.filter((c) => !extra.has(c.name) || expected.children.some((e) => e.name === c.name));
  if (act.length !== expected.children.length) {
    diffs.push(`${here}: expected children [${expected.children.map((c) => c.name).join(', ')}], got [${act.map((c) => c.name).join(', ')}]`);
    return diffs;
  }
  expected.children.forEach((e, i) => diffs.push(...compareXml(e, act[i]!, options, here)));
  return diffs;
}

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/em/${name}`, import.meta.url), 'utf8');
}

/** The parsed body of an XML response, after checking the EM envelope: prolog, content type, namespaces. */
export async function xmlBody(res: Response): Promise<XNode> {
  const text = await res.text();
  if (!text.startsWith('<?xml version="1.0" encoding="utf-8"?>')) throw new Error(`no XML prolog: ${text.slice(0, 80)}`);
  if (res.headers.get('content-type') !== 'application/xml; charset=utf-8') throw new Error(`content-type ${res.headers.get('content-type')}`);
  const root = parseXml(text);
  if (
    root.attrs.xmlns !== NS ||
    root.attrs['xmlns:xsd'] !== 'http://www.w3.org/2001/XMLSchema' ||
    root.attrs['xmlns:xsi'] !== 'http://www.w3.org/2001/XMLSchema-instance'
  ) {
    throw new Error(`namespaces missing on <${root.name}>`);
  }
  return root;
}

export function child(node: XNode, name: string): XNode {
  const c = node.children.find((n) => n.name === name);
  if (!c) throw new Error(`<${node.name}> has no <${name}>`);
  return c;
}

/** Text of every `<Link>` as `Rel Type` pairs, for concise assertions. */
export function linkSummary(links: XNode): string[] {
  return links.children.map((l) => `${l.attrs.Rel}${l.attrs.Type ? ` ${l.attrs.Type}` : ''}`);
}
