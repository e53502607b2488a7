import type { X2jOptions } from 'fast-xml-parser';
import { EmDecodeError } from './EmDecodeError.js';

/**
 * The one place EM XML is parsed (design.md section 9.2). The result is a plain tree that has the
 * same shape as EM's JSON representation wherever it matters, so one set of mappers reads both
 * (see `emDecoders.ts`):
 *
 * - Namespace prefixes are stripped from every element and attribute name (`ns:QueryResult` ->
 *   `QueryResult`, `xsi:nil` -> `nil`), so a server that switched from the default namespace EM
 *   uses (`xmlns="http://www.veeam.com/ent/v1.0"`, docs/veeam-wire.md Part 1 section 4) to a prefixed one
 *   would decode the same ({@link localName}). Namespace declarations (`xmlns`, `xmlns:xsd`) stay as
 *   inert attributes of the root that no mapper reads.
 * - Attributes live under their own names, no prefix, exactly like EM JSON where "attributes become
 *   properties" (section 4). Safe because attribute and element names never collide within one EM
 *   type: entities carry attributes `Href Type Name UID` (+ `VmDisplayName`), links `Href Name Type Rel`,
 *   `PagingInfo` `PageNum PageSize PagesCount`, `Error` `Message StatusCode Status`; their child
 *   elements are `Links`, `JobType`, `CreationTimeUTC`, `FirstChanceExceptionMessage`... (sections
 *   3, 5, 6). Should a future EM add a colliding child, the attribute wins and the child is dropped
 *   (what fast-xml-parser, the parser this one replaced, did).
 * - Lists are forced to arrays from the declared {@link EM_XML_LIST_ELEMENTS}: one `<Link>` must be
 *   `[link]`, not `link`. Any other element that repeats becomes an array from its second occurrence.
 * - Every value stays a string: `Name="0123"`, `Name="true"`, `<Version>8.0</Version>` survive as
 *   sent. Numbers are converted explicitly by the mappers. An element with neither attributes nor
 *   children is its text (`''` when empty: `<Description />`); one with attributes or children is an
 *   object whose text, if any, is `#text`.
 * - Text is kept exactly, surrounding spaces included, except white-space-only text (the indentation
 *   between elements), which is dropped. Line ends are normalised (`\r\n` and a lone `\r` become
 *   `\n`) as XML requires; attribute values are otherwise kept as written.
 * - Entities are decoded exactly once by {@link unescapeXml}: `&amp;amp;` becomes `&amp;`. The five
 *   XML entities and numeric references (`&#39;`, `&#x2F;`, both used by EM, section 4) are
 *   decoded; DOCTYPE-declared entities are never expanded (EM sends no DOCTYPE; a body with one is
 *   rejected, which also shuts the door on entity-expansion attacks). CDATA is kept verbatim.
 * - Comments and processing instructions (the `<?xml ...?>` prolog) are skipped.
 *
 * Why a scanner of our own (bench/decode.ts): EM documents use a small, regular subset of XML, and
 * fast-xml-parser built an ordered tree, then a second one, with a path matcher, a regex per
 * attribute list and a callback per element and attribute on the way; this single pass builds the
 * final tree directly and is several times faster. It is stricter than fast-xml-parser on malformed
 * input (mismatched or unclosed end tags, unquoted attributes, text outside the root are errors) and
 * gives the same tree for every well-formed document (test/unit/emDecoders.test.ts compares the
 * two on generated documents).
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

/** Strip a UTF-8 byte order mark (EM JSON bodies start with one; XML might). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * fast-xml-parser hook for text nodes: white-space-only text becomes `''`, which the parser does not
 * store; any other text is kept exactly.
 */
function dropBlankText(_tagName: string, value: string): string {
  return isBlank(value, 0, value.length) ? '' : value;
}

/**
 * The fast-xml-parser (5.x) options under which it builds the same tree as {@link decodeEmXml} for
 * any well-formed document: what production used before the scanner below, kept as the reference
 * the tests compare the scanner with and the benchmark measures it against. Not used at run time.
 */
