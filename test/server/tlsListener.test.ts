import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import selfsigned from 'selfsigned';
import YAML from 'yaml';
import { writeSimConfig } from '../../src/cli/simConfig.js';
import { startSimulators, type Simulators } from '../../src/sim/startSimulators.js';
import { cleanUpCli, runCli as run, startListening, tempDir } from '../support/cliProcess.js';

interface Pem {
  cert: string;
  key: string;
  fingerprint: string;
}

/** A self-signed RSA certificate for 127.0.0.1 with its own common name, and its SHA-256 fingerprint. */
async function certificate(commonName: string): Promise<Pem> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { cert: pems.cert, key: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

interface Reply {
  status: number;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented on this connection. */
  fingerprint: string;
  socket: TLSSocket;
  reusedSocket: boolean;
}

/** One HTTPS request; resolves with the response read to its end. */
function request(url: string, options: https.RequestOptions, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, options, (res) => {
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, fingerprint, socket, reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('veeam-graph serve with listen.tls', () => {
  let a: Pem;
  let b: Pem;
  let sims: Simulators;
  let dir: string;
  let certFile: string;
  let keyFile: string;
  let serve: Awaited<ReturnType<typeof startListening>>;

  /** Writes a copy of the sim config `base` with `listen.tls` set to `tls` (paths relative to the config). */
  async function configWithTls(base: string, name: string, tls: { cert: string; key: string }): Promise<string> {
    const doc = YAML.parse(await readFile(base, 'utf8')) as { listen: Record<string, unknown> };
    doc.listen.tls = tls;
    const file = path.join(path.dirname(base), name);
    await writeFile(file, YAML.stringify(doc), 'utf8');
    return file;
  }

  beforeAll(async () => {
    // Both certificates at once (RSA key generation is the slow part), with the simulators.
    [a, b, sims, dir] = await Promise.all([
      certificate('vg-tls-a'),
      certificate('vg-tls-b'),
      startSimulators({ em: 1, vbo: [], sessionsPerServer: 5 }),
      tempDir(),
    ]);
    await mkdir(path.join(dir, 'tls'));
    certFile = path.join(dir, 'tls', 'listener.crt');
    keyFile = path.join(dir, 'tls', 'listener.key');
    await writeFile(certFile, a.cert);
    await writeFile(keyFile, a.key);
    const base = path.join(dir, 'sim.yaml');
    await writeSimConfig(base, sims, { host: '127.0.0.1', port: 0 });
    const file = await configWithTls(base, 'tls.yaml', { cert: 'tls/listener.crt', key: 'tls/listener.key' });
    // Started from another directory than the config's, so relative paths must resolve against the config.
    serve = await startListening(['serve', '--config', file], { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
  });

  afterAll(async () => {
    await cleanUpCli();
    await sims?.close();
  });

  it('serves HTTPS with the configured certificate; plain HTTP to the port fails', async () => {
    expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    const res = await request(`${serve.url}/healthz`, { ca: a.cert, agent: false });
    expect(res.status).toBe(200);
    expect(res.fingerprint).toBe(a.fingerprint);
    // Without the CA the self-signed certificate is refused (it really is TLS verification at work).
    await expect(request(`${serve.url}/healthz`, { agent: false })).rejects.toThrow(/self-signed|self signed/);
    const plain = new Promise<number>((resolve, reject) => {
      const req = http.get(`${serve.url.replace(/^https:/, 'http:')}/healthz`, { agent: false }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    await expect(plain).rejects.toThrow();
  });

  it('SIGHUP swaps the certificate without dropping an open connection; new connections see the new one', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: [a.cert, b.cert] });
    try {
      const first = await request(`${serve.url}/healthz`, { agent });
      expect(first.status).toBe(200);
      expect(first.fingerprint).toBe(a.fingerprint);
      const closed: Socket[] = [];
      first.socket.once('close', () => closed.push(first.socket));

      await writeFile(certFile, b.cert);
      await writeFile(keyFile, b.key);
      serve.child.kill('SIGHUP');
      const reloaded = await serve.logLine('TLS certificate reloaded');
      expect(reloaded.entry.cert).toBe(certFile);

      // (a) The kept-alive connection survives the reload and carries on with its certificate A.
      const second = await request(`${serve.url}/healthz`, { agent });
      expect(second.status).toBe(200);
      expect(second.reusedSocket).toBe(true);
      expect(second.socket).toBe(first.socket);
      expect(second.fingerprint).toBe(a.fingerprint);
      expect(closed).toEqual([]);

      // (b) A new connection gets certificate B, and only B's CA is needed now.
      const fresh = await request(`${serve.url}/healthz`, { ca: b.cert, agent: false });
      expect(fresh.status).toBe(200);
      expect(fresh.fingerprint).toBe(b.fingerprint);
      await expect(request(`${serve.url}/healthz`, { ca: a.cert, agent: false })).rejects.toThrow();

      // GraphQL over HTTPS after the reload.
      const query = JSON.stringify({ query: '{ restoreSessions(first: 2) { nodes { name } } }' });
      const gql = await request(`${serve.url}/graphql`, { ca: b.cert, agent: false, method: 'POST', headers: { 'content-type': 'application/json' } }, query);
      expect(gql.status).toBe(200);
      expect(gql.fingerprint).toBe(b.fingerprint);
      const body = JSON.parse(gql.body) as { data: { restoreSessions: { nodes: { name: string }[] } }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data.restoreSessions.nodes).toHaveLength(2);
    } finally {
      agent.destroy();
    }
  });

  it('a reload with a key that does not match keeps the previous certificate and logs no PEM content', async () => {
    // A's key with B's certificate: both files are PEM, but they are not a pair.
    await writeFile(keyFile, a.key);
    serve.child.kill('SIGHUP');
    const failed = await serve.logLine('TLS certificate not reloaded; the previous one stays in use');
    expect(failed.entry.level).toBe(50);
    expect(JSON.stringify(failed.entry.err)).toContain('listener.crt and listener.key do not make a usable certificate');
    expect(failed.line).not.toContain('BEGIN');
    expect(failed.line).not.toContain(a.key.split('\n')[1]!);
    expect(serve.stdout()).not.toContain('BEGIN');

    const res = await request(`${serve.url}/healthz`, { ca: b.cert, agent: false });
    expect(res.status).toBe(200);
    expect(res.fingerprint).toBe(b.fingerprint);
  });

  it('refuses to start, exit code 2, when the listen.tls certificate is missing or the key does not match it', async () => {
    const base = path.join(dir, 'sim.yaml');
    const missing = await configWithTls(base, 'missing.yaml', { cert: 'tls/nope.crt', key: 'tls/listener.key' });
    const res = run(['serve', '--config', missing]);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/listen\.tls: .*nope\.crt.*ENOENT.*\(missing\.yaml\)/);
    expect(res.stderr).not.toMatch(/listening on/);

    // A's certificate with B's key: both PEM, not a pair.
    await writeFile(path.join(dir, 'tls', 'a.crt'), a.cert);
    await writeFile(path.join(dir, 'tls', 'b.key'), b.key);
    const mismatch = await configWithTls(base, 'mismatch.yaml', { cert: 'tls/a.crt', key: 'tls/b.key' });
    const bad = run(['serve', '--config', mismatch]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('listen.tls: a.crt and b.key do not make a usable certificate');
    expect(bad.stderr).toContain('(mismatch.yaml)');
    expect(bad.stderr).not.toContain('BEGIN');
    expect(bad.stderr).not.toMatch(/listening on/);
  });

  it('SIGTERM stops it with exit code 0', async () => {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(serve.stdout()).toContain('"gateway stopped"');
  });
});
