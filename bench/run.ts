/**
 * `npm run bench -- NAME [args]` runs bench/NAME.ts; without a name it lists them.
 * Benchmarks run on demand, print numbers and write JSON under bench/results/.
 */
import { readdir } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
/** Modules the benchmarks import; not benchmarks themselves. */
const helpers = new Set(['run', 'naiveLoaders', 'simProcess', 'baselineGateway', 'serveProcess']);
const names = (await readdir(dir))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((n) => !helpers.has(n));
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  console.log(`usage: npm run bench -- <${names.join('|')}> [args]`);
  process.exit(name ? 2 : 0);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${dir}${name}.ts`, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
