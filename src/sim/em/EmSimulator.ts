import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { Random } from '../Random.js';
import type { RequestLog } from '../RequestLog.js';
import type { SimHandler, SimRequest, SimResponse } from '../SimServer.js';
import { emNameTime, insertSorted } from '../world/generateWorld.js';
import type { EmRestoreSession, EmServerWorld } from '../world/types.js';
import { EmHttpError } from './EmHttpError.js';
import { EmLogonSessions } from './EmLogonSessions.js';
import type { EmLogonSession } from './EmLogonSessions.js';
import { EmQueryService } from './EmQueryService.js';
import { emResourceKindList, restorePointKind, restoreSessionKind, vmRestorePointKind } from './emResources.js';
import type { EmContext, EmResourceKind } from './emResources.js';
import { leaf, link, links, renderJson, renderXml } from './renderEm.js';
import type { EmNode } from './renderEm.js';

export interface EmSimulatorOptions {
  world: EmServerWorld;
  log: RequestLog;
  username: string;
  password: string;
  /** Default systemClock. */
  clock?: Clock;
  /** Idle, sliding; default 900_000 (15 minutes, [D:http_authentication]). */
  sessionTimeoutMs?: number;
}

const XML_TYPE = 'application/xml; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
/** [D:http_authentication]. Sent on every 401, since HTTP requires a challenge with 401. */
const CHALLENGE = 'Basic Realm=RestSvc';
/** [D:em_web_api_versions]: v1_7 = VBR 12-13 (latest), v1_6 = 11, v1_5 = 10. */
const SUPPORTED_VERSIONS = ['v1_5', 'v1_6', 'v1_7'] as const;
const DAY = 86_400_000;

type Route =
  | { kind: 'root' }
  | { kind: 'logon' }
  | { kind: 'logonSessions' }
  | { kind: 'logonSession'; id: string }
  | { kind: 'querySvc' }
  | { kind: 'query' }
  | { kind: 'collection'; resource: EmResourceKind<unknown> }
  | { kind: 'item'; resource: EmResourceKind<unknown>; id: string }
  | { kind: 'restorePointVmPoints'; id: string };

interface Matched {
  route: Route;
  template: string;
  methods: readonly string[];
}

const RESOURCES = emResourceKindList;
const RESOURCE_BY_PATH = new Map(RESOURCES.map((r) => [r.path.toLowerCase(), r]));

/**
 * A faithful Veeam Backup Enterprise Manager REST API (`/api`, XML by default, JSON on request) over an
 * EmServerWorld. Wire details and their sources: docs/veeam-wire.md Part 1.
 *
 * Path segments match case-insensitively (EM runs on Windows/WCF where they do; the documented form is
 * camelCase), and a trailing slash is ignored (`/api/sessionMngr/?v=latest` is the documented form).
 */
export class EmSimulator implements SimHandler {
  private readonly world: EmServerWorld;
  private readonly log: RequestLog;
  private readonly username: string;
  private readonly password: string;
  private readonly clock: Clock;
  /** With an injected clock, "now" is that clock; otherwise the world's own newest session (see anchorNow). */
  private readonly explicitClock: boolean;
  private readonly sessions: EmLogonSessions;
  private readonly query = new EmQueryService();
  private readonly random: Random;
  private readonly idIndexes = new Map<string, { records: readonly unknown[]; length: number; version: number; map: Map<string, number> }>();
  private version = 0;
  private api = 'http://127.0.0.1/api';

  constructor(options: EmSimulatorOptions) {
    this.world = options.world;
    this.log = options.log;
    this.username = options.username;
    this.password = options.password;
    this.clock = options.clock ?? systemClock;
    this.explicitClock = options.clock !== undefined;
    this.random = new Random(`em-sim:${options.world.name}`);
    this.sessions = new EmLogonSessions(this.clock, options.sessionTimeoutMs ?? 900_000, this.random.fork('logon'));
  }

  setBaseUrl(baseUrl: string): void {
    this.api = `${baseUrl.replace(/\/+$/, '')}/api`;
  }

  template(req: SimRequest): string {
    const m = this.match(req);
    if (!m) return `${req.method} /api/{unknown}`;
    if (m.route.kind === 'query') {
      const raw = EmQueryService.params(new URLSearchParams(req.query)).type;
      if (raw === undefined) return `${req.method} /api/query`;
      return `${req.method} /api/query?type=${EmQueryService.canonicalType(raw) ?? '{unknown}'}`;
    }
    return `${req.method} ${m.template}`;
  }

