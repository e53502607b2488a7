/** The upstream's own account of an error. */
export interface UpstreamMessage {
  message?: string;
  code?: string;
}

/**
 * Reads the upstream's own error message and code from an error response body. Each client passes
 * the one for its API (`extractEmMessage` in `em/`; VB365 uses {@link extractUpstreamMessage}).
 * Never throws: anything unrecognised yields `{}`. The caller redacts before quoting.
 */
export type UpstreamMessageExtractor = (body: string | Buffer | undefined) => UpstreamMessage;

/** Bodies larger than this are not error documents worth parsing (a proxy's HTML page, say). */
const MAX_ERROR_BODY = 64 * 1024;

function text(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
}

/**
 * An error body as text worth parsing: decoded as UTF-8, a leading BOM dropped (ASP.NET writes
 * one), trimmed. Undefined for no body or one over 64 KiB.
 *
 * @param body response body (text or bytes)
 */
export function errorBodyText(body: string | Buffer | undefined): string | undefined {
  if (body === undefined || body.length === 0 || body.length > MAX_ERROR_BODY) return undefined;
  const raw = typeof body === 'string' ? body : body.toString('utf8');
  return (raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw).trim();
}

/**
 * Message and code of a JSON error document, in any of the shapes the Veeam APIs and what stands
 * in front of them send:
 * - `{"Message":..,"StatusCode":..}` (EM JSON and ASP.NET's
 *   `{"Message":"Authorization has been denied..."}`), `FirstChanceExceptionMessage` when
 *   `Message` is empty (docs/veeam-wire.md Part 1 section 3);
 * - `{"message":..,"errorCode":..}` (VB365, Part 2 section 3);
 * - OAuth `{"error":..,"error_description":..}` (the VB365 token endpoint, Part 2 section 2).
 *
 * @param raw text from {@link errorBodyText}
 * @returns message and code when found; `{}` for anything that is not such a JSON object
 */
export function jsonErrorMessage(raw: string): UpstreamMessage {
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

/**
 * The shared, JSON-only extractor ({@link jsonErrorMessage} on {@link errorBodyText}): what the
 * VB365 client uses, and the default of `httpErrorFromResponse`. XML error documents are EM's and
 * are read by `extractEmMessage` in `em/`.
 *
 * @param body response body (text or bytes)
 * @returns message and code when found
 */
export function extractUpstreamMessage(body: string | Buffer | undefined): UpstreamMessage {
  const raw = errorBodyText(body);
  return raw === undefined ? {} : jsonErrorMessage(raw);
}
