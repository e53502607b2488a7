import { decodeError } from './em/emDecoders.js';
import { stripBom } from './em/decodeEmXml.js';

/** The upstream's own account of an error. */
export interface UpstreamMessage {
  message?: string;
  code?: string;
}

/** Bodies larger than this are not error documents worth parsing (a proxy's HTML page, say). */
const MAX_ERROR_BODY = 64 * 1024;

function text(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
}

/**
 * Extract the upstream's own error message and code from an error response body:
 * - EM XML `<Error Message=".." StatusCode="..">` (veeam-api.md Part 1 section 3);
 * - EM JSON `{"Message":..,"StatusCode":..}`, possibly BOM-prefixed (ASP.NET's
 *   `{"Message":"Authorization has been denied..."}` has the same shape);
 * - VB365 `{"message":..,"errorCode":..}` (Part 2 section 3);
 * - OAuth `{"error":..,"error_description":..}` from the VB365 token endpoint (Part 2 section 2).
 * Never throws: anything unrecognised yields `{}`. The caller redacts before quoting.
 *
 * @param body response body (text or bytes)
 * @returns message and code when found
 */
export function extractUpstreamMessage(body: string | Buffer | undefined): UpstreamMessage {
  if (body === undefined || body.length === 0 || body.length > MAX_ERROR_BODY) return {};
  const raw = stripBom(typeof body === 'string' ? body : body.toString('utf8')).trim();
  if (raw.startsWith('<')) {
    try {
      return { message: decodeError(raw, 'xml').message };
    } catch {
      return {};
    }
  }
  if (!raw.startsWith('{')) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return {};
  }
  if (typeof json !== 'object' || json === null) return {};
  const o = json as Record<string, unknown>;
  const out: UpstreamMessage = {};
  const oauthError = text(o.error);
  const message = text(o.Message) ?? text(o.message) ?? text(o.error_description) ?? text(o.FirstChanceExceptionMessage) ?? oauthError;
  if (message !== undefined) out.message = message;
  const code = text(o.errorCode) ?? oauthError;
  if (code !== undefined) out.code = code;
  return out;
}