  handle(req: SimRequest): SimResponse {
    try {
      return this.dispatch(req);
    } catch (err) {
      if (err instanceof EmHttpError) {
        const res = this.errorResponse(req, err.status, err.message);
        res.headers = { ...res.headers, ...err.headers };
        return res;
      }
      throw err;
    }
  }

  /**
   * EM's `<Error Message=".." StatusCode=".."/>` or its JSON twin (docs/veeam-wire.md Part 1 section 3). Messages for 401,
   * 404 and 400 are UNCONFIRMED; ours say what went wrong.
   */
  errorResponse(req: SimRequest, status: number, message: string): SimResponse {
    const headers: Record<string, string> = {};
    if (status === 401) headers['www-authenticate'] = CHALLENGE;
    if (wantsJson(req)) {
      headers['content-type'] = JSON_TYPE;
      const body = JSON.stringify({ FirstChanceExceptionMessage: null, Message: message, StackTrace: null, Status: null, StatusCode: status });
      return { status, headers, body: `\uFEFF${body}` };
    }
    headers['content-type'] = XML_TYPE;
    return {
      status,
      headers,
      body: renderXml({
        name: 'Error',
        attrs: [
          ['Message', message],
          ['StatusCode', status],
        ],
      }),
    };
  }

  expireAll(): void {
    this.sessions.expireAll();
  }

  activeSessions(): number {
    return this.sessions.live().length;
  }

  /**
   * Adds a restore session to the world, keeping it sorted by creation time. Defaults: a running
   * file-level restore created "now" (see anchorNow; without an injected clock, one second after the
   * newest session) on backup server 0, from a VM restore point of that server.
   */
  addRestoreSession(partial: Partial<EmRestoreSession> = {}): EmRestoreSession {
    const backupServer =
      partial.backupServer ?? (partial.vmRestorePoint !== undefined ? (this.world.vmRestorePoints[partial.vmRestorePoint]?.backupServer ?? 0) : 0);
    let pointIndex = partial.vmRestorePoint;
    if (pointIndex === undefined) {
      pointIndex = this.world.vmRestorePoints.findIndex((p) => p.backupServer === backupServer);
      if (pointIndex < 0) pointIndex = 0;
    }
    const point = this.world.vmRestorePoints[pointIndex];
    const newest = this.world.restoreSessions[this.world.restoreSessions.length - 1];
    const creationTime = partial.creationTime ?? (this.explicitClock ? this.clock.now() : newest ? newest.creationTime + 1000 : this.clock.now());
    const vm = partial.vmDisplayName ?? point?.vmName ?? 'vm01';
    const jobType = partial.jobType ?? 'FileLevelRestore';
    const session: EmRestoreSession = {
      id: this.random.guid(),
      name: jobType === 'FileLevelRestore' ? `FLR_[${vm}]@${emNameTime(creationTime)}` : `${vm}@${emNameTime(creationTime)}`,
      jobType,
      vmDisplayName: vm,
      creationTime,
      state: 'Working',
      result: 'None',
      progress: 0,
      restoredObjRef: point?.hierarchyObjRef ?? '',
      backupServer,
      vmRestorePoint: pointIndex,
      ...partial,
    };
    insertSorted(this.world.restoreSessions, session, (s) => s.creationTime);
    this.changed();
    return session;
  }

  /** Call after editing world records in place, so cached sort orders and id indexes are rebuilt. */
  changed(): void {
    this.version++;
    this.query.invalidate();
  }

  // ---------------------------------------------------------------- routing

