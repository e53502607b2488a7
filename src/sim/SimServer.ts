import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Faults, validateFaultOptions } from './Faults.js';
import type { FaultAction, FaultOptions } from './Faults.js';
import { RequestLog } from './RequestLog.js';

/** A parsed request as handed to an API handler. */
export interface SimRequest {
  method: string;
  /** The path as sent, percent-decoding left to the handler. */
  path: string;
  /** The raw query string without `?`. */
  query: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What an API handler answers. The server adds Content-Length and Date. */
export interface SimResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** One simulated API (EM or VB365) behind a SimServer. */
export interface SimHandler {
  /** The route template for the request log, e.g. `GET /api/query?type=RestoreSession`. */
  template(req: SimRequest): string;
  handle(req: SimRequest): SimResponse | Promise<SimResponse>;
  /** The API's own error representation, used for injected status faults. */
  errorResponse(req: SimRequest, status: number, message: string): SimResponse;
  /** Told once the server listens, so hrefs can be absolute on the simulator's own base URL. */
  setBaseUrl(baseUrl: string): void;
}

export interface TlsMaterial {
  key: string;
  cert: string;
}

export interface SimServerOptions {
  handler: SimHandler;
  log?: RequestLog;
  faults?: Faults;
  tls?: TlsMaterial;
  host?: string;
  port?: number;
  /** Called for `POST /_sim/expire` and by the `expireAll` control. */
  onExpireAll?: () => void;
  /** Extra fields for `GET /_sim/stats`. */
  extraStats?: () => Record<string, unknown>;
  /** The world behind `/_sim/world…`; it is advanced to its clock's now before every API request. */
  world?: SimWorldControl;
}

/**
 * A simulated world as the `/_sim/world` routes see it (src/sim/world/liveWorld.ts implements it).
 * Bodies arrive parsed but unchecked; a method throws SimControlError for a bad one.
 */
export interface SimWorldControl {
  /** Brings the world up to its clock's now. */
  advance(): void;
  /** `GET /_sim/world`. */
  describe(): unknown;
  /** `POST /_sim/world/sessions`: answered with 201. */
  startSession(body: unknown): unknown;
  /** `POST /_sim/world/sessions/{id}/finish`. */
  finish(id: string, body: unknown): unknown;
  /** `POST /_sim/world/advance`. */
  advanceClock(body: unknown): unknown;
}

/** A refused control call: its HTTP status and a message for the `{"error"}` body. */
export class SimControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SimControlError';
  }
}

/** The path prefix of the simulator's own control surface; no Veeam API uses it. */
export const SIM_PREFIX = '/_sim';

/**
 * A real HTTP(S) server in front of one simulated API: request log, fault knobs, and the
 * `/_sim` control routes. It knows nothing of Veeam; the handler does.
 */
export class SimServer {
  readonly log: RequestLog;
  readonly faults: Faults;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private baseUrl = '';

