import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { HTTP_DEFAULTS, type HttpSettings } from '../upstream/http/httpDefaults.js';
import { MEMORY_DEFAULTS, type MemorySettings } from '../sources/memory/memoryDefaults.js';
import { configSchema } from './configSchema.js';
import type { RawConfig, Secret } from './configSchema.js';

/**
 * Effective per-server HTTP settings after defaults and overrides: the HTTP layer's own type, so a
 * server's settings go to its client as they are. `retry.maxDelayMs` and `retry.budgetCapacity`
 * are no config keys; they always hold their defaults.
 */
export type ServerHttpSettings = HttpSettings;

interface ServerCommon extends ServerHttpSettings {
  name: string;
  url: string;
  username: string;
  /** The resolved secret. Never log it: use `redactedConfig()`. */
  password: string;
  tls: { caFile?: string; ca?: string; insecure: boolean };
}

export interface EmServerConfig extends ServerCommon {
  kind: 'enterprise-manager';
  format: 'xml' | 'json';
  /** Longest query-service URL for batched lookups, in characters; the client's default (`DEFAULT_MAX_URL_LENGTH`, 8000) when absent. */
  maxUrlLength?: number;
}

export interface VboServerConfig extends ServerCommon {
  kind: 'microsoft365';
  apiVersion: 'v1' | 'v2' | 'v3' | 'v4' | 'v5' | 'v6' | 'v7' | 'v8';
}

export type ServerConfig = EmServerConfig | VboServerConfig;

export interface GatewayConfig {
  /** The file it came from, or `undefined` for a config built in code (the demo). */
  file: string | undefined;
  listen: { host: string; port: number };
  servers: ServerConfig[];
  limits: { defaultPageSize: number; maxPageSize: number; maxDepth: number; maxCost: number };
  /** The memory layer: cache TTLs, list freshness, stale horizon, latency budget. */
  cache: MemorySettings;
  /** Resolved cursor-signing secret, if configured; otherwise each instance signs with a random key. */
  cursorSecret: string | undefined;
  introspection: boolean;
  federation: boolean;
  logLevel: string;
  /** Problems that do not stop the start, such as plain-text passwords. */
  warnings: string[];
  /** The config with every secret replaced, safe for logs. */
  redacted(): unknown;
}

/** The HTTP defaults of every server: the HTTP layer's `HTTP_DEFAULTS` itself (frozen), not a copy. */
export const DEFAULT_HTTP = HTTP_DEFAULTS;

export const DEFAULT_LIMITS = { defaultPageSize: 50, maxPageSize: 1000, maxDepth: 12, maxCost: 50_000 };

/** Every problem of a config at once; `exitCode` 2 for the CLI. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = 2;
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type CircuitBreakerInput = Partial<ServerHttpSettings['circuitBreaker']> | undefined;

/** Defaults, then `defaults.circuitBreaker`, then the server's; an unset ceiling never sits below a raised cooldown. */
function circuitBreakerOf(defaults: CircuitBreakerInput, own: CircuitBreakerInput): ServerHttpSettings['circuitBreaker'] {
  const base = DEFAULT_HTTP.circuitBreaker;
  const cooldownMs = own?.cooldownMs ?? defaults?.cooldownMs ?? base.cooldownMs;
  return {
    failureThreshold: own?.failureThreshold ?? defaults?.failureThreshold ?? base.failureThreshold,
    cooldownMs,
    maxCooldownMs: own?.maxCooldownMs ?? defaults?.maxCooldownMs ?? Math.max(base.maxCooldownMs, cooldownMs),
  };
}

/** Renders a key path the way users write it: `servers[2].url`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const part of p) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(root)';
}

/** Server names are unique, case-insensitively: they label errors, metrics and global ids. */
function duplicateNames(raw: unknown): string[] {
  const servers = (raw as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(servers)) return [];
  const seen = new Map<string, number>();
  const problems: string[] = [];
  servers.forEach((s: unknown, i) => {
    const name = (s as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name.toLowerCase());
    if (first !== undefined) problems.push(`servers[${i}].name: duplicate server name "${name}" (also servers[${first}].name)`);
    else seen.set(name.toLowerCase(), i);
  });
  return problems;
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'password') return 'expected a string, { env: NAME } or { file: PATH }';
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'tls') return 'expected { ca: PATH } or { insecure: true }';
  return issue.message.replace(/^Invalid (input|option): /, '');
}

