const NEEDS_ESCAPE = /[&<>"]/;
const ESCAPE_ALL = /[&<>"]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * The one escape function of the EM simulator, for attribute values and text alike. EM escapes
 * `& < > "` (docs/veeam-wire.md Part 1 section 4, [D:special_symbols]); PagingInfo hrefs therefore carry `&amp;`.
 */
export function escapeXml(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ENTITIES[c]!) : text;
}
