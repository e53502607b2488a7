import { isIP } from 'node:net';
import type { AuthSettings } from './authSettings.js';

/** Whether `host` is a loopback address: only this machine can connect. A name other than `localhost` is not trusted to be one. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Why the gateway must not listen on `host` with these auth settings, or undefined when it may:
 * without an `auth` key it answers anyone who reaches it with everything, so it only listens on
 * loopback. `auth.mode: none` is the explicit way to run it open (and is warned about at every start).
 */
export function unsafeListenProblem(host: string, auth: AuthSettings): string | undefined {
  if (auth.mode !== 'unset' || isLoopbackHost(host)) return undefined;
  return (
    `listen.host: ${JSON.stringify(host)} is not a loopback address and the config has no auth: anyone who reaches the port could query every backup server. ` +
    'Configure auth.apiKeys or auth.jwt, or set auth.mode: none to serve without authentication on purpose'
  );
}
