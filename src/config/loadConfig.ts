import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { HTTP_DEFAULTS, type HttpSettings } from '../upstream/http/httpDefaults.js';
import { MEMORY_DEFAULTS, type MemorySettings } from '../sources/memory/memoryDefaults.js';
import { LIVE_DEFAULTS, type LiveSettings } from '../sources/live/liveDefaults.js';
import type { RedisSettings } from '../sources/shared/RedisConnection.js';
import { configSchema } from './configSchema.js';
import { resolveAuth } from './resolveAuth.js';
import { endpointForLog, resolveTracingSettings, type TracingSettings } from '../observability/tracingSettings.js';
import { AllowlistError, loadAllowlist, type Allowlist } from '../server/operations/loadAllowlist.js';
import type { AuthSettings } from '../server/auth/authSettings.js';
import { readListenerTls, type ListenerTlsFiles } from '../server/readListenerTls.js';
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
  /** `tls`: HTTPS on the listener, from these PEM files (absolute paths), re-read on `reloadTls()`. */
  listen: { host: string; port: number; tls?: ListenerTlsFiles };
  /** Client authentication; `mode: 'unset'` when the config has no `auth` key. */
  auth: AuthSettings;
  /** Per-principal token bucket on `/graphql`; undefined: no limit. */
  rateLimit: { requestsPerSecond: number; burst: number } | undefined;
  /** Trusted documents: the allowlist (read from `allowlistFile`, an absolute path) and what to do with other documents. */
  operations: { allowlistFile: string; allowlist: Allowlist; mode: 'enforce' | 'log' } | undefined;
  servers: ServerConfig[];
  limits: { defaultPageSize: number; maxPageSize: number; maxDepth: number; maxCost: number; maxAliases: number; maxDirectives: number; maxTokens: number };
  /** The memory layer: cache TTLs, list freshness, stale horizon, latency budget. */
  cache: MemorySettings;
  /** State shared by replicas (Redis); undefined: this process only. Secrets resolved, never log it: use `redacted()`. */
  store: { redis: RedisSettings } | undefined;
  /** Live updates: poll pacing and subscription limits. */
  live: LiveSettings;
  /** Cross-origin access to `/graphql`; undefined: same origin only. */
  cors: { origins: string[]; credentials: boolean; maxAgeS: number } | undefined;
  /** Resolved cursor-signing secret, if configured; otherwise each instance signs with a random key. */
  cursorSecret: string | undefined;
  introspection: boolean;
  federation: boolean;
  /** Federation only: the prefix of the renamed generic root fields (`node` → `<prefix>Node`). */
  federationRootFieldPrefix: string | undefined;
  logLevel: string;
  /** OpenTelemetry tracing (config `tracing` and `OTEL_*`); undefined: off. Header values are secrets: use `redacted()`. */
  tracing?: TracingSettings;
  /** Problems that do not stop the start, such as plain-text passwords. */
  warnings: string[];
  /**
   * Every other file it was read from (absolute paths): secret files, PEMs, the allowlist, the
   * JWKS. A reload re-reads them all; `serve --watch-config` watches them with the config file.
   */
  files: string[];
  /** The config with every secret replaced, safe for logs. */
  redacted(): unknown;
}

/** The HTTP defaults of every server: the HTTP layer's `HTTP_DEFAULTS` itself (frozen), not a copy. */
export const DEFAULT_HTTP = HTTP_DEFAULTS;

/** The pino levels of `logLevel` (and `LOG_LEVEL`, `--log-level`). */
export const LOG_LEVELS: readonly string[] = configSchema.shape.logLevel.unwrap().options;

export const DEFAULT_LIMITS = { defaultPageSize: 50, maxPageSize: 1000, maxDepth: 12, maxCost: 50_000, maxAliases: 30, maxDirectives: 50, maxTokens: 10_000 };

/** What {@link ConfigError} says besides its problems. */
export interface ConfigErrorOptions {
  /** The config file as the user gave it (a relative path stays relative), for the heading. */
  file?: string | undefined;
  /** Source lines shown under a problem (a YAML or JSON syntax error), by problem index. */
  excerpts?: ReadonlyMap<number, string>;
}

/** The machine-readable form of a {@link ConfigError} (`check --json`). */
export interface ConfigErrorJson {
  code: 'CONFIG_INVALID';
  message: string;
  file?: string;
  problems: string[];
}

