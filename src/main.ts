#!/usr/bin/env node
import { UsageError } from './cli/cliSupport.js';
import { DEMO_HELP, runDemo } from './cli/runDemo.js';
import { SIM_HELP, runSim } from './cli/runSim.js';

const HELP = `Usage: veeam-graph <command> [options]

Commands:
  demo   start simulated Veeam servers with no config (what \`npm start\` runs)
  sim    start simulated Veeam servers and print them as one JSON line (\`npm run sim\`)

Run \`veeam-graph <command> --help\` for a command's options.
`;

const commands: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  demo: { run: runDemo, help: DEMO_HELP },
  sim: { run: runSim, help: SIM_HELP },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`veeam-graph: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (err) {
    // parseArgs reports unknown flags and missing values with a code; show them as usage errors.
    const code = (err as { code?: string }).code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`veeam-graph ${name}: ${(err as Error).message}\n\n${command.help}`);
      return 2;
    }
    throw err;
  }
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
