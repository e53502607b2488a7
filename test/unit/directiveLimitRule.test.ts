import { DEFAULT_LIMITS } from '../../src/config/loadConfig.js';
import { describe, expect, it } from '@jest/globals';
import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate, type GraphQLError } from 'graphql';
import { loadTypeDefs } from '../../src/graph/createGraph.js';
import { buildGraphSubgraphSchema } from '../../src/graph/federation/buildGraphSubgraphSchema.js';
import { createDirectiveLimitRule } from '../../src/server/createDirectiveLimitRule.js';
import { exampleQueries } from '../../src/server/graphiql/exampleQueries.js';

/** The default proposed for config `limits.maxDirectives`. */
const DEFAULT_MAX_DIRECTIVES = DEFAULT_LIMITS.maxDirectives;

// `@tag` is allowed everywhere an operation may carry a directive, so every position can be counted.
const schema = buildSchema(`
  directive @tag(name: String) repeatable on QUERY | VARIABLE_DEFINITION | FIELD | FRAGMENT_DEFINITION | FRAGMENT_SPREAD | INLINE_FRAGMENT
  type Query { session(id: ID!): Session, sessions(first: Int): [Session!]! }
  type Session { id: ID!, name: String!, server: Server }
  type Server { name: String! }
`);

function errorsOf(query: string, maxDirectives: number, rules = specifiedRules): readonly GraphQLError[] {
  return validate(schema, parse(query), [...rules, createDirectiveLimitRule(maxDirectives)]);
}

/** `{ sessions { f0: name @include(if: true) f1: ... } }` with `n` directives. */
const included = (n: number, name = 'Toggles') =>
  `query ${name} { sessions { ${Array.from({ length: n }, (_, i) => `f${i}: name @include(if: true)`).join(' ')} } }`;

describe('createDirectiveLimitRule', () => {
  it('accepts an operation under or at the limit and rejects one over it, naming the operation and the limit', () => {
    expect(errorsOf(included(2), 3)).toEqual([]);
    expect(errorsOf(included(3), 3)).toEqual([]);
    const errors = errorsOf(included(4), 3);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      'Operation "Toggles" has 4 directives, over the maximum of 3 (limits.maxDirectives). One @include or @skip on a fragment or inline fragment covers every field inside it.',
    );
    expect(errors[0]!.extensions).toEqual({ directives: 4, maxDirectives: 3 });
    expect(errors[0]!.locations).toEqual([{ line: 1, column: 1 }]);
  });

  it('counts directives in every position: operation, variables, fields, inline fragments, spreads and spread fragments', () => {
    const query = `
      query Everywhere($id: ID! @tag) @tag {
        session(id: $id) @tag {
          name @skip(if: false) @tag
          ... on Session @tag { id }
          ...S @tag
        }
      }
      fragment S on Session @tag { server { name @tag } }`;
    // operation 1, variable 1, session 1, name 2, inline fragment 1, spread 1, fragment definition 1, inside it 1.
    expect(errorsOf(query, 9)).toEqual([]);
    expect(errorsOf(query, 8).map((e) => e.extensions)).toEqual([{ directives: 9, maxDirectives: 8 }]);
  });

  it('rejects an anonymous operation repeating one directive on a single field, besides graphql-js duplicate errors', () => {
    const messages = errorsOf(`{ sessions { name${' @include(if: true)'.repeat(60)} } }`, DEFAULT_MAX_DIRECTIVES).map((e) => e.message);
    expect(messages).toContainEqual(expect.stringMatching(/^The directive "@include" can only be used once at this location/));
    expect(messages).toContainEqual(expect.stringMatching(/^Operation has 60 directives, over the maximum of 50 \(limits\.maxDirectives\)/));
  });

  it('counts a fragment once per spread, so spreading it many times cannot hide its directives', () => {
    const query = `
      query Spread { a: session(id: "1") { ...S } b: session(id: "2") { ...S } sessions { ...S } }
      fragment S on Session { name @include(if: true) server { ...V } }
      fragment V on Server @tag { name @skip(if: false) }`;
    // 3 spreads of S, each with 1 directive and a spread of V (2 directives with its definition's).
    expect(errorsOf(query, 9)).toEqual([]);
    expect(errorsOf(query, 8).map((e) => e.extensions)).toEqual([{ directives: 9, maxDirectives: 8 }]);
  });

  it('counts a fan-out of fragments exactly and fast, and saturates instead of overflowing', () => {
    const fanOut = (levels: number) =>
      [
        'query Fan { ...F0 }',
        ...Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`),
        `fragment F${levels} on Query { sessions { name @include(if: true) } }`,
      ].join('\n');
    expect(errorsOf(fanOut(40), 50)[0]!.extensions).toEqual({ directives: 2 ** 40, maxDirectives: 50 });
    expect(errorsOf(fanOut(60), 50, [])[0]!.message).toMatch(`Operation "Fan" has ${Number.MAX_SAFE_INTEGER} directives`);
  });

  it('leaves fragment cycles to graphql-js and does not loop on them', () => {
    const query = `
      query Cycle { session(id: "1") { ...A } }
      fragment A on Session @tag { name @tag ...B }
      fragment B on Session { id @tag ...A }`;
    const messages = errorsOf(query, 1).map((e) => e.message);
    expect(messages).toContainEqual(expect.stringMatching(/^Cannot spread fragment "A" within itself via "B"/));
    expect(messages).toContainEqual(expect.stringMatching(/^Operation "Cycle" has 3 directives/));
  });

  it('judges each operation of a document on its own, with the fragments it spreads', () => {
    const query = `
      query Small { ...Two }
      query Large { ...Two sessions @tag { name } }
      fragment Two on Query { session(id: "1") { name @tag id @tag } }`;
    expect(errorsOf(query, 2).map((e) => e.message)).toEqual([expect.stringMatching(/^Operation "Large" has 3 directives/)]);
  });

  it('lets the introspection query, the GraphiQL examples and federation _entities fetches through at the default', () => {
    const graph = buildGraphSubgraphSchema({ typeDefs: loadTypeDefs(), resolvers: {} });
    const rules = [...specifiedRules, createDirectiveLimitRule(DEFAULT_MAX_DIRECTIVES)];
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
      // As Apollo's query planner writes them (fetches of a real plan): only the client's own @include / @skip.
      'query T__veeam__1($representations:[_Any!]!$v:Boolean!){_entities(representations:$representations){...on EnterpriseManagerRestoreSession{name state vmDisplayName@include(if:$v)backupServer{name version}restorePoint{pointInTime}}}}',
      'query T__veeam__4($representations:[_Any!]!){_entities(representations:$representations){...on RestoreSession{__typename name state ...on EnterpriseManagerRestoreSession{vmDisplayName backupServer{name}}...on Microsoft365RestoreSession{type organization{name}}}}}',
      '{ _service { sdl } }',
    ];
    for (const document of documents) expect([document, validate(graph, parse(document), rules)]).toEqual([document, []]);
  });
});