export const EM_XML_REFERENCE_OPTIONS: X2jOptions = {
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: false,
  transformTagName: localName,
  transformAttributeName: localName,
  parseTagValue: false,
  parseAttributeValue: false,
  // Not `trimValues: true`: fast-xml-parser trims attribute values with it, and EM names are data
  // (a VM named ` spaced ` has `VmDisplayName=" spaced "`; JSON keeps the spaces, so XML must too).
  trimValues: false,
  tagValueProcessor: dropBlankText,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  entityDecoder: {
    setExternalEntities: () => undefined,
    addInputEntities: () => undefined,
    reset: () => undefined,
    setXmlVersion: () => undefined,
    decode: unescapeXml,
  },
  jPath: false,
  isArray: (tagName, _matcher, _isLeaf, isAttribute) => !isAttribute && EM_XML_LIST_ELEMENTS.has(tagName),
};

// ------------------------------------------------------------------------------------------ scanner

/** A name as the tree uses it, computed once per distinct spelling. */
interface NameInfo {
  /** The name as written (`v1:Link`, `xmlns:xsd`). */
  raw: string;
  /** Property name: local name, renamed when it would shadow an Object.prototype method. */
  key: string;
  /** Always a list ({@link EM_XML_LIST_ELEMENTS}). */
  list: boolean;
  /** `key` exists on Object.prototype, so presence is checked with Object.hasOwn. */
  inherited: boolean;
}

/** Names that would reach the prototype chain: refused, as fast-xml-parser did. */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Object.prototype methods a name must not shadow: stored as `__<name>`, as fast-xml-parser did. */
const RENAMED_NAMES: ReadonlySet<string> = new Set([
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/**
 * The canonical (internalized) copy of a string, as property names are stored: property stores with
 * it need no string-table lookup, and it holds no reference to the document it was cut from.
 */
function intern(s: string): string {
  return Object.keys({ [s]: 0 })[0] as string;
}

function makeNameInfo(raw: string): NameInfo {
  let key = localName(raw);
  if (FORBIDDEN_NAMES.has(key)) throw new SyntaxError(`the name "${key}" is not allowed`);
  if (RENAMED_NAMES.has(key)) key = `__${key}`;
  return { raw: intern(raw), key: intern(key), list: EM_XML_LIST_ELEMENTS.has(key), inherited: key in Object.prototype };
}

/**
 * Names seen recently, in slots hashed from the length and three characters of the name. A hit is
 * confirmed character by character, so a name costs no substring and no map lookup once seen; a
 * collision only means computing the name again. EM documents use a few dozen names.
 */
const NAME_SLOTS = 1024;
const nameSlots: (NameInfo | undefined)[] = new Array<NameInfo | undefined>(NAME_SLOTS).fill(undefined);

function nameAt(doc: string, start: number, end: number): NameInfo {
  const n = end - start;
  const slot = (n * 31 + doc.charCodeAt(start) * 7 + doc.charCodeAt(start + (n >> 1)) * 3 + doc.charCodeAt(end - 1)) & (NAME_SLOTS - 1);
  const seen = nameSlots[slot];
  if (seen !== undefined && seen.raw.length === n && sameText(doc, start, seen.raw)) return seen;
  const info = makeNameInfo(doc.slice(start, end));
  nameSlots[slot] = info;
  return info;
}

/** Whether `doc` holds `text` at `at`. */
function sameText(doc: string, at: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) if (doc.charCodeAt(at + k) !== text.charCodeAt(k)) return false;
  return true;
}

/** Element nesting beyond this is refused (fast-xml-parser's `maxNestedTags`). */
const MAX_DEPTH = 100;

/** An open element. Frames are reused by depth, so a page allocates only the tree itself. */
class Frame {
  info: NameInfo | undefined = undefined;
  /** Attributes and children, created on first need. */
  node: Record<string, unknown> | undefined = undefined;
  /** Attribute keys, the first `attrCount` (for the attribute-wins rule on a colliding child). */
  readonly attrs: string[] = [];
  attrCount = 0;
  /** Non-blank text so far. */
  text: string | undefined = undefined;
}

/** Input that ends inside markup or with elements open: the body was cut (reported as truncated). */
class Truncated extends Error {}

const CR_RUN = /\r\n?/g;

function isBlank(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return false;
  }
  return true;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** XML name start: letter, `_`, `:` or any non-ASCII character (the XML rules, loosely). */
function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58 || c >= 0x80;
}

