import selfsigned from 'selfsigned';
import { systemClock } from './clock.js';
import type { Clock } from './clock.js';
import { EmSimulator } from './em/EmSimulator.js';
import { Faults } from './Faults.js';
import type { FaultOptions } from './Faults.js';
import { RequestLog } from './RequestLog.js';
import { SimServer } from './SimServer.js';
import type { TlsMaterial } from './SimServer.js';
import { VboSimulator } from './vbo/VboSimulator.js';
import type { VboApiVersion } from './vbo/VboSimulator.js';
import { generateEmWorld, generateVboWorld } from './world/generateWorld.js';
import { EmLiveWorld, VboLiveWorld, resolveLiveOptions } from './world/liveWorld.js';
import type { EmServerWorld, VboServerWorld, WorldOptions } from './world/types.js';
import { Random } from './Random.js';

export type SimulatedKind = 'enterprise-manager' | 'microsoft365';

interface SimulatedServerBase {
  name: string;
  /** Where a client points: EM `http://127.0.0.1:PORT/api`, VB365 `http://127.0.0.1:PORT`. */
  url: string;
  /** The server's origin, e.g. `http://127.0.0.1:PORT` (control routes live at `${baseUrl}/_sim`). */
  baseUrl: string;
  username: string;
  password: string;
  log: RequestLog;
  faults: Faults;
  /** Requests a `hang` fault holds right now (until their client closes the connection). */
  hangingRequests(): number;
  /** Invalidates every EM logon session / VB365 token now. */
  expireAll(): void;
  close(): Promise<void>;
}

export interface SimulatedEm extends SimulatedServerBase {
  kind: 'enterprise-manager';
  /** The data, mutated in place as the clock moves (up to date after a request or `live.advance()`). */
  world: EmServerWorld;
  sim: EmSimulator;
  /** The world's motion and its controls (`/_sim/world` in code). */
  live: EmLiveWorld;
}

export interface SimulatedVbo extends SimulatedServerBase {
  kind: 'microsoft365';
  apiVersion: VboApiVersion;
  /** The data, mutated in place as the clock moves (up to date after a request or `live.advance()`). */
  world: VboServerWorld;
  sim: VboSimulator;
  /** The world's motion and its controls (`/_sim/world` in code). */
  live: VboLiveWorld;
}

export type SimulatedServer = SimulatedEm | SimulatedVbo;

export interface StartSimulatorsOptions {
  /** Number of Enterprise Manager servers (named em-1, em-2, ...). Default 3. */
  em?: number;
  /** VB365 servers: a count, or their API versions in order (named m365-1, ...). Default `['v8', 'v6']`. */
  vbo?: number | VboApiVersion[];
  /** Restore sessions per server. Default 300. */
  sessionsPerServer?: number;
  seed?: number | string;
  /** Serve HTTPS with one self-signed certificate for all servers. Default false. */
  tls?: boolean;
  /**
   * Every server's time: logon/token expiry, and the world, whose history ends at the clock's now at
   * start (unless `world.now` says otherwise) and which moves as the clock moves (`world.live`).
   * Default: the system clock. A ManualClock moves only when told (also by `POST /_sim/world/advance`).
   */
  clock?: Clock;
  /** Fault knobs applied to every server at start (each server gets its own independent copy). */
  faults?: FaultOptions;
  /** Idle timeout of EM logon sessions, ms. Default 15 minutes. */
  emSessionTimeoutMs?: number;
  /** Lifetime of VB365 access tokens, seconds. Default 3600. */
  vboTokenLifetimeSec?: number;
  /** World options; `live` (default off: a still world) see LiveWorldOptions; `now` defaults to the clock's now at start. */
  world?: Omit<WorldOptions, 'seed' | 'sessionsPerServer'>;
  host?: string;
}

export interface Simulators {
  /** The clock every server runs on (the one given, else the system clock). */
  clock: Clock;
  /** Where every world's generated history ends, epoch ms. */
  anchor: number;
  servers: SimulatedServer[];
  em: SimulatedEm[];
  vbo: SimulatedVbo[];
  /** PEM of the self-signed certificate when `tls` is on; trust it as a CA. */
  ca?: string;
  /** One line of JSON describing every server, as `npm run sim` prints it. */
  describe(): SimulatorsDescription;
  close(): Promise<void>;
}

export interface SimulatorsDescription {
  servers: { name: string; kind: SimulatedKind; url: string; apiVersion?: VboApiVersion; username: string; password: string }[];
}

const DEFAULT_VBO_VERSIONS: VboApiVersion[] = ['v8', 'v6'];
/**
 * Worlds stand still unless `world.live` asks: suites on the system clock compare a world read at one
 * moment with answers given later (test/graph/filters), and some step a ManualClock expecting nothing
 * but expiry to change (test/graph/vboTotals). The demo asks for `live: true`.
 */
const LIVE_BY_DEFAULT = false;