  private match(req: SimRequest): Matched | undefined {
    const path = req.path;
    if (!/^\/api(\/|$)/i.test(path)) return undefined;
    let segs: string[];
    try {
      segs = path
        .slice(4)
        .split('/')
        .filter((s) => s !== '')
        .map((s) => decodeURIComponent(s));
    } catch {
      return undefined;
    }
    const lower = segs.map((s) => s.toLowerCase());
    const [a, b, c] = lower;
    const GET = ['GET'] as const;
    switch (segs.length) {
      case 0:
        return { route: { kind: 'root' }, template: '/api/', methods: GET };
      case 1:
        if (a === 'sessionmngr') return { route: { kind: 'logon' }, template: '/api/sessionMngr', methods: ['POST'] };
        if (a === 'logonsessions') return { route: { kind: 'logonSessions' }, template: '/api/logonSessions', methods: GET };
        if (a === 'querysvc') return { route: { kind: 'querySvc' }, template: '/api/querySvc', methods: GET };
        if (a === 'query') return { route: { kind: 'query' }, template: '/api/query', methods: GET };
        {
          const resource = RESOURCE_BY_PATH.get(a!);
          if (resource) return { route: { kind: 'collection', resource }, template: `/api/${resource.path}`, methods: GET };
        }
        return undefined;
      case 2: {
        const id = segs[1]!;
        if (a === 'logonsessions') return { route: { kind: 'logonSession', id }, template: '/api/logonSessions/{id}', methods: ['GET', 'DELETE'] };
        const resource = RESOURCE_BY_PATH.get(a!);
        if (resource) return { route: { kind: 'item', resource, id }, template: `/api/${resource.path}/{id}`, methods: GET };
        return undefined;
      }
      case 3:
        if (a === 'restorepoints' && b !== undefined && c === 'vmrestorepoints') {
          return { route: { kind: 'restorePointVmPoints', id: segs[1]! }, template: '/api/restorePoints/{id}/vmRestorePoints', methods: GET };
        }
        return undefined;
      default:
        return undefined;
    }
  }

  private dispatch(req: SimRequest): SimResponse {
    const m = this.match(req);
    if (!m) throw new EmHttpError(404, `The resource ${req.path} does not exist.`);
    if (!m.methods.includes(req.method)) {
      throw new EmHttpError(405, `Method ${req.method} is not allowed for ${m.template}.`, { allow: m.methods.join(', ') });
    }
    const route = m.route;
    if (route.kind === 'root') return this.ok(req, this.enterpriseManager());
    if (route.kind === 'logon') return this.logon(req);

    const session = this.authenticate(req);
    const ctx: EmContext = { api: this.api, world: this.world };
    const search = new URLSearchParams(req.query);
    switch (route.kind) {
      case 'logonSessions':
        return this.ok(req, {
          name: 'LogonSessions',
          children: this.sessions
            .live()
            .filter((s) => s.userName === session.userName)
            .map((s) => this.logonSessionNode(s)),
          list: 'LogonSessions',
        });
      case 'logonSession': {
        const target = this.sessions.find(route.id);
        if (!target) throw new EmHttpError(404, `Logon session ${route.id} does not exist.`);
        if (req.method === 'DELETE') {
          // [D:delete_loginsessions_id]: 204 No Content, no body; the token dies with the session.
          this.sessions.remove(target);
          this.log.countEvent('logoffs');
          return { status: 204, headers: {} };
        }
        return this.ok(req, this.logonSessionNode(target));
      }
      case 'querySvc':
        return this.ok(req, this.querySvc());
      case 'query':
        return this.ok(req, this.query.run(ctx, search));
      case 'collection':
        return this.ok(req, this.collection(ctx, route.resource, search));
      case 'item': {
        const record = this.findRecord(route.resource, route.id);
        return this.ok(req, isEntity(search) ? route.resource.entity(ctx, record) : route.resource.ref(ctx, record, 'EntityRef'));
      }
      case 'restorePointVmPoints': {
        const index = this.indexOf(restorePointKind as unknown as EmResourceKind<unknown>, route.id);
        const points = this.world.vmRestorePoints.filter((p) => p.restorePoint === index);
        return this.ok(req, entityReferences(points.map((p) => vmRestorePointKind.ref(ctx, p, 'Ref'))));
      }
    }
  }

  // ---------------------------------------------------------------- auth

