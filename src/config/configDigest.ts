import { createHash } from 'node:crypto';
import { redactedConfig, type GatewayConfig } from './loadConfig.js';

/**
 * A short digest of what a config says, secrets left out (it is computed over `redacted()`, so it
 * can be a metric label: nothing of a password or key can be recovered from it), the file's path
 * and warnings too (replicas with the same config at different paths agree). Replicas that report
 * different digests run different configs; a digest that did not change after a reload means the
 * reload changed nothing but, at most, a secret.
 */
export function configDigest(config: GatewayConfig): string {
  // `redactedConfig(config)`, not `config.redacted()`: a config copied with a spread keeps the original's closure.
  const { file: _file, warnings: _warnings, ...said } = redactedConfig(config) as Record<string, unknown>;
  return createHash('sha256').update(JSON.stringify(said)).digest('hex').slice(0, 16);
}
