/**
 * `npm run bench -- load [--seconds 120] [--clients 16]`: the gateway under a mixed load while one
 * EM server flaps (hangs 5 s, answers 5 s) and one VB365 server is slow (1 s latency). The
 * simulators run in their own process; the gateway runs here, for real, over HTTP.
 *
 * Mixed queries: merged first pages with links, a VM filter, `node` refetches of listed sessions,
 * and pages 2-5 by cursor. Goals (issue "memory across requests"):
 * - 0 failed queries (an HTTP error, or no `data`);
 * - p99 <= the latency budget + 200 ms;
 * - >= 95% of answers complete: every asked server OK or STALE (fresh, or stale and marked so);
 * - one logon per server (re-logons only on expiry);
 * - RSS growth < 10% from minute 1 to minute 2;
 * - no configured secret in any log line.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createGateway } from '../src/server/createGateway.js';
import { simGatewayConfig, startSimProcess } from './simProcess.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    seconds: { type: 'string', default: '120' },
    clients: { type: 'string', default: '16' },
    sessions: { type: 'string', default: '300' },
    flap: { type: 'string', default: '5' },
    budget: { type: 'string', default: '2500' },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const FLAP_MS = Number(values.flap) * 1000;
const BUDGET_MS = Number(values.budget);

const sims = await startSimProcess({ em: 3, vboVersions: ['v8', 'v6'], sessions: Number(values.sessions), seed: 'bench-load', latencyMs: 20 });
const FLAPPING = sims.servers.find((s) => s.kind === 'enterprise-manager')!.name;
const SLOW = sims.servers.find((s) => s.kind === 'microsoft365')!.name;
const secrets = sims.servers.map((s) => s.password);

// Every log line of the gateway is looked at for secrets as it is written (not kept: the benchmark
// runs in the gateway's process, and what it keeps would count as the gateway's memory).
let logLines = 0;
let leaked = 0;
const sink = new Writable({
  write(chunk, _enc, cb) {
    const line = String(chunk);
    logLines++;
    if (secrets.some((s) => s.length > 0 && line.includes(s))) leaked++;
    cb();
  },
});
const config = await simGatewayConfig(sims.servers, { extra: { cache: { budgetMs: BUDGET_MS } } });
// Logons are counted from the start: one per server, re-logons only on expiry.
await sims.resetStats();
const gateway = await createGateway(config, { logger: pino({ level: 'info' }, sink), defaultMetrics: false });

const PAGE = `query Page($first: Int, $after: String, $filter: RestoreSessionFilter) {
  restoreSessions(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id __typename creationTime stale
      ... on EnterpriseManagerRestoreSession { vmDisplayName backupServer { name } restorePoint { creationTime } }
      ... on Microsoft365RestoreSession { organization { name } } } }
    pageInfo { hasNextPage endCursor }
    outcomes { source { name } status }
  }
}`;
const NODE = `query Node($id: ID!) { node(id: $id) { id ... on RestoreSession { name state stale } } }`;

interface Answer {
  ms: number;
  ok: boolean;
  complete: boolean;
  data?: { restoreSessions?: { edges: { cursor: string; node: { id: string; vmDisplayName?: string } }[]; pageInfo: { endCursor: string | null } } };
}

async function post(query: string, variables: Record<string, unknown>): Promise<Answer> {
  const t = performance.now();
  try {
    const res = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: Answer['data'] & { restoreSessions?: { outcomes: { status: string }[] } }; errors?: unknown[] };
    const ms = performance.now() - t;
    const ok = res.status === 200 && body.data !== undefined && body.data !== null;
    const outcomes = body.data?.restoreSessions?.outcomes;
    const complete =
      ok && (outcomes === undefined ? body.errors === undefined : outcomes.every((o) => o.status === 'OK' || o.status === 'STALE' || o.status === 'SKIPPED'));
    return { ms, ok, complete, ...(body.data && { data: body.data }) };
  } catch {
    return { ms: performance.now() - t, ok: false, complete: false };
  }
}

// A warm-up page gives the node refetches and VM filters real ids and names.
const warm = await post(PAGE, { first: 50 });
const ids = warm.data?.restoreSessions?.edges.map((e) => e.node.id) ?? [];
const vms = [...new Set(warm.data?.restoreSessions?.edges.flatMap((e) => (e.node.vmDisplayName ? [e.node.vmDisplayName] : [])) ?? [])];

/** One client's next query: a mix, deterministic per client and step. */
async function step(client: number, n: number): Promise<Answer[]> {
  switch ((client + n) % 4) {
    case 0:
      return [await post(PAGE, { first: 50 })];
    case 1:
      return [await post(PAGE, { first: 20, filter: { vmName: vms[n % Math.max(1, vms.length)] ?? 'srv01' } })];
    case 2:
      return [await post(NODE, { id: ids[n % Math.max(1, ids.length)] })];
    default: {
      // Pages 1..5 by cursor.
      const out: Answer[] = [];
      let after: string | null = null;
      for (let page = 1; page <= 5; page++) {
        const a = await post(PAGE, { first: 10, ...(after !== null && { after }) });
        out.push(a);
        after = a.data?.restoreSessions?.pageInfo.endCursor ?? null;
        if (after === null) break;
      }
      return out;
    }
  }
}

