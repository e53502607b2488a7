import { errorBodyText, jsonErrorMessage, type UpstreamMessage } from '../extractUpstreamMessage.js';
import { decodeError } from './emDecoders.js';

/**
 * EM's error-message extractor (an `UpstreamMessageExtractor`): the XML
 * `<Error Message=".." StatusCode="..">` document (docs/veeam-wire.md Part 1 section 3), else the
 * shared JSON shapes (EM JSON `{"Message":..,"StatusCode":..}`, possibly BOM-prefixed, and
 * ASP.NET's `{"Message":..}`; see `jsonErrorMessage`). Never throws: anything unrecognised
 * yields `{}`. The caller redacts before quoting.
 *
 * @param body response body (text or bytes)
 * @returns message (and code, for a JSON shape that has one) when found
 */
export function extractEmMessage(body: string | Buffer | undefined): UpstreamMessage {
  const raw = errorBodyText(body);
  if (raw === undefined) return {};
  if (!raw.startsWith('<')) return jsonErrorMessage(raw);
  try {
    return { message: decodeError(raw, 'xml').message };
  } catch {
    return {};
  }
}
