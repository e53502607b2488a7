import { parseArgs } from 'node:util';
import { printSubgraphSchema } from '@apollo/subgraph';
import { loadTypeDefs } from '../graph/createGraph.js';
import { buildGraphSubgraphSchema } from '../graph/federation/buildGraphSubgraphSchema.js';
import { UsageError } from './cliSupport.js';

export const SUBGRAPH_SDL_HELP = `Usage: veeam-graph subgraph-sdl

Prints the gateway's Apollo Federation v2 subgraph SDL (what \`serve --federation\` answers to
\`{ _service { sdl } }\`) on stdout, for rover and schema registries. Needs no config, no Veeam
server and no network. With npm, silence npm's own banner:

  npm run --silent subgraph-sdl > veeam-graph.graphql

Options:
  --root-field-prefix P  rename the generic root fields as config federation.rootFieldPrefix does
                         (node -> PNode, nodes -> PNodes, sources -> PSources)
  -h, --help             this text
`;

/** The subgraph SDL, as `printSubgraphSchema` renders it (`@link` and every `@key` included). */
export function subgraphSdl(rootFieldPrefix?: string): string {
  // Resolvers do not change the SDL; the schema is built only to validate and print it.
  return printSubgraphSchema(buildGraphSubgraphSchema({ typeDefs: loadTypeDefs(), resolvers: {}, rootFieldPrefix }));
}

/** `veeam-graph subgraph-sdl` (what `npm run subgraph-sdl` runs). */
export async function runSubgraphSdl(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: { help: { type: 'boolean', short: 'h' }, 'root-field-prefix': { type: 'string' } } });
  if (values.help) {
    process.stdout.write(SUBGRAPH_SDL_HELP);
    return;
  }
  const prefix = values['root-field-prefix'];
  if (prefix !== undefined && !/^[a-z][A-Za-z0-9]{0,30}$/.test(prefix))
    throw new UsageError(`--root-field-prefix: expected a lowercase GraphQL name start, e.g. veeam, got "${prefix}"`);
  const sdl = subgraphSdl(prefix);
  process.stdout.write(sdl.endsWith('\n') ? sdl : `${sdl}\n`);
}
