import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import selfsigned from 'selfsigned';
import { createGateway, type Gateway } from '../../src/server/createGateway.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';
import { cleanUpCli, tempDir } from '../support/cliProcess.js';
import { captureLogger, simConfig } from './gatewayHarness.js';

interface Pem {
  cert: string;
  key: string;
}

const ip = { name: 'subjectAltName' as const, altNames: [{ type: 7 as const, ip: '127.0.0.1' }] };

async function issue(commonName: string, options: { ca?: Pem; isCa?: boolean; usage?: 'serverAuth' | 'clientAuth' }): Promise<Pem> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: options.isCa
      ? [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          options.usage === 'clientAuth' ? { name: 'extKeyUsage' as const, clientAuth: true } : { name: 'extKeyUsage' as const, serverAuth: true },
          ...(options.usage === 'clientAuth' ? [] : [ip]),
        ],
    ...(options.ca !== undefined && { ca: { key: options.ca.key, cert: options.ca.cert } }),
  });
  return { cert: pems.cert, key: pems.private };
}

interface Answer {
  status?: number;
  error?: string;
}

/** One GET over TLS that trusts the gateway's CA, with the given client certificate (or none). */
function get(url: string, ca: string, client?: Pem): Promise<Answer> {
  return new Promise((resolve) => {
    // The preflight header: Apollo's CSRF prevention refuses a plain GET of /graphql.
    const headers = { 'apollo-require-preflight': 'true' };
    const req = https.get(url, { ca, headers, ...(client && { cert: client.cert, key: client.key }), agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode! }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

let sims: Simulators;
let gateway: Gateway;
let ca: Pem;
let client: Pem;
let stranger: Pem;
let lines: Record<string, unknown>[];

beforeAll(async () => {
  ca = await issue('veeam-graph test CA', { isCa: true });
  const server = await issue('127.0.0.1', { ca });
  client = await issue('dashboard', { ca, usage: 'clientAuth' });
  // Same name, but signed by a CA the gateway does not trust.
  const otherCa = await issue('another CA', { isCa: true });
  stranger = await issue('dashboard', { ca: otherCa, usage: 'clientAuth' });
  const dir = await tempDir('vg-mtls-');
  await writeFile(path.join(dir, 'server.pem'), server.cert);
  await writeFile(path.join(dir, 'server.key'), server.key, { mode: 0o600 });
  await writeFile(path.join(dir, 'clients-ca.pem'), ca.cert);
  sims = await startSimulators({ em: 1, vbo: [], sessionsPerServer: 3 });
  const config = await simConfig(sims, {
    listen: {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key'), ca: path.join(dir, 'clients-ca.pem') },
    },
  });
  const captured = captureLogger();
  lines = captured.lines;
  gateway = await createGateway(config, { logger: captured.logger, defaultMetrics: false });
});

afterAll(async () => {
  await gateway?.close();
  await sims?.close();
  await cleanUpCli();
});

describe('mutual TLS (listen.tls.ca)', () => {
  it('serves a client whose certificate the configured CA signed', async () => {
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(`${gateway.url}/healthz`, ca.cert, client)).toEqual({ status: 200 });
    expect(await get(`${gateway.url}/graphql?query=%7B__typename%7D`, ca.cert, client)).toEqual({ status: 200 });
  });

  it('refuses the handshake without a client certificate, and with one another CA signed', async () => {
    const none = await get(`${gateway.url}/healthz`, ca.cert);
    expect(none.status).toBeUndefined();
    expect(none.error).toMatch(/ECONNRESET|ERR_SSL|EPROTO|certificate/i);
    const foreign = await get(`${gateway.url}/healthz`, ca.cert, stranger);
    expect(foreign.status).toBeUndefined();
    expect(foreign.error).toMatch(/ECONNRESET|ERR_SSL|EPROTO|certificate/i);
    // And still serves the right client after the refusals.
    expect(await get(`${gateway.url}/healthz`, ca.cert, client)).toEqual({ status: 200 });
    // No PEM in any log line.
    expect(JSON.stringify(lines)).not.toContain('PRIVATE KEY');
  });
});
