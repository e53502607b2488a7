import { parseArgs } from 'node:util';
import { startSimulators } from '../sim/startSimulators.js';
import type { VboApiVersion } from '../sim/vbo/VboSimulator.js';
import { simSecretsDir, writeSimConfig } from './simConfig.js';
import { UsageError, parseIntegerFlag, trapStopSignals, waitForShutdown } from './cliSupport.js';

export const SIM_HELP = `Usage: veeam-graph sim [options]

Starts simulated Veeam servers (Enterprise Manager and VB365) on free loopback ports and prints
one line of JSON describing them on stdout, then serves until SIGINT/SIGTERM/SIGHUP.

Options:
  --em N               Enterprise Manager servers (default 3)
  --vbo M              VB365 servers (default 2: one v8, one v6)
  --vbo-versions LIST  VB365 API versions, comma separated, e.g. v8,v6,v1 (overrides --vbo)
  --sessions K         restore sessions per server (default 300)
  --latency MS         latency added to every response (default 0)
  --jitter MS          random extra latency, 0..MS (default 0)
  --tls                serve HTTPS with a self-signed certificate
  --seed S             world seed (default 1)
  --host HOST          address to listen on (default 127.0.0.1)
  --write-config FILE  write a gateway config (YAML, or JSON for *.json) for these servers; their
                       passwords go to FILE.secrets/NAME (mode 0600, FILE without its extension),
                       referenced as { file: PATH }
  -h, --help           this text
`;

const VERSIONS = new Set(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']);

/** `veeam-graph sim`: see SIM_HELP. */
export async function runSim(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      em: { type: 'string' },
      vbo: { type: 'string' },
      'vbo-versions': { type: 'string' },
      sessions: { type: 'string' },
      latency: { type: 'string' },
      jitter: { type: 'string' },
      tls: { type: 'boolean' },
      seed: { type: 'string' },
      host: { type: 'string' },
      'write-config': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(SIM_HELP);
    return;
  }
  let vbo: number | VboApiVersion[] | undefined = values.vbo === undefined ? undefined : parseIntegerFlag('--vbo', values.vbo, 0);
  if (values['vbo-versions'] !== undefined) {
    const list = values['vbo-versions']
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter(Boolean);
    const bad = list.find((v) => !VERSIONS.has(v));
    if (bad) throw new UsageError(`--vbo-versions: unknown API version "${bad}" (expected v1..v8)`);
    vbo = list as VboApiVersion[];
  }
  const latencyMs = values.latency === undefined ? 0 : parseIntegerFlag('--latency', values.latency, 0);
  const jitterMs = values.jitter === undefined ? 0 : parseIntegerFlag('--jitter', values.jitter, 0);
  const options = {
    ...(values.em !== undefined ? { em: parseIntegerFlag('--em', values.em, 0) } : {}),
    ...(vbo !== undefined ? { vbo } : {}),
    ...(values.sessions !== undefined ? { sessionsPerServer: parseIntegerFlag('--sessions', values.sessions, 0) } : {}),
    ...(values.seed !== undefined ? { seed: /^\d+$/.test(values.seed) ? Number(values.seed) : values.seed } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    tls: values.tls === true,
    faults: { latencyMs, jitterMs },
  };
  // From here a stop signal is a graceful stop, also one sent as soon as the JSON line is read.
  const stop = trapStopSignals();
  const sims = await startSimulators(options).catch((err: unknown) => {
    stop.release();
    throw err;
  });
  // The one JSON line comes first on stdout so scripts can read it; everything else goes to stderr.
  process.stdout.write(`${JSON.stringify(sims.describe())}\n`);
  const configFile = values['write-config'];
  if (configFile) {
    try {
      await writeSimConfig(configFile, sims, { host: '127.0.0.1', port: 4000 });
    } catch (err) {
      stop.release();
      await sims.close();
      throw err;
    }
    process.stderr.write(`wrote gateway config to ${configFile} (passwords in ${simSecretsDir(configFile)}/)\n`);
  }
  for (const s of sims.servers) {
    process.stderr.write(`${s.name.padEnd(8)} ${s.kind.padEnd(19)} ${s.url}${'apiVersion' in s ? ` (${s.apiVersion})` : ''}  stats: ${s.baseUrl}/_sim/stats\n`);
  }
  await waitForShutdown(() => sims.close(), 10_000, stop);
}
