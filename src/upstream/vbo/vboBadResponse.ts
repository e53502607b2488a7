import { UpstreamBadResponseError } from '../errors.js';
import { VboDecodeError } from './VboDecodeError.js';

/**
 * Wrap a decoding failure of a VB365 response as UPSTREAM_BAD_RESPONSE, naming the server, the
 * call and what was wrong (`m365-eu: GET /v8/RestoreSessions?offset=0&limit=100 -> bad response:
 * RestoreSessions: results[3].id: ...`). Anything that is not a {@link VboDecodeError} is
 * returned unchanged.
 *
 * @param source configured server name
 * @param method HTTP method
 * @param path safe path of the response (`HttpResponse.path`)
 * @param err what the decoder threw
 * @param secrets values to scrub
 */
export function vboBadResponse(source: string, method: string, path: string, err: unknown, secrets: readonly string[]): unknown {
  if (!(err instanceof VboDecodeError)) return err;
  return new UpstreamBadResponseError({ source, method, path, secrets, cause: err, detail: `bad response: ${err.message}` });
}
