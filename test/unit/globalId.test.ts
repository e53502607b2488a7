import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { decodeGlobalId, encodeGlobalId, type GlobalIdType } from '../../src/graph/globalId.js';

const TYPES: GlobalIdType[] = [
  'EnterpriseManagerRestoreSession',
  'Microsoft365RestoreSession',
  'Microsoft365RestoreSessionEvent',
  'BackupServer',
  'VmRestorePoint',
  'Microsoft365RestorePoint',
  'Organization',
  'Source',
];

function expectBadInput(fn: () => unknown, message?: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GraphQLError);
  expect((error as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
  if (message) expect((error as GraphQLError).message).toMatch(message);
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('globalId', () => {
  it('round-trips every type, with native ids holding colons, slashes and non-ASCII', () => {
    const nativeIds = ['676dc837-2d0c-4a7e-9b7e-3c0c6b5d1f10', 'urn:veeam:RestoreSession:abc', 'a/b?c=d&e', 'Ünïcødé 😀', ':', 'x'];
    for (const type of TYPES) {
      for (const source of ['em-hq', 'm365-eu', 'A.b_c-9']) {
        for (const nativeId of nativeIds) {
          const id = encodeGlobalId(type, source, nativeId);
          expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(decodeGlobalId(id)).toEqual({ type, source, nativeId });
        }
      }
    }
  });

  it('is unique across servers and types for the same Veeam id', () => {
    const ids = new Set<string>();
    for (const type of TYPES) for (const source of ['em-1', 'em-2', 'em-10']) ids.add(encodeGlobalId(type, source, 'same-guid'));
    expect(ids.size).toBe(TYPES.length * 3);
  });

  it('accepts only the expected types when asked to', () => {
    const id = encodeGlobalId('BackupServer', 'em-1', 'g');
    expect(decodeGlobalId(id, ['BackupServer']).nativeId).toBe('g');
    expectBadInput(
      () => decodeGlobalId(id, ['EnterpriseManagerRestoreSession', 'Microsoft365RestoreSession']),
      /id of a BackupServer, expected EnterpriseManagerRestoreSession or Microsoft365RestoreSession/,
    );
  });

  it('rejects anything it did not produce with BAD_USER_INPUT', () => {
    const valid = encodeGlobalId('Organization', 'm365-1', 'guid');
    expect(decodeGlobalId(valid).type).toBe('Organization');
    const cases = [
      '',
      'not base64!',
      `${valid}=`, // padding is not canonical
      Buffer.from([0xff, 0xfe, 0x3a, 0x3a]).toString('base64url'), // not UTF-8
      b64('org'), // no parts
      b64('org:m365-1'), // no native id separator
      b64('org:m365-1:'), // empty native id
      b64('org::guid'), // empty source
      b64(':m365-1:guid'), // empty type
      b64('zzz:m365-1:guid'), // unknown type code
      b64('Organization:m365-1:guid'), // type name instead of code
      'A'.repeat(5000), // too long
    ];
    for (const id of cases) expectBadInput(() => decodeGlobalId(id), /^Invalid id/);
  });

  it('rejects non-canonical base64url spellings of a valid id', () => {
    // 'org:a:b' is 7 bytes: the last base64url char carries 2 unused bits that must be zero.
    const id = encodeGlobalId('Organization', 'a', 'b');
    const last = id[id.length - 1]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const tweaked = id.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]!;
    expect(Buffer.from(tweaked, 'base64url').toString('utf8')).toBe('org:a:b'); // Node alone would accept it
    expectBadInput(() => decodeGlobalId(tweaked));
  });

  it('refuses to encode source names that would make ids ambiguous', () => {
    expect(() => encodeGlobalId('BackupServer', 'em:1', 'g')).toThrow(/invalid source name/);
    expect(() => encodeGlobalId('BackupServer', '', 'g')).toThrow(/invalid source name/);
    expect(() => encodeGlobalId('BackupServer', 'em-1', '')).toThrow(/empty native id/);
  });
});
