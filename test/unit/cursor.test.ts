import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { createCursorCodec, cursorFingerprint } from '../../src/graph/cursor.js';

function badInputMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GraphQLError);
    expect((e as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    return (e as GraphQLError).message;
  }
  throw new Error('expected BAD_USER_INPUT');
}

const position = { key: [1_790_000_000_123, 'em-hq', '676dc837-2d0c-4a7e-9b7e-3c0c6b5d1f10'], ties: 2 };
const FP = cursorFingerprint('Query.restoreSessions', { states: ['STOPPED'] }, 'NEWEST_FIRST');

describe('cursor codec', () => {
  it('round-trips a position and yields an opaque base64url token', () => {
    const codec = createCursorCodec();
    const cursor = codec.encode(FP, position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('em-hq');
    expect(codec.decode(cursor, FP)).toEqual(position);
  });

  it('rejects a cursor of another filter, order or list with its own clear message', () => {
    const codec = createCursorCodec();
    const cursor = codec.encode(FP, position);
    for (const other of [
      cursorFingerprint('Query.restoreSessions', { states: ['FAILED'] }, 'NEWEST_FIRST'),
      cursorFingerprint('Query.restoreSessions', { states: ['STOPPED'] }, 'OLDEST_FIRST'),
      cursorFingerprint('BackupServer.restoreSessions:abc', { states: ['STOPPED'] }, 'NEWEST_FIRST'),
    ]) {
      expect(badInputMessage(() => codec.decode(cursor, other))).toMatch(/different filter, order or list/);
    }
  });

  it('rejects altered, truncated and garbage cursors as foreign', () => {
    const codec = createCursorCodec();
    const cursor = codec.encode(FP, position);
    const [payload, mac] = cursor.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const forged = [
      `${flip(payload, 5)}.${mac}`,
      `${payload}.${flip(mac, 3)}`,
      `${payload}.${mac.slice(0, -2)}`,
      `${payload}.`,
      payload,
      `.${mac}`,
      `${Buffer.from(JSON.stringify({ v: 1, f: FP, k: [9e12, 'em-hq', 'x'], t: 0 })).toString('base64url')}.${mac}`,
      'not a cursor',
      `${cursor}=`,
      'x'.repeat(5000),
    ];
    for (const bad of forged) expect(badInputMessage(() => codec.decode(bad, FP))).toMatch(/not issued by this gateway, was altered/);
  });

  it('rejects cursors of another instance unless both share a secret', () => {
    const cursor = createCursorCodec().encode(FP, position);
    expect(badInputMessage(() => createCursorCodec().decode(cursor, FP))).toMatch(/before the gateway restarted/);

    const a = createCursorCodec({ secret: 'correct horse battery staple' });
    const b = createCursorCodec({ secret: 'correct horse battery staple' });
    const c = createCursorCodec({ secret: Buffer.from('another secret') });
    const shared = a.encode(FP, position);
    expect(b.decode(shared, FP)).toEqual(position);
    expect(badInputMessage(() => c.decode(shared, FP))).toMatch(/not issued by this gateway/);
    expect(() => createCursorCodec({ secret: '' })).toThrow(/must not be empty/);
  });
});

describe('cursorFingerprint', () => {
  it('is stable under key order, set order, repetition and null versus absent', () => {
    const a = cursorFingerprint(
      'Query.restoreSessions',
      { sources: ['em-2', 'em-1'], states: ['STOPPED', 'WORKING', 'STOPPED'], vmName: null },
      'NEWEST_FIRST',
    );
    const b = cursorFingerprint('Query.restoreSessions', { states: ['WORKING', 'STOPPED'], sources: ['em-1', 'em-2'] }, 'NEWEST_FIRST');
    expect(a).toBe(b);
    expect(cursorFingerprint('Query.restoreSessions', undefined, 'NEWEST_FIRST')).toBe(cursorFingerprint('Query.restoreSessions', {}, 'NEWEST_FIRST'));
  });

  it('differs for every meaningful difference', () => {
    const base = { sources: ['em-1'], createdAfter: 1000 };
    const prints = new Set([
      cursorFingerprint('Query.restoreSessions', base, 'NEWEST_FIRST'),
      cursorFingerprint('Query.restoreSessions', base, 'OLDEST_FIRST'),
      cursorFingerprint('Query.restorePoints', base, 'NEWEST_FIRST'),
      cursorFingerprint('Query.restoreSessions', { ...base, createdAfter: 1001 }, 'NEWEST_FIRST'),
      cursorFingerprint('Query.restoreSessions', { ...base, sources: ['em-1', 'em-2'] }, 'NEWEST_FIRST'),
      cursorFingerprint('Query.restoreSessions', { ...base, sources: [] }, 'NEWEST_FIRST'),
      cursorFingerprint('Query.restoreSessions', { createdAfter: 1000 }, 'NEWEST_FIRST'),
      cursorFingerprint('Query.restoreSessions', { ...base, vmName: '1000' }, 'NEWEST_FIRST'),
      cursorFingerprint('Query.restoreSessions', { ...base, createdAfter: '1000' }, 'NEWEST_FIRST'),
    ]);
    expect(prints.size).toBe(9);
  });
});
