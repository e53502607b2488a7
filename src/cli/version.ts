import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The version of the veeam-graph package: the nearest `package.json` named `veeam-graph` above
 * `from` (this module's directory by default), so it is the same from `src/` under tsx and from
 * `dist/src/` after a build.
 */
export function packageVersion(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'veeam-graph' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No (readable) package.json here: look one level up.
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
