import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '../../src/config/loadConfig.js';
import { resolveTracingSettings, tracesUrl } from '../../src/observability/tracingSettings.js';
import { authKindOf, isLogonRequest, routeTemplate } from '../../src/observability/upstreamSpan.js';

const servers = [{ name: 'em-1', kind: 'enterprise-manager', url: 'https://em.corp:9398/api', username: 'u', password: { env: 'PW' } }];
const base = { PW: 'secret-password' };

function resolve(raw: Parameters<typeof resolveTracingSettings>[0], env: NodeJS.ProcessEnv = {}) {
  const problems: string[] = [];
  const warnings: string[] = [];
  const settings = resolveTracingSettings(raw, env, { problems, warnings, label: 'test' });
  return { settings, problems, warnings };
}

describe('tracing settings', () => {
  it('are off without a tracing key and without OTEL_EXPORTER_OTLP_*ENDPOINT', async () => {
    expect(resolve(undefined, { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).settings).toBeUndefined();
    expect((await parseConfig({ servers }, { env: base })).tracing).toBeUndefined();
    expect(resolve({ enabled: false, endpoint: 'http://c:4318' }).settings).toBeUndefined();
  });

  it('come from the environment alone, the traces endpoint winning over the base one', () => {
    expect(resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).settings).toMatchObject({
      endpoint: 'http://collector:4318/v1/traces',
      serviceName: 'veeam-graph',
      sampler: { kind: 'parentbased_always_on' },
      from: 'environment',
    });
    expect(
      resolve(
        { endpoint: 'http://config:4318' },
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/otel', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/custom' },
      ).settings?.endpoint,
    ).toBe('http://t:4318/custom');
    expect(resolve({ endpoint: 'http://config:4318' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/otel' }).settings?.endpoint).toBe(
      'http://base:4318/otel/v1/traces',
    );
  });

  it('take the config key, the environment winning key by key', () => {
    const { settings } = resolve(
      { endpoint: 'http://config:4318/v1/traces', serviceName: 'gw-config', sampleRatio: 0.25, headers: { authorization: 'Bearer t' } },
      { OTEL_SERVICE_NAME: 'gw-env', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=backup%20ops' },
    );
    expect(settings).toEqual({
      endpoint: 'http://config:4318/v1/traces',
      serviceName: 'gw-env',
      resourceAttributes: { 'deployment.environment': 'prod', team: 'backup ops' },
      sampler: { kind: 'parentbased_traceidratio', ratio: 0.25 },
      headers: { authorization: 'Bearer t' },
      protocol: 'http/json',
      from: 'config',
    });
    expect(
      resolve({ endpoint: 'http://c:4318', sampleRatio: 0.25 }, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }).settings?.sampler,
    ).toEqual({
      kind: 'traceidratio',
      ratio: 0.5,
    });
    expect(resolve({ endpoint: 'http://c:4318' }, { OTEL_TRACES_SAMPLER: 'always_off' }).settings?.sampler).toEqual({ kind: 'always_off' });
  });

  it('are turned off by OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none, whatever else says', () => {
    expect(resolve({ endpoint: 'http://c:4318' }, { OTEL_SDK_DISABLED: 'true' }).settings).toBeUndefined();
    expect(resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).settings).toBeUndefined();
  });

  it('report what they cannot use', () => {
    expect(resolve({}).problems).toEqual([expect.stringContaining('tracing.endpoint: expected')]);
    expect(resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }).problems).toEqual([expect.stringContaining('OTEL_EXPORTER_OTLP_ENDPOINT')]);
    const w = resolve({ endpoint: 'http://c:4318' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_EXPORTER: 'zipkin' });
    expect(w.settings).toBeDefined();
    expect(w.warnings).toHaveLength(3);
  });

  it('are validated and redacted by the config loader (header values are secrets)', async () => {
    const config = await parseConfig(
      { servers, tracing: { endpoint: 'https://otel.corp:4318', headers: { authorization: { env: 'OTEL_TOKEN' } } } },
      { env: { ...base, OTEL_TOKEN: 'Bearer sekrit-token' } },
    );
    expect(config.tracing?.headers).toEqual({ authorization: 'Bearer sekrit-token' });
    const shown = JSON.stringify(config.redacted());
    expect(shown).not.toContain('sekrit-token');
    expect(shown).toContain('"tracing"');
    await expect(parseConfig({ servers, tracing: { endpoint: 'ftp://x', sampleRatio: 2 } }, { env: base })).rejects.toThrow(ConfigError);
    await expect(parseConfig({ servers, tracing: { endpoint: 'http://user:pw@c:4318' } }, { env: base })).rejects.toThrow(ConfigError);
  });

  it('append /v1/traces to a base URL only', () => {
    expect(tracesUrl('http://c:4318')).toBe('http://c:4318/v1/traces');
    expect(tracesUrl('http://c:4318/')).toBe('http://c:4318/v1/traces');
    expect(tracesUrl('http://c:4318/v1/traces')).toBe('http://c:4318/v1/traces');
  });
});

