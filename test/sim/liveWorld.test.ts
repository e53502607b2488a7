import { afterEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/sim/clock.js';
import { startSimulators } from '../../src/sim/startSimulators.js';
import type { SimulatedEm, SimulatedVbo, Simulators, StartSimulatorsOptions } from '../../src/sim/startSimulators.js';
import type { EmLiveSessionInfo, LiveWorldState, VboLiveSessionInfo } from '../../src/sim/world/liveWorld.js';

/** The live world over real HTTP, on manual clocks only: time passes when a test says so, never by sleeping. */

const ANCHOR = '2026-11-01T00:00:00Z';
const MIN = 60_000;

const running: Simulators[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(options: StartSimulatorsOptions = {}): Promise<Simulators & { clock: ManualClock }> {
  const clock = options.clock ?? new ManualClock(ANCHOR);
  const sims = await startSimulators({ em: 1, vbo: ['v8'], sessionsPerServer: 120, seed: 'live', ...options, clock });
  running.push(sims);
  return sims as Simulators & { clock: ManualClock };
}

// ------------------------------------------------------------------ HTTP helpers

interface Call {
  status: number;
  body: unknown;
}

async function control(server: SimulatedEm | SimulatedVbo, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Call> {
  const res = await fetch(`${server.baseUrl}/_sim/world${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: res.status, body: await res.json() };
}

async function world<I>(server: SimulatedEm | SimulatedVbo): Promise<LiveWorldState<I>> {
  const res = await control(server, 'GET', '');
  expect(res.status).toBe(200);
  return res.body as LiveWorldState<I>;
}

async function startSession<I>(server: SimulatedEm | SimulatedVbo, body?: unknown): Promise<I> {
  const res = await control(server, 'POST', '/sessions', body);
  expect(res.status).toBe(201);
  return res.body as I;
}

async function finish<I>(server: SimulatedEm | SimulatedVbo, id: string, body?: unknown): Promise<I> {
  const res = await control(server, 'POST', `/sessions/${encodeURIComponent(id)}/finish`, body);
  expect(res.status).toBe(200);
  return res.body as I;
}

/** EM over its own API: logon once, then JSON answers (BOM stripped). */
async function emApi(em: SimulatedEm): Promise<(pathAndQuery: string) => Promise<{ status: number; json: Record<string, unknown>; text: string }>> {
  const logon = await fetch(`${em.url}/sessionMngr/?v=latest`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${em.username}:${em.password}`).toString('base64')}` },
  });
  expect(logon.status).toBe(201);
  await logon.arrayBuffer();
  const token = logon.headers.get('x-restsvcsessionid')!;
  return async (pathAndQuery) => {
    const res = await fetch(`${em.url}${pathAndQuery}`, { headers: { 'x-restsvcsessionid': token, accept: 'application/json' } });
    const text = (await res.text()).replace(/^\uFEFF/, '');
    return { status: res.status, json: JSON.parse(text) as Record<string, unknown>, text: text.split(em.baseUrl).join('BASE') };
  };
}

interface EmEntity {
  UID: string;
  Name: string;
  State: string;
  Result: string;
  Progress: number;
  CreationTimeUTC: string;
  EndTimeUTC: string;
  VmDisplayName: string;
}

function emEntities(json: Record<string, unknown>): EmEntity[] {
  return (json as { Entities: { RestoreSessions: { RestoreSessions: EmEntity[] } } }).Entities.RestoreSessions.RestoreSessions;
}

/** EM query service: the sessions matching `filter`, as entities. */
async function emQuery(api: Awaited<ReturnType<typeof emApi>>, query: string): Promise<EmEntity[]> {
  const res = await api(`/query?type=RestoreSession&format=Entities&pageSize=1000&${query}`);
  expect(res.status).toBe(200);
  return emEntities(res.json);
}

const uidFilter = (uid: string) => `filter=${encodeURIComponent(`UID=="${uid}"`)}`;

/** VB365 v8 over its own API: a token once, then JSON. */
async function vboApi(vbo: SimulatedVbo): Promise<<T = Record<string, unknown>>(path: string) => Promise<T>> {
  const res = await fetch(`${vbo.url}/v8/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username: vbo.username, password: vbo.password }),
  });
  expect(res.status).toBe(200);
  const { access_token: token } = (await res.json()) as { access_token: string };
  return async <T>(path: string): Promise<T> => {
    const r = await fetch(`${vbo.url}/v8/${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as T;
  };
}

interface VboSessionJson {
  id: string;
  state: string;
  result: string;
  endTime: string | null;
  creationTime: string;
  eTag: number;
  details: string;
}

interface VboEventJson {
  id: string;
  status: string;
  startTime: string;
  endTime: string;
  type: string;
  itemName: string;
  itemSizeBytes: number;
}

/** Every session of the world as the EM query service and VB365 v8 serve them, oldest first, setId removed. */
async function servedLists(sims: Simulators): Promise<{ em: string; vbo: string }> {
  const em = await emApi(sims.em[0]!);
  const vbo = await vboApi(sims.vbo[0]!);
  const emText = (await em('/query?type=RestoreSession&format=Entities&sortAsc=CreationTime&pageSize=5000')).text;
  const vboPage = await vbo<{ results: unknown[]; setId?: string }>('RestoreSessions?orderAsc=true&limit=5000');
  delete vboPage.setId;
  return { em: emText, vbo: JSON.stringify(vboPage) };
}

// ------------------------------------------------------------------ tests

describe('the generated history is anchored at the clock', () => {
  it.each([ANCHOR, '2027-03-15T12:34:56.789Z'])('ends at the anchor %s, with some sessions still running there', async (at) => {
    const sims = await start({ clock: new ManualClock(at), sessionsPerServer: 300, world: { live: true } });
    const anchor = Date.parse(at);
    expect(sims.anchor).toBe(anchor);
    for (const s of [...sims.em, ...sims.vbo]) {
      const sessions = s.world.restoreSessions as { creationTime: number; endTime?: number; state: string }[];
      for (let i = 1; i < sessions.length; i++) expect(sessions[i]!.creationTime).toBeGreaterThanOrEqual(sessions[i - 1]!.creationTime);
      expect(sessions.every((x) => x.creationTime <= anchor && (x.endTime === undefined || x.endTime <= anchor))).toBe(true);
      // The newest started within the last 3 hours, and something is in progress right away.
      expect(sessions.at(-1)!.creationTime).toBeGreaterThan(anchor - 3 * 3_600_000);
      const state = await world<{ id: string; state: string }>(s);
      expect(state.now).toBe(new Date(anchor).toISOString());
      expect(state.counts.running).toBeGreaterThanOrEqual(1);
      expect(state.running.every((r) => r.state !== 'Stopped')).toBe(true);
    }
    // VB365: a running session has only the events that started by the anchor.
    const vbo = sims.vbo[0]!;
    const api = await vboApi(vbo);
    const runningVbo = vbo.world.restoreSessions.filter((x) => x.state === 'Working');
    for (const r of runningVbo) {
      const events = await api<{ results: VboEventJson[] }>(`RestoreSessions/${r.id}/Events?limit=10000`);
      expect(events.results.length).toBe(r.eventCount);
      expect(events.results.every((e) => Date.parse(e.startTime) <= anchor)).toBe(true);
    }
  });

  it('stands still by default: the clock moves, the world does not (but for what the clock expires)', async () => {
    const sims = await start();
    const before = JSON.stringify([sims.em[0]!.world, sims.vbo[0]!.world]);
    const state = await world(sims.em[0]!);
    expect(state.live.enabled).toBe(false);
    sims.clock.advance(6 * 3_600_000);
    await servedLists(sims);
    expect(JSON.stringify([sims.em[0]!.world, sims.vbo[0]!.world])).toBe(before);
    expect((await world(sims.vbo[0]!)).counts).toMatchObject({ started: 0, finished: 0 });
  });
});

describe('sessions start at the seeded rate', () => {
  it('about sessionsPerHour per hour and server, each after the anchor, the lists kept sorted', async () => {
    const sims = await start({ world: { live: { sessionsPerHour: 60 } } });
    const advanced = await control(sims.em[0]!, 'POST', '/advance', { ms: 10 * 3_600_000 });
    expect(advanced.status).toBe(200);
    expect((advanced.body as LiveWorldState<unknown>).now).toBe('2026-11-01T10:00:00.000Z');
    for (const s of [...sims.em, ...sims.vbo]) {
      // One clock for all servers: the VB365 server catches up on its next call.
      const state = await world(s);
      // A Poisson count of mean 600 (sd 24.5): the bounds are 6 sd wide.
      expect(state.counts.started).toBeGreaterThan(450);
      expect(state.counts.started).toBeLessThan(750);
      expect(state.counts.sessions).toBe(120 + state.counts.started);
      const sessions = s.world.restoreSessions as { creationTime: number }[];
      for (let i = 1; i < sessions.length; i++) expect(sessions[i]!.creationTime).toBeGreaterThanOrEqual(sessions[i - 1]!.creationTime);
      const fresh = sessions.filter((x) => x.creationTime > sims.anchor);
      expect(fresh.length).toBe(state.counts.started);
      expect(fresh.every((x) => x.creationTime <= sims.clock.now())).toBe(true);
      // Spread over the hours, not bunched: every hour has some.
      const perHour = new Array(10).fill(0) as number[];
      for (const x of fresh) perHour[Math.floor((x.creationTime - sims.anchor) / 3_600_000)]!++;
      expect(Math.min(...perHour)).toBeGreaterThan(25);
    }
  });

  it('gives the same world after one 10-minute jump as after 600 one-second steps', async () => {
    const options: StartSimulatorsOptions = { world: { live: { sessionsPerHour: 180, meanDurationMs: 90_000 } } };
    const jump = await start(options);
    const steps = await start(options);
    jump.clock.advance(10 * MIN);

    // Each step is an ordinary API request, which advances the world before it is answered.
    const em = await emApi(steps.em[0]!);
    const vbo = await vboApi(steps.vbo[0]!);
    for (let i = 0; i < 600; i++) {
      steps.clock.advance(1000);
      expect((await em('/query?type=BackupServer&pageSize=1')).status).toBe(200);
      await vbo('ServiceInstance');
    }

    const [a, b] = [await servedLists(jump), await servedLists(steps)];
    expect(b.em).toBe(a.em);
    expect(b.vbo).toBe(a.vbo);
    const [wa, wb] = [await world(jump.em[0]!), await world(steps.em[0]!)];
    expect(wb).toEqual(wa);
    expect(await world(steps.vbo[0]!)).toEqual(await world(jump.vbo[0]!));
    // Something happened: sessions started (about 30 per server) and some finished.
    expect(wa.counts.started).toBeGreaterThan(10);
    expect(wa.counts.finished).toBeGreaterThan(5);
    expect(JSON.stringify(steps.vbo[0]!.world)).toBe(JSON.stringify(jump.vbo[0]!.world));
  });

  it('is deterministic for a seed and a clock, and another seed gives another world', async () => {
    const options: StartSimulatorsOptions = { world: { live: { sessionsPerHour: 120 } } };
    const [a, b, c] = [await start(options), await start(options), await start({ ...options, seed: 'other' })];
    for (const s of [a, b, c]) {
      s.clock.advance(45 * MIN);
      for (const server of s.servers) server.live.advance();
    }
    // The same control calls at the same instants give the same sessions (ids included).
    const startedA = await startSession<EmLiveSessionInfo>(a.em[0]!, { jobType: 'RestoreVm' });
    const startedB = await startSession<EmLiveSessionInfo>(b.em[0]!, { jobType: 'RestoreVm' });
    expect(startedB).toEqual(startedA);
    const dump = (s: Simulators) => JSON.stringify([s.em[0]!.world, s.vbo[0]!.world]);
    expect(dump(b)).toBe(dump(a));
    expect(dump(c)).not.toBe(dump(a));
  });
});

describe('running sessions progress and finish', () => {
  it('EM: Starting, Working with rising Progress, then Stopped with EndTime and the planned result', async () => {
    const sims = await start({ world: { live: { sessionsPerHour: 0 } } });
    const em = sims.em[0]!;
    const api = await emApi(em);
    const vm = em.world.vmRestorePoints[0]!.vmName;
    const s = await startSession<EmLiveSessionInfo>(em, { vmDisplayName: vm, jobType: 'RestoreVm', durationMs: 120_000, result: 'Warning' });
    expect(s).toMatchObject({
      uid: `urn:veeam:RestoreSession:${s.id}`,
      vmDisplayName: vm,
      jobType: 'RestoreVm',
      state: 'Starting',
      result: 'None',
      progress: 0,
      creationTime: '2026-11-01T00:00:00.000Z',
      endTime: null,
      plannedEndTime: '2026-11-01T00:02:00.000Z',
      plannedResult: 'Warning',
      href: `/api/restoreSessions/${s.id}?format=Entity`,
    });
    const look = async () => {
      const [e] = await emQuery(api, uidFilter(s.uid));
      return e!;
    };
    expect(await look()).toMatchObject({ State: 'Starting', Result: 'None', Progress: 0, EndTimeUTC: '1753-01-01T00:00:00Z', VmDisplayName: vm });
    const progress: number[] = [];
    for (let i = 0; i < 11; i++) {
      sims.clock.advance(10_000);
      const e = await look();
      expect(e).toMatchObject({ State: 'Working', Result: 'None', EndTimeUTC: '1753-01-01T00:00:00Z' });
      progress.push(e.Progress);
    }
    expect(progress).toEqual([8, 16, 25, 33, 41, 50, 58, 66, 75, 83, 91]);
    expect((await world<EmLiveSessionInfo>(em)).running.map((r) => r.id)).toContain(s.id);
    sims.clock.advance(10_000);
    expect(await look()).toMatchObject({ State: 'Stopped', Result: 'Warning', Progress: 100, EndTimeUTC: '2026-11-01T00:02:00Z' });
    // The plain resource route agrees (its id index follows the insert).
    const entity = await api(`/restoreSessions/${s.id}?format=Entity`);
    expect(entity.json).toMatchObject({ State: 'Stopped', Result: 'Warning', UID: s.uid });
    const after = await world<EmLiveSessionInfo>(em);
    expect(after.running.map((r) => r.id)).not.toContain(s.id);
    expect(after.counts.started).toBe(1);
  });

  it('the sessions running at the anchor finish by themselves within 1.5 mean durations', async () => {
    const sims = await start({ sessionsPerServer: 300, world: { live: { sessionsPerHour: 0 } } });
    const em = sims.em[0]!;
    const api = await emApi(em);
    const atStart = await world<EmLiveSessionInfo>(em);
    expect(atStart.running.length).toBeGreaterThan(0);
    const workingNow = await emQuery(api, `filter=${encodeURIComponent('State=="Working"')}`);
    expect(workingNow.map((e) => e.UID).sort()).toEqual(
      atStart.running
        .filter((r) => r.state === 'Working')
        .map((r) => r.uid)
        .sort(),
    );
    sims.clock.advance(181_000);
    expect((await emQuery(api, `filter=${encodeURIComponent('State=="Working",State=="Starting"')}`)).length).toBe(0);
    const ended = await emQuery(api, atStart.running.map((r) => `filter=${encodeURIComponent(`UID=="${r.uid}"`)}`)[0]!);
    expect(ended[0]).toMatchObject({ State: 'Stopped' });
    expect(['Success', 'Warning', 'Failed']).toContain(ended[0]!.Result);
    expect(Date.parse(ended[0]!.EndTimeUTC)).toBeGreaterThan(sims.anchor);
    expect((await world(em)).counts).toMatchObject({ running: 0, started: 0, finished: atStart.running.length });
    const vboState = await world<VboLiveSessionInfo>(sims.vbo[0]!);
    expect(vboState.counts.running).toBe(0);
  });

  it('VB365: Working (result Success, endTime null) until its end, then Stopped with endTime and the planned result', async () => {
    const sims = await start({ world: { live: { sessionsPerHour: 0 } } });
    const vbo = sims.vbo[0]!;
    const api = await vboApi(vbo);
    const org = vbo.world.organizations[0]!;
    const s = await startSession<VboLiveSessionInfo>(vbo, { organization: org.name, type: 'Veod', durationMs: 5 * MIN, result: 'Failed' });
    expect(s).toMatchObject({ organization: org.name, type: 'Veod', state: 'Working', result: 'Success', endTime: null, href: `/v8/RestoreSessions/${s.id}` });
    expect(await api(`RestoreSessions/${s.id}`)).toMatchObject({ id: s.id, state: 'Working', result: 'Success', endTime: null, organization: org.name });
    // v8 lists newest first: the new session is on top.
    const page = await api<{ results: VboSessionJson[] }>('RestoreSessions?limit=1');
    expect(page.results[0]!.id).toBe(s.id);
    sims.clock.advance(5 * MIN - 1);
    expect(await api(`RestoreSessions/${s.id}`)).toMatchObject({ state: 'Working', endTime: null });
    sims.clock.advance(1);
    const done = await api<VboSessionJson>(`RestoreSessions/${s.id}`);
    expect(done).toMatchObject({ state: 'Stopped', result: 'Failed', endTime: '2026-11-01T00:05:00Z' });
    expect(done.details).toMatch(/failed\)$/);
    const byEnd = await api<{ results: VboSessionJson[] }>(`RestoreSessions?endTimeFrom=${encodeURIComponent('2026-11-01T00:05:00Z')}`);
    expect(byEnd.results.map((r) => r.id)).toEqual([s.id]);
  });

  it('VB365 events grow while a session runs; an emitted event stays as it was, but for ending', async () => {
    const sims = await start({ world: { live: { sessionsPerHour: 0 } } });
    const vbo = sims.vbo[0]!;
    const api = await vboApi(vbo);
    const s = await startSession<VboLiveSessionInfo>(vbo, { durationMs: 30 * MIN });
    let previous: VboEventJson[] = [];
    let eTag = (await api<VboSessionJson>(`RestoreSessions/${s.id}`)).eTag;
    const counts: number[] = [];
    for (let i = 0; i < 20; i++) {
      sims.clock.advance(MIN);
      const session = await api<VboSessionJson>(`RestoreSessions/${s.id}`);
      const events = (await api<{ results: VboEventJson[] }>(`RestoreSessions/${s.id}/Events?limit=1000`)).results;
      counts.push(events.length);
      expect(events.length).toBeGreaterThanOrEqual(previous.length);
      if (events.length !== previous.length) expect(session.eTag).not.toBe(eTag);
      // Every event but the last one seen before is unchanged; that one may only have ended since.
      expect(events.slice(0, Math.max(0, previous.length - 1))).toEqual(previous.slice(0, -1));
      if (previous.length > 0) {
        const last = previous.at(-1)!;
        expect(events[previous.length - 1]).toMatchObject({
          id: last.id,
          type: last.type,
          startTime: last.startTime,
          itemName: last.itemName,
          itemSizeBytes: last.itemSizeBytes,
        });
      }
      expect(events.filter((e) => e.status === 'Running').length).toBeLessThanOrEqual(1);
      expect(events.every((e) => Date.parse(e.startTime) <= sims.clock.now())).toBe(true);
      previous = events;
      eTag = session.eTag;
    }
    // Events take 0.04..90 s each: 20 minutes hold well over a dozen.
    expect(counts.at(-1)).toBeGreaterThan(12);
    expect((await world<VboLiveSessionInfo>(vbo)).running.find((r) => r.id === s.id)!.eventCount).toBe(counts.at(-1));
    // Once it stopped no event is running and none ends after the session.
    const ended = await finish<VboLiveSessionInfo>(vbo, s.id, { result: 'Success' });
    const events = (await api<{ results: VboEventJson[] }>(`RestoreSessions/${s.id}/Events?limit=1000`)).results;
    expect(events.some((e) => e.status === 'Running')).toBe(false);
    expect(events.every((e) => Date.parse(e.endTime) <= Date.parse(ended.endTime!))).toBe(true);
  });
});

describe('the /_sim/world control routes', () => {
  it('start and finish a session that EM shows over the query service and the resource routes', async () => {
    const sims = await start({ world: { live: { sessionsPerHour: 0 } } });
    const em = sims.em[0]!;
    const api = await emApi(em);
    const s = await startSession<EmLiveSessionInfo>(em, { vmDisplayName: 'vm "quoted" & <odd>', durationMs: 3_600_000 });
    expect(s.uid).toBe(`urn:veeam:RestoreSession:${s.id}`);
    sims.clock.advance(5_000);
    expect((await emQuery(api, uidFilter(s.uid)))[0]).toMatchObject({ State: 'Starting', VmDisplayName: 'vm "quoted" & <odd>' });
    const newest = await emQuery(api, 'sortDesc=CreationTime&pageSize=1');
    expect(newest[0]!.UID).toBe(s.uid);
    sims.clock.advance(25_000);
    // Sorting by EndTime now caches an order in which the running session sorts first (no end, like NULL).
    const endedBefore = await emQuery(api, `sortDesc=EndTime&pageSize=1&filter=${encodeURIComponent('State=="Stopped"')}`);
    expect(endedBefore[0]!.UID).not.toBe(s.uid);
    // By URN, as the query service names it; the GUID works as well.
    const done = await finish<EmLiveSessionInfo>(em, s.uid, { result: 'Failed' });
    expect(done).toMatchObject({ id: s.id, state: 'Stopped', result: 'Failed', endTime: '2026-11-01T00:00:30.000Z', plannedEndTime: null });
    expect((await emQuery(api, uidFilter(s.uid)))[0]).toMatchObject({ State: 'Stopped', Result: 'Failed', EndTimeUTC: '2026-11-01T00:00:30Z' });
    // The cached sort orders follow: it has the newest end now.
    const byEnd = await emQuery(api, `sortDesc=EndTime&pageSize=1&filter=${encodeURIComponent('State=="Stopped"')}`);
    expect(byEnd[0]!.UID).toBe(s.uid);
    expect((await emQuery(api, `filter=${encodeURIComponent('Result=="Failed";CreationTime>="2026-11-01T00:00:00Z"')}`)).map((e) => e.UID)).toEqual([s.uid]);
    // The collection route's 30-day window is by the same clock.
    const collection = await api('/restoreSessions?format=Entity');
    expect(collection.text).toContain(s.id);

    const again = await control(em, 'POST', `/sessions/${s.id}/finish`, { result: 'Success' });
    expect(again.status).toBe(409);
    expect((again.body as { error: string }).error).toMatch(/not running/);
    expect((await control(em, 'POST', '/sessions/00000000-0000-4000-8000-000000000000/finish', {})).status).toBe(404);
  });

  it('start and finish a session that VB365 shows in /RestoreSessions and /RestoreSessions/{id}', async () => {
    const sims = await start({ world: { live: { sessionsPerHour: 0 } } });
    const vbo = sims.vbo[0]!;
    const api = await vboApi(vbo);
    const s = await startSession<VboLiveSessionInfo>(vbo);
    sims.clock.advance(42_000);
    const list = await api<{ results: VboSessionJson[] }>('RestoreSessions?limit=3');
    expect(list.results[0]).toMatchObject({ id: s.id, state: 'Working', result: 'Success', endTime: null });
    const done = await finish<VboLiveSessionInfo>(vbo, `{${s.id.toUpperCase()}}`, { result: 'Warning' });
    expect(done).toMatchObject({ id: s.id, state: 'Stopped', result: 'Warning', endTime: '2026-11-01T00:00:42.000Z' });
    const one = await api<VboSessionJson>(`RestoreSessions/${s.id}`);
    expect(one).toMatchObject({ state: 'Stopped', result: 'Warning', endTime: '2026-11-01T00:00:42Z', eTag: done.eTag });
    expect(one.eTag).not.toBe(s.eTag);
    const listed = await api<{ results: VboSessionJson[] }>('RestoreSessions?limit=3');
    expect(listed.results[0]).toEqual(one);
    // Without a result it finishes as a Success.
    const other = await startSession<VboLiveSessionInfo>(vbo, { type: 'Vesp' });
    expect((await finish<VboLiveSessionInfo>(vbo, other.id)).result).toBe('Success');
  });

  it('finish works on a still world too, and nothing else moves there', async () => {
    const sims = await start({ world: { live: false } });
    const em = sims.em[0]!;
    const s = await startSession<EmLiveSessionInfo>(em, { durationMs: 1000 });
    expect(s).toMatchObject({ state: 'Working', plannedEndTime: null });
    sims.clock.advance(3_600_000);
    const state = await world<EmLiveSessionInfo>(em);
    expect(state.running.find((r) => r.id === s.id)).toMatchObject({ state: 'Working', progress: 0 });
    expect(state.counts.started).toBe(1);
    expect(await finish<EmLiveSessionInfo>(em, s.id, { result: 'Success' })).toMatchObject({ state: 'Stopped', endTime: '2026-11-01T01:00:00.000Z' });
  });

  it('refuses advance without a manual clock (409), and advances with one', async () => {
    const real = await startSimulators({ em: 1, vbo: 0, sessionsPerServer: 5, world: { live: true } });
    running.push(real);
    const refused = await control(real.em[0]!, 'POST', '/advance', { ms: 1000 });
    expect(refused.status).toBe(409);
    expect((refused.body as { error: string }).error).toMatch(/ManualClock/);
    expect((await world(real.em[0]!)).manualClock).toBe(false);

    const sims = await start({ world: { live: true } });
    const moved = await control(sims.vbo[0]!, 'POST', '/advance', { ms: 90_000 });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ now: '2026-11-01T00:01:30.000Z', manualClock: true, anchor: '2026-11-01T00:00:00.000Z' });
    // One clock for every server of a start.
    expect(sims.clock.now()).toBe(Date.parse('2026-11-01T00:01:30Z'));
    expect((await world(sims.em[0]!)).now).toBe('2026-11-01T00:01:30.000Z');
  });

  it('validates bodies like /_sim/faults: 400 with a message naming the field', async () => {
    const sims = await start({ world: { live: true } });
    const em = sims.em[0]!;
    const vbo = sims.vbo[0]!;
    const cases: [SimulatedEm | SimulatedVbo, string, unknown, RegExp][] = [
      [em, '/sessions', { organization: 'contoso' }, /session\.organization: unknown field/],
      [em, '/sessions', { jobType: 'Backup' }, /session\.jobType: expected one of FileLevelRestore, RestoreVm/],
      [em, '/sessions', { backupServer: 'nope' }, /session\.backupServer: no backup server "nope"/],
      [em, '/sessions', { durationMs: -5 }, /session\.durationMs/],
      [em, '/sessions', [1], /expected a JSON object/],
      [em, '/sessions', '{not json', /not valid JSON/],
      [vbo, '/sessions', { vmDisplayName: 'x' }, /session\.vmDisplayName: unknown field/],
      [vbo, '/sessions', { type: 'Vexx' }, /session\.type: expected one of Vex, Veod, Vesp, Vet/],
      [vbo, '/sessions', { organization: 'nowhere' }, /no organization "nowhere"/],
      [vbo, '/sessions', { result: 'Great' }, /session\.result: expected one of Success, Warning, Failed/],
      [em, '/advance', {}, /advance\.ms: required/],
      [em, '/advance', { ms: 1.5 }, /advance\.ms: expected an integer/],
      [em, '/advance', { ms: 1, by: 2 }, /advance\.by: unknown field/],
    ];
    for (const [server, path, body, message] of cases) {
      const res = await control(server, 'POST', path, body);
      expect([path, body, res.status]).toEqual([path, body, 400]);
      expect((res.body as { error: string }).error).toMatch(message);
    }
    const s = await startSession<EmLiveSessionInfo>(em);
    const bad = await control(em, 'POST', `/sessions/${s.id}/finish`, { result: 'None' });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toMatch(/finish\.result: expected one of Success, Warning, Failed/);
    expect((await control(em, 'GET', '/nothing')).status).toBe(404);
  });

  it('are not counted as API requests in the request log', async () => {
    const sims = await start({ world: { live: true } });
    const em = sims.em[0]!;
    await world(em);
    const s = await startSession<EmLiveSessionInfo>(em);
    await control(em, 'POST', '/advance', { ms: 1000 });
    await finish(em, s.id);
    await control(em, 'POST', '/sessions', { nope: 1 });
    expect(em.log.count()).toBe(0);
    expect(em.log.stats().total).toBe(0);
    const api = await emApi(em);
    await emQuery(api, uidFilter(s.uid));
    expect(em.log.count()).toBe(2);
    expect(em.log.count('GET /api/query?type=RestoreSession')).toBe(1);
  });
});

describe('the same controls in code', () => {
  it('server.live starts and finishes sessions, sims.clock steps time, server.world is the data', async () => {
    const sims = await start({ world: { live: { sessionsPerHour: 0 } } });
    expect(sims.clock).toBeInstanceOf(ManualClock);
    const em = sims.em[0]!;
    const vbo = sims.vbo[0]!;
    const e = em.live.startSession({ jobType: 'RestoreVm', durationMs: 60_000 });
    const v = vbo.live.startSession({ type: 'Vet', durationMs: 60_000, result: 'Warning' });
    expect(em.world.restoreSessions.at(-1)!.id).toBe(e.id);
    expect(vbo.world.restoreSessions.at(-1)!.id).toBe(v.id);
    sims.clock.advance(30_000);
    em.live.advance();
    expect(em.world.restoreSessions.at(-1)).toMatchObject({ state: 'Working', progress: 50 });
    expect(em.live.finish(e.id, 'Failed')).toMatchObject({ state: 'Stopped', result: 'Failed', progress: 100 });
    expect(() => em.live.finish(e.id)).toThrow(/not running/);
    sims.clock.advance(30_000);
    vbo.live.advance();
    expect(vbo.world.restoreSessions.at(-1)).toMatchObject({ state: 'Stopped', result: 'Warning', endTime: Date.parse('2026-11-01T00:01:00Z') });
    expect(vbo.live.describe().counts).toMatchObject({ started: 1, finished: expect.any(Number) });
    expect(em.live.options).toEqual({ enabled: true, sessionsPerHour: 0, meanDurationMs: 120_000 });
  });

  it('rejects bad live options at start', async () => {
    await expect(startSimulators({ em: 1, vbo: 0, sessionsPerServer: 1, world: { live: { sessionsPerHour: -1 } } })).rejects.toThrow(/sessionsPerHour/);
    await expect(startSimulators({ em: 1, vbo: 0, sessionsPerServer: 1, world: { live: { meanDurationMs: 0 } } })).rejects.toThrow(/meanDurationMs/);
  });
});
