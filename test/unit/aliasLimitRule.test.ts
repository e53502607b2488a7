import { DEFAULT_LIMITS } from '../../src/config/loadConfig.js';
import { describe, expect, it } from '@jest/globals';
import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate, type GraphQLError } from 'graphql';
import { loadTypeDefs } from '../../src/graph/createGraph.js';
import { buildGraphSubgraphSchema } from '../../src/graph/federation/buildGraphSubgraphSchema.js';
import { createAliasLimitRule } from '../../src/server/createAliasLimitRule.js';
import { exampleQueries } from '../../src/server/graphiql/exampleQueries.js';

/** The default proposed for config `limits.maxAliases`. */
const DEFAULT_MAX_ALIASES = DEFAULT_LIMITS.maxAliases;

const schema = buildSchema(`
  type Query { session(id: ID!): Session, sessions(first: Int): [Session!]! }
  type Session { id: ID!, name: String!, server: Server }
  type Server { name: String! }
`);

function errorsOf(query: string, maxAliases: number, rules = specifiedRules): readonly GraphQLError[] {
  return validate(schema, parse(query), [...rules, createAliasLimitRule(maxAliases)]);
}

/** `{ a0: session(id: "0") { name } a1: ... }` with `n` aliases. */
const aliased = (n: number, name = 'Batch') => `query ${name} { ${Array.from({ length: n }, (_, i) => `a${i}: session(id: "${i}") { name }`).join(' ')} }`;

describe('createAliasLimitRule', () => {
  it('accepts an operation under or at the limit and rejects one over it, naming the operation and the limit', () => {
    expect(errorsOf(aliased(2), 3)).toEqual([]);
    expect(errorsOf(aliased(3), 3)).toEqual([]);
    const errors = errorsOf(aliased(4), 3);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      'Operation "Batch" has 4 aliases, over the maximum of 3 (limits.maxAliases). Ask for the same field fewer times per request: split the batch into several requests.',
    );
    expect(errors[0]!.extensions).toEqual({ aliases: 4, maxAliases: 3 });
    expect(errors[0]!.locations).toEqual([{ line: 1, column: 1 }]);
  });

  it('counts aliases at every level, in inline fragments, and of __typename; unaliased fields are free', () => {
    const query = '{ s: session(id: "1") { n: name server { sn: name } ... on Session { i: id } t: __typename } sessions { name id } }';
    expect(errorsOf(query, 5)).toEqual([]);
    expect(errorsOf(query, 4).map((e) => e.message)).toEqual([expect.stringMatching(/^Operation has 5 aliases, over the maximum of 4 \(limits\.maxAliases\)/)]);
  });

  it('counts a fragment once per spread, so spreading it many times cannot hide its aliases', () => {
    const query = `
      query Spread { a: session(id: "1") { ...S } b: session(id: "2") { ...S } sessions { ...S } }
      fragment S on Session { n1: name n2: name server { ...V } }
      fragment V on Server { v: name }`;
    // a, b, then 3 spreads of S with 2 aliases and one spread of V each.
    expect(errorsOf(query, 11)).toEqual([]);
    expect(errorsOf(query, 10).map((e) => e.extensions)).toEqual([{ aliases: 11, maxAliases: 10 }]);
  });

  it('counts a fan-out of fragments exactly and fast, and saturates instead of overflowing', () => {
    const fanOut = (levels: number) =>
      [
        'query Fan { ...F0 }',
        ...Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`),
        `fragment F${levels} on Query { x: session(id: "1") { name } }`,
      ].join('\n');
    expect(errorsOf(fanOut(40), 30)[0]!.extensions).toEqual({ aliases: 2 ** 40, maxAliases: 30 });
    expect(errorsOf(fanOut(60), 30, [])[0]!.message).toMatch(`Operation "Fan" has ${Number.MAX_SAFE_INTEGER} aliases`);
  });

  it('leaves fragment cycles to graphql-js and does not loop on them', () => {
    const query = `
      query Cycle { session(id: "1") { ...A } }
      fragment A on Session { a: name server { name } ...B }
      fragment B on Session { b: id ...A }`;
    const messages = errorsOf(query, 1).map((e) => e.message);
    expect(messages).toContainEqual(expect.stringMatching(/^Cannot spread fragment "A" within itself via "B"/));
    expect(messages).toContainEqual(expect.stringMatching(/^Operation "Cycle" has 2 aliases/));
  });

  it('judges each operation of a document on its own, with the fragments it spreads', () => {
    const query = `
      query Small { ...Two }
      query Large { ...Two c: sessions { name } }
      fragment Two on Query { a: session(id: "1") { name } b: session(id: "2") { name } }`;
    expect(errorsOf(query, 2).map((e) => e.message)).toEqual([expect.stringMatching(/^Operation "Large" has 3 aliases/)]);
  });

  it('lets the introspection query, the GraphiQL examples and federation _entities fetches through at the default', () => {
    const graph = buildGraphSubgraphSchema({ typeDefs: loadTypeDefs(), resolvers: {} });
    const rules = [...specifiedRules, createAliasLimitRule(DEFAULT_MAX_ALIASES)];
    const introspection = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    const documents = [
      introspection,
      ...exampleQueries().map((e) => e.query),
      // As Apollo's query planner writes them (fetches of a real plan); it aliases a field only
      // when two type conditions of one fetch return it with different types.
      'query T__veeam__1($representations:[_Any!]!$v:Boolean!){_entities(representations:$representations){...on EnterpriseManagerRestoreSession{name state vmDisplayName@include(if:$v)backupServer{name version}restorePoint{pointInTime}}}}',
      'query T__veeam__4($representations:[_Any!]!){_entities(representations:$representations){...on RestoreSession{__typename name state ...on EnterpriseManagerRestoreSession{vmDisplayName backupServer{name}}...on Microsoft365RestoreSession{type organization{name}}}}}',
      'query T__veeam__2($representations:[_Any!]!){_entities(representations:$representations){...on BackupServer{name version}...on RestoreSession{name__alias_0:name state}}}',
      '{ _service { sdl } }',
    ];
    for (const document of documents) expect([document, validate(graph, parse(document), rules)]).toEqual([document, []]);
  });
});
