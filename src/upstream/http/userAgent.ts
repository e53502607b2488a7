import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * Version of veeam-graph from its package.json, found by walking up from this module (the same
 * code runs from `src/` under tsx and from `dist/src/` when built).
 *
 * @returns the version, or `0.0.0` when no package.json is found
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'veeam-graph' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // no package.json here: keep walking up
    }
    dir = dirname(dir);
  }
  return (cached = '0.0.0');
}

/**
 * The `User-Agent` sent to every upstream: `veeam-graph/<version> (+node)`, so Veeam admins can
 * tell gateway traffic apart in their logs.
 *
 * @param version override for tests; default {@link packageVersion}
 */
export function userAgent(version = packageVersion()): string {
  return `veeam-graph/${version} (+node)`;
}