  /**
   * Logon ([D:post_sessionmngr][D:logging_on], docs/veeam-wire.md Part 1 section 2). The user name compares
   * case-insensitively (Windows account names do), the password exactly. The version is checked before
   * the credentials; the order is UNCONFIRMED. A logon without `?v=` gets the latest version (UNCONFIRMED).
   */
  private logon(req: SimRequest): SimResponse {
    let version: string | undefined;
    for (const [k, v] of new URLSearchParams(req.query)) if (k.toLowerCase() === 'v' && version === undefined) version = v;
    const v = (version ?? 'latest').toLowerCase();
    if (v !== 'latest' && !SUPPORTED_VERSIONS.some((s) => s === v)) {
      throw new EmHttpError(400, `Unsupported REST API version "${version}". Supported versions: latest, ${SUPPORTED_VERSIONS.join(', ')}.`);
    }
    const auth = header(req, 'authorization');
    const m = auth ? /^\s*basic\s+(\S+)\s*$/i.exec(auth) : null;
    if (!m) throw new EmHttpError(401, 'Authentication required: send an Authorization: Basic header with the user name and password.');
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
    const pass = colon >= 0 ? decoded.slice(colon + 1) : '';
    if (colon < 0 || user.toLowerCase() !== this.username.toLowerCase() || pass !== this.password) {
      throw new EmHttpError(401, 'Login failed: the user name or password is incorrect.');
    }
    const session = this.sessions.create(this.username);
    this.log.countEvent('logons');
    const res = this.ok(req, this.logonSessionNode(session), 201);
    res.headers = {
      ...res.headers,
      'x-restsvcsessionid': session.token,
      'set-cookie': `X-RestSvcSessionId=${session.token}; Path=/api;`,
      location: `${this.api}/logonSessions/${session.sessionId}`,
    };
    return res;
  }

  /**
   * The token comes in the `X-RestSvcSessionId` header or cookie; with both, "the REST API will use the
   * cookie token and ignore the token sent in the X-RestSvcSessionId header" ([D:http_authentication]).
   */
  private authenticate(req: SimRequest): EmLogonSession {
    const token = cookieToken(req) ?? header(req, 'x-restsvcsessionid');
    if (!token) throw new EmHttpError(401, 'Authentication required: the X-RestSvcSessionId header or cookie is missing.');
    const session = this.sessions.use(token.trim());
    if (!session) throw new EmHttpError(401, 'The logon session has expired or does not exist. Log on again.');
    return session;
  }

  // ---------------------------------------------------------------- representations

  private ok(req: SimRequest, node: EmNode, status = 200): SimResponse {
    if (wantsJson(req)) {
      // JSON bodies start with a UTF-8 BOM: [JDC] strips `\xef\xbb\xbf` from every response (docs/veeam-wire.md Part 1 section 4).
      return { status, headers: { 'content-type': JSON_TYPE }, body: `\uFEFF${renderJson(node)}` };
    }
    return { status, headers: { 'content-type': XML_TYPE }, body: renderXml(node) };
  }

  /** `GET /api/` ([D:http_authentication], docs/veeam-wire.md Part 1 section 1). */
  private enterpriseManager(): EmNode {
    return {
      name: 'EnterpriseManager',
      children: [
        links([link('Down', `${this.api}/logonSessions`, 'LogonSessionList'), link('Create', `${this.api}/sessionMngr/?v=latest`, 'LogonSession')]),
        {
          name: 'SupportedVersions',
          list: 'array',
          children: SUPPORTED_VERSIONS.map((v) => ({
            name: 'SupportedVersion',
            attrs: [['Name', v]],
            children: [links([link('Create', `${this.api}/sessionMngr/?v=${v}`, 'LogonSession')])],
          })),
        },
      ],
    };
  }

  /**
   * LogonSession: Type/Href, Links, UserName, SessionId ([GO LogonSessionType], [D:logging_on]). The docs
   * list ~55 links; we send the ones this simulator serves, in the docs' order, plus Delete.
   */
  private logonSessionNode(s: EmLogonSession): EmNode {
    const api = this.api;
    const href = `${api}/logonSessions/${s.sessionId}`;
    return {
      name: 'LogonSession',
      attrs: [
        ['Type', 'LogonSession'],
        ['Href', href],
      ],
      children: [
        links([
          link('Up', `${api}/`, 'EnterpriseManager'),
          link('Down', `${api}/backupServers`, 'BackupServerReferenceList'),
          link('Down', `${api}/restorePoints`, 'RestorePointReferenceList'),
          link('Down', `${api}/vmRestorePoints`, 'VmRestorePointReferenceList'),
          link('Down', `${api}/restoreSessions`, 'RestoreSessionReferenceList'),
          link('Down', `${api}/querySvc`, 'QueryService'),
          link('Down', `${api}/backupServers?format=Entity`, 'BackupServerList'),
          link('Down', `${api}/restorePoints?format=Entity`, 'RestorePointList'),
          link('Down', `${api}/vmRestorePoints?format=Entity`, 'VmRestorePointList'),
          link('Down', `${api}/restoreSessions?format=Entity`, 'RestoreSessionList'),
          link('Delete', href),
        ]),
        leaf('UserName', s.userName),
        leaf('SessionId', s.sessionId),
      ],
    };
  }

