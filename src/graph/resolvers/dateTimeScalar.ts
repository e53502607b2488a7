import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { toDateTime } from '../../upstream/Source.js';

const INPUT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function parse(value: unknown): string {
  if (typeof value !== 'string' || !INPUT.test(value) || Number.isNaN(Date.parse(value))) {
    throw new GraphQLError(`DateTime must be an ISO 8601 instant with Z or an offset, e.g. 2026-10-31T22:15:04Z; got ${JSON.stringify(value)}.`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return new Date(Date.parse(value)).toISOString();
}

/** schema/base.graphql `DateTime`: output UTC with milliseconds (extra wire digits dropped); input any ISO instant with a zone, normalised to UTC. */
export const dateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  serialize(value) {
    const out = typeof value === 'string' ? toDateTime(value) : null;
    if (out === null) throw new TypeError(`DateTime cannot represent ${JSON.stringify(value)}`);
    return out;
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return parse(ast.value);
  },
});
