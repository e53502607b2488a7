import { XMLParser, type X2jOptions } from 'fast-xml-parser';
import { EmDecodeError } from './EmDecodeError.js';

/**
 * The one place EM XML is parsed (design.md section 9.2). The result is a plain tree that has the
 * same shape as EM's JSON representation wherever it matters, so one set of mappers reads both
 * (see `emDecoders.ts`):
 *
 * - Namespace prefixes are stripped from every element and attribute name (`ns:QueryResult` ->
 *   `QueryResult`, `xsi:nil` -> `nil`), so a server that switched from the default namespace EM
 *   uses (`xmlns="http://www.veeam.com/ent/v1.0"`, docs/veeam-wire.md Part 1 section 4) to a prefixed one
 *   would decode the same. Done by {@link localName} in `transformTagName`/`transformAttributeName`
 *   rather than fast-xml-parser's `removeNSPrefix`, which splits every attribute name into an array
 *   twice and cost ~25% of parse time (bench/decode.ts). Namespace declarations (`xmlns`,
 *   `xmlns:xsd`) stay as inert attributes of the root that no mapper reads.
 * - Attributes live under their own names, no prefix, exactly like EM JSON where "attributes become
 *   properties" (section 4). Safe because attribute and element names never collide within one EM
 *   type: entities carry attributes `Href Type Name UID` (+ `VmDisplayName`), links `Href Name Type Rel`,
 *   `PagingInfo` `PageNum PageSize PagesCount`, `Error` `Message StatusCode Status`; their child
 *   elements are `Links`, `JobType`, `CreationTimeUTC`, `FirstChanceExceptionMessage`... (sections
 *   3, 5, 6). Should a future EM add a colliding child, fast-xml-parser turns the property into an
 *   array and the mappers' scalar reader rejects it with a decode error instead of guessing.
 * - Lists are forced to arrays from the declared {@link EM_XML_LIST_ELEMENTS}: one `<Link>` must be
 *   `[link]`, not `link`.
 * - Every value stays a string (`parseTagValue: false`, `parseAttributeValue: false`):
 *   `Name="0123"`, `Name="true"`, `<Version>8.0</Version>` survive as sent. Numbers are converted
 *   explicitly by the mappers.
 * - Entities are decoded exactly once by {@link unescapeXml}: `&amp;amp;` becomes `&amp;`. The five
 *   XML entities and numeric references (`&#39;`, `&#x2F;`, both used by EM, section 4) are
 *   decoded; DOCTYPE-declared entities are never expanded (EM sends no DOCTYPE; a body with one is
 *   rejected, which also shuts the door on entity-expansion attacks).
 */

/** Root element and its content. */
export interface EmXmlDocument {
  /** Local name of the root element (`QueryResult`, `RestoreSession`, `Error`...). */
  root: string;
  /** The root element's attributes and children. */
  node: Record<string, unknown>;
}

/**
 * Element names that are always lists in EM documents, whatever their count. Names rather than
 * paths: each is a list item wherever it appears (entity collections `<RestoreSessions>
 * <RestoreSession>` inside `QueryResult/Entities` and at the top of `?format=Entity` collection
 * responses; `<Refs><Ref>`; `<Links><Link>`). A root element that happens to be in the set (a single
 * `<RestoreSession>` document) is unwrapped by {@link decodeEmXml}.
 */
export const EM_XML_LIST_ELEMENTS: ReadonlySet<string> = new Set([
  'Link',
  'Ref',
  'EntityRef',
  'RestoreSession',
  'BackupServer',
  'VmRestorePoint',
  'RestorePoint',
  'Backup',
  'BackupJobSession',
  'BackupTaskSession',
  'Job',
  'Repository',
  'SupportedVersion',
  'LogonSession',
]);

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g;

function decodeEntity(whole: string, ref: string): string {
  if (ref.charCodeAt(0) === 35 /* # */) {
    const code = ref.charCodeAt(1) === 120 /* x */ ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    // Out-of-range or NUL references are left as text rather than throwing on a whole page.
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  }
  return NAMED_ENTITIES[ref] ?? whole;
}

/**
 * Decode XML character and entity references exactly once, in a single left-to-right pass, so
 * `&amp;lt;` yields `&lt;` (never `<`). Unknown named entities are kept verbatim.
 *
 * @param text raw attribute or text value
 * @returns the decoded value (the same string when it holds no `&`)
 */
export function unescapeXml(text: string): string {
  return text.indexOf('&') === -1 ? text : text.replace(ENTITY, decodeEntity);
}

/** fast-xml-parser hook: our single-pass decoder instead of its own (which skips numeric references). */
const entityDecoder: NonNullable<X2jOptions['entityDecoder']> = {
  setExternalEntities: () => undefined,
  addInputEntities: () => undefined,
  reset: () => undefined,
  setXmlVersion: () => undefined,
  decode: unescapeXml,
};

