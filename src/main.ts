#!/usr/bin/env node
import { ConfigError, closestMatch } from './config/loadConfig.js';
import { CliError, UsageError } from './cli/cliSupport.js';
import { CHECK_HELP, runCheck } from './cli/runCheck.js';
import { DEMO_HELP, runDemo } from './cli/runDemo.js';
import { SERVE_HELP, runServe } from './cli/runServe.js';
import { SIM_HELP, runSim } from './cli/runSim.js';
import { SUBGRAPH_SDL_HELP, runSubgraphSdl } from './cli/runSubgraphSdl.js';
import { packageVersion } from './cli/version.js';

const HELP = `Usage: veeam-graph <command> [options]

Commands:
  serve  the GraphQL gateway for the servers of a config file (\`npm run serve -- --config FILE\`)
  demo   simulated Veeam servers and the gateway on them, no config needed (what \`npm start\` runs)
  check  check every server of a config file: reachable, TLS, logon, API version, latency
  sim    start simulated Veeam servers and print them as one JSON line (\`npm run sim\`)
  subgraph-sdl
         print the Apollo Federation v2 subgraph SDL for rover / registries (\`npm run subgraph-sdl\`)

Options:
  -v, --version  print the version
  -h, --help     this text

Run \`veeam-graph <command> --help\` for a command's options.
`;

/** A command returns its exit code, or nothing for 0. */
const commands: Record<string, { run: (argv: string[]) => Promise<number | void>; help: string }> = {
  serve: { run: runServe, help: SERVE_HELP },
  demo: { run: runDemo, help: DEMO_HELP },
  check: { run: runCheck, help: CHECK_HELP },
  sim: { run: runSim, help: SIM_HELP },
  'subgraph-sdl': { run: runSubgraphSdl, help: SUBGRAPH_SDL_HELP },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    const suggestion = closestMatch(name, Object.keys(commands));
    process.stderr.write(`veeam-graph: unknown command "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}\n\n${HELP}`);
    return 2;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (err) {
    // parseArgs reports unknown flags and missing values with a code; show them as usage errors.
    const code = (err as { code?: string }).code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`veeam-graph ${name}: ${(err as Error).message}\n\n${command.help}`);
      return 2;
    }
    // Every problem of the config at once, each with its key path and file; nothing was started.
    if (err instanceof ConfigError) {
      process.stderr.write(`veeam-graph ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof CliError) {
      process.stderr.write(`veeam-graph ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

// After a terminal hangs up (SIGHUP), writing to it fails with EIO or EPIPE: a graceful stop must
// not die of its own goodbye line.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO' && err.code !== 'EPIPE') throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`veeam-graph: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