await sims.setFaults(SLOW, { latencyMs: 1000 });
const start = performance.now();
const end = start + SECONDS * 1000;
let hung = false;
const flap = setInterval(() => {
  hung = !hung;
  void sims.setFaults(FLAPPING, hung ? { rules: [{ match: '^GET /api/query', action: { hang: true } }] } : { rules: [] });
}, FLAP_MS);

// Only what the figures need is kept of each answer (no response bodies).
const answers: { at: number; a: Pick<Answer, 'ms' | 'ok' | 'complete'> }[] = [];
const rss: { at: number; mb: number }[] = [];
const sampler = setInterval(() => rss.push({ at: performance.now() - start, mb: process.memoryUsage().rss / 2 ** 20 }), 1000);
await Promise.all(
  Array.from({ length: CLIENTS }, async (_, client) => {
    for (let n = 0; performance.now() < end; n++) {
      for (const { ms, ok, complete } of await step(client, n)) answers.push({ at: performance.now() - start, a: { ms, ok, complete } });
    }
  }),
);
clearInterval(flap);
clearInterval(sampler);
await sims.clearFaults();

const logons = await sims.logonsPerServer();
await gateway.close();
await sims.close();

const ms = answers.map((x) => x.a.ms).sort((a, b) => a - b);
const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))] ?? NaN;
const failed = answers.filter((x) => !x.a.ok).length;
const complete = answers.filter((x) => x.a.complete).length / Math.max(1, answers.length);
const minute = (from: number, to: number) => rss.filter((r) => r.at >= from && r.at < to).map((r) => r.mb);
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const half = (SECONDS * 1000) / 2;
const rssFirst = avg(minute(half * 0.5, half));
const rssSecond = avg(minute(half * 1.5, half * 2));

const results = {
  seconds: SECONDS,
  clients: CLIENTS,
  budgetMs: BUDGET_MS,
  flapping: FLAPPING,
  slow: SLOW,
  queries: answers.length,
  qps: answers.length / SECONDS,
  failed,
  completeShare: complete,
  p50: pct(50),
  p95: pct(95),
  p99: pct(99),
  logons,
  rssMb: { firstHalf: rssFirst, secondHalf: rssSecond, growth: rssSecond / rssFirst - 1 },
  logLines,
  logLinesWithSecrets: leaked,
  goals: {
    noFailedQueries: failed === 0,
    p99WithinBudget: pct(99) <= BUDGET_MS + 200,
    completeAtLeast95: complete >= 0.95,
    oneLogonPerServer: Object.values(logons).every((n) => n <= 1),
    rssGrowthUnder10: rssSecond / rssFirst - 1 < 0.1,
    noSecretInLogs: leaked === 0,
  },
};
const f = (n: number) => n.toFixed(1);
console.table({
  'queries (q/s)': { value: `${answers.length} (${f(results.qps)})` },
  failed: { value: failed },
  'complete (fresh or marked stale)': { value: `${f(complete * 100)}%` },
  'p50 / p95 / p99 ms': { value: `${f(pct(50))} / ${f(pct(95))} / ${f(pct(99))} (budget ${BUDGET_MS})` },
  'logons per server': { value: JSON.stringify(logons) },
  'RSS MB, 1st vs 2nd half': { value: `${f(rssFirst)} -> ${f(rssSecond)} (${f(results.rssMb.growth * 100)}%)` },
  'log lines with a secret': { value: `${leaked} of ${logLines}` },
});
console.table(results.goals);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/load.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