/**
 * Local part of a qualified name: `v1:Link` -> `Link`. Namespace declarations (`xmlns:xsd`) are
 * left whole so they cannot turn into a property named like a real attribute.
 *
 * @param name element or attribute name as written
 */
export function localName(name: string): string {
  const colon = name.indexOf(':');
  if (colon === -1 || name.startsWith('xmlns')) return name;
  return name.slice(colon + 1);
}

/**
 * fast-xml-parser hook for text nodes: white-space-only text (the indentation between elements)
 * becomes `''`, which the parser does not store; any other text is kept exactly, surrounding
 * spaces included.
 */
function dropBlankText(_tagName: string, value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return value;
  }
  return '';
}

/**
 * Parser options, exported so the benchmark measures exactly what production runs. Speed notes
 * (bench/decode.ts, numbers in bench/results/decode.json):
 * - prefixes stripped by {@link localName} instead of `removeNSPrefix` (see above);
 * - `jPath: false`: with the default `true` the parser builds a path string for every element,
 *   attribute and text node to pass to callbacks; we pass a matcher and read only the tag name;
 * - no value processing (`parseTagValue`/`parseAttributeValue` false; identity processors are the defaults);
 * - `ignoreDeclaration`, no comments, no CDATA property;
 * - entity decoding by our single-pass `unescapeXml`, which returns at once for values without `&`.
 */
export const EM_XML_PARSER_OPTIONS: X2jOptions = {
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: false,
  transformTagName: localName,
  transformAttributeName: localName,
  parseTagValue: false,
  parseAttributeValue: false,
  // Not `trimValues: true`: fast-xml-parser trims attribute values with it, and EM names are data
  // (a VM named ` spaced ` has `VmDisplayName=" spaced "`; JSON keeps the spaces, so XML must too).
  // Indentation between elements is dropped by `dropBlankText` instead.
  trimValues: false,
  tagValueProcessor: dropBlankText,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  entityDecoder,
  jPath: false,
  isArray: (tagName, _matcher, _isLeaf, isAttribute) => !isAttribute && EM_XML_LIST_ELEMENTS.has(tagName),
};

const parser = new XMLParser(EM_XML_PARSER_OPTIONS);

/** Strip a UTF-8 byte order mark (EM JSON bodies start with one; XML might). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The last thing in a complete document is the root's end tag (or the `/>` of an empty root).
 * fast-xml-parser is lenient about truncation (`<a><b>` parses), and a body cut by a dying
 * connection or a proxy is the malformed body we actually meet; checking the tail is O(1).
 */
function assertComplete(text: string, root: string, node: Record<string, unknown>): void {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) <= 32) end--;
  const tail = text.slice(Math.max(0, end - root.length - 80), end);
  if (new RegExp(`</(?:[^\\s<>/:]+:)?${root}\\s*>$`).test(tail)) return;
  const onlyAttributes = Object.values(node).every((v) => typeof v === 'string');
  if (tail.endsWith('/>') && onlyAttributes) return;
  throw new EmDecodeError(root, 'is truncated or malformed: the document does not end with its root end tag');
}

/**
 * Parse an EM XML body into its root name and a plain tree (attributes and children by name, lists
 * as arrays, all values strings, entities decoded once).
 *
 * @param body response body, text or UTF-8 bytes; a leading BOM is ignored
 * @param document document name for error messages until the root is known (`QueryResult`...)
 * @returns the root element name and content
 * @throws {EmDecodeError} when the body is not XML, declares a DOCTYPE, has no single root element,
 *   or is truncated
 */
export function decodeEmXml(body: string | Buffer, document = 'document'): EmXmlDocument {
  const text = stripBom(typeof body === 'string' ? body : body.toString('utf8'));
  const start = text.indexOf('<');
  if (start === -1 || text.slice(0, start).trim() !== '') {
    throw new EmDecodeError(document, 'is not XML');
  }
  if (text.includes('<!DOCTYPE')) throw new EmDecodeError(document, 'declares a DOCTYPE, which EM never sends');
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new EmDecodeError(document, `is not well-formed XML (${(err as Error).message})`, undefined, { cause: err });
  }
  const roots = Object.keys(parsed);
  if (roots.length !== 1) throw new EmDecodeError(document, roots.length === 0 ? 'has no root element' : `has ${roots.length} root elements`);
  const root = roots[0] as string;
  let node = parsed[root];
  if (Array.isArray(node)) {
    if (node.length !== 1) throw new EmDecodeError(root, `appears ${node.length} times at the top level`);
    node = node[0];
  }
  const content: Record<string, unknown> = typeof node === 'object' && node !== null ? (node as Record<string, unknown>) : {};
  assertComplete(text, root, content);
  return { root, node: content };
}
