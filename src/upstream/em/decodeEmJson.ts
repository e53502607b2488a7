import { EmDecodeError } from './EmDecodeError.js';
import { stripBom } from './decodeEmXml.js';

/**
 * Parse an EM JSON body (`Accept: application/json`) into a plain object tree for the shared mappers
 * in `emDecoders.ts`. EM JSON uses the XML names with attributes as properties, prints nulls
 * (`"Links": null`), doubles collection plurals (`Entities.RestoreSessions.RestoreSessions[]`) and
 * apparently starts with a UTF-8 BOM (docs/veeam-wire.md Part 1 sections 4 and 5); the mappers handle the
 * shapes, this function only gets a JSON object out of the bytes.
 *
 * @param body response body, text or UTF-8 bytes; a leading BOM is stripped
 * @param document document name used in error messages (`QueryResult`, `RestoreSession`...)
 * @returns the top-level JSON object
 * @throws {EmDecodeError} when the body is not JSON or its top level is not an object
 */
export function decodeEmJson(body: string | Buffer, document = 'document'): Record<string, unknown> {
  const text = stripBom(typeof body === 'string' ? body : body.toString('utf8'));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EmDecodeError(document, `is not valid JSON (${(err as Error).message})`, undefined, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EmDecodeError(document, `is a JSON ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}, expected an object`);
  }
  return value as Record<string, unknown>;
}