/**
 * Every problem of a config at once; `exitCode` 2 for the CLI. Each problem names its key path
 * and the file's base name; the message's heading names the file as given.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = 2;
  readonly file: string | undefined;
  readonly excerpts: ReadonlyMap<number, string>;
  constructor(
    readonly problems: string[],
    options: ConfigErrorOptions = {},
  ) {
    const excerpts = options.excerpts ?? new Map<number, string>();
    const lines = problems.map((p, i) => {
      const excerpt = excerpts.get(i);
      return `  - ${p}${excerpt ? `\n${excerpt.replace(/^/gm, '      ')}` : ''}`;
    });
    super(`invalid configuration${options.file ? ` in ${options.file}` : ''}:\n${lines.join('\n')}`);
    this.file = options.file;
    this.excerpts = excerpts;
  }

  toJSON(): ConfigErrorJson {
    return { code: 'CONFIG_INVALID', message: this.message, ...(this.file !== undefined && { file: this.file }), problems: this.problems };
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

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions, so `listne` is one
 * edit from `listen`), case-insensitive.
 */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[s.length]![t.length]!;
}

/**
 * The candidate closest to `word` by edit distance, when it is close enough to be a typo: at most
 * a third of the word's length in edits (at least one; none for words under 3 characters, where
 * only a case difference counts); the first of equally close ones.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length < 3 ? 0 : Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const distance = editDistance(word, candidate);
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** The parts of a zod schema definition the key lookup below walks through. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  discriminator?: string;
  values?: unknown[];
}

const defOf = (schema: z.core.$ZodType): SchemaDef => schema._zod.def as unknown as SchemaDef;

function valueAt(raw: unknown, at: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const part of at) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  return value;
}

/** Unwraps optional/pipe wrappers and unions (a discriminated one by the value's discriminator). */
function concrete(schemas: z.core.$ZodType[], value: unknown): SchemaDef[] {
  const out: SchemaDef[] = [];
  const visit = (schema: z.core.$ZodType): void => {
    const def = defOf(schema);
    if (def.innerType) return visit(def.innerType);
    if (def.type === 'pipe' && def.in) return visit(def.in);
    if (def.type === 'union' && def.options) {
      let options = def.options;
      const tag = def.discriminator && value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[def.discriminator] : undefined;
      if (def.discriminator && tag !== undefined) {
        const matching = options.filter((o) => {
          const literal = defOf(o).shape?.[def.discriminator!];
          return literal !== undefined && (defOf(literal).values ?? []).includes(tag);
        });
        if (matching.length) options = matching;
      }
      return options.forEach(visit);
    }
    out.push(def);
  };
  schemas.forEach(visit);
  return out;
}

/** The keys the schema knows for the object at `at` of the raw config (every union member's, when it cannot tell which). */
function knownKeysAt(at: readonly PropertyKey[], raw: unknown): string[] {
  let schemas: z.core.$ZodType[] = [configSchema];
  for (const [i, part] of at.entries()) {
    const here = valueAt(raw, at.slice(0, i));
    schemas = concrete(schemas, here).flatMap((def) => {
      if (def.type === 'object' && typeof part === 'string' && def.shape?.[part]) return [def.shape[part]];
      if (def.type === 'array' && typeof part === 'number' && def.element) return [def.element];
      return [];
    });
  }
  const keys = concrete(schemas, valueAt(raw, at)).flatMap((def) => (def.type === 'object' ? Object.keys(def.shape ?? {}) : []));
  return [...new Set(keys)];
}

