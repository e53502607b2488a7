import { parseArgs } from 'node:util';
import { loadConfig, type GatewayConfig } from '../config/loadConfig.js';
import { createGateway } from '../server/createGateway.js';
import { createLogger } from '../server/createLogger.js';
import {
  UsageError,
  announceListening,
  configFileOf,
  listenError,
  logFormatOf,
  parseLogLevelFlag,
  parsePortFlag,
  trapStopSignals,
  waitForShutdown,
} from './cliSupport.js';
import { logSourceStates } from './logSourceStates.js';
import { watchConfigFile } from './watchConfigFile.js';

export const SERVE_HELP = `Usage: veeam-graph serve [--config FILE] [options]

Starts the GraphQL gateway for the Veeam servers of a config file (YAML, or JSON for *.json).
An invalid config is reported as a list of problems (key path and file) with exit code 2, and
nothing starts. Prints "veeam-graph listening on URL" on stderr once it listens, at every log
level. SIGINT/SIGTERM stop it gracefully: in-flight queries finish, EM sessions are logged off,
exit code 0.

SIGHUP (or, with --watch-config, a change of the file or of a file it refers to: password
files, PEMs, the allowlist, the JWKS) reloads the config without a restart:
the new file is validated first, and a bad one is logged while the running config keeps
serving. New requests use the new config at once; in-flight ones finish on the old one; removed
servers are logged off after them, unchanged ones keep their sessions. Subscriptions are closed
with 1012 and clients reconnect. listen.host, listen.port and tracing need a restart. SIGHUP also
re-reads the listener's TLS certificate (listen.tls) without dropping connections.

Without an auth section it listens on loopback only: a non-loopback --host or listen.host is
refused (exit code 2) unless auth.apiKeys, auth.jwt or auth.mode: none is configured.

Options:
  -c, --config FILE    the config file (default: VEEAM_GRAPH_CONFIG); see README "Config reference"
  --port N             listen on port N (0 picks a free one); wins over listen.port and PORT
  --host HOST          listen on HOST; wins over listen.host and HOST
  --log-level LEVEL    fatal, error, warn, info, debug, trace or silent; wins over logLevel and LOG_LEVEL
  --log-format FORMAT  json (one object per line) or pretty; default: pretty on a terminal, else json
  --federation         serve the schema as an Apollo Federation v2 subgraph (same as config
                       federation: true); \`veeam-graph subgraph-sdl\` prints its SDL
  --watch-config       reload the config when its file, or a file it refers to, changes (as SIGHUP does)
  -h, --help           this text

Environment (the flags win):
  VEEAM_GRAPH_CONFIG   the config file when --config is not given
  PORT, HOST           override the config's listen.port / listen.host
  LOG_LEVEL            override the config's logLevel
  LOG_FORMAT           json or pretty
  NAME                 any variable a { env: NAME } secret of the config names

Endpoints: /graphql, /graphiql, /healthz, /readyz, /metrics
`;

/** `veeam-graph serve` (what `npm run serve -- --config FILE` runs). */
export async function runServe(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      federation: { type: 'boolean' },
      'watch-config': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const file = configFileOf(values.config, process.env);
  const port = values.port === undefined ? undefined : parsePortFlag('--port', values.port);
  if (values.host !== undefined && !values.host.trim()) throw new UsageError('--host: expected an address, got ""');
  const logLevel = values['log-level'] === undefined ? undefined : parseLogLevelFlag(values['log-level']);
  const pretty = logFormatOf(values['log-format'], process.env);
  // A flag wins over its variable, so the variable is not even looked at (nor reported when bad).
  const env = { ...process.env };
  if (port !== undefined) delete env.PORT;
  if (values.host !== undefined) delete env.HOST;
  if (logLevel !== undefined) delete env.LOG_LEVEL;
  // The same flags and variables apply to every reload of the file.
  let latest: GatewayConfig | undefined;
  const load = async (): Promise<GatewayConfig> => {
    const loaded = await loadConfig(file, env);
    latest = loaded;
    if (port !== undefined) loaded.listen.port = port;
    if (values.host !== undefined) loaded.listen.host = values.host;
    if (logLevel !== undefined) loaded.logLevel = logLevel;
    // The flag can only turn federation on: a config that asks for it keeps it.
    if (values.federation) loaded.federation = true;
    return loaded;
  };
  const config = await load();
  const logger = createLogger({ level: config.logLevel, ...(pretty !== undefined && { pretty }) });
  logger.debug({ config: config.redacted() }, 'configuration loaded');
  // From here a stop signal is a graceful stop, also one that comes while the gateway starts.
  const stop = trapStopSignals(['SIGINT', 'SIGTERM']);
  // SIGHUP is a reload (systemd's ExecReload=kill -HUP); one that comes before the gateway listens has nothing to reload.
  let reload = (): void => logger.info('SIGHUP before the gateway listens: nothing to reload');
  const onHangup = (): void => reload();
  process.on('SIGHUP', onHangup);
  const gateway = await createGateway(config, { logger }).catch((err: unknown) => {
    stop.release();
    process.off('SIGHUP', onHangup);
    throw listenError(err, config.listen.host, config.listen.port, 'use --port N or --port 0, or set listen.port in the config, or PORT');
  });
  announceListening(gateway.url, gateway.graphiqlUrl);
  logger.info({ graphql: gateway.graphqlUrl, graphiql: gateway.graphiqlUrl, ...(config.federation && { federation: true }) }, 'veeam-graph serving');
  // Probe every server once in the background, so the operator sees at start which ones answer.
  void gateway.readiness.check().then((report) => logSourceStates(logger, report));
  const reloadConfig = async (why: string): Promise<void> => {
    logger.info({ file }, `${why}: reloading the config`);
    const outcome = await gateway.reload(load);
    // The new config may refer to other files: those are watched from now on.
    if (outcome.applied && latest !== undefined) watcher?.update(latest.files);
    // A certificate rotation does not wait for a config that validates (an applied reload re-read it already).
    if (!outcome.applied && why === 'SIGHUP') await gateway.reloadTls();
  };
  reload = () => void reloadConfig('SIGHUP');
  const watcher = values['watch-config'] ? watchConfigFile(file, config.files, () => void reloadConfig('config files changed'), { logger }) : undefined;
  try {
    await waitForShutdown(() => gateway.close(), 20_000, stop);
  } finally {
    watcher?.stop();
    process.off('SIGHUP', onHangup);
  }
}
