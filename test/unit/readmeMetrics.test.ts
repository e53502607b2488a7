import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { METRIC_NAMES } from '../../src/server/GatewayMetrics.js';

describe('README metrics table', () => {
  it('lists every metric the gateway exports, as a row of the table', async () => {
    const readme = await readFile('README.md', 'utf8');
    const rows = new Set([...readme.matchAll(/^\| `(veeam_graph_[a-z_]+)`/gm)].map((m) => m[1]));
    for (const name of Object.values(METRIC_NAMES)) expect([name, rows.has(name)]).toEqual([name, true]);
    // And no row for a metric that does not exist (a rename leaves no stale documentation behind).
    const exported = new Set<string>(Object.values(METRIC_NAMES));
    for (const row of rows) expect([row, exported.has(row!)]).toEqual([row, true]);
  });
});