  constructor(private readonly options: SimServerOptions) {
    this.log = options.log ?? new RequestLog();
    this.faults = options.faults ?? new Faults();
    const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`simulator error: ${err instanceof Error ? err.message : String(err)}`);
        } else res.destroy();
      });
    };
    this.server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener) : http.createServer(listener);
    this.server.keepAliveTimeout = 5_000;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  private hanging = 0;

  /** Requests a `hang` fault holds right now (their client has not closed the connection yet). */
  get hangingRequests(): number {
    return this.hanging;
  }

  /** Listens (default 127.0.0.1:0) and returns the base URL, e.g. `http://127.0.0.1:41234`. */
  async listen(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://${host}:${port}`;
    this.options.handler.setBaseUrl(this.baseUrl);
    return this.baseUrl;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** Stops listening and drops every connection, hung ones included. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections?.();
    await closed;
  }

  private wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const rawUrl = req.url ?? '/';
    const qIndex = rawUrl.indexOf('?');
    const simReq: SimRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: qIndex >= 0 ? rawUrl.slice(0, qIndex) : rawUrl,
      query: qIndex >= 0 ? rawUrl.slice(qIndex + 1) : '',
      url: new URL(rawUrl, this.baseUrl || 'http://127.0.0.1'),
      headers: req.headers,
      body,
    };

    if (simReq.path === SIM_PREFIX || simReq.path.startsWith(`${SIM_PREFIX}/`)) {
      this.send(res, this.control(simReq));
      return;
    }

    const handler = this.options.handler;
    const template = handler.template(simReq);
    const action = this.faults.pick(simReq.method, rawUrl);
    const record = (status: number, fault?: string): void => {
      this.log.record({ method: simReq.method, path: simReq.path, query: simReq.query, template, status, ...(fault ? { fault } : {}) });
    };

    await this.wait(this.faults.delay());

    if (action && 'reset' in action) {
      record(0, 'reset');
      req.socket.resetAndDestroy();
      return;
    }
    if (action && 'hang' in action) {
      record(0, 'hang');
      // Counted until the client gives up on it: tests see a cancelled request end.
      this.hanging++;
      req.socket.once('close', () => this.hanging--);
      return;
    }
    if (action && 'status' in action) {
      const response = handler.errorResponse(simReq, action.status, action.message ?? defaultMessage(action.status));
      if (action.retryAfter !== undefined) response.headers = { ...response.headers, 'retry-after': String(action.retryAfter) };
      record(action.status, 'status');
      this.send(res, response);
      return;
    }

    this.options.world?.advance();
    const response = await handler.handle(simReq);
    record(response.status, action ? faultName(action) : undefined);
    if (action && 'malformed' in action) {
      this.send(res, { ...response, body: corrupt(response.body) });
      return;
    }
    if (action && 'slowBody' in action) {
      await this.sendSlowly(res, response, action.slowBody.chunkBytes, action.slowBody.chunkDelayMs);
      return;
    }
    this.send(res, response);
  }

  private send(res: http.ServerResponse, response: SimResponse): void {
    const body = toBuffer(response.body);
    res.writeHead(response.status, { ...response.headers, 'content-length': String(body.length) });
    res.end(body);
  }

  private async sendSlowly(res: http.ServerResponse, response: SimResponse, chunkBytes: number, delayMs: number): Promise<void> {
    const body = toBuffer(response.body);
    res.writeHead(response.status, { ...response.headers, 'content-length': String(body.length) });
    const size = Math.max(1, chunkBytes);
    for (let offset = 0; offset < body.length; offset += size) {
      if (res.destroyed) return;
      res.write(body.subarray(offset, offset + size));
      if (offset + size < body.length) await this.wait(delayMs);
    }
    res.end();
  }

  /** `/_sim/stats`, `/_sim/stats/reset`, `/_sim/faults`, `/_sim/expire`, `/_sim/log`, `/_sim/world…`. Never logged. */
  private control(req: SimRequest): SimResponse {
    const path = req.path.replace(/\/+$/, '');
    const route = `${req.method} ${path}`;
    if (path === `${SIM_PREFIX}/world` || path.startsWith(`${SIM_PREFIX}/world/`)) return this.worldControl(req, route);
    switch (route) {
      case `GET ${SIM_PREFIX}/stats`:
        return json(200, { ...this.log.stats(), ...this.options.extraStats?.() });
      case `POST ${SIM_PREFIX}/stats/reset`:
        this.log.reset();
        return json(200, { ok: true });
      case `GET ${SIM_PREFIX}/log`:
        return json(200, this.log.all().slice(-1000));
      case `GET ${SIM_PREFIX}/faults`:
        return json(200, this.faults.describe());
      case `POST ${SIM_PREFIX}/faults`:
      case `PUT ${SIM_PREFIX}/faults`: {
        let parsed: unknown;
        try {
          parsed = req.body.length ? JSON.parse(req.body.toString('utf8')) : {};
          validateFaultOptions(parsed);
        } catch (err) {
          return json(400, { error: err instanceof Error ? err.message : String(err) });
        }
        this.faults.set(parsed as FaultOptions);
        return json(200, this.faults.describe());
      }
      case `DELETE ${SIM_PREFIX}/faults`:
        this.faults.clear();
        return json(200, this.faults.describe());
      case `POST ${SIM_PREFIX}/expire`:
        this.options.onExpireAll?.();
        return json(200, { ok: true });
      default:
        return json(404, { error: `unknown simulator control route ${route}` });
    }
  }

  /** `GET /_sim/world`, `POST /_sim/world/sessions`, `POST /_sim/world/sessions/{id}/finish`, `POST /_sim/world/advance`. */
  private worldControl(req: SimRequest, route: string): SimResponse {
    const world = this.options.world;
    if (!world) return json(404, { error: `this simulator has no world control (${route})` });
    const body = (): unknown => {
      if (req.body.length === 0) return {};
      try {
        return JSON.parse(req.body.toString('utf8'));
      } catch (err) {
        throw new SimControlError(400, `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    try {
      if (route === `GET ${SIM_PREFIX}/world`) return json(200, world.describe());
      if (route === `POST ${SIM_PREFIX}/world/sessions`) return json(201, world.startSession(body()));
      if (route === `POST ${SIM_PREFIX}/world/advance`) return json(200, world.advanceClock(body()));
      const finish = /^POST \/_sim\/world\/sessions\/([^/]+)\/finish$/.exec(route);
      if (finish) {
        let id: string;
        try {
          id = decodeURIComponent(finish[1]!);
        } catch {
          return json(400, { error: `the session id ${finish[1]} is not valid percent-encoding` });
        }
        return json(200, world.finish(id, body()));
      }
      return json(404, { error: `unknown simulator control route ${route}` });
    } catch (err) {
      if (err instanceof SimControlError) return json(err.status, { error: err.message });
      throw err;
    }
  }
}

function json(status: number, value: unknown): SimResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(value) };
}

function faultName(action: FaultAction): string {
  return Object.keys(action)[0] ?? 'fault';
}

function defaultMessage(status: number): string {
  return http.STATUS_CODES[status] ?? `HTTP ${status}`;
}

function toBuffer(body: string | Buffer | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Half the body plus bytes no XML or JSON parser accepts. */
function corrupt(body: string | Buffer | undefined): Buffer {
  const buf = toBuffer(body);
  return Buffer.concat([buf.subarray(0, Math.floor(buf.length / 2)), Buffer.from('<<\u0000{"garbage')]);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
