/**
 * Tracing settings: the config's `tracing` key and the standard `OTEL_*` environment variables,
 * resolved once when the config loads. Pure (no SDK import), so loading a config costs nothing
 * when tracing stays off.
 */

/** How spans are sampled (`OTEL_TRACES_SAMPLER` names). */
export type TracingSampler =
  | { kind: 'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off' }
  | { kind: 'traceidratio' | 'parentbased_traceidratio'; ratio: number };

/** Resolved tracing settings: present only when tracing is on. */
export interface TracingSettings {
  /** Full OTLP/HTTP traces URL (`.../v1/traces`). Never log it whole: {@link endpointForLog}. */
  endpoint: string;
  /** `service.name` of the resource. */
  serviceName: string;
  /** Extra resource attributes (`OTEL_RESOURCE_ATTRIBUTES`, service.name apart). */
  resourceAttributes: Record<string, string>;
  sampler: TracingSampler;
  /** Headers sent to the collector (secrets resolved: never log them). */
  headers: Record<string, string>;
  /** Always `http/json`: the only OTLP encoding this gateway sends. */
  protocol: 'http/json';
  /** Where the endpoint came from (logged at start). */
  from: 'config' | 'environment';
}

/** The config's `tracing` key after its secrets (header values) are resolved. */
export interface RawTracingConfig {
  enabled?: boolean;
  endpoint?: string;
  serviceName?: string;
  sampleRatio?: number;
  headers?: Record<string, string>;
}

export const DEFAULT_SERVICE_NAME = 'veeam-graph';

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

const TRUE = /^(true|1|yes|on)$/i;

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The traces URL of an OTLP/HTTP base (`http://collector:4318` → `http://collector:4318/v1/traces`); a URL already ending in `/v1/traces` as it is. */
export function tracesUrl(base: string): string {
  const u = new URL(base);
  if (/\/v1\/traces\/?$/.test(u.pathname)) return u.href;
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/traces`;
  return u.href;
}

/** The endpoint as it may be logged: origin and path, no user-info, no query. */
export function endpointForLog(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(unparsable)';
  }
}

/** `key=value,key2=value2` with percent-encoded values (the W3C Baggage-like format of `OTEL_RESOURCE_ATTRIBUTES`). */
function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep it as given
    }
    if (key) out[key] = value;
  }
  return out;
}

/**
 * Resolves the tracing settings from the config key and the environment. Tracing is ON when the
 * config has a `tracing` key (and not `enabled: false`) or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`
 * turn it off whatever else says. The environment wins over the config, key by key.
 *
 * @param problems where errors that stop the start are pushed (labelled)
 * @param warnings where problems that do not are pushed
 * @returns undefined when tracing is off
 */
export function resolveTracingSettings(
  raw: RawTracingConfig | undefined,
  env: NodeJS.ProcessEnv,
  report: { problems: string[]; warnings: string[]; label: string },
): TracingSettings | undefined {
  const { problems, warnings, label } = report;
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  if (TRUE.test(get('OTEL_SDK_DISABLED') ?? '')) return undefined;
  const exporter = get('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter !== undefined) {
    const names = exporter.split(',').map((s) => s.trim());
    if (names.includes('none')) return undefined;
    if (!names.includes('otlp')) warnings.push(`OTEL_TRACES_EXPORTER: only "otlp" (or "none") is supported, got "${exporter}"; exporting OTLP (environment)`);
  }
  const envTraces = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const envBase = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const configured = raw !== undefined && raw.enabled !== false;
  if (!configured && envTraces === undefined && envBase === undefined) return undefined;

  let endpoint: string | undefined;
  let from: TracingSettings['from'] = 'environment';
  if (envTraces !== undefined) {
    if (isHttpUrl(envTraces)) endpoint = new URL(envTraces).href;
    else problems.push('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http or https URL (environment)');
  } else if (envBase !== undefined) {
    if (isHttpUrl(envBase)) endpoint = tracesUrl(envBase);
    else problems.push('OTEL_EXPORTER_OTLP_ENDPOINT: expected an http or https URL (environment)');
  } else if (raw?.endpoint !== undefined) {
    endpoint = tracesUrl(raw.endpoint);
    from = 'config';
  } else {
    problems.push(`tracing.endpoint: expected the collector's OTLP/HTTP URL (http://collector:4318), or set OTEL_EXPORTER_OTLP_ENDPOINT (${label})`);
  }

  const protocol = get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? get('OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol !== 'http/json') {
    warnings.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL: only http/json is supported, got "${protocol}"; sending http/json (OTLP/HTTP collectors accept both on /v1/traces) (environment)`,
    );
  }

  const resourceAttributes = parseKeyValues(get('OTEL_RESOURCE_ATTRIBUTES') ?? '');
  const serviceName = get('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? raw?.serviceName ?? DEFAULT_SERVICE_NAME;
  delete resourceAttributes['service.name'];

  let sampler: TracingSampler =
    raw?.sampleRatio !== undefined && raw.sampleRatio < 1 ? { kind: 'parentbased_traceidratio', ratio: raw.sampleRatio } : { kind: 'parentbased_always_on' };
  const envSampler = get('OTEL_TRACES_SAMPLER')?.toLowerCase();
  if (envSampler !== undefined) {
    if (!(SAMPLERS as readonly string[]).includes(envSampler)) {
      warnings.push(`OTEL_TRACES_SAMPLER: expected one of ${SAMPLERS.join(', ')}, got "${envSampler}"; using ${sampler.kind} (environment)`);
    } else if (envSampler === 'traceidratio' || envSampler === 'parentbased_traceidratio') {
      const arg = get('OTEL_TRACES_SAMPLER_ARG');
      const ratio = arg === undefined ? 1 : Number(arg);
      if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
        warnings.push(`OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1, got "${arg}"; using 1 (environment)`);
        sampler = { kind: envSampler, ratio: 1 };
      } else sampler = { kind: envSampler, ratio };
    } else sampler = { kind: envSampler as Exclude<TracingSampler['kind'], 'traceidratio' | 'parentbased_traceidratio'> };
  }

  if (endpoint === undefined) return undefined;
  return { endpoint, serviceName, resourceAttributes, sampler, headers: { ...raw?.headers }, protocol: 'http/json', from };
}
