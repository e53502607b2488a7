import { parseArgs } from 'node:util';
import { printSubgraphSchema } from '@apollo/subgraph';
import { loadTypeDefs } from '../graph/createGraph.js';
import { buildGraphSubgraphSchema } from '../graph/federation/buildGraphSubgraphSchema.js';

export const SUBGRAPH_SDL_HELP = `Usage: veeam-graph subgraph-sdl

Prints the gateway's Apollo Federation v2 subgraph SDL (what \`serve --federation\` answers to
\`{ _service { sdl } }\`) on stdout, for rover and schema registries. Needs no config, no Veeam
server and no network. With npm, silence npm's own banner:

  npm run --silent subgraph-sdl > veeam-graph.graphql

Options:
  -h, --help  this text
`;

/** The subgraph SDL, as `printSubgraphSchema` renders it (`@link` and every `@key` included). */
export function subgraphSdl(): string {
  // Resolvers do not change the SDL; the schema is built only to validate and print it.
  return printSubgraphSchema(buildGraphSubgraphSchema({ typeDefs: loadTypeDefs(), resolvers: {} }));
}

/** `veeam-graph subgraph-sdl` (what `npm run subgraph-sdl` runs). */
export async function runSubgraphSdl(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(SUBGRAPH_SDL_HELP);
    return;
  }
  const sdl = subgraphSdl();
  process.stdout.write(sdl.endsWith('\n') ? sdl : `${sdl}\n`);
}
