import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext } from 'node:tls';

/** The PEM files of the listener's certificate (config `listen.tls`), as absolute paths. */
export interface ListenerTlsFiles {
  certFile: string;
  keyFile: string;
  /** CAs of required client certificates (mutual TLS). */
  caFile?: string;
}

/** The listener's TLS material, ready for `https.createServer` or `server.setSecureContext`. */
export interface ListenerTls {
  cert: string;
  key: string;
  ca?: string;
}

async function pem(file: string, what: string, marker: RegExp): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the ${what} ${path.basename(file)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  if (!marker.test(text)) throw new Error(`${path.basename(file)} is not a PEM ${what}`);
  return text;
}

/**
 * Reads and checks the listener's certificate, key and optional client CA. The pair is tried in
 * a secure context, so a key that does not match its certificate fails here, with the file names,
 * not at the first handshake. Error messages never quote the files' content.
 */
export async function readListenerTls(files: ListenerTlsFiles): Promise<ListenerTls> {
  const cert = await pem(files.certFile, 'certificate', /-----BEGIN CERTIFICATE-----/);
  const key = await pem(files.keyFile, 'private key', /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/);
  const ca = files.caFile === undefined ? undefined : await pem(files.caFile, 'CA certificate', /-----BEGIN CERTIFICATE-----/);
  try {
    createSecureContext({ cert, key, ...(ca !== undefined && { ca }) });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`${path.basename(files.certFile)} and ${path.basename(files.keyFile)} do not make a usable certificate: ${reason}`, { cause: err });
  }
  return { cert, key, ...(ca !== undefined && { ca }) };
}
