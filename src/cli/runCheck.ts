import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type GatewayConfig } from '../config/loadConfig.js';
import { redactSecrets } from '../upstream/redactSecrets.js';
import { checkServers, type ServerCheck } from './checkServers.js';
import { configFileOf } from './cliSupport.js';

export const CHECK_HELP = `Usage: veeam-graph check [--config FILE] [--json]

Checks every server of a config file: reachable, TLS verified, logon (EM session / VB365 token)
accepted, API version, latency of one GET. Prints a table, or one JSON document with --json.
Exit code 0 when every server passes, 1 when any fails, 2 for a bad config or usage.
Secrets are never printed.

Options:
  -c, --config FILE  the config file (default: VEEAM_GRAPH_CONFIG)
  --json             machine-readable output: { "ok": bool, "servers": [...] }; an invalid
                     config is { "ok": false, "error": { "code": "CONFIG_INVALID", "problems": [...] } }
  -h, --help         this text

Environment: VEEAM_GRAPH_CONFIG (when --config is not given), and any variable a { env: NAME }
secret of the config names.
`;

/** Renders the results as an aligned table for people. */
export function formatCheckTable(results: ServerCheck[]): string {
  const header = ['SERVER', 'KIND', 'URL', 'REACHABLE', 'TLS', 'LOGON', 'API', 'LATENCY', 'RESULT'];
  const rows = results.map((r) => [
    r.name,
    r.kind,
    r.url,
    r.reachable ? 'yes' : 'no',
    r.tls,
    r.logon,
    [r.apiVersion, r.serverVersion].filter(Boolean).join(' ') || '-',
    r.latencyMs === null ? '-' : `${r.latencyMs} ms`,
    r.ok ? 'OK' : `FAIL ${r.error?.code ?? ''}`.trim(),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = [line(header), ...rows.map(line)];
  // Upstream messages already start with the server name.
  for (const r of results) if (r.error) out.push(`  ${r.error.message.startsWith(`${r.name}:`) ? r.error.message : `${r.name}: ${r.error.message}`}`);
  const failed = results.filter((r) => !r.ok).length;
  out.push('', failed === 0 ? `all ${results.length} servers OK` : `${failed} of ${results.length} servers failed`);
  return `${out.join('\n')}\n`;
}

/** `veeam-graph check` (what `npm run check -- --config FILE` runs). Returns the exit code. */
export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(CHECK_HELP);
    return 0;
  }
  const file = configFileOf(values.config, process.env);
  let config: GatewayConfig;
  try {
    config = await loadConfig(file, process.env);
  } catch (err) {
    if (!(values.json && err instanceof ConfigError)) throw err;
    // A script reading stdout gets a JSON answer here too; people still see the problems on stderr.
    process.stdout.write(`${JSON.stringify({ ok: false, error: err.toJSON() }, null, 2)}\n`);
    process.stderr.write(`veeam-graph check: ${err.message}\n`);
    return err.exitCode;
  }
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
  const results = await checkServers(config.servers);
  const text = values.json ? `${JSON.stringify({ ok: results.every((r) => r.ok), servers: results }, null, 2)}\n` : formatCheckTable(results);
  // The upstream layer already scrubs its messages; this pass guarantees no configured secret is printed.
  process.stdout.write(redactSecrets(text, [...config.servers.map((s) => s.password), config.cursorSecret]));
  return results.every((r) => r.ok) ? 0 : 1;
}
