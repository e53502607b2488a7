import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import * as selfsigned from 'selfsigned';
import type { UpstreamError } from '../../src/upstream/errors.js';
import { createHttpClient, type HttpClient } from '../../src/upstream/http/createHttpClient.js';

let server: https.Server;
let base: string;
let cert: string;
const clients: HttpClient[] = [];

beforeAll(async () => {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'em-test.local' }], {
    keyType: 'ec',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  cert = pems.cert;
  server = https.createServer({ key: pems.private, cert: pems.cert }, (_req, res) => res.end('secure'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function make(tls: { ca?: string; insecure?: boolean } | undefined, logger?: pino.Logger): HttpClient {
  const c = createHttpClient({ name: 'em-tls', baseUrl: base, ...(tls && { tls }), ...(logger && { logger }) });
  clients.push(c);
  return c;
}

describe('createHttpClient: TLS', () => {
  it('rejects a self-signed certificate by default with UPSTREAM_TLS_ERROR, not retryable', async () => {
    const err = (await make(undefined)
      .request({ path: 'x' })
      .catch((e: unknown) => e)) as UpstreamError;
    expect(err.code).toBe('UPSTREAM_TLS_ERROR');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/^em-tls: GET \/api\/x -> TLS failure \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/);
  });

  it('accepts the certificate when its CA is configured', async () => {
    const res = await make({ ca: cert }).request({ path: 'x' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('secure');
  });

  it('accepts it with insecure: true and warns once, at creation, naming the server', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const c = make({ insecure: true }, logger);
    const warnings = () => lines.map((l) => JSON.parse(l) as { level: number; server?: string; msg: string }).filter((l) => l.level === 40);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ server: 'em-tls' });
    expect(warnings()[0]?.msg).toMatch(/verification is DISABLED/);
    expect((await c.request({ path: 'x' })).status).toBe(200);
    expect((await c.request({ path: 'y' })).status).toBe(200);
    expect(warnings()).toHaveLength(1);
  });

  it('refuses a tls.ca that is not PEM content', () => {
    expect(() => createHttpClient({ name: 'em-tls', baseUrl: base, tls: { ca: './certs/em.pem' } })).toThrow(/PEM content/);
  });
});
