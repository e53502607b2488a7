import { parseArgs } from 'node:util';
import { startSimulators } from '../sim/startSimulators.js';
import { waitForShutdown } from './cliSupport.js';

export const DEMO_HELP = `Usage: veeam-graph demo [options]

Starts the zero-config demo: 3 simulated Enterprise Manager servers and 2 simulated VB365
servers (v8 and v6) on loopback. The GraphQL gateway is wired on top of them once it exists;
for now the demo prints where each simulated server listens and how to call it with curl.

Options:
  --seed S     world seed (default 1)
  -h, --help   this text
`;

/** `veeam-graph demo` (what `npm start` runs). */
export async function runDemo(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: { seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return;
  }
  const sims = await startSimulators({ ...(values.seed ? { seed: values.seed } : {}) });
  const lines = ['veeam-graph demo: simulated Veeam servers are listening', ''];
  for (const s of sims.servers) {
    lines.push(
      `  ${s.name.padEnd(8)} ${s.kind.padEnd(19)} ${s.url}${s.kind === 'microsoft365' ? ` (API ${s.apiVersion})` : ''}  user ${s.username}  password ${s.password}`,
    );
  }
  const em = sims.em[0];
  const vbo = sims.vbo[0];
  if (em) {
    lines.push('', 'Try Enterprise Manager (XML):');
    lines.push(`  curl -si -X POST -u '${em.username}:${em.password}' '${em.url}/sessionMngr/?v=latest' | grep -i X-RestSvcSessionId`);
    lines.push(`  curl -s -H "X-RestSvcSessionId: <id>" '${em.url}/query?type=RestoreSession&format=Entities&sortDesc=CreationTime&pageSize=2'`);
  }
  if (vbo) {
    lines.push('', 'Try VB365 (JSON):');
    lines.push(`  curl -s -d 'grant_type=password&username=${encodeURIComponent(vbo.username)}&password=${vbo.password}' '${vbo.url}/${vbo.apiVersion}/token'`);
    lines.push(`  curl -s -H "Authorization: Bearer <access_token>" '${vbo.url}/${vbo.apiVersion}/RestoreSessions?limit=2'`);
  }
  lines.push('', 'Press Ctrl+C to stop.');
  process.stdout.write(`${lines.join('\n')}\n`);
  await waitForShutdown(() => sims.close());
}