/** Starts EM and VB365 simulators on free loopback ports, each with its own world, log and faults. */
export async function startSimulators(options: StartSimulatorsOptions = {}): Promise<Simulators> {
  const seed = options.seed ?? 1;
  const clock = options.clock ?? systemClock;
  const given = options.world?.now;
  const anchor = given === undefined ? clock.now() : typeof given === 'number' ? given : Date.parse(given);
  if (!Number.isFinite(anchor)) throw new Error(`world.now: not a date: ${String(given)}`);
  const live = resolveLiveOptions(options.world?.live, LIVE_BY_DEFAULT);
  const worldOptions: WorldOptions = { ...options.world, now: anchor, seed, sessionsPerServer: options.sessionsPerServer ?? 300 };
  const versions = resolveVersions(options.vbo);
  const tls = options.tls ? await selfSignedCertificate() : undefined;
  const credentials = new Random(`credentials:${seed}`);
  const started: SimulatedServer[] = [];
  /** One HTTP server per simulated API, with its own faults (seeded per server) and log. */
  const serve = async (
    sim: EmSimulator | VboSimulator,
    log: RequestLog,
    name: string,
    extraStats: () => Record<string, unknown>,
    world: EmLiveWorld | VboLiveWorld,
  ) => {
    const faults = new Faults(options.faults ?? {}, `${seed}:${name}`);
    const server = new SimServer({
      handler: sim,
      log,
      faults,
      ...hostAndTls(options.host, tls),
      onExpireAll: () => sim.expireAll(),
      extraStats,
      world: world.control,
    });
    const baseUrl = await server.listen();
    return { baseUrl, log, faults, hangingRequests: () => server.hangingRequests, expireAll: () => sim.expireAll(), close: () => server.close() };
  };

  try {
    for (let i = 1; i <= (options.em ?? 3); i++) {
      const name = `em-${i}`;
      const log = new RequestLog();
      const world = generateEmWorld(name, worldOptions);
      const username = `SIM\\graph-reader${i}`;
      const password = `em-${credentials.guid().slice(0, 13)}`;
      const sim = new EmSimulator({
        world,
        log,
        username,
        password,
        clock,
        ...(options.emSessionTimeoutMs ? { sessionTimeoutMs: options.emSessionTimeoutMs } : {}),
      });
      const liveWorld = new EmLiveWorld(world, { clock, seed, anchor, live, onChange: () => sim.changed() });
      const served = await serve(sim, log, name, () => ({ activeSessions: sim.activeSessions() }), liveWorld);
      started.push({ kind: 'enterprise-manager', name, url: `${served.baseUrl}/api`, username, password, world, sim, live: liveWorld, ...served });
    }
    for (let i = 1; i <= versions.length; i++) {
      const name = `m365-${i}`;
      const apiVersion = versions[i - 1]!;
      const log = new RequestLog();
      const world = generateVboWorld(name, { ...worldOptions, apiVersion });
      const username = `graph-reader${i}@sim.onmicrosoft.com`;
      const password = `vbo-${credentials.guid().slice(0, 13)}`;
      const sim = new VboSimulator({
        world,
        log,
        apiVersion,
        username,
        password,
        clock,
        ...(options.vboTokenLifetimeSec ? { tokenLifetimeSec: options.vboTokenLifetimeSec } : {}),
        ...(options.world?.quirks ? { quirks: options.world.quirks } : {}),
      });
      const liveWorld = new VboLiveWorld(world, {
        clock,
        seed,
        anchor,
        live,
        apiVersion,
        onChange: () => sim.changed(),
        ...(options.world?.quirks ? { quirks: options.world.quirks } : {}),
      });
      const served = await serve(sim, log, name, () => ({ activeTokens: sim.activeTokens() }), liveWorld);
      started.push({ kind: 'microsoft365', name, url: served.baseUrl, apiVersion, username, password, world, sim, live: liveWorld, ...served });
    }
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }

  return {
    clock,
    anchor,
    servers: started,
    em: started.filter((s): s is SimulatedEm => s.kind === 'enterprise-manager'),
    vbo: started.filter((s): s is SimulatedVbo => s.kind === 'microsoft365'),
    ...(tls ? { ca: tls.cert } : {}),
    describe: () => ({
      servers: started.map((s) => ({
        name: s.name,
        kind: s.kind,
        url: s.url,
        ...(s.kind === 'microsoft365' ? { apiVersion: s.apiVersion } : {}),
        username: s.username,
        password: s.password,
      })),
    }),
    close: async () => {
      await Promise.allSettled(started.map((s) => s.close()));
    },
  };
}

function hostAndTls(host: string | undefined, tls: TlsMaterial | undefined): { host?: string; tls?: TlsMaterial } {
  return { ...(host ? { host } : {}), ...(tls ? { tls } : {}) };
}

function resolveVersions(vbo: StartSimulatorsOptions['vbo']): VboApiVersion[] {
  if (vbo === undefined) return DEFAULT_VBO_VERSIONS;
  if (Array.isArray(vbo)) return vbo;
  // A count: the first is the newest API, the rest cycle through older ones so demos show both shapes.
  const cycle: VboApiVersion[] = ['v8', 'v6', 'v7', 'v5', 'v4', 'v3', 'v2', 'v1'];
  return Array.from({ length: vbo }, (_, i) => cycle[i % cycle.length]!);
}

/** A self-signed certificate for 127.0.0.1 / localhost, valid for a year. */
export async function selfSignedCertificate(): Promise<TlsMaterial> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
