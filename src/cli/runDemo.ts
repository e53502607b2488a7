import { parseArgs } from 'node:util';
import { parseConfig } from '../config/loadConfig.js';
import { createGateway } from '../server/createGateway.js';
import { createLogger } from '../server/createLogger.js';
import { exampleQueries } from '../server/graphiql/exampleQueries.js';
import { startSimulators, type Simulators } from '../sim/startSimulators.js';
import { announceListening, listenError, logFormatOf, parseLogLevelFlag, parsePortFlag, trapStopSignals, waitForShutdown } from './cliSupport.js';
import { logSourceStates } from './logSourceStates.js';

export const DEMO_HELP = `Usage: veeam-graph demo [options]

The zero-config demo: starts 3 simulated Enterprise Manager servers and 2 simulated VB365
servers (API v8 and v6) on loopback, and the GraphQL gateway on top of them. Prints the
GraphQL and GraphiQL URLs and example queries. Works with no internet access.

Options:
  --port N     gateway port (default: PORT, else 4000; 0 picks a free one)
  --host HOST  gateway address (default: HOST, else 127.0.0.1)
  --seed S     world seed of the simulators (default 1)
  --still      a world that does not move (by default sessions start, progress and finish in
               real time, for the live subscription tab)
  --federation serve the schema as an Apollo Federation v2 subgraph (for a local router)
  --log-level LEVEL    fatal, error, warn, info (default), debug, trace or silent
  --log-format FORMAT  json or pretty (default: pretty on a terminal, else json)
  -h, --help   this text

Environment: PORT, HOST, LOG_LEVEL, LOG_FORMAT (the flags win). SIGINT/SIGTERM/SIGHUP stop it.
`;

/** A VM with restore sessions on the first simulated EM, for the "sessions of one VM" example. */
function demoVm(sims: Simulators): string | undefined {
  return sims.em[0]?.world.restoreSessions.at(-1)?.vmDisplayName;
}

/**
 * The gateway config of the simulators, built in code. Passwords travel as `{ env: NAME }`
 * secrets through a private environment, so the demo uses the same path as a real config and
 * logs no plain-text-password warnings; of the real environment only `LOG_LEVEL` and the `OTEL_*`
 * variables reach it.
 */
async function demoConfig(sims: Simulators, listen: { host: string; port: number }, federation: boolean, logLevel: string | undefined) {
  const level = logLevel ?? process.env.LOG_LEVEL;
  // OpenTelemetry's own variables pass (README "Tracing"): the demo is where one tries tracing first.
  const otel = Object.entries(process.env).filter(([k]) => k.startsWith('OTEL_'));
  const env: NodeJS.ProcessEnv = { ...Object.fromEntries(otel), ...(level ? { LOG_LEVEL: level } : {}) };
  const servers = sims.describe().servers.map((s) => {
    const variable = `SIM_${s.name.replace(/\W/g, '_').toUpperCase()}_PASSWORD`;
    env[variable] = s.password;
    return { name: s.name, kind: s.kind, url: s.url, ...(s.apiVersion ? { apiVersion: s.apiVersion } : {}), username: s.username, password: { env: variable } };
  });
  return parseConfig({ listen, servers, federation }, { env });
}

/** `veeam-graph demo` (what `npm start` runs). */
export async function runDemo(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      still: { type: 'boolean' },
      federation: { type: 'boolean' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return;
  }
  const portText = values.port ?? (process.env.PORT || undefined);
  const port = portText === undefined ? 4000 : parsePortFlag(values.port !== undefined ? '--port' : 'PORT', portText);
  const host = values.host ?? (process.env.HOST || '127.0.0.1');
  const logLevel = values['log-level'] === undefined ? undefined : parseLogLevelFlag(values['log-level']);
  const pretty = logFormatOf(values['log-format'], process.env);
  // From here a stop signal is a graceful stop, also one that comes while everything starts.
  const stop = trapStopSignals();
  // A living world: sessions start, progress and finish in real time, for the live subscription tab.
  const sims = await startSimulators({
    world: { live: values.still !== true },
    ...(values.seed ? { seed: /^\d+$/.test(values.seed) ? Number(values.seed) : values.seed } : {}),
  }).catch((err: unknown) => {
    stop.release();
    throw err;
  });
  let gateway;
  try {
    const config = await demoConfig(sims, { host, port }, values.federation === true, logLevel);
    // The simulators speak plain http on loopback by design; the config's warning about it is noise here.
    config.warnings.splice(0);
    const logger = createLogger({ level: config.logLevel, ...(pretty !== undefined && { pretty }) });
    gateway = await createGateway(config, { logger, examples: exampleQueries({ vmName: demoVm(sims) }) }).catch((err: unknown) => {
      throw listenError(err, host, port, 'try --port 0 for a free port, or --port N');
    });
  } catch (err) {
    stop.release();
    await sims.close();
    throw err;
  }
  const examples = exampleQueries({ vmName: demoVm(sims) });
  const lines = [
    '',
    `veeam-graph demo: ${sims.em.length} Enterprise Manager + ${sims.vbo.length} VB365 simulated servers behind one GraphQL endpoint`,
    '',
    `  GraphQL   ${gateway.graphqlUrl}`,
    `  GraphiQL  ${gateway.graphiqlUrl}   (open it in a browser; everything is served locally)`,
    `  Health    ${gateway.url}/healthz  ${gateway.url}/readyz  ${gateway.url}/metrics`,
    ...(values.federation ? [`  Subgraph  Apollo Federation v2 at ${gateway.graphqlUrl} (compose it, e.g. rover supergraph compose)`] : []),
    '',
    'Simulated servers:',
    ...sims.servers.map((s) => `  ${s.name.padEnd(8)} ${s.kind.padEnd(19)} ${s.url}${'apiVersion' in s ? ` (API ${s.apiVersion})` : ''}`),
    '',
    'Example queries (preloaded as tabs in GraphiQL):',
    ...examples.flatMap((e, i) => [
      '',
      `${i + 1}. ${e.title}${e.variables ? `   variables: ${JSON.stringify(e.variables)}` : ''}`,
      ...e.query
        .trimEnd()
        .split('\n')
        .map((l) => `   ${l}`),
    ]),
    '',
    'Or from a shell:',
    `  curl -s ${gateway.graphqlUrl} -H 'content-type: application/json' \\`,
    `    -d '{"query":"{ restoreSessions(first: 3) { nodes { name creationTime source { name } } } }"}'`,
    `  curl -N ${gateway.graphqlUrl}/stream -H 'accept: text/event-stream' -H 'content-type: application/json' \\`,
    `    -d '{"query":"subscription { restoreSessionChanged { type at source { name } session { name state } } }"}'`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  // The same one line as serve, on stderr at every log level: scripts wait for it.
  announceListening(gateway.url, gateway.graphiqlUrl);
  const running = gateway;
  void running.readiness.check().then((report) => logSourceStates(running.logger, report));
  await waitForShutdown(
    async () => {
      await running.close();
      await sims.close();
    },
    20_000,
    stop,
  );
}
