import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import { AllowlistError, loadAllowlist } from '../../src/server/operations/loadAllowlist.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const HELLO = 'query Hello { hello }';
const WORLD = 'query World($n: Int) {\n  world(n: $n) {\n    name\n  }\n}';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vg-allowlist-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `content` (JSON-encoded unless a string) to `name` in the temp dir and returns its path. */
async function file(name: string, content: unknown): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
}

/** The message of loadAllowlist's rejection, which must be an AllowlistError. */
async function failure(p: string): Promise<AllowlistError> {
  const err = await loadAllowlist(p).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AllowlistError);
  return err as AllowlistError;
}

function manifest(operations: unknown[]): unknown {
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

describe('loadAllowlist formats', () => {
  it("reads Apollo's persisted query manifest", async () => {
    const list = await loadAllowlist(
      await file(
        'manifest.json',
        manifest([
          { id: sha256(HELLO), name: 'Hello', type: 'query', body: HELLO },
          { id: sha256(WORLD).toUpperCase(), name: 'World', type: 'query', body: WORLD },
        ]),
      ),
    );
    expect(list.size).toBe(2);
    expect(list.has(sha256(HELLO))).toBe(true);
    expect(list.has(sha256(WORLD).toUpperCase())).toBe(true);
    expect(list.documentOf(sha256(WORLD))).toBe(WORLD);
    expect(list.has(sha256('{ other }'))).toBe(false);
    expect(list.documentOf(sha256('{ other }'))).toBeUndefined();
  });

  it('reads a { sha256: document } map (GraphQL Code Generator client-preset, Relay)', async () => {
    const list = await loadAllowlist(await file('persisted-documents.json', { [sha256(HELLO)]: HELLO, [sha256(WORLD)]: WORLD }));
    expect(list.size).toBe(2);
    expect(list.documentOf(sha256(HELLO))).toBe(HELLO);
  });

  it('reads a plain array of documents, hashing them, duplicates counted once', async () => {
    const list = await loadAllowlist(await file('docs.json', [HELLO, WORLD, HELLO]));
    expect(list.size).toBe(2);
    expect(list.has(sha256(WORLD))).toBe(true);
  });

  it('hashOf is the lowercase hex SHA-256 of the UTF-8 text as sent (the APQ hash)', async () => {
    const list = await loadAllowlist(await file('hash.json', [HELLO]));
    const unicode = 'query { search(text: "Zürich ✓") }';
    expect(list.hashOf(unicode)).toBe(sha256(unicode));
    expect(list.hashOf(unicode)).toMatch(/^[0-9a-f]{64}$/);
    expect(list.hashOf(`${HELLO} `)).not.toBe(list.hashOf(HELLO));
  });

  it('accepts a UTF-8 byte order mark', async () => {
    const list = await loadAllowlist(await file('bom.json', `\uFEFF${JSON.stringify([HELLO])}`));
    expect(list.size).toBe(1);
  });
});

describe('loadAllowlist normalized matching', () => {
  it('matches exact text by hash, and re-printed text by its normalized form under the listed hash', async () => {
    const list = await loadAllowlist(await file('norm.json', [WORLD]));
    expect(list.match(WORLD)).toBe(sha256(WORLD));
    const reprinted = 'query World( $n : Int ) { world(n:$n) { name, } } # comment';
    expect(list.has(list.hashOf(reprinted))).toBe(false);
    expect(list.match(reprinted)).toBe(sha256(WORLD));
    expect(list.normalizedMatch(reprinted)).toBe(sha256(WORLD));
    expect(list.match(reprinted, parse(reprinted))).toBe(sha256(WORLD));
    expect(list.normalizedMatch(parse(reprinted))).toBe(sha256(WORLD));
  });

  it('treats `query { a }` and `{ a }` as the same document', async () => {
    const list = await loadAllowlist(await file('short.json', ['{ hello }']));
    expect(list.match('query {\n  hello\n}')).toBe(sha256('{ hello }'));
  });

  it('does not match a different operation, another field order, alias or name', async () => {
    const list = await loadAllowlist(await file('strict.json', ['query Q { a b }']));
    expect(list.match('query Q { b a }')).toBeUndefined();
    expect(list.match('query Q { a x: b }')).toBeUndefined();
    expect(list.match('query R { a b }')).toBeUndefined();
    expect(list.match('query Q { a b c }')).toBeUndefined();
    expect(list.match('query Q { a b')).toBeUndefined();
  });
});

describe('loadAllowlist rejects bad files, naming the file and the entry', () => {
  it('a manifest id that is not the sha256 of its body', async () => {
    const ops = [HELLO, WORLD, '{ a }', '{ b }'].map((body) => ({ id: sha256(body), name: 'X', type: 'query', body }));
    ops[3]!.id = sha256('{ c }');
    const err = await failure(await file('persisted.json', manifest(ops)));
    expect(err.message).toMatch(/^persisted\.json: operations\[3\]\.id does not match the sha256 of its body \([0-9a-f]{64}\)$/);
    expect(err.problems).toEqual([err.message]);
    expect(err.file).toBe(path.join(dir, 'persisted.json'));
  });

  it('a map key that is not the sha256 of its document, or not a SHA-256 at all (Relay MD5 hint)', async () => {
    const md5 = createHash('md5').update(WORLD).digest('hex');
    const err = await failure(await file('map.json', { [sha256('{ other }')]: HELLO, [md5]: WORLD }));
    expect(err.problems).toEqual([
      `map.json: key "${sha256('{ other }')}" does not match the sha256 of its document (${sha256(HELLO)})`,
      expect.stringMatching(/^map\.json: key "[0-9a-f]{32}": expected a SHA-256 hex digest \(64 hex characters\) \(this looks like an MD5 digest/),
    ]);
    expect(err.message).toContain('; ');
  });

  it('bad JSON, without quoting the text', async () => {
    const err = await failure(await file('broken.json', '{ "abc": "query { secretish }", }'));
    expect(err.message).toMatch(/^broken\.json: not valid JSON: /);
    expect(err.message).not.toContain('secretish');
  });

  it('an unreadable file', async () => {
    const err = await failure(path.join(dir, 'missing.json'));
    expect(err.message).toMatch(/^missing\.json: cannot read .*missing\.json: ENOENT$/);
  });

  it('an unparsable document, with its entry and position', async () => {
    const err = await failure(await file('syntax.json', manifest([{ id: sha256('query { a '), name: 'A', type: 'query', body: 'query { a ' }])));
    expect(err.message).toMatch(/^syntax\.json: operations\[0\]\.body: not a GraphQL document: Syntax Error: .* \(line 1, column 11\)$/);
    const arr = await failure(await file('syntax-array.json', [HELLO, 'nonsense']));
    expect(arr.message).toMatch(/^syntax-array\.json: \[1\]: not a GraphQL document: Syntax Error/);
  });

  it('a document with fragments only', async () => {
    const err = await failure(await file('fragments.json', ['fragment F on Query { hello }']));
    expect(err.message).toBe('fragments.json: [0]: defines no operation (only fragments)');
  });

  it('wrong shapes: a wrong manifest format or version, a missing body, a non-string document, a scalar', async () => {
    expect((await failure(await file('format.json', { format: 'other', version: 1, operations: [] }))).message).toMatch(/^format\.json: format: /);
    expect((await failure(await file('version.json', { format: 'apollo-persisted-query-manifest', version: 2, operations: [] }))).message).toMatch(
      /^version\.json: version: /,
    );
    expect((await failure(await file('nobody.json', manifest([{ id: sha256(HELLO), name: 'Hello', type: 'query' }])))).message).toMatch(
      /^nobody\.json: operations\[0\]\.body: /,
    );
    expect((await failure(await file('number.json', [HELLO, 42]))).message).toMatch(/^number\.json: \[1\]: /);
    expect((await failure(await file('scalar.json', '"query { a }"'))).message).toMatch(/^scalar\.json: expected an Apollo persisted query manifest/);
  });

  it('an empty list', async () => {
    expect((await failure(await file('empty.json', []))).message).toBe('empty.json: lists no operations');
    expect((await failure(await file('empty-manifest.json', manifest([])))).message).toBe('empty-manifest.json: lists no operations');
  });

  it('reports every problem, the message listing the first five', async () => {
    const err = await failure(await file('many.json', ['a', 'b', 'c', 'd', 'e', 'f', 'g']));
    expect(err.problems).toHaveLength(7);
    expect(err.message).toMatch(/; and 2 more problems$/);
  });
});
