import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What went through a {@link startRecordingProxy}: every credential-like value and raw query it saw. */
export interface RecordingProxy {
  /** The proxy's origin, `http://127.0.0.1:PORT`. */
  origin: string;
  /** Requests forwarded. */
  requests: { method: string; path: string }[];
  /**
   * Values that must never leave the gateway: `authorization` and `x-restsvcsessionid` request
   * headers (and the credential after `Basic `/`Bearer `), `x-restsvcsessionid` and `location`
   * response headers, tokens and session ids of logon/token response bodies, and raw query strings.
   */
  secrets: Set<string>;
  close(): Promise<void>;
}

const TOKEN_FIELDS = /"(?:access_token|refresh_token|SessionId)"\s*:\s*"([^"]+)"|<SessionId>([^<]+)<\/SessionId>/g;

/**
 * A transparent HTTP proxy in front of one simulated server that records the secrets passing
 * through it (the gateway re-bases absolute hrefs onto the configured origin, so every call of
 * the gateway to that server goes through here).
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const targetUrl = new URL(target);
  const requests: RecordingProxy['requests'] = [];
  const secrets = new Set<string>();
  const add = (v: string | string[] | undefined) => {
    for (const s of Array.isArray(v) ? v : v === undefined ? [] : [v]) {
      if (!s) continue;
      secrets.add(s);
      const m = /^(?:Basic|Bearer)\s+(\S+)$/i.exec(s);
      if (m) secrets.add(m[1]!);
    }
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', targetUrl.origin);
    requests.push({ method: req.method ?? 'GET', path: url.pathname });
    add(req.headers.authorization);
    add(req.headers['x-restsvcsessionid']);
    if (url.search.length > 1) {
      secrets.add(url.search.slice(1));
      // Values that could identify something (filters, dates, ids), not `true` or `Entities`.
      for (const [k, v] of url.searchParams) if (k !== 'type' && v.length >= 6 && /[^A-Za-z]/.test(v)) secrets.add(v);
    }
    const upstream = http.request(url, { method: req.method, headers: { ...req.headers, host: targetUrl.host } }, (up) => {
      add(up.headers['x-restsvcsessionid']);
      if (typeof up.headers.location === 'string') {
        add(up.headers.location);
        const last = up.headers.location.split('/').pop();
        if (last) add(last);
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        if (/sessionMngr|token/i.test(url.pathname)) {
          for (const m of body.toString('utf8').matchAll(TOKEN_FIELDS)) add(m[1] ?? m[2]);
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.end(body);
      });
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    secrets,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