/** Position of the next `char` at or after `from`, or the length of `doc` when there is none. */
function nextIndex(doc: string, char: string, from: number): number {
  const at = doc.indexOf(char, from);
  return at === -1 ? doc.length : at;
}

/** Add a finished child to its parent, lists as arrays, repeats as arrays, attributes winning over children. */
function addChild(parent: Frame, info: NameInfo, value: unknown): void {
  const node = (parent.node ??= {});
  const key = info.key;
  const existing = info.inherited ? (Object.hasOwn(node, key) ? node[key] : undefined) : node[key];
  if (existing === undefined) {
    node[key] = info.list ? [value] : value;
  } else if (parent.attrCount > 0 && isAttribute(parent, key)) {
    // the attribute wins
  } else if (Array.isArray(existing)) {
    existing.push(value);
  } else {
    node[key] = [existing, value];
  }
}

function isAttribute(frame: Frame, key: string): boolean {
  for (let k = 0; k < frame.attrCount; k++) if (frame.attrs[k] === key) return true;
  return false;
}

/** Append decoded text to the open element; text outside the root is an error, blank text is dropped. */
function addText(frame: Frame, depth: number, text: string): void {
  if (isBlank(text, 0, text.length)) return;
  if (depth === 0) throw new SyntaxError('text outside the root element');
  frame.text = frame.text === undefined ? text : frame.text + text;
}

/**
 * Parse a whole document into a tree (top level: root name -> content). Input must already be free
 * of a BOM and known not to hold a DOCTYPE.
 *
 * @throws {Truncated} when the input ends inside markup or with elements open
 * @throws {SyntaxError} on any other malformed input
 */
