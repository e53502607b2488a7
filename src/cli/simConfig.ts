import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { Simulators } from '../sim/startSimulators.js';

/** Options of {@link writeSimConfig}. */
export interface SimConfigOptions {
  /**
   * `files` (default): each server's password in its own file (mode 0600) under `<config>.secrets/`
   * beside the config, referenced as `{ file: PATH }` relative to it, so `serve` and `check` log no
   * plain-text-password warning. `inline`: plain strings in the config (warned about).
   */
  passwords?: 'files' | 'inline';
}

/** Where {@link writeSimConfig} puts the secrets of the config `file`: `x.yaml` -> `x.secrets/`. */
export function simSecretsDir(file: string): string {
  return `${file.replace(/\.(ya?ml|json)$/i, '')}.secrets`;
}

/** Writes `text` to `file` readable by its owner only, also when the file already existed. */
async function writePrivate(file: string, text: string): Promise<void> {
  await writeFile(file, text, { encoding: 'utf8', mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * Writes a gateway config (design.md section 8 shape) for running simulators, so
 * `veeam-graph serve --config FILE` can be pointed at them as is. The simulators' throwaway
 * passwords go to one file each under `simSecretsDir(file)` (see {@link SimConfigOptions}). With
 * TLS on, the self-signed certificate is written beside it and referenced as the servers' CA.
 */
export async function writeSimConfig(file: string, sims: Simulators, listen: { host: string; port: number }, options: SimConfigOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  const relative = (target: string): string => path.relative(dir, target).split(path.sep).join('/') || target;
  let caFile: string | undefined;
  if (sims.ca) {
    caFile = `${file.replace(/\.(ya?ml|json)$/i, '')}.ca.pem`;
    await writeFile(caFile, sims.ca, 'utf8');
  }
  const secrets = simSecretsDir(file);
  const files = (options.passwords ?? 'files') === 'files';
  if (files) {
    await mkdir(secrets, { recursive: true, mode: 0o700 });
    await chmod(secrets, 0o700);
  }
  const servers = [];
  for (const s of sims.describe().servers) {
    let password: string | { file: string } = s.password;
    if (files) {
      const secretFile = path.join(secrets, s.name);
      await writePrivate(secretFile, `${s.password}\n`);
      password = { file: relative(secretFile) };
    }
    servers.push({
      name: s.name,
      kind: s.kind,
      url: s.url,
      ...(s.apiVersion ? { apiVersion: s.apiVersion } : {}),
      username: s.username,
      password,
      ...(caFile ? { tls: { ca: relative(caFile) } } : {}),
    });
  }
  const config = { listen, servers };
  const where = files ? `their (throwaway) passwords are in ${relative(secrets)}/` : 'their (throwaway) credentials';
  const text = /\.json$/i.test(file)
    ? `${JSON.stringify(config, null, 2)}\n`
    : `# Written by \`veeam-graph sim --write-config\`: simulator servers; ${where}.\n${YAML.stringify(config)}`;
  await writeFile(file, text, 'utf8');
}