/** `unknown key "listne" (did you mean "listen"?)`. */
function unknownKeysText(keys: readonly string[], known: readonly string[]): string {
  const named = keys.map((k) => {
    const suggestion = closestMatch(k, known);
    return `"${k}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
  });
  return `unknown key${keys.length > 1 ? 's' : ''} ${named.join(', ')}`;
}

/** `, got "warning" (did you mean "warn"?)` for a string that is none of the allowed values. */
function gotText(value: unknown, allowed: readonly unknown[]): string {
  if (typeof value !== 'string') return '';
  const suggestion = closestMatch(
    value,
    allowed.filter((v): v is string => typeof v === 'string'),
  );
  return `, got ${JSON.stringify(value.slice(0, 100))}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
}

const UNION_EXPECTED: Record<string, string> = {
  password: 'expected a string, { env: NAME } or { file: PATH }',
  cursorSecret: 'expected a string, { env: NAME } or { file: PATH }',
  tls: 'expected { ca: PATH } or { insecure: true }',
  key: 'expected a string, { env: NAME } or { file: PATH }',
  issuer: 'expected a string or a list of strings',
  audience: 'expected a string or a list of strings',
};

function issueText(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'unrecognized_keys') return unknownKeysText(issue.keys, knownKeysAt(issue.path, raw));
  const value = valueAt(raw, issue.path);
  if (issue.code === 'invalid_union' && issue.discriminator !== undefined)
    return `${issue.message}${gotText(value, ('options' in issue && issue.options) || [])}`;
  if (issue.code === 'invalid_union') {
    const expected = UNION_EXPECTED[String(issue.path.at(-1))] ?? issue.message.replace(/^Invalid (input|option)(: )?/, '').trim();
    // An object with a key none of the union's members knows: say which, with the closest one.
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const known = knownKeysAt(issue.path, raw);
      const unknown = Object.keys(value).filter((k) => !known.includes(k));
      if (unknown.length && known.length) return `${unknownKeysText(unknown, known)}; ${expected || 'invalid value'}`;
    }
    return expected || 'invalid value';
  }
  if (issue.code === 'invalid_value') return `${issue.message.replace(/^Invalid (input|option): /, '')}${gotText(value, issue.values)}`;
  return issue.message.replace(/^Invalid (input|option): /, '');
}

/** A source line with a caret under `offset`, e.g. `  2 |   - name: "x` (secret values masked). */
function excerptAt(text: string, offset: number): { line: number; column: number; excerpt: string; masked?: string } {
  const startOf = (o: number): number => (o === 0 ? 0 : text.lastIndexOf('\n', o - 1) + 1);
  const endOf = (o: number): number => (text.indexOf('\n', o) < 0 ? text.length : text.indexOf('\n', o));
  let at = Math.max(0, Math.min(offset, text.length));
  // An error at the very end (an unclosed bracket) points after the last line that has content.
  while (startOf(at) > 0 && text.slice(startOf(at), endOf(startOf(at))).trim() === '') at = startOf(at) - 1;
  const start = startOf(at);
  const end = endOf(start);
  const line = text.slice(0, start).split('\n').length;
  const column = at - start + 1;
  // The offending line may hold a plain-text secret: never echo what follows a password, secret or token key.
  const raw = text.slice(start, end).replace(/\r$/, '');
  const secretKey = /((?:password|secret|token)["']?\s*:\s*)(.+)$/i.exec(raw);
  const source = secretKey ? `${raw.slice(0, secretKey.index)}${secretKey[1]}[redacted]` : raw;
  const gutter = String(line);
  const pad = source.slice(0, column - 1).replace(/[^\t]/g, ' ');
  return { line, column, excerpt: `${gutter} | ${source}\n${' '.repeat(gutter.length)} | ${pad}^`, ...(secretKey && { masked: secretKey[2]!.trim() }) };
}

/** Where `JSON.parse` failed in `text`, also when its message does not say (an unexpected token). */
function jsonErrorOffset(text: string, message: string): number | undefined {
  const positionOf = (m: string): number | undefined => {
    const p = /at position (\d+)/.exec(m)?.[1];
    return p === undefined ? undefined : Number(p);
  };
  const stated = positionOf(message);
  if (stated !== undefined) return stated;
  if (/end of JSON input/.test(message)) return text.length;
  // The shortest prefix that fails before its own end holds the error at its last character.
  const failsWithin = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (err) {
      const m = (err as Error).message;
      if (/end of JSON input/.test(m)) return false;
      const p = positionOf(m);
      return p === undefined || p < length;
    }
  };
  let low = 1;
  let high = text.length;
  if (!failsWithin(high)) return undefined;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (failsWithin(mid)) high = mid;
    else low = mid + 1;
  }
  return low - 1;
}

/** Parses the text of a config file; a syntax error becomes a ConfigError with its line and column and the offending line. */
function parseText(text: string, file: string): unknown {
  const base = path.basename(file);
  const fail = (kind: string, message: string, offset: number | undefined): never => {
    if (offset === undefined) throw new ConfigError([`${kind} syntax error: ${message} (${base})`], { file });
    const { line, column, excerpt, masked } = excerptAt(text, offset);
    // Nor in the parser's message, should it quote the masked value.
    const said = masked ? message.split(masked).join('[redacted]') : message;
    throw new ConfigError([`${kind} syntax error at line ${line}, column ${column}: ${said} (${base})`], { file, excerpts: new Map([[0, excerpt]]) });
  };
  if (/\.json$/i.test(file)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      // For an unexpected token V8 quotes the token and a piece of the text (`Unexpected token 'h',
      // ..."password": hunter2 }]"... is not valid JSON`), either may be a secret: drop both, and
      // find the spot without them.
      const reason = message
        .replace(/\s*in JSON at position \d+.*$/s, '')
        .replace(/,\s*(\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '')
        .replace(/^(Unexpected token) .+$/s, '$1');
      return fail('JSON', reason, jsonErrorOffset(text, message));
    }
  }
  // YAML stops at the first syntax error; later ones are mostly its echo.
  const doc = YAML.parseDocument(text, { prettyErrors: false });
  const first = doc.errors[0];
  if (first) return fail('YAML', first.message, first.pos[0]);
  try {
    return doc.toJS();
  } catch (err) {
    throw new ConfigError([`${(err as Error).message} (${base})`], { file });
  }
}