function scan(doc: string): Record<string, unknown> {
  const len = doc.length;
  // Where the next `\r` and `&` are: a value needs line-end normalisation or entity decoding only
  // when one falls inside it, which these two cursors tell without searching every value.
  let nextCr = nextIndex(doc, '\r', 0);
  let nextAmp = nextIndex(doc, '&', 0);
  const top = new Frame();
  const frames: Frame[] = [top];
  let depth = 0;
  let frame = top;
  // The pending text run is doc[textStart, i) (plus textHead when a comment split it: text around a
  // comment is one run, as if the comment were not there). `blank` says the run is white space only.
  let textStart = 0;
  let textHead = '';
  let blank = true;

  let i = doc.indexOf('<');
  if (i === -1) i = len;
  else blank = isBlank(doc, 0, i);
  while (i < len) {
    // doc[i] is '<'. First close the pending text run, unless a comment continues it.
    const c1 = doc.charCodeAt(i + 1);
    const comment = c1 === 33 && doc.startsWith('!--', i + 1);
    if (comment || !blank || textHead !== '') {
      let text = doc.slice(textStart, i);
      if (nextCr < textStart) nextCr = nextIndex(doc, '\r', textStart);
      if (nextCr < i) text = text.replace(CR_RUN, '\n');
      if (comment) textHead += text;
      else {
        if (nextAmp < textStart) nextAmp = nextIndex(doc, '&', textStart);
        addText(frame, depth, nextAmp < i || textHead !== '' ? unescapeXml(textHead + text) : text);
        textHead = '';
      }
    }

    if (comment) {
      const end = doc.indexOf('-->', i + 4);
      if (end === -1) throw new Truncated();
      i = end + 3;
    } else if (c1 === 47 /* / */) {
      // End tag: must name the open element.
      if (depth === 0) throw new SyntaxError('an end tag without a start tag');
      const info = frame.info as NameInfo;
      const raw = info.raw;
      let j = i + 2 + raw.length;
      if (j > len || !sameText(doc, i + 2, raw)) {
        if (doc.indexOf('>', i) === -1) throw new Truncated();
        throw new SyntaxError(`end tag does not match <${raw}>`);
      }
      while (j < len && isSpace(doc.charCodeAt(j))) j++;
      if (j >= len) throw new Truncated();
      if (doc.charCodeAt(j) !== 62) throw new SyntaxError(`end tag does not match <${raw}>`);
      const node = frame.node;
      let value: unknown;
      if (node === undefined) value = frame.text ?? '';
      else {
        if (frame.text !== undefined) node['#text'] = frame.text;
        value = node;
      }
      depth--;
      frame = frames[depth] as Frame;
      addChild(frame, info, value);
      i = j + 1;
    } else if (c1 === 33 /* ! */) {
      if (!doc.startsWith('![CDATA[', i + 1)) throw new SyntaxError('markup declarations are not supported');
      const end = doc.indexOf(']]>', i + 9);
      if (end === -1) throw new Truncated();
      // CDATA is text as written: no entity decoding.
      let text = doc.slice(i + 9, end);
      if (nextCr < i) nextCr = nextIndex(doc, '\r', i);
      if (nextCr < end) text = text.replace(CR_RUN, '\n');
      addText(frame, depth, text);
      i = end + 3;
    } else if (c1 === 63 /* ? */) {
      // Processing instruction or the prolog: skipped.
      const end = doc.indexOf('?>', i + 2);
      if (end === -1) throw new Truncated();
      i = end + 2;
    } else {
      // Start tag: name, attributes, `>` or `/>`.
      if (i + 1 >= len) throw new Truncated();
      if (!isNameStart(c1)) throw new SyntaxError('a "<" that starts no tag');
      let j = i + 2;
      while (j < len) {
        const c = doc.charCodeAt(j);
        if (c === 62 || c === 47 || isSpace(c)) break;
        j++;
      }
      const info = nameAt(doc, i + 1, j);
      // The frame this element gets if it has content; its attribute list is filled as we go.
      let next = frames[depth + 1];
      if (next === undefined) {
        next = new Frame();
        frames.push(next);
      }
      const attrs = next.attrs;
      let attrCount = 0;
      let node: Record<string, unknown> | undefined;
      let selfClosing = false;
      for (;;) {
        while (j < len && isSpace(doc.charCodeAt(j))) j++;
        if (j >= len) throw new Truncated();
        const c = doc.charCodeAt(j);
        if (c === 62 /* > */) {
          j++;
          break;
        }
        if (c === 47 /* / */) {
          if (j + 1 >= len) throw new Truncated();
          if (doc.charCodeAt(j + 1) !== 62) throw new SyntaxError(`<${info.raw}> has a "/" that does not end it`);
          selfClosing = true;
          j += 2;
          break;
        }
        if (!isNameStart(c)) throw new SyntaxError(`<${info.raw}> has a malformed attribute`);
        const nameStart = j;
        while (j < len) {
          const d = doc.charCodeAt(j);
          if (d === 61 || d === 62 || d === 47 || isSpace(d)) break;
          j++;
        }
        const attr = nameAt(doc, nameStart, j);
        while (j < len && isSpace(doc.charCodeAt(j))) j++;
        if (j >= len) throw new Truncated();
        if (doc.charCodeAt(j) !== 61 /* = */) throw new SyntaxError(`<${info.raw}> attribute ${attr.raw} has no value`);
        j++;
        while (j < len && isSpace(doc.charCodeAt(j))) j++;
        if (j >= len) throw new Truncated();
        const quote = doc.charCodeAt(j);
        if (quote !== 34 && quote !== 39) throw new SyntaxError(`<${info.raw}> attribute ${attr.raw} is not quoted`);
        const close = doc.indexOf(quote === 34 ? '"' : "'", j + 1);
        if (close === -1) throw new Truncated();
        // A repeated attribute (`a:Name`, `b:Name`): the last one wins.
        let value = doc.slice(j + 1, close);
        if (nextCr < j) nextCr = nextIndex(doc, '\r', j);
        if (nextCr < close) value = value.replace(CR_RUN, '\n');
        if (nextAmp < j) nextAmp = nextIndex(doc, '&', j);
        (node ??= {})[attr.key] = nextAmp < close ? unescapeXml(value) : value;
        attrs[attrCount++] = attr.key;
        j = close + 1;
      }
      if (selfClosing) {
        addChild(frame, info, node ?? '');
      } else {
        if (depth >= MAX_DEPTH) throw new SyntaxError(`elements nest deeper than ${MAX_DEPTH}`);
        depth++;
        next.info = info;
        next.node = node;
        next.attrCount = attrCount;
        next.text = undefined;
        frame = next;
      }
      i = j;
    }

    // Text up to the next '<'; white space (indentation) is skipped without taking a substring.
    textStart = i;
    blank = true;
    while (i < len) {
      const c = doc.charCodeAt(i);
      if (c === 60) break;
      if (!isSpace(c)) {
        blank = false;
        i = doc.indexOf('<', i);
        if (i === -1) i = len;
        break;
      }
      i++;
    }
  }
  if (!blank || textHead !== '') addText(frame, depth, unescapeXml(textHead + doc.slice(textStart, len).replace(CR_RUN, '\n')));
  if (depth > 0) throw new Truncated();
  return top.node ?? {};
}

