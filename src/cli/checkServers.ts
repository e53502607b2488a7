import pino from 'pino';
import type { ServerConfig } from '../config/loadConfig.js';
import { createSources } from '../sources/createSources.js';
import type { Source } from '../upstream/Source.js';
import { isUpstreamError } from '../upstream/errors.js';
import type { HttpRequestEvent } from '../upstream/http/createHttpClient.js';

/** TLS verdict: `ok` verified, `insecure` not verified (by config), `failed`, `n/a` plain http, `-` never got that far. */
export type TlsVerdict = 'ok' | 'insecure' | 'failed' | 'n/a' | '-';

/** What `check` found about one configured server. */
export interface ServerCheck {
  name: string;
  kind: ServerConfig['kind'];
  url: string;
  /** True when every step passed. */
  ok: boolean;
  /** An HTTP response (any status) came back. */
  reachable: boolean;
  tls: TlsVerdict;
  /** `ok`, `failed`, or `-` when not attempted (server unreachable). */
  logon: 'ok' | 'failed' | '-';
  /** EM: the newest API version the server advertises; VB365: the configured one. */
  apiVersion: string | null;
  /** VB365 v6+: the product build from /ServiceInstance. */
  serverVersion: string | null;
  /** Duration of the last successful GET, ms. */
  latencyMs: number | null;
  /** The first failure, already scrubbed of secrets by the upstream layer. */
  error: { code: string; message: string } | null;
}

const UNREACHED = new Set(['UPSTREAM_UNREACHABLE', 'UPSTREAM_TIMEOUT']);

function tlsOf(server: ServerConfig, reached: boolean): TlsVerdict {
  if (new URL(server.url).protocol === 'http:') return 'n/a';
  if (!reached) return '-';
  return server.tls.insecure ? 'insecure' : 'ok';
}

/** Fills reachability, TLS and logon from the error of a failed step. */
function failed(base: ServerCheck, server: ServerConfig, err: unknown, logonAttempted: boolean): ServerCheck {
  const code = isUpstreamError(err) ? err.code : 'INTERNAL_ERROR';
  const message = err instanceof Error ? err.message : String(err);
  // A TLS failure means the server answered the handshake: reachable, but not trusted.
  const tlsFailed = code === 'UPSTREAM_TLS_ERROR';
  const reachable = tlsFailed || !UNREACHED.has(code);
  return {
    ...base,
    ok: false,
    reachable,
    tls: tlsFailed ? 'failed' : tlsOf(server, reachable),
    logon: logonAttempted && reachable && !tlsFailed ? 'failed' : '-',
    error: { code, message },
  };
}

async function checkOne(server: ServerConfig, source: Source, events: HttpRequestEvent[]): Promise<ServerCheck> {
  const base: ServerCheck = {
    name: server.name,
    kind: server.kind,
    url: source.url,
    ok: false,
    reachable: false,
    tls: '-',
    logon: '-',
    apiVersion: null,
    serverVersion: null,
    latencyMs: null,
    error: null,
  };
  const lastGetMs = (): number | null => {
    const get = events.filter((e) => e.server === server.name && e.method === 'GET' && e.status !== undefined && e.status < 400).at(-1);
    return get ? Math.round(get.ms * 10) / 10 : null;
  };
  // The source checks step by step (reach, then logon) and says which step failed.
  const found = await source.check();
  const checked = { ...base, apiVersion: found.apiVersion, serverVersion: found.serverVersion };
  if (found.failedAt !== undefined) return failed({ ...checked, latencyMs: lastGetMs() }, server, found.error, found.failedAt === 'logon');
  return { ...checked, ok: true, reachable: true, tls: tlsOf(server, true), logon: 'ok', latencyMs: lastGetMs() ?? found.latencyMs };
}

/**
 * Checks every configured server in parallel: reachable, TLS, logon/token, API version, latency.
 * Each server gets its own source (the same construction as the gateway's), which is closed at the
 * end, so an EM logon session is logged off again.
 */
export async function checkServers(servers: ServerConfig[]): Promise<ServerCheck[]> {
  const events: HttpRequestEvent[] = [];
  const sources = createSources(servers, { logger: pino({ level: 'silent' }) });
  for (const source of sources.list) source.subscribe((e) => e.type === 'http' && events.push(e.request));
  try {
    return await Promise.all(servers.map((server, i) => checkOne(server, sources.list[i]!, events)));
  } finally {
    await sources.close();
  }
}