describe('route templates', () => {
  const t = (href: string) => routeTemplate(new URL(href));
  it('replace ids, GUIDs and URNs, and keep only EM query type', () => {
    expect(t('http://em/api/query?type=RestoreSession&format=Entities&filter=CreationTime%3E%3D2026-01-01&pageSize=31')).toBe('/api/query?type=RestoreSession');
    expect(t('http://em/api/backupServers/urn:veeam:BackupServer:1b2c?format=Entity')).toBe('/api/backupServers/{id}');
    expect(t('http://em/api/restoreSessions/4c8d1a1e-0c1b-4b3e-9d6a-0d8c2b1f3e4a')).toBe('/api/restoreSessions/{id}');
    expect(t('http://em/api/restorePoints/abcdefab-abcd-abcd-abcd-abcdefabcdef/vmRestorePoints')).toBe('/api/restorePoints/{id}/vmRestorePoints');
    expect(t('http://em/api/logonSessions/0f1e2d3c')).toBe('/api/logonSessions/{id}');
    expect(t('http://em/api/')).toBe('/api/');
    expect(t('http://em/api/sessionMngr/?v=latest')).toBe('/api/sessionMngr');
    expect(t('http://vbo/v8/RestoreSessions/9a7b/Events?offset=0&limit=30')).toBe('/v8/RestoreSessions/{id}/Events');
    expect(t('http://vbo/v8/token')).toBe('/v8/token');
    expect(t('http://em/api/query?type=Restore%20Session;DROP')).toBe('/api/query');
    expect(t('http://em/api/x%ZZ')).toBe('/api/{id}');
  });

  it('tell logons, re-logons, renewals and logoffs apart', () => {
    expect(authKindOf('POST', '/api/sessionMngr', undefined, false)).toBe('logon');
    expect(authKindOf('POST', '/api/sessionMngr', undefined, true)).toBe('relogon');
    expect(authKindOf('POST', '/v8/token', { grant_type: 'password' }, true)).toBe('relogon');
    expect(authKindOf('POST', '/v8/token', { grant_type: 'refresh_token' }, true)).toBe('refresh');
    expect(authKindOf('POST', '/v8/token/logout', undefined, true)).toBe('logoff');
    expect(authKindOf('DELETE', '/api/logonSessions/{id}', undefined, true)).toBe('logoff');
    expect(authKindOf('GET', '/api/query?type=RestoreSession', undefined, true)).toBeUndefined();
    expect(isLogonRequest('POST', new URL('http://em/api/sessionMngr/?v=latest'), undefined)).toBe(true);
    expect(isLogonRequest('POST', new URL('http://vbo/v8/token'), { grant_type: 'refresh_token' })).toBe(false);
    expect(isLogonRequest('GET', new URL('http://em/api/sessionMngr/'), undefined)).toBe(false);
  });
});
