import { describe, expect, it } from '@jest/globals';
import { guidOf } from '../../src/upstream/em/emLinks.js';
import { normalizeResult, normalizeState, wireSpelling } from '../../src/upstream/sessionStatus.js';
import { inclusiveUpperBound, isSentinelDate, optionalWireDate, toDateTime, wireTimeMs } from '../../src/upstream/wireTime.js';

describe('wire times', () => {
  it('floors to milliseconds whatever the fraction length or zone', () => {
    expect(wireTimeMs('2017-06-29T07:42:21.191694Z')).toBe(Date.parse('2017-06-29T07:42:21.191Z'));
    expect(wireTimeMs('2016-10-06T13:59:50.78Z')).toBe(Date.parse('2016-10-06T13:59:50.780Z'));
    expect(wireTimeMs('2014-10-19T05:59:18Z')).toBe(Date.parse('2014-10-19T05:59:18Z'));
    expect(wireTimeMs('2017-05-30T13:53:45.0679711+03:00')).toBe(Date.parse('2017-05-30T10:53:45.067Z'));
    expect(wireTimeMs('yesterday')).toBeNaN();
    expect(toDateTime('2017-06-29T07:42:21.1916949Z')).toBe('2017-06-29T07:42:21.191Z');
    expect(toDateTime(undefined)).toBeNull();
  });

  it('an exclusive bound becomes its last 100 ns tick for inclusive APIs', () => {
    expect(inclusiveUpperBound(Date.parse('2026-01-01T00:00:00.000Z'))).toBe('2025-12-31T23:59:59.9999999Z');
  });
});

describe('session status', () => {
  it('maps both APIs values, unknown ones to UNKNOWN, absent results to null', () => {
    expect(normalizeState('Stopped')).toBe('STOPPED');
    expect(normalizeState('working')).toBe('WORKING');
    expect(normalizeState('Paused')).toBe('UNKNOWN');
    expect(normalizeState(undefined)).toBe('UNKNOWN');
    expect(normalizeResult('None')).toBe('NONE');
    expect(normalizeResult('Exploded')).toBe('UNKNOWN');
    expect(normalizeResult(undefined)).toBeNull();
    expect(wireSpelling('STOPPED')).toBe('Stopped');
  });
});

describe('guidOf', () => {
  it('takes the last GUID of an href or URN, lower case, ignoring the query', () => {
    expect(guidOf('http://h:9399/api/backupServers/CE15A8C7-AA49-495E-B05B-EE3398C91018?format=Entity')).toBe('ce15a8c7-aa49-495e-b05b-ee3398c91018');
    expect(guidOf('urn:veeam:VmRestorePoint:fb87163e-687d-4006-96c9-0451b5423b85')).toBe('fb87163e-687d-4006-96c9-0451b5423b85');
    expect(guidOf('http://h/api/backupServers/')).toBeUndefined();
  });
});

describe('sentinel "never" dates', () => {
  const sentinels = [
    '0001-01-01T00:00:00',
    '0001-01-01T00:00:00Z',
    '0001-01-01T00:00:00.0000000Z',
    '0001-01-01T00:00:00+03:00',
    '9999-12-31T23:59:59.9999999',
    '9999-12-31T23:59:59.9999999Z',
    '9999-12-31T23:59:59.9999999+00:00',
    '9999-12-31T23:59:59Z',
    '1753-01-01T00:00:00',
    '1753-01-01T00:00:00Z',
    '1753-01-01T00:00:00.000Z',
  ];
  it.each(sentinels)('%s is a sentinel: optional dates read it as absent, the DateTime output as null', (text) => {
    expect(isSentinelDate(text)).toBe(true);
    expect(optionalWireDate(text)).toBeUndefined();
    expect(toDateTime(text)).toBeNull();
  });
  it.each(['0001-01-02T00:00:00Z', '1753-01-01T00:00:01Z', '9999-12-31T23:59:58Z', '2026-11-01T00:00:00Z', '1970-01-01T00:00:00Z'])(
    '%s is a real date',
    (text) => {
      expect(isSentinelDate(text)).toBe(false);
      expect(optionalWireDate(text)).toBe(text);
    },
  );
});
