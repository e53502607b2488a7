import { describe, expect, it } from '@jest/globals';
import { VboDecodeError } from '../../src/upstream/vbo/VboDecodeError.js';
import { vboCapabilities } from '../../src/upstream/vbo/vboCapabilities.js';
import {
  decodeVboItem,
  decodeVboOrganization,
  decodeVboPage,
  decodeVboRestoreSession,
  decodeVboRestoreSessionEvent,
  decodeVboToken,
  parseVboJson,
  parseVboTokenDate,
} from '../../src/upstream/vbo/vboDecoders.js';

const BASE = 'https://vbo.corp:4443';
const resolve = (href: string): string => new URL(href, BASE).href;

function thrown(fn: () => unknown): VboDecodeError {
  try {
    fn();
  } catch (err) {
    return err as VboDecodeError;
  }
  throw new Error('expected a throw');
}

describe('VB365 tolerant decoders (the client side of docs/veeam-wire.md Part 2)', () => {
  it('decodes the v1 docs sample item: bare array, pointInTime, absolute links', () => {
    const body = `[{"id":"0800471b-d0e2-422b-9d7c-35d15661c3fb","type":"Vex","pointInTime":"2017-06-26T22:07:39-07:00","creationTime":"2017-06-29T07:42:21.191694Z","endTime":"2017-06-29T08:14:58.3532833Z","state":"Stopped","result":"Success","_links":{"self":{"href":"https://support.east.local:4443/v1/restoresessions/0800471b-d0e2-422b-9d7c-35d15661c3fb"}}}]`;
    const page = decodeVboPage(parseVboJson(body, 'RestoreSessions'), 'RestoreSessions', decodeVboRestoreSession, resolve);
    expect(page).toEqual({
      shape: 'array',
      hasLinks: false,
      links: {},
      items: [
        {
          id: '0800471b-d0e2-422b-9d7c-35d15661c3fb',
          type: 'Vex',
          pointInTime: '2017-06-26T22:07:39-07:00',
          creationTime: '2017-06-29T07:42:21.191694Z',
          endTime: '2017-06-29T08:14:58.3532833Z',
          state: 'Stopped',
          result: 'Success',
          links: { self: 'https://support.east.local:4443/v1/restoresessions/0800471b-d0e2-422b-9d7c-35d15661c3fb' },
        },
      ],
    });
  });

  it('decodes a v6 page with root-relative links resolved, nulls dropped, unknown enums kept', () => {
    const json = {
      offset: 0,
      limit: 30,
      totalCount: null,
      _links: { self: { href: '/v6/RestoreSessions?offset=0&limit=30' }, next: { href: '/v6/RestoreSessions?offset=30&limit=30' } },
      results: [
        {
          id: 'a',
          name: null,
          organization: 'contoso.onmicrosoft.com',
          type: 'Vexx',
          creationTime: '2024-01-01T00:00:00Z',
          endTime: null,
          state: null,
          result: 'Queued',
          details: null,
          eTag: 5,
        },
      ],
    };
    const page = decodeVboPage(json, 'RestoreSessions', decodeVboRestoreSession, resolve);
    expect(page.links).toEqual({ self: `${BASE}/v6/RestoreSessions?offset=0&limit=30`, next: `${BASE}/v6/RestoreSessions?offset=30&limit=30` });
    expect(page.items[0]).toEqual({
      id: 'a',
      organizationName: 'contoso.onmicrosoft.com',
      type: 'Vexx',
      creationTime: '2024-01-01T00:00:00Z',
      state: 'Unknown',
      result: 'Queued',
      eTag: '5',
      links: {},
    });
    expect(page).not.toHaveProperty('totalCount');
  });

  it('organizations: v1 string booleans, both casings of isBackedup/firstBackuptime, lower-case region', () => {
    const v1 = decodeVboOrganization(
      { type: 'Office365', id: 'o1', region: 'worldwide', name: 'east', isBackedup: 'true', firstBackuptime: '2017-05-14T09:17:45.8491057Z', _actions: {} },
      resolve,
      'Organization',
    );
    expect(v1).toEqual({
      id: 'o1',
      name: 'east',
      type: 'Office365',
      region: 'Worldwide',
      isBackedUp: true,
      firstBackupTime: '2017-05-14T09:17:45.8491057Z',
      links: {},
    });
    const camel = decodeVboOrganization(
      { id: 'o2', name: 'x', isBackedUp: false, lastBackupTime: '2024-01-01T00:00:00Z', region: 'USgovCommunity' },
      resolve,
      'Organization',
    );
    expect(camel).toMatchObject({ isBackedUp: false, lastBackupTime: '2024-01-01T00:00:00Z', region: 'USgovCommunity' });
  });

  it('events: numeric fields tolerate strings, local offsets kept', () => {
    const e = decodeVboRestoreSessionEvent(
      { id: 'e', status: 'Success', startTime: '2017-05-30T13:53:45.0679711+03:00', order: '3', itemSizeBytes: 1024 },
      resolve,
      'Events',
    );
    expect(e).toEqual({ id: 'e', status: 'Success', startTime: '2017-05-30T13:53:45.0679711+03:00', order: 3, itemSizeBytes: 1024, links: {} });
  });

  it('names the document and place of what is wrong', () => {
    expect(thrown(() => decodeVboPage({ offset: 0 }, 'RestoreSessions', decodeVboRestoreSession, resolve)).message).toBe(
      'RestoreSessions: expected a JSON array or a page object {offset, limit, results}, got an object without results',
    );
    expect(thrown(() => decodeVboPage('hello', 'Organizations', decodeVboOrganization, resolve)).message).toBe(
      'Organizations: expected a JSON array or a page object {offset, limit, results}, got a string',
    );
    const missing = thrown(() =>
      decodeVboPage(
        {
          results: [
            { id: 'a', creationTime: '2024-01-01T00:00:00Z' },
            { id: null, creationTime: 'x' },
          ],
        },
        'RestoreSessions',
        decodeVboRestoreSession,
        resolve,
      ),
    );
    expect(missing).toBeInstanceOf(VboDecodeError);
    expect(missing.at).toBe('results[1].id');
    expect(missing.message).toMatch(/^RestoreSessions: results\[1\]\.id: /);
    expect(thrown(() => decodeVboPage([{ id: 'a', creationTime: 'yesterday' }], 'RestoreSessions', decodeVboRestoreSession, resolve)).message).toBe(
      'RestoreSessions: [0].creationTime: not a date-time',
    );
    expect(thrown(() => decodeVboItem([], 'RestoreSession', decodeVboRestoreSession, resolve)).message).toBe(
      'RestoreSession: expected a JSON object, got an array',
    );
    expect(thrown(() => parseVboJson('<html>proxy error</html>', 'Organizations')).message).toMatch(
      /^Organizations: body is not valid JSON \(Unexpected token '<'; 24 characters\)$/,
    );
    expect(thrown(() => parseVboJson('', 'Organizations')).message).toBe('Organizations: empty body where JSON was expected');
    expect(parseVboJson('\uFEFF[]', 'Organizations')).toEqual([]);
  });

  it('token dates: ISO (any fraction, with or without zone) and RFC 1123', () => {
    const t = Date.UTC(2024, 10, 16, 8, 19, 8);
    expect(parseVboTokenDate('Sat, 16 Nov 2024 08:19:08 GMT')).toBe(t);
    expect(parseVboTokenDate('2024-11-16T08:19:08Z')).toBe(t);
    expect(parseVboTokenDate('2024-11-16T08:19:08')).toBe(t);
    expect(parseVboTokenDate('2024-11-16T08:19:08.1234567Z')).toBe(t + 123);
    expect(parseVboTokenDate('2024-11-16T09:19:08+01:00')).toBe(t);
    expect(parseVboTokenDate('16/11/2024')).toBeUndefined();
    expect(parseVboTokenDate(undefined)).toBeUndefined();
  });

  it('token: expires_in preferred, dates parsed, an access token required but never quoted', () => {
    expect(
      decodeVboToken({
        access_token: 'AAA',
        refresh_token: 'RRR',
        expires_in: '3600',
        '.issued': 'Sat, 16 Nov 2024 08:19:08 GMT',
        '.expires': 'Sat, 16 Nov 2024 09:19:08 GMT',
      }),
    ).toEqual({
      accessToken: 'AAA',
      refreshToken: 'RRR',
      expiresInSec: 3600,
      issuedAtMs: Date.UTC(2024, 10, 16, 8, 19, 8),
      expiresAtMs: Date.UTC(2024, 10, 16, 9, 19, 8),
    });
    expect(decodeVboToken({ access_token: 'AAA', refresh_token: null, expires_in: null })).toEqual({ accessToken: 'AAA' });
    expect(thrown(() => decodeVboToken({ refresh_token: 'SECRET-REFRESH' })).message).not.toContain('SECRET-REFRESH');
  });

  it('capabilities follow the array-vs-page table', () => {
    expect(vboCapabilities('v1')).toMatchObject({ restoreSessionsPaged: false, organizationsPaged: false, restorePoints: false, maxLimit: undefined });
    expect(vboCapabilities('v6')).toMatchObject({
      restoreSessionsPaged: true,
      restorePoints: true,
      restorePointsPaged: false,
      serviceInstance: true,
      tokenLogout: false,
    });
    expect(vboCapabilities('v8')).toMatchObject({
      organizationsPaged: true,
      restorePointsPaged: true,
      restoreSessionsOrder: true,
      tokenLogout: true,
      maxLimit: 10_000,
    });
    expect(() => vboCapabilities('v9' as 'v8')).toThrow(RangeError);
  });
});