/**
 * Reads, validates and resolves a config file (YAML, or JSON for `*.json`). Every problem is
 * reported at once, each with its key path and the file name; secrets are resolved from the
 * environment or from files relative to the config file.
 *
 * @param env the environment to resolve `{ env: NAME }` secrets and `PORT`/`HOST` from (default: process.env)
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  const base = path.basename(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (${file})`]);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError([`${(err as Error).message.split('\n')[0]} (${base})`]);
  }
  return parseConfig(raw, { file, env });
}

/** Validates an already-parsed config object; `file` only labels messages and anchors relative paths. */
export async function parseConfig(raw: unknown, options: { file?: string; env?: NodeJS.ProcessEnv } = {}): Promise<GatewayConfig> {
  const env = options.env ?? process.env;
  const label = options.file ? path.basename(options.file) : 'config';
  const dir = options.file ? path.dirname(path.resolve(options.file)) : process.cwd();
  const parsed = configSchema.safeParse(raw ?? {});
  // Duplicates are checked on the raw input too, so they are reported alongside schema problems.
  const duplicates = duplicateNames(raw).map((d) => `${d} (${label})`);
  if (!parsed.success || duplicates.length) {
    const schemaProblems = parsed.success ? [] : parsed.error.issues.map((i) => `${formatPath(i.path)}: ${issueText(i)} (${label})`);
    throw new ConfigError([...schemaProblems, ...duplicates]);
  }
  const cfg: RawConfig = parsed.data;
  const problems: string[] = [];
  const warnings: string[] = [];

  const resolveSecret = async (secret: Secret, at: string): Promise<string> => {
    if (typeof secret === 'string') {
      warnings.push(`${at}: plain-text secret in the config; prefer { env: NAME } or { file: PATH } (${label})`);
      return secret;
    }
    if ('env' in secret) {
      const value = env[secret.env];
      if (value === undefined || value === '') problems.push(`${at}: environment variable ${secret.env} is not set (${label})`);
      return value ?? '';
    }
    try {
      return (await readFile(path.resolve(dir, secret.file), 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${at}: cannot read secret file ${secret.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (${label})`);
      return '';
    }
  };

  const servers: ServerConfig[] = [];
  for (const [i, s] of cfg.servers.entries()) {
    const at = `servers[${i}]`;
    const password = await resolveSecret(s.password, `${at}.password`);
    const tls: ServerCommon['tls'] = { insecure: false };
    if (s.tls && 'insecure' in s.tls) tls.insecure = true;
    if (s.tls && 'ca' in s.tls) {
      tls.caFile = path.resolve(dir, s.tls.ca);
      try {
        tls.ca = await readFile(tls.caFile, 'utf8');
        if (!tls.ca.includes('-----BEGIN CERTIFICATE-----')) problems.push(`${at}.tls.ca: ${s.tls.ca} is not a PEM certificate (${label})`);
      } catch (err) {
        problems.push(`${at}.tls.ca: cannot read ${s.tls.ca}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (${label})`);
      }
    }
    if (new URL(s.url).protocol === 'http:') warnings.push(`${at}.url: plain http to ${s.name}; credentials travel unencrypted (${label})`);
    const http: ServerHttpSettings = {
      timeouts: { ...DEFAULT_HTTP.timeouts, ...cfg.defaults?.timeouts, ...s.timeouts },
      retry: { ...DEFAULT_HTTP.retry, ...cfg.defaults?.retry, ...s.retry },
      concurrency: { ...DEFAULT_HTTP.concurrency, ...cfg.defaults?.concurrency, ...s.concurrency },
      circuitBreaker: circuitBreakerOf(cfg.defaults?.circuitBreaker, s.circuitBreaker),
    };
    if (http.timeouts.totalMs < http.timeouts.connectMs) problems.push(`${at}.timeouts.totalMs: must be >= connectMs (${label})`);
    if (http.circuitBreaker.maxCooldownMs < http.circuitBreaker.cooldownMs) {
      problems.push(`${at}.circuitBreaker.maxCooldownMs: must be >= cooldownMs (${http.circuitBreaker.cooldownMs}) (${label})`);
    }
    const common = { name: s.name, url: s.url.replace(/\/+$/, ''), username: s.username, password, tls, ...http };
    // Kind-specific keys and their defaults; a new kind that is not handled here fails to compile.
    switch (s.kind) {
      case 'enterprise-manager':
        servers.push({ ...common, kind: s.kind, format: s.format ?? 'xml', ...(s.maxUrlLength !== undefined && { maxUrlLength: s.maxUrlLength }) });
        break;
      case 'microsoft365':
        servers.push({ ...common, kind: s.kind, apiVersion: s.apiVersion ?? 'v8' });
        break;
      default: {
        const unhandled: never = s;
        throw new Error(`loadConfig: unhandled server kind ${JSON.stringify(unhandled)}`);
      }
    }
  }

  const cursorSecret = cfg.cursorSecret === undefined ? undefined : await resolveSecret(cfg.cursorSecret, 'cursorSecret');
  const limits = { ...DEFAULT_LIMITS, ...cfg.limits };
  if (limits.defaultPageSize > limits.maxPageSize) problems.push(`limits.defaultPageSize: must be <= limits.maxPageSize (${label})`);

  let port = cfg.listen?.port ?? 4000;
  if (env.PORT !== undefined && env.PORT !== '') {
    if (!/^\d+$/.test(env.PORT) || Number(env.PORT) > 65535) problems.push(`PORT: expected a port number, got "${env.PORT}" (environment)`);
    else port = Number(env.PORT);
  }
  const host = env.HOST || cfg.listen?.host || '127.0.0.1';
  if (problems.length) throw new ConfigError(problems);

  const config: GatewayConfig = {
    file: options.file,
    listen: { host, port },
    servers,
    limits,
    cache: { ...MEMORY_DEFAULTS, ...cfg.cache, ttlMs: { ...MEMORY_DEFAULTS.ttlMs, ...cfg.cache?.ttlMs } },
    cursorSecret,
    introspection: cfg.introspection ?? true,
    federation: cfg.federation ?? false,
    logLevel: env.LOG_LEVEL || cfg.logLevel || 'info',
    warnings,
    redacted: () => redactedConfig(config),
  };
  return config;
}

/** The config with every secret replaced, safe for logs and `check --json`. */
export function redactedConfig(config: GatewayConfig): unknown {
  const { redacted: _redacted, ...rest } = config;
  return {
    ...rest,
    ...(rest.cursorSecret ? { cursorSecret: '[redacted]' } : {}),
    servers: config.servers.map((s) => ({ ...s, password: '[redacted]', tls: { ...s.tls, ...(s.tls.ca ? { ca: '[pem]' } : {}) } })),
  };
}