/** Tail check per root name, e.g. `</(?:prefix:)?QueryResult\s*>$`. */
const endTags = new Map<string, RegExp>();

/**
 * The last thing in a complete document is the root's end tag (or the `/>` of an empty root): a
 * body cut by a dying connection or a proxy is the malformed body we actually meet. The scanner
 * already refuses a body that ends with elements open; this also refuses anything after the root
 * (a comment, a processing instruction). Checking the tail is O(1).
 */
function assertComplete(text: string, root: string, node: Record<string, unknown>): void {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) <= 32) end--;
  const tail = text.slice(Math.max(0, end - root.length - 80), end);
  let endTag = endTags.get(root);
  if (endTag === undefined) {
    endTag = new RegExp(`</(?:[^\\s<>/:]+:)?${root}\\s*>$`);
    if (endTags.size < 100) endTags.set(root, endTag);
  }
  if (endTag.test(tail)) return;
  const onlyAttributes = Object.values(node).every((v) => typeof v === 'string');
  if (tail.endsWith('/>') && onlyAttributes) return;
  throw new EmDecodeError(root, 'is truncated or malformed: the document does not end with its root end tag');
}

/**
 * Whether `<!DOCTYPE` occurs anywhere in the text. Searching for the rare `!` first is an order of
 * magnitude faster than a substring search led by the frequent `<`.
 */
function hasDoctype(text: string): boolean {
  for (let at = text.indexOf('!'); at !== -1; at = text.indexOf('!', at + 1)) {
    if (at > 0 && text.charCodeAt(at - 1) === 60 && text.startsWith('DOCTYPE', at + 1)) return true;
  }
  return false;
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
  if (start === -1 || text.slice(0, start).trim() !== '') throw new EmDecodeError(document, 'is not XML');
  if (hasDoctype(text)) throw new EmDecodeError(document, 'declares a DOCTYPE, which EM never sends');
  let parsed: Record<string, unknown>;
  try {
    parsed = scan(text);
  } catch (err) {
    if (err instanceof Truncated) {
      throw new EmDecodeError(document, 'is truncated or malformed: the document ends inside markup or with elements open', undefined, { cause: err });
    }
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
