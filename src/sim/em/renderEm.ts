import { escapeXml } from './escapeXml.js';

/** The EM XML namespace and the two schema namespaces real servers also declare (docs/veeam-wire.md Part 1 section 4). */
export const EM_NAMESPACE = 'http://www.veeam.com/ent/v1.0';
const ROOT_NAMESPACES = ` xmlns="${EM_NAMESPACE}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`;
const PROLOG = '<?xml version="1.0" encoding="utf-8"?>\n';

/** An attribute value; `undefined` means absent: omitted in XML, `null` in JSON ("nulls printed", docs/veeam-wire.md Part 1 section 4). */
export type EmAttrValue = string | number | undefined;

/**
 * A neutral element tree built per response (per page only), serialised to XML or JSON by the same
 * code so the two representations cannot drift apart. Names are the wire names (PascalCase).
 */
export interface EmNode {
  name: string;
  /** In wire order. */
  attrs?: readonly (readonly [string, EmAttrValue])[];
  children?: EmNode[];
  /**
   * Leaf text. `null` = optional element that is absent: omitted in XML, `null` in JSON.
   * Numbers and booleans stay typed in JSON (`"Progress":0`, `"Port":9392`).
   */
  value?: string | number | boolean | null;
  /**
   * How the children appear in JSON. `'array'`: the element itself is a bare array (`"Links":[…]`).
   * A property name: the element is an object holding that array, which gives EM's doubled plural
   * (`"RestoreSessions":{"RestoreSessions":[…]}`) and the root list form (`{"Refs":[…]}`)
   * (docs/veeam-wire.md Part 1 sections 4 and 5).
   */
  list?: 'array' | string;
}

/** A `<Link>`; `Name` and `Type` are optional ([D:attributes_of_a_link_element]). Attribute order as in the docs. */
export function link(rel: string, href: string, type?: string, name?: string): EmNode {
  return {
    name: 'Link',
    attrs: [
      ['Rel', rel],
      ['Type', type],
      ['Href', href],
      ['Name', name],
    ],
  };
}

export function links(items: EmNode[]): EmNode {
  return { name: 'Links', children: items, list: 'array' };
}

export function leaf(name: string, value: string | number | boolean | null): EmNode {
  return { name, value };
}

/** The whole XML document: prolog, namespaces on the root, two-space indentation like the documented samples. */
export function renderXml(root: EmNode): string {
  const out: string[] = [PROLOG];
  writeXml(root, out, '', true);
  return out.join('');
}

function writeXml(node: EmNode, out: string[], indent: string, isRoot: boolean): void {
  if (node.value === null) return;
  let open = `${indent}<${node.name}`;
  if (node.attrs) {
    for (const [k, v] of node.attrs) if (v !== undefined) open += ` ${k}="${escapeXml(String(v))}"`;
  }
  if (isRoot) open += ROOT_NAMESPACES;
  if (node.value !== undefined) {
    const text = String(node.value);
    // .NET's serializer writes an empty string element as `<Description />` (BackupServer sample, docs/veeam-wire.md Part 1 section 6).
    out.push(text === '' ? `${open} />\n` : `${open}>${escapeXml(text)}</${node.name}>\n`);
    return;
  }
  const children = node.children;
  if (!children || children.length === 0) {
    out.push(`${open} />\n`);
    return;
  }
  out.push(`${open}>\n`);
  const inner = `${indent}  `;
  for (const c of children) writeXml(c, out, inner, false);
  out.push(`${indent}</${node.name}>\n`);
}

/** JSON text of the root (the root's own name is not part of EM JSON), without the BOM. */
export function renderJson(root: EmNode): string {
  return JSON.stringify(toJson(root));
}

function toJson(node: EmNode): unknown {
  if (node.list === 'array') return (node.children ?? []).map(toJson);
  if (node.value !== undefined) return node.value;
  const obj: Record<string, unknown> = {};
  if (node.list !== undefined) obj[node.list] = (node.children ?? []).map(toJson);
  else for (const c of node.children ?? []) obj[c.name] = toJson(c);
  if (node.attrs) for (const [k, v] of node.attrs) obj[k] = v === undefined ? null : v;
  return obj;
}
