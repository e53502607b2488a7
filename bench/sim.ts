/**
 * Simulator throughput and memory: how many 500-session pages the EM (format=Entities, XML and
 * JSON) and VB365 simulators serve per second with 100k sessions per server, and the RSS of
 * that world. The simulator must never be the bottleneck of the gateway benchmarks.
 *
 *   npm run bench -- sim [--sessions 100000] [--requests 200] [--concurrency 8]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startSimulators } from '../src/sim/startSimulators.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { sessions: { type: 'string', default: '100000' }, requests: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' } },
});
const sessions = Number(values.sessions);
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const sims = await startSimulators({ em: 1, vbo: ['v8'], sessionsPerServer: sessions, seed: 'bench' });
const startMs = performance.now() - t0;
global.gc?.();
const rssWorld = process.memoryUsage().rss;
const em = sims.em[0]!;
const vbo = sims.vbo[0]!;

const logon = await fetch(`${em.url}/sessionMngr/?v=latest`, {
  method: 'POST',
  headers: { authorization: `Basic ${Buffer.from(`${em.username}:${em.password}`).toString('base64')}` },
});
const emToken = logon.headers.get('x-restsvcsessionid')!;
await logon.arrayBuffer();
const tokenRes = await fetch(`${vbo.url}/v8/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'password', username: vbo.username, password: vbo.password }),
});
const { access_token: vboToken } = (await tokenRes.json()) as { access_token: string };

interface Result {
  name: string;
  requests: number;
  pagesPerSec: number;
  msPerPage: number;
  mbPerSec: number;
  bytesPerPage: number;
}

async function run(name: string, url: (i: number) => string, headers: Record<string, string>): Promise<Result> {
  let next = 0;
  let bytes = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const res = await fetch(url(i), { headers });
        const body = await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} for ${url(i)}`);
        bytes += body.byteLength;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return {
    name,
    requests,
    pagesPerSec: requests / seconds,
    msPerPage: (seconds * 1000) / requests,
    mbPerSec: bytes / seconds / 1e6,
    bytesPerPage: bytes / requests,
  };
}

const pages = Math.max(1, Math.floor(sessions / 500));
const results: Result[] = [];
results.push(
  await run(
    'EM query 500 Entities XML',
    (i) => `${em.url}/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=500&page=${(i % pages) + 1}`,
    { 'x-restsvcsessionid': emToken },
  ),
);
results.push(
  await run(
    'EM query 500 Entities JSON',
    (i) => `${em.url}/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=500&page=${(i % pages) + 1}`,
    { 'x-restsvcsessionid': emToken, accept: 'application/json' },
  ),
);
results.push(
  await run(
    'EM query 500 filtered (CreationTime<=)',
    (i) =>
      `${em.url}/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=500&filter=${encodeURIComponent(`CreationTime<="${new Date(em.world.restoreSessions[Math.floor(((i % pages) + 0.5) * 500)]!.creationTime).toISOString()}"`)}`,
    { 'x-restsvcsessionid': emToken },
  ),
);
results.push(
  await run('VB365 v8 RestoreSessions limit=500', (i) => `${vbo.url}/v8/RestoreSessions?offset=${(i % pages) * 500}&limit=500`, {
    authorization: `Bearer ${vboToken}`,
  }),
);
const rssAfter = process.memoryUsage().rss;
await sims.close();

const report = {
  sessionsPerServer: sessions,
  concurrency,
  startSeconds: startMs / 1000,
  rssMb: { before: rssBefore / 1e6, withWorld: rssWorld / 1e6, afterRequests: rssAfter / 1e6 },
  results,
  node: process.version,
};
console.log(
  `simulators with ${sessions} sessions per server (1 EM + 1 VB365) started in ${(startMs / 1000).toFixed(2)} s; RSS ${report.rssMb.withWorld.toFixed(0)} MB (after requests ${report.rssMb.afterRequests.toFixed(0)} MB)`,
);
console.table(
  results.map((r) => ({
    bench: r.name,
    'pages/s': r.pagesPerSec.toFixed(1),
    'ms/page': r.msPerPage.toFixed(2),
    'MB/s': r.mbPerSec.toFixed(1),
    'KB/page': (r.bytesPerPage / 1024).toFixed(0),
  })),
);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/sim.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
