import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { parseConnectionArgs } from '../../src/graph/connectionArgs.js';

function badInput(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GraphQLError);
    expect((e as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    return e as GraphQLError;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('parseConnectionArgs', () => {
  it('applies the default page size when first is absent or null', () => {
    expect(parseConnectionArgs({})).toEqual({ first: 50, after: null });
    expect(parseConnectionArgs({ first: null, after: null })).toEqual({ first: 50, after: null });
    expect(parseConnectionArgs({}, { defaultFirst: 20 })).toEqual({ first: 20, after: null });
    // A default above a lowered maximum never produces an invalid page size.
    expect(parseConnectionArgs({}, { maxFirst: 10 })).toEqual({ first: 10, after: null });
  });

  it('accepts 0 to the maximum inclusive', () => {
    expect(parseConnectionArgs({ first: 0 }).first).toBe(0);
    expect(parseConnectionArgs({ first: 1000 }).first).toBe(1000);
    expect(parseConnectionArgs({ first: 5000 }, { maxFirst: 5000 }).first).toBe(5000);
  });

  it('rejects negative, over-max and fractional sizes, naming the argument and the limit', () => {
    for (const first of [-1, 1001, 1.5, Number.NaN]) {
      const error = badInput(() => parseConnectionArgs({ first }));
      expect(error.message).toMatch(/"first" must be an integer from 0 to 1000/);
      expect(error.extensions).toMatchObject({ argumentName: 'first', max: 1000 });
    }
    expect(badInput(() => parseConnectionArgs({ first: 11 }, { maxFirst: 10 })).message).toMatch(/from 0 to 10, got 11/);
  });

  it('passes a cursor through and rejects empty or oversized ones', () => {
    expect(parseConnectionArgs({ after: 'abc.def' }).after).toBe('abc.def');
    expect(badInput(() => parseConnectionArgs({ after: '' })).message).toMatch(/"after" must be a cursor/);
    expect(badInput(() => parseConnectionArgs({ after: 'a'.repeat(2000) })).extensions.argumentName).toBe('after');
  });
});