  /**
   * `GET /api/querySvc` ([D:get_querysvc]): `<QuerySvc Type="QueryService" Href>` with links to queries.
   * The docs' sample body is cut after the root; the link list is ours (UNCONFIRMED), modelled on the
   * preconfigured query quoted in docs/veeam-wire.md Part 1 section 5.
   */
  private querySvc(): EmNode {
    const items = RESOURCES.map((r) => link('Down', `${this.api}/query?type=${r.queryType}&format=Entities&pageSize=100&page=1`, 'QueryResult', r.queryType));
    return {
      name: 'QuerySvc',
      attrs: [
        ['Type', 'QueryService'],
        ['Href', `${this.api}/querySvc`],
      ],
      children: [links(items)],
    };
  }

  /**
   * `GET /api/<collection>`: `<EntityReferences><Ref>` or, with `format=Entity`, `<RestoreSessions>` etc.
   * ([D:representation_collections]). No paging parameters are documented for these.
   */
  private collection(ctx: EmContext, resource: EmResourceKind<unknown>, search: URLSearchParams): EmNode {
    let records: readonly unknown[] = resource.records(this.world);
    if (resource === (restoreSessionKind as unknown)) {
      // "only returns the sessions … created for the last 30 days" ([D:get_restoresessions]).
      const from = this.anchorNow() - 30 * DAY;
      const sessions = this.world.restoreSessions;
      let lo = 0;
      let hi = sessions.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sessions[mid]!.creationTime < from) lo = mid + 1;
        else hi = mid;
      }
      records = sessions.slice(lo);
    }
    if (isEntity(search)) return { name: resource.plural, children: records.map((r) => resource.entity(ctx, r)), list: resource.plural };
    return entityReferences(records.map((r) => resource.ref(ctx, r, 'Ref')));
  }

  /**
   * "Now" for the 30-day window: the injected clock when one was given (a real server uses its clock);
   * otherwise the newest session's creation time, because a generated world's "now" is unrelated to the
   * wall clock and the window would otherwise be empty or everything.
   */
  private anchorNow(): number {
    if (this.explicitClock) return this.clock.now();
    const newest = this.world.restoreSessions[this.world.restoreSessions.length - 1];
    return newest ? newest.creationTime : this.clock.now();
  }

  private findRecord(resource: EmResourceKind<unknown>, id: string): unknown {
    return resource.records(this.world)[this.indexOf(resource, id)];
  }

  /** Index of a record by id (case-insensitive GUID); 404 when unknown. */
  private indexOf(resource: EmResourceKind<unknown>, id: string): number {
    const records = resource.records(this.world);
    let index = this.idIndexes.get(resource.path);
    if (!index || index.records !== records || index.length !== records.length || index.version !== this.version) {
      const map = new Map<string, number>();
      records.forEach((r, i) => map.set(resource.id(r).toLowerCase(), i));
      index = { records, length: records.length, version: this.version, map };
      this.idIndexes.set(resource.path, index);
    }
    const i = index.map.get(id.toLowerCase());
    if (i === undefined) throw new EmHttpError(404, `${resource.queryType} ${id} does not exist.`);
    return i;
  }
}

function entityReferences(refs: EmNode[]): EmNode {
  return { name: 'EntityReferences', children: refs, list: 'Refs' };
}

function isEntity(search: URLSearchParams): boolean {
  for (const [k, v] of search) if (k.toLowerCase() === 'format') return v.toLowerCase() === 'entity';
  return false;
}

/** 9.5U4 answered JSON whenever `application/json` appeared anywhere in Accept ([BY1][BY2]). */
function wantsJson(req: SimRequest): boolean {
  return (header(req, 'accept') ?? '').toLowerCase().includes('application/json');
}

function header(req: SimRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function cookieToken(req: SimRequest): string | undefined {
  const cookie = header(req, 'cookie');
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    // Split at the first `=` only: the base64 token ends in `=` padding.
    if (part.slice(0, eq).trim().toLowerCase() === 'x-restsvcsessionid') return part.slice(eq + 1).trim();
  }
  return undefined;
}