/**
 * Reads, validates and resolves a config file (YAML, or JSON for `*.json`). Every problem is
 * reported at once, each with its key path and the file name; secrets are resolved from the
 * environment or from files relative to the config file.
 *
 * @param env the environment to resolve `{ env: NAME }` secrets and `PORT`/`HOST` from (default: process.env)
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (${file})`], { file });
  }
  return parseConfig(parseText(text, file), { file, env });
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
    const schemaProblems = parsed.success ? [] : parsed.error.issues.map((i) => `${formatPath(i.path)}: ${issueText(i, raw)} (${label})`);
    throw new ConfigError([...schemaProblems, ...duplicates], { file: options.file });
  }
  const cfg: RawConfig = parsed.data;
  const problems: string[] = [];
  const warnings: string[] = [];

  const files = new Set<string>();
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
    files.add(path.resolve(dir, secret.file));
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
      files.add(tls.caFile);
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

  const auth = await resolveAuth(cfg.auth, { label, dir, resolveSecret, problems, warnings, files });
  let tls: ListenerTlsFiles | undefined;
  if (cfg.listen?.tls !== undefined) {
    const t = cfg.listen.tls;
    tls = { certFile: path.resolve(dir, t.cert), keyFile: path.resolve(dir, t.key), ...(t.ca !== undefined && { caFile: path.resolve(dir, t.ca) }) };
    for (const f of [tls.certFile, tls.keyFile, tls.caFile]) if (f !== undefined) files.add(f);
    // Read now, so a broken certificate stops the start (and `check`) with the key's name.
    await readListenerTls(tls).catch((err: Error) => problems.push(`listen.tls: ${err.message} (${label})`));
  }
  const rateLimit = cfg.rateLimit && {
    requestsPerSecond: cfg.rateLimit.requestsPerSecond,
    burst: cfg.rateLimit.burst ?? Math.max(1, Math.ceil(cfg.rateLimit.requestsPerSecond * 2)),
  };
  let operations: GatewayConfig['operations'];
  if (cfg.operations !== undefined) {
    const allowlistFile = path.resolve(dir, cfg.operations.allowlist);
    files.add(allowlistFile);
    const mode = cfg.operations.mode ?? 'enforce';
    try {
      operations = { allowlistFile, allowlist: await loadAllowlist(allowlistFile), mode };
    } catch (err) {
      const found = err instanceof AllowlistError ? err.problems : [(err as Error).message];
      problems.push(...found.map((p) => `operations.allowlist: ${p} (${label})`));
    }
    // Every caller is an admin without auth, and admins run anything: the allowlist would guard nothing.
    if (mode === 'enforce' && cfg.federation !== undefined && cfg.federation !== false) {
      warnings.push(`operations: a federation router's query plans are in no allowlist; give the router an API key with the admin scope (${label})`);
    }
    if (mode === 'enforce' && auth.mode === 'unset')
      warnings.push(`operations: without auth every caller is an admin, and admins bypass the allowlist (${label})`);
  }
  let store: GatewayConfig['store'];
  if (cfg.store?.redis !== undefined) {
    const r = cfg.store.redis;
    let tlsSetting: RedisSettings['tls'];
    if (r.tls === true || (r.tls === undefined && r.url.startsWith('rediss:'))) tlsSetting = true;
    else if (r.tls !== undefined) {
      try {
        tlsSetting = { ca: await readFile(path.resolve(dir, r.tls.ca), 'utf8') };
      } catch (err) {
        problems.push(`store.redis.tls.ca: cannot read ${r.tls.ca}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (${label})`);
      }
    }
    const password = r.password === undefined ? undefined : await resolveSecret(r.password, 'store.redis.password');
    store = {
      redis: {
        url: r.url,
        keyPrefix: r.keyPrefix ?? 'veeam-graph:',
        ...(tlsSetting !== undefined && { tls: tlsSetting }),
        ...(r.username !== undefined && { username: r.username }),
        ...(password !== undefined && { password }),
      },
    };
  }
  if (store !== undefined && cfg.cursorSecret === undefined) {
    warnings.push(
      `cursorSecret: replicas sharing store.redis sign cursors with random keys of their own, so a cursor of one fails on another; give them one cursorSecret (${label})`,
    );
  }
  const cursorSecret = cfg.cursorSecret === undefined ? undefined : await resolveSecret(cfg.cursorSecret, 'cursorSecret');
  const limits = { ...DEFAULT_LIMITS, ...cfg.limits };
  const live = { ...LIVE_DEFAULTS, ...cfg.live };
  if (live.slowPollMs < live.fastPollMs) problems.push(`live.slowPollMs: must be >= live.fastPollMs (${live.fastPollMs}) (${label})`);
  if (live.maxBackoffMs < live.fastPollMs) problems.push(`live.maxBackoffMs: must be >= live.fastPollMs (${live.fastPollMs}) (${label})`);
  if (limits.defaultPageSize > limits.maxPageSize) problems.push(`limits.defaultPageSize: must be <= limits.maxPageSize (${label})`);

  let port = cfg.listen?.port ?? 4000;
  if (env.PORT !== undefined && env.PORT !== '') {
    if (!/^\d+$/.test(env.PORT) || Number(env.PORT) > 65535) problems.push(`PORT: expected a port number, got "${env.PORT}" (environment)`);
    else port = Number(env.PORT);
  }
  let tracingHeaders: Record<string, string> | undefined;
  if (cfg.tracing?.headers !== undefined) {
    tracingHeaders = {};
    for (const [k, v] of Object.entries(cfg.tracing.headers)) tracingHeaders[k] = await resolveSecret(v, `tracing.headers.${k}`);
  }
  const tracing = resolveTracingSettings(cfg.tracing && { ...cfg.tracing, headers: tracingHeaders }, env, { problems, warnings, label });
  const host = env.HOST || cfg.listen?.host || '127.0.0.1';
  const logLevel = env.LOG_LEVEL || cfg.logLevel || 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}${gotText(logLevel, LOG_LEVELS)} (environment)`);
  if (problems.length) throw new ConfigError(problems, { file: options.file });

  const config: GatewayConfig = {
    file: options.file,
    listen: { host, port, ...(tls !== undefined && { tls }) },
    auth,
    rateLimit,
    operations,
    servers,
    limits,
    cache: { ...MEMORY_DEFAULTS, ...cfg.cache, ttlMs: { ...MEMORY_DEFAULTS.ttlMs, ...cfg.cache?.ttlMs } },
    live: { ...LIVE_DEFAULTS, ...cfg.live },
    store,
    cors: cfg.cors && { origins: cfg.cors.origins.map((o) => o.toLowerCase()), credentials: cfg.cors.credentials ?? false, maxAgeS: cfg.cors.maxAgeS ?? 600 },
    cursorSecret,
    introspection: cfg.introspection ?? true,
    federation: cfg.federation !== undefined && cfg.federation !== false,
    federationRootFieldPrefix: typeof cfg.federation === 'object' ? cfg.federation.rootFieldPrefix : undefined,
    logLevel,
    ...(tracing !== undefined && { tracing }),
    warnings,
    files: [...files],
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
    ...(rest.store && {
      store: {
        redis: {
          ...rest.store.redis,
          ...(rest.store.redis.password !== undefined && { password: '[redacted]' }),
          ...(typeof rest.store.redis.tls === 'object' && { tls: { ca: '[pem]' } }),
        },
      },
    }),
    auth: { ...rest.auth, apiKeys: rest.auth.apiKeys.map((k) => ({ ...k, sha256: '[redacted]' })) },
    ...(rest.tracing && {
      tracing: {
        ...rest.tracing,
        endpoint: endpointForLog(rest.tracing.endpoint),
        headers: Object.fromEntries(Object.keys(rest.tracing.headers).map((k) => [k, '[redacted]'])),
      },
    }),
    operations: rest.operations && { allowlistFile: rest.operations.allowlistFile, mode: rest.operations.mode, documents: rest.operations.allowlist.size },
    servers: config.servers.map((s) => ({ ...s, password: '[redacted]', tls: { ...s.tls, ...(s.tls.ca ? { ca: '[pem]' } : {}) } })),
  };
}
