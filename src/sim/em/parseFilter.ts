/** The comparison operators of the EM query service ([D:query_comparison]). */
export type FilterOp = '==' | '!=' | '<' | '>' | '<=' | '>=';

export type FilterNode =
  | { kind: 'or'; items: FilterNode[] }
  | { kind: 'and'; items: FilterNode[] }
  | { kind: 'cmp'; field: string; op: FilterOp; value: string; quoted: boolean; position: number };

/** A filter the grammar rejects; `position` is the 0-based offset in the decoded filter text. */
export class FilterSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`Invalid filter at position ${position}: ${message}`);
    this.name = 'FilterSyntaxError';
  }
}

const WS = /\s/;
const FIELD_CHAR = /[A-Za-z0-9_.]/;

/**
 * Parses the `filter` query parameter (already percent-decoded, so `+` has become a space).
 *
 * Grammar ([D:filter][D:query_comparison][D:query_and_or][D:query_grouping], docs/veeam-wire.md Part 1 section 5):
 * ```
 * or         := and ("," and)*
 * and        := term (";" term)*
 * term       := "(" or ")" | comparison
 * comparison := field op value          op: == != <= >= < >
 * value      := '"' ( any char but '"' | '""' )* '"'  |  bare characters up to ; , ) or the end
 * ```
 * Choices the docs leave open (UNCONFIRMED, docs/veeam-wire.md "UNCONFIRMED summary"):
 * - `;` (AND) binds tighter than `,` (OR), as in SQL, which EM translates filters into; the docs only
 *   show both mixed inside parentheses.
 * - A quoted value protects `; , ( ) ==` and spaces; a doubled `""` stands for one `"` ([D:optional_query_parameters]).
 * - A bare value loses all its whitespace: "strings with spaces must be in double quotes, else spaces are
 *   ignored" ([D:optional_query_parameters]).
 * - An empty bare value, a stray character after a quoted value and unbalanced parentheses are errors.
 */
export function parseFilter(text: string): FilterNode {
  const p = new Parser(text);
  const node = p.parseOr();
  p.skipWs();
  if (!p.atEnd()) {
    throw new FilterSyntaxError(p.peek() === ')' ? 'unbalanced ")"' : `unexpected character "${p.peek()}"`, p.pos);
  }
  return node;
}

class Parser {
  pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  skipWs(): void {
    while (this.pos < this.text.length && WS.test(this.text[this.pos]!)) this.pos++;
  }

  parseOr(): FilterNode {
    const items = [this.parseAnd()];
    for (;;) {
      this.skipWs();
      if (this.peek() !== ',') break;
      this.pos++;
      items.push(this.parseAnd());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  parseAnd(): FilterNode {
    const items = [this.parseTerm()];
    for (;;) {
      this.skipWs();
      if (this.peek() !== ';') break;
      this.pos++;
      items.push(this.parseTerm());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  parseTerm(): FilterNode {
    this.skipWs();
    if (this.peek() === '(') {
      const open = this.pos;
      this.pos++;
      const inner = this.parseOr();
      this.skipWs();
      if (this.peek() !== ')') throw new FilterSyntaxError('missing ")" for the "(" at position ' + open, this.pos);
      this.pos++;
      return inner;
    }
    return this.parseComparison();
  }

  parseComparison(): FilterNode {
    this.skipWs();
    const position = this.pos;
    const start = this.pos;
    while (this.pos < this.text.length && FIELD_CHAR.test(this.text[this.pos]!)) this.pos++;
    const field = this.text.slice(start, this.pos);
    if (!field) {
      throw new FilterSyntaxError(
        this.atEnd() ? 'expected a field name, found the end of the filter' : `expected a field name, found "${this.peek()}"`,
        this.pos,
      );
    }
    this.skipWs();
    const op = this.parseOp(field);
    this.skipWs();
    if (this.peek() === '"') {
      const value = this.parseQuoted();
      this.skipWs();
      if (!this.atEnd() && !';,)'.includes(this.peek())) {
        throw new FilterSyntaxError(`unexpected character "${this.peek()}" after the quoted value of "${field}"`, this.pos);
      }
      return { kind: 'cmp', field, op, value, quoted: true, position };
    }
    const valueStart = this.pos;
    while (this.pos < this.text.length && !';,)'.includes(this.text[this.pos]!)) {
      if (this.text[this.pos] === '"')
        throw new FilterSyntaxError('a quote inside an unquoted value; quote the whole value and double the inner quote', this.pos);
      this.pos++;
    }
    const value = this.text.slice(valueStart, this.pos).replace(/\s+/g, '');
    if (!value) throw new FilterSyntaxError(`missing value after "${field}${op}"`, valueStart);
    return { kind: 'cmp', field, op, value, quoted: false, position };
  }

  parseOp(field: string): FilterOp {
    const two = this.text.slice(this.pos, this.pos + 2);
    if (two === '==' || two === '!=' || two === '<=' || two === '>=') {
      this.pos += 2;
      return two;
    }
    const one = this.peek();
    if (one === '<' || one === '>') {
      this.pos++;
      return one;
    }
    throw new FilterSyntaxError(`expected a comparison operator (==, !=, <, >, <=, >=) after "${field}"`, this.pos);
  }

  parseQuoted(): string {
    const open = this.pos;
    this.pos++;
    let value = '';
    for (;;) {
      const next = this.text.indexOf('"', this.pos);
      if (next < 0) throw new FilterSyntaxError('unterminated quoted value', open);
      value += this.text.slice(this.pos, next);
      if (this.text[next + 1] === '"') {
        value += '"';
        this.pos = next + 2;
        continue;
      }
      this.pos = next + 1;
      return value;
    }
  }
}
