import { badUserInput } from './badUserInput.js';

/**
 * Bounds on what a caller may hand the graph, checked before any upstream call: a value over its
 * bound is `BAD_USER_INPUT`, never a request that fails on (or burdens) a Veeam server. Documented in
 * the README ("Limits"); `MAX_ID_LENGTH` (global ids) lives in `globalId.ts`, the cursor bound in
 * `cursor.ts`, the request body bound in `src/server/requestBodyLimit.ts`.
 */

/**
 * Longest `vmName` of a filter, in characters. EM documents the `VmDisplayName` filter field as a
 * plain string without a maximum (docs/veeam-wire.md section 5, "Query filter fields"
 * [D:get_query_restoresession]; the maximum filter or URL length is listed as unconfirmed). The
 * names come from the hypervisor, and vSphere caps a VM name at 80 characters (VMware KB 2051649),
 * so 256 leaves room for any real name while keeping the quoted, percent-encoded filter far inside
 * the 8000-character URL budget of the EM client.
 */
export const MAX_NAME_FILTER_LENGTH = 256;

/** Longest name in a filter's `sources`: a configured server name is at most 63 characters (src/config/configSchema.ts). */
export const MAX_SOURCE_NAME_LENGTH = 63;

/** How many unknown names an error message lists (the rest are counted, not echoed). */
const MAX_ECHOED = 5;

/** A value for an error message: JSON-quoted, cut after 80 characters. */
export function echo(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

/**
 * A UTF-16 surrogate that is not half of a pair: in a `u` regex a well-formed pair (an emoji, any
 * astral character) is one code point outside `Cs`, so only a lone high, a lone low or a reversed
 * pair (two lone halves) matches. (`String.prototype.isWellFormed` is ES2024; the TS lib is ES2023.)
 */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A user string that is well-formed UTF-16 text, else `BAD_USER_INPUT` naming the argument
 * (`extensions.argumentName`). A JSON body can carry a lone surrogate (`"A\\udfff"`), and GraphQL
 * hands it on as is; but no upstream request can: `URLSearchParams` (the EM client's query string)
 * and `Buffer`/`TextEncoder` (JSON bodies) silently send U+FFFD instead, and `encodeURIComponent`
 * throws. `vmName: "A\udfff"` would then ask EM for `A\ufffd` and answer with another VM's
 * sessions; refused here, before any upstream call, it asks nothing.
 */
export function wellFormedString(value: string, argumentName: string): string {
  const at = value.search(LONE_SURROGATE);
  if (at < 0) return value;
  const unit = value.charCodeAt(at).toString(16).toUpperCase();
  throw badUserInput(`${argumentName} holds a lone UTF-16 surrogate (U+${unit}), which is not text: ${echo(value)}.`, { argumentName });
}

/**
 * A user string of at most `max` characters and well-formed (`wellFormedString`), else
 * `BAD_USER_INPUT` naming the argument, its length and the bound (`extensions.argumentName`,
 * `maxLength`). Every free-text input goes through here (`filter.vmName`, `filter.sources`); ids
 * and cursors are strict base64url of valid UTF-8 (`base64url.ts`) and DateTimes ASCII, so none of
 * them can hold a lone surrogate.
 */
export function boundedString(value: string, argumentName: string, max: number): string {
  // Characters are Unicode code points; they never outnumber UTF-16 code units, so only a long string is counted.
  if (value.length > max) {
    let length = 0;
    for (const _ of value) length++;
    if (length > max)
      throw badUserInput(`${argumentName} is ${length} characters long, over the maximum of ${max}: ${echo(value)}.`, { argumentName, maxLength: max });
  }
  return wellFormedString(value, argumentName);
}

/** A list of names for an error message: at most a few, the rest counted. */
export function echoList(values: readonly string[]): string {
  const shown = values.slice(0, MAX_ECHOED).map(echo).join(', ');
  return values.length > MAX_ECHOED ? `${shown} and ${values.length - MAX_ECHOED} more` : shown;
}
