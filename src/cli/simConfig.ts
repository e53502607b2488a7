import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { Simulators } from '../sim/startSimulators.js';

/**
 * Writes a gateway config (design.md section 8 shape) for running simulators, so
 * `veeam-graph serve --config FILE` can be pointed at them as is. With TLS on, the
 * self-signed certificate is written beside it and referenced as the servers' CA.
 */
export async function writeSimConfig(file: string, sims: Simulators, listen: { host: string; port: number }): Promise<void> {
  let caFile: string | undefined;
  if (sims.ca) {
    caFile = `${file.replace(/\.(ya?ml|json)$/i, '')}.ca.pem`;
    await writeFile(caFile, sims.ca, 'utf8');
  }
  const config = {
    listen,
    servers: sims.describe().servers.map((s) => ({
      name: s.name,
      kind: s.kind,
      url: s.url,
      ...(s.apiVersion ? { apiVersion: s.apiVersion } : {}),
      username: s.username,
      // Simulator credentials only: a real config should use { env: NAME } or { file: PATH }.
      password: s.password,
      ...(caFile ? { tls: { ca: path.relative(path.dirname(file), caFile) || caFile } } : {}),
    })),
  };
  const text = /\.json$/i.test(file)
    ? `${JSON.stringify(config, null, 2)}\n`
    : `# Written by \`veeam-graph sim --write-config\`: simulator servers and their (throwaway) credentials.\n${YAML.stringify(config)}`;
  await writeFile(file, text, 'utf8');
}
