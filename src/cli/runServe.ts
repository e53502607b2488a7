import { parseArgs } from 'node:util';
import { loadConfig } from '../config/loadConfig.js';
import { createGateway } from '../server/createGateway.js';
import { createLogger } from '../server/createLogger.js';
import { UsageError, listenError, waitForShutdown } from './cliSupport.js';
import { logSourceStates } from './logSourceStates.js';

export const SERVE_HELP = `Usage: veeam-graph serve --config FILE [options]

Starts the GraphQL gateway for the Veeam servers of a config file (YAML, or JSON for *.json).
An invalid config is reported as a list of problems (key path and file) with exit code 2, and
nothing starts. SIGINT/SIGTERM stop it gracefully: in-flight queries finish, EM sessions are
logged off, exit code 0.

Options:
  -c, --config FILE  the config file (required); see README "Config reference"
  --federation       serve the schema as an Apollo Federation v2 subgraph (same as config
                     federation: true); \`veeam-graph subgraph-sdl\` prints its SDL
  -h, --help         this text

Environment:
  PORT, HOST         override the config's listen.port / listen.host
  LOG_LEVEL          override the config's logLevel (fatal, error, warn, info, debug, trace, silent)
  NAME               any variable a { env: NAME } secret of the config names

Endpoints: /graphql, /graphiql, /healthz, /readyz, /metrics
`;

/** `veeam-graph serve` (what `npm run serve -- --config FILE` runs). */
export async function runServe(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { config: { type: 'string', short: 'c' }, federation: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  if (!values.config) throw new UsageError('--config FILE is required');
  const config = await loadConfig(values.config, process.env);
  // The flag can only turn federation on: a config that asks for it keeps it.
  if (values.federation) config.federation = true;
  const logger = createLogger({ level: config.logLevel });
  logger.debug({ config: config.redacted() }, 'configuration loaded');
  const gateway = await createGateway(config, { logger }).catch((err: unknown) => {
    throw listenError(err, config.listen.host, config.listen.port, 'set listen.port in the config, or PORT');
  });
  logger.info({ graphql: gateway.graphqlUrl, graphiql: gateway.graphiqlUrl, ...(config.federation && { federation: true }) }, 'veeam-graph serving');
  // Probe every server once in the background, so the operator sees at start which ones answer.
  void gateway.readiness.check().then((report) => logSourceStates(logger, report));
  await waitForShutdown(() => gateway.close(), 20_000);
}
